"""The error types services raise: a request the user can correct, and a write to history."""

from __future__ import annotations


class ApplicationError(Exception):
    """A refusal with a message written for the user (what was wrong and what to do)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ImmutableError(Exception):
    """An attempt to change or delete a record that is history (a version, an audit event)."""
