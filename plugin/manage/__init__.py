"""Manage Integrations: status, entries, actions, manual imports and the entry page."""
