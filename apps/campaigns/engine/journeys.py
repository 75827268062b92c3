"""Journey graphs: what a step may be, checking a journey's steps, and the shipped templates.

A journey's `steps` is a list of objects, the first being the entry:

    {"id": "wait-1h", "type": "wait", "hours": 1, "next": "has-bought"}
    {"id": "has-bought", "type": "condition", "condition": {...segment condition tree...},
     "yes": "exit", "no": "email-1"}
    {"id": "split", "type": "split", "branches": [{"weight": 50, "next": "a"}, ...]}
    {"id": "email-1", "type": "email", "subject": "...", "html_body": "...", "next": "..."}
    {"id": "coupon", "type": "coupon", "program": "spring", "next": "..."}
    {"id": "hook", "type": "webhook", "url": "https://...", "next": "..."}
    {"id": "tag", "type": "update_attribute", "attribute": "vip", "value": true, "next": "..."}
    {"id": "exit", "type": "exit"}

A wait has `hours` (or `days`), optionally `until_hour` (0-23: then the next time the
customer's clock shows that hour). A missing `next` ends the journey (completed). Steps must
form no cycle, so every step runs at most once per enrollment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

STEP_TYPES = (
    "wait",
    "condition",
    "split",
    "email",
    "coupon",
    "webhook",
    "update_attribute",
    "exit",
)
MAX_STEPS = 50


@dataclass(frozen=True)
class GraphProblem:
    path: str  # steps[2].next
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _targets(step: Mapping[str, Any]) -> list[tuple[str, Any]]:
    kind = step.get("type")
    if kind == "condition":
        return [("yes", step.get("yes")), ("no", step.get("no"))]
    if kind == "split":
        branches = step.get("branches") or []
        return [
            (f"branches[{i}].next", branch.get("next") if isinstance(branch, Mapping) else None)
            for i, branch in enumerate(branches)
        ]
    if kind == "exit":
        return []
    return [("next", step.get("next"))]


def graph_problems(steps: Any) -> list[GraphProblem]:
    """Every problem of a journey's steps, by JSON path (empty: the journey can run)."""
    if not isinstance(steps, list) or not steps:
        return [GraphProblem("steps", "give a non-empty list of steps")]
    if len(steps) > MAX_STEPS:
        return [GraphProblem("steps", f"at most {MAX_STEPS} steps")]
    problems: list[GraphProblem] = []
    ids: dict[str, int] = {}
    for index, step in enumerate(steps):
        where = f"steps[{index}]"
        if not isinstance(step, Mapping):
            problems.append(GraphProblem(where, "each step is an object"))
            continue
        step_id = step.get("id")
        if not isinstance(step_id, str) or not step_id.strip():
            problems.append(GraphProblem(f"{where}.id", "required"))
        elif step_id in ids:
            problems.append(GraphProblem(f"{where}.id", f"{step_id!r} is used twice"))
        else:
            ids[step_id] = index
        kind = step.get("type")
        if kind not in STEP_TYPES:
            problems.append(GraphProblem(f"{where}.type", f"one of {', '.join(STEP_TYPES)}"))
            continue
        problems.extend(_config_problems(step, where))
    for index, step in enumerate(steps):
        if not isinstance(step, Mapping) or step.get("type") not in STEP_TYPES:
            continue
        for name, target in _targets(step):
            if target in (None, "") and step.get("type") in ("condition", "split"):
                problems.append(GraphProblem(f"steps[{index}].{name}", "required"))
            elif target not in (None, "") and target not in ids:
                problems.append(
                    GraphProblem(f"steps[{index}].{name}", f"no step with id {target!r}")
                )
    if not problems:
        cycle = _cycle(steps, ids)
        if cycle:
            problems.append(GraphProblem("steps", f"steps loop: {' -> '.join(cycle)}"))
    return problems


def _config_problems(step: Mapping[str, Any], where: str) -> list[GraphProblem]:
    kind = step["type"]
    problems: list[GraphProblem] = []

    def need(name: str, check: Any, message: str) -> None:
        if not check(step.get(name)):
            problems.append(GraphProblem(f"{where}.{name}", message))

    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    if kind == "wait":
        hours, days = step.get("hours"), step.get("days")
        if hours is None and days is None and step.get("until_hour") is None:
            problems.append(GraphProblem(where, "a wait needs hours, days or until_hour"))
        for name in ("hours", "days"):
            if step.get(name) is not None:
                need(name, lambda v: number(v) and v >= 0, "a number of at least 0")
        if step.get("until_hour") is not None:
            need("until_hour", lambda v: isinstance(v, int) and 0 <= v <= 23, "an hour 0-23")
    elif kind == "condition":
        need("condition", lambda v: isinstance(v, Mapping) and v, "a condition tree")
    elif kind == "split":
        branches = step.get("branches")
        if not isinstance(branches, list) or len(branches) < 2:
            problems.append(GraphProblem(f"{where}.branches", "at least two branches"))
        else:
            for i, branch in enumerate(branches):
                weight: Any = branch.get("weight", 1) if isinstance(branch, Mapping) else None
                if not (number(weight) and float(weight) > 0):
                    problems.append(
                        GraphProblem(f"{where}.branches[{i}].weight", "a number above 0")
                    )
    elif kind == "email":
        need("subject", lambda v: isinstance(v, str) and v.strip(), "required")
        need("html_body", lambda v: isinstance(v, str) and v.strip(), "required")
    elif kind == "coupon":
        need("program", lambda v: isinstance(v, str) and v.strip(), "a coupon program key")
    elif kind == "webhook":
        need(
            "url",
            lambda v: isinstance(v, str) and v.startswith(("http://", "https://")),
            "an http(s) address",
        )
    elif kind == "update_attribute":
        need("attribute", lambda v: isinstance(v, str) and v.strip(), "required")
        if "value" not in step:
            problems.append(GraphProblem(f"{where}.value", "required (null clears it)"))
    return problems


def _cycle(steps: Sequence[Mapping[str, Any]], ids: Mapping[str, int]) -> list[str]:
    """A loop of step ids, if any (depth-first search from every step)."""
    state: dict[str, int] = {}  # 1 = on the path, 2 = done
    path: list[str] = []

    def visit(step_id: str) -> list[str]:
        state[step_id] = 1
        path.append(step_id)
        for _, target in _targets(steps[ids[step_id]]):
            if target in (None, ""):
                continue
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[step_id] = 2
        return []

    for step_id in ids:
        if step_id not in state:
            found = visit(step_id)
            if found:
                return found
    return []


def step_map(steps: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(step["id"]): step for step in steps}


# --------------------------------------------------------------------------- templates
_FOOTER = (
    '<p style="color:#64748b;font-size:12px"><a href="{{ unsubscribe_url }}">Unsubscribe</a> · '
    '<a href="{{ preferences_url }}">Preferences</a></p>'
)


def _email(step_id: str, subject: str, body: str, next_id: str | None) -> dict[str, Any]:
    step: dict[str, Any] = {
        "id": step_id,
        "type": "email",
        "subject": subject,
        "html_body": f"<html><body>{body}{_FOOTER}</body></html>",
    }
    if next_id:
        step["next"] = next_id
    return step


_CART = (
    "{% if journey.cart %}<ul>{% for item in journey.cart %}<li>{{ item.title }}</li>"
    "{% endfor %}</ul>{% endif %}"
)
_RECOS = '{% recommendations n=4 placement="email" %}'

TEMPLATES: dict[str, dict[str, Any]] = {
    "welcome": {
        "name": "Welcome series",
        "description": "Three emails over a week to a new customer: hello, best sellers, a first-order code.",
        "trigger": "signup",
        "trigger_config": {},
        "goal_event": "purchase",
        "steps": [
            _email(
                "welcome-1",
                "Welcome, {{ customer.first_name|default:'friend' }}",
                "<p>Glad you are here. Some favourites:</p>" + _RECOS,
                "wait-2d",
            ),
            {"id": "wait-2d", "type": "wait", "days": 2, "until_hour": 10, "next": "welcome-2"},
            _email("welcome-2", "What people love right now", _RECOS, "wait-5d"),
            {"id": "wait-5d", "type": "wait", "days": 5, "until_hour": 10, "next": "welcome-3"},
            _email(
                "welcome-3",
                "A little something for your first order",
                '<p>Your code:</p>{% coupon "welcome" %}',
                None,
            ),
        ],
    },
    "abandoned_cart": {
        "name": "Abandoned cart",
        "description": "A reminder an hour after an add-to-cart without purchase, with the "
        "cart and recommendations; a code a day later. Ends when they buy.",
        "trigger": "event",
        "trigger_config": {"event_type": "add_to_cart"},
        "goal_event": "purchase",
        "reentry_days": 7,
        "steps": [
            {"id": "wait-1h", "type": "wait", "hours": 1, "next": "reminder"},
            _email(
                "reminder",
                "You left something in your cart",
                "<p>Still thinking it over?</p>" + _CART + "<p>You may also like:</p>" + _RECOS,
                "wait-1d",
            ),
            {"id": "wait-1d", "type": "wait", "days": 1, "next": "nudge"},
            _email("nudge", "Your cart, with 10% off", _CART + '{% coupon "cart-10" %}', None),
        ],
    },
    "browse_abandonment": {
        "name": "Browse abandonment",
        "description": "Two hours after a product view without add-to-cart or purchase: the "
        "product and similar ones.",
        "trigger": "event",
        "trigger_config": {"event_type": "product_view"},
        "goal_event": "add_to_cart",
        "reentry_days": 3,
        "steps": [
            {"id": "wait-2h", "type": "wait", "hours": 2, "next": "email"},
            _email(
                "email",
                "Still looking at {{ journey.product.title|default:'this' }}?",
                "<p>{{ journey.product.title }} is waiting for you.</p>" + _RECOS,
                None,
            ),
        ],
    },
    "post_purchase": {
        "name": "Post-purchase cross-sell",
        "description": "Three days after a purchase: what goes well with it.",
        "trigger": "event",
        "trigger_config": {"event_type": "purchase"},
        "goal_event": "",
        "reentry_days": 14,
        "steps": [
            {"id": "wait-3d", "type": "wait", "days": 3, "until_hour": 10, "next": "email"},
            _email("email", "Picked to go with your order", _RECOS, None),
        ],
    },
    "win_back": {
        "name": "Win-back for high churn risk",
        "description": "Daily at 10:00, customers whose churn risk reached 0.6 enter; a split "
        "test between a plain reminder and a code. Ends when they buy.",
        "trigger": "schedule",
        "trigger_config": {
            "hour": 10,
            "condition": {
                "type": "group",
                "operator": "and",
                "conditions": [
                    {"type": "score", "field": "churn_risk", "operator": "gte", "value": 0.6}
                ],
            },
        },
        "goal_event": "purchase",
        "reentry_days": 60,
        "steps": [
            {
                "id": "split",
                "type": "split",
                "branches": [{"weight": 50, "next": "plain"}, {"weight": 50, "next": "with-code"}],
            },
            _email(
                "plain", "We miss you, {{ customer.first_name|default:'friend' }}", _RECOS, None
            ),
            _email("with-code", "Come back for 15% off", '{% coupon "win-back" %}' + _RECOS, None),
        ],
    },
    "birthday": {
        "name": "Birthday coupon",
        "description": "On the customer's birthday: a birthday code.",
        "trigger": "date",
        "trigger_config": {"attribute": "birth_date", "days_before": 0},
        "goal_event": "",
        "reentry_days": 300,
        "steps": [
            _email(
                "email",
                "Happy birthday, {{ customer.first_name|default:'friend' }}!",
                '<p>A gift from us:</p>{% coupon "birthday" %}',
                None,
            ),
        ],
    },
}


# --------------------------------------------------------------------------- editing
STEP_DEFAULTS: dict[str, dict[str, Any]] = {
    "wait": {"days": 1},
    "condition": {
        "condition": {"type": "group", "operator": "and", "conditions": [
            {"type": "score", "field": "purchase_propensity", "operator": "gte", "value": 0.5}]},
    },
    "split": {"branches": [{"weight": 50}, {"weight": 50}]},
    "email": {"subject": "Hello {{ customer.first_name|default:'there' }}",
              "html_body": "<html><body><p>Hi!</p>" + _FOOTER + "</body></html>"},
    "coupon": {"program": ""},
    "webhook": {"url": "https://"},
    "update_attribute": {"attribute": "", "value": True},
    "exit": {},
}  # fmt: skip


def _new_id(steps: Sequence[Mapping[str, Any]], kind: str) -> str:
    taken = {str(step.get("id")) for step in steps}
    number = 1
    while f"{kind}-{number}" in taken:
        number += 1
    return f"{kind}-{number}"


def step_insert_after(
    steps: Sequence[Mapping[str, Any]], after: str | None, kind: str
) -> tuple[list[dict[str, Any]], str]:
    """A copy of `steps` with a new step of `kind` (its defaults) after step `after` (None:
    first): what pointed on from there now goes through it. Returns (steps, the new id)."""
    if kind not in STEP_DEFAULTS:
        raise ValueError(f"type: one of {', '.join(STEP_TYPES)}")
    result = [dict(step) for step in steps]
    new: dict[str, Any] = {"id": _new_id(result, kind), "type": kind, **STEP_DEFAULTS[kind]}
    new = json_copy(new)
    if after is None:
        following = str(result[0]["id"]) if result else None
        position = 0
    else:
        index = next((i for i, s in enumerate(result) if s.get("id") == after), None)
        if index is None:
            raise ValueError(f"after: no step with id {after!r}")
        previous = result[index]
        following = (
            previous.get("next")
            if previous.get("type") not in ("condition", "split", "exit")
            else None
        )
        if previous.get("type") not in ("condition", "split", "exit"):
            previous["next"] = new["id"]
        position = index + 1
    if following and kind not in ("exit",):
        if kind == "condition":
            new["yes"] = new["no"] = following
        elif kind == "split":
            new["branches"] = [{**branch, "next": following} for branch in new["branches"]]
        else:
            new["next"] = following
    elif kind in ("condition", "split"):
        end = {"id": _new_id(result + [new], "exit"), "type": "exit"}
        if kind == "condition":
            new["yes"] = new["no"] = end["id"]
        else:
            new["branches"] = [{**branch, "next": end["id"]} for branch in new["branches"]]
        result.insert(position, new)
        result.insert(position + 1, end)
        return result, str(new["id"])
    result.insert(position, new)
    return result, str(new["id"])


def step_remove(steps: Sequence[Mapping[str, Any]], step_id: str) -> list[dict[str, Any]]:
    """A copy of `steps` without `step_id`; what pointed to it now points where it led (a
    condition's yes, a split's first branch)."""
    result = [json_copy(dict(step)) for step in steps]
    index = next((i for i, s in enumerate(result) if s.get("id") == step_id), None)
    if index is None:
        raise ValueError(f"no step with id {step_id!r}")
    removed = result.pop(index)
    targets = [target for _, target in _targets(removed) if target]
    onward = targets[0] if targets else None
    for step in result:
        for key in ("next", "yes", "no"):
            if step.get(key) == step_id:
                if onward:
                    step[key] = onward
                else:
                    step.pop(key, None)
        for branch in step.get("branches") or []:
            if isinstance(branch, dict) and branch.get("next") == step_id:
                if onward:
                    branch["next"] = onward
                else:
                    branch.pop("next", None)
    if index == 0 and onward:  # the entry moves to where the removed first step led
        position = next(i for i, s in enumerate(result) if s.get("id") == onward)
        result.insert(0, result.pop(position))
    return result


def json_copy(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value))
