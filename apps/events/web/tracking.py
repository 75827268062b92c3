"""Data > Tracking: how a shop embeds the browser snippet and the email pixel, a browser key made
on the spot, the events arriving from the web, and a sandbox shop page that runs the snippet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static

from apps.accounts.selectors import user_scopes
from apps.accounts.services import api_key_create
from apps.catalog.selectors import product_list
from apps.core.errors import ValidationFailed
from apps.core.web.decorators import scope_required
from apps.events import selectors

KEY_PLACEHOLDER = "YOUR_WRITE_KEY"
BROWSER_KEY_SCOPES = ["events:write"]
RECENT_EVENTS = 20
SANDBOX_PRODUCTS = 6
# What the sandbox shows when the catalogue is empty: SKUs that exist nowhere, so the events
# are stored without a product link, as they would be for a shop whose catalogue is not synced.
SANDBOX_FALLBACK_PRODUCTS = (
    ("SANDBOX-TEE", "Organic cotton tee", Decimal("24.00")),
    ("SANDBOX-MUG", "Stoneware mug", Decimal("14.50")),
    ("SANDBOX-TOTE", "Canvas tote bag", Decimal("19.90")),
)
# The loader stub (Segment's pattern): records calls made before smartmkt.js has arrived and
# loads it without blocking the page; smartmkt.js replays the calls in order. Documented in
# docs/tracking.md; keep the two in step.
LOADER_TEMPLATE = """<script>
!function (w, d) {
  var s = w.smartmkt = w.smartmkt || [];
  if (s.VERSION || s.loading) return;
  s.loading = true;
  ("init page track identify alias reset flush optOut optIn on productViewed " +
   "productAdded productRemoved searched checkoutStarted orderCompleted")
    .split(" ").forEach(function (m) {
      s[m] = function () {
        s.push([m].concat([].slice.call(arguments)));
        return s;
      };
    });
  var t = d.createElement("script");
  t.async = true;
  t.src = __SCRIPT__;
  d.head.appendChild(t);
  s.init({ writeKey: __KEY__, host: __HOST__ });
  s.page();
}(window, document);
</script>"""


def _script_string(value: str) -> str:
    """A JavaScript string literal that is safe inside an HTML <script> element."""
    literal = json.dumps(value)
    return literal.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


def loader_snippet(*, host: str, write_key: str) -> str:
    """The snippet a shop pastes into every page's <head>, for this server and key."""
    return (
        LOADER_TEMPLATE.replace("__SCRIPT__", _script_string(host + static("js/smartmkt.js")))
        .replace("__KEY__", _script_string(write_key))
        .replace("__HOST__", _script_string(host))
    )


def pixel_example(*, host: str, write_key: str) -> str:
    """An email open pixel; `{{ ... }}` are the email tool's merge tags."""
    query = urlencode(
        {
            "key": write_key,
            "event": "Email Opened",
            "uid": "{{customer.external_id}}",
            "p[campaign]": "{{campaign.id}}",
        },
        safe="{}[]",
    )
    return (
        f'<img src="{host}/api/v1/pixel.gif?{query}" width="1" height="1" alt="" '
        'style="display:block;border:0">'
    )


class BrowserKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Who uses the key, e.g. the shop's domain. It can only send events.",
    )


@dataclass(frozen=True)
class SandboxProduct:
    sku: str
    title: str
    price: Decimal


def _host(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@scope_required("events:read")
def tracking_index(request: HttpRequest) -> HttpResponse:
    """The embed instructions; a POST creates a browser key (events:write only), shown once."""
    can_create_key = "events:write" in user_scopes(user=request.user)
    host = _host(request)
    form = BrowserKeyForm(initial={"name": f"Browser tracking ({request.get_host()})"})
    created_key = ""
    if request.method == "POST":
        if not can_create_key:
            raise PermissionDenied("Your role cannot create keys (it needs events:write).")
        form = BrowserKeyForm(request.POST)
        if form.is_valid():
            try:
                created_key = api_key_create(
                    name=form.cleaned_data["name"],
                    scopes=BROWSER_KEY_SCOPES,
                    created_by=request.user,
                ).raw_key
            except ValidationFailed as error:
                form.add_error("name", error.message)
    write_key = created_key or KEY_PLACEHOLDER
    context = {
        "form": form,
        "can_create_key": can_create_key,
        "created_key": created_key,
        "loader": loader_snippet(host=host, write_key=write_key),
        "pixel": pixel_example(host=host, write_key=write_key),
        "pixel_base": f"{host}/api/v1/pixel.gif",
        "sandbox_query": urlencode({"key": created_key}) if created_key else "",
        "events": selectors.event_list(source="web")[:RECENT_EVENTS],
        "recent_limit": RECENT_EVENTS,
    }
    return render(request, "events/tracking.html", context)


@scope_required("events:read")
def tracking_recent(request: HttpRequest) -> HttpResponse:
    """The live list of the latest events from the web (polled by htmx)."""
    events = selectors.event_list(source="web")[:RECENT_EVENTS]
    return render(
        request,
        "events/_tracking_recent.html",
        {"events": events, "recent_limit": RECENT_EVENTS},
    )


@scope_required("events:read")
def tracking_sandbox(request: HttpRequest) -> HttpResponse:
    """A small shop page that loads smartmkt.js from this server with the key in `?key=`."""
    write_key = request.GET.get("key", "").strip()
    products = [
        SandboxProduct(sku=product.sku, title=product.title, price=product.price)
        for product in product_list(is_active=True, order_by="sku")[:SANDBOX_PRODUCTS]
    ] or [SandboxProduct(*row) for row in SANDBOX_FALLBACK_PRODUCTS]
    context = {
        "write_key": write_key,
        "loader": loader_snippet(host=_host(request), write_key=write_key) if write_key else "",
        "products": products,
    }
    return render(request, "events/tracking_sandbox.html", context)
