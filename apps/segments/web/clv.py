"""Customer lifetime value page (/segments/clv/): the fitted BG/NBD and Gamma-Gamma
parameters, predicted vs actual repeat purchases in the holdout, the independence check, the
distribution of predicted 12-month CLV and the top customers; Refit (with the holdout and
the monthly discount rate) starts the ML job.

Views read one overview from `apps.segments.services.clv` and call one service per action.
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
from apps.core.web.decorators import scope_required
from apps.segments.services import clv
from apps.segments.web.forms import ClvRefitForm

READ = "segments:read"
WRITE = "segments:write"
UI_TRIGGER = "ui"
UNIT_NAMES = {"D": "day", "W": "week"}


def _can_write(request: HttpRequest) -> bool:
    return WRITE in user_scopes(user=request.user)


def _require_write(request: HttpRequest) -> None:
    if not _can_write(request):
        raise PermissionDenied("Your role may view customer lifetime value but not refit it.")


def _parameters(document: dict[str, Any]) -> dict[str, Any]:
    """The fitted parameters with the readings people act on (per-unit rate, dropout)."""
    bgnbd, gamma_gamma = document["bgnbd"], document["gamma_gamma"]
    unit = UNIT_NAMES.get(document.get("time_unit", "D"), "day")
    seconds = document.get("fit_seconds", {})
    return {
        "bgnbd": bgnbd,
        "gamma_gamma": gamma_gamma,
        "unit": unit,
        "purchase_rate": bgnbd["r"] / bgnbd["alpha"],
        "dropout_percent": 100 * bgnbd["a"] / (bgnbd["a"] + bgnbd["b"]),
        "fit_seconds": sum(seconds.get(name, 0.0) for name in ("bgnbd", "gamma_gamma")),
    }


def _holdout_chart(diagnostics: dict[str, Any] | None) -> dict[str, Any] | None:
    if not diagnostics:
        return None
    buckets = diagnostics["buckets"]
    error = diagnostics.get("total_error")
    return {
        "error_percent": None if error is None else 100 * error,
        "labels": [bucket["frequency"] for bucket in buckets],
        "actual": [round(bucket["actual"], 4) for bucket in buckets],
        "predicted": [round(bucket["predicted"], 4) for bucket in buckets],
        "customers": [bucket["customers"] for bucket in buckets],
    }


def _distribution_chart(distribution: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not distribution:
        return None
    labels = []
    for band in distribution:
        if band["open"]:
            labels.append(f"{_amount(band['low'])}+")
        else:
            labels.append(f"{_amount(band['low'])}–{_amount(band['high'])}")
    return {"labels": labels, "values": [band["customers"] for band in distribution]}


def _amount(value: float) -> str:
    """A band edge, short enough for every label to show under its bar: 20, 500, 2k, 10k, 1M;
    0.5 for the small edges of a shop of cheap orders."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _refit_form(document: dict[str, Any]) -> ClvRefitForm:
    """An unbound form showing the parameters of the serving fit (defaults before any)."""
    params = {**clv.CLV_DEFAULTS, **(document.get("params") or {})}
    return ClvRefitForm(
        initial={name: params[name] for name in ("holdout_days", "monthly_discount_rate")}
    )


def _context(request: HttpRequest, refit_form: ClvRefitForm | None = None) -> dict[str, Any]:
    overview = clv.clv_overview()
    document = overview.document
    diagnostics = document.get("diagnostics") if document else None
    return {
        "refit_form": refit_form or _refit_form(document),
        "overview": overview,
        "document": document,
        "parameters": _parameters(document) if document else None,
        "diagnostics": diagnostics,
        "holdout_chart": _holdout_chart(diagnostics),
        "distribution_chart": _distribution_chart(overview.distribution),
        "independence": document.get("independence_check") if document else None,
        "discount_percent": 100 * document.get("params", {}).get("monthly_discount_rate", 0.0)
        if document
        else None,
        "mean_alive_percent": (
            None if overview.mean_p_alive is None else 100 * overview.mean_p_alive
        ),
        "run": overview.latest_run,
        "run_active": overview.run_active,
        "can_write": _can_write(request),
    }


@scope_required(READ)
def clv_index(request: HttpRequest) -> HttpResponse:
    return render(request, "segments/clv_index.html", _context(request))


@scope_required(READ)
def clv_run_status(request: HttpRequest) -> HttpResponse:
    """The latest `segments.clv` run; polls itself while queued or running and reloads the
    page once it ends (HX-Refresh)."""
    overview = clv.clv_overview(top=0)
    context = {"run": overview.latest_run, "run_active": overview.run_active}
    response = render(request, "segments/clv_run_status.html", context)
    if request.GET.get("polling") and not overview.run_active:
        response["HX-Refresh"] = "true"
    return response


@scope_required(READ)
@require_POST
def clv_refit(request: HttpRequest) -> HttpResponse:
    """Start a fit with the form's holdout and discount rate; the page again, with the
    problem under its field, when one is out of range."""
    _require_write(request)
    form = ClvRefitForm(request.POST)
    if not form.is_valid():
        return render(request, "segments/clv_index.html", _context(request, form), status=400)
    try:
        run = clv.clv_fit_start(params=form.params(), trigger=UI_TRIGGER, triggered_by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("segments:clv_index")
    if run.status == "succeeded":
        messages.success(request, f"Refitted: v{run.model_version.version} predicts every buyer.")
    elif run.status in clv.ACTIVE_STATUSES:
        messages.info(request, f"Run {run.pk} started; the page refreshes when it is done.")
    else:
        messages.warning(request, run.error.splitlines()[0] if run.error else run.status)
    return redirect("segments:clv_index")


@scope_required(READ)
@require_POST
def clv_store(request: HttpRequest) -> HttpResponse:
    """Store the champion's predictions now (after a worker fitted it, or after new orders)."""
    _require_write(request)
    try:
        summary = clv.clv_scores_store()
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Stored v{summary.version} predictions for {summary.stored:,} customers."
        )
    return redirect("segments:clv_index")
