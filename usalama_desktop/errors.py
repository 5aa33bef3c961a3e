"""Errors sorted the qutebrowser way.

``UsalamaError`` and its subclasses are the user's environment or input: they carry a message a clerk can act on
and never hold record values, so they may be shown, logged and audited. Anything else is our bug and goes to the
crash dialog with a redacted trace.
"""

from __future__ import annotations


class UsalamaError(Exception):
    """Something the user can act on. The message says what happened and what to do."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(UsalamaError):
    pass


class PermissionDenied(UsalamaError):
    pass


class WrongPassword(UsalamaError):
    pass


class AccountLocked(UsalamaError):
    pass


class LoginDelayed(UsalamaError):
    def __init__(self, message: str, seconds: float):
        super().__init__(message)
        self.seconds = seconds


class DatabaseDamaged(UsalamaError):
    pass


class DatabaseTooNew(UsalamaError):
    pass


class WeakCipher(UsalamaError):
    pass


class NotInitialised(UsalamaError):
    pass


class StorageError(UsalamaError):
    """The disk said no: full, read-only, locked."""


class ValidationFailed(UsalamaError):
    """A record broke one or more rules. ``problems`` maps field name (or '' for the form) to messages."""

    def __init__(self, problems: dict[str, list[str]]):
        self.problems = problems
        lines = []
        for field, messages in problems.items():
            for m in messages:
                lines.append(f"{field}: {m}" if field else m)
        super().__init__("; ".join(lines))


class ConflictError(UsalamaError):
    """Someone else saved the record after it was opened."""


class ImportRejected(UsalamaError):
    """An import (file or bundle) was refused as a whole; nothing was written."""


class Cancelled(UsalamaError):
    pass


class DatabaseClosed(UsalamaError):
    """Work arrived after the window locked and the database closed; it is dropped, nothing was half-written."""
