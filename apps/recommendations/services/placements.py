"""Writes of placements: create, update, delete, each checked field by field.

Rules are checked against the catalogue when saved (pinned and boosted SKUs exist, category
slugs exist, boosts are numbers between -1 and 1), so a typo is refused with the field named
instead of silently doing nothing at serving time.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from apps.catalog.selectors import category_list, product_ids_by_sku
from apps.core.errors import Conflict, ValidationFailed
from apps.recommendations.models import Placement

EDITABLE_FIELDS = (
    "key",
    "name",
    "description",
    "default_count",
    "diversity",
    "exclude_purchased_days",
    "exclude_out_of_stock",
    "include_categories",
    "exclude_categories",
    "pinned_skus",
    "boosts",
    "category_boosts",
    "is_active",
)
MAX_RULE_ENTRIES = 500


def _string_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValidationFailed(f"{name}: must be a list", field=name)
    if len(value) > MAX_RULE_ENTRIES:
        raise ValidationFailed(f"{name}: at most {MAX_RULE_ENTRIES} entries", field=name)
    cleaned: list[str] = []
    for position, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ValidationFailed(f"{name}[{position}]: must be a non-empty string", field=name)
        if item.strip() not in cleaned:
            cleaned.append(item.strip())
    return cleaned


def _amounts(value: Any, name: str) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed(f"{name}: must be an object of key -> number", field=name)
    if len(value) > MAX_RULE_ENTRIES:
        raise ValidationFailed(f"{name}: at most {MAX_RULE_ENTRIES} entries", field=name)
    cleaned: dict[str, float] = {}
    for key, amount in value.items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise ValidationFailed(f"{name}.{key}: must be a number", field=name)
        if not math.isfinite(amount) or not -1.0 <= float(amount) <= 1.0:
            raise ValidationFailed(f"{name}.{key}: must be between -1 and 1", field=name)
        cleaned[str(key).strip()] = float(amount)
    return cleaned


def _check_skus(skus: list[str], name: str) -> None:
    known = product_ids_by_sku(skus=skus)
    for position, sku in enumerate(skus):
        if sku not in known:
            raise ValidationFailed(f"{name}[{position}]: no product with SKU {sku!r}", field=name)


def _check_categories(slugs: list[str], name: str) -> None:
    known = set(category_list().filter(slug__in=slugs).values_list("slug", flat=True))
    for position, slug in enumerate(slugs):
        if slug not in known:
            raise ValidationFailed(
                f"{name}[{position}]: no category with slug {slug!r}", field=name
            )


def _clean_rules(changes: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(changes)
    for name in ("include_categories", "exclude_categories"):
        if name in changes:
            cleaned[name] = _string_list(changes[name], name)
            _check_categories(cleaned[name], name)
    if "pinned_skus" in changes:
        cleaned["pinned_skus"] = _string_list(changes["pinned_skus"], "pinned_skus")
        _check_skus(cleaned["pinned_skus"], "pinned_skus")
    if "boosts" in changes:
        cleaned["boosts"] = _amounts(changes["boosts"], "boosts")
        skus = list(cleaned["boosts"])
        known = product_ids_by_sku(skus=skus)
        for sku in skus:
            if sku not in known:
                raise ValidationFailed(f"boosts.{sku}: no product with this SKU", field="boosts")
    if "category_boosts" in changes:
        cleaned["category_boosts"] = _amounts(changes["category_boosts"], "category_boosts")
        slugs = list(cleaned["category_boosts"])
        known_slugs = set(category_list().filter(slug__in=slugs).values_list("slug", flat=True))
        for slug in slugs:
            if slug not in known_slugs:
                raise ValidationFailed(
                    f"category_boosts.{slug}: no category with this slug", field="category_boosts"
                )
    return cleaned


def _save(placement: Placement, *, creating: bool) -> Placement:
    try:
        placement.full_clean(validate_unique=False)
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from None
    try:
        with transaction.atomic():
            placement.save(force_insert=creating)
    except IntegrityError:
        raise Conflict(f"key: a placement with key {placement.key!r} exists", field="key") from None
    return placement


@transaction.atomic
def placement_create(**fields: Any) -> Placement:
    """Create a placement from the editable fields (key and name required).

    Why: merchandisers add a new surface (a new email, a new page slot) without a deploy.
    """
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]}: not a placement field", field=unknown[0])
    placement = Placement(**_clean_rules(fields))
    return _save(placement, creating=True)


@transaction.atomic
def placement_update(*, placement: Placement, changes: dict[str, Any]) -> Placement:
    """Change the given fields of a placement; fields left out keep their value."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]}: not a placement field", field=unknown[0])
    for name, value in _clean_rules(changes).items():
        setattr(placement, name, value)
    return _save(placement, creating=False)


@transaction.atomic
def placement_delete(*, placement: Placement) -> None:
    """Delete a placement. Requests naming it are refused from now on; its served-request
    log stays (the log keeps the key as text)."""
    placement.delete()
