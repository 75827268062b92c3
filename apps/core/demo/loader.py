"""Bulk-inserts the demo shop's rows into the database, and deletes them again.

Documented exception to house rule 5 ("an app imports only another app's services, selectors and
contracts"): like Django's own `loaddata`, this loader writes fixture rows straight into the
models of `customers`, `catalog` and `events` with `bulk_create`. Going through those apps'
services would mean one call (and one audit row / emitted event / scheduled task) per row:
hours for 100,000 customers, and side effects demo data must never trigger. The exception is
listed in tests/test_architecture.py (DOCUMENTED_EXCEPTIONS) and docs/architecture.md; nothing
else in `apps/core/demo` touches another app's models.

Which rows are "demo rows" (what `--flush` deletes): customers and orders whose `external_id`
starts with `demo-`, events and reviews with `source="demo"`, social posts whose `external_id`
starts with `demo-`, products whose SKU starts with `DEMO-`, and the categories and brands whose
slugs `fixtures/demo_shop/catalog.json` defines.

Two insert paths. Tables whose keys the next table needs (categories, brands, products,
customers, orders) go through `bulk_create`; their primary keys come back from the INSERT
(`RETURNING id`, on PostgreSQL and on SQLite >= 3.35), so foreign keys are lookups by position
and no sequence needs fixing. The big tables nobody points at (events: ~80% of all rows, order
lines, consents, aliases, reviews, social posts) go through `_RowWriter`: PostgreSQL `COPY`, or
`executemany` elsewhere, with values converted once per column type instead of Django's
per-field preparation, which is 4-5x faster (see docs/benchmarks.md). Columns the loader does
not fill get their model default, auto timestamps get the load time, exactly as `bulk_create`
would do.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.db import connection, models
from django.db.models import ProtectedError, Q
from django.db.models.deletion import Collector
from django.utils import timezone

from apps.catalog.models import Brand, Category, Product
from apps.core.demo.rows import CatalogRows, CustomerChunk
from apps.core.errors import Conflict
from apps.core.pgcopy import copy_rows
from apps.customers.models import Consent, Customer, CustomerAlias
from apps.events.models import Event, MessageReceipt, Order, OrderLine, Review, SocialPost
from apps.events.services import event_partitions_ensure
from apps.events.services.partitions import months_between

BATCH_SIZE = 2000
COPY_BATCH_SIZE = 10000
DELETE_BATCH_SIZE = 5000
DEMO_SOURCE = "demo"
DEMO_ID_PREFIX = "demo-"
DEMO_SKU_PREFIX = "DEMO-"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FLUSH_STEPS = 10


def _at(epoch_seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=epoch_seconds)


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _timestamp(epoch_seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch_seconds))


class _RowWriter:
    """Appends many rows to one model's table without building model instances.

    Row values are given per field name, in the loader's plain encodings: datetime fields as
    Unix epoch seconds (UTC), decimal fields as integer cents, JSON fields as Python objects.
    Every other concrete field gets its default (auto timestamps: now), like `bulk_create`.
    """

    def __init__(self, model: type[models.Model], names: Sequence[str], *, batch_size: int) -> None:
        self.model = model
        self.batch_size = batch_size
        self.postgres = connection.vendor == "postgresql"
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        by_name = {field.name: field for field in fields} | {
            field.attname: field for field in fields
        }
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise ValueError(f"{model.__name__} has no fields {unknown}")
        given = {by_name[name].attname: position for position, name in enumerate(names)}
        now = timezone.now()
        # Per column: (position in the given row, converter) or (None, constant value).
        self._plan: list[tuple[int | None, Callable[[Any], Any] | None, Any]] = []
        for field in fields:
            if field.attname in given:
                self._plan.append((given[field.attname], self._converter(field), None))
            else:
                auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
                default = now if auto else field.get_default()
                self._plan.append((None, None, self._constant(field, default)))
        self.columns = [field.column for field in fields]
        quote = connection.ops.quote_name
        table = quote(str(model._meta.db_table))
        columns = ", ".join(quote(str(column)) for column in self.columns)
        if self.postgres:
            self._table = table
            self._columns = [quote(str(column)) for column in self.columns]
        else:
            self._sql = (
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(self.columns))})"
            )

    def _converter(self, field: models.Field) -> Callable[[Any], Any]:
        kind = field.get_internal_type()
        postgres = self.postgres
        if kind == "DateTimeField":
            if postgres:
                return lambda value: None if value is None else _timestamp(value) + "+00"
            return lambda value: None if value is None else _timestamp(value)
        if kind == "DecimalField":
            return lambda cents: None if cents is None else f"{cents // 100}.{cents % 100:02d}"
        if kind == "JSONField":
            return json.dumps
        if kind == "DateField":
            return lambda value: None if value is None else value.isoformat()
        if kind == "BooleanField":
            if postgres:
                return lambda value: "t" if value else "f"
            return int
        return _identity

    def _constant(self, field: models.Field, value: Any) -> Any:
        if value is None:
            return None
        kind = field.get_internal_type()
        if isinstance(value, datetime):
            utc = value.astimezone(UTC)
            text = utc.strftime("%Y-%m-%d %H:%M:%S.%f")
            return text + "+00" if self.postgres else text
        if isinstance(value, date):
            return value.isoformat()
        if kind == "JSONField":
            return json.dumps(value)
        if isinstance(value, bool):
            return ("t" if value else "f") if self.postgres else int(value)
        if isinstance(value, Decimal):
            return str(value)
        return value

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        plan = self._plan
        prepared = [
            tuple(
                convert(row[position]) if convert is not None and position is not None else constant
                for position, convert, constant in plan
            )
            for row in rows
        ]
        with connection.cursor() as cursor:
            for start in range(0, len(prepared), self.batch_size):
                batch = prepared[start : start + self.batch_size]
                if self.postgres:
                    copy_rows(cursor, table=self._table, columns=self._columns, rows=batch)
                else:
                    cursor.executemany(self._sql, cast(Any, batch))
        return len(prepared)


def _identity(value: Any) -> Any:
    return value


def customer_count() -> int:
    return Customer.objects.count()


def demo_catalog_conflicts(
    *, category_slugs: Sequence[str], brands: Sequence[tuple[str, str]]
) -> list[str]:
    """Catalogue rows that would collide with the demo catalogue (what is in the way, in words)."""
    conflicts = []
    products = Product.objects.filter(sku__startswith=DEMO_SKU_PREFIX).count()
    if products:
        conflicts.append(f"{products} products with SKUs starting {DEMO_SKU_PREFIX}")
    categories = Category.objects.filter(slug__in=category_slugs).count()
    if categories:
        conflicts.append(f"{categories} categories with demo slugs")
    names = [name for name, _ in brands]
    slugs = [slug for _, slug in brands]
    brand_count = Brand.objects.filter(Q(name__in=names) | Q(slug__in=slugs)).count()
    if brand_count:
        conflicts.append(f"{brand_count} brands with demo names")
    return conflicts


def demo_rows_delete(
    *,
    category_slugs: Sequence[str],
    brands: Sequence[tuple[str, str]],
    step: Callable[[str], None] = lambda table: None,
) -> dict[str, int]:
    """Delete every demo row (see the module docstring), children first. Returns counts."""
    deleted: dict[str, int] = {}

    def record(table: str, count: int) -> None:
        deleted[table] = count
        step(table)

    # Children first. Tables nothing points at go with one DELETE each (Django's fast delete);
    # rows other tables point at go through the collector in batches, so the `on_delete` of
    # other apps' foreign keys runs and memory stays bounded.
    record("events", _delete(Event.objects.filter(source=DEMO_SOURCE)))
    _delete(MessageReceipt.objects.filter(source=DEMO_SOURCE))
    record(
        "order_lines",
        _delete(OrderLine.objects.filter(order__external_id__startswith=DEMO_ID_PREFIX)),
    )
    record("reviews", _delete(Review.objects.filter(source=DEMO_SOURCE)))
    record(
        "social_posts", _delete(SocialPost.objects.filter(external_id__startswith=DEMO_ID_PREFIX))
    )
    record("orders", _delete(Order.objects.filter(external_id__startswith=DEMO_ID_PREFIX)))
    demo_customers = Customer.objects.filter(external_id__startswith=DEMO_ID_PREFIX)
    record("consents", _delete(Consent.objects.filter(customer__in=demo_customers)))
    record("customer_aliases", _delete(CustomerAlias.objects.filter(customer__in=demo_customers)))
    record("customers", _delete(demo_customers))
    record("products", _delete(Product.objects.filter(sku__startswith=DEMO_SKU_PREFIX)))
    try:
        # Only demo categories that hold no (non-demo) products are removed.
        categories = Category.objects.filter(
            slug__in=category_slugs, parent__isnull=False, products__isnull=True
        ).delete()[0]
        categories += Category.objects.filter(
            slug__in=category_slugs, products__isnull=True
        ).delete()[0]
    except ProtectedError as error:
        raise Conflict(
            "cannot flush the demo categories: other categories are filed under them "
            f"({', '.join(sorted(str(c) for c in error.protected_objects)[:5])})",
            field="flush",
        ) from error
    names = [name for name, _ in brands]
    slugs = [slug for _, slug in brands]
    deleted["categories"] = categories
    step("categories")
    # A brand of the same name that still has (non-demo) products is the shop's own: keep it.
    record(
        "brands",
        Brand.objects.filter(Q(name__in=names) | Q(slug__in=slugs), products__isnull=True).delete()[
            0
        ],
    )
    return deleted


def _delete(queryset: Any) -> int:
    """Delete the queryset's rows (only those: cascaded rows are not counted)."""
    if Collector(using=queryset.db).can_fast_delete(queryset):
        return int(queryset.delete()[0])
    return _delete_in_batches(queryset)


def _delete_in_batches(queryset: Any) -> int:
    total = 0
    while True:
        batch = list(queryset.order_by("pk").values_list("pk", flat=True)[:DELETE_BATCH_SIZE])
        if not batch:
            return total
        model = queryset.model
        model.objects.filter(pk__in=batch).delete()
        total += len(batch)


class DemoShopLoader:
    """Inserts one catalogue, then customer chunks, remembering the keys it needs."""

    def __init__(self, *, batch_size: int = BATCH_SIZE) -> None:
        if not connection.features.can_return_rows_from_bulk_insert:
            raise Conflict(
                f"the {connection.vendor} database cannot return ids from bulk inserts; "
                "the demo loader needs PostgreSQL or SQLite >= 3.35"
            )
        self.batch_size = batch_size
        self.copy_batch_size = COPY_BATCH_SIZE
        self._product_pk: list[int] = []
        self._writers: dict[tuple[type[models.Model], tuple[str, ...]], _RowWriter] = {}

    def load_catalog(self, catalog: CatalogRows) -> None:
        categories = catalog.categories
        category_pk: list[int | None] = [None] * len(categories.slug)
        pending = list(range(len(categories.slug)))
        while pending:  # parents before children, one INSERT per tree level
            level = [
                i for i in pending if categories.parent[i] < 0 or category_pk[categories.parent[i]]
            ]
            created = Category.objects.bulk_create(
                [
                    Category(
                        name=categories.name[i],
                        slug=categories.slug[i],
                        parent_id=category_pk[categories.parent[i]]
                        if categories.parent[i] >= 0
                        else None,
                        path=categories.path[i],
                    )
                    for i in level
                ],
                batch_size=self.batch_size,
            )
            for i, row in zip(level, created, strict=True):
                category_pk[i] = row.pk
            pending = [i for i in pending if category_pk[i] is None]
        brands = Brand.objects.bulk_create(
            [
                Brand(name=name, slug=slug)
                for name, slug in zip(catalog.brands.name, catalog.brands.slug, strict=True)
            ],
            batch_size=self.batch_size,
        )
        brand_pk = [row.pk for row in brands]
        p = catalog.products
        products = Product.objects.bulk_create(
            [
                Product(
                    sku=p.sku[i],
                    title=p.title[i],
                    description=p.description[i],
                    category_id=category_pk[p.category[i]],
                    brand_id=brand_pk[p.brand[i]],
                    price=_money(p.price_cents[i]),
                    cost=_money(p.cost_cents[i]),
                    currency=p.currency[i],
                    stock=p.stock[i],
                    tags=p.tags[i],
                    attributes=p.attributes[i],
                    is_active=p.is_active[i],
                    launched_at=_at(p.launched_at[i]),
                )
                for i in range(len(p.sku))
            ],
            batch_size=self.batch_size,
        )
        self._product_pk = [row.pk for row in products]

    def load_chunk(self, chunk: CustomerChunk) -> None:
        batch = self.batch_size
        product_pk = self._product_pk
        c = chunk.customers
        created = Customer.objects.bulk_create(
            [
                Customer(
                    external_id=c.external_id[i],
                    email=c.email[i],
                    phone=c.phone[i],
                    first_name=c.first_name[i],
                    last_name=c.last_name[i],
                    gender=c.gender[i],
                    birth_date=c.birth_date[i],
                    city=c.city[i],
                    region=c.region[i],
                    country=c.country[i],
                    language=c.language[i],
                    signup_at=_at(c.signup_at[i]),
                    acquisition_channel=c.acquisition_channel[i],
                    attributes=c.attributes[i],
                )
                for i in range(len(c.external_id))
            ],
            batch_size=batch,
        )
        customer_pk = [row.pk for row in created]

        def customer_id(position: int) -> int | None:
            return customer_pk[position] if position >= 0 else None

        def product_id(position: int) -> int | None:
            return product_pk[position] if position >= 0 else None

        consents = chunk.consents
        self._writer(Consent, ("customer_id", "purpose", "granted", "recorded_at", "source")).write(
            zip(
                [customer_pk[c] for c in consents.customer],
                consents.purpose,
                consents.granted,
                consents.recorded_at,
                consents.source,
                strict=True,
            )
        )
        aliases = chunk.aliases
        self._writer(CustomerAlias, ("customer_id", "alias", "kind")).write(
            zip(
                [customer_pk[c] for c in aliases.customer], aliases.alias, aliases.kind, strict=True
            )
        )
        o = chunk.orders
        orders = Order.objects.bulk_create(
            [
                Order(
                    external_id=o.external_id[i],
                    customer_id=customer_pk[o.customer[i]],
                    status=o.status[i],
                    channel=o.channel[i],
                    placed_at=_at(o.placed_at[i]),
                    currency=o.currency[i],
                    subtotal=_money(o.subtotal_cents[i]),
                    discount_total=_money(o.discount_cents[i]),
                    shipping_total=_money(o.shipping_cents[i]),
                    total=_money(o.total_cents[i]),
                    coupon_code=o.coupon_code[i],
                    campaign=o.campaign[i],
                )
                for i in range(len(o.external_id))
            ],
            batch_size=batch,
        )
        order_pk = [row.pk for row in orders]
        lines = chunk.order_lines
        self._writer(
            OrderLine,
            ("order_id", "product_id", "sku", "quantity", "unit_price", "discount", "line_total"),
        ).write(
            zip(
                [order_pk[o] for o in lines.order],
                [product_pk[p] for p in lines.product],
                lines.sku,
                lines.quantity,
                lines.unit_price_cents,
                lines.discount_cents,
                lines.line_total_cents,
                strict=True,
            )
        )
        e = chunk.events
        if e.occurred_at:
            first = datetime.fromtimestamp(min(e.occurred_at), tz=UTC)
            last = datetime.fromtimestamp(max(e.occurred_at), tz=UTC)
            event_partitions_ensure(months=months_between(first.date(), last.date()))
        # The ledger the ingest pipeline dedups against: a demo event re-sent through the API
        # is a duplicate, not a second row (empty fingerprint: payload unknown, same message).
        self._writer(
            MessageReceipt, ("source", "message_id", "fingerprint", "occurred_at", "received_at")
        ).write(
            (DEMO_SOURCE, event_id, "", occurred_at, occurred_at + 1)
            for event_id, occurred_at in zip(e.event_id, e.occurred_at, strict=True)
        )
        self._writer(
            Event,
            (
                "event_id",
                "event_type",
                "name",
                "customer_id",
                "anonymous_id",
                "session_id",
                "product_id",
                "properties",
                "occurred_at",
                "received_at",
                "source",
            ),
        ).write(
            (
                event_id,
                event_type,
                name,
                customer_id(customer),
                anonymous_id,
                session_id,
                product_id(product),
                properties,
                occurred_at,
                occurred_at + 1,
                DEMO_SOURCE,
            )
            for event_id, event_type, name, customer, anonymous_id, session_id, product, properties, occurred_at in zip(
                e.event_id,
                e.event_type,
                e.name,
                e.customer,
                e.anonymous_id,
                e.session_id,
                e.product,
                e.properties,
                e.occurred_at,
                strict=True,
            )
        )
        r = chunk.reviews
        self._writer(
            Review,
            (
                "external_id",
                "source",
                "product_id",
                "customer_id",
                "rating",
                "title",
                "text",
                "language",
                "reviewed_at",
            ),
        ).write(
            (
                r.external_id[i],
                DEMO_SOURCE,
                product_pk[r.product[i]],
                customer_pk[r.customer[i]],
                r.rating[i],
                r.title[i],
                r.text[i],
                r.language[i],
                r.reviewed_at[i],
            )
            for i in range(len(r.external_id))
        )
        s = chunk.social_posts
        self._writer(
            SocialPost,
            (
                "platform",
                "external_id",
                "author_handle",
                "customer_id",
                "product_id",
                "text",
                "language",
                "likes",
                "shares",
                "posted_at",
            ),
        ).write(
            (
                s.platform[i],
                s.external_id[i],
                s.author_handle[i],
                customer_id(s.customer[i]),
                product_id(s.product[i]),
                s.text[i],
                s.language[i],
                s.likes[i],
                s.shares[i],
                s.posted_at[i],
            )
            for i in range(len(s.external_id))
        )

    def _writer(self, model: type[models.Model], names: Sequence[str]) -> _RowWriter:
        key = (model, tuple(names))
        if key not in self._writers:
            self._writers[key] = _RowWriter(model, names, batch_size=self.copy_batch_size)
        return self._writers[key]
