"""The Predictions page (/segments/predictions/): churn risk and purchase propensity models.

Per model: backtest metrics, the calibration curve, lift by decile, the distribution of the
stored scores, the customers with the highest scores and their top reasons, and a Retrain
button that starts an ML run (its progress polls in place while it runs).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_scopes
from apps.core.errors import DomainError, NotFound
from apps.core.web.decorators import scope_required
from apps.segments.services.features import feature_label
from apps.segments.services.predict import (
    PREDICTION_KINDS,
    PredictionOverview,
    prediction_kind_get,
    prediction_overview,
    prediction_training_start,
)

READ = "segments:read"
WRITE = "segments:write"
ACTIVE_RUN_STATUSES = ("queued", "running")
HORIZON_OPTIONS = (7, 14, 30, 60, 90, 180)


def _charts(overview: PredictionOverview) -> dict[str, Any]:
    """What the four charts draw, ready for json_script."""
    metrics = overview.metrics
    return {
        "calibration": [
            {"x": item["mean_predicted"], "y": item["observed_rate"], "rows": item["rows"]}
            for item in metrics.get("calibration", [])
        ],
        "lift": [
            {
                "decile": item["decile"],
                "lift": item["lift"],
                "capture": item["cumulative_capture"],
            }
            for item in metrics.get("lift_by_decile", [])
        ],
        "distribution": overview.distribution,
        "importance": [
            {
                "label": item.get("label") or feature_label(item["feature"]),
                "value": item["importance"],
            }
            for item in metrics.get("feature_importance", [])[:10]
        ],
        "base_rate": metrics.get("base_rate"),
    }


def _run_context(kind: str) -> dict[str, Any]:
    overview = prediction_overview(kind=kind, top=0)
    run = overview.latest_run
    return {
        "overview": overview,
        "run": run,
        "run_active": run is not None and run.status in ACTIVE_RUN_STATUSES,
    }


@scope_required(READ)
def predictions_index(request: HttpRequest) -> HttpResponse:
    requested = request.GET.get("model", "churn")
    if requested not in PREDICTION_KINDS:
        requested = "churn"
    overview = prediction_overview(kind=requested)
    run = overview.latest_run
    metrics = overview.metrics
    horizon = int(metrics.get("horizon_days") or overview.kind.default_horizon_days)
    lift = metrics.get("lift_by_decile") or [{}]
    context = {
        "kinds": [prediction_kind_get(name) for name in PREDICTION_KINDS],
        "overview": overview,
        "charts": _charts(overview),
        "run": run,
        "run_active": run is not None and run.status in ACTIVE_RUN_STATUSES,
        "can_train": WRITE in user_scopes(user=request.user),
        "horizon_options": sorted({*HORIZON_OPTIONS, horizon}),
        "horizon_selected": horizon,
        "top_decile": {
            "lift": lift[0].get("lift"),
            "rate_percent": 100 * (lift[0].get("rate") or 0),
        },
        "base_rate_percent": 100 * (metrics.get("base_rate") or 0),
        "mean_score_percent": 100 * (overview.mean_score or 0),
        # A reason that raises churn risk is bad news; one that raises propensity is good.
        "raises_class": "badge-danger" if requested == "churn" else "badge-success",
        "lowers_class": "badge-success" if requested == "churn" else "",
    }
    return render(request, "segments/predict_index.html", context)


@scope_required(READ)
def prediction_run(request: HttpRequest, kind: str) -> HttpResponse:
    """The latest run's status alone; polls itself every 2 s while it is queued or running."""
    try:
        context = _run_context(kind)
    except NotFound as error:
        raise Http404(error.message) from None
    return render(request, "segments/predict_run.html", context)


@scope_required(READ)
@require_POST
def prediction_train(request: HttpRequest, kind: str) -> HttpResponse:
    if WRITE not in user_scopes(user=request.user):
        raise PermissionDenied("Your role may view predictions but not retrain them.")
    horizon = request.POST.get("horizon_days", "").strip()
    try:
        spec = prediction_kind_get(kind)
        run = prediction_training_start(
            kind=spec.name,
            horizon_days=int(horizon) if horizon.isdigit() else None,
            trigger="ui",
            triggered_by=request.user,
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Training run {run.pk} of the {spec.label.lower()} model started; its progress "
            "shows below. Customers are re-scored with the new model on the next refresh.",
        )
    return redirect(f"{reverse('segments:predict_index')}?model={kind}")
