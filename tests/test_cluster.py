"""Document clusters: components and canonical members against a plain reference."""

from __future__ import annotations

import numpy as np
import pytest

from twicetold.cluster import components, keep_order


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_canonical_member_is_the_lowest_rank_of_each_component(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    edges = rng.integers(0, n, (120, 2))
    rank = rng.permutation(n)
    comps = components(n, edges, rank)
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges.tolist():
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    for members in groups.values():
        best = min(members, key=lambda i: rank[i])
        assert {int(comps.canonical[i]) for i in members} == {best}
        assert len({int(comps.label[i]) for i in members}) == 1
    assert sorted(map(len, comps.groups())) == sorted(len(g) for g in groups.values() if len(g) > 1)
    assert all(list(g) == sorted(g) for g in comps.groups())


def test_keep_rules() -> None:
    dates = ["2026-03-02", None, "2026-03-01", "2026-03-01"]
    lengths = [10, 40, 20, 40]
    assert keep_order("earliest", dates, lengths).tolist() == [2, 3, 0, 1]
    assert keep_order("longest", dates, lengths).tolist() == [3, 0, 2, 1]
    assert keep_order("first", dates, lengths).tolist() == [0, 1, 2, 3]
