"""Quotation marks: which characters of a text lie inside a quotation.

A passage inside quotation marks in both documents is a shared quote (two outlets quoting
the same statement), not copied reporting. Quotes are typographic (“…”, „…“, «…», ‹…›) or
straight ("…", toggling); an unclosed quote ends at a blank line, as in news copy where a
quote that runs on into the next paragraph reopens there.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

OPENING = {"“": "”", "„": "“", "«": "»", "‹": "›", "»": "«"}  # » opens in Danish/Swedish style
PARAGRAPH_BREAK = re.compile(r"\r?\n[ \t]*\r?\n")
MAX_QUOTE = 3000  # characters: an "open quote" running longer is a stray mark, not a quotation


def inside_quotes(text: str) -> npt.NDArray[np.bool_]:
    """``mask[i]`` is true when ``text[i]`` lies inside a quotation (marks included).

    >>> t = 'He said “we will rebuild” on Monday.'
    >>> m = inside_quotes(t)
    >>> t[m.argmax():len(m) - m[::-1].argmax()]
    '“we will rebuild”'
    """
    mask = np.zeros(len(text), dtype=bool)
    start = 0
    for para in PARAGRAPH_BREAK.split(text) if text else []:
        offset = text.index(para, start)
        start = offset + len(para)
        open_at, closing = -1, ""
        for i, ch in enumerate(para):
            if open_at >= 0 and ch == closing:
                if i - open_at <= MAX_QUOTE:
                    mask[offset + open_at : offset + i + 1] = True
                open_at, closing = -1, ""
            elif open_at < 0 and ch == '"':
                open_at, closing = i, '"'
            elif open_at < 0 and ch in OPENING:
                open_at, closing = i, OPENING[ch]
    return mask


def quoted_share(mask: npt.NDArray[np.bool_], start: int, end: int) -> float:
    """Share of ``[start, end)`` inside quotations."""
    return float(mask[start:end].mean()) if end > start else 0.0
