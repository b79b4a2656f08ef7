"""The amazon half of the sandbox (filled in by the Sandbox issue)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this half's blueprints and its reset hook."""
