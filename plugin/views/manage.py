"""Stub blueprint: filled in by the Pages issue."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("manage", __name__)
