"""Pair rules that a scan, an index query and ``explain`` share, in one place: which document
of a pair is ``a``, and how pairs are ranked by kind.

>>> first_is_a("wire-2", "2026-03-02", "wire-1", "2026-03-01"), first_is_a("x", None, "y", "2026-03-01")
(False, True)
"""

from __future__ import annotations

from .model import Pair

KIND_RANK = {"exact": 0, "near": 1, "partial": 2}
"""Pair kinds, strongest first: the order pairs are listed in."""


def first_is_a(first_id: str, first_date: str | None, second_id: str, second_date: str | None) -> bool:
    """Whether the first document is the pair's ``a``: the earlier by date (dates as
    ``model.sort_key_date`` makes them comparable), else, when a date is missing or both are
    the same, the smaller id. ``a`` is where a direction ``a->b`` starts."""
    if first_date is not None and second_date is not None and first_date != second_date:
        return first_date < second_date
    return first_id <= second_id


def scan_order(pair: Pair) -> tuple[int, str, str]:
    """How a scan lists its pairs: by kind, then by ``a`` and ``b``."""
    return KIND_RANK[pair.kind], pair.a, pair.b
