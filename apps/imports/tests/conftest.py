"""Fixtures of the import tests: a private media folder, and a helper that imports a file."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apps.imports.choices import ImportTrigger
from apps.imports.models import ImportJob
from apps.imports.services import import_job_create, import_job_run


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files and error files of each test go to its own folder."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    return root


def upload(content: str | bytes, name: str = "data.csv") -> io.BytesIO:
    """A file as an upload hands it over: bytes with a name."""
    stream = io.BytesIO(content.encode() if isinstance(content, str) else content)
    stream.name = name
    return stream


@pytest.fixture
def run_import() -> Callable[..., ImportJob]:
    """Import `content` as `kind` the way the command line does (in this process)."""

    def _run(kind: str, content: str | bytes, name: str = "data.csv", **options: Any) -> ImportJob:
        job = import_job_create(
            kind=kind,
            file=upload(content, name),
            filename=name,
            trigger=ImportTrigger.CLI,
            in_background=False,
            **options,
        )
        finished = import_job_run(job_id=job.pk)
        assert finished is not None
        return finished

    return _run
