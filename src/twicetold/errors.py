"""One exception hierarchy: a message for the user plus a hint of what to try next.

The CLI maps each class to an exit status in one place (``cli.main``), so library
callers and command-line users see the same words.
"""

from __future__ import annotations


class TwicetoldError(Exception):
    """Base class of every error twicetold raises on purpose.

    ``message`` says what went wrong, ``hint`` (optional) says what to try next.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(TwicetoldError, ValueError):
    """A parameter is out of range or options contradict each other."""

    exit_code = 2


class InputError(TwicetoldError):
    """The input cannot be read as asked: missing file, unknown format, duplicate ids..."""

    exit_code = 3


class OutputError(TwicetoldError):
    """The results cannot be written (existing folder without --force, no permission...)."""

    exit_code = 4


class IndexDamagedError(InputError):
    """An index file is damaged (truncated, overwritten): SQLite finds it malformed."""
