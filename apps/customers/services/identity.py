"""Identity resolution: find the profiles of one person, merge them, split them back.

`customer_merge` moves everything of the merged profile (orders, events, reviews, social
posts, consent decisions, aliases) to the survivor, fills the survivor's empty fields from
it, makes its external id an alias of the survivor (so API calls with the old id still find
the person) and deletes the merged row. The CustomerMerge row keeps a snapshot of every
field (its primary key too) and the ids of every moved row, so `customer_split` puts back
exactly what was there: same id, same fields, same rows.

Reads used by the interfaces (matches, merge history) live here with the writes they serve.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import phonenumbers
from django.db import transaction
from django.db.models import Field, Q, QuerySet
from django.utils import timezone

from apps.accounts.services import audit_log_record
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.customers.models import Consent, Customer, CustomerAlias, CustomerMerge, MergeStatus
from apps.customers.services.freshness import customers_touch
from apps.customers.services.profiles import PERSON_FIELDS
from apps.events.services.identity import (
    EVENTS_TIME_RANGE,
    customer_history_move,
    customer_history_restore,
)

# Survivor fields a merge fills from the merged profile when empty (or only imputed).
FILLABLE_FIELDS = (*PERSON_FIELDS, "acquisition_channel", "age_band")
AUDIT_MERGED = "customers.merged"
AUDIT_SPLIT = "customers.split"
# Rows of these relations move with the merge; any other relation left pointing at the
# merged profile would be lost with it, so the merge refuses instead.
MOVED_RELATIONS = {"aliases", "consents", "orders", "events", "reviews", "social_posts"}
# Derived from the moved rows and recomputed for the survivor (customers_touch): scores and
# segment membership go with the merged profile instead of blocking the merge.
DERIVED_RELATIONS = {"scores", "segment_memberships", "segment_history"}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _label(actor: Any, actor_label: str) -> str:
    if actor_label:
        return actor_label[:200]
    return "" if actor is None or _user(actor) else str(actor)[:200]


def _jsonable(value: Any) -> Any:
    """Dates and times as full ISO strings (DjangoJSONEncoder would cut microseconds)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _snapshot(customer: Customer) -> dict[str, Any]:
    return {
        field.attname: _jsonable(getattr(customer, field.attname))
        for field in Customer._meta.concrete_fields
    }


def _model_field(name: str) -> Field:
    field = Customer._meta.get_field(name)
    assert isinstance(field, Field)  # noqa: S101 - profile fields are concrete
    return field


def _fill_survivor(survivor: Customer, merged: Customer) -> dict[str, dict[str, Any]]:
    """Fill the survivor's empty (or imputed) fields from the merged profile; returns
    {field: {before, after}} of what changed."""
    changes: dict[str, dict[str, Any]] = {}
    survivor_markers = dict(survivor.imputed_values or {})
    merged_markers = dict(merged.imputed_values or {})
    for name in FILLABLE_FIELDS:
        mine, theirs = getattr(survivor, name), getattr(merged, name)
        if _empty(theirs):
            continue
        survivor_imputed = name in survivor_markers and name not in merged_markers
        if not _empty(mine) and not survivor_imputed:
            continue
        changes[name] = {"before": _jsonable(mine), "after": _jsonable(theirs)}
        setattr(survivor, name, theirs)
        survivor_markers.pop(name, None)
        if name in merged_markers:
            survivor_markers[name] = merged_markers[name]
    if merged.signup_at and (survivor.signup_at is None or merged.signup_at < survivor.signup_at):
        changes["signup_at"] = {
            "before": _jsonable(survivor.signup_at),
            "after": _jsonable(merged.signup_at),
        }
        survivor.signup_at = merged.signup_at
    attributes = {**(merged.attributes or {}), **(survivor.attributes or {})}
    if attributes != (survivor.attributes or {}):
        changes["attributes"] = {"before": survivor.attributes, "after": attributes}
        survivor.attributes = attributes
    if survivor_markers != (survivor.imputed_values or {}):
        changes["imputed_values"] = {"before": survivor.imputed_values, "after": survivor_markers}
        survivor.imputed_values = survivor_markers
    return changes


def _remaining_relations(customer: Customer) -> list[str]:
    """Relations (outside those a merge moves) that still hold rows of `customer`."""
    left = []
    for relation in Customer._meta.related_objects:
        name = relation.get_accessor_name() or relation.name
        if name in MOVED_RELATIONS | DERIVED_RELATIONS or relation.related_model is CustomerMerge:
            continue
        manager = relation.related_model._default_manager
        if manager.filter(**{relation.field.name: customer}).exists():
            left.append(relation.related_model._meta.label)
    return left


def _locked_pair(survivor_external_id: str, merged_external_id: str) -> tuple[Customer, Customer]:
    survivor_external_id = survivor_external_id.strip()
    merged_external_id = merged_external_id.strip()
    if not survivor_external_id:
        raise ValidationFailed("survivor_external_id: is required", field="survivor_external_id")
    if not merged_external_id:
        raise ValidationFailed("merged_external_id: is required", field="merged_external_id")
    if survivor_external_id == merged_external_id:
        raise ValidationFailed(
            "merged_external_id: a customer cannot be merged into itself",
            field="merged_external_id",
        )
    rows = {
        customer.external_id: customer
        for customer in Customer.objects.select_for_update()
        .filter(external_id__in=[survivor_external_id, merged_external_id])
        .order_by("pk")
    }
    for external_id, field in (
        (survivor_external_id, "survivor_external_id"),
        (merged_external_id, "merged_external_id"),
    ):
        if external_id not in rows:
            raise NotFound(
                f"{field}: customer {external_id!r} does not exist",
                code="customer_not_found",
                field=field,
            )
    return rows[survivor_external_id], rows[merged_external_id]


@transaction.atomic
def customer_merge(
    *,
    survivor_external_id: str,
    merged_external_id: str,
    actor: Any = None,
    actor_label: str = "",
    reason: str = "manual",
) -> CustomerMerge:
    """Merge one profile into another, keeping everything needed to split them again.

    Refuses (409) when another app holds rows of the merged profile that a merge does not
    move: deleting it would lose them.
    """
    survivor, merged = _locked_pair(survivor_external_id, merged_external_id)
    # The merged id becomes an alias of the survivor; it may be one already (a profile
    # re-created under a merged id and merged again), but never another customer's.
    existing_alias = CustomerAlias.objects.filter(alias=merged.external_id).first()
    if existing_alias is not None and existing_alias.customer_id != survivor.pk:
        raise Conflict(
            f"merged_external_id: {merged.external_id!r} is already an alias of another customer",
            code="alias_taken",
            field="merged_external_id",
        )
    snapshot = _snapshot(merged)
    aliases = list(merged.aliases.order_by("pk").values_list("pk", flat=True))
    consents = list(merged.consents.order_by("pk").values_list("pk", flat=True))
    moved = customer_history_move(from_customer_id=merged.pk, to_customer_id=survivor.pk)
    CustomerAlias.objects.filter(pk__in=aliases).update(
        customer=survivor, updated_at=timezone.now()
    )
    Consent.objects.filter(pk__in=consents).update(customer=survivor)
    moved |= {"aliases": aliases, "consents": consents}
    left = _remaining_relations(merged)
    if left:
        raise Conflict(
            f"merged_external_id: {merged.external_id!r} still has rows in {', '.join(left)} "
            "that a merge does not move; merging would lose them",
            code="merge_would_lose_rows",
            field="merged_external_id",
        )
    survivor_changes = _fill_survivor(survivor, merged)
    merged_pk = merged.pk
    merged.delete()
    survivor.save()
    alias = existing_alias or CustomerAlias.objects.create(
        customer=survivor, alias=merged.external_id, kind="external"
    )
    # Only an alias this merge created goes again on a split.
    moved["external_alias"] = None if existing_alias else alias.pk
    merge = CustomerMerge.objects.create(
        survivor=survivor,
        survivor_external_id=survivor.external_id,
        merged_external_id=merged.external_id,
        merged_customer_id=merged_pk,
        snapshot=snapshot,
        survivor_before=survivor_changes,
        moved=moved,
        reason=reason[:64],
        merged_by=_user(actor),
        merged_label=_label(actor, actor_label),
    )
    audit_log_record(
        action=AUDIT_MERGED,
        target=f"customer {merged.external_id} -> {survivor.external_id}",
        actor=actor,
        actor_label=actor_label,
        data={"merge_id": merge.pk, "reason": reason, "moved": _counts(moved)},
    )
    # The survivor now has the merged profile's orders and events: its segments may change.
    # (and results kept for the merged external id, now an alias, are stale)
    customers_touch(customer_ids=[survivor.pk], anonymous_ids=[merged.external_id])
    return merge


def _counts(moved: dict[str, Any]) -> dict[str, int]:
    return {
        kind: len(ids)
        for kind, ids in moved.items()
        if isinstance(ids, list) and kind != EVENTS_TIME_RANGE
    }


def _restored_customer(merge: CustomerMerge) -> Customer:
    values = {}
    for field in Customer._meta.concrete_fields:
        if field.attname in merge.snapshot:
            values[field.attname] = field.to_python(merge.snapshot[field.attname])
    customer = Customer(**values)
    customer.save(force_insert=True)
    # auto_now_add/auto_now set both stamps on insert: give back the recorded ones.
    Customer.objects.filter(pk=customer.pk).update(
        created_at=values["created_at"], updated_at=values["updated_at"]
    )
    return customer


def _restore_survivor(survivor: Customer, changes: dict[str, dict[str, Any]]) -> list[str]:
    """Undo the fields the merge filled, unless they changed since; returns those kept."""
    kept = []
    for name, change in changes.items():
        field = _model_field(name)
        after = field.to_python(change["after"])
        if getattr(survivor, name) != after:
            kept.append(name)
            continue
        setattr(survivor, name, field.to_python(change["before"]))
    survivor.save()
    return kept


@transaction.atomic
def customer_split(*, merge_id: int, actor: Any = None, actor_label: str = "") -> CustomerMerge:
    """Undo a merge: recreate the merged profile with its id and fields, move its recorded
    rows back, remove its alias and restore the survivor's filled-in fields.

    Rows that arrived after the merge stay with the survivor; survivor fields edited since
    the merge keep their new value (both listed in the audit row).
    """
    merge = CustomerMerge.objects.select_for_update().filter(pk=merge_id).first()
    if merge is None:
        raise NotFound(f"merge {merge_id} does not exist", code="merge_not_found")
    if merge.status != MergeStatus.MERGED:
        raise Conflict(f"merge {merge_id} was already split back", code="merge_already_split")
    if merge.survivor_id is None:
        later = (
            CustomerMerge.objects.filter(
                merged_external_id=merge.survivor_external_id, status=MergeStatus.MERGED
            )
            .order_by("-pk")
            .first()
        )
        hint = f"; split merge {later.pk} first" if later else ""
        raise Conflict(
            f"merge {merge_id}: survivor {merge.survivor_external_id!r} was itself merged "
            f"away{hint}",
            code="survivor_merged_away",
        )
    if Customer.objects.filter(
        Q(external_id=merge.merged_external_id) | Q(pk=merge.merged_customer_id)
    ).exists():
        raise Conflict(
            f"merge {merge_id}: a customer {merge.merged_external_id!r} exists again; "
            "merge it into the survivor first or rename it",
            code="merged_id_taken",
        )
    survivor = Customer.objects.select_for_update().get(pk=merge.survivor_id)
    if merge.moved.get("external_alias"):
        CustomerAlias.objects.filter(pk=merge.moved["external_alias"], customer=survivor).delete()
    restored = _restored_customer(merge)
    moved = merge.moved
    back = customer_history_restore(
        moved=moved, from_customer_id=survivor.pk, to_customer_id=restored.pk
    )
    back["aliases"] = CustomerAlias.objects.filter(
        pk__in=moved.get("aliases", []), customer=survivor
    ).update(customer=restored, updated_at=timezone.now())
    back["consents"] = Consent.objects.filter(
        pk__in=moved.get("consents", []), customer=survivor
    ).update(customer=restored)
    kept = _restore_survivor(survivor, merge.survivor_before)
    # Merges into the restored profile (made before it was merged away) find it again.
    CustomerMerge.objects.filter(
        survivor=None, survivor_external_id=restored.external_id, status=MergeStatus.MERGED
    ).update(survivor=restored)
    merge.status = MergeStatus.SPLIT
    merge.split_at = timezone.now()
    merge.split_by = _user(actor)
    merge.split_label = _label(actor, actor_label)
    merge.save(update_fields=["status", "split_at", "split_by", "split_label", "updated_at"])
    audit_log_record(
        action=AUDIT_SPLIT,
        target=f"customer {merge.merged_external_id} <- {merge.survivor_external_id}",
        actor=actor,
        actor_label=actor_label,
        data={
            "merge_id": merge.pk,
            "restored": back,
            "recorded": _counts(moved),
            "survivor_fields_kept": kept,
        },
    )
    customers_touch(
        customer_ids=[survivor.pk, restored.pk], anonymous_ids=[merge.merged_external_id]
    )
    return merge


def _normalised_phone(phone: str) -> str:
    try:
        number = phonenumbers.parse(phone.strip(), None)
    except phonenumbers.NumberParseException:
        return phone.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def customer_identity_match(
    *, email: str = "", phone: str = "", external_ids: Iterable[str] = ()
) -> list[Customer]:
    """Customers that are the same person by normalised email, E.164 phone (international
    format, +...) or one of the external ids (theirs or an alias), earliest sign-up first."""
    condition = Q(pk__in=[])
    email = email.strip().lower()
    if email:
        condition |= Q(email__iexact=email)
    if phone.strip():
        condition |= Q(phone=_normalised_phone(phone))
    ids = [value.strip() for value in external_ids if value and value.strip()]
    if ids:
        condition |= Q(external_id__in=ids) | Q(aliases__alias__in=ids)
    return list(Customer.objects.filter(condition).distinct().order_by("signup_at", "pk"))


def customer_merge_list(*, status: str = "") -> QuerySet[CustomerMerge]:
    """Merges, newest first; `status` merged or split."""
    queryset = CustomerMerge.objects.select_related("survivor", "merged_by", "split_by")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-pk")


def customer_merge_get(*, merge_id: int) -> CustomerMerge:
    """One merge by id; 404 when there is none."""
    merge = CustomerMerge.objects.select_related("survivor").filter(pk=merge_id).first()
    if merge is None:
        raise NotFound(f"merge {merge_id} does not exist", code="merge_not_found")
    return merge


def customer_lookup_by_external_ids(*, external_ids: Iterable[str]) -> dict[str, int]:
    """external_id -> id for the given external ids that exist (one query)."""
    wanted = {value for value in external_ids if value}
    return dict(Customer.objects.filter(external_id__in=wanted).values_list("external_id", "pk"))
