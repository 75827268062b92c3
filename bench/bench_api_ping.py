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
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smartmkt_bench"
)
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
    env = dict(
        os.environ,
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        SMARTMKT_READ_DOTENV="0",
        DJANGO_SETTINGS_MODULE="smartmkt.settings.production",
    )
    python = str(ROOT / ".venv/bin/python")
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", "CREATE DATABASE smartmkt_bench"],
        capture_output=True,
        check=False,
    )
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    created = subprocess.run(
        [python, "manage.py", "create_api_key", "--name", "bench-ping", "--scopes", "events:write"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    workers = env.get("WEB_CONCURRENCY", str(os.cpu_count() or 2))
    threads = env.get("WEB_THREADS", "8")
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "smartmkt.wsgi",
            "--bind",
            f"127.0.0.1:{args.port}",
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
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{args.port}/api/v1/ping"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
        for _ in range(60):
            try:
                urllib.request.urlopen(request, timeout=5).read()
                break
            except OSError:
                time.sleep(0.5)
        result = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(args.connections),
                "-d",
                f"{args.seconds}s",
                "--latency",
                "-H",
                f"Authorization: Bearer {key}",
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    output = result.stdout
    print(output, file=sys.stderr)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = re.search(r"50%\s+(\S+)", output).group(1)
    p99 = re.search(r"99%\s+(\S+)", output).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    print(
        f"| GET /api/v1/ping (make serve: {workers} gthread workers x {threads} threads) "
        f"| {args.connections} connections, {args.seconds} s | {rps:,.0f} req/s, p50 {p50}, p99 {p99}, "
        f"non-2xx {errors.group(1) if errors else 0} | {platform.node()} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
