"""Benchmark `manage.py demo_data`: wall time, throughput and peak memory per database.

Runs the command as a user would, in a child process, on a fresh database each time:

* PostgreSQL: database `smartmkt_bench` on the local server (created with psql when absent,
  dropped and re-created before each run so every run starts empty, then migrated);
* SQLite: a new file in a temporary SMARTMKT_VAR_DIR, migrated.

Usage (from the project root):

    .venv/bin/python bench/bench_demo_data.py                       # PG 5k + 100k, SQLite 5k
    .venv/bin/python bench/bench_demo_data.py --postgres 5000 --sqlite 5000 --rerun

Prints a markdown table, one row per run, as runs finish. Peak RSS is the child's
`ru_maxrss` from wait4, so it covers the whole command (Django, engine, loader).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PG_HOST, PG_USER, PG_DB = "127.0.0.1", "postgres", "smartmkt_bench"
PG_URL = f"postgres://{PG_USER}@{PG_HOST}:5432/{PG_DB}"
SEED, END_DATE = 7, "2026-11-29"
HEADER = (
    "| database | customers | rows written | events | wall s | rows/s | peak RSS MiB | run |\n"
    "|---|---:|---:|---:|---:|---:|---:|---|"
)


def _environment(database: str, var_dir: Path) -> dict[str, str]:
    env = dict(os.environ, SMARTMKT_READ_DOTENV="0", SMARTMKT_VAR_DIR=str(var_dir))
    env.pop("DATABASE_URL", None)
    if database == "postgresql":
        env["DATABASE_URL"] = PG_URL
    return env


def _psql(sql: str) -> str:
    result = subprocess.run(
        ["psql", "-h", PG_HOST, "-U", PG_USER, "-d", "postgres", "-Atqc", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def _fresh_postgres(env: dict[str, str]) -> None:
    if _psql(f"SELECT 1 FROM pg_database WHERE datname = '{PG_DB}'") == "1":
        _psql(f"DROP DATABASE {PG_DB} WITH (FORCE)")
    _psql(f"CREATE DATABASE {PG_DB}")
    _migrate(env)


def _migrate(env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def _demo_data(env: dict[str, str], customers: int, truth: Path) -> tuple[dict, float, float]:
    """Run the command; return its JSON summary, wall seconds and peak RSS in MiB."""
    command = [
        PYTHON,
        "manage.py",
        "demo_data",
        "--customers",
        str(customers),
        "--seed",
        str(SEED),
        "--end-date",
        END_DATE,
        "--truth-file",
        str(truth),
        "--flush",
        "--json",
        "-v0",
    ]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"demo_data failed with exit code {child.returncode}")
    return json.loads(output), seconds, usage.ru_maxrss / 1024


def _row(database: str, customers: int, summary: dict, seconds: float, rss: float, run: str) -> str:
    rows = sum(summary["counts"].values())
    return (
        f"| {database} | {customers:,} | {rows:,} | {summary['counts']['events']:,} | "
        f"{seconds:.1f} | {rows / seconds:,.0f} | {rss:.0f} | {run} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", default="5000,100000", help="customer counts on PostgreSQL ('' skips)"
    )
    parser.add_argument("--sqlite", default="5000", help="customer counts on SQLite ('' skips)")
    parser.add_argument(
        "--rerun", action="store_true", help="also time a --flush re-run of the first size"
    )
    args = parser.parse_args()
    sizes = {
        "postgresql": [int(s) for s in args.postgres.split(",") if s.strip()],
        "sqlite": [int(s) for s in args.sqlite.split(",") if s.strip()],
    }
    print(f"<!-- {os.cpu_count()} CPUs, seed {SEED}, end date {END_DATE} -->", file=sys.stderr)
    print(HEADER, flush=True)
    for database, counts in sizes.items():
        for number, customers in enumerate(counts):
            with tempfile.TemporaryDirectory(prefix="bench-demo-") as folder:
                var_dir = Path(folder)
                env = _environment(database, var_dir)
                if database == "postgresql":
                    _fresh_postgres(env)
                else:
                    _migrate(env)
                truth = var_dir / "truth.json"
                summary, seconds, rss = _demo_data(env, customers, truth)
                print(
                    _row(database, customers, summary, seconds, rss, "empty database"), flush=True
                )
                if args.rerun and number == 0:
                    summary, seconds, rss = _demo_data(env, customers, truth)
                    print(
                        _row(database, customers, summary, seconds, rss, "re-run with --flush"),
                        flush=True,
                    )


if __name__ == "__main__":
    main()
