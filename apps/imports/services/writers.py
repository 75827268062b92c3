"""Chunk writers: one per kind, each turning a chunk of records into stored rows and failures.

A writer never raises for a bad row: the row becomes a `RowFailure` (row number, column,
field, reason, original values) and the others go on. Writes go through the owning app's
services, so an import refuses exactly what the API refuses.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.text import slugify

from apps.catalog.selectors import category_get, category_list, product_get
from apps.catalog.services import category_create, product_update
from apps.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from apps.customers.services.bulk import CustomerUpsertRow, customer_bulk_upsert
from apps.events.selectors import social_post_list
from apps.events.services import review_create, social_post_upsert
from apps.events.services.bulk_orders import OrderImport, OrderImportLine, order_bulk_create
from apps.imports.engine import rows as parse_rows
from apps.imports.engine.grouping import SeenKeys, contiguous_groups
from apps.imports.engine.mapping import RowMapper
from apps.imports.engine.readers import SourceRecord
from apps.imports.engine.values import RowProblem

# Rows per committed chunk. Bulk kinds take big chunks (few queries each); kinds written row
# by row through a service take smaller ones so progress moves and a crash loses little.
BULK_CHUNK_ROWS = 2000
ROW_CHUNK_ROWS = 200
EVENTS_CHUNK_ROWS = 1000  # events_ingest takes at most 1,000 messages a call
# Names the services use for a field, as the import calls it.
SERVICE_FIELDS = {"product": "sku", "customer": "customer_id", "external_id": "external_id"}


@dataclass(frozen=True)
class RowFailure:
    """A refused row: where it is, which column and field, why, and its values as read."""

    row_number: int
    column: str
    field: str
    reason: str
    values: Any


@dataclass
class ChunkOutcome:
    records: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failures: list[RowFailure] = field(default_factory=list)
    details: Counter[str] = field(default_factory=Counter)

    def count_stored(self, *, created: bool) -> None:
        """Count a row a service stored: a new one, or a change to one already there."""
        if created:
            self.created += 1
        else:
            self.updated += 1


def _without_nul(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold NUL characters: the error file shows U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def record_values(record: SourceRecord) -> Any:
    """The record as read, for the error file."""
    return _without_nul(list(record.cells) if record.cells is not None else record.values)


class ChunkWriter:
    """Base: chunking, mapping a record to fields and turning problems into failures."""

    chunk_size = BULK_CHUNK_ROWS

    def __init__(self, *, kind: str, mapper: RowMapper, started_at: datetime) -> None:
        self.kind = kind
        self.mapper = mapper
        self.started_at = started_at

    def chunks(self, records: Iterator[SourceRecord]) -> Iterator[list[Any]]:
        """Chunks of records; each is written and committed with the job's progress."""
        while chunk := list(itertools.islice(records, self.chunk_size)):
            yield chunk

    def failure(
        self, record: SourceRecord, field_name: str, message: str, *, column: str | None = None
    ) -> RowFailure:
        """A failure naming the file's column (and the field it maps to) in its reason."""
        for name in (field_name, SERVICE_FIELDS.get(field_name, field_name)):
            if name and message.startswith(f"{name}: "):
                message = message[len(name) + 2 :]
        field_name = SERVICE_FIELDS.get(field_name, field_name)
        if column is None:
            column = self.mapper.column_for(field_name) if field_name else ""
        if column and column != field_name and field_name:
            reason = f"{column} ({field_name}): {message}"
        elif column:
            reason = f"{column}: {message}"
        else:
            reason = message
        return RowFailure(
            row_number=record.row_number,
            column=_without_nul(column),
            field=field_name,
            reason=_without_nul(reason),
            values=record_values(record),
        )

    def refused(self, record: SourceRecord, error: DomainError) -> RowFailure:
        """A failure for a row the owning service refused."""
        return self.failure(record, error.field or "", error.message)

    def unreadable(self, record: SourceRecord) -> RowFailure:
        return RowFailure(
            row_number=record.row_number,
            column="",
            field="",
            reason=record.problem,
            values=record_values(record),
        )

    def split(self, record: SourceRecord) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.mapper.split(record.values)

    def write(self, chunk: list[Any]) -> ChunkOutcome:
        raise NotImplementedError

    def parsed(self, chunk: list[SourceRecord], parser: Any, outcome: ChunkOutcome) -> list[Any]:
        """Parse each record with `parser(row_number, fields, extras)`; failures go to outcome."""
        rows = []
        for record in chunk:
            if record.problem:
                outcome.failures.append(self.unreadable(record))
                continue
            fields, extras = self.split(record)
            try:
                rows.append((record, parser(record.row_number, fields, extras)))
            except RowProblem as problem:
                column = None if problem.field in self.mapper.columns_by_field else problem.field
                outcome.failures.append(
                    self.failure(record, problem.field, problem.message, column=column)
                )
        return rows


class CustomerWriter(ChunkWriter):
    def write(self, chunk: list[SourceRecord]) -> ChunkOutcome:
        outcome = ChunkOutcome(records=len(chunk))
        parsed = self.parsed(chunk, parse_rows.customer_row, outcome)
        records = {row.row_number: record for record, row in parsed}
        result = customer_bulk_upsert(
            rows=[
                CustomerUpsertRow(
                    key=row.row_number,
                    external_id=row.external_id,
                    changes=row.changes,
                    attributes=row.attributes,
                )
                for _, row in parsed
            ]
        )
        outcome.created = len(result.created)
        outcome.updated = len(result.updated)
        outcome.skipped = len(result.unchanged)
        for refusal in result.refused:
            outcome.failures.append(
                self.failure(records[refusal.key], refusal.field, refusal.reason)
            )
        return outcome


class ProductWriter(ChunkWriter):
    chunk_size = ROW_CHUNK_ROWS

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._categories: dict[str, str] = {}

    def _category_slug(self, value: str) -> str:
        """The slug of a category given by slug, name or path ('Women > Dresses'); created
        (with its parents) when the catalogue does not have it yet."""
        if value in self._categories:
            return self._categories[value]
        separator = ">" if ">" in value else "/" if "/" in value else None
        segments = [part.strip() for part in value.split(separator)] if separator else [value]
        if any(not segment for segment in segments):
            raise ValidationFailed(f"category: {value!r} has an empty level", field="category")
        if separator is None:
            try:
                slug = category_get(slug=value).slug
            except NotFound:
                slug = self._child_slug(None, value)
        else:
            slug = ""
            for segment in segments:
                slug = self._child_slug(slug or None, segment)
        self._categories[value] = slug
        return slug

    @staticmethod
    def _child_slug(parent_slug: str | None, name: str) -> str:
        wanted = slugify(name)
        if not wanted:
            raise ValidationFailed(f"category: {name!r} has no letters or digits", field="category")
        siblings = (
            category_list(parent=parent_slug)
            if parent_slug
            else category_list().filter(parent__isnull=True)
        )
        for category in siblings:
            if category.slug in (wanted, f"{parent_slug}-{wanted}") or (
                category.name.lower() == name.lower()
            ):
                return category.slug
        slug = wanted
        try:
            category_get(slug=slug)
        except NotFound:
            pass
        else:  # the slug is taken elsewhere in the tree: qualify it with the parent's
            slug = f"{parent_slug}-{wanted}" if parent_slug else f"{wanted}-root"
        return category_create(name=name, slug=slug, parent_slug=parent_slug or "").slug

    @staticmethod
    def _unchanged(product: Any, changes: dict[str, Any]) -> bool:
        for name, value in changes.items():
            if name == "category":
                current: Any = product.category.slug if product.category else ""
            elif name == "brand":
                current = product.brand.name if product.brand else ""
                value = value or ""
                if current.lower() != value.lower():
                    return False
                continue
            elif name == "currency":
                current, value = product.currency, str(value).upper()
            else:
                current = getattr(product, name)
            if current != value:
                return False
        return True

    def write(self, chunk: list[SourceRecord]) -> ChunkOutcome:
        outcome = ChunkOutcome(records=len(chunk))
        for record, row in self.parsed(chunk, parse_rows.product_row, outcome):
            try:
                changes = dict(row.changes)
                if "category" in changes:
                    changes["category"] = self._category_slug(changes["category"])
                try:
                    current = product_get(sku=row.sku)
                except NotFound:
                    current = None
                if current is not None and self._unchanged(current, changes):
                    outcome.skipped += 1
                    continue
                _, created = product_update(sku=row.sku, changes=changes)
            except DomainError as error:
                outcome.failures.append(self.refused(record, error))
                continue
            outcome.count_stored(created=created)
        return outcome


@dataclass(frozen=True)
class _Line:
    """An order line as read: its record, its mapped fields and the order id ('' if none)."""

    record: SourceRecord
    fields: dict[str, Any]
    order_id: str


class _GroupProblem(Exception):
    def __init__(self, record: SourceRecord, field_name: str, message: str) -> None:
        super().__init__(message)
        self.record = record
        self.field = field_name
        self.message = message


class OrderWriter(ChunkWriter):
    """Order lines grouped into orders; a chunk never splits an order."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seen = SeenKeys()

    def _lines(self, records: Iterator[SourceRecord]) -> Iterator[tuple[str, _Line]]:
        for record in records:
            if record.problem:
                line = _Line(record=record, fields={}, order_id="")
            else:
                fields, _ = self.split(record)
                try:
                    order_id = parse_rows.order_id_of(fields)
                except RowProblem:
                    order_id = ""
                line = _Line(record=record, fields=fields, order_id=order_id)
            # A line without an order id is a group of its own: it cannot be placed.
            yield line.order_id or f"\x00{record.row_number}", line

    def chunks(self, records: Iterator[SourceRecord]) -> Iterator[list[Any]]:
        chunk: list[list[_Line]] = []
        size = 0
        for _key, group in contiguous_groups(self._lines(records)):
            chunk.append(group)
            size += len(group)
            if size >= self.chunk_size:
                yield chunk
                chunk, size = [], 0
        if chunk:
            yield chunk

    def _order(self, group: list[_Line]) -> OrderImport:
        """The order of a group of lines; raises _GroupProblem naming the line at fault."""
        lines = []
        header = None
        for line in group:
            try:
                if header is None:
                    header = parse_rows.order_header(line.fields)
                lines.append(parse_rows.order_line(line.record.row_number, line.fields))
            except RowProblem as problem:
                raise _GroupProblem(line.record, problem.field, problem.message) from None
        assert header is not None
        return OrderImport(
            key=group[0].record.row_number,
            external_id=header.order_id,
            placed_at=header.placed_at,
            customer_external_id=header.customer_id,
            status=header.status,
            channel=header.channel,
            currency=header.currency,
            discount_total=header.discount_total,
            shipping_total=header.shipping_total,
            coupon_code=header.coupon_code,
            campaign=header.campaign,
            total=header.total,
            lines=tuple(
                OrderImportLine(
                    key=line.row_number,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount=line.discount,
                )
                for line in lines
            ),
        )

    def _refuse_group(
        self,
        outcome: ChunkOutcome,
        group: list[_Line],
        culprit: SourceRecord | None,
        field_name: str,
        message: str,
    ) -> None:
        """Every line of a refused order goes to the error file: the culprit with the reason,
        the others pointing at it, so the whole order can be fixed and re-imported."""
        culprit = culprit or group[0].record
        for line in group:
            if line.record is culprit:
                outcome.failures.append(self.failure(line.record, field_name, message))
            else:
                outcome.failures.append(
                    self.failure(
                        line.record,
                        "order_id",
                        f"order not imported: row {culprit.row_number} of it was refused",
                    )
                )
        outcome.details["orders_failed"] += 1

    def write(self, chunk: list[Any]) -> ChunkOutcome:
        outcome = ChunkOutcome(records=sum(len(group) for group in chunk))
        groups: dict[int, list[_Line]] = {}
        orders: list[OrderImport] = []
        in_chunk: dict[str, int] = {}
        for group in chunk:
            first = group[0]
            if not first.order_id:
                if first.record.problem:
                    outcome.failures.append(self.unreadable(first.record))
                else:
                    message = "is required and empty"
                    try:
                        parse_rows.order_id_of(first.fields)
                    except RowProblem as problem:
                        message = problem.message
                    outcome.failures.append(self.failure(first.record, "order_id", message))
                continue
            if first.order_id in in_chunk:
                self._refuse_group(
                    outcome,
                    group,
                    None,
                    "order_id",
                    f"the lines of order {first.order_id!r} are not contiguous: it also has "
                    f"lines from row {in_chunk[first.order_id]}; put all lines of an order "
                    "together",
                )
                continue
            in_chunk[first.order_id] = first.record.row_number
            unreadable = next((line for line in group if line.record.problem), None)
            if unreadable is not None:
                self._refuse_group(outcome, group, unreadable.record, "", unreadable.record.problem)
                continue
            try:
                order = self._order(group)
            except _GroupProblem as problem:
                self._refuse_group(outcome, group, problem.record, problem.field, problem.message)
                continue
            groups[order.key] = group
            orders.append(order)

        result = order_bulk_create(orders=orders)
        by_key = {order.key: order for order in orders}
        for key in result.created:
            outcome.created += len(groups[key])
        outcome.details["orders_created"] += len(result.created)
        for key, stored_at in result.existing.items():
            external_id = by_key[key].external_id
            if external_id in self._seen and stored_at >= self.started_at:
                self._refuse_group(
                    outcome,
                    groups[key],
                    None,
                    "order_id",
                    f"the lines of order {external_id!r} are not contiguous: the order was "
                    "imported from lines earlier in this file; put all lines of an order together",
                )
                continue
            outcome.skipped += len(groups[key])
            outcome.details["orders_skipped"] += 1
        for refusal in result.refused:
            group = groups[refusal.order_key]
            culprit = next(
                (line.record for line in group if line.record.row_number == refusal.line_key),
                None,
            )
            self._refuse_group(outcome, group, culprit, refusal.field, refusal.reason)
        for order in orders:
            self._seen.add(order.external_id)
        if result.customers_created:
            outcome.details["customers_created"] += result.customers_created
        if result.unknown_skus:
            outcome.details["lines_without_product"] += result.unknown_skus
        return outcome


class EventWriter(ChunkWriter):
    chunk_size = EVENTS_CHUNK_ROWS

    def write(self, chunk: list[SourceRecord]) -> ChunkOutcome:
        # Imported here: the ingestion service is optional for the other kinds' tests.
        from apps.events.services import events_ingest

        outcome = ChunkOutcome(records=len(chunk))
        parsed = self.parsed(chunk, parse_rows.event_row, outcome)
        if not parsed:
            return outcome
        result = events_ingest(
            messages=[row.message for _, row in parsed], source="import", received_via="import"
        )
        outcome.created = len(result.accepted)
        outcome.skipped = len(result.duplicates)
        for rejection in result.rejected:
            record = parsed[rejection.index][0]
            field_name = rejection.field.split(".")[0] if rejection.field else ""
            field_name = {"message_id": "event_id", "name": "event", "traits": "properties"}.get(
                field_name, field_name
            )
            reason = rejection.reason
            if rejection.field and reason.startswith(f"{rejection.field}: "):
                reason = reason[len(rejection.field) + 2 :]
            if rejection.quarantine_id:
                reason += f" (quarantined as #{rejection.quarantine_id})"
            outcome.failures.append(self.failure(record, field_name, reason))
        return outcome


class ReviewWriter(ChunkWriter):
    chunk_size = ROW_CHUNK_ROWS

    def write(self, chunk: list[SourceRecord]) -> ChunkOutcome:
        outcome = ChunkOutcome(records=len(chunk))
        for record, row in self.parsed(chunk, parse_rows.review_row, outcome):
            try:
                review_create(
                    product_sku=row.product_sku,
                    rating=row.rating,
                    reviewed_at=row.reviewed_at,
                    text=row.text,
                    title=row.title,
                    customer_external_id=row.customer_external_id,
                    source=row.source,
                    external_id=row.external_id,
                    language=row.language,
                )
            except Conflict as error:
                if error.code != "review_exists":
                    outcome.failures.append(self.refused(record, error))
                else:
                    outcome.skipped += 1
                continue
            except DomainError as error:
                outcome.failures.append(self.refused(record, error))
                continue
            outcome.created += 1
        return outcome


class SocialWriter(ChunkWriter):
    chunk_size = ROW_CHUNK_ROWS
    _COMPARED = ("text", "author_handle", "likes", "shares", "language", "posted_at")

    def _stored(self, rows: list[parse_rows.SocialRow]) -> dict[tuple[str, str], dict[str, Any]]:
        stored: dict[tuple[str, str], dict[str, Any]] = {}
        for platform in {row.platform for row in rows}:
            ids = [row.external_id for row in rows if row.platform == platform]
            for values in (
                social_post_list(platform=platform)
                .filter(external_id__in=ids)
                .values("external_id", "product__sku", "customer__external_id", *self._COMPARED)
            ):
                stored[(platform, values["external_id"])] = values
        return stored

    @classmethod
    def _same(cls, row: parse_rows.SocialRow, stored: dict[str, Any]) -> bool:
        same = all(getattr(row, name) == stored[name] for name in cls._COMPARED)
        if row.product_sku and row.product_sku != stored["product__sku"]:
            return False
        if row.customer_external_id and row.customer_external_id != stored["customer__external_id"]:
            return False
        return same

    def write(self, chunk: list[SourceRecord]) -> ChunkOutcome:
        outcome = ChunkOutcome(records=len(chunk))
        parsed = self.parsed(chunk, parse_rows.social_row, outcome)
        stored = self._stored([row for _, row in parsed])
        for record, row in parsed:
            before = stored.get((row.platform, row.external_id))
            if before is not None and self._same(row, before):
                outcome.skipped += 1
                continue
            try:
                _, created = social_post_upsert(
                    platform=row.platform,
                    external_id=row.external_id,
                    text=row.text,
                    posted_at=row.posted_at,
                    author_handle=row.author_handle,
                    likes=row.likes,
                    shares=row.shares,
                    language=row.language,
                    product_sku=row.product_sku,
                    customer_external_id=row.customer_external_id,
                )
            except DomainError as error:
                outcome.failures.append(self.refused(record, error))
                continue
            outcome.count_stored(created=created)
        return outcome


WRITERS: dict[str, type[ChunkWriter]] = {
    "customers": CustomerWriter,
    "products": ProductWriter,
    "orders": OrderWriter,
    "events": EventWriter,
    "reviews": ReviewWriter,
    "social": SocialWriter,
}
