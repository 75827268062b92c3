"""Column mapping: which column of the file fills which field of the kind.

A mapping is `{column: target}`; a target is a field name of the kind, `IGNORE` ("") to leave
the column out, or `EXTRA` ("+") to keep it as a customer attribute / event property (the
kinds in `EXTRA_TARGETS`). `mapping_resolve` starts from the suggestion and applies what the
person chose, then checks that every required field has a column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from apps.imports.engine.fields import EXTRA_TARGETS, KIND_FIELDS, field_names

IGNORE = ""
EXTRA = "+"
# Columns our own error files add in front of the original values: re-uploading a fixed error
# file must not import them as data.
ERROR_FILE_COLUMNS = ("row_number", "column", "field", "reason", "record")
_IGNORE_SPELLINGS = ("", "-", "ignore", "skip")
_EXTRA_SPELLINGS = ("+", "extra", "attribute", "attributes", "property")


class MappingProblem(ValueError):
    """The mapping cannot be used: names the field (or column) at fault."""

    def __init__(self, message: str, *, field: str = "mapping") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def normalise_column(name: str) -> str:
    """'Email Address' / 'emailAddress' / 'E-Mail' -> 'email_address' / 'e_mail'."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _lookup(kind: str) -> tuple[dict[str, str], dict[str, str]]:
    exact = {spec.name: spec.name for spec in KIND_FIELDS[kind]}
    aliases: dict[str, str] = {}
    for spec in KIND_FIELDS[kind]:
        for alias in spec.aliases:
            aliases.setdefault(normalise_column(alias), spec.name)
    return exact, aliases


def default_target(kind: str) -> str:
    """What an unmatched column becomes: an attribute/property, or nothing."""
    return EXTRA if kind in EXTRA_TARGETS else IGNORE


def suggest_mapping(kind: str, columns: Iterable[str]) -> dict[str, str]:
    """The likely field of each column: exact field names first, then usual other names."""
    exact, aliases = _lookup(kind)
    columns = list(columns)
    mapping = {column: default_target(kind) for column in columns}
    taken: set[str] = set()
    for table in (exact, aliases):
        for column in columns:
            normalised = normalise_column(column)
            if mapping[column] not in (IGNORE, EXTRA):
                continue
            if normalised in ERROR_FILE_COLUMNS:
                mapping[column] = IGNORE
                continue
            target = table.get(normalised)
            if target and target not in taken:
                mapping[column] = target
                taken.add(target)
    return mapping


def _target(kind: str, value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if text.lower() in _IGNORE_SPELLINGS:
        return IGNORE
    if text.lower() in _EXTRA_SPELLINGS and text not in field_names(kind):
        if kind not in EXTRA_TARGETS:
            raise MappingProblem(
                f"mapping: {kind} keep no extra columns; map the column to a field or '-'"
            )
        return EXTRA
    if text not in field_names(kind):
        raise MappingProblem(
            f"mapping: {text!r} is not a field of {kind}; fields: {', '.join(field_names(kind))}"
        )
    return text


def mapping_resolve(
    kind: str, columns: Iterable[str], chosen: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The suggestion with the person's choices applied, checked.

    Raises MappingProblem naming the field: a column that is not in the file, an unknown
    target, two columns for one field, or a required field without a column.
    """
    columns = list(columns)
    mapping = suggest_mapping(kind, columns)
    chosen = dict(chosen or {})
    if not isinstance(chosen, dict):
        raise MappingProblem("mapping: must be an object {column: field}")
    explicit: dict[str, str] = {}
    for column, value in chosen.items():
        if column not in mapping:
            raise MappingProblem(
                f"mapping: column {column!r} is not in the file; its columns are "
                f"{', '.join(columns)}"
            )
        target = _target(kind, value)
        if target not in (IGNORE, EXTRA):
            if target in explicit.values():
                other = next(name for name, field in explicit.items() if field == target)
                raise MappingProblem(
                    f"mapping: columns {other!r} and {column!r} both map to {target}",
                    field=target,
                )
            explicit[column] = target
        mapping[column] = target
    # A field chosen for one column is taken away from the column suggested for it.
    for column, target in list(mapping.items()):
        if column not in explicit and target in explicit.values():
            mapping[column] = default_target(kind)
    missing_required(kind, mapping)
    return mapping


def missing_required(kind: str, mapping: Mapping[str, str]) -> None:
    """Raise naming every required field without a column (the first one as `field`)."""
    mapped = set(mapping.values())
    missing = [spec for spec in KIND_FIELDS[kind] if spec.required and spec.name not in mapped]
    if len(missing) == 1:
        spec = missing[0]
        raise MappingProblem(
            f"missing required column: {spec.name} ({spec.help}) Map a column of the file to it.",
            field=spec.name,
        )
    if missing:
        names = ", ".join(spec.name for spec in missing)
        raise MappingProblem(
            f"missing required columns: {names}. Map a column of the file to each.",
            field=missing[0].name,
        )


@dataclass
class RowMapper:
    """Splits a record into field values and extra values by the mapping.

    JSON records may carry keys the sampled records did not: those get the suggestion for
    that key (when its field is still free), else the kind's default (extra or ignored).
    """

    kind: str
    mapping: dict[str, str]

    def __post_init__(self) -> None:
        self._taken = {target for target in self.mapping.values() if target not in (IGNORE, EXTRA)}
        self.columns_by_field = {
            target: column
            for column, target in self.mapping.items()
            if target not in (IGNORE, EXTRA)
        }

    def _target_of(self, column: str) -> str:
        target = self.mapping.get(column)
        if target is None:
            suggested = suggest_mapping(self.kind, [column])[column]
            if suggested not in (IGNORE, EXTRA) and suggested in self._taken:
                suggested = default_target(self.kind)
            elif suggested not in (IGNORE, EXTRA):
                self._taken.add(suggested)
                self.columns_by_field[suggested] = column
            self.mapping[column] = target = suggested
        return target

    def split(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        fields: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        for column, value in values.items():
            target = self._target_of(column)
            if target == IGNORE:
                continue
            if target == EXTRA:
                extras[column] = value
            else:
                fields[target] = value
        return fields, extras

    def column_for(self, field: str) -> str:
        return self.columns_by_field.get(field, field)
