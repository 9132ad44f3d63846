"""Background work, on Celery: webhook follow-ups, recording copies, the incremental sync and
the workers' heartbeat (tasks.py), what may be retried and when (retrying.py), and what staff
and /healthz see of it (status.py, failures.py)."""
