"""Web pages of the forecasts app: the series overview with stock alerts and runs, and one
series' forecast, backtest, diagnostics and campaign what-if. Thin views over selectors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_scopes
from apps.core.errors import DomainError
from apps.core.web.decorators import scope_required
from apps.forecasts import selectors
from apps.forecasts.choices import RunTrigger, SeriesLevel
from apps.forecasts.services.runs import forecast_run_start
from apps.forecasts.services.whatif import campaign_whatif
from apps.forecasts.web.forms import WhatIfForm

READ = "forecasts:read"
WRITE = "forecasts:write"
HEADLINE = "shop.all.revenue.W"
CHART_HISTORY = {"D": 120, "W": 104, "M": 36}


def _can_write(request: HttpRequest) -> bool:
    return WRITE in user_scopes(user=request.user)


def _chart(latest: Any, frequency: str) -> dict[str, Any]:
    """History (the last stretch) and the forecast with its bands, for forecasts.js."""
    history = latest.history[-CHART_HISTORY.get(frequency, 104) :]
    return {
        "history": {"labels": [d for d, _ in history], "values": [v for _, v in history]},
        "forecast": latest.points,
    }


@scope_required(READ)
def index(request: HttpRequest) -> HttpResponse:
    level = request.GET.get("level", "")
    if level and level not in SeriesLevel.values:
        level = ""
    search = request.GET.get("q", "").strip()[:100]
    page = Paginator(selectors.series_list(level=level, search=search), 50).get_page(
        request.GET.get("page")
    )
    headline = None
    try:
        headline_series = selectors.series_get(key=HEADLINE)
    except DomainError:
        headline_series = None
    if headline_series is not None:
        latest = selectors.forecast_latest(series=headline_series)
        if latest is not None and latest.points:
            headline = {"series": headline_series, "forecast": latest, "chart": _chart(latest, "W")}
    context = {
        "page": page,
        "summaries": selectors.series_summaries(list(page.object_list)),
        "level": level,
        "search": search,
        "levels": SeriesLevel.choices,
        "counts": selectors.level_counts(),
        "run": selectors.run_latest(),
        "runs": selectors.run_list(limit=5),
        "alerts": selectors.stock_alert_list()[:10],
        "alert_count": selectors.stock_alert_list().count(),
        "headline": headline,
        "can_write": _can_write(request),
    }
    return render(request, "forecasts/index.html", context)


@scope_required(READ)
def run_status(request: HttpRequest) -> HttpResponse:
    """The run card alone (htmx polls it while a run is going)."""
    return render(
        request,
        "forecasts/_run.html",
        {"run": selectors.run_latest(), "can_write": _can_write(request)},
    )


@require_POST
@scope_required(READ)
def run_start(request: HttpRequest) -> HttpResponse:
    if not _can_write(request):
        raise PermissionDenied(f"Your role does not include {WRITE}.")
    run = forecast_run_start(trigger=RunTrigger.MANUAL, user=request.user)
    run.refresh_from_db()
    messages.success(request, f"Refresh {run.get_status_display().lower()}: {run.message}")
    return redirect("forecasts:index")


@scope_required(READ)
def series_detail(request: HttpRequest, key: str) -> HttpResponse:
    try:
        row = selectors.series_get(key=key)
    except DomainError as error:
        raise Http404(error.message) from None
    latest = selectors.forecast_latest(series=row)
    context: dict[str, Any] = {"series": row, "forecast": latest, "form": WhatIfForm()}
    if latest is not None and latest.history:
        context["chart"] = _chart(latest, row.frequency)
        diagnostics = latest.diagnostics or {}
        if diagnostics:
            context["components"] = {
                "labels": [d for d, _ in latest.history],
                "trend": diagnostics.get("trend", []),
                "seasonal": diagnostics.get("seasonal", []),
                "remainder": diagnostics.get("remainder", []),
                "acf": diagnostics.get("acf", []),
                "bound": diagnostics.get("acf_bound", 0),
            }
    return render(request, "forecasts/series.html", context)


@require_POST
@scope_required(READ)
def whatif(request: HttpRequest, key: str) -> HttpResponse:
    """The what-if panel: the forecast with and without the campaign days (nothing stored)."""
    try:
        row = selectors.series_get(key=key)
    except DomainError as error:
        raise Http404(error.message) from None
    form = WhatIfForm(request.POST)
    result, error_message = None, ""
    if form.is_valid():
        try:
            result = campaign_whatif(row=row, days=form.campaign_days())
        except DomainError as error:
            error_message = error.message
    return render(
        request,
        "forecasts/_whatif.html",
        {"series": row, "form": form, "result": result, "error": error_message},
    )
