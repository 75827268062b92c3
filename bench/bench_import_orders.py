"""CSV import of order lines into PostgreSQL: rows/s and memory, which must stay flat.

Generates a CSV of N order lines (default 1,000,000; 1-5 lines per order, 50,000 customers of
which some are new, 2,000 SKUs of which 5% are unknown to the catalogue), streaming it to a
temporary file, then imports it through the code path of `manage.py import_data --kind orders`
(import_job_create + import_job_run: chunked commits, error file). Reports rows/s, the peak
RSS (resource.getrusage ru_maxrss) and the RSS after 10%, 50% and 100% of the rows, so a
memory curve that does not grow with the file is visible. Run it at 100,000 and at 1,000,000
lines to compare the curves:

    .venv/bin/python bench/bench_import_orders.py --lines 100000
    .venv/bin/python bench/bench_import_orders.py            # 1,000,000

Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/smartmkt_imports_bench;
created and migrated when missing). Prints a JSON document on stdout, progress on stderr, and
a markdown row for docs/benchmarks.md. `--reimport` imports the same file a second time and
reports that run too (every order already there: nothing is stored).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django_setup import setup_django as django_database_setup  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smartmkt_imports_bench"
)
CUSTOMERS = 50_000
SKUS = 2_000
UNKNOWN_SKU_SHARE = 0.05
NEW_CUSTOMER_SHARE = 0.05
HEADER = [
    "order_id", "customer_id", "placed_at", "status", "channel", "currency", "sku", "quantity",
    "unit_price", "discount", "discount_total", "shipping_total", "coupon_code", "campaign",
]  # fmt: skip
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rss_mib() -> float:
    """Resident set size now (not the peak), from /proc."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_BYTES / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB on Linux


def generate(path: Path, lines: int, seed: int, run: str) -> int:
    """Write `lines` order lines to `path` one row at a time; returns the number of orders."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    written = orders = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        while written < lines:
            orders += 1
            size = min(rng.randint(1, 5), lines - written)
            if rng.random() < NEW_CUSTOMER_SHARE:
                customer = f"bench-new-{run}-{orders}"
            else:
                customer = f"bench-cust-{rng.randrange(CUSTOMERS):06d}"
            placed = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
            header = [
                f"{run}-{orders:08d}",
                customer,
                placed.strftime("%Y-%m-%dT%H:%M:%SZ"),
                rng.choice(("completed", "completed", "completed", "paid", "shipped", "refunded")),
                rng.choice(("web", "web", "app", "marketplace")),
                "EUR",
            ]
            coupon = "WELCOME10" if rng.random() < 0.1 else ""
            for position in range(size):
                if rng.random() < UNKNOWN_SKU_SHARE:
                    sku = f"LEGACY-{rng.randrange(500):04d}"
                else:
                    sku = f"BENCH-{rng.randrange(SKUS):05d}"
                price = rng.randrange(199, 20_000) / 100
                line = [sku, rng.randint(1, 3), f"{price:.2f}", "0"]
                if position == 0:
                    order_level = ["1.00" if coupon else "0", "4.90", coupon, ""]
                    writer.writerow(header + line + order_level)
                else:
                    # Later lines repeat the order's id, customer and time, like shop exports.
                    writer.writerow(header[:3] + ["", "", ""] + line + ["", "", "", ""])
                written += 1
    return orders


def setup_django() -> None:
    django_database_setup(DATABASE_URL)
    # A finished import schedules the cleaning pipeline. In production that is a task on a
    # worker; without a broker it would run here, in the measured process, after the import.
    import apps.imports.services.jobs as jobs

    jobs.cleaning_schedule = lambda **_: None


def ensure_catalogue() -> None:
    """The 2,000 bench SKUs, imported through the products import (skipped once there)."""
    from apps.catalog.selectors import product_ids_by_sku

    skus = [f"BENCH-{index:05d}" for index in range(SKUS)]
    if len(product_ids_by_sku(skus=skus)) == SKUS:
        return
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "title", "price", "category", "brand"])
        for index, sku in enumerate(skus):
            writer.writerow([sku, f"Bench product {index}", "19.90", "Bench > Things", "Bench"])
    started = time.monotonic()
    job = import_file("products", Path(handle.name))
    seconds = time.monotonic() - started
    os.unlink(handle.name)
    log(f"catalogue: {job.rows_created} products in {seconds:.1f} s")


def import_file(kind: str, path: Path, progress: Any = None) -> Any:
    from apps.imports.choices import ImportTrigger
    from apps.imports.services import import_job_create, import_job_run

    with path.open("rb") as stream:
        job = import_job_create(
            kind=kind,
            file=stream,
            filename=path.name,
            trigger=ImportTrigger.CLI,
            created_by_label="bench",
            in_background=False,
        )
    return import_job_run(job_id=job.pk, progress=progress)


def measure(path: Path, lines: int) -> dict[str, Any]:
    marks = {10: None, 50: None, 100: None}
    samples: dict[str, float] = {}
    started = time.monotonic()
    last_log = [0.0]

    def progress(job: Any) -> None:
        if not job.rows_total:
            return
        percent = job.rows_processed * 100 / job.rows_total
        for mark in marks:
            if marks[mark] is None and percent >= mark:
                marks[mark] = percent
                samples[f"rss_mib_at_{mark}pct"] = round(rss_mib(), 1)
        if job.rows_processed == job.rows_total:
            # Before the job's end schedules the cleaning pipeline (which runs in this
            # process without a broker and is not the import's memory).
            samples["peak_rss_mib"] = round(peak_rss_mib(), 1)
        elapsed = time.monotonic() - started
        if elapsed - last_log[0] > 10:
            last_log[0] = elapsed
            log(
                f"  {job.rows_processed:,}/{job.rows_total:,} rows, {elapsed:.0f} s, "
                f"rss {rss_mib():.0f} MiB"
            )

    rss_before = rss_mib()
    job = import_file("orders", path, progress)
    seconds = time.monotonic() - started
    return {
        "job_id": job.pk,
        "status": job.status,
        "rows": job.rows_processed,
        "created": job.rows_created,
        "skipped": job.rows_skipped,
        "failed": job.rows_failed,
        "details": job.details,
        "seconds": round(seconds, 1),
        "rows_per_second": round(job.rows_processed / seconds),
        "rss_mib_before": round(rss_before, 1),
        **samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reimport", action="store_true", help="Import the file twice.")
    parser.add_argument("--keep-file", action="store_true")
    args = parser.parse_args()

    setup_django()
    ensure_catalogue()
    run = uuid.uuid4().hex[:6]
    path = Path(tempfile.gettempdir()) / f"bench-orders-{run}-{args.lines}.csv"
    started = time.monotonic()
    orders = generate(path, args.lines, args.seed, run)
    size_mb = path.stat().st_size / 1e6
    log(
        f"generated {args.lines:,} lines / {orders:,} orders ({size_mb:.0f} MB) in "
        f"{time.monotonic() - started:.1f} s; rss {rss_mib():.0f} MiB"
    )
    result: dict[str, Any] = {
        "lines": args.lines,
        "orders": orders,
        "file_mb": round(size_mb, 1),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }
    result["import"] = measure(path, args.lines)
    log(f"import: {json.dumps(result['import'])}")
    if args.reimport:
        result["reimport"] = measure(path, args.lines)
        log(f"re-import: {json.dumps(result['reimport'])}")
    if not args.keep_file:
        path.unlink()
    print(json.dumps(result, indent=2))
    first = result["import"]
    print(
        f"| CSV import, {args.lines:,} order lines ({orders:,} orders, {size_mb:.0f} MB) | "
        f"{first['rows_per_second']:,} lines/s | {first['seconds']} s | RSS "
        f"{first.get('rss_mib_at_10pct')} / {first.get('rss_mib_at_50pct')} / "
        f"{first.get('rss_mib_at_100pct')} MiB at 10/50/100%, peak {first['peak_rss_mib']} MiB |",
        file=sys.stderr,
    )
    return 0 if first["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
