"""Every periodic schedule of SmartMkt lives here (house rule 7)."""

from __future__ import annotations

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    "ml-mark-stale-runs": {
        "task": "ml.mark_stale_runs_task",
        "schedule": crontab(minute="*/5"),
        "options": {"queue": "default"},
    },
    # Monthly event partitions exist from a month back to three ahead; any row that landed
    # in the default partition (a month without a partition) is moved into its own month.
    "events-ensure-partitions": {
        "task": "events.ensure_event_partitions_task",
        "schedule": crontab(minute=17, hour="*/6"),
        "options": {"queue": "default"},
    },
}
