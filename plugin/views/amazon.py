"""Connecting an organisation to Amazon Business, store by store (filled in by the Amazon issue)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("amazon", __name__)
