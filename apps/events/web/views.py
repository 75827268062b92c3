"""Web pages of the events app: the Data page (what the platform holds)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.selectors import data_inventory
from apps.core.web.decorators import scope_required


@scope_required("events:read")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "events/data.html", {"inventory": data_inventory()})
