"""Duplicate customers: groups linked by a shared normalised email or phone number.

A group is an *exact* duplicate when its profiles share the normalised email and no identity
field disagrees (a field empty in one profile does not disagree). Those are safe to merge
automatically: nothing that tells two people apart differs. Every other group (linked by a
phone alone, which families and companies share, or with a disagreeing name, birth date,
gender or country) is a *normalised-key* duplicate: reported and offered for a merge by hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from apps.quality.engine.changes import is_missing, plain
from apps.quality.engine.normalise import (
    E164_PATTERN,
    country_iso2,
    email_normalise,
    name_key,
    phone_e164,
)

# Fields compared inside a group; names compare case-insensitively.
IDENTITY_FIELDS = ("email", "phone", "first_name", "last_name", "birth_date", "gender", "country")
NAME_FIELDS = {"first_name", "last_name"}


@dataclass(frozen=True)
class DuplicateGroup:
    """Customer ids of one group, the suggested survivor first (earliest sign-up, then lowest
    id), what links them, which identity fields disagree, and whether it may merge on its own."""

    ids: list[int]
    labels: list[str]
    keys: dict[str, list[str]]
    conflicts: list[str]
    exact: bool

    def as_dict(self) -> dict:
        return {
            "ids": self.ids,
            "external_ids": self.labels,
            "keys": self.keys,
            "conflicts": self.conflicts,
            "exact": self.exact,
        }


@dataclass(frozen=True)
class DuplicateFindings:
    groups: list[DuplicateGroup] = field(default_factory=list)

    @property
    def exact(self) -> list[DuplicateGroup]:
        return [group for group in self.groups if group.exact]

    @property
    def normalised(self) -> list[DuplicateGroup]:
        return [group for group in self.groups if not group.exact]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, first: int, second: int) -> None:
        self.parent[self.find(second)] = self.find(first)


def _comparable(field_name: str, value: object) -> object:
    if is_missing(value):
        return None
    if field_name in NAME_FIELDS:
        return name_key(str(value))
    if isinstance(value, str):
        return value.strip().casefold()
    return value


def _by_signup(sort_key: dict[int, tuple]) -> Callable[[int], tuple]:
    """Earliest sign-up first (unknown sign-ups last), then the lowest id."""

    def key(row_id: int) -> tuple:
        unknown, signup, identifier = sort_key[row_id]
        return (unknown, 0 if unknown else signup.timestamp(), identifier)

    return key


def customer_duplicates(frame: pd.DataFrame, *, label: str = "external_id") -> DuplicateFindings:
    """Groups of customers sharing a normalised email or phone. `frame` is indexed by id with
    the identity fields already normalised, plus `signup_at` and `label`."""
    links = _UnionFind()
    shared: dict[str, dict[str, list[int]]] = {"email": {}, "phone": {}}
    keys_of: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for key_field in ("email", "phone"):
        values = frame[key_field]
        present = values[~values.map(is_missing).astype(bool)]
        repeated = present[present.duplicated(keep=False)]
        for value, rows in repeated.groupby(repeated, sort=False):
            ids = [int(row_id) for row_id in rows.index]
            shared[key_field][str(value)] = ids
            for row_id in ids:
                keys_of[row_id].add((key_field, str(value)))
            for other in ids[1:]:
                links.union(ids[0], other)
    members: dict[int, list[int]] = defaultdict(list)
    for row_id in links.parent:
        members[links.find(row_id)].append(row_id)

    # Plain dicts, not per-group pandas lookups: a big shop has thousands of groups.
    linked = list(links.parent)
    signups = frame["signup_at"].reindex(linked).tolist()
    sort_key = {
        row_id: (signup is None or signup is pd.NaT, signup if signup is not None else 0, row_id)
        for row_id, signup in zip(linked, signups, strict=True)
    }
    columns = {
        name: dict(zip(linked, frame[name].reindex(linked).tolist(), strict=True))
        for name in (*IDENTITY_FIELDS, label)
    }
    groups = []
    for ids in members.values():
        ordered = sorted(ids, key=_by_signup(sort_key))
        member_set = set(ordered)
        group_keys = set().union(*(keys_of[row_id] for row_id in ordered))
        keys = {
            key_field: sorted(value for name, value in group_keys if name == key_field)
            for key_field in ("email", "phone")
        }
        conflicts = []
        for field_name in IDENTITY_FIELDS:
            distinct = {
                _comparable(field_name, columns[field_name][row_id]) for row_id in ordered
            } - {None}
            if len(distinct) > 1:
                conflicts.append(field_name)
        # One email links every member (a chain email-phone-email is not enough).
        shares_email = any(set(shared["email"][value]) >= member_set for value in keys["email"])
        groups.append(
            DuplicateGroup(
                ids=[int(row_id) for row_id in ordered],
                labels=[str(plain(columns[label][row_id])) for row_id in ordered],
                keys={name: values for name, values in keys.items() if values},
                conflicts=conflicts,
                exact=shares_email and not conflicts,
            )
        )
    groups.sort(key=lambda group: (not group.exact, -len(group.ids), group.ids[0]))
    return DuplicateFindings(groups=groups)


def customer_duplicates_as_cleaned(
    frame: pd.DataFrame, *, label: str = "external_id"
) -> DuplicateFindings:
    """Duplicate groups as the pipeline would find them, on raw rows: emails, countries and
    phones are normalised in a copy first (the quality report uses this; it never writes)."""
    work = frame[[*IDENTITY_FIELDS, "signup_at", label]].copy()
    work["email"] = work["email"].map(
        lambda value: email_normalise(value) if isinstance(value, str) else value
    )
    work["country"] = work["country"].map(
        lambda value: (country_iso2(value) or value) if isinstance(value, str) else value
    )
    work["phone"] = [
        phone
        if not isinstance(phone, str) or not phone or E164_PATTERN.match(phone)
        else phone_e164(phone, country if isinstance(country, str) else "").value
        for phone, country in zip(work["phone"], work["country"], strict=True)
    ]
    return customer_duplicates(work, label=label)
