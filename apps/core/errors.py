"""Domain errors. Services raise these; the API handler turns them into `{detail, code}`."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError


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

    @classmethod
    def from_django(cls, error: DjangoValidationError) -> ValidationFailed:
        """A model's full_clean() error as a ValidationFailed naming the first field."""
        field, messages = next(iter(error.message_dict.items()))
        name = "" if field == "__all__" else field
        text = f"{name}: {messages[0]}" if name else messages[0]
        return cls(text, field=name or None)


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
