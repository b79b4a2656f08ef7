"""The set-up wizard: its steps, the historical import and the review."""
