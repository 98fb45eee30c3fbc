"""The pair rules a scan, an index query and explain share (``pairs``)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from twicetold.model import Pair
from twicetold.pairs import KIND_RANK, first_is_a, scan_order

dates = st.one_of(st.none(), st.sampled_from(["2026-03-01", "2026-03-02", "2026-03-01T10:00:00"]))


@settings(derandomize=True, max_examples=300, database=None)
@given(st.text(max_size=4), dates, st.text(max_size=4), dates)
def test_exactly_one_side_is_a(x: str, dx: str | None, y: str, dy: str | None) -> None:
    """For two different documents, one and only one order makes the first ``a``; the earlier
    date wins when both are dated and differ, else the smaller id."""
    if x == y:
        return
    assert first_is_a(x, dx, y, dy) != first_is_a(y, dy, x, dx)
    if dx is not None and dy is not None and dx != dy:
        assert first_is_a(x, dx, y, dy) == (dx < dy)
    else:
        assert first_is_a(x, dx, y, dy) == (x < y)


def test_scan_order_lists_strongest_kinds_first() -> None:
    pairs = [Pair("b", "c", "partial", 0.1, []), Pair("a", "z", "near", 0.7, []), Pair("a", "b", "partial", 0.1, []),
             Pair("c", "d", "exact", 1.0, [])]
    assert [(p.kind, p.a, p.b) for p in sorted(pairs, key=scan_order)] == [
        ("exact", "c", "d"), ("near", "a", "z"), ("partial", "a", "b"), ("partial", "b", "c")]
    assert sorted(KIND_RANK, key=KIND_RANK.__getitem__) == ["exact", "near", "partial"]
