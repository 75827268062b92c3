"""Event ingestion throughput: POST /api/v1/batch of `make serve` from N concurrent clients.

Starts gunicorn exactly as `make serve` does (production settings, PostgreSQL, Redis; or use
--url/--key for a server you run), sends realistic Segment-style batches (page views, product
views, add to cart, searches, identifies, a few purchases with products; anonymous and known
visitors, some of them new customers) from N client threads over keep-alive connections, re-sends
a share of the batches as a client retry would, and reports:

- accepted events/s over the whole run, p50/p95 request latency;
- the row check: rows stored for this run's source == unique message ids sent (nothing lost),
  duplicates acknowledged == re-sent messages (nothing doubled);
- the ceiling: raw PostgreSQL COPY of the same rows into the same table, rows/s, and the ratio.

    .venv/bin/python bench/ingest.py [--events 200000] [--clients 8] [--batch-size 500]

Prints a JSON document on stdout (progress on stderr) and a markdown row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg2

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smartmkt_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
CUSTOMERS = 50_000
# Share of known visitors whose user id the shop has never seen (created by the pipeline).
NEW_CUSTOMER_SHARE = 0.02
SEARCHES = ["running shoes", "linen shirt", "gift for dad", "waterproof jacket", "yoga mat"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_message(rng: random.Random, source: str, now: datetime) -> dict:
    """One realistic browser/app message; mix close to a shop's traffic."""
    visitor = rng.randrange(200_000)
    known = rng.random() < 0.35
    message: dict = {
        "anonymous_id": f"anon-{visitor:06d}",
        "message_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "timestamp": (now - timedelta(seconds=rng.randrange(48 * 3600))).isoformat(),
        "source": source,
        "context": {
            "page": {
                "url": f"https://shop.example.com/p/{rng.randrange(5000)}",
                "referrer": "https://www.google.com/",
            },
            "user_agent": USER_AGENT,
            "library": {"name": "smartmkt.js", "version": "1.0.0"},
            "session_id": f"s-{visitor}-{rng.randrange(3)}",
        },
    }
    if known:
        message["user_id"] = (
            f"BENCH-NEW-{rng.getrandbits(40):x}"
            if rng.random() < NEW_CUSTOMER_SHARE
            else f"BENCH-C{visitor % CUSTOMERS:05d}"
        )
    roll = rng.random()
    sku = f"SKU-{rng.randrange(1, 2001):05d}"
    if roll < 0.40:
        message.update(type="page", name="Product list")
    elif roll < 0.75:
        message.update(
            type="track",
            event="Product Viewed",
            properties={"sku": sku, "price": round(rng.uniform(5, 300), 2), "currency": "USD"},
        )
    elif roll < 0.88:
        message.update(
            type="track",
            event="Product Added",
            properties={"sku": sku, "quantity": 1, "price": round(rng.uniform(5, 300), 2)},
        )
    elif roll < 0.97:
        message.update(
            type="track", event="Products Searched", properties={"query": rng.choice(SEARCHES)}
        )
    elif roll < 0.995 or not known:
        message.update(
            type="identify",
            user_id=f"BENCH-C{visitor % CUSTOMERS:05d}",
            traits={"email": f"bench{visitor % CUSTOMERS}@example.com", "plan": "free"},
        )
    else:
        message.update(
            type="track",
            event="Order Completed",
            properties={
                "order_id": f"BENCH-O-{message['message_id']}",
                "products": [{"sku": sku, "quantity": 1, "price": 19.9}],
                "currency": "USD",
            },
        )
    return message


def start_server(port: int, env: dict) -> subprocess.Popen:
    """gunicorn with the flags of `make serve`."""
    workers = env.get("WEB_CONCURRENCY", str(os.cpu_count() or 2))
    threads = env.get("WEB_THREADS", "8")
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "smartmkt.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            workers,
            "--threads",
            threads,
            "--keep-alive",
            "30",
            "--backlog",
            "2048",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(ROOT / "var" / "bench-ingest-server.log", "w"),  # noqa: SIM115
        start_new_session=True,
    )


def seed_customers(count: int, env: dict) -> None:
    """The shop's existing customers (BENCH-C00000 ...), as an import would have left them.

    Known visitors of the run are drawn from them, plus NEW_CUSTOMER_SHARE of ids never seen,
    which the pipeline creates on the fly (sign-ups).
    """
    code = (
        "from apps.customers.models import Customer\n"
        "Customer.objects.bulk_create([Customer(external_id=f'BENCH-C{n:05d}', "
        f"email=f'bench{{n}}@example.com') for n in range({count})], "
        "batch_size=5000, ignore_conflicts=True)"
    )
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
    )


def prepare_database(env: dict) -> str:
    python = str(ROOT / ".venv/bin/python")
    name = urllib.parse.urlparse(DATABASE_URL).path.lstrip("/")
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"CREATE DATABASE {name}"],
        capture_output=True,
        check=False,
    )
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    created = subprocess.run(
        [
            python,
            "manage.py",
            "create_api_key",
            "--name",
            "bench-ingest",
            "--scopes",
            "events:write",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return created.stdout.strip().splitlines()[-1]


def send_all(
    host: str, port: int, key: str, bodies: list[bytes], clients: int
) -> tuple[list[float], dict[str, int], int]:
    """Send every body once, `clients` at a time; returns latencies, counts, HTTP errors."""
    latencies: list[float] = []
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
    errors = 0
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def client() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection(host, port, timeout=120)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            for _attempt in range(5):
                started = time.perf_counter()
                try:
                    connection.request("POST", "/api/v1/batch", body=bodies[index], headers=headers)
                    response = connection.getresponse()
                    payload = response.read()
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection(host, port, timeout=120)
                    with lock:
                        errors += 1
                    continue
                elapsed = time.perf_counter() - started
                if response.status != 200:
                    with lock:
                        errors += 1
                    time.sleep(0.2)
                    continue
                counts = orjson.loads(payload)["counts"]
                with lock:
                    latencies.append(elapsed)
                    for name in totals:
                        totals[name] += counts[name]
                break
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, totals, errors


def copy_ceiling(messages: list[dict], source: str) -> float:
    """Raw COPY of the same rows (already resolved, no validation) into events_event."""
    now = datetime.now(UTC).isoformat()
    buffer = io.StringIO()
    escape = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
    for message in messages:
        properties = message.get("properties") or message.get("traits") or {}
        row = [
            "page_view" if message["type"] == "page" else "custom",
            message.get("event") or message.get("name") or "",
            "\\N",
            message["anonymous_id"],
            message["context"]["session_id"],
            "\\N",
            orjson.dumps(properties).decode().translate(escape),
            orjson.dumps(message["context"]).decode().translate(escape),
            message["timestamp"],
            now,
            source,
            message["message_id"],
        ]
        buffer.write("\t".join(row) + "\n")
    connection = psycopg2.connect(DATABASE_URL)
    try:
        with connection, connection.cursor() as cursor:
            buffer.seek(0)
            started = time.perf_counter()
            cursor.copy_expert(
                "COPY events_event (event_type, name, customer_id, anonymous_id, session_id, "
                "product_id, properties, context, occurred_at, received_at, source, event_id) "
                "FROM STDIN",
                buffer,
            )
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    return len(messages) / elapsed


def count_rows(source: str) -> tuple[int, int]:
    connection = psycopg2.connect(DATABASE_URL)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(DISTINCT event_id) FROM events_event WHERE source = %s",
                [source],
            )
            return cursor.fetchone()
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--resend", type=float, default=0.05, help="share of batches re-sent (client retries)"
    )
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--url", default="", help="a running server instead of starting one")
    parser.add_argument("--key", default="", help="events:write key for --url")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    env = dict(
        os.environ,
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        SMARTMKT_READ_DOTENV="0",
        DJANGO_SETTINGS_MODULE="smartmkt.settings.production",
        LOG_LEVEL="WARNING",
    )
    server = None
    if args.url:
        parsed = urllib.parse.urlparse(args.url)
        host, port, key = parsed.hostname, parsed.port or 80, args.key
    else:
        log("preparing database and key ...")
        key = prepare_database(env)
        seed_customers(CUSTOMERS, env)
        host, port = "127.0.0.1", args.port
        server = start_server(port, env)
    try:
        for _ in range(120):
            try:
                probe = http.client.HTTPConnection(host, port, timeout=5)
                probe.request("GET", "/api/v1/ping", headers={"Authorization": f"Bearer {key}"})
                if probe.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        rng = random.Random(args.seed)
        source = f"bench-{uuid.uuid4().hex[:8]}"
        now = datetime.now(UTC)
        log(f"generating {args.events:,} messages (source {source}) ...")
        messages = [make_message(rng, source, now) for _ in range(args.events)]
        bodies = [
            orjson.dumps({"batch": messages[start : start + args.batch_size]})
            for start in range(0, len(messages), args.batch_size)
        ]
        resent = rng.sample(range(len(bodies)), int(len(bodies) * args.resend))
        schedule = bodies + [bodies[index] for index in resent]
        rng.shuffle(schedule)
        resent_messages = sum(
            min(args.batch_size, args.events - index * args.batch_size) for index in resent
        )
        log(f"sending {len(schedule)} requests from {args.clients} clients ...")
        started = time.perf_counter()
        latencies, totals, errors = send_all(host, port, key, schedule, args.clients)
        elapsed = time.perf_counter() - started
        rows, distinct = count_rows(source)
        log("COPY ceiling ...")
        ceiling = copy_ceiling(messages, f"{source}-copy")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    ordered = sorted(latencies)
    throughput = totals["accepted"] / elapsed
    result = {
        "events": args.events,
        "clients": args.clients,
        "batch_size": args.batch_size,
        "requests": len(schedule),
        "seconds": round(elapsed, 2),
        "accepted_per_second": round(throughput),
        "latency_ms": {
            "p50": round(statistics.median(ordered) * 1000, 1),
            "p95": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
            "max": round(ordered[-1] * 1000, 1),
        },
        "accepted": totals["accepted"],
        "duplicates": totals["duplicates"],
        "rejected": totals["rejected"],
        "http_errors_retried": errors,
        "row_check": {
            "rows": rows,
            "distinct_ids": distinct,
            "expected": args.events,
            "resent_messages": resent_messages,
            "nothing_lost": distinct == args.events,
            "nothing_doubled": rows == distinct and totals["duplicates"] == resent_messages,
        },
        "copy_rows_per_second": round(ceiling),
        "ratio_to_copy": round(throughput / ceiling, 3),
        "machine": f"{platform.node()}, {os.cpu_count()} cores",
        "date": datetime.now(UTC).date().isoformat(),
    }
    print(json.dumps(result, indent=2))
    log(
        f"| POST /api/v1/batch ({args.clients} clients, {args.batch_size}/batch, "
        f"{args.events:,} events + {resent_messages:,} re-sent) | {throughput:,.0f} events/s | "
        f"p50 {result['latency_ms']['p50']} ms, p95 {result['latency_ms']['p95']} ms | "
        f"rows {rows:,} = ids {distinct:,} | COPY {ceiling:,.0f} rows/s | "
        f"{result['ratio_to_copy']:.0%} of COPY |"
    )
    return (
        0 if result["row_check"]["nothing_lost"] and result["row_check"]["nothing_doubled"] else 1
    )


if __name__ == "__main__":
    sys.exit(main())
