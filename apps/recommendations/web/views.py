"""Recommendations pages: the home (champion, model comparison, online CTR, Train now), the
placements with their rules, a "try it" page per placement and the customer preview fragment.

Views read through `apps.recommendations.services.pages` and change state through one
service each (`recommender_train`, `placement_create` / `_update` / `_delete`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_scopes
from apps.core.errors import DomainError, NotFound
from apps.core.web.decorators import scope_required
from apps.recommendations import selectors, services
from apps.recommendations.services import pages
from apps.recommendations.web.forms import PlacementForm, ReportChoiceForm, TryForm

READ = "recommendations:read"
WRITE = "recommendations:write"
TRAIN_PERMISSION = "ml.add_trainingrun"  # as the Models page
UI_TRIGGER = "ui"


def _placement(key: str) -> Any:
    try:
        return selectors.placement_get(key=key)
    except NotFound as error:
        raise Http404(error.message) from None


def _require_write(request: HttpRequest) -> None:
    if WRITE not in user_scopes(user=request.user):
        raise PermissionDenied("Your role may view placements but not change them.")


def _can_write(request: HttpRequest) -> bool:
    return WRITE in user_scopes(user=request.user)


# --- home ------------------------------------------------------------------------------------------


@scope_required(READ)
def index(request: HttpRequest) -> HttpResponse:
    choice = ReportChoiceForm(request.GET)
    values = choice.cleaned_data if choice.is_valid() else {}
    home = pages.recommendations_home(
        run_id=values.get("run"), days=values.get("days") or pages.STATS_DAYS
    )
    context = {
        "home": home,
        "can_train": request.user.has_perm(TRAIN_PERMISSION),
        "can_write": _can_write(request),
    }
    return render(request, "recommendations/index.html", context)


@scope_required(READ)
def run_status(request: HttpRequest) -> HttpResponse:
    """The latest run; polls itself while it is queued or running and reloads the page once it
    ended (HX-Refresh), so the new champion shows."""
    run, active = pages.recommender_run_status()
    response = render(
        request, "recommendations/_run_status.html", {"run": run, "run_active": active}
    )
    if request.GET.get("polling") and not active:
        response["HX-Refresh"] = "true"
    return response


@scope_required(READ)
@require_POST
def train(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(TRAIN_PERMISSION):
        raise PermissionDenied("Your role may view recommendations but not start training.")
    try:
        summary = services.recommender_train(
            wait=False, trigger=UI_TRIGGER, triggered_by=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("recommendations:index")
    level = {"succeeded": messages.SUCCESS, "queued": messages.INFO, "running": messages.INFO}
    messages.add_message(
        request, level.get(summary["status"], messages.WARNING), summary["message"]
    )
    return redirect("recommendations:index")


# --- placements ------------------------------------------------------------------------------------


@scope_required(READ)
def placement_index(request: HttpRequest) -> HttpResponse:
    context = {
        "rows": pages.placement_rows(),
        "days": pages.STATS_DAYS,
        "can_write": _can_write(request),
    }
    return render(request, "recommendations/placements.html", context)


def _placement_form(
    request: HttpRequest, form: PlacementForm, placement: Any = None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "placement": placement, "categories": pages.category_options()}
    return render(request, "recommendations/placement_form.html", context, status=status)


def _placement_save(request: HttpRequest, placement: Any = None) -> HttpResponse:
    """Validate the form, then create or update through the service; errors under fields."""
    form = PlacementForm(request.POST)
    if form.is_valid():
        try:
            if placement is None:
                saved = services.placement_create(**form.cleaned_data)
            else:
                saved = services.placement_update(placement=placement, changes=form.cleaned_data)
        except DomainError as error:
            form.add_service_error(error.field, error.message)
        else:
            messages.success(request, f"Saved {saved.name}: it applies to the next request.")
            return redirect("recommendations:placement_index")
    return _placement_form(request, form, placement, status=400)


@scope_required(READ)
def placement_create(request: HttpRequest) -> HttpResponse:
    _require_write(request)
    if request.method == "POST":
        return _placement_save(request)
    return _placement_form(request, PlacementForm())


@scope_required(READ)
def placement_edit(request: HttpRequest, key: str) -> HttpResponse:
    _require_write(request)
    placement = _placement(key)
    if request.method == "POST":
        return _placement_save(request, placement)
    return _placement_form(
        request, PlacementForm(initial=PlacementForm.initial_from(placement)), placement
    )


@scope_required(READ)
def placement_delete(request: HttpRequest, key: str) -> HttpResponse:
    """A confirmation page; POST deletes."""
    _require_write(request)
    placement = _placement(key)
    if request.method != "POST":
        return render(request, "recommendations/placement_delete.html", {"placement": placement})
    services.placement_delete(placement=placement)
    messages.success(request, f"Deleted {placement.name}: requests naming {key} are refused now.")
    return redirect("recommendations:placement_index")


# --- try it and the customer preview ----------------------------------------------------------------


@scope_required(READ)
def try_page(request: HttpRequest, key: str = "") -> HttpResponse:
    """The recommendations the API gives for a visitor with this placement's rules."""
    placement = _placement(key) if key else None
    form = TryForm(request.GET or None, categories=pages.category_options())
    answer = None
    if form.is_bound and form.is_valid():
        try:
            answer = pages.recommendations_try(placement=key, **form.query())
        except DomainError as error:
            form.add_service_error(error.field, error.message)
    context = {
        "form": form,
        "placement": placement,
        "defaults": placement or selectors.DEFAULT_RULES,
        "answer": answer,
        "placements": selectors.placement_list(),
    }
    return render(request, "recommendations/try.html", context, status=400 if form.errors else 200)


@scope_required("customers:read")
def customer_search(request: HttpRequest) -> HttpResponse:
    """Customers matching the try-it search box (an htmx fragment)."""
    query = request.GET.get("q") or request.GET.get("customer", "")
    context = {
        "customers": pages.customer_search(query=query),
        "query": query.strip(),
        "min_length": pages.SEARCH_MIN_LENGTH,
    }
    return render(request, "recommendations/_customer_search.html", context)


@scope_required(READ)
def customer_preview(request: HttpRequest, external_id: str) -> HttpResponse:
    """A customer's top five with reasons (an htmx fragment for the profile page)."""
    try:
        preview = pages.customer_preview(external_id=external_id)
    except NotFound as error:
        raise Http404(error.message) from None
    return render(request, "recommendations/_customer_preview.html", {"preview": preview})
