"""Web pages of the customers app: the searchable list and the profile."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers

from apps.core.errors import NotFound
from apps.core.selectors import customer_countries
from apps.core.web.decorators import scope_required
from apps.customers.selectors import (
    consent_state,
    customer_alias_list,
    customer_get,
    customer_list,
    customer_order_stats,
)
from apps.customers.web.forms import CustomerFilterForm
from apps.events.selectors import customer_timeline, order_list
from apps.segments.selectors import customer_scores_get, segment_memberships_for_customer

PAGE_SIZE = 25
ORDERS_SHOWN = 50
TIMELINE_SHOWN = 100


def is_partial_request(request: HttpRequest) -> bool:
    """An htmx swap wants the fragment; a history restore after a cache miss wants the page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def attribute_rows(attributes: Any) -> list[tuple[str, str]]:
    """Free-form traits as (name, text); nested values are shown as JSON, not Python repr."""
    if not isinstance(attributes, dict):
        return [("value", json.dumps(attributes, ensure_ascii=False))]
    return [
        (name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for name, value in sorted(attributes.items())
    ]


@scope_required("customers:read")
def customer_index(request: HttpRequest) -> HttpResponse:
    form = CustomerFilterForm(request.GET, countries=customer_countries())
    customers = customer_list(**form.selector_filters())
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    stats = customer_order_stats(customer_ids=[customer.id for customer in page])
    context = {"form": form, "page": page, "rows": [(c, stats.get(c.id)) for c in page]}
    template = "customers/_results.html" if is_partial_request(request) else "customers/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@scope_required("customers:read")
def customer_detail(request: HttpRequest, external_id: str) -> HttpResponse:
    try:
        customer = customer_get(external_id=external_id)
    except NotFound as error:
        raise Http404(error.message) from error
    if customer.external_id != external_id:  # found by an alias: show the canonical address
        return redirect("customers:detail", external_id=customer.external_id)
    context = {
        "customer": customer,
        "stats": customer_order_stats(customer_ids=[customer.id]).get(customer.id),
        "consents": consent_state(customer=customer),
        "orders": order_list(customer_id=customer.id)[:ORDERS_SHOWN],
        "orders_shown": ORDERS_SHOWN,
        "timeline": customer_timeline(customer_id=customer.id, limit=TIMELINE_SHOWN),
        "attributes": attribute_rows(customer.attributes),
        "aliases": customer_alias_list(customer=customer),
        "scores": customer_scores_get(customer_id=customer.id),
        "segments": segment_memberships_for_customer(customer_id=customer.id),
    }
    return render(request, "customers/detail.html", context)
