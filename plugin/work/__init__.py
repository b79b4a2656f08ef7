"""The background work's services, which the RQ jobs in ``jobs/`` call: imports, posting
runs, Pay by Invoice settlements, attachments, scheduled syncs, contact checks, digests and
recovery."""
