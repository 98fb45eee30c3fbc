"""Hubs: wire copy aligned once per document against a hub, its pairs derived (issue #16)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from twicetold import hubs
from twicetold.align import align
from twicetold.config import ScanConfig
from twicetold.plan import scan
from twicetold.testing.synthetic import load_truth, write_wire_groups


def _clique(docs: list[int]) -> list[tuple[int, int]]:
    return list(itertools.combinations(docs, 2))


def test_plan_no_hub_below_the_degree() -> None:
    pairs = np.array(_clique(list(range(10))), dtype=np.int64)
    plan = hubs.plan(pairs, 10, min_degree=10)
    assert len(plan.hubs) == 0 and not plan.derivable.any()


def test_plan_one_hub_per_clique_and_spokes_aligned() -> None:
    group_a, group_b = list(range(0, 8)), list(range(8, 14))
    pairs = np.array(_clique(group_a) + _clique(group_b) + [(3, 9)], dtype=np.int64)
    plan = hubs.plan(pairs, 14, min_degree=5)
    # the most crowded first: 3 (one more pair than the rest of its group); 9 is then in 3's
    # star (the chance pair), so not a hub: 8 is group b's
    assert plan.hubs.tolist() == [3, 8]
    hub_set = set(plan.hubs.tolist())
    for (i, j), via in zip(pairs.tolist(), plan.via.tolist(), strict=True):
        if i in hub_set or j in hub_set:
            assert via == -1  # spokes (the chance pair with a hub included) are aligned
        else:
            assert (i in group_a) == (j in group_a) == (via == 0) and via >= 0


def test_plan_pair_outside_every_star_is_aligned() -> None:
    # 0 is a hub of 1..6; 7 is linked to 1 and 2 only: (1, 7), (2, 7) stay direct
    pairs = np.array([(0, k) for k in range(1, 7)] + [(1, 2), (1, 7), (2, 7)], dtype=np.int64)
    plan = hubs.plan(pairs, 8, min_degree=6)
    assert plan.hubs.tolist() == [0]
    via = dict(zip(map(tuple, pairs.tolist()), plan.via.tolist(), strict=True))
    assert via[1, 2] == 0 and via[1, 7] == -1 and via[2, 7] == -1 and via[0, 1] == -1


def _spokes(rows: list[tuple[int, int, int, int, int, int, float, float | None]]) -> hubs.Spokes:
    return hubs.Spokes.of(rows)


def test_derive_verbatim_is_exact_and_needs_overlap() -> None:
    # hub region [100, 400) copied verbatim at 10 in doc 1 and at 50 in doc 2; doc 3 holds [500, 700)
    sp = _spokes([(0, 1, 100, 400, 10, 310, 1.0, 300.0), (0, 2, 150, 400, 50, 300, 1.0, 250.0),
                  (0, 3, 500, 700, 0, 200, 0.9, 180.0)])
    pairs = np.array([(1, 2), (1, 3)], dtype=np.int64)
    got = hubs.derive(pairs, np.array([0, 0]), sp, 10, 25, lambda i: "")
    assert got.pair.tolist() == [0]  # (1, 3) does not overlap on the hub: aligned directly
    assert (got.x_start[0], got.x_end[0], got.y_start[0], got.y_end[0]) == (60, 310, 50, 300)
    assert got.score[0] == 1.0 and got.evidence[0] == 250.0


def test_derive_edited_snaps_to_words() -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa " * 4
    # doc 1's span is 10 characters longer than the hub's (an edit): cut inside, positions snap
    sp = _spokes([(0, 1, 0, 200, 0, 210, 0.95, None), (0, 2, 57, 200, 0, 143, 1.0, 140.0)])
    got = hubs.derive(np.array([(1, 2)]), np.array([0]), sp, 5, 25, lambda i: text)
    x0, x1 = int(got.x_start[0]), int(got.x_end[0])
    assert x1 == 210 and (x0 == 0 or text[x0 - 1] == " ") and text[x0].isalnum()
    assert abs(x0 - 60) <= 8
    assert np.isnan(got.evidence[0]) and got.score[0] == 0.95


def test_snap_edges() -> None:
    text = "one two three"
    assert hubs.snap_start(text, 5) == 4 and hubs.snap_start(text, 3) == 4
    assert hubs.snap_end(text, 5) == 7 and hubs.snap_end(text, 8) == 7


@pytest.fixture(scope="module")
def wire_scan(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("wire") / "wire.jsonl"
    write_wire_groups(path, 3, 120, seed=3)
    mp = pytest.MonkeyPatch()
    mp.setattr(hubs, "HUB_MIN_DEGREE", 50)
    try:
        result = scan([path], ScanConfig(workers=1))
    finally:
        mp.undo()
    return path, result


def test_wire_groups_through_hubs(wire_scan) -> None:  # type: ignore[no-untyped-def]
    path, result = wire_scan
    counts = result.run["counts"]
    assert counts["hubs"] >= 3
    assert counts["pairs_derived_through_hubs"] > 3 * 6000
    assert counts["pairs_aligned"] < 2000
    truth = load_truth(path)
    group = {doc: k for k, occ in enumerate(truth.spread) for doc, _, _ in occ}
    reported = {(min(p.a, p.b), max(p.a, p.b)) for p in result.pairs}
    for c in result.clusters:
        reported.update(_clique(sorted(c.members)))  # type: ignore[arg-type]
    across = [(a, b) for a, b in reported if group[a] != group[b]]
    assert not across
    for k, occ in enumerate(truth.spread):
        docs = sorted(d for d, _, _ in occ)
        assert all(pair in reported for pair in _clique(docs)), k


def test_derived_offsets_agree_with_direct_alignment(wire_scan) -> None:  # type: ignore[no-untyped-def]
    path, result = wire_scan
    texts = {}
    import json
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts[row["id"]] = row["text"]
    cfg = ScanConfig().passages
    sample = random.Random(0).sample(result.pairs, 200)
    exact = 0
    for p in sample:
        direct = align(texts[p.a], texts[p.b], cfg)
        assert len(direct) >= 1 and len(p.passages) >= 1
        d = max(direct, key=lambda x: x.a_end - x.a_start)
        x = max(p.passages, key=lambda x: x.a_end - x.a_start)
        if x.score == 1.0:  # both copies verbatim: exactly what direct alignment gives
            assert (x.a_start, x.a_end, x.b_start, x.b_end) == (d.a_start, d.a_end, d.b_start, d.b_end), p
            exact += 1
        else:  # edited copies: within a few words of direct alignment's edges
            for got, want in ((x.a_start, d.a_start), (x.a_end, d.a_end), (x.b_start, d.b_start),
                              (x.b_end, d.b_end)):
                assert abs(got - want) <= 40, (p, d)
    assert exact > 0
