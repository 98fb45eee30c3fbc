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
MARKS = {"“": "”", "„": "“", "«": "»", "‹": "›", '"': '"'}  # opening mark: its closing mark
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")


def quote_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each quotation in ``text``, marks included, in order.

    Scanning from the start, an opening mark starts a quotation that ends at the first
    closing mark after it, unless a blank line comes first (then that opening mark is not
    one); the scan goes on after each quotation. Marks are found with ``str.find`` (one
    pass per kind of mark), which is several times faster than a regular expression over
    every character; ``tests/test_passages.py`` checks it against the regular expression.

    >>> t = 'He said “we will rebuild” and «nous aussi».'
    >>> [t[s:e] for s, e in quote_spans(t)]
    ['“we will rebuild”', '«nous aussi»']
    """
    opens = []
    for mark in MARKS:
        i = text.find(mark)
        while i >= 0:
            opens.append(i)
            i = text.find(mark, i + 1)
    opens.sort()
    spans = []
    after = 0  # where the last quotation ended
    for i in opens:
        if i < after:
            continue
        j = text.find(MARKS[text[i]], i + 1)
        if j < 0 or _BLANK_LINE.search(text, i + 1, j):
            continue
        if j + 1 - i <= MAX_QUOTE:
            spans.append((i, j + 1))
        after = j + 1
    return spans


def quoted_length(spans: list[tuple[int, int]], start: int, end: int) -> int:
    """Characters of ``[start, end)`` that lie inside the (sorted, disjoint) quotation spans."""
    i = max(bisect.bisect_right(spans, (start, start)) - 1, 0)
    total = 0
    while i < len(spans) and spans[i][0] < end:
        total += max(0, min(end, spans[i][1]) - max(start, spans[i][0]))
        i += 1
    return total
