"""Segment refresh time against the floor: one hand-written SQL query of the same predicate.

Generates a shop straight in PostgreSQL with generate_series (customers, 2,000 products in
a small category tree, 6 behaviour events per customer over the last 90 days in monthly
partitions, 1.2 orders per customer over a year, scores for 80% of the customers), then
measures, in the same run:

  floor      the hand-written SQL of the segment's predicate, ids fetched
  compiled   the query services.compiler builds from the JSON definition, ids fetched
  create     segment_create: compile + members + diff + every write (all members enter)
  refresh    segment_refresh with nothing to change (the scheduled full refresh)
  refresh+1d segment_refresh one day later (windows slide: customers enter and leave)
  touch 1k   segment_refresh_incremental for 1,000 customers (what ingest batches cause)

for the 4-condition segment of the issue: country in (DE, FR, GB) AND signed up more than 30
days ago AND viewed products of the category women (with its sub-categories) at least 3
times in the last 30 days AND churn risk > 0.3. A second definition swaps the behaviour for "did not
purchase in the last 90 days" (an anti-join). Both member sets are checked equal to the
floor's, and the plan is checked to scan only the partitions of the window. Times are the
best of 7 runs (floor and compiled query in turns), as the machine may be shared.

    .venv/bin/python bench/bench_segments.py --customers 100000
    .venv/bin/python bench/bench_segments.py --customers 1000000

Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/smartmkt_seg_bench;
created and migrated when missing; its shop tables are emptied and regenerated). Prints one
JSON document on stdout, progress on stderr, and markdown rows for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django_setup import setup_django as django_database_setup  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smartmkt_seg_bench"
)
EVENTS_PER_CUSTOMER = 6
ORDERS_PER_CUSTOMER = 1.2
PRODUCTS = 2000
REPEATS = 7
TOUCHED = 1000

VIEWS = {
    "type": "event",
    "event": "product_view",
    "where": {"category": "women"},
    "operator": "gte",
    "value": 3,
    "window": {"last_days": 30},
}
NO_PURCHASE = {"type": "order", "operator": "equals", "value": 0, "window": {"last_days": 90}}
COMMON = [
    {"type": "property", "field": "country", "operator": "in", "value": ["DE", "FR", "GB"]},
    {"type": "property", "field": "signup_at", "operator": "more_than_days_ago", "value": 30},
    {"type": "score", "field": "churn_risk", "operator": "gt", "value": 0.3},
]
FLOOR_COMMON = """
    SELECT c.id FROM customers_customer c
    JOIN segments_customerscores s ON s.customer_id = c.id
    WHERE c.country IN ('DE', 'FR', 'GB') AND c.signup_at < %(signup_before)s
      AND s.churn_risk > 0.3 AND {behaviour}
"""
FLOOR_VIEWS = """c.id IN (
        SELECT e.customer_id FROM events_event e
        JOIN catalog_product p ON p.id = e.product_id
        JOIN catalog_category k ON k.id = p.category_id
        WHERE e.event_type = 'product_view'
          AND e.occurred_at >= %(window_start)s AND e.occurred_at <= %(now)s
          AND (k.path = 'women' OR k.path LIKE 'women/%%')
        GROUP BY e.customer_id HAVING count(*) >= 3)"""
FLOOR_NO_PURCHASE = """NOT EXISTS (
        SELECT 1 FROM events_order o WHERE o.customer_id = c.id
          AND o.status IN ('paid', 'shipped', 'completed')
          AND o.placed_at >= %(purchase_start)s AND o.placed_at <= %(now)s)"""
DEFINITIONS = {
    "views_3_in_30_days": ([*COMMON[:2], VIEWS, COMMON[2]], FLOOR_VIEWS),
    "no_purchase_in_90_days": ([*COMMON[:2], NO_PURCHASE, COMMON[2]], FLOOR_NO_PURCHASE),
}
CATEGORIES = [
    ("Women", "women", "women", None),
    ("Dresses", "dresses", "women/dresses", "women"),
    ("Maxi dresses", "maxi-dresses", "women/dresses/maxi-dresses", "dresses"),
    ("Tops", "tops", "women/tops", "women"),
    ("Men", "men", "men", None),
    ("Shirts", "shirts", "men/shirts", "men"),
    ("Shoes", "shoes", "shoes", None),
    ("Boots", "boots", "shoes/boots", "shoes"),
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def setup_django() -> None:
    django_database_setup(DATABASE_URL)


def generate(customers: int, now: Any) -> dict[str, float]:
    """The shop, written by INSERT ... SELECT generate_series (seconds per table)."""
    from django.db import connection

    from apps.events.services import event_partitions_ensure
    from apps.events.services.partitions import months_between

    timings: dict[str, float] = {}
    event_partitions_ensure(months=months_between((now - timedelta(days=100)).date(), now.date()))
    with connection.cursor() as cursor:

        def run(name: str, sql: str, params: dict[str, Any] | None = None) -> None:
            started = time.monotonic()
            cursor.execute(sql, params or {})
            timings[name] = round(time.monotonic() - started, 2)
            log(f"  {name}: {timings[name]:.1f} s")

        cursor.execute("SELECT setseed(0.42)")
        run(
            "truncate",
            "TRUNCATE segments_segment, segments_segmentmembership, "
            "segments_segmentmembershipevent, segments_segmentsize, "
            "segments_segmenttouchedcustomer, segments_customerscores, events_event, "
            "events_orderline, events_order, customers_customer, catalog_product, "
            "catalog_category, catalog_brand RESTART IDENTITY CASCADE",
        )
        for name, slug, path, parent in CATEGORIES:
            cursor.execute(
                "INSERT INTO catalog_category (name, slug, path, parent_id, created_at, "
                "updated_at) VALUES (%s, %s, %s, (SELECT id FROM catalog_category WHERE "
                "slug = %s), now(), now())",
                [name, slug, path, parent],
            )
        run(
            "products",
            """INSERT INTO catalog_product (sku, title, description, price, currency, stock,
                 tags, attributes, image, is_active, category_id, imputed_values, price_band,
                 created_at, updated_at)
               SELECT 'BENCH-' || g, 'Product ' || g, '', 19.90, 'EUR', 10, '[]', '{}', '',
                 true, (SELECT id FROM catalog_category ORDER BY id OFFSET (g %% 8) LIMIT 1),
                 '{}', '', now(), now()
               FROM generate_series(1, %(products)s) g""",
            {"products": PRODUCTS},
        )
        run(
            "customers",
            """INSERT INTO customers_customer (external_id, email, phone, first_name,
                 last_name, gender, city, region, country, language, signup_at,
                 acquisition_channel, attributes, age_band, imputed_values, created_at,
                 updated_at)
               SELECT 'bench-' || g, 'c' || g || '@example.com', '', 'First', 'Last' || g, '',
                 '', '', (ARRAY['DE','FR','GB','US','IT','ES','NL','PL','SE','JP'])
                 [1 + floor(random() * 10)::int], 'en',
                 %(now)s - random() * interval '730 days', '', '{}', '', '{}', now(), now()
               FROM generate_series(1, %(customers)s) g""",
            {"customers": customers, "now": now},
        )
        run(
            "scores",
            """INSERT INTO segments_customerscores (customer_id, rfm_cell, lifecycle_stage,
                 cluster_name, explanations, updated_at, churn_risk, p_alive)
               SELECT id, '', '', '', '{}', now(), random(), random()
               FROM customers_customer WHERE random() < 0.8""",
        )
        # Bulk load: the event indexes are dropped and built again after the rows are in (a
        # sorted build instead of millions of random index inserts), as a restore would.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND tablename = 'events_event' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        event_indexes = cursor.fetchall()
        for index_name, _ in event_indexes:
            cursor.execute(f"DROP INDEX {index_name}")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        # Activity is skewed: a customer id drawn as N * u^2 (many events for a few).
        run(
            "events",
            """INSERT INTO events_event (event_type, name, customer_id, anonymous_id,
                 session_id, product_id, properties, occurred_at, received_at, source,
                 event_id, context)
               SELECT CASE WHEN r < 0.6 THEN 'product_view' WHEN r < 0.85 THEN 'page_view'
                 ELSE 'add_to_cart' END, '', 1 + floor(random() ^ 2 * %(customers)s)::bigint,
                 '', '', 1 + floor(random() * %(products)s)::bigint, '{}', t, t, 'bench',
                 'e' || g, '{}'
               FROM (SELECT g, random() AS r,
                            %(now)s - random() * interval '90 days' AS t
                     FROM generate_series(1, %(events)s) g) x
               ORDER BY t""",
            {
                "customers": customers,
                "products": PRODUCTS,
                "now": now,
                "events": customers * EVENTS_PER_CUSTOMER,
            },
        )
        started = time.monotonic()
        for _, definition in event_indexes:
            cursor.execute(definition.replace(" ON ONLY ", " ON "))
        timings["event_indexes"] = round(time.monotonic() - started, 2)
        log(f"  event_indexes: {timings['event_indexes']:.1f} s")
        run(
            "orders",
            """INSERT INTO events_order (external_id, customer_id, status, channel, placed_at,
                 currency, subtotal, discount_total, shipping_total, total, coupon_code,
                 campaign, quality_flags, created_at, updated_at)
               SELECT 'o' || g, 1 + floor(random() ^ 2 * %(customers)s)::bigint,
                 CASE WHEN random() < 0.9 THEN 'completed' ELSE 'cancelled' END, 'web',
                 %(now)s - random() * interval '365 days', 'EUR', 50, 0, 0, 50, '', '', '[]',
                 now(), now()
               FROM generate_series(1, %(orders)s) g""",
            {"customers": customers, "now": now, "orders": int(customers * ORDERS_PER_CUSTOMER)},
        )
        run("analyze", "ANALYZE")
    return timings


def best_seconds(function: Any, repeats: int = REPEATS) -> tuple[float, Any]:
    """The fastest of `repeats` runs: on a shared machine the minimum is the cost of the work
    itself, the other runs add other processes' load."""
    samples, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - started)
    return min(samples), result


def best_interleaved(first: Any, second: Any, repeats: int = REPEATS) -> tuple[float, float]:
    """Fastest run of each of two functions, run in turns so both see the same load."""
    first_samples, second_samples = [], []
    for _ in range(repeats):
        for function, samples in ((first, first_samples), (second, second_samples)):
            started = time.perf_counter()
            function()
            samples.append(time.perf_counter() - started)
    return min(first_samples), min(second_samples)


def partitions_scanned(sql: str, params: Any) -> tuple[int, int]:
    """(event partitions in the plan, event partitions that exist)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'events_event'::regclass"
        )
        total = cursor.fetchone()[0]
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            relation = node.get("Relation Name", "")
            if relation.startswith("events_event_"):
                names.add(relation)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan if isinstance(plan, list) else json.loads(plan))
    return len(names), total


def measure(name: str, definition_conditions: list, behaviour_sql: str, now: Any) -> dict:
    from django.db import connection

    from apps.customers.selectors import customer_list
    from apps.segments.services.compiler import CompileContext, members_queryset
    from apps.segments.services.segments import (
        definition_parse,
        segment_create,
        segment_refresh,
        segment_refresh_incremental,
    )

    definition = {"type": "group", "operator": "and", "conditions": definition_conditions}
    floor_sql = FLOOR_COMMON.format(behaviour=behaviour_sql)
    floor_params = {
        "now": now,
        "signup_before": now - timedelta(days=30),
        "window_start": now - timedelta(days=30),
        "purchase_start": now - timedelta(days=90),
    }

    def floor() -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute(floor_sql, floor_params)
            return {row[0] for row in cursor.fetchall()}

    def compiled() -> set[int]:
        root = definition_parse(definition)
        return set(members_queryset(root, CompileContext(now=now)))

    floor_ids, compiled_ids = floor(), compiled()  # also warms the caches for both
    assert compiled_ids == floor_ids, f"{name}: compiled members differ from the floor's"
    floor_seconds, compiled_seconds = best_interleaved(floor, compiled)
    queryset = members_queryset(definition_parse(definition), CompileContext(now=now))
    sql, params = queryset.query.sql_with_params()
    scanned, partitions = partitions_scanned(sql, params)

    started = time.perf_counter()
    segment = segment_create(name=f"bench {name}", definition=definition, now=now)
    create_seconds = time.perf_counter() - started
    assert segment.member_count == len(floor_ids)
    refresh_seconds, _ = best_seconds(lambda: segment_refresh(segment=segment, now=now))
    started = time.perf_counter()
    shifted = segment_refresh(segment=segment, now=now + timedelta(days=1))
    shifted_seconds = time.perf_counter() - started
    touched = list(customer_list().order_by("?").values_list("pk", flat=True)[:TOUCHED])
    later = now + timedelta(days=1)
    touch_seconds, _ = best_seconds(
        lambda: segment_refresh_incremental(customer_ids=touched, now=later,
                                            segment_ids=[segment.pk]),
        repeats=3,
    )  # fmt: skip
    result = {
        "members": len(floor_ids),
        "floor_seconds": round(floor_seconds, 4),
        "compiled_seconds": round(compiled_seconds, 4),
        "compiled_ratio": round(compiled_seconds / floor_seconds, 2),
        "create_seconds": round(create_seconds, 4),
        "refresh_seconds": round(refresh_seconds, 4),
        "refresh_ratio": round(refresh_seconds / floor_seconds, 2),
        "refresh_next_day_seconds": round(shifted_seconds, 4),
        "next_day_entered": shifted.entered,
        "next_day_exited": shifted.exited,
        "incremental_1000_seconds": round(touch_seconds, 4),
        "event_partitions_scanned": scanned,
        "event_partitions": partitions,
    }
    log(f"  {name}: {json.dumps(result)}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--skip-generate", action="store_true", help="reuse the current data")
    arguments = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.utils import timezone

    now = timezone.now().replace(microsecond=0)
    log(f"generating {arguments.customers:,} customers ...")
    timings = {} if arguments.skip_generate else generate(arguments.customers, now)
    with connection.cursor() as cursor:  # segments of an earlier run on the same data
        cursor.execute(
            "TRUNCATE segments_segment, segments_segmentmembership, "
            "segments_segmentmembershipevent, segments_segmentsize CASCADE"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events_event")
        events = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM events_order")
        orders = cursor.fetchone()[0]
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SELECT count(*) FROM customers_customer")
        customers = cursor.fetchone()[0]
    results = {
        name: measure(name, conditions, behaviour, now)
        for name, (conditions, behaviour) in DEFINITIONS.items()
    }
    document = {
        "customers": customers,
        "events": events,
        "orders": orders,
        "generate_seconds": timings,
        "segments": results,
        "machine": {"python": platform.python_version(), "postgresql": version,
                    "cpus": os.cpu_count()},
    }  # fmt: skip
    print(json.dumps(document, indent=2))
    log(
        "| customers | segment | members | floor SQL | compiled | ratio | full refresh | ratio "
        "| refresh +1 day | 1,000 touched | partitions scanned |"
    )
    for name, row in results.items():
        log(
            f"| {customers:,} | {name} | {row['members']:,} | {row['floor_seconds'] * 1000:.0f} ms "
            f"| {row['compiled_seconds'] * 1000:.0f} ms | {row['compiled_ratio']:.2f} "
            f"| {row['refresh_seconds'] * 1000:.0f} ms | {row['refresh_ratio']:.2f} "
            f"| {row['refresh_next_day_seconds'] * 1000:.0f} ms (+{row['next_day_entered']:,} "
            f"−{row['next_day_exited']:,}) | {row['incremental_1000_seconds'] * 1000:.0f} ms "
            f"| {row['event_partitions_scanned']} of {row['event_partitions']} |"
        )


if __name__ == "__main__":
    main()
