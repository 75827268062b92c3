"""Every periodic schedule of SmartMkt lives here (house rule 7)."""

from __future__ import annotations

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    "ml-mark-stale-runs": {
        "task": "ml.mark_stale_runs_task",
        "schedule": crontab(minute="*/5"),
        "options": {"queue": "default"},
    },
}
