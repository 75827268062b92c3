"""Models page: champions, start a run, watch runs live (htmx polls the partials)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.errors import DomainError, NotFound
from apps.core.web.decorators import scope_required
from apps.ml import selectors, services
from apps.ml.choices import TriggerSource
from apps.ml.web.forms import TrainingRunStartForm

RUNS_SHOWN = 50
START_PERMISSION = "ml.add_trainingrun"
ACTIVATE_PERMISSION = "ml.change_modelalias"


def _runs_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "runs": selectors.training_run_list()[:RUNS_SHOWN],
        "any_active": selectors.training_run_any_active(),
        "can_start": request.user.has_perm(START_PERMISSION),
    }


def _index(request: HttpRequest, form: TrainingRunStartForm, status: int = 200) -> HttpResponse:
    context = {
        **_runs_context(request),
        "champions": selectors.champion_list(),
        "kinds": selectors.kind_list(),
        "form": form,
    }
    return render(request, "ml/index.html", context, status=status)


@scope_required("ml:read")
def model_index(request: HttpRequest) -> HttpResponse:
    return _index(request, TrainingRunStartForm())


@scope_required("ml:read")
def run_table(request: HttpRequest) -> HttpResponse:
    """The runs table alone; it polls itself every 2 s while a run is queued or running."""
    return render(request, "ml/_runs.html", _runs_context(request))


@scope_required("ml:read")
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(START_PERMISSION):
        raise PermissionDenied("Your role may view models but not start training")
    form = TrainingRunStartForm(request.POST)
    if form.is_valid():
        try:
            run = services.training_run_start(
                kind=form.cleaned_data["kind"],
                params=form.cleaned_data["params"],
                trigger=TriggerSource.UI,
                triggered_by=request.user,
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Run {run.pk} of {run.kind} started.")
            return redirect("ml:index")
    return _index(request, form, status=400)


@scope_required("ml:read")
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    try:
        run = selectors.training_run_get(run_id=run_id)
    except NotFound as error:
        raise Http404(error.message) from None
    champion = selectors.champion_get(run.kind)
    context = {
        "run": run,
        "champion": champion,
        "can_start": request.user.has_perm(START_PERMISSION),
        "can_activate": request.user.has_perm(ACTIVATE_PERMISSION),
    }
    template = "ml/_run_status.html" if request.headers.get("HX-Request") else "ml/run_detail.html"
    return render(request, template, context)


@scope_required("ml:read")
@require_POST
def run_rerun(request: HttpRequest, run_id: int) -> HttpResponse:
    if not request.user.has_perm(START_PERMISSION):
        raise PermissionDenied("Your role may view models but not start training")
    try:
        run = services.training_run_rerun(
            run_id=run_id, triggered_by=request.user, trigger=TriggerSource.UI
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("ml:run_detail", run_id=run_id)
    messages.success(request, f"Run {run.pk} re-runs run {run_id}.")
    return redirect("ml:run_detail", run_id=run.pk)


@scope_required("ml:read")
@require_POST
def model_version_activate(request: HttpRequest, model_version_id: int) -> HttpResponse:
    if not request.user.has_perm(ACTIVATE_PERMISSION):
        raise PermissionDenied("Your role may not change which model serves")
    try:
        alias = services.model_version_activate(
            model_version_id=model_version_id, actor=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{alias.model_version} now serves {alias.kind}.")
    return redirect("ml:index")
