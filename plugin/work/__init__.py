"""The background work's services: imports, posting runs, settlements, attachments, recovery."""
