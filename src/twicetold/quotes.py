"""Quotation marks: where a text's quotations are.

A passage inside quotation marks in both documents is a shared quote (two outlets quoting
the same statement), not copied reporting. Quotes are typographic (“…”, „…“, «…», ‹…›) or
straight ("…"); a quotation does not run over a blank line (an unclosed quote that runs on
into the next paragraph reopens there), nor over ``MAX_QUOTE`` characters (a stray mark).
"""

from __future__ import annotations

import bisect
import re

MAX_QUOTE = 3000
# The body runs to the closing mark over single line breaks but not over a blank line; written
# as an unrolled loop (runs without a line break, then one break not followed by a blank
# line), which is many times faster than a look-ahead at every character.
_BODY = r"[^{close}\n]*(?:\n(?![ \t\r]*\n)[^{close}\n]*)*"
QUOTATION = re.compile("|".join(
    f"{re.escape(o)}{_BODY.format(close=re.escape(c))}{re.escape(c)}"
    for o, c in (("“", "”"), ("„", "“"), ("«", "»"), ("‹", "›"), ('"', '"'))
))


def quote_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each quotation in ``text``, marks included, in order.

    >>> t = 'He said “we will rebuild” and «nous aussi».'
    >>> [t[s:e] for s, e in quote_spans(t)]
    ['“we will rebuild”', '«nous aussi»']
    """
    return [m.span() for m in QUOTATION.finditer(text) if m.end() - m.start() <= MAX_QUOTE]


def quoted_length(spans: list[tuple[int, int]], start: int, end: int) -> int:
    """Characters of ``[start, end)`` that lie inside the (sorted, disjoint) quotation spans."""
    i = max(bisect.bisect_right(spans, (start, start)) - 1, 0)
    total = 0
    while i < len(spans) and spans[i][0] < end:
        total += max(0, min(end, spans[i][1]) - max(start, spans[i][0]))
        i += 1
    return total
