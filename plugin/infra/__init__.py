"""Infrastructure: Redis and the RQ queues, every job id and Redis key, locks, the private
Redis, the worker runner, error pages and HTMX rendering."""
