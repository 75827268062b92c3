"""Precomputed candidates per known customer, in the cache (Redis when REDIS_URL is set).

When a champion is activated (after `recommender_train`, and by the scheduled catch-up for
runs that finished on a worker or a "Make champion"), every customer the model knows gets
their top candidates (100 by default, more for heavy buyers) stored under a key of the
champion's version id, so a new champion never reads the old one's entries. Requests re-rank
and filter these candidates with the visitor's current history and the placement's rules;
when there are none (new customer, cache expired) or too few survive the rules, they score
online. A marker per version says the precompute finished; it lives a day, the entries two,
so candidates are refreshed daily and never missing in between.

The cache is an accelerator, never a dependency: when it is unreachable the request is
scored online (slower, same result) and says `cache: "unavailable"`; after a failure the
process leaves the cache alone for RECOMMENDATIONS_CACHE_RETRY_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.utils import timezone
from redis.exceptions import RedisError

from apps.core.errors import Conflict, NotFound
from apps.customers.selectors import customer_list
from apps.ml import selectors as ml_selectors
from apps.recommendations.engine.model import RecommenderModel, history_matrix
from apps.recommendations.services import data
from apps.recommendations.services.champion import champion_version_get, model_for_version
from apps.recommendations.services.config import KIND, setting

logger = logging.getLogger(__name__)

KEY_PREFIX = "recommendations"
HISTORY_DAYS = 365
WRITE_BATCH = 500
MAX_EXTRA_CANDIDATES = 200  # heavy buyers get room for the items they bought
LOCK_SECONDS = 3600
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)

Progress = Callable[[float, str], None]

_state_lock = threading.Lock()
_unavailable_until = 0.0


class CacheUnavailable(Exception):
    """The candidates cache could not be reached; the caller scores online."""


def _no_progress(percent: float, message: str = "") -> None:
    """Progress sink for callers that show none."""


def cache_client() -> BaseCache:
    """The cache of this app's kept results (candidates here, answers in answers.py)."""
    return caches[setting("RECOMMENDATIONS_CACHE_ALIAS")]


def candidates_key(model_version_id: int, customer_id: int) -> str:
    return f"{KEY_PREFIX}:v{model_version_id}:c:{customer_id}"


def ready_key(model_version_id: int) -> str:
    return f"{KEY_PREFIX}:v{model_version_id}:ready"


LOCK_KEY = f"{KEY_PREFIX}:precompute:lock"


def cache_failed(error: BaseException) -> CacheUnavailable:
    """Remember the outage for a while and say what happened, once per outage."""
    global _unavailable_until
    with _state_lock:
        first = time.monotonic() >= _unavailable_until
        _unavailable_until = time.monotonic() + float(
            setting("RECOMMENDATIONS_CACHE_RETRY_SECONDS")
        )
    if first:
        logger.warning(
            "Recommendation cache unreachable (%s): scoring online until it is back", error
        )
    return CacheUnavailable(str(error))


def cache_guard() -> None:
    if time.monotonic() < _unavailable_until:
        raise CacheUnavailable("the cache failed recently; not asked again yet")


def cache_outage_forget() -> None:
    """Ask the cache again on the next request (tests, or after an operator fixed Redis)."""
    global _unavailable_until
    with _state_lock:
        _unavailable_until = 0.0


def _pack(indices: np.ndarray, scores: np.ndarray) -> bytes:
    return (
        np.asarray([indices.shape[0]], dtype=np.int32).tobytes()
        + np.asarray(indices, dtype=np.int32).tobytes()
        + np.asarray(scores, dtype=np.float32).tobytes()
    )


def _unpack(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    count = int(np.frombuffer(blob[:4], dtype=np.int32)[0])
    indices = np.frombuffer(blob[4 : 4 + 4 * count], dtype=np.int32).astype(np.int64)
    scores = np.frombuffer(blob[4 + 4 * count : 4 + 8 * count], dtype=np.float32).astype(np.float64)
    return indices, scores


def candidates_get(
    *, model_version_id: int, customer_id: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """(model indices, scores) best first, precomputed for this customer and version, or None.

    Raises CacheUnavailable when the cache cannot be reached.
    """
    cache_guard()
    try:
        blob = cache_client().get(candidates_key(model_version_id, customer_id))
    except CACHE_ERRORS as error:
        raise cache_failed(error) from error
    if not isinstance(blob, bytes) or len(blob) < 4:
        return None
    return _unpack(blob)


def precompute_state(*, model_version_id: int) -> dict[str, Any] | None:
    """What the finished precompute of a version stored ({customers, finished_at, ...}), or
    None when it has not run (or expired). Raises CacheUnavailable."""
    cache_guard()
    try:
        state = cache_client().get(ready_key(model_version_id))
    except CACHE_ERRORS as error:
        raise cache_failed(error) from error
    return state if isinstance(state, dict) else None


@dataclass(frozen=True)
class PrecomputeSummary:
    """One precompute: which version, how many customers, how long."""

    model_version_id: int
    version: int
    customers: int
    seconds: float


@dataclass(frozen=True)
class _Histories:
    """The last year's interactions of known customers, as rows for `history_matrix`."""

    external_ids: np.ndarray  # str, one per customer with history
    rows: np.ndarray  # int64 row (index into external_ids) per interaction
    items: np.ndarray  # int64 model item index per interaction
    timestamps: np.ndarray  # float64 epoch seconds
    weights: np.ndarray  # float64 event weight x quantity
    purchased: np.ndarray  # int64 distinct purchased items per customer


def _histories(model: RecommenderModel) -> _Histories:
    """Known customers' interactions of the last year with items the model knows (anonymous
    visitors are scored per request)."""
    log = data.interaction_log_load(since=timezone.now() - timedelta(days=HISTORY_DAYS)).log
    known = np.asarray(
        [not user.startswith(data.ANONYMOUS_PREFIX) for user in log.user_ids.tolist()], dtype=bool
    )
    skus, sku_codes = np.unique(log.item_ids[known], return_inverse=True)
    index_of = np.asarray(
        [-1 if (i := model.item_index(str(sku))) is None else i for sku in skus.tolist()],
        dtype=np.int64,
    )
    items = index_of[sku_codes] if sku_codes.size else np.empty(0, dtype=np.int64)
    usable = items >= 0
    users = log.user_ids[known][usable]
    external_ids, rows = np.unique(users, return_inverse=True)
    items = items[usable]
    weights = log.weights[known][usable].astype(np.float64)
    # Purchases weigh EVENT_WEIGHTS["purchase"] x quantity: at least that much.
    bought = weights >= data.EVENT_WEIGHTS["purchase"]
    purchased = np.zeros(external_ids.shape[0], dtype=np.int64)
    if bought.any():
        pairs = np.unique(np.stack([rows[bought], items[bought]]), axis=1)
        purchased = np.bincount(pairs[0], minlength=external_ids.shape[0])
    return _Histories(
        external_ids=external_ids,
        rows=rows.astype(np.int64),
        items=items,
        timestamps=log.timestamps[known][usable],
        weights=weights,
        purchased=purchased,
    )


def candidates_precompute(
    *, model_version_id: int | None = None, progress: Progress = _no_progress
) -> PrecomputeSummary:
    """Store the top candidates of every customer the version knows or who interacted since.

    Default: the champion. Refused (Conflict) when another precompute holds the lock or the
    model cannot be loaded; raises CacheUnavailable when the cache is down.
    """
    started = time.monotonic()
    if model_version_id is None:
        version = champion_version_get()
        if version is None:
            raise NotFound(f"No {KIND} model is trained yet; train one first (recommend train)")
    else:
        version = ml_selectors.model_version_get(model_version_id=model_version_id)
    model = model_for_version(version)
    if model is None:
        raise Conflict(f"{version} cannot be loaded; see the log, or train again")
    cache = cache_client()
    cache_guard()
    try:
        if not cache.add(LOCK_KEY, version.pk, timeout=LOCK_SECONDS):
            raise Conflict("Another precompute of recommendation candidates is running")
    except CACHE_ERRORS as error:
        raise cache_failed(error) from error
    try:
        count = _precompute(version, model, cache, progress)
    except CACHE_ERRORS as error:
        raise cache_failed(error) from error
    finally:
        try:
            cache.delete(LOCK_KEY)
        except CACHE_ERRORS:
            logger.warning("Could not release the precompute lock; it expires by itself")
    seconds = round(time.monotonic() - started, 3)
    logger.info(
        "Precomputed recommendation candidates of %s customers (%s) in %.1f s",
        count,
        version,
        seconds,
    )
    return PrecomputeSummary(
        model_version_id=version.pk, version=version.version, customers=count, seconds=seconds
    )


def _precompute(version: Any, model: RecommenderModel, cache: BaseCache, progress: Progress) -> int:
    lifetime = int(setting("RECOMMENDATIONS_PRECOMPUTE_SECONDS"))
    size = int(setting("RECOMMENDATIONS_CACHED_CANDIDATES"))
    progress(5, "Loading customers' histories")
    histories = _histories(model)
    history_row = {str(user): row for row, user in enumerate(histories.external_ids.tolist())}
    external_ids = {
        str(user)
        for user in model.user_ids.tolist()
        if not str(user).startswith(data.ANONYMOUS_PREFIX)
    } | set(history_row)
    customers = sorted(
        customer_list()
        .filter(external_id__in=external_ids)
        .order_by()
        .values_list("external_id", "pk", "scores__rfm_cell")
    )
    # One customer's interactions, by history row, for the batched history matrices.
    order = np.argsort(histories.rows, kind="stable")
    starts = np.searchsorted(histories.rows[order], np.arange(histories.external_ids.shape[0] + 1))
    now = timezone.now().timestamp()
    written = 0
    total = max(len(customers), 1)
    for offset in range(0, len(customers), WRITE_BATCH):
        batch = customers[offset : offset + WRITE_BATCH]
        picks = [
            order[starts[history_row[external_id]] : starts[history_row[external_id] + 1]]
            if external_id in history_row
            else order[:0]
            for external_id, _, _ in batch
        ]
        rows = np.concatenate(
            [
                np.full(pick.shape[0], position, dtype=np.int64)
                for position, pick in enumerate(picks)
            ]
        )
        chosen = np.concatenate(picks)
        matrix = history_matrix(
            rows=rows,
            items=histories.items[chosen],
            timestamps=histories.timestamps[chosen],
            weights=histories.weights[chosen],
            reference_times=np.full(len(batch), now),
            n_items=model.n_items,
            transform=model.history_transform,
            half_life_seconds=model.history_half_life_seconds,
            half_life_events=model.history_half_life_events,
        )
        user_indices = np.asarray(
            [
                -1 if (i := model.user_index(external_id)) is None else i
                for external_id, _, _ in batch
            ],
            dtype=np.int64,
        )
        segments = np.asarray(
            [
                -1 if (code := model.segment_index(cell or None)) is None else code
                for _, _, cell in batch
            ],
            dtype=np.int64,
        )
        # each history component reads the events with its own settings, as evaluated
        per_component = model.histories(
            rows=rows,
            items=histories.items[chosen],
            timestamps=histories.timestamps[chosen],
            event_weights=histories.weights[chosen],
            reference_times=np.full(len(batch), now),
        )
        scores = model.score_batch(
            user_indices=user_indices,
            history=matrix,
            segments=segments,
            histories=per_component,
        )
        entries: dict[str, bytes] = {}
        for position, (external_id, customer_id, _) in enumerate(batch):
            row = scores[position]
            bought = (
                int(histories.purchased[history_row[external_id]])
                if external_id in history_row
                else 0
            )
            keep = min(model.n_items, size + min(bought, MAX_EXTRA_CANDIDATES))
            top = (
                np.argpartition(-row, keep - 1)[:keep]
                if keep < model.n_items
                else np.arange(model.n_items)
            )
            top = top[np.lexsort((top, -row[top]))]
            entries[candidates_key(version.pk, customer_id)] = _pack(top, row[top])
        cache.set_many(entries, timeout=2 * lifetime)
        written += len(entries)
        progress(10 + 85 * written / total, f"{written:,} customers precomputed")
    cache.set(
        ready_key(version.pk),
        {
            "model_version_id": version.pk,
            "version": version.version,
            "customers": written,
            "finished_at": timezone.now().isoformat(),
        },
        timeout=lifetime,
    )
    return written


def candidates_precompute_if_stale() -> PrecomputeSummary | None:
    """Precompute the champion's candidates unless they are stored (the scheduled catch-up).

    Does nothing without a champion, while another precompute runs, or when the cache is
    unreachable (logged; requests are scored online meanwhile).
    """
    version = champion_version_get()
    if version is None:
        return None
    try:
        if precompute_state(model_version_id=version.pk) is not None:
            return None
        return candidates_precompute(model_version_id=version.pk)
    except CacheUnavailable:
        return None
    except Conflict as error:
        logger.info("Precompute skipped: %s", error.message)
        return None


def precompute_state_or_none(*, model_version_id: int) -> dict[str, Any] | None:
    """precompute_state, with an unreachable cache read as "not precomputed"."""
    try:
        return precompute_state(model_version_id=model_version_id)
    except CacheUnavailable:
        return None
