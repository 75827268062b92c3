"""Latency and throughput of GET /api/v1/recommendations/{customer} under `make serve`.

Set-up (once per database): migrations, the demo shop (`demo_data --customers N`), a trained
and activated recommender (`recommend train`), which precomputes candidates into Redis.
Then 20 keep-alive clients (wrk) request recommendations for a fixed mix of ids: 90% known
customers, 10% ids nobody has seen (cold start), and in the same run the trivial
authenticated endpoint GET /api/v1/ping (the floor). Prints markdown rows for
docs/benchmarks.md. `--redis-down` points the app's cache at a closed port to measure the
online-scoring fallback.

    .venv/bin/python bench/bench_recommend_serving.py [--customers 5000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys

from serve import bench_env, database_create, gunicorn, manage, wrk

DATABASE = os.environ.get("BENCH_DATABASE", "smartmkt_bench_rec")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def _known_customers(limit: int) -> list[str]:
    result = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            DATABASE,
            "-At",
            "-c",
            f"SELECT external_id FROM customers_customer ORDER BY md5(external_id) LIMIT {limit}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if line]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--fresh", action="store_true", help="rebuild the database and model")
    parser.add_argument("--redis-down", action="store_true", help="cache on a closed port")
    args = parser.parse_args()
    env = bench_env(f"postgres://postgres@127.0.0.1:5432/{DATABASE}", REDIS_URL)
    database_create(DATABASE, fresh=args.fresh)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    if not _known_customers(1):
        print(f"Generating the demo shop ({args.customers:,} customers)", file=sys.stderr)
        manage(env, "demo_data", "--customers", str(args.customers), "--seed", "1")
        print("Training the recommender", file=sys.stderr)
        manage(env, "recommend", "train")
    key = manage(
        env,
        "create_api_key",
        "--name",
        "bench-recommend",
        "--scopes",
        "recommendations:read",
        capture=True,
    ).splitlines()[-1]
    rng = random.Random(7)
    known = _known_customers(3000)
    paths = [
        f"/api/v1/recommendations/{rng.choice(known)}?n=10"
        if rng.random() < 0.9
        else f"/api/v1/recommendations/visitor-{rng.randrange(10**9)}?n=10"
        for _ in range(5000)
    ]
    serve_env = dict(env)
    if args.redis_down:
        serve_env["REDIS_URL"] = "redis://127.0.0.1:6390/0"
    with gunicorn(serve_env, port=args.port, probe_path="/api/v1/ping", key=key) as workers:
        wrk(port=args.port, key=key, paths=paths[:200], connections=4, seconds=3)  # warm up
        recommend = wrk(
            port=args.port,
            key=key,
            paths=paths,
            connections=args.connections,
            seconds=args.seconds,
        )
        ping = wrk(
            port=args.port,
            key=key,
            paths=["/api/v1/ping"],
            connections=args.connections,
            seconds=args.seconds,
        )
    cache = "Redis down (online scoring)" if args.redis_down else "Redis candidates"
    for name, result in (("recommendations", recommend), ("ping (floor)", ping)):
        print(
            f"| {name}, {cache} | {args.connections} clients, {args.seconds} s, {workers} "
            f"| {result.requests_per_second:,.0f} req/s | p50 {result.p50_ms:.1f} ms | "
            f"p95 {result.p95_ms:.1f} ms | p99 {result.p99_ms:.1f} ms | non-2xx "
            f"{result.non_2xx + result.socket_errors} | {platform.node()} |"
        )
    ratio = recommend.requests_per_second / max(ping.requests_per_second, 1e-9)
    print(f"throughput ratio recommendations / ping: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
