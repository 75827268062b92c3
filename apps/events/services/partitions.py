"""Monthly partitions of the events table on PostgreSQL (declarative RANGE partitioning).

`events_event` is partitioned by `occurred_at`, one partition per calendar month (UTC) named
`events_event_pYYYY_MM`, plus a DEFAULT partition that catches any row whose month has no
partition yet, so an insert never fails for want of one. Partitions are created ahead of time
by the periodic `events.ensure_event_partitions_task` (smartmkt/schedules.py) and on demand by
the ingest pipeline for the months of each batch; creating a month whose rows already sit in
the default partition moves them into the new partition first. On SQLite every function here
is a no-op: the table is a plain table.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction

PARENT_TABLE = "events_event"
DEFAULT_PARTITION = "events_event_default"
# Months created ahead of the current one by the periodic task.
MONTHS_AHEAD = 3
# Months kept behind the current one: the contract wants partitions for any timestamp from 48
# hours back onwards; one full month back covers that on the first days of a month.
MONTHS_BEHIND = 1
# pg_advisory_xact_lock key serialising partition DDL across processes ("smkt" "part").
PARTITION_LOCK_KEY = 0x736D6B74_70617274

_known_months: set[tuple[int, int]] = set()
_known_lock = threading.Lock()


def is_partitioned() -> bool:
    """True on PostgreSQL, where the events table is partitioned."""
    return connection.vendor == "postgresql"


def partition_name(year: int, month: int) -> str:
    return f"{PARENT_TABLE}_p{year:04d}_{month:02d}"


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def months_between(start: date, end: date) -> list[tuple[int, int]]:
    """Every (year, month) from the month of `start` to the month of `end`, inclusive."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = _next_month(year, month)
    return months


def event_partition_list() -> list[dict]:
    """The partitions of the events table with their bounds and approximate row counts
    (the planner's estimate: None before the partition was first analysed)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT child.relname, pg_get_expr(child.relpartbound, child.oid), child.reltuples
            FROM pg_inherits
            JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            WHERE parent.relname = %s
            ORDER BY child.relname
            """,
            [PARENT_TABLE],
        )
        rows = cursor.fetchall()
    return [
        # reltuples is -1 until the partition is first analysed (autovacuum does it).
        {"name": name, "bounds": bounds, "approximate_rows": int(tuples) if tuples >= 0 else None}
        for name, bounds, tuples in rows
    ]


def _existing_months() -> set[tuple[int, int]]:
    months = set()
    prefix = f"{PARENT_TABLE}_p"
    for partition in event_partition_list():
        name = partition["name"]
        if name.startswith(prefix):
            year, month = name[len(prefix) :].split("_")
            months.add((int(year), int(month)))
    return months


def _create_month(year: int, month: int) -> None:
    """Create one monthly partition, moving its rows out of the default partition first.

    PostgreSQL refuses to attach a partition while the default partition holds rows of its
    range, so those rows move in the same transaction: nothing is lost or doubled.
    """
    name = partition_name(year, month)
    low = _month_start(year, month)
    high = _month_start(*_next_month(year, month))
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is not None:
            return
        cursor.execute(
            f'CREATE TABLE "{name}" (LIKE "{PARENT_TABLE}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'
        )
        cursor.execute(
            f'WITH moved AS (DELETE FROM "{DEFAULT_PARTITION}" '
            "WHERE occurred_at >= %s AND occurred_at < %s RETURNING *) "
            f'INSERT INTO "{name}" SELECT * FROM moved',
            [low, high],
        )
        cursor.execute(
            f'ALTER TABLE "{PARENT_TABLE}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)',
            [low, high],
        )


def event_partitions_ensure(*, months: Iterable[tuple[int, int]]) -> list[str]:
    """Make sure a monthly partition exists for each (year, month); returns the ones created.

    Cheap when they exist (a per-process cache); creation is serialised across processes by an
    advisory lock and runs in its own transaction (savepoint when called inside one).
    """
    if not is_partitioned():
        return []
    wanted = set(months)
    with _known_lock:
        missing = wanted - _known_months
    if not missing:
        return []
    created = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITION_LOCK_KEY])
        existing = _existing_months()
        for year, month in sorted(missing - existing):
            _create_month(year, month)
            created.append(partition_name(year, month))
        existing |= missing
    with _known_lock:
        _known_months.update(existing)
    return created


def event_partitions_ensure_ahead(*, today: date | None = None) -> list[str]:
    """Partitions from MONTHS_BEHIND before to MONTHS_AHEAD after the current month, and a
    partition for every month that has rows in the default partition (swept out of it)."""
    if not is_partitioned():
        return []
    today = today or datetime.now(UTC).date()
    start = (today.replace(day=1) - timedelta(days=MONTHS_BEHIND * 28)).replace(day=1)
    end = today.replace(day=1) + timedelta(days=MONTHS_AHEAD * 31)
    months = set(months_between(start, end))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') "
            f'FROM "{DEFAULT_PARTITION}"'
        )
        months |= {(row[0].year, row[0].month) for row in cursor.fetchall()}
    return event_partitions_ensure(months=months)


def event_partitions_forget() -> None:
    """Drop the per-process cache of known partitions (tests that recreate the table)."""
    with _known_lock:
        _known_months.clear()
