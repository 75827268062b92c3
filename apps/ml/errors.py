"""Errors of the ML platform. Interfaces map DomainError subclasses to HTTP statuses."""

from __future__ import annotations

from apps.core.errors import Conflict


class RunBusy(Conflict):
    """Another live worker holds this run (its heartbeat is fresh); try again later."""

    code = "run_busy"
