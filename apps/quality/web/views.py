"""The Quality page (/data/quality/): reports per entity, cleaning runs, duplicate customers.

Views only read selectors and call one service per action; reports are snapshots, so the
page never scans the tables it describes.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_scopes
from apps.core.errors import DomainError
from apps.core.selectors import data_inventory
from apps.core.web.decorators import scope_required
from apps.customers.services.identity import customer_merge_list, customer_split
from apps.quality import selectors, services
from apps.quality.choices import CleaningTrigger, Entity
from apps.quality.models import QualityReport

READ = "events:read"
WRITE = "quality:write"
CUSTOMERS_WRITE = "customers:write"
RUNS_SHOWN = 10
MERGES_SHOWN = 10
DUPLICATES_SHOWN = 25
DUPLICATE_GROUPS_COUNTED = 100  # as many as a report keeps
CHART_BAR_PIXELS = 26
CHART_AXIS_PIXELS = 40
ENTITY_ICONS = {
    Entity.CUSTOMERS: "people",
    Entity.PRODUCTS: "box-seam",
    Entity.ORDERS: "bag-check",
    Entity.EVENTS: "activity",
    Entity.REVIEWS: "star-half",
    Entity.SOCIAL: "chat-square-text",
}


def _card(report: QualityReport) -> dict[str, Any]:
    """What one entity's card shows, with the chart's data ready for json_script."""
    metrics = report.metrics
    rows = metrics.get("completeness", [])
    return {
        "entity": report.entity,
        "label": Entity(report.entity).label,
        "icon": ENTITY_ICONS.get(report.entity, "table"),
        "report": report,
        "metrics": metrics,
        "chart_id": f"completeness-{report.entity}",
        "chart_data_id": f"completeness-{report.entity}-data",
        "chart_height": CHART_BAR_PIXELS * len(rows) + CHART_AXIS_PIXELS,
        "chart": {
            "labels": [row["field"] for row in rows],
            "values": [row["percent"] for row in rows],
            "filled": [row["filled"] for row in rows],
            "total": metrics.get("rows", 0),
        },
        "invalid_total": sum(item.get("count", 0) for item in metrics.get("invalid", [])),
        "duplicates": metrics.get("duplicates", {}),
    }


def _runs_context() -> dict[str, Any]:
    return {
        "runs": selectors.cleaning_run_list()[:RUNS_SHOWN],
        "any_active": selectors.cleaning_run_any_active(),
    }


@scope_required(READ)
def quality_index(request: HttpRequest) -> HttpResponse:
    scopes = user_scopes(user=request.user)
    reports = selectors.quality_report_latest_all()
    cards = [_card(report) for report in reports]
    # Groups merged since the report was computed are no longer counted on the customers card.
    open_groups = selectors.duplicate_candidates(limit=DUPLICATE_GROUPS_COUNTED)
    for card in cards:
        if card["entity"] == Entity.CUSTOMERS:
            card["duplicates"] = {
                "groups": len(open_groups),
                "rows": sum(len(group["external_ids"]) for group in open_groups),
            }
    context = {
        **_runs_context(),
        "cards": cards,
        "duplicates": open_groups[:DUPLICATES_SHOWN],
        "merges": customer_merge_list()[:MERGES_SHOWN],
        "can_run": WRITE in scopes,
        "can_merge": CUSTOMERS_WRITE in scopes,
        "database_empty": not reports and data_inventory().is_empty,
    }
    return render(request, "quality/index.html", context)


@scope_required(READ)
def run_table(request: HttpRequest) -> HttpResponse:
    """The runs table alone; it polls itself every 2 s while a run is queued or running."""
    return render(request, "quality/_runs.html", _runs_context())


@scope_required(READ)
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    if WRITE not in user_scopes(user=request.user):
        raise PermissionDenied("Your role may view data quality but not start cleaning runs.")
    try:
        run = services.cleaning_start(
            entities=request.POST.getlist("entities") or None,
            trigger=CleaningTrigger.MANUAL,
            actor=request.user,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Cleaning run {run.pk} started; its changes appear below.")
    return redirect("quality:index")


@scope_required(READ)
@require_POST
def duplicate_merge(request: HttpRequest) -> HttpResponse:
    """Merge a group of possible duplicates into the member chosen to survive."""
    if CUSTOMERS_WRITE not in user_scopes(user=request.user):
        raise PermissionDenied("Your role may not merge customers.")
    survivor = request.POST.get("survivor", "")
    members = request.POST.getlist("members")
    try:
        merges = services.duplicate_group_merge(
            survivor_external_id=survivor,
            merged_external_ids=[member for member in members if member != survivor],
            actor=request.user,
            reason="ui",
        )
    except DomainError as error:
        messages.error(request, f"Not merged: {error.message}")
    else:
        merged = ", ".join(merge.merged_external_id for merge in merges)
        messages.success(request, f"Merged {merged} into {survivor}. Split it back below.")
    return redirect("quality:index")


@scope_required(READ)
@require_POST
def merge_split(request: HttpRequest, merge_id: int) -> HttpResponse:
    if CUSTOMERS_WRITE not in user_scopes(user=request.user):
        raise PermissionDenied("Your role may not split customers.")
    try:
        merge = customer_split(merge_id=merge_id, actor=request.user)
    except DomainError as error:
        messages.error(request, f"Not split: {error.message}")
    else:
        messages.success(
            request,
            f"{merge.merged_external_id} is a customer of its own again, with its history.",
        )
    return redirect("quality:index")
