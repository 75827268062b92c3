"""Merging a group of duplicate customers the quality report found, in one step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from apps.core.errors import ValidationFailed
from apps.customers.services.identity import customer_merge


@transaction.atomic
def duplicate_group_merge(
    *,
    survivor_external_id: str,
    merged_external_ids: Sequence[str],
    actor: Any = None,
    actor_label: str = "",
    reason: str = "manual",
) -> list[Any]:
    """Merge every profile of `merged_external_ids` into the survivor: all or none (a refusal
    of one rolls back the others). Returns the CustomerMerge rows, one per merged profile."""
    merged = [value.strip() for value in merged_external_ids if value and value.strip()]
    merged = [value for value in dict.fromkeys(merged) if value != survivor_external_id.strip()]
    if not merged:
        raise ValidationFailed(
            "merged_external_ids: choose at least one other customer to merge",
            field="merged_external_ids",
        )
    return [
        customer_merge(
            survivor_external_id=survivor_external_id,
            merged_external_id=external_id,
            actor=actor,
            actor_label=actor_label,
            reason=reason,
        )
        for external_id in merged
    ]
