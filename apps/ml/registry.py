"""Registry of trainable kinds. Apps register their trainers in `AppConfig.ready()`.

Explicit registration (no dynamic class loading, house style): each app imports its own
trainer functions and calls `register`. The runner and every interface (API, admin, CLI,
web) look kinds up here, so a kind that is not registered cannot be started.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.ml.contracts import ActivationHook, KindSpec, ParamsValidator, Trainer

_KINDS: dict[str, KindSpec] = {}


class UnknownKind(LookupError):
    """No trainer is registered under this kind."""


def register(
    kind: str,
    trainer: Trainer,
    *,
    description: str,
    gpu_capable: bool = False,
    default_params: Mapping[str, Any] | None = None,
    validate_params: ParamsValidator | None = None,
    train_all: bool = True,
    on_activate: ActivationHook | None = None,
) -> KindSpec:
    """Register `trainer` for `kind` ("<app>.<model>"). Registering the same trainer twice is a no-op."""
    if not kind or len(kind) > 64 or not kind.replace(".", "").replace("_", "").isalnum():
        raise ValueError(f"Kind {kind!r} must be 1-64 characters of letters, digits, '.' and '_'")
    spec = KindSpec(
        kind=kind,
        trainer=trainer,
        description=description,
        gpu_capable=gpu_capable,
        default_params=dict(default_params or {}),
        validate_params=validate_params,
        train_all=train_all,
        on_activate=on_activate,
    )
    existing = _KINDS.get(kind)
    if existing is not None and existing.trainer is not trainer:
        raise ValueError(f"Kind {kind!r} is already registered to {existing.trainer!r}")
    _KINDS[kind] = spec
    return spec


def unregister(kind: str) -> None:
    """Remove a kind (tests that register throw-away kinds clean up with this)."""
    _KINDS.pop(kind, None)


def get(kind: str) -> KindSpec:
    """The spec of `kind`, or UnknownKind naming the registered kinds."""
    try:
        return _KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(_KINDS)) or "none"
        raise UnknownKind(f"Unknown kind {kind!r}; registered kinds: {known}") from None


def is_registered(kind: str) -> bool:
    return kind in _KINDS


def kinds() -> list[KindSpec]:
    """Every registered kind, sorted by name."""
    return [_KINDS[name] for name in sorted(_KINDS)]
