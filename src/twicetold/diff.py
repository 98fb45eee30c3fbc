"""Word-level differences between the two sides of a passage: one definition for ``explain``
in the terminal, the HTML report and the web application, so that all three mark the same
differences.

Tokens are words (``\\w+``) and single punctuation marks; whitespace is not a token. Two tokens
are the same when they are equal after NFKC and case folding (so case and full-width forms
do not count as changes, a comma added or dropped does). Differences are ``difflib`` opcodes
over the token lists (no heuristics: ``autojunk`` off).

>>> a, b = tokens("The bridge would reopen, officials said"), tokens("the bridge will reopen officials said")
>>> [(op, [t.text for t in a[i1:i2]], [t.text for t in b[j1:j2]]) for op, i1, i2, j1, j2 in opcodes(a, b)
...  if op != "equal"]
[('replace', ['would'], ['will']), ('delete', [','], [])]
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

import regex

_TOKEN = regex.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class Token:
    """A word or punctuation mark: ``text[start:end]``, compared on ``key``."""

    start: int
    end: int
    text: str
    key: str


def tokens(text: str) -> list[Token]:
    """The word and punctuation tokens of ``text``, with their offsets (code points)."""
    return [Token(m.start(), m.end(), m.group(), unicodedata.normalize("NFKC", m.group()).casefold())
            for m in _TOKEN.finditer(text)]


def opcodes(a: list[Token], b: list[Token]) -> list[tuple[str, int, int, int, int]]:
    """How ``a`` becomes ``b``: ``(op, i1, i2, j1, j2)`` with op ``equal``, ``replace``,
    ``delete`` or ``insert``, over token indices."""
    matcher = difflib.SequenceMatcher(None, [t.key for t in a], [t.key for t in b], autojunk=False)
    return list(matcher.get_opcodes())
