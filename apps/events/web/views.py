"""Web pages of the events app: the Data overview (what the platform holds and takes in)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.selectors import data_inventory
from apps.core.web.decorators import scope_required
from apps.events.selectors import ingestion_summary, quarantine_counts
from apps.events.services import event_partition_list
from apps.imports.selectors import import_job_list
from apps.quality.selectors import quality_report_latest_all

RECENT_IMPORTS = 5


@scope_required("events:read")
def index(request: HttpRequest) -> HttpResponse:
    ingestion = ingestion_summary(hours=24)
    hourly = {
        "labels": [f"{point['hour']:%H}:00" for point in ingestion["per_hour"]],
        "values": [point["messages"] for point in ingestion["per_hour"]],
    }
    return render(
        request,
        "events/data.html",
        {
            "inventory": data_inventory(),
            "ingestion": ingestion,
            "ingestion_chart": hourly,
            "quarantine": quarantine_counts(),
            "imports": list(import_job_list()[:RECENT_IMPORTS]),
            "reports": quality_report_latest_all(),
            "partitions": event_partition_list(),
        },
    )
