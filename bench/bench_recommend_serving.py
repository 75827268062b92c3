"""Latency and throughput of GET /api/v1/recommendations/{customer} under `make serve`.

Set-up (once per database): migrations, the demo shop (`demo_data --customers N`), a trained
and activated recommender (`recommend train`), which precomputes candidates into Redis.
Then 20 keep-alive clients (wrk) request recommendations for a fixed mix of ids: 90% known
customers, 10% ids nobody has seen (cold start), and in the same run the trivial
authenticated endpoint GET /api/v1/ping (the floor). Two servers: one computing every answer
(RECOMMENDATIONS_ANSWER_SECONDS=0: Redis candidates, history, rules, MMR, reasons), one
reusing kept answers after every visitor of the mix asked once. Prints markdown rows for
docs/benchmarks.md. `--redis-down` points the app's cache at a closed port to measure the
online-scoring fallback.

    .venv/bin/python bench/bench_recommend_serving.py [--customers 5000] [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from serve import PYTHON, ROOT, WrkResult, bench_env, database_create, gunicorn, manage, wrk

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
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--fresh", action="store_true", help="rebuild the database and model")
    parser.add_argument("--redis-down", action="store_true", help="cache on a closed port")
    parser.add_argument(
        "--mode", choices=("computed", "kept"), help="measure only this server (default: both)"
    )
    args = parser.parse_args()
    env = bench_env(f"postgres://postgres@127.0.0.1:5432/{DATABASE}", REDIS_URL)
    database_create(DATABASE, fresh=args.fresh)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    if not _known_customers(1):
        # set-up runs its tasks in-process (no worker needed): training, then the activation
        # hook's precompute of every customer's candidates into Redis
        setup_env = dict(env, CELERY_TASK_ALWAYS_EAGER="1")
        print(f"Generating the demo shop ({args.customers:,} customers)", file=sys.stderr)
        manage(setup_env, "demo_data", "--customers", str(args.customers), "--seed", "1")
        print("Training the recommender", file=sys.stderr)
        manage(setup_env, "recommend", "train")
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
    cache = "Redis down (online scoring)" if args.redis_down else "Redis"
    modes = ("computed",) if args.redis_down else ("computed", "kept answers")
    if args.mode:
        modes = tuple(mode for mode in modes if mode.startswith(args.mode))
    for mode in modes:
        answer_seconds = "0" if mode == "computed" else "300"
        mode_env = dict(serve_env, RECOMMENDATIONS_ANSWER_SECONDS=answer_seconds)
        with (
            gunicorn(mode_env, port=args.port, probe_path="/api/v1/ping", key=key) as workers,
            _flusher(mode_env),
        ):
            if mode == "kept answers":
                # steady state: every visitor of the mix asked once already (a shop page
                # view before); the run then measures reuse plus whatever the stamps reject
                _warm(args.port, key, paths)
            else:
                wrk(port=args.port, key=key, paths=paths[:200], connections=4, seconds=3)
            # This VM's speed drifts (shared host): the floor and the endpoint alternate in
            # rounds, and each figure is the median over the rounds.
            pings, recommends = [], []
            for _ in range(args.rounds):
                for results, round_paths in ((pings, ["/api/v1/ping"]), (recommends, paths)):
                    results.append(
                        wrk(
                            port=args.port,
                            key=key,
                            paths=round_paths,
                            connections=args.connections,
                            seconds=args.seconds,
                        )
                    )
        ratio = statistics.median(
            r.requests_per_second / max(p.requests_per_second, 1e-9)
            for r, p in zip(recommends, pings, strict=True)
        )
        for name, results in (
            (f"ping (floor, {mode} server)", pings),
            (f"recommendations, {mode}", recommends),
        ):
            print(
                f"| {name}, {cache} | {args.connections} clients, {args.rounds} x {args.seconds} s, "
                f"{workers} | {_median(results, 'requests_per_second'):,.0f} req/s "
                f"| p50 {_median(results, 'p50_ms'):.1f} ms | p95 {_median(results, 'p95_ms'):.1f} ms "
                f"| p99 {_median(results, 'p99_ms'):.1f} ms "
                f"| non-2xx {sum(r.non_2xx + r.socket_errors for r in results)} | {platform.node()} |"
            )
        print(f"{mode}: throughput / ping, median of the rounds: {ratio:.2f}")
    return 0


@contextmanager
def _flusher(env: dict[str, str]) -> Iterator[None]:
    """What a worker does in production: move the queued served-request rows into the table
    (here every 5 s; the beat schedule says every minute), so their inserts load PostgreSQL
    during the run as they would."""
    code = (
        "import time, django; django.setup(); "
        "from apps.recommendations.services import served_log_flush\n"
        "while True:\n    served_log_flush(); time.sleep(5)"
    )
    process = subprocess.Popen([PYTHON, "-c", code], cwd=ROOT, env=env, start_new_session=True)
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def _median(results: list[WrkResult], name: str) -> float:
    return statistics.median(getattr(result, name) for result in results)


def _warm(port: int, key: str, paths: list[str]) -> None:
    """Ask for every path once (8 at a time)."""

    def fetch(path: str) -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {key}"}
        )
        urllib.request.urlopen(request, timeout=60).read()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fetch, sorted(set(paths))))


if __name__ == "__main__":
    sys.exit(main())
