"""Fixtures of the ML tests: a private artifact root and throw-away kinds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.ml import registry


@pytest.fixture(autouse=True)
def artifact_root(settings: Any, tmp_path: Path) -> Path:
    """Each test publishes into its own folder."""
    root = tmp_path / "artifacts"
    settings.ML_ARTIFACT_ROOT = root
    return root


@pytest.fixture
def register_kind() -> Iterator[Callable[..., None]]:
    """Register a kind for one test; it is removed afterwards."""
    registered: list[str] = []

    def _register(kind: str, trainer: Callable[..., Any], **options: Any) -> None:
        options.setdefault("description", f"Test kind {kind}")
        registry.register(kind, trainer, **options)
        registered.append(kind)

    yield _register
    for kind in registered:
        registry.unregister(kind)
