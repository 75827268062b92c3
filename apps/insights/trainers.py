"""ML kind `insights.sentiment`: users retrain sentiment on their own labelled texts.

A run fine-tunes on a stored labelled dataset (see `services.sentiment`), holds out 20% of
each label to evaluate, and writes one model file. "adapter" mode (LoRA, CPU is fine) is the
default; "full" fine-tunes every encoder layer and is meant for GPU workers (`ml_gpu`). The
new version becomes champion; its `on_activate` hook queues a full re-analysis, so stored
results never mix two models for long.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from apps.core.errors import NotEnoughData, ValidationFailed
from apps.insights.engine import sentiment as engine
from apps.insights.services.runtime import SENTIMENT_KIND
from apps.ml.contracts import TrainingContext, TrainingOutput, number_param, unknown_params_reject
from apps.ml.services import registry as ml_registry

DESCRIPTION = (
    "Sentiment (positive / neutral / negative, English and Chinese): multilingual e5-small "
    "fine-tuned on your labelled texts (CSV text,label); LoRA adapters on CPU, full "
    "fine-tuning on GPU workers."
)
DEFAULTS: dict[str, Any] = {
    "dataset": "",
    "mode": engine.ADAPTER,
    "epochs": 2,
    "layers": 6,
    "learning_rate": 5e-4,
    "holdout": 0.2,
    "seed": 0,
}
MIN_PER_LABEL = 10


def sentiment_validate(params: dict[str, Any]) -> dict[str, Any]:
    """`dataset` (a stored labelled file), `mode` adapter|full, `epochs` 1-20, `layers` 1-12,
    `learning_rate`, `holdout` 0-0.5, `seed`."""
    unknown_params_reject(params, DEFAULTS)
    from apps.insights.services.sentiment import DATASET_NAME

    if not str(params.get("dataset") or "").strip():
        raise ValueError("dataset is required: upload a labelled CSV (text,label) first")
    if not DATASET_NAME.fullmatch(str(params["dataset"])):
        raise ValueError(
            "dataset must be the name of a stored labelled dataset (16 hex digits .csv)"
        )
    if params.get("mode") not in (engine.ADAPTER, engine.FULL):
        raise ValueError(f"mode must be {engine.ADAPTER} or {engine.FULL}")
    return {
        "dataset": str(params["dataset"]),
        "mode": params["mode"],
        "epochs": number_param(params, "epochs", low=1, high=20, integer=True),
        "layers": number_param(params, "layers", low=1, high=12, integer=True),
        "learning_rate": number_param(params, "learning_rate", low=1e-6, high=0.1),
        "holdout": number_param(params, "holdout", low=0, high=0.5),
        "seed": number_param(params, "seed", low=0, high=2**31 - 1, integer=True),
    }


def sentiment_train(context: TrainingContext) -> TrainingOutput:
    """Trainer of `insights.sentiment`."""
    from apps.insights.engine.text import text_clean
    from apps.insights.services.sentiment import (
        dataset_root,
        evaluation_by_language,
        holdout_split,
        labelled_read,
    )

    params = dict(context.params)
    path = dataset_root() / params["dataset"]
    try:
        data = labelled_read(path)
    except ValidationFailed as error:
        raise NotEnoughData(f"The dataset cannot be used: {error.message}") from None
    counts = {label: data.labels.count(label) for label in set(data.labels)}
    if len(counts) < 2 or min(counts.values()) < MIN_PER_LABEL:
        raise NotEnoughData(
            f"Training needs at least two labels with {MIN_PER_LABEL} texts each; got {counts}"
        )
    config = engine.SentimentConfig(
        layers=params["layers"],
        mode=params["mode"],
        epochs=params["epochs"],
        learning_rate=params["learning_rate"],
        seed=params["seed"],
    )
    train, test = holdout_split(data, holdout=params["holdout"], seed=params["seed"])
    context.report_progress(2, f"Fine-tuning on {len(train.texts):,} texts ({config.mode})")
    model = engine.fit(
        [text_clean(text) for text in train.texts],
        train.labels,
        config=config,
        device=context.device,
        progress=lambda percent, message: context.report_progress(2 + 0.9 * percent, message),
    )
    metrics: dict[str, Any] = dict(model.metrics)
    if test.texts:
        context.report_progress(93, f"Evaluating on {len(test.texts):,} held-out texts")
        evaluation = evaluation_by_language(model, test)
        metrics.update(
            accuracy=evaluation["accuracy"],
            macro_f1=evaluation["macro_f1"],
            holdout=evaluation,
        )
    metrics["config"] = dataclasses.asdict(config)
    model.metrics = metrics
    artifact = Path(context.work_dir) / "sentiment.safetensors"
    model.save(artifact)
    return TrainingOutput(
        artifact_path=artifact, metrics=metrics, dataset_hash=params["dataset"][:16]
    )


def sentiment_activated(model_version_id: int) -> None:
    """A new sentiment champion: analyse every stored text again with it. Not for the shipped
    head registered on first use: nothing was analysed with another model before it."""
    from apps.insights.choices import JobKind
    from apps.insights.services.store import analysis_job_start
    from apps.ml.selectors import model_version_get

    if model_version_get(model_version_id=model_version_id).params.get("shipped"):
        return
    analysis_job_start(kind=JobKind.REANALYZE)


def register_kinds() -> None:
    """Register the sentiment trainer with the ML platform (idempotent); from `ready()`."""
    ml_registry.register(
        SENTIMENT_KIND,
        sentiment_train,
        description=DESCRIPTION,
        gpu_capable=True,
        default_params=DEFAULTS,
        validate_params=sentiment_validate,
        train_all=False,
        on_activate=sentiment_activated,
    )
