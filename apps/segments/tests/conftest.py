"""Fixtures shared by the segments tests."""

from __future__ import annotations

from typing import Any

import pytest

from apps.ml import services as ml_services


@pytest.fixture
def activation_hooks_lost(monkeypatch: Any) -> None:
    """A champion changes while its on_activate hook cannot run (the broker was down): what
    the hourly catch-ups and the "store now" buttons exist for."""
    monkeypatch.setattr(ml_services, "_activation_notify", lambda **kwargs: None)
