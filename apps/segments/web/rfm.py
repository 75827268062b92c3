"""RFM & lifecycle page and Clusters page (/segments/rfm/, /segments/rfm/clusters/).

Views read one overview from the services and call one service per action: recompute RFM,
fit or apply clusters, save an RFM cell or a cluster as a segment (through
`apps.segments.services.segments.segment_create`). Runs go through the ML platform, so the
pages show their progress (htmx polls the status partial while a run is queued or running).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_scopes
from apps.core.errors import DomainError
from apps.core.web.decorators import scope_required
from apps.ml import selectors as ml_selectors
from apps.segments.engine import lifecycle
from apps.segments.services import clustering, rfm

READ = "segments:read"
WRITE = "segments:write"
UI_TRIGGER = "ui"
ACTIVE_STATUSES = ("queued", "running")

# One hue per named cell (r, g, b); the square's opacity grows with its count.
CELL_COLOURS = {
    "champions": "22, 163, 74",
    "loyal": "101, 163, 13",
    "potential_loyalists": "13, 148, 136",
    "new": "14, 165, 233",
    "promising": "79, 70, 229",
    "need_attention": "202, 138, 4",
    "about_to_sleep": "234, 88, 12",
    "at_risk": "220, 38, 38",
    "cant_lose_them": "190, 18, 60",
    "hibernating": "100, 116, 139",
    "lost": "71, 85, 105",
}
STAGE_COLOURS = {
    "prospect": "#94a3b8",
    "new": "#0ea5e9",
    "active": "#16a34a",
    "returning": "#8b5cf6",
    "loyal": "#15803d",
    "at_risk": "#ea580c",
    "lapsed": "#b91c1c",
}
CELL_ACTIONS = {
    "champions": "Reward them; early access, referrals, reviews.",
    "loyal": "Upsell higher-value products; ask for reviews.",
    "potential_loyalists": "Offer membership or loyalty programmes.",
    "new": "Onboard well; build the relationship early.",
    "promising": "Create brand awareness; free trials.",
    "need_attention": "Limited-time offers based on past purchases.",
    "about_to_sleep": "Share popular products; reconnect before they go.",
    "at_risk": "Personal emails to win them back; renewals.",
    "cant_lose_them": "Win them back with new products; do not lose them to a competitor.",
    "hibernating": "Offer other relevant products and special discounts.",
    "lost": "Revive interest with outreach, or leave them out of spend.",
}
STAGE_RULES = {
    "prospect": "No purchase yet.",
    "new": "One purchase day, within 1.5 cycles.",
    "active": "Bought again, within 1.5 cycles.",
    "returning": "Came back after a gap longer than 3 cycles.",
    "loyal": f"At least {lifecycle.LOYAL_MIN_PURCHASES} purchase days, within 1.5 cycles.",
    "at_risk": "Idle for 1.5-3 cycles.",
    "lapsed": "Idle for more than 3 cycles.",
}


def _can_write(request: HttpRequest) -> bool:
    return WRITE in user_scopes(user=request.user)


def _require_write(request: HttpRequest) -> None:
    if not _can_write(request):
        raise PermissionDenied("Your role may view RFM and clusters but not change them.")


def _segment_url(segment: Any) -> str:
    """The saved segment's page when the segments UI has one, else the segments index."""
    for name, args in (("segments:detail", [segment.pk]), ("segments:index", [])):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return "/segments/"


def _run_context(kind: str) -> dict[str, Any]:
    run = ml_selectors.training_run_list(kind=kind).first()
    return {"run": run, "run_active": run is not None and run.status in ACTIVE_STATUSES}


# --- RFM & lifecycle --------------------------------------------------------------------------


def _grid_rows(overview: rfm.RfmOverview) -> list[dict[str, Any]]:
    rows = []
    for row in overview.grid:
        squares = []
        for square in row:
            alpha = 0.12 + 0.78 * square.intensity if square.customers else 0.05
            squares.append(
                {
                    "square": square,
                    "background": f"rgba({CELL_COLOURS[square.cell]}, {alpha:.2f})",
                    "dark": alpha >= 0.5,
                }
            )
        rows.append({"recency": row[0].recency, "squares": squares})
    return rows


@scope_required(READ)
def rfm_index(request: HttpRequest) -> HttpResponse:
    overview = rfm.rfm_overview()
    buyers = overview.buyers or 1
    scored = overview.customers_scored or 1
    context = {
        "overview": overview,
        "grid_rows": _grid_rows(overview),
        "cells": [
            {
                "cell": cell,
                "label": label,
                "customers": customers,
                "percent": 100 * customers / buyers,
                "colour": f"rgb({CELL_COLOURS[cell]})",
                "action": CELL_ACTIONS[cell],
            }
            for cell, label, customers in overview.cells
        ],
        "stages": [
            {
                "stage": stage,
                "label": label,
                "customers": customers,
                "percent": 100 * customers / scored,
                "colour": STAGE_COLOURS[stage],
                "rule": STAGE_RULES[stage],
            }
            for stage, label, customers in overview.stages
        ],
        "stage_chart": {
            "labels": [label for _, label, _ in overview.stages],
            "values": [customers for _, _, customers in overview.stages],
            "colours": [STAGE_COLOURS[stage] for stage, _, _ in overview.stages],
        },
        "recency_bounds": overview.boundaries.get("recency_days_at_most", []),
        "frequency_bounds": overview.boundaries.get("frequency_at_least", []),
        "monetary_bounds": overview.boundaries.get("monetary_at_least", []),
        "can_write": _can_write(request),
        "cycle": {
            "own_min": lifecycle.OWN_CYCLE_MIN_PURCHASES,
            "at_risk": lifecycle.AT_RISK_AFTER_CYCLES,
            "lapsed": lifecycle.LAPSED_AFTER_CYCLES,
        },
        **_run_context(rfm.RFM_KIND),
    }
    return render(request, "segments/rfm_index.html", context)


@scope_required(READ)
def rfm_run_status(request: HttpRequest, kind: str) -> HttpResponse:
    """The latest run of `rfm` or `clusters`; polls itself while it is queued or running and
    reloads the page once it ends (HX-Refresh)."""
    kinds = {"rfm": rfm.RFM_KIND, "clusters": clustering.CLUSTERS_KIND}
    if kind not in kinds:
        raise Http404("Unknown kind: rfm or clusters")
    ml_kind = kinds[kind]
    context = {**_run_context(ml_kind), "status_kind": kind}
    response = render(request, "segments/rfm_run_status.html", context)
    if request.GET.get("polling") and not context["run_active"]:
        response["HX-Refresh"] = "true"
    return response


@scope_required(READ)
@require_POST
def rfm_compute(request: HttpRequest) -> HttpResponse:
    _require_write(request)
    try:
        run = rfm.rfm_run_start(trigger=UI_TRIGGER, triggered_by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        run.refresh_from_db()
        if run.status == "succeeded":
            messages.success(request, "RFM scores and lifecycle stages recomputed.")
        elif run.status in ACTIVE_STATUSES:
            messages.info(request, f"Run {run.pk} started; the page refreshes when it is done.")
        else:
            messages.warning(request, run.error.splitlines()[0] if run.error else run.status)
    return redirect("segments:rfm_index")


@scope_required(READ)
@require_POST
def rfm_cell_save(request: HttpRequest, cell: str) -> HttpResponse:
    """Save an RFM cell as a dynamic segment."""
    _require_write(request)
    try:
        segment = rfm.rfm_cell_segment_save(
            cell=cell, name=request.POST.get("name", ""), actor=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("segments:rfm_index")
    messages.success(
        request, f"Saved segment “{segment.name}” with {segment.member_count:,} customers."
    )
    return redirect(_segment_url(segment))


# --- clusters ---------------------------------------------------------------------------------


def _chart(overview: clustering.ClustersOverview) -> dict[str, Any]:
    return {
        "k": [row["k"] for row in overview.selection],
        "silhouette": [row["silhouette"] for row in overview.selection],
        "bic": [row["bic"] for row in overview.selection],
        "kmeans_k": overview.kmeans_k,
        "gmm_k": overview.gmm_k,
    }


def _number(value: float | None) -> str:
    """Readable feature values: 1,174 / 45.5 / 0.24 (small rates keep two decimals)."""
    if value is None:
        return "—"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:,.1f}"
    return f"{value:.2f}"


def _cluster_cards(overview: clustering.ClustersOverview) -> list[dict[str, Any]]:
    return [
        {
            "cluster": cluster,
            "highlights": [
                {
                    **item,
                    "mean_text": _number(item["mean"]),
                    "overall_text": _number(item["overall"]),
                }
                for item in cluster.highlights
            ],
        }
        for cluster in overview.clusters
    ]


def _profile_table(overview: clustering.ClustersOverview) -> list[dict[str, Any]]:
    """Rows of features, a cell per cluster coloured by its difference from everyone."""
    if not overview.clusters:
        return []
    rows = []
    for index, feature in enumerate(overview.clusters[0].features):
        cells = []
        for cluster in overview.clusters:
            value = cluster.features[index]
            difference = max(-2.0, min(2.0, value["difference"]))
            colour = "37, 99, 235" if difference >= 0 else "220, 38, 38"
            cells.append(
                {
                    "mean": _number(value["mean"]),
                    "difference": value["difference"],
                    "background": f"rgba({colour}, {abs(difference) / 2 * 0.55:.2f})",
                }
            )
        rows.append(
            {"label": feature["label"], "overall": _number(feature["overall"]), "cells": cells}
        )
    return rows


@scope_required(READ)
def clusters_index(request: HttpRequest) -> HttpResponse:
    overview = clustering.clusters_overview()
    context = {
        "overview": overview,
        "chart": _chart(overview) if overview else None,
        "profile_table": _profile_table(overview) if overview else [],
        "cards": _cluster_cards(overview) if overview else [],
        "can_write": _can_write(request),
        **_run_context(clustering.CLUSTERS_KIND),
    }
    return render(request, "segments/rfm_clusters.html", context)


def _optional_int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.lstrip("-").isdigit() else None


@scope_required(READ)
@require_POST
def clusters_fit(request: HttpRequest) -> HttpResponse:
    _require_write(request)
    params: dict[str, Any] = {}
    for name in ("k_min", "k_max", "seed"):
        number = _optional_int(request.POST.get(name, ""))
        if number is not None:
            params[name] = number
    if request.POST.get("algorithm"):
        params["algorithm"] = request.POST["algorithm"]
    try:
        run = clustering.clusters_run_start(
            params=params, trigger=UI_TRIGGER, triggered_by=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if run.status == "succeeded":
            messages.success(request, "Clusters fitted and written to customers.")
        elif run.status in ACTIVE_STATUSES:
            messages.info(request, f"Run {run.pk} started; the page refreshes when it is done.")
        else:
            messages.warning(request, run.error.splitlines()[0] if run.error else run.status)
    return redirect("segments:rfm_clusters")


@scope_required(READ)
@require_POST
def clusters_apply(request: HttpRequest) -> HttpResponse:
    """Write the champion's clusters into customers' scores (after a run on a worker)."""
    _require_write(request)
    try:
        summary = clustering.cluster_scores_apply()
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Clusters of v{summary.version} written to {summary.assigned:,} customers."
        )
    return redirect("segments:rfm_clusters")


@scope_required(READ)
@require_POST
def cluster_save(request: HttpRequest, cluster: int) -> HttpResponse:
    """Save a cluster's current members as a static segment."""
    _require_write(request)
    try:
        segment = clustering.cluster_segment_save(
            cluster=cluster, name=request.POST.get("name", ""), actor=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("segments:rfm_clusters")
    messages.success(
        request, f"Saved segment “{segment.name}” with {segment.member_count:,} customers."
    )
    return redirect(_segment_url(segment))
