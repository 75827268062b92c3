"""Fixtures of the recommendations tests: a private artifact root, clean caches per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches

from apps.recommendations.services.cache import cache_outage_forget
from apps.recommendations.services.champion import loaded_models_clear
from apps.recommendations.services.data import catalogue_memory_forget
from apps.recommendations.services.fallback import popularity_cache_clear


@pytest.fixture(autouse=True)
def artifact_root(settings: Any, tmp_path: Path) -> Path:
    """Each test publishes into its own folder."""
    root = tmp_path / "artifacts"
    settings.ML_ARTIFACT_ROOT = root
    return root


@pytest.fixture(autouse=True)
def clean_caches() -> Iterator[None]:
    """Nothing a previous test loaded or cached leaks into the next one."""
    loaded_models_clear()
    popularity_cache_clear()
    cache_outage_forget()
    catalogue_memory_forget()
    caches["default"].clear()
    yield
    loaded_models_clear()
    popularity_cache_clear()
    cache_outage_forget()
    catalogue_memory_forget()
