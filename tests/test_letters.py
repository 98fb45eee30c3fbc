"""The letter aligner: each kernel against a plain-Python reference, then alignments whose true
passages are known (offsets in awkward text, symmetry, copies, unrelated texts, OCR noise)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twicetold import letters as L
from twicetold.config import PassageConfig
from twicetold.letters import LetterText, align_letters
from twicetold.model import Passage
from twicetold.normalize import SINGLE, TABLE_LIMIT, WORD, code_points, fold_char, tables

M64 = (1 << 64) - 1
MULT = 0x9E3779B97F4A7C15


# -- references -------------------------------------------------------------------------------


def mix_ref(x: int) -> int:
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def stream_ref(text: str, k: int) -> tuple[list[int], list[int], list[int]]:
    """Letters (folded word characters), their positions, and each k-gram's hash."""
    letters: list[int] = []
    pos: list[int] = []
    for i, ch in enumerate(text):
        if ord(ch) >= TABLE_LIMIT:
            letters.append(ord(ch))
            pos.append(i)
            continue
        cls, folded = fold_char(ord(ch))
        if cls in (WORD, SINGLE):
            letters.extend(ord(c) for c in folded)
            pos.extend([i] * len(folded))
    grams = []
    for t in range(len(letters) - k + 1):
        h = 0
        for c in letters[t : t + k]:
            h = (h * MULT + c + 1) & M64
        grams.append(mix_ref(h))
    return letters, pos, grams


def chain_ref(ia: list[int], ib: list[int], k: int, max_gap: int, lookback: int, drift_cost: float, gap_cost: float,
              min_letters: float) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """Runs: anchors whose diagonal predecessor is an anchor extend its run. Chains: each run
    takes the best of the ``lookback`` runs before it; chains are read back best first."""
    runs: list[list[int]] = []
    run_of: dict[tuple[int, int], int] = {}
    for i, j in zip(ia, ib, strict=True):
        r = run_of.get((i - 1, j - 1))
        if r is None:
            r = len(runs)
            runs.append([i, j, k])
        else:
            runs[r][2] += 1
        run_of[(i, j)] = r
    ri, rj, rl = ([r[x] for r in runs] for x in range(3))
    score = [float(x) for x in rl]
    pred = [-1] * len(runs)
    for t in range(len(runs)):
        for s in range(t - 1, max(t - lookback, 0) - 1, -1):
            if ri[s] >= ri[t] or rj[s] >= rj[t]:
                continue
            gi, gj = ri[t] - ri[s] - rl[s], rj[t] - rj[s] - rl[s]
            gain = rl[t] - max(0, -gi, -gj)
            if gi > max_gap or gj > max_gap or gain <= 0:
                continue
            drift = abs((rj[t] - ri[t]) - (rj[s] - ri[s]))
            sc = score[s] + gain - drift_cost * drift - gap_cost * max(gi, gj, 0)
            if sc > score[t]:
                score[t], pred[t] = sc, s
    used = [False] * len(runs)
    members: list[int] = []
    bounds = [0]
    while True:
        free = [u for u in range(len(runs)) if not used[u]]
        if not free:
            break
        t = max(free, key=lambda u: (score[u], -u))
        if score[t] < min_letters:
            break
        path = []
        s = t
        while s >= 0 and not used[s]:
            used[s] = True
            path.append(s)
            s = pred[s]
        if score[t] - (score[s] if s >= 0 else 0.0) >= min_letters:
            members.extend(reversed(path))
            bounds.append(len(members))
    return ri, rj, rl, members, bounds


def windows_ref(na: int, nb: int, ri: list[int], rj: list[int], rl: list[int], chain: list[int], margin: int,
                band: int) -> tuple[int, list[tuple[int, int]]]:
    """The first row and each row's column window ``[lo, hi)`` of one chain's band."""
    first, last = chain[0], chain[-1]
    r0, r1 = max(0, ri[first] - margin), min(na, max(ri[u] + rl[u] for u in chain) + margin)
    cols: dict[int, list[int]] = {r: [] for r in range(r0, r1)}
    inner: set[int] = set()

    def paint(r: int, *c: int) -> None:
        if r0 <= r < r1:
            cols[r].extend(c)

    for r in range(r0, ri[first]):
        paint(r, r + rj[first] - ri[first])
    for u, v in zip(chain, [*chain[1:], None], strict=True):
        for r in range(ri[u], ri[u] + rl[u]):
            paint(r, r + rj[u] - ri[u])
            if ri[u] + band <= r < ri[u] + rl[u] - band:
                inner.add(r)
        if v is None:
            continue
        er, ec, sr, sc = ri[u] + rl[u] - 1, rj[u] + rl[u] - 1, ri[v], rj[v]
        if sr > er:
            line = [ec + (sc - ec) * (r - er) // (sr - er) for r in range(er, sr + 1)]
            for t, r in enumerate(range(er, sr + 1)):
                paint(r, line[t], line[min(t + 1, len(line) - 1)])
        else:
            for r in range(sr, er + 1):
                paint(r, r + rj[u] - ri[u], r + sc - sr)
    for r in range(ri[last] + rl[last], r1):
        paint(r, r + rj[last] - ri[last])
    out = []
    for r in range(r0, r1):
        lo, hi = min(cols[r]), max(cols[r])
        if r in inner and lo == hi:
            w = (max(lo, 0), min(lo + 1, nb))
        else:
            w = (max(lo - band, 0), min(hi + band + 1, nb))
        out.append((min(w[0], nb), max(w[1], min(w[0], nb))))
    return r0, out


def sw_ref(sa: list[int], sb: list[int], r0: int, wins: list[tuple[int, int]]) -> tuple[int, int, int, int, int]:
    """Smith-Waterman on the cells of ``wins`` (rows from ``r0``): scores ``letters.MATCH``,
    ``MISMATCH``, ``GAP``; ties to the first cell met, at a cell to diagonal, down, right.

    Each cell keeps its alignment's score, where it starts (its first stretch of 3 matches,
    or before one, the latest stretch), the letters it matched in stretches of 3 or more,
    whether it had one, and the stretch it ends with. The best cell ends a stretch of 3+."""
    Cell = tuple[int, int, int, int, bool, int]  # score, origin row, column, matched, had 3, stretch
    cell: dict[tuple[int, int], Cell] = {}
    best = (0, 0, 0, 0, 0, 0)
    for r, (lo, hi) in enumerate(wins, start=r0):
        for c in range(lo, hi):
            d = cell.get((r - 1, c - 1))
            if d is None or d[0] <= 0:
                d = (0, -1, -1, 0, False, 0)
            cand: Cell
            if sa[r] == sb[c]:
                i0, j0 = (r, c) if d[5] == 0 and not d[4] else (d[1], d[2])
                stretch = d[5] + 1
                gained = 3 if stretch == 3 else 1 if stretch > 3 else 0
                cand = (d[0] + L.MATCH, i0, j0, d[3] + gained, d[4] or stretch >= 3, stretch)
            else:
                cand = (d[0] + L.MISMATCH, d[1], d[2], d[3], d[4], 0)
            for prev in (cell.get((r - 1, c)), cell.get((r, c - 1))):
                if prev is not None and prev[0] + L.GAP > cand[0]:
                    cand = (prev[0] + L.GAP, prev[1], prev[2], prev[3], prev[4], 0)
            if cand[0] <= 0:
                cand = (0, -1, -1, 0, False, 0)
            cell[(r, c)] = cand
            if cand[0] > best[0] and cand[5] >= 3:
                best = (cand[0], cand[1], r + 1, cand[2], c + 1, cand[3])
    if best[0] == 0:
        return (0, 0, 0, 0, 0)
    return best[1:]


def band_ref(sa: list[int], sb: list[int], ri: list[int], rj: list[int], rl: list[int], members: list[int],
             bounds: list[int], margin: int, band: int) -> list[tuple[int, int, int, int, int]]:
    out: list[tuple[int, int, int, int, int]] = []
    for c in range(len(bounds) - 1):
        chain = members[bounds[c] : bounds[c + 1]]
        first = chain[0]
        end_i, end_j = max(ri[u] + rl[u] for u in chain), max(rj[u] + rl[u] for u in chain)
        if any(e[0] <= ri[first] and end_i <= e[1] and e[2] <= rj[first] and end_j <= e[3] for e in out):
            out.append((0, 0, 0, 0, 0))
            continue
        r0, wins = windows_ref(len(sa), len(sb), ri, rj, rl, chain, margin, band)
        out.append(sw_ref(sa, sb, r0, wins))
    return out


def as_i64(values: list[int]) -> npt.NDArray[np.int64]:
    return np.asarray(values, dtype=np.int64)


# -- kernels against references -----------------------------------------------------------------

ALPHABET = "abcdeéèÉ ẞßæﬁ\u0301\u0327,.-\r\n\t42٣👍🏽\u200d漢字カナ"


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 3, 8])
def test_letter_stream_matches_reference(seed: int, k: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60))) + rng.choice(["", "\U00040000x"])
    t = tables()
    letters, pos, grams = L.letter_stream(code_points(text), t.classes, t.fold_start, t.fold_len, t.fold_data, k)
    ref = stream_ref(text, k)
    assert (letters.tolist(), pos.tolist(), grams.tolist()) == ref


def random_anchors(rng: random.Random, n: int) -> tuple[list[int], list[int]]:
    """Anchors along a drifting diagonal with holes, and chance anchors off it, sorted."""
    pairs: set[tuple[int, int]] = set()
    d = 0
    for i in range(n):
        d += rng.choice([0, 0, 0, 0, 0, 1, -1, 3])
        if rng.random() < 0.6 and i + d >= 0:
            pairs.add((i, i + d))
        if rng.random() < 0.15:
            pairs.add((i, rng.randrange(n + 10)))
    ordered = sorted(pairs)
    return [p[0] for p in ordered], [p[1] for p in ordered]


@pytest.mark.parametrize("seed", range(25))
def test_chain_runs_match_reference(seed: int) -> None:
    rng = random.Random(seed)
    ia, ib = random_anchors(rng, rng.randint(0, 120))
    args = (rng.choice([3, 8]), rng.choice([5, 20, 72]), rng.choice([2, 32]), 0.5, 0.05, rng.choice([3, 12]))
    got = L.chain_runs(as_i64(ia), as_i64(ib), *args)
    assert tuple(x.tolist() for x in got) == chain_ref(ia, ib, *args)


def test_chain_runs_follow_drift_and_leave_chance_anchors_out() -> None:
    # A passage of 60 letters with 3 letters lost in B after letter 30, and one chance k-gram.
    k = 8
    ia = [i for i in range(0, 53) if not 24 <= i < 32] + [10]
    ib = [i if i < 30 else i - 3 for i in range(0, 53) if not 24 <= i < 32] + [200]
    order = sorted(range(len(ia)), key=lambda t: (ia[t], ib[t]))
    ri, rj, rl, members, bounds = L.chain_runs(as_i64([ia[t] for t in order]), as_i64([ib[t] for t in order]), k,
                                               72, 32, 0.5, 0.05, 12)
    assert bounds.tolist() == [0, 2]  # one chain, of the passage's two runs; the lone k-gram is left out
    assert [(ri[u], rj[u], rl[u]) for u in members.tolist()] == [(0, 0, 31), (32, 29, 28)]


@pytest.mark.parametrize("seed", range(20))
def test_band_align_matches_reference(seed: int) -> None:
    rng = random.Random(seed)
    na, nb = rng.randint(5, 70), rng.randint(5, 70)
    sa = [rng.randrange(3) for _ in range(na)]
    sb = [rng.randrange(3) for _ in range(nb)]
    runs = []
    for _ in range(rng.randint(1, 6)):
        i, j = rng.randrange(na), rng.randrange(nb)
        runs.append((i, j, rng.randint(1, max(1, min(na - i, nb - j, 30)))))
    runs.sort()
    ri, rj, rl = ([r[x] for r in runs] for x in range(3))
    # Chains of increasing runs: each run starts after the one before, in both texts.
    chains: list[list[int]] = []
    for u in range(len(runs)):
        if chains and ri[u] > ri[chains[-1][-1]] and rj[u] > rj[chains[-1][-1]] and rng.random() < 0.7:
            chains[-1].append(u)
        else:
            chains.append([u])
    members = [u for c in chains for u in c]
    bounds = [0]
    for c in chains:
        bounds.append(bounds[-1] + len(c))
    margin, band = rng.choice([0, 4, 48]), rng.choice([0, 1, 4])
    got = L.band_align(np.asarray(sa, np.uint32), np.asarray(sb, np.uint32), as_i64(ri), as_i64(rj), as_i64(rl),
                       as_i64(members), as_i64(bounds), margin, band)
    assert [tuple(r) for r in got.tolist()] == band_ref(sa, sb, ri, rj, rl, members, bounds, margin, band)


@pytest.mark.parametrize("seed", range(10))
def test_band_align_with_a_wide_band_is_smith_waterman(seed: int) -> None:
    rng = random.Random(seed)
    na, nb = rng.randint(1, 50), rng.randint(1, 50)
    sa = [rng.randrange(4) for _ in range(na)]
    sb = [rng.randrange(4) for _ in range(nb)]
    wide = na + nb + 1
    got = L.band_align(np.asarray(sa, np.uint32), np.asarray(sb, np.uint32), as_i64([0]), as_i64([0]),
                       as_i64([1]), as_i64([0]), as_i64([0, 1]), wide, wide)
    assert tuple(got[0].tolist()) == sw_ref(sa, sb, 0, [(0, nb)] * na)


@pytest.mark.parametrize("seed", range(10))
def test_locate_is_anchors_chains_and_band(seed: int) -> None:
    rng = random.Random(seed)
    base = [rng.randrange(4) for _ in range(rng.randint(10, 80))]
    other = [x if rng.random() < 0.85 else rng.randrange(4) for x in base]
    k = 4
    grams_a = np.asarray([hash(tuple(base[t : t + k])) & M64 for t in range(len(base) - k + 1)], dtype=np.uint64)
    grams_b = np.asarray([hash(tuple(other[t : t + k])) & M64 for t in range(len(other) - k + 1)], dtype=np.uint64)
    got = L.locate(grams_a, grams_b, np.asarray(base, np.uint32), np.asarray(other, np.uint32), k, 8, 20, 32, 0.5,
                   0.05, 6, 8, 2)
    counts = {g: grams_b.tolist().count(g) for g in set(grams_b.tolist())}
    pairs = [(i, j) for i, g in enumerate(grams_a.tolist()) if counts.get(g, 0) <= 8
             for j, h in enumerate(grams_b.tolist()) if g == h]
    ri, rj, rl, members, bounds = chain_ref([p[0] for p in pairs], [p[1] for p in pairs], k, 20, 32, 0.5, 0.05, 6)
    assert [tuple(r) for r in got.tolist()] == band_ref(base, other, ri, rj, rl, members, bounds, 8, 2)


def matches_ref(ga: list[int], gb: list[int], max_occ: int) -> tuple[list[int], list[int]]:
    """Anchors: every (i, j) with ``ga[i] == gb[j]``, of grams at most ``max_occ`` times in B."""
    counts = {g: gb.count(g) for g in set(gb)}
    pairs = [(i, j) for i, g in enumerate(ga) if counts.get(g, 0) <= max_occ for j, h in enumerate(gb) if g == h]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def join_ref(spans: list[tuple[int, int, int, int, int]], gap: int, k: int,
             min_score: float) -> list[tuple[int, int, int, int, int]]:
    """Drop spans mostly inside a stronger one on both sides, then join those that follow each
    other within ``gap`` (or overlap by at most ``k``) while the joined score holds; only
    spans of ``2 * k`` matched letters or more join."""
    kept: list[tuple[int, int, int, int, int]] = []
    for s in sorted(spans, key=lambda s: -s[4]):
        a0, a1, b0, b1, _ = s
        if not any(min(a1, t[1]) - max(a0, t[0]) > (a1 - a0) // 2 and min(b1, t[3]) - max(b0, t[2]) > (b1 - b0) // 2
                   for t in kept):
            kept.append(s)
    out: list[tuple[int, int, int, int, int]] = []
    for s in sorted(kept):
        if out:
            c = out[-1]
            ga, gb = s[0] - c[1], s[2] - c[3]
            if -k <= ga <= gap and -k <= gb <= gap and min(c[4], s[4]) >= 2 * k:
                joined = (c[0], max(c[1], s[1]), c[2], max(c[3], s[3]), c[4] + s[4] - max(0, -ga, -gb))
                if 2 * joined[4] / max(1, joined[1] - joined[0] + joined[3] - joined[2]) >= min_score:
                    out[-1] = joined
                    continue
        out.append(s)
    return out


def sorted_grams(grams: list[int]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int32]]:
    g = np.asarray(grams, dtype=np.uint64)
    order = np.argsort(g)  # not stable: sorted_matches orders a repeated gram's positions itself
    return g[order], order.astype(np.int32)


@pytest.mark.parametrize("seed", range(25))
def test_sorted_matches_match_reference(seed: int) -> None:
    rng = random.Random(seed)
    values = [rng.randrange(1 << 64) for _ in range(rng.randint(1, 30))]  # large ones too: compared unsigned
    ga = [rng.choice(values) for _ in range(rng.randint(0, 80))]
    gb = [rng.choice(values) for _ in range(rng.randint(0, 80))]
    max_occ = rng.choice([1, 2, 8])
    ia, ib = L.sorted_matches(*sorted_grams(ga), *sorted_grams(gb), max_occ)
    assert (ia.tolist(), ib.tolist()) == matches_ref(ga, gb, max_occ)


def random_rows(rng: random.Random, n: int) -> list[tuple[int, int, int, int, int]]:
    """Alignment rows as band_align gives them: spans near a few diagonals, some empty."""
    rows = []
    for _ in range(n):
        if rng.random() < 0.15:
            rows.append((0, 0, 0, 0, 0))
            continue
        a0, d = rng.randrange(200), rng.choice([0, 0, 3, 40, -20])
        la, lb = rng.randint(3, 60), rng.randint(3, 60)
        rows.append((a0, a0 + la, max(0, a0 + d), max(0, a0 + d) + lb, rng.randint(0, min(la, lb))))
    return rows


@pytest.mark.parametrize("seed", range(30))
def test_join_spans_match_reference(seed: int) -> None:
    rng = random.Random(seed)
    rows = random_rows(rng, rng.randint(0, 12))
    gap, k, min_score = rng.choice([5, 30, 144]), rng.choice([3, 8]), rng.choice([0.3, 0.5, 0.8])
    got = L.join_spans(np.asarray(rows, dtype=np.int64).reshape(-1, 5), gap, k, min_score)
    assert [tuple(r) for r in got.tolist()] == join_ref([r for r in rows if r[1] > r[0]], gap, k, min_score)


@pytest.mark.parametrize("seed", range(12))
def test_pair_spans_are_located_joined_and_gated(seed: int) -> None:
    rng = random.Random(seed)
    base = [rng.randrange(4) for _ in range(rng.randint(10, 150))]
    other = [rng.randrange(4) for _ in range(rng.randint(0, 30))] + [x if rng.random() < 0.85 else rng.randrange(4)
                                                                     for x in base]
    k = 4
    ga = [hash(tuple(base[t : t + k])) & M64 for t in range(len(base) - k + 1)]
    gb = [hash(tuple(other[t : t + k])) & M64 for t in range(len(other) - k + 1)]
    # Letters at code points with gaps between them (spaces, punctuation), some dense.
    pa = np.cumsum([rng.choice([1, 1, 1, 2, 5]) for _ in base]).astype(np.int32)
    pb = np.cumsum([rng.choice([1, 1, 2]) for _ in other]).astype(np.int32)
    da = np.cumsum([0] + [rng.random() < 0.2 for _ in base]).astype(np.int32) if seed % 2 else np.zeros(0, np.int32)
    db = np.zeros(0, np.int32)
    sa, sb = np.asarray(base, np.uint32), np.asarray(other, np.uint32)
    min_score, min_length, min_evidence, max_weight, dense_weight = 0.5, rng.choice([5, 20]), 20.0, 1.25, 3
    got = L.pair_spans(*sorted_grams(ga), *sorted_grams(gb), sa, sb, pa, pb, da, db, k, 8, 20, 32, 0.5, 0.05, 6, 8, 2,
                       40, min_score, min_length, min_evidence, max_weight, dense_weight)
    rows = L.locate(np.asarray(ga, np.uint64), np.asarray(gb, np.uint64), sa, sb, k, 8, 20, 32, 0.5, 0.05, 6, 8, 2)

    def weighted(pos: npt.NDArray[np.int32], dense: npt.NDArray[np.int32], i0: int, i1: int) -> int:
        chars = int(pos[i1 - 1]) + 1 - int(pos[i0])
        return chars + (dense_weight - 1) * int(dense[i1] - dense[i0]) if len(dense) else chars

    expected = []
    for s in join_ref([tuple(r) for r in rows.tolist() if r[1] > r[0]], 40, k, min_score):
        score = 2 * s[4] / max(1, s[1] - s[0] + s[3] - s[2])
        aligned = min(weighted(pa, da, s[0], s[1]), weighted(pb, db, s[2], s[3])) * score
        if score >= min_score and aligned >= min_length and aligned * max_weight >= min_evidence:
            expected.append(s)
    assert [tuple(r) for r in got.tolist()] == expected  # (10 of the 12 draws keep a passage)


@pytest.mark.parametrize("seed", range(5))
def test_band_align_on_longer_texts_matches_reference(seed: int) -> None:
    # Longer texts and several chains: the steps of each chain read back (L._trace) across
    # rows of varying windows, and the buffer of steps grown.
    rng = random.Random(100 + seed)
    base = [rng.randrange(5) for _ in range(rng.randint(150, 300))]
    other = [x if rng.random() < 0.8 else rng.randrange(5) for x in base if rng.random() > 0.05]
    k = 5
    ga = [hash(tuple(base[t : t + k])) & M64 for t in range(len(base) - k + 1)]
    gb = [hash(tuple(other[t : t + k])) & M64 for t in range(len(other) - k + 1)]
    ia, ib = matches_ref(ga, gb, 8)
    ri, rj, rl, members, bounds = chain_ref(ia, ib, k, 30, 32, 0.5, 0.05, 6)
    got = L.band_align(np.asarray(base, np.uint32), np.asarray(other, np.uint32), as_i64(ri), as_i64(rj), as_i64(rl),
                       as_i64(members), as_i64(bounds), 48, 4)
    assert [tuple(r) for r in got.tolist()] == band_ref(base, other, ri, rj, rl, members, bounds, 48, 4)


def test_shared_rarity_is_the_rarity_of_the_shingles_shared_inside_the_spans() -> None:
    from bisect import bisect_left, bisect_right

    from twicetold import _kernels
    from twicetold.align import AlignedText, _rarity
    from twicetold.candidates import ShingleCounts

    rng = random.Random(3)
    words = [rng.choice(VOCAB[:40]) for _ in range(120)]
    a_text = " ".join(words)
    b_text = " ".join(w if rng.random() < 0.8 else rng.choice(VOCAB) for w in words[10:100])
    # Counts for some of the texts' own shingles, so that the rarities differ.
    plain = AlignedText.of(a_text, 3)
    shingles = _kernels.shingles(plain.tokens.hashes, 2) >> np.uint64(ShingleCounts.KEY_SHIFT)
    keys = np.unique(shingles[:: 3])
    counts = ShingleCounts(keys, np.asarray([rng.randint(5, 50) for _ in keys], dtype=np.int64), 500, 2, 5)
    a, b = AlignedText.of(a_text, 3, counts), AlignedText.of(b_text, 3, counts)
    seen = set()
    wa, wb = a.weight_arrays(), b.weight_arrays()
    assert wa is not None and wb is not None
    for _ in range(200):
        ca0 = rng.randrange(len(a_text))
        ca1 = rng.randrange(ca0, len(a_text) + 1)
        cb0 = rng.randrange(len(b_text))
        cb1 = rng.randrange(cb0, len(b_text) + 1)
        # The reference: align's rarity over the tokens wholly inside each span.
        ta = (bisect_left(a.tokens.starts.tolist(), ca0), bisect_right(a.tokens.ends.tolist(), ca1))
        tb = (bisect_left(b.tokens.starts.tolist(), cb0), bisect_right(b.tokens.ends.tolist(), cb1))
        got = L.shared_rarity(wa[0], wa[1], a.tokens.starts, a.tokens.ends, ca0, ca1, wb[0], b.tokens.starts,
                              b.tokens.ends, cb0, cb1, counts.shingle_size)
        assert got == _rarity(a, b, *ta, *tb)
        seen.add(round(got, 3))
    assert len(seen) > 20  # spans with nothing shared (0), and many means


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("k", "sample"), [(1, 1), (3, 2), (12, 4)])
def test_sampled_grams_are_the_letter_streams_grams_kept(seed: int, k: int, sample: int) -> None:
    rng = random.Random(seed)
    texts = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 80))) + rng.choice(["", "\U00040000x"])
             for _ in range(rng.randint(1, 6))]
    bounds = np.cumsum([0] + [len(t) for t in texts]).astype(np.int64)
    t = tables()
    grams, offsets = L.sampled_grams(code_points("".join(texts)), bounds, t.classes, t.fold_start, t.fold_len,
                                     t.fold_data, k, sample)
    kept = [[g for g in stream_ref(text, k)[2] if g % sample == 0] for text in texts]
    assert grams.tolist() == [g for part in kept for g in part]
    assert offsets.tolist() == np.cumsum([0] + [len(part) for part in kept]).tolist()


# -- alignments -------------------------------------------------------------------------------------

FUNCTION_WORDS = "le la les un une des de du et en dans pour par sur avec au qui que est a".split()


def _vocabulary(n: int) -> list[str]:
    """``n`` pronounceable words (fixed): a language whose unrelated texts share what real
    ones do, function words and short letter sequences, and little more."""
    rng = random.Random(0)
    onsets, vowels = ["", "b", "c", "ch", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "tr", "pl"], "aeiouéè"
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(["", "n", "r", "s", "l"])
                          for _ in range(rng.randint(1, 4))))
    return sorted(words)


VOCAB = _vocabulary(3000)


def prose(rng: random.Random, n_words: int) -> str:
    """Sentences of random words, about one in three a function word."""
    out, sentence = [], []
    for _ in range(n_words):
        sentence.append(rng.choice(FUNCTION_WORDS) if rng.random() < 0.35 else rng.choice(VOCAB))
        if len(sentence) >= rng.randint(7, 15):
            out.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    if sentence:
        out.append(" ".join(sentence).capitalize() + ".")
    return " ".join(out)


def ocr(rng: random.Random, text: str, rate: float) -> str:
    """OCR-like noise: misread letters, words split and merged, hyphenated line breaks."""
    out = []
    col = 0
    for ch in text:
        u = rng.random()
        if ch == " " and u < rate:
            continue  # merged words
        if ch.isalpha() and u < rate / 2:
            out.append(rng.choice("ceoilrn"))  # misread
        else:
            out.append(ch)
        if ch.isalpha() and rng.random() < rate / 3:
            out.append(" ")  # split word
        col += 1
        if col > 35 and ch.isalpha() and rng.random() < 0.3:
            out.append("-\n")
            col = 0
    return "".join(out)


def swap(p: Passage) -> Passage:
    return Passage(p.b_start, p.b_end, p.a_start, p.a_end, p.length, p.score, evidence=p.evidence)


def test_verbatim_copy_is_one_passage_with_score_one() -> None:
    rng = random.Random(1)
    shared = prose(rng, 60)
    a = prose(rng, 30) + " " + shared + " " + prose(rng, 20)
    b = prose(rng, 25) + "\n\n" + shared
    (p,) = align_letters(a, b)
    assert a[p.a_start : p.a_end] == shared == b[p.b_start : p.b_end]
    assert p.score == 1.0 and p.length == len(shared)


def test_unrelated_texts_give_nothing() -> None:
    rng = random.Random(2)
    for _ in range(20):
        assert align_letters(prose(rng, 120), prose(rng, 120)) == []


@pytest.mark.parametrize("seed", range(8))
def test_ocr_noise_with_split_and_merged_words_gives_one_passage(seed: int) -> None:
    rng = random.Random(seed)
    shared = prose(rng, 70)
    noisy = ocr(rng, shared, 0.10)
    a = prose(rng, 40) + " " + shared + " " + prose(rng, 40)
    b = prose(rng, 30) + "\n" + noisy + "\n" + prose(rng, 30)
    passages = align_letters(a, b)
    assert len(passages) == 1
    p = passages[0]
    # Edges within a few words of the truth: a noisy last word may be left out, and
    # letters that match by chance just outside may be taken in.
    start, end = a.index(shared), a.index(shared) + len(shared)
    assert abs(p.a_start - start) <= 20 and abs(p.a_end - end) <= 20
    copy = b.index(noisy)
    assert abs(p.b_start - copy) <= 20 and abs(p.b_end - (copy + len(noisy))) <= 20
    assert 0.7 < p.score < 1.0


def test_exact_offsets_with_accents_crlf_emoji_and_combining_marks() -> None:
    shared = ("Cafe\u0301 de l'Hôtel-de-Ville,\r\nsÉance du 3 mai 👨\u200d👩\u200d👧 : le Conseil\r\n"
              "a voté le crédit 👍🏽 de cinquante mille francs pour l'école de Plainpalais, naïve\u0301\u0308")
    a = "Genève, 4 mai.\r\n" + shared + "\r\nAutre nouvelle sans rapport."
    b = "🇨🇭 Dépêches. " + shared + "!! Fin."
    (p,) = align_letters(a, b)
    # Edges end on whole grapheme clusters: the last letter keeps its two combining marks.
    assert a[p.a_start : p.a_end] == shared == b[p.b_start : p.b_end]
    assert p.score == 1.0
    # The accents of one side differ (OCR often loses them): letters are compared without them.
    c = b.replace("Hôtel", "Hotel").replace("école", "ecole").replace("É", "E")
    (q,) = align_letters(a, c)
    assert (q.a_start, q.a_end) == (p.a_start, p.a_end) and q.score == 1.0
    assert c[q.b_start : q.b_end].startswith("Cafe\u0301") and c[q.b_end - 2 : q.b_end] == "\u0301\u0308"


def test_hyphenated_line_breaks_and_case_do_not_count() -> None:
    a = "Le gouvernement a décidé de soumettre le projet de loi sur les chemins de fer au peuple en automne."
    b = "LE GOUVERNE-\nMENT a déci dé de soumettre le projetde loi sur les che-\nmins de fer au peuple en automne."
    (p,) = align_letters(a, b)
    assert (p.a_start, p.a_end, p.b_start, p.b_end) == (0, len(a), 0, len(b)) and p.score == 1.0


def test_dense_scripts_count_more_toward_min_length() -> None:
    shared = "东京电力公司今天宣布将于下月起提高电价以应对燃料成本上涨"  # 29 characters: 87 weighted
    a, b = "新闻：" + shared + "。", shared + "。其他消息。"
    (p,) = align_letters(a, b)
    assert a[p.a_start : p.a_end] == b[p.b_start : p.b_end] == shared + "。"


def test_prepared_texts_give_the_same_passages_and_must_share_k() -> None:
    rng = random.Random(5)
    shared = prose(rng, 50)
    a, b = prose(rng, 20) + " " + shared, shared + " " + prose(rng, 20)
    assert align_letters(LetterText.of(a), LetterText.of(b)) == align_letters(a, b)
    with pytest.raises(ValueError, match="letters"):
        align_letters(LetterText.of(a, 8), LetterText.of(b, 9))


@settings(derandomize=True, max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), rate=st.sampled_from([0.0, 0.05, 0.15]), blocks=st.integers(1, 3))
def test_symmetric(seed: int, rate: float, blocks: int) -> None:
    rng = random.Random(seed)
    shared = [prose(rng, rng.randint(10, 50)) for _ in range(blocks)]
    a = " ".join(s + " " + prose(rng, rng.randint(0, 30)) for s in shared)
    b = " ".join(prose(rng, rng.randint(0, 30)) + " " + ocr(rng, s, rate) for s in reversed(shared))
    ab = align_letters(a, b)
    assert sorted(map(swap, align_letters(b, a)), key=lambda p: (p.a_start, p.b_start)) == ab
    for p in ab:
        assert 0.0 <= p.score <= 1.0 and 0 <= p.a_start < p.a_end <= len(a) and 0 <= p.b_start < p.b_end <= len(b)
    assert [p.a_start for p in ab] == sorted(p.a_start for p in ab)


def test_config_gates() -> None:
    rng = random.Random(9)
    shared = prose(rng, 14)  # about 100 characters
    a, b = prose(rng, 30) + " " + shared, shared + " " + prose(rng, 30)
    assert align_letters(a, b, PassageConfig(min_length=40, min_score=0.5))
    assert not align_letters(a, b, PassageConfig(min_length=len(shared) + 5))
    assert not align_letters("", b) and not align_letters("a b c", "a b c")


# ------------------------------------------------------------ in a scan (PassageConfig.anchors)


def test_a_scan_on_letters_finds_ocr_copies_that_words_break(tmp_path: Path) -> None:
    """Planted copies set as 15 % noisy OCR (misread letters, split and merged words,
    hyphenated line breaks): a scan with ``anchors="letters"`` recovers nearly all of their
    characters, with exact offsets into the noisy text; on words it finds far less. (At this
    noise few word 5-grams survive: the pairs are found on shared letter grams.)"""
    from twicetold import PassageConfig, ScanConfig, scan
    from twicetold.testing.evaluation import char_overlap, spans_on
    from twicetold.testing.synthetic import CorpusSpec, write_corpus

    spec = CorpusSpec(n_docs=300, seed=3, mean_chars=2500, exact_rate=0.0, near_rate=0.0, partial_rate=0.3,
                      edit_rates=(0.0,), ocr_noise=True, ocr_rate=0.15)
    path = tmp_path / "ocr.jsonl"
    truth = write_corpus(spec, path)
    noisy = [p for p in truth.passages if p.ocr_rate > 0]
    assert len(noisy) >= 10

    by_pair: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for p in noisy:
        by_pair.setdefault((p.copy_id, p.source_id), []).append((p.copy_start, p.copy_end))

    def recall(anchors: str) -> float:
        result = scan([path], ScanConfig(passages=PassageConfig(anchors=anchors)))  # type: ignore[arg-type]
        total = None
        for (copy, source), planted in by_pair.items():
            found = char_overlap(planted, spans_on(result, copy, source))
            total = found if total is None else total + found
        assert total is not None and total.precision >= 0.98
        return total.recall

    on_letters, on_words = recall("letters"), recall("words")
    assert on_letters >= 0.9 and on_letters > on_words + 0.2, (on_letters, on_words)
    # The default (anchors="auto") sees print set in columns and takes letters.
    default = scan([path])
    assert default.run["anchors"] == "letters" and "inside hyphenated words" in default.run["anchors_decided_on"]
    assert default.pairs == scan([path], ScanConfig(passages=PassageConfig(anchors="letters"))).pairs
    # Letter grams spilled to disk past the memory budget make the same pairs.
    roomy = scan([path], ScanConfig(passages=PassageConfig(anchors="letters")))
    tight = scan([path], ScanConfig(passages=PassageConfig(anchors="letters"), memory_budget_mb=1))
    assert tight.run["counts"]["bytes_spilled_to_disk"] > roomy.run["counts"]["bytes_spilled_to_disk"] == 0
    assert tight.pairs == roomy.pairs


# ------------------------------------------------------------ anchors="auto" (normalize.ocr_signs)


def test_lines_broken_inside_words_are_a_sign_of_ocr() -> None:
    from twicetold.normalize import OCR_BREAK_SHARE, ocr_signs

    rng = random.Random(4)
    column = ocr(rng, prose(rng, 400), 0.05)
    seen = ocr_signs([column])
    assert seen.looks_like_ocr and seen.hyphenated_breaks >= 3
    assert not ocr_signs([prose(rng, 400)]).looks_like_ocr  # typed text: no line breaks at all
    hard_wrapped = "\n".join(prose(rng, 8) for _ in range(200))  # lines broken between words
    assert ocr_signs([hard_wrapped]).line_breaks == 199 and not ocr_signs([hard_wrapped]).looks_like_ocr
    # Two compound words wrapped at a line end are not print in columns, nor a rare one in many lines.
    assert not ocr_signs(["a well-\nknown text", "the long-\nawaited reply"]).looks_like_ocr
    breaks = int(3 / OCR_BREAK_SHARE) + 200
    rare = "well-\nknown " * 3 + "\n".join(["line"] * breaks)
    assert not ocr_signs([rare]).looks_like_ocr
    assert ocr_signs(["well-\nknown " * 3]).looks_like_ocr


def test_words_seen_once_are_a_sign_of_ocr_where_lines_were_joined() -> None:
    """Misread letters make words seen nowhere else: OCR'd text whose lines were joined (no
    hyphenated breaks left) still reads as OCR, clean prose of the same size does not, and
    neither does a corpus too small to tell, nor text in a script without spaces."""
    from twicetold.normalize import OCR_MIN_WORDS, ocr_signs

    rng = random.Random(5)
    clean = [prose(rng, 300) for _ in range(int(OCR_MIN_WORDS / 150))]
    noisy = [ocr(rng, text, 0.08).replace("-\n", "") for text in clean]
    assert all("\n" not in text for text in noisy)
    seen = ocr_signs(noisy)
    assert seen.words >= OCR_MIN_WORDS and seen.looks_like_ocr, str(seen)
    assert not ocr_signs(clean).looks_like_ocr, str(ocr_signs(clean))
    assert not ocr_signs(noisy[:20]).looks_like_ocr  # too few words to tell
    han = "".join(chr(0x4E00 + rng.randrange(20000)) + ("。" if rng.random() < 0.05 else "") for _ in range(200_000))
    assert ocr_signs([han[k : k + 10_000] for k in range(0, len(han), 10_000)]).words == 0


def test_auto_anchors_follow_the_layout_in_align_and_in_a_scan(tmp_path: Path) -> None:
    from twicetold import PassageConfig, ScanConfig, align, scan

    rng = random.Random(8)
    shared = prose(rng, 60)
    a, b = prose(rng, 40) + " " + ocr(rng, shared, 0.08), ocr(rng, shared, 0.08) + " " + prose(rng, 30)
    auto = align(a, b)
    assert auto == align(a, b, PassageConfig(anchors="letters")) and len(auto) == 1
    clean_a, clean_b = prose(rng, 30) + " " + shared, shared + " " + prose(rng, 30)
    assert align(clean_a, clean_b) == align(clean_a, clean_b, PassageConfig(anchors="words"))
    # A scan decides once, for the corpus, and says so in run.json.
    (tmp_path / "a.txt").write_text(clean_a)
    (tmp_path / "b.txt").write_text(clean_b)
    run = scan([tmp_path]).run
    assert run["anchors"] == "words" and run["anchors_decided_on"].startswith("0 of 0 line breaks")
    assert "words seen once" in run["anchors_decided_on"]
    assert "anchors_decided_on" not in scan([tmp_path], ScanConfig(passages=PassageConfig(anchors="words"))).run
