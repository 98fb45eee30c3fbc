"""One exception hierarchy: a message for the user plus a hint of what to try next.

The CLI maps each class to an exit status in one place (``cli.main``) and the web app to
an HTTP status (``web.handle_error``), each from the class's ``exit_code`` and
``http_status``, so library callers, command-line users and web clients see the same words.
Every error class twicetold raises lives here.
"""

from __future__ import annotations


class TwicetoldError(Exception):
    """Base class of every error twicetold raises on purpose.

    ``message`` says what went wrong, ``hint`` (optional) says what to try next.
    """

    exit_code = 1
    http_status = 500

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(TwicetoldError, ValueError):
    """A parameter is out of range or options contradict each other."""

    exit_code = 2
    http_status = 400


class InputError(TwicetoldError):
    """The input cannot be read as asked: missing file, unknown format, duplicate ids..."""

    exit_code = 3
    http_status = 400


class OutputError(TwicetoldError):
    """The results cannot be written (existing folder without --force, no permission...)."""

    exit_code = 4


class IndexSchemaError(TwicetoldError):
    """The file is not a twicetold index, or one whose schema this version cannot read."""

    exit_code = 3


class IndexBusyError(TwicetoldError):
    """Another process kept the index's write lock for longer than the timeout: try again."""

    exit_code = 1
    http_status = 503


class IndexDamagedError(InputError):
    """An index file is damaged (truncated, overwritten): SQLite finds it malformed."""

    http_status = 500  # the server's file, not the request, is at fault
