"""Reads of the data quality app: runs with their changes, latest reports, merge candidates."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from apps.core.errors import NotFound
from apps.customers.services.identity import customer_lookup_by_external_ids
from apps.quality.choices import Entity, RunStatus
from apps.quality.models import CleaningChange, CleaningRun, QualityReport


def cleaning_run_list(
    *, status: str = "", entity: str = "", trigger: str = ""
) -> QuerySet[CleaningRun]:
    """Cleaning runs, newest first, with their recorded changes prefetched."""
    queryset = CleaningRun.objects.select_related("requested_by").prefetch_related(
        Prefetch("changes", queryset=CleaningChange.objects.order_by("id"))
    )
    if status:
        queryset = queryset.filter(status=status)
    if entity:
        queryset = queryset.filter(entities__contains=[entity])
    if trigger:
        queryset = queryset.filter(trigger=trigger)
    return queryset.order_by("-created_at", "-id")


def cleaning_run_get(*, run_id: int) -> CleaningRun:
    """One run with its changes; 404 when there is none."""
    run = cleaning_run_list().filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"cleaning run {run_id} does not exist", code="run_not_found")
    return run


def cleaning_run_any_active() -> bool:
    """Whether a run is queued or running (the page then refreshes itself)."""
    return CleaningRun.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists()


def quality_report_latest(*, entity: str) -> QualityReport:
    """The newest report of an entity; 404 for an unknown entity or before the first run."""
    if entity not in Entity.values:
        raise NotFound(
            f"entity {entity!r} is unknown; known: {', '.join(Entity.values)}",
            code="entity_not_found",
        )
    report = QualityReport.objects.filter(entity=entity).order_by("-computed_at", "-id").first()
    if report is None:
        raise NotFound(
            f"no quality report for {entity} yet: start a cleaning run (POST /api/v1/quality/runs)",
            code="report_not_found",
        )
    return report


def quality_report_latest_all() -> list[QualityReport]:
    """The newest report of each entity that has one, in pipeline order."""
    reports = []
    for entity in Entity.values:
        report = QualityReport.objects.filter(entity=entity).order_by("-computed_at", "-id").first()
        if report is not None:
            reports.append(report)
    return reports


def duplicate_candidates(*, limit: int = 50) -> list[dict[str, Any]]:
    """Duplicate customer groups of the newest customers report whose members still exist
    (a group merged since is left out; a partly merged one shows what is left)."""
    report = (
        QualityReport.objects.filter(entity=Entity.CUSTOMERS)
        .order_by("-computed_at", "-id")
        .first()
    )
    if report is None:
        return []
    groups = report.metrics.get("duplicates", {}).get("candidates", [])
    wanted = {external_id for group in groups for external_id in group.get("external_ids", [])}
    existing = customer_lookup_by_external_ids(external_ids=wanted)
    candidates = []
    for group in groups:
        members = [
            external_id for external_id in group.get("external_ids", []) if external_id in existing
        ]
        if len(members) < 2:
            continue
        candidates.append({**group, "external_ids": members})
        if len(candidates) >= limit:
            break
    return candidates
