"""Shared by the HTTP benchmarks: run gunicorn exactly as `make serve` does, drive it with wrk.

Production settings, PostgreSQL and Redis from BENCH_DATABASE_URL / BENCH_REDIS_URL, gthread
workers (WEB_CONCURRENCY x WEB_THREADS, the `make serve` defaults). wrk (Debian `wrk`) runs a
Lua script that reports p50/p95/p99 from its full latency histogram.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv/bin/python")

_LUA = r"""
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter * 7919) % #paths + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("P50 %.3f\nP95 %.3f\nP99 %.3f\n", latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000))
  local e = summary.errors
  io.write(string.format("SOCKET_ERRORS %d\n", e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


def bench_env(database_url: str, redis_url: str) -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SMARTMKT_READ_DOTENV="0",
        DJANGO_SETTINGS_MODULE="smartmkt.settings.production",
    )


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    """Run `manage.py args` in the bench environment; return stdout when captured."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )
    return result.stdout if capture else ""


def database_create(name: str, *, fresh: bool) -> None:
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c"]
    if fresh:
        subprocess.run([*psql, f"DROP DATABASE IF EXISTS {name}"], capture_output=True, check=False)
    subprocess.run([*psql, f"CREATE DATABASE {name}"], capture_output=True, check=False)


@contextmanager
def gunicorn(env: dict[str, str], *, port: int, probe_path: str, key: str) -> Iterator[str]:
    """Serve on 127.0.0.1:port until the block ends; yields the worker description."""
    workers = env.get("WEB_CONCURRENCY", str(os.cpu_count() or 2))
    threads = env.get("WEB_THREADS", "8")
    server = subprocess.Popen(
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
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{probe_path}", headers={"Authorization": f"Bearer {key}"}
        )
        for _ in range(120):
            try:
                urllib.request.urlopen(request, timeout=10).read()
                break
            except OSError:
                time.sleep(0.5)
        yield f"{workers} gthread workers x {threads} threads"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def wrk(*, port: int, key: str, paths: list[str], connections: int, seconds: int) -> WrkResult:
    """Drive the server with `connections` keep-alive clients cycling through `paths`."""
    with tempfile.TemporaryDirectory() as folder:
        script, path_file = Path(folder) / "paths.lua", Path(folder) / "paths.txt"
        script.write_text(_LUA)
        path_file.write_text("\n".join(paths) + "\n")
        result = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "-s",
                str(script),
                "-H",
                f"Authorization: Bearer {key}",
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ, BENCH_PATHS=str(path_file)),
        )
    output = result.stdout
    print(output, file=sys.stderr)

    def number(pattern: str) -> float:
        match = re.search(pattern, output)
        return float(match.group(1)) if match else 0.0

    return WrkResult(
        requests_per_second=number(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=number(r"P50 ([\d.]+)"),
        p95_ms=number(r"P95 ([\d.]+)"),
        p99_ms=number(r"P99 ([\d.]+)"),
        non_2xx=int(number(r"Non-2xx or 3xx responses: (\d+)")),
        socket_errors=int(number(r"SOCKET_ERRORS (\d+)")),
    )
