"""Pair rules that a scan, an index query and ``explain`` share, in one place: which document
of a pair is ``a``, what kind a pair is, and how pairs are ranked by kind.

>>> first_is_a("wire-2", "2026-03-02", "wire-1", "2026-03-01"), first_is_a("x", None, "y", "2026-03-01")
(False, True)
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import DocumentRecord, Pair

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


def ordered(i: int, j: int, records: Sequence[DocumentRecord], dates: Sequence[str | None]) -> tuple[int, int]:
    """Rows ``i`` and ``j`` of a corpus as the pair's ``a`` and ``b`` (``first_is_a``), with
    ``dates`` the rows' dates as ``model.sort_key_date`` makes them."""
    return (i, j) if first_is_a(records[i].id, dates[i], records[j].id, dates[j]) else (j, i)


def pair_kind(exact: bool, near: bool, passages: bool) -> str | None:
    """The strongest relation that holds between two documents (see ``KIND_RANK``): ``exact``
    copies, ``near`` duplicates (verified, or in one near-duplicate cluster), else ``partial``
    when they share passages; None when nothing holds and there is no pair.

    >>> pair_kind(False, True, False), pair_kind(False, False, True), pair_kind(False, False, False)
    ('near', 'partial', None)
    """
    if exact:
        return "exact"
    if near:
        return "near"
    return "partial" if passages else None
