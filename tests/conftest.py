"""Cross-app fixtures. `real_worker` starts real Celery worker processes for worker tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKER_READY_SECONDS = 60


@dataclass
class WorkerProcess:
    """A `celery worker` subprocess in its own process group (so a kill takes its children)."""

    process: subprocess.Popen[bytes]
    hostname: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole group: the worker dies mid-task, like a lost host or OOM kill."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


class WorkerStarter:
    """Starts workers consuming from the test Redis and writing to the test database."""

    def __init__(self, *, var_dir: Path, redis_url: str) -> None:
        self.var_dir = var_dir
        self.redis_url = redis_url
        self.started: list[WorkerProcess] = []

    def start(
        self, queues: str = "ml_cpu,default", env: dict[str, str] | None = None
    ) -> WorkerProcess:
        from django.db import connection

        from smartmkt.celery import app

        db = connection.settings_dict
        credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        database_url = f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        hostname = f"test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "smartmkt.settings.test",
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "SMARTMKT_VAR_DIR": str(self.var_dir),
            **(env or {}),
        }
        log_path = self.var_dir / f"{hostname.split('@')[0]}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "smartmkt", "worker", "-Q", queues,
            "-P", "prefork", "-c", "1", "-n", hostname, "--loglevel", "INFO",
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = WorkerProcess(process=process, hostname=hostname, log_path=log_path)
        self.started.append(worker)
        deadline = time.monotonic() + WORKER_READY_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"Celery worker exited with {process.returncode}:\n{worker.log()}")
            if app.control.ping(destination=[hostname], timeout=0.5):
                return worker
        pytest.fail(f"Celery worker not ready after {WORKER_READY_SECONDS} s:\n{worker.log()}")

    def kill_all(self) -> None:
        for worker in self.started:
            worker.kill()


@pytest.fixture
def real_worker(transactional_db: Any, settings: Any, tmp_path: Path) -> Iterator[WorkerStarter]:
    """Real `celery worker` processes (prefork, concurrency 1); all SIGKILLed at teardown.

    The test process sends tasks through Redis instead of running them eagerly; both sides
    use the test database and a private ML_ARTIFACT_ROOT. The Redis test database is flushed
    before and after, so no stale message from another run reaches these workers.
    """
    import redis

    from smartmkt.celery import app

    var_dir = tmp_path / "var"
    var_dir.mkdir()
    settings.ML_ARTIFACT_ROOT = var_dir / "test-artifacts"  # what the workers' settings derive
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    starter = WorkerStarter(var_dir=var_dir, redis_url=settings.CELERY_BROKER_URL)
    try:
        yield starter
    finally:
        starter.kill_all()
        app.conf.task_always_eager = was_eager
        client.flushdb()
