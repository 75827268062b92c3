"""The models text analysis runs on, loaded once per process.

Serving reads the `champion` of `insights.sentiment` (house rule 8). On a fresh install there
is none yet: the head that ships with the product (`engine/assets/`) is registered as a
version the first time it is needed, so every stored prediction names a real version.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.insights.engine.sentiment import SentimentModel
from apps.ml.contracts import device_pick
from apps.ml.selectors import artifact_path, champion_get
from apps.ml.services import model_version_import

SENTIMENT_KIND = "insights.sentiment"
TOPICS_KIND = "insights.topics"
SHIPPED_HEAD = (
    Path(__file__).resolve().parent.parent / "engine" / "assets" / "sentiment-e5-6l.safetensors"
)

_lock = threading.Lock()


@dataclass(frozen=True)
class LoadedSentiment:
    """A sentiment model ready to predict, and the version it came from."""

    model: SentimentModel
    model_version_id: int
    label: str


def sentiment_champion_ensure() -> Any:
    """The champion version of `insights.sentiment`; registers the shipped head if none."""
    champion = champion_get(SENTIMENT_KIND)
    if champion is not None:
        return champion
    metrics = SentimentModel.metadata(SHIPPED_HEAD).get("metrics", {})
    return model_version_import(
        kind=SENTIMENT_KIND,
        source=SHIPPED_HEAD,
        metrics={**metrics, "source": "shipped with SmartMkt"},
        params={"shipped": True},
    )


@functools.lru_cache(maxsize=2)
def _sentiment_load(path: str, content_hash: str, device: str, quantise: bool) -> SentimentModel:
    return SentimentModel.load(Path(path), device=device, quantise=quantise)


def sentiment_model_get() -> LoadedSentiment:
    """The champion sentiment model, loaded (about 5 s the first time in a process)."""
    version = sentiment_champion_ensure()
    with _lock:
        model = _sentiment_load(
            str(artifact_path(version)),
            version.content_hash,
            device_pick(),
            settings.INSIGHTS_SENTIMENT_INT8,
        )
    return LoadedSentiment(model, version.pk, f"{SENTIMENT_KIND} v{version.version}")


def embedder_get() -> Any:
    """The shared sentence embedder (multilingual e5-small, 12 layers)."""
    from apps.insights.engine.encoder import embedder_get as engine_embedder_get

    with _lock:
        return engine_embedder_get(device_pick())
