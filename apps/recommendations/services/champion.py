"""The serving model: the champion's RecommenderModel, loaded once per process.

Requests ask the ML platform which version is champion (one indexed query, at most once per
RECOMMENDATIONS_CHAMPION_CHECK_SECONDS per process) and use the copy this process loaded for
that version id; a new champion (a finished run, "Make champion",
a roll-back) is loaded on the next request and the old copy dropped. An unreadable artifact
is logged and not retried for a minute: requests fall back to catalog popularity meanwhile,
never a 500.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from apps.core.recheck import Rechecked
from apps.ml import selectors as ml_selectors
from apps.recommendations.engine.model import RecommenderModel
from apps.recommendations.services.config import KIND, setting

logger = logging.getLogger(__name__)

BROKEN_RETRY_SECONDS = 60.0

_lock = threading.Lock()
_loaded: dict[int, RecommenderModel] = {}
_broken: dict[int, float] = {}


_champion: Rechecked[Any] = Rechecked(
    lambda: ml_selectors.champion_get(KIND),
    lambda: setting("RECOMMENDATIONS_CHAMPION_CHECK_SECONDS"),
)


def champion_version_get() -> Any:
    """The recommender's champion ModelVersion, or None before the first successful run;
    asked again at most every RECOMMENDATIONS_CHAMPION_CHECK_SECONDS in this process (a new
    champion serves within that time)."""
    return _champion.get()


def model_for_version(version: Any) -> RecommenderModel | None:
    """The loaded model of `version` (loading it on first use), None if its file is unusable."""
    with _lock:
        model = _loaded.get(version.pk)
        if model is not None:
            return model
        failed_at = _broken.get(version.pk)
        if failed_at is not None and time.monotonic() - failed_at < BROKEN_RETRY_SECONDS:
            return None
        path = ml_selectors.artifact_path(version)
        try:
            model = RecommenderModel.load(path)
        except (OSError, ValueError, KeyError) as error:
            logger.error("Recommender %s cannot be loaded from %s: %s", version, path, error)
            _broken[version.pk] = time.monotonic()
            return None
        _loaded.clear()  # only the champion stays in memory
        _loaded[version.pk] = model
        _broken.pop(version.pk, None)
        return model


def champion_model_get() -> tuple[Any, RecommenderModel | None]:
    """(champion version or None, its model or None)."""
    version = champion_version_get()
    if version is None:
        return None, None
    return version, model_for_version(version)


def loaded_models_clear() -> None:
    """Forget the models loaded in this process and the champion asked for (tests)."""
    _champion.forget()
    with _lock:
        _loaded.clear()
        _broken.clear()
