"""Web pages of the core app: the dashboard."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.selectors import dashboard_overview
from apps.core.web.decorators import scope_required
from apps.events.contracts import DailyValue


def chart_series(points: list[DailyValue]) -> dict[str, Any]:
    """Daily values as the `{labels, values}` shape static/js/app.js draws."""
    return {
        "labels": [point.day.isoformat() for point in points],
        "values": [point.value for point in points],
        "has_data": any(point.value for point in points),
    }


@scope_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    overview = dashboard_overview(days=30, chart_days=90)
    context = {
        "overview": overview,
        "revenue_chart": chart_series(overview.revenue_per_day),
        "events_chart": chart_series(overview.events_per_day),
    }
    return render(request, "core/dashboard.html", context)
