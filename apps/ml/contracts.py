"""What a training engine receives and returns, and how a kind is described.

These frozen dataclasses are the one interface between the job runner (`apps.ml.services`)
and the trainers that other apps register (`apps.ml.registry`). Trainers never touch the
`TrainingRun` row: they read `params`, report progress through the context and leave one
artifact file in `work_dir`; the runner hashes, stores and registers it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Trainers of every app hash their training data the same way (`TrainingOutput.dataset_hash`).
from apps.ml.engine.device import device_pick
from apps.ml.engine.fingerprint import arrays_fingerprint

# ...and check their parameters the same way.
from apps.ml.engine.params import number_param, unknown_params_reject

__all__ = [
    "device_pick",
    "ActivationHook",
    "KindSpec",
    "ParamsValidator",
    "ProgressCallback",
    "Trainer",
    "TrainingContext",
    "TrainingOutput",
    "arrays_fingerprint",
    "number_param",
    "unknown_params_reject",
]

ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class TrainingContext:
    """Everything a trainer may use: its parameters, a device, a private folder, progress."""

    run_id: int
    kind: str
    params: Mapping[str, Any]
    device: str  # "cuda" when a GPU is usable and the kind is GPU-capable, else "cpu"
    work_dir: Path  # private to this attempt; deleted after the run, whatever the outcome
    attempt: int = 1
    progress_callback: ProgressCallback | None = field(default=None, repr=False, compare=False)

    def report_progress(self, percent: float, message: str = "") -> None:
        """Show `percent` (0-100) and a short message in the UI; also proves the worker lives.

        Cheap enough to call a few times a second; call it at least once a minute during
        long phases so the run is not mistaken for a dead worker's.
        """
        if self.progress_callback is not None:
            self.progress_callback(percent, message)


@dataclass(frozen=True)
class TrainingOutput:
    """What a trainer returns: one complete artifact file inside `work_dir`, its metrics."""

    artifact_path: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    dataset_hash: str = ""


Trainer = Callable[[TrainingContext], TrainingOutput]
ParamsValidator = Callable[[dict[str, Any]], dict[str, Any]]
# Called with the model version's id after the transaction that made it champion commits
# (a published run or a hand-made activation). It should enqueue work, not do it.
ActivationHook = Callable[[int], None]


@dataclass(frozen=True)
class KindSpec:
    """A registered kind of model: who trains it and how it is described to users."""

    kind: str
    trainer: Trainer = field(repr=False)
    description: str
    gpu_capable: bool = False
    default_params: Mapping[str, Any] = field(default_factory=dict)
    # Trained by `manage.py train --all` (demo set-up, routine retraining); False for tools
    # such as the runner self-test.
    train_all: bool = True
    # Cleans user-given params (defaults filled in) or raises ValueError naming the field.
    validate_params: ParamsValidator | None = field(default=None, repr=False)
    # What to do once a version of this kind becomes champion: store its scores, warm caches.
    on_activate: ActivationHook | None = field(default=None, repr=False)

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Defaults merged with `params`, then checked by the kind's validator if it has one."""
        merged = {**self.default_params, **params}
        if self.validate_params is None:
            return merged
        return self.validate_params(merged)
