"""Backfill the message ledger from existing events; on PostgreSQL, partition events by month.

The events table becomes `PARTITION BY RANGE (occurred_at)` with primary key (id, occurred_at),
a sequence for ids, one partition per month holding data (and from one month back to three
ahead) and a DEFAULT partition as a safety net. Django's model state does not change: the
table keeps the same columns and index names. The SQL lives here, not in app code, so that
later changes to the app cannot change what this migration did.
"""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import migrations

INDEXES = {
    "event_customer_time": "(customer_id, occurred_at)",
    "event_product_time": "(product_id, occurred_at)",
    "event_type_time": "(event_type, occurred_at)",
    "event_anonymous_time": "(anonymous_id, occurred_at)",
    "event_time": "(occurred_at)",
}


def backfill_receipts(apps, schema_editor):
    # Events stored before the ledger existed: their payload is unknown, so the fingerprint is
    # empty, which the pipeline reads as "same payload" (a re-send is a duplicate).
    schema_editor.execute(
        "INSERT INTO events_messagereceipt (source, message_id, fingerprint, occurred_at, "
        "received_at) SELECT source, event_id, '', occurred_at, received_at FROM events_event "
        "WHERE event_id <> '' ON CONFLICT (source, message_id) DO NOTHING"
        if schema_editor.connection.vendor == "postgresql"
        else "INSERT OR IGNORE INTO events_messagereceipt (source, message_id, fingerprint, "
        "occurred_at, received_at) SELECT source, event_id, '', occurred_at, received_at "
        "FROM events_event WHERE event_id <> ''"
    )


def _months(start, end):
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def partition_events(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relkind FROM pg_class c WHERE c.relname = 'events_event' "
            "AND c.relnamespace = 'public'::regnamespace"
        )
        if cursor.fetchone()[0] == "p":
            return
        cursor.execute("SELECT min(occurred_at), max(occurred_at) FROM events_event")
        low, high = cursor.fetchone()
    now = datetime.now(dt_timezone.utc)
    start = (now.replace(day=1) - timedelta(days=28)).replace(day=1)
    end = now.replace(day=1) + timedelta(days=3 * 31)
    if low is not None:
        start, end = min(start, low), max(end, high)

    execute("ALTER TABLE events_event RENAME TO events_event_unpartitioned")
    for name in INDEXES:
        execute(f"DROP INDEX IF EXISTS {name}")
    execute(
        "CREATE TABLE events_event (LIKE events_event_unpartitioned INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (occurred_at)"
    )
    # Identity columns cannot live on a partitioned table before PostgreSQL 17: a sequence
    # owned by the column gives the same ids (and Django's sequence reset finds it).
    execute("ALTER TABLE events_event ALTER COLUMN id DROP IDENTITY IF EXISTS")
    execute("CREATE SEQUENCE events_event_ids AS bigint OWNED BY events_event.id")
    execute("ALTER TABLE events_event ALTER COLUMN id SET DEFAULT nextval('events_event_ids')")
    execute("ALTER TABLE events_event ADD PRIMARY KEY (id, occurred_at)")
    for year, month in _months(start, end):
        next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
        execute(
            f"CREATE TABLE events_event_p{year:04d}_{month:02d} PARTITION OF events_event "
            f"FOR VALUES FROM ('{year:04d}-{month:02d}-01 00:00+00') "
            f"TO ('{next_year:04d}-{next_month:02d}-01 00:00+00')"
        )
    execute("CREATE TABLE events_event_default PARTITION OF events_event DEFAULT")
    execute("INSERT INTO events_event SELECT * FROM events_event_unpartitioned")
    execute(
        "SELECT setval('events_event_ids', COALESCE((SELECT max(id) FROM events_event), 0) + 1,"
        " false)"
    )
    execute("DROP TABLE events_event_unpartitioned")
    for name, columns in INDEXES.items():
        execute(f"CREATE INDEX {name} ON events_event {columns}")
    execute(
        "ALTER TABLE events_event ADD CONSTRAINT events_event_customer_id_fk "
        "FOREIGN KEY (customer_id) REFERENCES customers_customer (id) "
        "DEFERRABLE INITIALLY DEFERRED"
    )
    execute(
        "ALTER TABLE events_event ADD CONSTRAINT events_event_product_id_fk "
        "FOREIGN KEY (product_id) REFERENCES catalog_product (id) DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0002_ingestion_ledger_quarantine"),
        ("customers", "0001_initial"),
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(backfill_receipts, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(partition_events, migrations.RunPython.noop, elidable=False),
    ]
