"""Blueprints, one per area. Views are thin: read the request, call a service, render."""
