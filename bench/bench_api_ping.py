"""Throughput of `make serve` on its defaults: GET /api/v1/ping with a valid key, by wrk.

Runs gunicorn exactly as `make serve` does (production settings, PostgreSQL, Redis cache for the
per-key rate limit) on a spare port, then drives it with wrk (Debian package `wrk`) over
keep-alive connections. Prints a markdown row for docs/benchmarks.md.

    .venv/bin/python bench/bench_api_ping.py [--seconds 15] [--connections 64]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys

from serve import bench_env, database_create, gunicorn, manage, wrk

DATABASE = os.environ.get("BENCH_DATABASE", "smartmkt_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    env = bench_env(f"postgres://postgres@127.0.0.1:5432/{DATABASE}", REDIS_URL)
    database_create(DATABASE, fresh=False)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    key = manage(
        env, "create_api_key", "--name", "bench-ping", "--scopes", "events:write", capture=True
    ).splitlines()[-1]
    with gunicorn(env, port=args.port, probe_path="/api/v1/ping", key=key) as workers:
        result = wrk(
            port=args.port,
            key=key,
            paths=["/api/v1/ping"],
            connections=args.connections,
            seconds=args.seconds,
        )
    print(
        f"| GET /api/v1/ping (make serve: {workers}) "
        f"| {args.connections} connections, {args.seconds} s | "
        f"{result.requests_per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, non-2xx {result.non_2xx} | {platform.node()} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
