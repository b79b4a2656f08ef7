"""RQ job functions. Thin: ids in, an app context and a DB session, call a service, small dict out.

Enqueue them by dotted path, e.g. ``queue.enqueue("jobs.health.ping", ...)``.
"""
