"""The one Celery app of SmartMkt.

Configuration comes from Django settings (`CELERY_*`). Without `REDIS_URL` tasks run
in-process (eager), which is the embedded default; with it they go through Redis.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmkt.settings.local")

app = Celery("smartmkt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
