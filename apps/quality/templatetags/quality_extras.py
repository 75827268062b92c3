"""Template filters of the Quality page: ISO times from report JSON, rule labels, examples."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.dateparse import parse_datetime

from apps.quality.choices import ChangeAction, CleaningRule

register = template.Library()

STATUS_BADGES = {
    "queued": "badge-soft",
    "running": "badge-soft badge-info",
    "succeeded": "badge-soft badge-success",
    "failed": "badge-soft badge-danger",
}
ACTION_BADGES = {
    ChangeAction.UPDATED: "badge-soft badge-accent",
    ChangeAction.IMPUTED: "badge-soft badge-warning",
    ChangeAction.FLAGGED: "badge-soft badge-danger",
    ChangeAction.MERGED: "badge-soft badge-success",
    ChangeAction.REPORTED: "badge-soft",
}


@register.filter
def iso_time(value: Any) -> datetime | None:
    """A time stored as ISO text in report JSON, as a datetime for |timesince and |date."""
    if isinstance(value, datetime):
        return value
    return parse_datetime(value) if isinstance(value, str) and value else None


@register.filter
def rule_label(value: str) -> str:
    try:
        return str(CleaningRule(value).label)
    except ValueError:
        return value


@register.filter
def status_badge(value: str) -> str:
    return STATUS_BADGES.get(value, "badge-soft")


@register.filter
def action_badge(value: str) -> str:
    return ACTION_BADGES.get(value, "badge-soft")


@register.filter
def example_text(example: Any) -> str:
    """One recorded example in a line: `id: before -> after`, or the ids of a group."""
    if not isinstance(example, dict):
        return str(example)
    if "ids" in example:
        return " = ".join(str(item) for item in example["ids"])
    if "before" in example or "after" in example:
        before, after = example.get("before"), example.get("after")
        if isinstance(before, list):
            before = " + ".join(str(item) for item in before)
        return f"{example.get('id', '')}: {_show(before)} \u2192 {_show(after)}"
    details = ", ".join(f"{key} {value}" for key, value in example.items() if key != "id")
    return f"{example.get('id', '')}: {details}"


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    return repr(value) if isinstance(value, str) and value != value.strip() else str(value)


@register.filter
def words(value: str) -> str:
    """snake_case as words: amount_outlier -> amount outlier."""
    return str(value).replace("_", " ").strip()


def _moved_counts(moved: Any) -> dict[str, int]:
    if not isinstance(moved, dict):
        return {}
    return {kind: len(ids) for kind, ids in moved.items() if isinstance(ids, list)}


@register.filter
def moved_total(moved: Any) -> int:
    """Rows a merge moved, all kinds together."""
    return sum(_moved_counts(moved).values())


@register.filter
def moved_summary(moved: Any) -> str:
    return ", ".join(f"{count} {words(kind)}" for kind, count in _moved_counts(moved).items())


@register.filter
def rows_changed(totals: Any) -> int:
    """Rows a run changed, all entities together."""
    if not isinstance(totals, dict):
        return 0
    return sum(
        int(entity.get("rows_changed", 0)) for entity in totals.values() if isinstance(entity, dict)
    )


LATEST_LABELS = {
    "last_created_at": "Last added",
    "last_updated_at": "Last changed",
    "last_signup_at": "Last sign-up",
    "last_placed_at": "Last order placed",
    "last_reviewed_at": "Last review written",
    "last_posted_at": "Last post published",
}


@register.filter
def latest_label(name: str) -> str:
    """Label of a `latest` time of a report (last_signup_at -> Last sign-up)."""
    return LATEST_LABELS.get(name, words(name).capitalize())
