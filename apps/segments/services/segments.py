"""Segments: create, update, delete, refresh (full and incremental), static lists, touches.

A dynamic segment's members are recomputed by ONE query compiled from its definition
(services.compiler), then diffed against the stored membership: customers who entered or
left are written as SegmentMembershipEvent rows (what journeys trigger on) and the day's
SegmentSize is updated. On PostgreSQL the query and the diff are one statement and every
write a second one (data-modifying CTEs); elsewhere (SQLite) the diff runs on sets of ids.

Freshness: `segments_touch` is called after each ingest or import batch with the customers
it touched; a debounced task re-checks only those customers (incremental refresh), and a
scheduled full refresh (`segments.refresh_segments_task`) catches what time alone changes
("in the last 30 days" windows slide without any new event).

Membership of another segment reads that segment's stored members, so segments refresh in
dependency order and a refresh cascades to the segments that refer to the refreshed one.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from apps.accounts.services import audit_log_record
from apps.core.errors import Conflict, ValidationFailed
from apps.customers.selectors import customer_ids_by_alias, customer_list
from apps.segments.engine.definition import (
    DefinitionError,
    Group,
    PathError,
    dependency_order,
    find_cycle,
    parse_definition,
    referenced_segment_ids,
    segment_references,
)
from apps.segments.models import (
    MembershipChange,
    Segment,
    SegmentKind,
    SegmentMembership,
    SegmentMembershipEvent,
    SegmentSize,
    SegmentStatus,
    SegmentTouchedCustomer,
)
from apps.segments.services.compiler import CompileContext, members_queryset, vocabulary

logger = logging.getLogger(__name__)

RESERVED_NAMES = {"all"}  # `campaign send --segment all` means every customer
WRITE_BATCH = 5000
ID_CHUNK = 10_000
INCREMENTAL_CHUNK = 5000
REPORT_UNKNOWN_MAX = 1000
CSV_MAX_BYTES = 50 * 2**20
CSV_ID_COLUMNS = ("external_id", "customer_id", "customer", "id", "customer external id")
# Batches of one import arrive seconds apart: one incremental refresh a little later covers
# all of them; the pending mark outlives the countdown so a busy queue does not pile up runs.
TOUCH_DEBOUNCE_SECONDS = 30
TOUCH_PENDING_TTL_SECONDS = TOUCH_DEBOUNCE_SECONDS + 600
TOUCH_PENDING_KEY = "segments:touched:pending"
AUDIT_CREATED = "segments.created"
AUDIT_UPDATED = "segments.updated"
AUDIT_DELETED = "segments.deleted"


class DefinitionInvalid(ValidationFailed):
    """A definition that does not validate; `errors` lists every (path, message)."""

    def __init__(self, errors: Sequence[PathError]) -> None:
        first = errors[0]
        super().__init__(str(first), field="definition")
        self.errors = [{"path": error.path, "message": error.message} for error in errors]


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh changed."""

    segment_id: int
    member_count: int
    entered: int
    exited: int
    seconds: float


@dataclass(frozen=True)
class UploadReport:
    """A static list read: rows, customers matched, and unknown ids by row."""

    source: str
    rows: int
    matched: int
    duplicates: int
    unknown: tuple[tuple[int, str], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "matched": self.matched,
            "duplicates": self.duplicates,
            "unknown_count": len(self.unknown),
            "unknown": [
                {"row": row, "value": value} for row, value in self.unknown[:REPORT_UNKNOWN_MAX]
            ],
        }


# ---------------------------------------------------------------------------------------------
# Validation.


def definition_parse(definition: Any, *, segment_id: int | None = None) -> Group:
    """The definition as a tree; DefinitionInvalid names the JSON path of every problem,
    including references to segments that do not exist and cycles of references."""
    try:
        root = parse_definition(definition, vocabulary=vocabulary())
    except DefinitionError as error:
        raise DefinitionInvalid(error.errors) from None
    references = segment_references(root)
    if references:
        _check_references(references, segment_id=segment_id, root=root)
    return root


def _check_references(
    references: list[tuple[str, int]], *, segment_id: int | None, root: Group
) -> None:
    names = dict(
        Segment.objects.filter(pk__in={ref for _, ref in references}).values_list("pk", "name")
    )
    errors = [
        PathError(f"{path}.segment", f"segment {reference} does not exist")
        for path, reference in references
        if reference not in names
    ]
    if segment_id is not None:
        errors += [
            PathError(f"{path}.segment", "a segment cannot refer to itself")
            for path, reference in references
            if reference == segment_id
        ]
        if not errors:
            graph = segment_dependency_graph()
            graph[segment_id] = referenced_segment_ids(root)
            cycle = find_cycle(graph, segment_id)
            if cycle:
                all_names = dict(Segment.objects.filter(pk__in=cycle).values_list("pk", "name"))
                trail = " -> ".join(all_names.get(item, str(item)) for item in cycle)
                path = next(path for path, reference in references if reference == cycle[1])
                errors.append(
                    PathError(
                        f"{path}.segment",
                        f"segment {all_names.get(cycle[1])!r} refers back to this segment "
                        f"({trail})",
                    )
                )
    if errors:
        raise DefinitionInvalid(errors)


def definition_members(
    *, definition: Any, customer_ids: Iterable[int] | None = None, now: datetime | None = None
) -> set[int]:
    """Ids of the customers (of `customer_ids`, or all) that a condition tree selects now,
    without saving a segment: journeys' conditions and trigger filters."""
    root = definition_parse(definition)
    queryset = members_queryset(root, CompileContext(now=now or timezone.now()))
    if customer_ids is not None:
        queryset = queryset.filter(pk__in=list(customer_ids))
    return set(queryset.values_list("pk", flat=True))


def segment_dependency_graph() -> dict[int, set[int]]:
    """Dynamic segment id -> ids of the segments its definition refers to."""
    graph: dict[int, set[int]] = {}
    rows = Segment.objects.filter(kind=SegmentKind.DYNAMIC).values_list("pk", "definition")
    for segment_id, definition in rows:
        try:
            graph[segment_id] = referenced_segment_ids(parse_definition(definition))
        except DefinitionError:
            graph[segment_id] = set()
    return graph


def _check_name(name: str, *, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("name: a segment needs a name", field="name")
    if len(name) > 120:
        raise ValidationFailed("name: at most 120 characters", field="name")
    if name.lower() in RESERVED_NAMES:
        raise ValidationFailed(f"name: {name!r} is reserved (every customer)", field="name")
    if name.isdigit():
        raise ValidationFailed("name: a name cannot be only digits (ids are numbers)", field="name")
    taken = Segment.objects.filter(name__iexact=name)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        raise Conflict(f"name: a segment named {name!r} exists already", field="name")
    return name


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


# ---------------------------------------------------------------------------------------------
# Create, update, delete.


@transaction.atomic
def segment_create(
    *,
    name: str,
    kind: str | None = None,
    definition: Any = None,
    customer_external_ids: Sequence[str] | None = None,
    description: str = "",
    actor: Any = None,
    csv_file: IO[bytes] | None = None,
    now: datetime | None = None,
) -> Segment:
    """Create a segment and compute its members now.

    Dynamic (`definition`, the condition tree) or static (`customer_external_ids`, or
    `csv_file`, a CSV of external ids). `kind` defaults to static when ids or a file are
    given and no definition. Unknown ids of a static list do not stop it: they are reported
    by row in `segment.upload_report`. Other helpers save a cluster or an RFM cell with this.
    """
    if kind is None:
        has_list = customer_external_ids is not None or csv_file is not None
        kind = SegmentKind.STATIC if has_list and definition is None else SegmentKind.DYNAMIC
    if kind not in SegmentKind.values:
        raise ValidationFailed(
            f"kind: must be one of {', '.join(SegmentKind.values)}", field="kind"
        )
    name = _check_name(name)
    now = now or timezone.now()
    if kind == SegmentKind.DYNAMIC:
        if customer_external_ids is not None or csv_file is not None:
            raise ValidationFailed(
                "customer_external_ids: a dynamic segment takes a definition, not a list",
                field="customer_external_ids",
            )
        if definition is None:
            raise ValidationFailed("definition: a dynamic segment needs one", field="definition")
        definition_parse(definition)
    elif definition not in (None, {}):
        raise ValidationFailed(
            "definition: a static segment takes a list of customers, not a definition",
            field="definition",
        )
    rows = _static_rows(customer_external_ids, csv_file) if kind == SegmentKind.STATIC else None
    segment = Segment.objects.create(
        name=name,
        description=description.strip(),
        kind=kind,
        definition=definition if kind == SegmentKind.DYNAMIC else {},
        created_by=_user(actor),
    )
    if rows is not None:
        _static_replace(segment, rows, now=now, source="csv" if csv_file is not None else "list")
    else:
        segment_refresh(segment=segment, now=now)
    audit_log_record(
        action=AUDIT_CREATED,
        target=f"segment {segment.pk} {segment.name}"[:200],
        actor=actor,
        data={"segment_id": segment.pk, "kind": kind, "member_count": segment.member_count},
    )
    segment.refresh_from_db()
    return segment


@transaction.atomic
def segment_update(
    *,
    segment: Segment,
    name: str | None = None,
    description: str | None = None,
    definition: Any = None,
    actor: Any = None,
    now: datetime | None = None,
) -> Segment:
    """Rename, describe, or change the definition of a dynamic segment (members recomputed,
    entries and exits recorded, and the segments that refer to it re-checked)."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    changed: list[str] = []
    if name is not None and name.strip() != segment.name:
        segment.name = _check_name(name, exclude_id=segment.pk)
        changed.append("name")
    if description is not None and description.strip() != segment.description:
        segment.description = description.strip()
        changed.append("description")
    if definition is not None and definition != segment.definition:
        if segment.kind != SegmentKind.DYNAMIC:
            raise ValidationFailed(
                "definition: a static segment has no definition; upload a list instead",
                field="definition",
            )
        definition_parse(definition, segment_id=segment.pk)
        segment.definition = definition
        changed.append("definition")
    if not changed:
        return segment
    segment.save(update_fields=[*changed, "updated_at"])
    if "definition" in changed:
        segment_refresh(segment=segment, now=now)
    audit_log_record(
        action=AUDIT_UPDATED,
        target=f"segment {segment.pk} {segment.name}"[:200],
        actor=actor,
        data={"segment_id": segment.pk, "changed": changed},
    )
    segment.refresh_from_db()
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, actor: Any = None) -> None:
    """Delete a segment with its members and history; refused while others refer to it."""
    dependents = [
        segment_id
        for segment_id, targets in segment_dependency_graph().items()
        if segment.pk in targets and segment_id != segment.pk
    ]
    if dependents:
        names = sorted(Segment.objects.filter(pk__in=dependents).values_list("name", flat=True))
        raise Conflict(
            f"segment {segment.name!r} is used by {', '.join(repr(n) for n in names)}: "
            "remove those conditions first",
            code="segment_in_use",
        )
    audit_log_record(
        action=AUDIT_DELETED,
        target=f"segment {segment.pk} {segment.name}"[:200],
        actor=actor,
        data={"segment_id": segment.pk, "member_count": segment.member_count},
    )
    segment.delete()


# ---------------------------------------------------------------------------------------------
# Static lists.


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def external_ids_from_csv(file: IO[bytes]) -> list[tuple[int, str]]:
    """(row number, external id) of a CSV: the column named external_id (or customer_id,
    id ...) when there is a header, else the first column. Rows count as in a spreadsheet
    (the header is row 1); blank rows are skipped."""
    raw = file.read(CSV_MAX_BYTES + 1)
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > CSV_MAX_BYTES:
        raise ValidationFailed("file: at most 50 MB", field="file")
    text = _decode(raw)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = list(reader)
    if not rows:
        raise ValidationFailed("file: the file is empty", field="file")
    header = [cell.strip().lower() for cell in rows[0]]
    column, start = 0, 0
    for name in CSV_ID_COLUMNS:
        if name in header:
            column, start = header.index(name), 1
            break
    else:
        if len(header) > 1:
            raise ValidationFailed(
                "file: name the column of customer ids external_id (or customer_id)",
                field="file",
            )
    found = []
    for index, row in enumerate(rows[start:], start=start + 1):
        value = row[column].strip() if len(row) > column else ""
        if value:
            found.append((index, value))
    if not found:
        raise ValidationFailed("file: no customer ids in the file", field="file")
    return found


def _static_rows(
    customer_external_ids: Sequence[str] | None, csv_file: IO[bytes] | None
) -> list[tuple[int, str]]:
    if csv_file is not None:
        return external_ids_from_csv(csv_file)
    if isinstance(customer_external_ids, str):
        raise ValidationFailed(
            "customer_external_ids: must be a list of ids", field="customer_external_ids"
        )
    ids = [str(value).strip() for value in customer_external_ids or []]
    return [(index, value) for index, value in enumerate(ids, start=1) if value]


def _resolve(rows: list[tuple[int, str]], source: str) -> tuple[set[int], UploadReport]:
    """Customer ids of external ids (or aliases, such as merged profiles' ids)."""
    wanted = sorted({value for _, value in rows})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), ID_CHUNK):
        chunk = wanted[start : start + ID_CHUNK]
        found.update(
            customer_list()
            .order_by()
            .filter(external_id__in=chunk)
            .values_list("external_id", "pk")
        )
    missing = [value for value in wanted if value not in found]
    for start in range(0, len(missing), ID_CHUNK):
        found.update(customer_ids_by_alias(aliases=missing[start : start + ID_CHUNK]))
    seen: set[str] = set()
    duplicates = 0
    for _, value in rows:
        if value in seen:
            duplicates += 1
        seen.add(value)
    unknown = tuple((row, value) for row, value in rows if value not in found)
    ids = {found[value] for _, value in rows if value in found}
    report = UploadReport(
        source=source,
        rows=len(rows),
        matched=len(ids),
        duplicates=duplicates,
        unknown=unknown,
    )
    return ids, report


def _static_replace(
    segment: Segment,
    rows: list[tuple[int, str]],
    *,
    now: datetime,
    mode: str = "replace",
    source: str = "list",
) -> UploadReport:
    ids, report = _resolve(rows, source)
    if mode == "add":
        ids |= set(
            SegmentMembership.objects.filter(segment=segment).values_list("customer_id", flat=True)
        )
    started = time.monotonic()
    entered, exited = _apply_sets(segment, ids, now=now, restrict_to=None)
    count = SegmentMembership.objects.filter(segment=segment).count()
    _finish(
        segment,
        count=count,
        entered=len(entered),
        exited=len(exited),
        now=now,
        seconds=time.monotonic() - started,
        full=True,
    )
    Segment.objects.filter(pk=segment.pk).update(upload_report=report.as_json())
    _cascade(segment, changed=entered | exited, now=now)
    return report


@transaction.atomic
def segment_static_upload(
    *,
    segment: Segment,
    file: IO[bytes] | None = None,
    customer_external_ids: Sequence[str] | None = None,
    mode: str = "replace",
    actor: Any = None,
    now: datetime | None = None,
) -> UploadReport:
    """Replace (or, with mode "add", extend) a static segment's members from a CSV or a list;
    unknown ids are reported by row and everything else is kept."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if segment.kind != SegmentKind.STATIC:
        raise ValidationFailed(
            "file: only static segments take a list; edit the definition instead", field="file"
        )
    if mode not in ("replace", "add"):
        raise ValidationFailed('mode: must be "replace" or "add"', field="mode")
    if file is None and customer_external_ids is None:
        raise ValidationFailed("file: upload a CSV of customer ids", field="file")
    rows = _static_rows(customer_external_ids, file)
    report = _static_replace(
        segment,
        rows,
        now=now or timezone.now(),
        mode=mode,
        source="csv" if file is not None else "list",
    )
    audit_log_record(
        action=AUDIT_UPDATED,
        target=f"segment {segment.pk} {segment.name}"[:200],
        actor=actor,
        data={
            "segment_id": segment.pk,
            "changed": ["members"],
            "mode": mode,
            "matched": report.matched,
            "unknown": len(report.unknown),
        },
    )
    return report


# ---------------------------------------------------------------------------------------------
# Refresh.


def _apply_sql(
    segment: Segment, root: Group, context: CompileContext
) -> tuple[int, list[int], list[int]]:
    """PostgreSQL: two statements. The first computes the members and both set differences
    with the stored ones (EXCEPT: hashed or sorted whatever the row estimates, so a stale
    estimate after a bulk change can never make the diff quadratic); the second writes
    memberships, exits and history from those two id arrays, which the planner sees as
    constants of known length. Returns (members found, entered ids, exited ids)."""
    members = members_queryset(root, context)
    try:
        sql, params = members.query.sql_with_params()
    except EmptyResultSet:
        # A definition that can select nobody (an empty OR group) compiles to no SQL at all.
        sql, params = "SELECT NULL::bigint WHERE false", ()
    restrict = ""
    restrict_params: list[Any] = []
    if context.restrict_to is not None:
        restrict = "AND m.customer_id = ANY(%s::bigint[])"
        restrict_params = [list(context.restrict_to)]
    diff = f"""
        WITH new_members (id) AS MATERIALIZED ({sql}),
        current_members AS MATERIALIZED (
            SELECT customer_id FROM segments_segmentmembership m
            WHERE m.segment_id = %s {restrict}
        )
        SELECT (SELECT count(*) FROM new_members),
               ARRAY(SELECT id FROM new_members EXCEPT SELECT customer_id FROM current_members),
               ARRAY(SELECT customer_id FROM current_members EXCEPT SELECT id FROM new_members)
    """  # noqa: S608 - the inner SQL is Django's own compilation, values are parameters
    write = """
        WITH added AS (
            INSERT INTO segments_segmentmembership (segment_id, customer_id, since)
            SELECT %(segment)s, id, %(now)s FROM unnest(%(entered)s::bigint[]) AS id
            ON CONFLICT (segment_id, customer_id) DO NOTHING
            RETURNING customer_id
        ),
        removed AS (
            DELETE FROM segments_segmentmembership
            WHERE segment_id = %(segment)s AND customer_id = ANY(%(exited)s::bigint[])
            RETURNING customer_id
        )
        INSERT INTO segments_segmentmembershipevent (segment_id, customer_id, kind, at)
        SELECT %(segment)s, customer_id, %(entered_kind)s, %(now)s FROM added
        UNION ALL
        SELECT %(segment)s, customer_id, %(exited_kind)s, %(now)s FROM removed
    """
    with connection.cursor() as cursor:
        cursor.execute(diff, [*params, segment.pk, *restrict_params])
        found, entered, exited = cursor.fetchone()
        if entered or exited:
            cursor.execute(
                write,
                {
                    "segment": segment.pk,
                    "now": context.now,
                    "entered": entered,
                    "exited": exited,
                    "entered_kind": MembershipChange.ENTERED.value,
                    "exited_kind": MembershipChange.EXITED.value,
                },
            )
    return found, entered, exited


def _apply_sets(
    segment: Segment, new_ids: set[int], *, now: datetime, restrict_to: Sequence[int] | None
) -> tuple[set[int], set[int]]:
    """Any database: diff sets of ids and write the changes in bulk. Returns (entered,
    exited) customer ids."""
    current_rows = SegmentMembership.objects.filter(segment=segment)
    if restrict_to is not None:
        current_rows = current_rows.filter(customer_id__in=list(restrict_to))
    current = set(current_rows.values_list("customer_id", flat=True))
    entered, exited = new_ids - current, current - new_ids
    SegmentMembership.objects.bulk_create(
        [SegmentMembership(segment=segment, customer_id=cid, since=now) for cid in sorted(entered)],
        batch_size=WRITE_BATCH,
    )
    exited_list = sorted(exited)
    for start in range(0, len(exited_list), ID_CHUNK):
        SegmentMembership.objects.filter(
            segment=segment, customer_id__in=exited_list[start : start + ID_CHUNK]
        ).delete()
    history = [
        SegmentMembershipEvent(segment=segment, customer_id=cid, kind=kind, at=now)
        for kind, ids in ((MembershipChange.ENTERED, entered), (MembershipChange.EXITED, exited))
        for cid in sorted(ids)
    ]
    SegmentMembershipEvent.objects.bulk_create(history, batch_size=WRITE_BATCH)
    return entered, exited


def _finish(
    segment: Segment,
    *,
    count: int,
    entered: int,
    exited: int,
    now: datetime,
    seconds: float,
    full: bool,
) -> None:
    """Store the new size on the segment and in the day's size snapshot."""
    fields: dict[str, Any] = {
        "member_count": count,
        "status": SegmentStatus.READY,
        "error": "",
        "updated_at": timezone.now(),
    }
    if full:
        fields["last_refreshed_at"] = now
        fields["last_refresh_seconds"] = round(seconds, 4)
    Segment.objects.filter(pk=segment.pk).update(**fields)
    day = timezone.localdate(now)
    updated = SegmentSize.objects.filter(segment=segment, day=day).update(
        member_count=count, entered=F("entered") + entered, exited=F("exited") + exited
    )
    if not updated:
        SegmentSize.objects.create(
            segment=segment, day=day, member_count=count, entered=entered, exited=exited
        )
    segment.member_count = count


def _refresh_locked(
    segment: Segment, *, now: datetime, restrict_to: Sequence[int] | None
) -> tuple[RefreshResult, set[int]]:
    """Refresh one dynamic segment (its row locked by the caller). Returns the result and
    the ids of the customers who entered or left."""
    started = time.monotonic()
    root = parse_definition(segment.definition)
    context = CompileContext(now=now, restrict_to=restrict_to)
    if connection.vendor == "postgresql":
        found, entered_list, exited_list = _apply_sql(segment, root, context)
        entered_ids, exited_ids = set(entered_list), set(exited_list)
    else:
        new_ids = set(members_queryset(root, context))
        entered_ids, exited_ids = _apply_sets(segment, new_ids, now=now, restrict_to=restrict_to)
        found = len(new_ids)
    entered, exited = len(entered_ids), len(exited_ids)
    changed = entered_ids | exited_ids
    if restrict_to is None:
        count = found
    else:
        count = segment.member_count + entered - exited
    seconds = time.monotonic() - started
    _finish(
        segment,
        count=count,
        entered=entered,
        exited=exited,
        now=now,
        seconds=seconds,
        full=restrict_to is None,
    )
    result = RefreshResult(
        segment_id=segment.pk, member_count=count, entered=entered, exited=exited, seconds=seconds
    )
    return result, changed


def _dependents_in_order(segment_id: int) -> list[int]:
    """Dynamic segments that refer, directly or not, to `segment_id`, in refresh order."""
    graph = segment_dependency_graph()
    affected: set[int] = set()
    frontier = {segment_id}
    while frontier:
        found = {sid for sid, targets in graph.items() if targets & frontier} - affected
        found.discard(segment_id)
        affected |= found
        frontier = found
    return [sid for sid in dependency_order(graph) if sid in affected]


def _cascade(segment: Segment, *, changed: set[int], now: datetime) -> None:
    """Re-check the segments that refer to `segment` for the customers who entered or left."""
    if not changed:
        return
    dependents = _dependents_in_order(segment.pk)
    if dependents:
        segment_refresh_incremental(customer_ids=sorted(changed), now=now, segment_ids=dependents)


@transaction.atomic
def segment_refresh(
    *, segment: Segment, now: datetime | None = None, cascade: bool = True
) -> RefreshResult:
    """Recompute a dynamic segment's members in full (one query), record who entered and
    who left, store the size; then re-check the segments that refer to it. A static
    segment has nothing to recompute: its count is returned as it is."""
    now = now or timezone.now()
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if segment.kind != SegmentKind.DYNAMIC:
        return RefreshResult(segment.pk, segment.member_count, 0, 0, 0.0)
    result, changed = _refresh_locked(segment, now=now, restrict_to=None)
    if cascade and changed:
        _cascade(segment, changed=changed, now=now)
    return result


@transaction.atomic
def segment_refresh_incremental(
    *,
    customer_ids: Iterable[int],
    now: datetime | None = None,
    segment_ids: Sequence[int] | None = None,
) -> list[RefreshResult]:
    """Re-check only `customer_ids` against every dynamic segment (or `segment_ids`), in
    dependency order: what new events and orders of those customers changed. Each segment's
    query carries the ids into every subquery, so the cost follows the customers touched,
    not the size of the shop."""
    ids = sorted({int(value) for value in customer_ids})
    if not ids:
        return []
    now = now or timezone.now()
    graph = segment_dependency_graph()
    order = [sid for sid in dependency_order(graph) if sid in graph]
    if segment_ids is not None:
        wanted = set(segment_ids)
        order = [sid for sid in order if sid in wanted]
    results = []
    for segment_id in order:
        segment = Segment.objects.select_for_update().filter(pk=segment_id).first()
        if segment is None or segment.kind != SegmentKind.DYNAMIC:
            continue
        for start in range(0, len(ids), INCREMENTAL_CHUNK):
            result, _ = _refresh_locked(
                segment, now=now, restrict_to=ids[start : start + INCREMENTAL_CHUNK]
            )
            results.append(result)
    return results


def segments_refresh_all(*, now: datetime | None = None) -> list[RefreshResult]:
    """Refresh every dynamic segment in full, in dependency order, each in its own
    transaction: one failing segment is marked failed (with why) and the others go on."""
    now = now or timezone.now()
    graph = segment_dependency_graph()
    results = []
    for segment_id in dependency_order(graph):
        segment = Segment.objects.filter(pk=segment_id, kind=SegmentKind.DYNAMIC).first()
        if segment is None:
            continue
        try:
            results.append(segment_refresh(segment=segment, now=now, cascade=False))
        except (DatabaseError, DefinitionError) as error:
            logger.exception("Refresh of segment %s failed", segment_id)
            Segment.objects.filter(pk=segment_id).update(
                status=SegmentStatus.FAILED, error=str(error)[:2000]
            )
    return results


# ---------------------------------------------------------------------------------------------
# Touches: keep dynamic segments fresh after new events and orders.


def segments_touch(*, customer_ids: Iterable[int | None]) -> None:
    """Ask for an incremental refresh of these customers' segments; cheap and debounced.

    Call it after each ingest or import batch. Nothing happens until the caller's
    transaction commits (a rolled-back batch asks for nothing); then the ids are added to
    the touched table (one INSERT, duplicates ignored) and, unless one is already pending,
    the refresh task is queued to start TOUCH_DEBOUNCE_SECONDS later, so the following
    batches of the same import are covered by the same run.
    """
    ids = sorted({int(value) for value in customer_ids if value is not None})
    if ids:
        transaction.on_commit(functools.partial(_touch_committed, customer_ids=ids), robust=True)


def _touch_committed(*, customer_ids: list[int]) -> None:
    if not Segment.objects.filter(kind=SegmentKind.DYNAMIC).exists():
        return
    now = timezone.now()
    SegmentTouchedCustomer.objects.bulk_create(
        [SegmentTouchedCustomer(customer_id=cid, touched_at=now) for cid in customer_ids],
        batch_size=WRITE_BATCH,
        ignore_conflicts=True,
    )
    if not cache.add(TOUCH_PENDING_KEY, 1, timeout=TOUCH_PENDING_TTL_SECONDS):
        return
    from apps.segments.tasks import refresh_touched_segments_task  # tasks import this module

    try:
        refresh_touched_segments_task.apply_async(queue="default", countdown=TOUCH_DEBOUNCE_SECONDS)
    except (KombuOperationalError, RedisError) as error:
        # The touches stay in the table: the next touch or the scheduled refresh takes them.
        cache.delete(TOUCH_PENDING_KEY)
        logger.error("Incremental segment refresh could not be enqueued: %s", error)


def _touched_take() -> list[int]:
    """Take (and delete) every touched customer id."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM segments_segmenttouchedcustomer RETURNING customer_id")
                return sorted(row[0] for row in cursor.fetchall())
        ids = sorted(SegmentTouchedCustomer.objects.values_list("customer_id", flat=True))
        for start in range(0, len(ids), ID_CHUNK):
            SegmentTouchedCustomer.objects.filter(
                customer_id__in=ids[start : start + ID_CHUNK]
            ).delete()
        return ids


def segments_refresh_touched(*, now: datetime | None = None) -> int:
    """Incremental refresh of every touched customer; returns how many were re-checked.

    The ids are taken out of the table in a short transaction first, so touches arriving
    meanwhile wait for the next run instead of behind this one; if the refresh fails they
    are put back.
    """
    cache.delete(TOUCH_PENDING_KEY)  # touches from now on ask for the next run
    ids = _touched_take()
    if not ids:
        return 0
    try:
        for start in range(0, len(ids), INCREMENTAL_CHUNK):
            segment_refresh_incremental(
                customer_ids=ids[start : start + INCREMENTAL_CHUNK], now=now
            )
    except DatabaseError:
        SegmentTouchedCustomer.objects.bulk_create(
            [SegmentTouchedCustomer(customer_id=cid, touched_at=timezone.now()) for cid in ids],
            batch_size=WRITE_BATCH,
            ignore_conflicts=True,
        )
        raise
    return len(ids)
