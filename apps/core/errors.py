"""Domain errors. Services raise these; the API handler turns them into `{detail, code}`."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule said no. Carries a stable machine-readable code and an HTTP status."""

    code = "invalid"
    status_code = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field


class ValidationFailed(DomainError):
    code = "invalid"
    status_code = 400


class NotFound(DomainError):
    code = "not_found"
    status_code = 404


class Conflict(DomainError):
    code = "conflict"
    status_code = 409


class NotEnoughData(DomainError):
    """Explicit, user-visible outcome of a model that has too little data to learn from."""

    code = "not_enough_data"
    status_code = 422
