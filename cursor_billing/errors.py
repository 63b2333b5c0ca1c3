"""One exception hierarchy for everything the user can get wrong or the API can refuse,
and the one place that maps it to the exit codes of SPEC §9."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    AUTH = 3
    FINDING = 4  # a result, not an error: a check or a reconciliation found something
    INTERRUPTED = 130


class CursorBillingError(Exception):
    """An error with a one-line message for the user and an optional hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CursorBillingError):
    """Bad flags, bad month labels, bad configuration (exit 2)."""


class ConfigError(UsageError):
    """A config file with a wrong type or value (exit 2)."""


class AuthError(CursorBillingError):
    """The API refused the key: 401 or 403 (exit 3)."""


class ApiError(CursorBillingError):
    """The API kept failing after retries, or refused the request (exit 1)."""


class CacheError(CursorBillingError):
    """A cache file that cannot be read or trusted, or a disk problem (exit 1)."""


def exit_code_for(error: BaseException) -> ExitCode:
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(error, UsageError):
        return ExitCode.USAGE
    if isinstance(error, AuthError):
        return ExitCode.AUTH
    return ExitCode.FAILED


def exit_code_for_result(result: object) -> ExitCode:
    """A command's result: one with `ok` false (a budget over, an anomaly, a mismatch) is a
    finding, exit 4; anything else is success."""
    return ExitCode.FINDING if getattr(result, "ok", True) is False else ExitCode.OK
