"""Every compiled kernel against a plain-Python reference (as pynndescent does)."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import numba
import numpy as np
import numpy.typing as npt
import pytest

from twicetold import _kernels as k
from twicetold.candidates import MAX_PASSES, posting_passes, shared_postings, shared_shingle_pairs
from twicetold.sketch import Shingles

M64 = (1 << 64) - 1


def mix_ref(x: int) -> int:
    x &= M64
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def shingles_ref(tokens: list[int], size: int) -> list[int]:
    if not tokens:
        return []
    w = min(size, len(tokens))
    out = []
    for i in range(len(tokens) - w + 1):
        h = 0
        for t in tokens[i : i + w]:
            h = (h * 0x9E3779B97F4A7C15 + t) & M64
        out.append(h ^ w)
    return out


def oph_ref(shingles: list[int], num_perm: int, seed: int) -> list[int]:
    empty = 0xFFFFFFFF
    sig = [empty] * num_perm
    if not shingles:
        return sig
    shift = 64 - num_perm.bit_length() + 1
    s = mix_ref(seed * 0x9E3779B97F4A7C15)
    for x in shingles:
        h = mix_ref(x ^ s)
        b, v = h >> shift, h & 0xFFFFFFFF
        sig[b] = min(sig[b], v)
    out = list(sig)
    for b in range(num_perm):
        attempt = 0
        while sig[b] == empty:
            probe = mix_ref(s ^ ((b * 0x9E3779B97F4A7C15 + attempt) & M64)) % num_perm
            if sig[probe] != empty:
                out[b] = sig[probe]
                break
            attempt += 1
    return out


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def test_mix_matches_reference(rng: np.random.Generator) -> None:
    for x in rng.integers(0, 2**63, 50, dtype=np.uint64).tolist():
        assert int(k.mix64(np.uint64(x))) == mix_ref(x)


@pytest.mark.parametrize("size", [1, 3, 5])
@pytest.mark.parametrize("n", [0, 2, 5, 40])
def test_shingles_match_reference(rng: np.random.Generator, size: int, n: int) -> None:
    tokens = rng.integers(0, 2**63, n, dtype=np.uint64)
    assert k.shingles(tokens, size).tolist() == shingles_ref(tokens.tolist(), size)


@pytest.mark.parametrize("count", [0, 3, 50, 2000])
def test_oph_sketch_matches_reference(rng: np.random.Generator, count: int) -> None:
    shingles = np.unique(rng.integers(0, 2**63, count, dtype=np.uint64))
    assert k.oph_sketch(shingles, 64, 1).tolist() == oph_ref(shingles.tolist(), 64, 1)


def test_oph_estimates_jaccard(rng: np.random.Generator) -> None:
    universe = rng.integers(0, 2**63, 4000, dtype=np.uint64)
    for true_j in (0.2, 0.5, 0.8):
        shared = int(2000 * 2 * true_j / (1 + true_j))
        a = np.unique(universe[:2000])
        b = np.unique(np.concatenate([universe[:shared], universe[2000 : 2000 + 2000 - shared]]))
        exact = k.exact_jaccard(a, b)
        sigs = np.stack([k.oph_sketch(a, 256, 3), k.oph_sketch(b, 256, 3)])
        est = k.estimate_jaccard(sigs, np.array([[0, 1]]))[0]
        assert abs(est - exact) < 0.08, (true_j, exact, est)


def test_signatures_are_seeded_and_stable() -> None:
    shingles = np.arange(1, 200, dtype=np.uint64)
    assert k.oph_sketch(shingles, 128, 1).tolist() == k.oph_sketch(shingles, 128, 1).tolist()
    assert k.oph_sketch(shingles, 128, 1).tolist() != k.oph_sketch(shingles, 128, 2).tolist()


def test_band_keys_and_bucket_pairs_match_brute_force(rng: np.random.Generator) -> None:
    sigs = rng.integers(0, 4, (60, 8), dtype=np.uint32)  # few values: many collisions
    keys = k.band_keys(sigs, 4, 2)
    for b in range(4):
        order = np.argsort(keys[:, b], kind="stable")
        found = {tuple(p) for p in k.bucket_pairs(keys[order, b], order.astype(np.int64), 1000).tolist()}
        expected = {
            (i, j) for i, j in itertools.combinations(range(60), 2)
            if sigs[i, 2 * b : 2 * b + 2].tolist() == sigs[j, 2 * b : 2 * b + 2].tolist()
        }
        assert found == expected


def test_big_bucket_becomes_a_star() -> None:
    keys = np.zeros(10, dtype=np.uint64)
    pairs = k.bucket_pairs(keys, np.arange(10, dtype=np.int64), 4)
    assert sorted(map(tuple, pairs.tolist())) == [(0, j) for j in range(1, 10)]


def test_connected_components_match_reference(rng: np.random.Generator) -> None:
    n = 50
    edges = rng.integers(0, n, (30, 2)).astype(np.int64)
    labels = k.connected_components(n, edges)
    adj: dict[int, set[int]] = defaultdict(set)
    for a, b in edges.tolist():
        adj[a].add(b)
        adj[b].add(a)
    for start in range(n):
        seen, stack = {start}, [start]
        while stack:
            for nb in adj[stack.pop()] - seen:
                seen.add(nb)
                stack.append(nb)
        assert labels[start] == min(seen)


@pytest.mark.parametrize("share", [0.1, 0.5, 1.0])
def test_passage_components_match_reference(rng: np.random.Generator, share: float) -> None:
    """Occurrences 2i and 2i + 1 joined, and any two in one document that overlap by ``share``
    of the shorter (all pairs tried, no sweep); many start at the same place or nest."""
    n = 400
    doc = rng.integers(0, 100, n).astype(np.int64)
    start = rng.integers(0, 200, n).astype(np.int64) * 10
    end = start + rng.integers(1, 30, n) * 10
    labels = k.passage_components(doc, start, end, np.lexsort((start, doc)), share)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(n), 2):
        overlap = min(end[i], end[j]) - max(start[i], start[j])
        if i // 2 == j // 2 or (doc[i] == doc[j] and overlap >= share * min(end[i] - start[i], end[j] - start[j])):
            parent[root(i)] = root(j)
    smallest: dict[int, int] = {}
    for i in range(n):
        smallest.setdefault(root(i), i)
    assert labels.tolist() == [smallest[root(i)] for i in range(n)]
    assert len(set(labels.tolist())) > 10  # not everything in one component


def test_gather_bytes_matches_slicing(rng: np.random.Generator) -> None:
    first = rng.integers(0, 256, 5000).astype(np.uint8)
    second = rng.integers(0, 256, 300).astype(np.uint8)
    which = rng.integers(0, 2, 400)
    length = rng.integers(0, 40, 400)
    start = np.where(which == 0, rng.integers(0, 4900, 400), rng.integers(0, 260, 400))
    offsets, out = k.gather_bytes(first, second, which, start, length)
    expected = [(first if w == 0 else second)[s : s + n].tobytes()
                for w, s, n in zip(which, start, length, strict=True)]
    assert [out[offsets[i] : offsets[i + 1]].tobytes() for i in range(400)] == expected
    assert offsets[0] == 0 and len(out) == offsets[-1] == length.sum()


def reference_postings(sets: list[np.ndarray]) -> dict[int, set[int]]:
    """Each packed shingle (its 40 high bits) with the documents that hold it."""
    high = int(~np.uint64(k.DOC_MASK))
    holders: dict[int, set[int]] = defaultdict(set)
    for d, x in enumerate(sets):
        for h in x.tolist():
            holders[int(h) & high].add(d)
    return holders


def shared_only(packed: np.ndarray) -> list[int]:
    """Postings of shingles held by two or more documents (``shared_postings`` may keep a
    few held by one, through a collision in its count table; they pair nothing)."""
    keys = packed & ~np.uint64(k.DOC_MASK)
    _, counts = np.unique(keys, return_counts=True)
    return packed[np.repeat(counts >= 2, counts)].tolist() if len(packed) else []


def test_postings_sort_and_shared_pairs_match_reference(rng: np.random.Generator) -> None:
    # 40 documents drawing shingles from a small pool, with repeats inside documents.
    pool = rng.integers(0, 2**63, 30, dtype=np.uint64)
    sets = [rng.choice(pool, rng.integers(0, 12)) for _ in range(40)]
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in sets])]).astype(np.int64)
    flat = np.concatenate(sets).astype(np.uint64)
    packed = all_postings(Shingles(((flat, offsets),)))
    holders = reference_postings(sets)
    assert packed.tolist() == sorted(key | d for key, docs in holders.items() if len(docs) >= 2 for d in docs)
    for max_df in (2, 5, 40):
        pairs, frequent = k.shared_ngram_pairs(packed, max_df)
        expected = sorted(
            p for docs in holders.values() if 2 <= len(docs) <= max_df for p in itertools.combinations(sorted(docs), 2)
        )
        assert sorted(map(tuple, pairs.tolist())) == expected
        assert frequent == sum(len(docs) > max_df for docs in holders.values())


@pytest.mark.parametrize("top", [0, 5, 300, 2**24])
def test_count_pairs_matches_a_plain_count(rng: np.random.Generator, top: int) -> None:
    """Distinct pairs sorted with their counts, as collections.Counter gives them, whatever the
    range of documents (one bucket, a few, all of them) and the number of threads."""
    n = 0 if top == 0 else 50_000
    a = rng.integers(0, max(top, 1), n)
    rows = np.stack([a, a + rng.integers(1, 40, n)], axis=1).astype(np.int64)
    rows[: n // 2] = rows[: n // 4].repeat(2, axis=0)  # pairs that share many shingles
    expected = sorted(Counter(map(tuple, rows.tolist())).items())
    for threads in (1, 2):
        numba.set_num_threads(threads)
        pairs, counts = k.count_pairs(rows)
        assert list(zip(map(tuple, pairs.tolist()), counts.tolist(), strict=True)) == expected
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert pairs.shape == (len(expected), 2) and pairs.dtype == counts.dtype == np.int64


def pairs_of(holders: dict[int, set[int]], max_df: int) -> list[tuple[int, int]]:
    """Each pair of documents once per shingle of at most ``max_df`` documents they share."""
    return [p for docs in holders.values() if 2 <= len(docs) <= max_df for p in itertools.combinations(sorted(docs), 2)]


def all_postings(shingles: Shingles, budget: int | None = None, sub_bucket: int = k.SUB_BUCKET
                 ) -> npt.NDArray[np.uint64]:
    """Every pass's postings, joined (each pass's array is a view of a buffer the next reuses)."""
    return np.concatenate([np.empty(0, np.uint64)] + [p.copy() for p in shared_postings(shingles, budget, sub_bucket)])


def test_posting_passes_cover_every_bucket_in_order_within_the_budget() -> None:
    sizes = np.array([5, 0, 3, 9, 2, 2, 0, 4], dtype=np.int64)
    assert posting_passes(sizes, 100) == [(0, 8)]
    assert posting_passes(sizes, 8) == [(0, 3), (3, 4), (4, 8)]  # a bucket over the budget goes alone
    assert posting_passes(sizes, 1) == [(b, b + 1) for b in range(8)]
    assert posting_passes(np.zeros(0, np.int64), 8) == []


def test_shared_postings_over_every_bucket(rng: np.random.Generator) -> None:
    """Enough shingles to fill every bucket and collide in the count tables (a repeat inside
    one document included): every posting of a shared shingle is kept, sorted and distinct,
    whatever the number of threads or of batches, and the pairs are the same as a plain count's."""
    pool = rng.integers(0, 2**64 - 1, 1_000_000, dtype=np.uint64, endpoint=True)
    lengths = rng.integers(2, 600, 1_000)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = rng.choice(pool, int(offsets[-1]))
    flat[offsets[5] + 1] = flat[offsets[5]]  # a shingle repeated inside one document: one posting
    # Two shingles held by one document each that share their count-table slot (same top 29
    # bits): both are kept, as singles that pair nothing.
    flat[offsets[3]] = np.uint64(0xABCDEF12) << np.uint64(35) | np.uint64(1 << 30)
    flat[offsets[7]] = np.uint64(0xABCDEF12) << np.uint64(35) | np.uint64(2 << 30)
    sets = [flat[offsets[d] : offsets[d + 1]] for d in range(len(lengths))]
    holders = reference_postings(sets)
    expected = sorted(key | d for key, docs in holders.items() if len(docs) >= 2 for d in docs)
    results = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        # the same documents as one batch and as three; buckets counted whole, and split into
        # sub-buckets as a corpus of millions of documents has them
        # sub-buckets as a corpus of millions of documents has them, and in passes of a
        # tenth of the postings (the postings buffer within the memory budget)
        for cut, sub_bucket, budget in (([], k.SUB_BUCKET, None), ([100, 600], k.SUB_BUCKET, None),
                                        ([100, 600], 100, None), ([100, 600], 100, 8 * len(flat) // 10)):
            bounds = [0, *cut, len(lengths)]
            parts = tuple((flat[offsets[lo] : offsets[hi]], offsets[lo : hi + 1] - offsets[lo])
                          for lo, hi in itertools.pairwise(bounds))
            passes = [p.copy() for p in shared_postings(Shingles(parts), budget, sub_bucket)]
            assert len(passes) == 1 if budget is None else 5 <= len(passes) <= MAX_PASSES
            packed = np.concatenate(passes)
            assert shared_only(packed) == expected
            results.append((packed, *k.shared_ngram_pairs(packed, 3)))
            candidates = shared_shingle_pairs(Shingles(parts), 3, 1, budget)
            expected_counts = sorted(Counter(pairs_of(holders, 3)).items())
            assert list(zip(map(tuple, candidates.pairs.tolist()), candidates.shared.tolist(),
                            strict=True)) == expected_counts
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    packed = results[0][0]
    assert np.all(packed[1:] > packed[:-1])  # sorted and distinct
    assert shared_only(packed) == expected
    assert len(expected) < len(packed) < len(expected) + 1_000  # most shingles, seen once, are dropped
    pairs = sorted(pairs_of(holders, 3))
    assert sorted(map(tuple, results[0][1].tolist())) == pairs
    assert results[0][2] == sum(len(docs) > 3 for docs in holders.values())
    for other in results[1:]:  # the singles a table collision keeps may differ; nothing else does
        for a, b in zip(results[0][1:], other[1:], strict=True):
            assert np.array_equal(a, b)


def test_anchor_matches_match_brute_force(rng: np.random.Generator) -> None:
    ha = rng.integers(0, 20, 80).astype(np.uint64)
    hb = rng.integers(0, 20, 70).astype(np.uint64)
    ia, ib = k.anchor_matches(ha, hb, 1000)
    expected = [(i, j) for i in range(80) for j in range(70) if ha[i] == hb[j]]
    assert list(zip(ia.tolist(), ib.tolist(), strict=True)) == expected
    ia, _ = k.anchor_matches(ha, hb, 2)
    counts = {v: int((hb == v).sum()) for v in set(hb.tolist())}
    assert all(counts[int(ha[i])] <= 2 for i in ia.tolist())
    assert sorted(set(ia.tolist())) == [i for i in range(80) if 0 < counts.get(int(ha[i]), 0) <= 2]


def test_anchor_matches_on_full_width_hashes_and_empty_texts(rng: np.random.Generator) -> None:
    # Real anchors are 64-bit hashes: a few hundred distinct ones, some repeated, in both texts.
    pool = rng.integers(0, 2**64 - 1, 300, dtype=np.uint64)
    ha, hb = rng.choice(pool, 900), rng.choice(pool, 1100)
    for max_occ in (1, 3, 8):
        ia, ib = k.anchor_matches(ha, hb, max_occ)
        counts = {int(v): int((hb == v).sum()) for v in pool}
        expected = [(i, j) for i in range(len(ha)) if counts[int(ha[i])] <= max_occ
                    for j in np.flatnonzero(hb == ha[i]).tolist()]
        assert list(zip(ia.tolist(), ib.tolist(), strict=True)) == expected
    empty = np.empty(0, np.uint64)
    for a, b in ((empty, hb), (ha, empty), (empty, empty)):
        ia, ib = k.anchor_matches(a, b, 8)
        assert len(ia) == len(ib) == 0


def test_exact_jaccard() -> None:
    a = np.array([1, 2, 3, 4], dtype=np.uint64)
    b = np.array([3, 4, 5], dtype=np.uint64)
    assert k.exact_jaccard(a, b) == pytest.approx(2 / 5)
    assert k.exact_jaccard(a[:0], b[:0]) == 0.0


def extend_reference(ha: list[int], hb: list[int], i: int, j: int, step: int, drop: int, gain: int) -> int:
    """Walk outward from (i, j) along the diagonal; the best prefix if it gains enough."""
    score, best, best_t, t = 0, 0, 0, 0
    while score > best - drop and 0 <= i + step * t < len(ha) and 0 <= j + step * t < len(hb):
        score += 1 if ha[i + step * t] == hb[j + step * t] else -1
        t += 1
        if score > best:
            best, best_t = score, t
    return best_t if best >= gain else 0


def test_extend_edges_matches_reference(rng: np.random.Generator) -> None:
    for _ in range(300):
        ha = rng.integers(0, 3, rng.integers(1, 40)).astype(np.uint64)
        hb = rng.integers(0, 3, rng.integers(1, 40)).astype(np.uint64)
        a0 = int(rng.integers(0, len(ha) + 1))
        b0 = int(rng.integers(0, len(hb) + 1))
        a1, b1 = int(rng.integers(a0, len(ha) + 1)), int(rng.integers(b0, len(hb) + 1))
        drop, gain = int(rng.integers(1, 5)), int(rng.integers(0, 4))
        expected = (extend_reference(ha.tolist(), hb.tolist(), a0 - 1, b0 - 1, -1, drop, gain),
                    extend_reference(ha.tolist(), hb.tolist(), a1, b1, 1, drop, gain))
        assert k.extend_edges(ha, hb, a0, a1, b0, b1, drop, gain) == expected
