"""Celery entry points of the events app: call a service (house rule 7)."""

from __future__ import annotations

from celery import shared_task

from apps.events.services import event_partitions_ensure_ahead


@shared_task(name="events.ensure_event_partitions_task", time_limit=600, soft_time_limit=540)
def ensure_event_partitions_task() -> list[str]:
    """Create the coming months' event partitions and sweep the default partition.

    Idempotent: partitions that exist are left alone; returns the names created.
    """
    return event_partitions_ensure_ahead()
