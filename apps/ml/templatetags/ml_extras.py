"""Small display helpers of the Models pages."""

from __future__ import annotations

from typing import Any

from django import template

from apps.ml.choices import RunStatus

register = template.Library()

_STATUS_CLASSES = {
    RunStatus.QUEUED: "text-bg-secondary",
    RunStatus.RUNNING: "text-bg-primary",
    RunStatus.SUCCEEDED: "text-bg-success",
    RunStatus.FAILED: "text-bg-danger",
    RunStatus.NOT_ENOUGH_DATA: "text-bg-warning",
    RunStatus.LOST: "text-bg-dark",
}


@register.filter
def run_status_class(status: str) -> str:
    """Bootstrap badge class of a run status."""
    return _STATUS_CLASSES.get(status, "text-bg-light")


@register.filter
def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


@register.filter
def metric(value: Any) -> str:
    """Floats to 4 significant digits; everything else as is; None as an em dash."""
    if value is None:
        return "\u2014"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


# Names of quality metrics, shown first wherever only a few metrics fit (JSONB keeps no order).
_QUALITY_WORDS = (
    "auc",
    "accuracy",
    "ndcg",
    "precision",
    "recall",
    "hit_rate",
    "map",
    "f1",
    "rmse",
    "mae",
    "mape",
    "loss",
    "likelihood",
)


@register.filter
def key_metrics(metrics: dict[str, Any], count: int = 3) -> list[tuple[str, Any]]:
    """Up to `count` metrics: quality (AUC, hit rate, loss ...), baselines, counts, then text."""
    if not isinstance(metrics, dict):
        return []

    def rank(item: tuple[str, Any]) -> tuple[int, int, str]:
        name, value = item[0].lower(), item[1]
        quality = next(
            (i for i, word in enumerate(_QUALITY_WORDS) if word in name), len(_QUALITY_WORDS)
        )
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            group = 3
        elif quality == len(_QUALITY_WORDS):
            group = 2
        else:
            group = 1 if "random" in name or "baseline" in name else 0
        return (group, quality, name)

    return sorted(metrics.items(), key=rank)[: int(count)]
