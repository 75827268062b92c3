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

from apps.campaigns.engine.journeys import (
    STEP_TYPES,
    TEMPLATES,
    json_copy,
    step_insert_after,
    step_remove,
)
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
            "step_types": STEP_TYPES,
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


# --------------------------------------------------------------------------- step editor
FIELDS: dict[str, list[tuple[str, str, str]]] = {
    # type -> [(field, label, kind)]; kind: text, textarea, number, json, target
    "wait": [("days", "Days", "number"), ("hours", "Hours", "number"),
             ("until_hour", "Then at this hour of their clock (0-23, optional)", "number"),
             ("next", "Then", "target")],
    "email": [("subject", "Subject", "text"), ("html_body", "Content (HTML)", "textarea"),
              ("next", "Then", "target")],
    "coupon": [("program", "Coupon program key", "text"), ("next", "Then", "target")],
    "webhook": [("url", "Address (POST, JSON)", "text"), ("next", "Then", "target")],
    "update_attribute": [("attribute", "Attribute", "text"),
                         ("value", 'Value (JSON: true, 3, "gold"; null clears it)', "json"),
                         ("next", "Then", "target")],
    "condition": [("condition", "Condition (segment condition tree, JSON)", "json"),
                  ("yes", "If yes", "target"), ("no", "If no", "target")],
    "split": [("branches", 'Branches (JSON: [{"weight": 50, "next": "step-id"}, ...])', "json")],
    "exit": [],
}  # fmt: skip


def _apply(step: dict[str, Any], data: Any) -> tuple[dict[str, Any], list[str]]:
    """The step with the posted fields; errors name the field."""
    errors: list[str] = []
    for name, _label, kind in FIELDS[step["type"]]:
        raw = str(data.get(name, "")).strip()
        if kind == "number":
            if raw == "":
                step.pop(name, None)
                continue
            try:
                number = float(raw)
            except ValueError:
                errors.append(f"{name}: not a number")
                continue
            step[name] = int(number) if number.is_integer() else number
        elif kind == "json":
            try:
                step[name] = json.loads(raw) if raw else None
            except json.JSONDecodeError as error:
                errors.append(f"{name}: not valid JSON ({error.msg}, column {error.colno})")
        elif kind == "target":
            if raw:
                step[name] = raw
            else:
                step.pop(name, None)
        else:
            step[name] = str(data.get(name, ""))
    return step, errors


def _step_form(
    request: HttpRequest,
    journey: Journey,
    steps: list[dict[str, Any]],
    step: dict[str, Any],
    error: str,
    after: str = "",
) -> HttpResponse:
    fields = []
    for name, label, kind in FIELDS[step["type"]]:
        value = step.get(name)
        shown = json.dumps(value, indent=2) if kind == "json" else ("" if value is None else value)
        fields.append({"name": name, "label": label, "kind": kind, "value": shown})
    targets = [str(s["id"]) for s in steps if s["id"] != step["id"]]
    return render(
        request,
        "campaigns/journey_step_form.html",
        {
            "journey": journey,
            "step": step,
            "fields": fields,
            "targets": targets,
            "error": error,
            "after": after,
        },
    )


def _save_steps(request: HttpRequest, journey: Journey, steps: list[dict[str, Any]]) -> str:
    try:
        services.journey_update(journey=journey, changes={"steps": steps}, actor=request.user)
    except DomainError as problem:
        return problem.message
    return ""


@scope_required(READ)
def step_edit(request: HttpRequest, journey_id: int, step_id: str) -> HttpResponse:
    _require_write(request)
    journey = _journey(journey_id)
    steps = json_copy(journey.steps)
    step = next((s for s in steps if s.get("id") == step_id), None)
    if step is None:
        raise Http404("no such step")
    error = ""
    if request.method == "POST":
        step, errors = _apply(step, request.POST)
        error = "; ".join(errors) or _save_steps(request, journey, steps)
        if not error:
            messages.success(request, f"Step {step_id} saved.")
            return redirect("campaigns:journey_detail", journey_id=journey.pk)
    return _step_form(request, journey, steps, step, error)


@scope_required(READ)
def step_new(request: HttpRequest, journey_id: int) -> HttpResponse:
    """A new step of `type` after step `after` (empty: at the start), saved with the fields."""
    _require_write(request)
    journey = _journey(journey_id)
    kind = request.GET.get("type") or request.POST.get("type", "")
    after = (request.GET.get("after") or request.POST.get("after") or "") or None
    try:
        steps, new_id = step_insert_after(journey.steps, after, kind)
    except ValueError as problem:
        messages.error(request, str(problem))
        return redirect("campaigns:journey_detail", journey_id=journey.pk)
    step = next(s for s in steps if s["id"] == new_id)
    error = ""
    if request.method == "POST" and "save" in request.POST:
        step, errors = _apply(step, request.POST)
        error = "; ".join(errors) or _save_steps(request, journey, steps)
        if not error:
            messages.success(request, f"Step {new_id} added.")
            return redirect("campaigns:journey_detail", journey_id=journey.pk)
    return _step_form(request, journey, steps, step, error, after=after or "")


@require_POST
@scope_required(READ)
def step_delete(request: HttpRequest, journey_id: int, step_id: str) -> HttpResponse:
    _require_write(request)
    journey = _journey(journey_id)
    try:
        steps = step_remove(journey.steps, step_id)
    except ValueError as problem:
        raise Http404(str(problem)) from None
    error = _save_steps(request, journey, steps)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Step {step_id} removed.")
    return redirect("campaigns:journey_detail", journey_id=journey.pk)
