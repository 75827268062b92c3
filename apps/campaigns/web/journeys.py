"""Journey pages: the list with the shipped templates, a journey's page (trigger, goal, the
steps in order with how many went through each and where people wait, activate / pause /
archive), and its editor (settings and the steps as JSON, checked by path)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.campaigns.engine.journeys import TEMPLATES
from apps.campaigns.models import Journey
from apps.campaigns.services import journeys as services
from apps.campaigns.web.views import READ, _can_write, _require_write
from apps.core.errors import DomainError
from apps.core.web.decorators import scope_required


def _journey(journey_id: int) -> Journey:
    journey = Journey.objects.filter(pk=journey_id).first()
    if journey is None:
        raise Http404("no such journey")
    return journey


@scope_required(READ)
def index(request: HttpRequest) -> HttpResponse:
    journeys = list(Journey.objects.all())
    for journey in journeys:
        journey.states = services.journey_state_counts(journey=journey)
    return render(
        request,
        "campaigns/journeys.html",
        {"journeys": journeys, "templates": TEMPLATES, "can_write": _can_write(request)},
    )


@require_POST
@scope_required(READ)
def create(request: HttpRequest) -> HttpResponse:
    _require_write(request)
    try:
        journey = services.journey_create(
            template=request.POST.get("template", ""), actor=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("campaigns:journeys")
    messages.success(
        request, f"Journey created from the {journey.name} template: check it, then activate."
    )
    return redirect("campaigns:journey_detail", journey_id=journey.pk)


@scope_required(READ)
def detail(request: HttpRequest, journey_id: int) -> HttpResponse:
    journey = _journey(journey_id)
    counts = services.journey_step_counts(journey=journey)
    steps = [{**step, "counts": counts.get(str(step["id"]), {})} for step in journey.steps]
    return render(
        request,
        "campaigns/journey_detail.html",
        {
            "journey": journey,
            "steps": steps,
            "states": services.journey_state_counts(journey=journey),
            "can_write": _can_write(request),
        },
    )


@scope_required(READ)
def edit(request: HttpRequest, journey_id: int) -> HttpResponse:
    _require_write(request)
    journey = _journey(journey_id)
    error = ""
    steps_text = json.dumps(journey.steps, indent=2)
    if request.method == "POST":
        steps_text = request.POST.get("steps", "")
        try:
            steps = json.loads(steps_text)
        except json.JSONDecodeError as problem:
            error = f"steps: not valid JSON (line {problem.lineno}, column {problem.colno}): {problem.msg}"
        else:
            changes: dict[str, Any] = {
                "name": request.POST.get("name", journey.name),
                "goal_event": request.POST.get("goal_event", ""),
                "steps": steps,
            }
            reentry = request.POST.get("reentry_days", "").strip()
            changes["reentry_days"] = int(reentry) if reentry.isdigit() else None
            try:
                services.journey_update(journey=journey, changes=changes, actor=request.user)
            except DomainError as problem:
                error = problem.message
            else:
                messages.success(request, "Journey saved.")
                return redirect("campaigns:journey_detail", journey_id=journey.pk)
    return render(
        request,
        "campaigns/journey_form.html",
        {"journey": journey, "steps_text": steps_text, "error": error},
    )


@require_POST
@scope_required(READ)
def action(request: HttpRequest, journey_id: int, verb: str) -> HttpResponse:
    _require_write(request)
    journey = _journey(journey_id)
    calls = {
        "activate": services.journey_activate,
        "pause": services.journey_pause,
        "archive": services.journey_archive,
    }
    if verb not in calls:
        raise Http404("no such action")
    try:
        calls[verb](journey=journey, actor=request.user)
        messages.success(request, f"Journey {verb}d." if verb != "pause" else "Journey paused.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("campaigns:journey_detail", journey_id=journey.pk)
