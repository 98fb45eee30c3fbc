"""One exception hierarchy: a message for the user plus a hint of what to try next.

The CLI maps each class to an exit status in one place (``cli.main``) and the web app to
an HTTP status (``web.handle_error``), each from the class's ``exit_code`` and
``http_status``, so library callers, command-line users and web clients see the same words.
Every error class twicetold raises lives here.
"""

from __future__ import annotations

import re

# Settings a hint may name, written ``{name}`` in it: as a Python caller gives each, and as a
# command-line user does. The library's own words name the first; the CLI prints the second.
SETTINGS = {
    "force": ("force=True", "--force"),
    "strict": ("strict=True", "--strict"),
    "format": ("ReadConfig(format=...)", "--format"),
    "text_column": ("ReadConfig(text_column=...)", "--text-column"),
    "id_column": ("ReadConfig(id_column=...)", "--id-column"),
    "temp_dir": ("ScanConfig(temp_dir=...)", "--temp-dir"),
    "memory_budget": ("ScanConfig(memory_budget_mb=...)", "--memory-budget"),
}
_SETTING = re.compile(r"\{(\w+)\}")


def _render(hint: str | None, cli: bool) -> str | None:
    if hint is None:
        return None
    return _SETTING.sub(lambda m: SETTINGS[m[1]][cli] if m[1] in SETTINGS else m[0], hint)


class TwicetoldError(Exception):
    """Base class of every error twicetold raises on purpose.

    ``message`` says what went wrong, ``hint`` (optional) says what to try next, naming
    settings as a Python caller gives them; ``cli_hint`` names them as command-line options.
    """

    exit_code = 1
    http_status = 500

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self._hint = hint

    @property
    def hint(self) -> str | None:
        return _render(self._hint, cli=False)

    def cli_hint(self) -> str | None:
        """The hint with settings named as command-line options (``--force``, not ``force=True``)."""
        return _render(self._hint, cli=True)

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
