"""Compiled inner loops of sketching, pairing and alignment (``_jsonl`` holds the reader's;
these are the only two modules that import Numba).

Every kernel works on NumPy arrays, caches its machine code on disk (``cache=True``) and
releases the GIL (``nogil=True``) so Python threads can run kernels side by side. Each one
has a plain reference that ``tests/test_kernels.py`` compares it with.

No kernel is compiled with ``parallel=True``: Numba's parallel loops cost about as much to
compile again as the rest together (a first run took 52 s instead of 30), and every kernel
here splits into coarse chunks anyway. A parallel kernel is a serial kernel over one chunk,
which ``_each`` runs for every chunk on a pool of Python threads (the GIL is released inside).

Hash constants are fixed forever: signatures and band keys stay comparable across runs
and versions (changing one is a schema change of the index).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numba
import numpy as np
from numba import njit, uint64

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
SHINGLE_MULT = np.uint64(0x9E3779B97F4A7C15)
EMPTY_BIN = np.uint32(0xFFFFFFFF)
SEP, WORD, SINGLE, IGNORABLE = 0, 1, 2, 3


@contextmanager
def threads(n: int) -> Iterator[None]:
    """The parallel kernels called from this thread run on ``n`` threads (at most as many as
    there are cores) inside the block; the count before is restored after it. The count is
    Numba's own per-thread setting, so that Numba code of a caller follows it too."""
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
    try:
        yield
    finally:
        numba.set_num_threads(before)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _each(kernel: Callable[..., Any], tasks: int, *args: Any) -> list[Any]:
    """``[kernel(*args, t) for t in range(tasks)]``, the tasks spread over the calling thread's
    share of threads (see ``threads``). Tasks are handed out one at a time, so that uneven
    ones (the buckets of frequent shingles) even out."""
    width = min(tasks, numba.get_num_threads())
    if width <= 1:
        return [kernel(*args, t) for t in range(tasks)]
    global _pool
    with _pool_lock:
        if _pool is None:
            cores = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
            _pool = ThreadPoolExecutor(cores, thread_name_prefix="twicetold-kernel")
    # ``width`` runners share the tasks through one iterator: no more threads than asked for.
    todo = iter(range(tasks))
    out: list[Any] = [None] * tasks
    lock = threading.Lock()

    def runner() -> None:
        while True:
            with lock:
                t = next(todo, None)
            if t is None:
                return
            out[t] = kernel(*args, t)

    for future in [_pool.submit(runner) for _ in range(width - 1)] + [None]:
        if future is None:
            runner()  # the calling thread works too
        else:
            future.result()
    return out


@njit(cache=True, nogil=True, inline="always")
def mix64(x: np.uint64) -> np.uint64:
    """splitmix64 finalizer: a fast, well-distributed 64-bit bijection."""
    x = uint64(x)
    x ^= x >> uint64(30)
    x *= uint64(0xBF58476D1CE4E5B9)
    x ^= x >> uint64(27)
    x *= uint64(0x94D049BB133111EB)
    x ^= x >> uint64(31)
    return x


@njit(cache=True, nogil=True)
def hash_codepoints(cps):  # type: ignore[no-untyped-def]
    """Hash of a folded token given as code points (FNV-1a, then mixed)."""
    h = FNV_OFFSET
    for c in cps:
        h = (h ^ uint64(c)) * FNV_PRIME
    return mix64(h)


@njit(cache=True, nogil=True)
def shingles(tokens, size):  # type: ignore[no-untyped-def]
    """Hashes of the word n-grams (``size`` consecutive tokens), one per start position.

    A polynomial rolling hash over the token hashes (one multiply-add per token). A text
    shorter than ``size`` tokens (but not empty) gives one shingle of all its tokens, so short
    documents can still match each other.
    """
    out = np.empty(max(tokens.shape[0], 1), dtype=np.uint64)
    return out[: _shingles_into(tokens, tokens.shape[0], size, out)].copy()


@njit(cache=True, nogil=True)
def oph_sketch(shingle_hashes, num_perm, seed):  # type: ignore[no-untyped-def]
    """One-permutation MinHash with optimal densification (Shrivastava, 2017).

    One hash per shingle instead of ``num_perm``: the top bits pick a bin, the low 32 bits
    are the value, and each bin keeps its minimum. Empty bins borrow the value of a bin
    chosen by a seeded probe sequence, so two documents' empty bins borrow alike and the
    share of equal bins stays an unbiased Jaccard estimate.
    """
    sig = np.empty(num_perm, dtype=np.uint32)
    _oph_into(shingle_hashes, num_perm, seed, sig)
    return sig


@njit(cache=True, nogil=True)
def band_keys(signatures, bands, rows):  # type: ignore[no-untyped-def]
    """One 64-bit key per (document, band): a hash of the band's ``rows`` values."""
    n = signatures.shape[0]
    keys = np.empty((n, bands), dtype=np.uint64)
    for d in range(n):
        for b in range(bands):
            h = uint64(b + 1) * SHINGLE_MULT
            for r in range(b * rows, (b + 1) * rows):
                h = mix64(h ^ uint64(signatures[d, r]))
            keys[d, b] = h
    return keys


@njit(cache=True, nogil=True)
def _run_end(sorted_keys, i):  # type: ignore[no-untyped-def]
    """End of the run of keys equal to ``sorted_keys[i]``."""
    j = i + 1
    while j < sorted_keys.shape[0] and sorted_keys[j] == sorted_keys[i]:
        j += 1
    return j


@njit(cache=True, nogil=True)
def bucket_pairs(sorted_keys, order, max_full):  # type: ignore[no-untyped-def]
    """Pairs of documents whose keys are equal, from keys sorted with their document order.

    A bucket of up to ``max_full`` documents gives all its pairs; a bigger one (thousands of
    copies of one text) gives a star around its first document, which keeps it connected
    without a quadratic number of pairs.
    """
    n = sorted_keys.shape[0]
    count = 0
    i = 0
    while i < n:
        j = _run_end(sorted_keys, i)
        size = j - i
        count += size * (size - 1) // 2 if size <= max_full else size - 1
        i = j
    out = np.empty((count, 2), dtype=np.int64)
    k = 0
    i = 0
    while i < n:
        j = _run_end(sorted_keys, i)
        size = j - i
        if size <= max_full:
            for p in range(i, j):
                for q in range(p + 1, j):
                    a, b = order[p], order[q]
                    out[k, 0] = min(a, b)
                    out[k, 1] = max(a, b)
                    k += 1
        else:
            for q in range(i + 1, j):
                a, b = order[i], order[q]
                out[k, 0] = min(a, b)
                out[k, 1] = max(a, b)
                k += 1
        i = j
    return out


@njit(cache=True, nogil=True)
def estimate_jaccard(signatures, pairs):  # type: ignore[no-untyped-def]
    """Share of equal signature values for each pair of rows. On the calling thread alone: a
    few milliseconds per million pairs, and it runs beside other stages' parallel kernels."""
    m = pairs.shape[0]
    k = signatures.shape[1]
    out = np.empty(m, dtype=np.float64)
    for p in range(m):
        a = signatures[pairs[p, 0]]
        b = signatures[pairs[p, 1]]
        same = 0
        for i in range(k):
            if a[i] == b[i]:
                same += 1
        out[p] = same / k
    return out


@njit(cache=True, nogil=True)
def _find(parent, x):  # type: ignore[no-untyped-def]
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        nxt = parent[x]
        parent[x] = root
        x = nxt
    return root


@njit(cache=True, nogil=True)
def _union(parent, a, b):  # type: ignore[no-untyped-def]
    a = _find(parent, a)
    b = _find(parent, b)
    if a < b:
        parent[b] = a
    elif b < a:
        parent[a] = b


@njit(cache=True, nogil=True)
def connected_components(n, edges):  # type: ignore[no-untyped-def]
    """Component label of each of ``n`` nodes (the smallest node of its component)."""
    parent = np.arange(n, dtype=np.int64)
    for e in range(edges.shape[0]):
        _union(parent, edges[e, 0], edges[e, 1])
    for i in range(n):
        parent[i] = _find(parent, i)
    return parent


@njit(cache=True, nogil=True)
def passage_components(doc, start, end, order, share):  # type: ignore[no-untyped-def]
    """Component label of each passage occurrence (the smallest occurrence of its component).

    Occurrences ``2i`` and ``2i + 1`` (the two sides of one passage) are joined, and so are
    two occurrences in one document that overlap by ``share`` of the shorter. ``order`` sorts
    the occurrences by document, then start: a sweep keeps those still open at each start.
    """
    n = doc.shape[0]
    parent = np.arange(n)
    for i in range(0, n - 1, 2):
        _union(parent, i, i + 1)
    active = np.empty(n, dtype=np.int64)
    n_active = 0
    current = -1
    for k in range(n):
        i = order[k]
        if doc[i] != current:
            current = doc[i]
            n_active = 0
        s = start[i]
        e = end[i]
        kept = 0
        for t in range(n_active):
            j = active[t]
            if end[j] > s:  # still open here
                active[kept] = j
                kept += 1
                if min(e, end[j]) - s >= share * min(e - s, end[j] - start[j]):
                    _union(parent, i, j)
        active[kept] = i
        n_active = kept + 1
    for i in range(n):
        parent[i] = _find(parent, i)
    return parent


GATHER_CHUNKS = 16


@njit(cache=True, nogil=True)
def _gather_chunk(first, second, which, start, offsets, out, c):  # type: ignore[no-untyped-def]
    n = which.shape[0]
    for k in range(n * c // GATHER_CHUNKS, n * (c + 1) // GATHER_CHUNKS):
        s, e = start[k], start[k] + offsets[k + 1] - offsets[k]
        if which[k] == 0:
            out[offsets[k] : offsets[k + 1]] = first[s:e]
        else:
            out[offsets[k] : offsets[k + 1]] = second[s:e]


def gather_bytes(first: np.ndarray, second: np.ndarray, which: np.ndarray, start: np.ndarray,
                 length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pieces of two byte buffers one after another, as an Arrow string column's buffers:
    piece ``k`` is ``length[k]`` bytes at ``start[k]`` of ``first`` (``which[k]`` 0) or of
    ``second`` (1). Returns ``(offsets, data)``."""
    offsets = np.zeros(which.shape[0] + 1, dtype=np.int64)
    np.cumsum(length, out=offsets[1:])
    out = np.empty(offsets[-1], dtype=np.uint8)
    _each(_gather_chunk, GATHER_CHUNKS, first, second, which, start, offsets, out)
    return offsets, out


@njit(cache=True, nogil=True)
def exact_jaccard(a, b):  # type: ignore[no-untyped-def]
    """Jaccard of two sorted arrays of distinct values."""
    i = j = inter = 0
    while i < a.shape[0] and j < b.shape[0]:
        if a[i] == b[j]:
            inter += 1
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    union = a.shape[0] + b.shape[0] - inter
    return inter / union if union else 0.0


DOC_BITS = 24  # postings pack (shingle high bits, document) into one uint64: up to 16.7M documents
DOC_MASK = (1 << DOC_BITS) - 1


PART_BITS = 8  # postings are scattered into 2**8 buckets by their shingle's top bits
SCATTER_CHUNKS = 16  # chunks of documents scattered side by side
COUNT_BITS = 21  # slots of a bucket's count table (2 MB: it stays in the cache while the bucket is counted)
BUCKET_GROUPS = 16  # buckets are counted, filtered and sorted by this many parallel tasks
SUB_BUCKET = 1 << 19  # postings per count table at most: a quarter of its slots


# Postings (shingle, document) of the shingles found more than once in the corpus, packed as
# ``shingle >> 24 << 24 | document``, sorted and distinct, in three steps (the candidates
# module runs them over the batches' shingles, which are never joined into one array):
# ``posting_histogram`` and ``scatter_postings`` make 256 buckets by the shingles' top 8 bits
# (a parallel radix scatter), then ``shared_in_buckets`` counts each bucket in a small table of
# its own (cache-local, unlike one table for the corpus), drops its shingles seen once (most
# shingles of a corpus occur in one document only and can pair nothing; a collision in the
# table only keeps one, which the pairs kernel then skips), sorts and deduplicates the rest.
# The cores work chunk by chunk and bucket by bucket; the result does not depend on how many.
# Dropping 24 of the shingle's 64 bits leaves 40, ample to tell apart the shingles of a
# corpus (a rare collision only adds a candidate pair, which alignment then rejects).


@njit(cache=True, nogil=True)
def _histogram_chunk(flat, offsets, hist, c):  # type: ignore[no-untyped-def]
    n = offsets.shape[0] - 1
    top = uint64(64 - PART_BITS)
    for t in range(offsets[n * c // SCATTER_CHUNKS], offsets[n * (c + 1) // SCATTER_CHUNKS]):
        hist[c, flat[t] >> top] += 1


def posting_histogram(flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """How many postings of each chunk of documents fall in each bucket."""
    hist = np.zeros((SCATTER_CHUNKS, 1 << PART_BITS), dtype=np.int64)
    _each(_histogram_chunk, SCATTER_CHUNKS, flat, offsets, hist)
    return hist


@njit(cache=True, nogil=True)
def _scatter_chunk(flat, offsets, first, start, out, b0, c):  # type: ignore[no-untyped-def]
    n = offsets.shape[0] - 1
    high = ~uint64(DOC_MASK)
    top = uint64(64 - PART_BITS)
    width = uint64(start.shape[1])
    fill = start[c].copy()
    for d in range(n * c // SCATTER_CHUNKS, n * (c + 1) // SCATTER_CHUNKS):
        for t in range(offsets[d], offsets[d + 1]):
            key = (flat[t] & high) | uint64(first + d)
            b = (key >> top) - uint64(b0)  # wraps around below b0: skipped too
            if b < width:
                out[fill[b]] = key
                fill[b] += 1


def scatter_postings(flat: np.ndarray, offsets: np.ndarray, first: int, start: np.ndarray, out: np.ndarray,
                     b0: int) -> None:
    """Each posting of buckets ``b0`` to ``b0 + start.shape[1] - 1``, packed (documents
    numbered from ``first``) and written to its bucket in ``out``: chunk ``c``'s postings of
    bucket ``b`` from ``start[c, b - b0]`` on. Postings of other buckets are skipped."""
    _each(_scatter_chunk, SCATTER_CHUNKS, flat, offsets, first, start, out, b0)


@njit(cache=True, nogil=True)
def _shared_run(src, lo, hi, dst, k, seen, bits_above):  # type: ignore[no-untyped-def]
    """``src[lo:hi]``'s postings of shingles seen more than once, sorted and distinct, written
    to ``dst`` from ``k`` on (``dst`` may be ``src`` with ``k <= lo``); returns where they end.
    All of them share their top ``bits_above`` bits: the count table is indexed by the next
    ``COUNT_BITS`` (within the 40 kept), and is left clean for the next call."""
    slot_shift = uint64(64 - bits_above - COUNT_BITS)
    slot_mask = uint64((1 << COUNT_BITS) - 1)
    for t in range(lo, hi):
        s = (src[t] >> slot_shift) & slot_mask
        if seen[s] < 2:
            seen[s] += 1
    start = k
    for t in range(lo, hi):
        s = (src[t] >> slot_shift) & slot_mask
        if seen[s] >= 2:
            dst[k] = src[t]
            k += 1
        else:
            seen[s] = 0  # the slot's only shingle: the table is clean again
    for t in range(start, k):
        seen[(dst[t] >> slot_shift) & slot_mask] = 0
    if k == start:
        return k
    dst[start:k] = np.sort(dst[start:k])
    j = start + 1
    for t in range(start + 1, k):
        if dst[t] != dst[j - 1]:
            dst[j] = dst[t]
            j += 1
    return j


def shared_in_buckets(out: np.ndarray, bounds: np.ndarray, sub_bucket: int) -> np.ndarray:
    """The postings of shingles seen more than once, sorted and distinct (``out`` is reused).

    A bucket of more than ``sub_bucket`` postings (``SUB_BUCKET``; tests pass smaller ones), as
    a corpus of millions of documents makes, is first split by the shingles' next bits into
    sub-buckets of about that size: a count table full of collisions would keep the shingles
    seen once, and sorting them would cost far more than the split.
    """
    kept = np.zeros(bounds.shape[0] - 1, dtype=np.int64)
    _each(_shared_group, BUCKET_GROUPS, out, bounds, sub_bucket, kept)
    return _compact_buckets(out, bounds, kept)


@njit(cache=True, nogil=True)
def _shared_group(out, bounds, sub_bucket, kept, g):  # type: ignore[no-untyped-def]
    """``shared_in_buckets`` for the buckets of group ``g``."""
    buckets = bounds.shape[0] - 1
    seen = np.zeros(1 << COUNT_BITS, dtype=np.uint8)
    largest = 0  # one copy buffer for the group's buckets: fresh memory costs page faults
    for b in range(buckets * g // BUCKET_GROUPS, buckets * (g + 1) // BUCKET_GROUPS):
        largest = max(largest, bounds[b + 1] - bounds[b])
    tmp = np.empty(largest if largest > sub_bucket else 0, dtype=np.uint64)
    for b in range(buckets * g // BUCKET_GROUPS, buckets * (g + 1) // BUCKET_GROUPS):
        lo, hi = bounds[b], bounds[b + 1]
        extra = 0
        while (hi - lo) >> extra > sub_bucket and PART_BITS + extra + COUNT_BITS < 40:
            extra += 1
        if extra == 0:
            kept[b] = _shared_run(out, lo, hi, out, lo, seen, PART_BITS) - lo
            continue
        # A radix pass by the next ``extra`` bits into the copy buffer, then each
        # sub-bucket in order back into the bucket's own stretch of ``out``.
        shift = uint64(64 - PART_BITS - extra)
        mask = uint64((1 << extra) - 1)
        sub = np.zeros((1 << extra) + 1, dtype=np.int64)
        for t in range(lo, hi):
            sub[((out[t] >> shift) & mask) + 1] += 1
        for i in range(1 << extra):
            sub[i + 1] += sub[i]
        fill = sub[:-1].copy()
        for t in range(lo, hi):
            i = (out[t] >> shift) & mask
            tmp[fill[i]] = out[t]
            fill[i] += 1
        k = lo
        for i in range(1 << extra):
            k = _shared_run(tmp, sub[i], sub[i + 1], out, k, seen, PART_BITS + extra)
        kept[b] = k - lo


@njit(cache=True, nogil=True)
def _compact_buckets(out, bounds, kept):  # type: ignore[no-untyped-def]
    """Each bucket's ``kept`` postings moved to the front, one bucket after another."""
    k = 0
    for b in range(bounds.shape[0] - 1):  # forward, element by element: the stretches may overlap
        for t in range(bounds[b], bounds[b] + kept[b]):
            out[k] = out[t]
            k += 1
    return out[:k]


PAIR_CHUNKS = 64


@njit(cache=True, nogil=True)
def _shingle_runs(packed, lo, hi, max_df, out, k):  # type: ignore[no-untyped-def]
    """The pairs of each run of one shingle in ``packed[lo:hi]`` (runs whole), written to
    ``out`` from row ``k`` when ``out`` has rows; returns (pairs, shingles over ``max_df``)."""
    high = ~uint64(DOC_MASK)
    low = uint64(DOC_MASK)
    count = 0
    frequent = 0
    i = lo
    while i < hi:
        j = i + 1
        while j < hi and (packed[j] & high) == (packed[i] & high):
            j += 1
        size = j - i
        if 2 <= size <= max_df:
            count += size * (size - 1) // 2
            if out.shape[0]:
                for p in range(i, j):
                    for q in range(p + 1, j):
                        a = np.int64(packed[p] & low)
                        b = np.int64(packed[q] & low)
                        out[k, 0] = min(a, b)
                        out[k, 1] = max(a, b)
                        k += 1
        elif size > max_df:
            frequent += 1
        i = j
    return count, frequent


@njit(cache=True, nogil=True)
def _pair_cuts(packed):  # type: ignore[no-untyped-def]
    """Where ``packed`` is cut into ``PAIR_CHUNKS`` chunks, at shingle boundaries."""
    n = packed.shape[0]
    high = ~uint64(DOC_MASK)
    cuts = np.zeros(PAIR_CHUNKS + 1, dtype=np.int64)
    for c in range(1, PAIR_CHUNKS + 1):
        t = max(n * c // PAIR_CHUNKS, cuts[c - 1])
        while 0 < t < n and (packed[t] & high) == (packed[t - 1] & high):
            t += 1
        cuts[c] = t
    return cuts


@njit(cache=True, nogil=True)
def _chunk_runs(packed, cuts, max_df, out, at, c):  # type: ignore[no-untyped-def]
    return _shingle_runs(packed, cuts[c], cuts[c + 1], max_df, out, at[c])


def shared_ngram_pairs(packed: np.ndarray, max_df: int) -> tuple[np.ndarray, int]:
    """Pairs of documents sharing a shingle, from sorted packed postings.

    Postings must be distinct. A shingle in more than ``max_df`` documents is
    boilerplate and gives nothing. A pair appears once per shingle it shares. Also returns
    how many shingles were dropped as too frequent. The postings are cut into chunks at
    shingle boundaries, counted and written chunk by chunk on every core, in order.
    """
    cuts = _pair_cuts(packed)
    none = np.empty((0, 2), dtype=np.int64)
    at = np.zeros(PAIR_CHUNKS + 1, dtype=np.int64)
    counted = _each(_chunk_runs, PAIR_CHUNKS, packed, cuts, max_df, none, at)
    np.cumsum([count for count, _ in counted], out=at[1:])
    out = np.empty((at[-1], 2), dtype=np.int64)
    _each(_chunk_runs, PAIR_CHUNKS, packed, cuts, max_df, out, at)
    return out, int(sum(frequent for _, frequent in counted))


PAIR_COUNT_BITS = 8  # count_pairs scatters rows into 2**8 buckets


def count_pairs(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows ``(a, b)`` of ``rows`` (``0 <= a, b < 2**31``), sorted, and how many
    times each occurs.

    A pair of documents comes once per shingle they share: millions of rows for anything from
    thousands to millions of pairs. Rows are scattered into buckets by ``a`` (so the buckets
    in order are the pairs in order), then each bucket, small enough to stay in cache, is
    sorted and counted on its own core. Sorting all the rows at once took ten times as long,
    on one core.
    """
    keys, bounds = _pair_buckets(rows)
    distinct = np.zeros((1 << PAIR_COUNT_BITS) + 1, dtype=np.int64)
    _each(_sort_buckets, PAIR_GROUPS, keys, bounds, distinct)
    np.cumsum(distinct, out=distinct)
    out = np.empty((distinct[-1], 2), dtype=np.int64)
    counts = np.empty(distinct[-1], dtype=np.int64)
    _each(_emit_buckets, PAIR_GROUPS, keys, bounds, distinct, out, counts)
    return out, counts


PAIR_GROUPS = 32  # tasks of count_pairs, each a share of the buckets


@njit(cache=True, nogil=True)
def _pair_buckets(rows):  # type: ignore[no-untyped-def]
    """``count_pairs``' rows as keys ``a << 32 | b``, scattered into buckets by ``a``. Unsigned,
    like the postings: the two share one compiled sort."""
    n = rows.shape[0]
    bits = PAIR_COUNT_BITS
    buckets = 1 << bits
    top = 0
    for t in range(n):
        top = max(top, rows[t, 0])
    shift = 0
    while (top >> shift) >= buckets:
        shift += 1
    bounds = np.zeros(buckets + 1, dtype=np.int64)
    for t in range(n):
        bounds[(rows[t, 0] >> shift) + 1] += 1
    for b in range(buckets):
        bounds[b + 1] += bounds[b]
    fill = bounds[:-1].copy()
    keys = np.empty(n, dtype=np.uint64)
    for t in range(n):
        b = rows[t, 0] >> shift
        keys[fill[b]] = (uint64(rows[t, 0]) << uint64(32)) | uint64(rows[t, 1])
        fill[b] += 1
    return keys, bounds


@njit(cache=True, nogil=True)
def _group_bucket(i, g):  # type: ignore[no-untyped-def]
    """The ``i``-th bucket of task ``g``: lower documents make more pairs, so each task takes
    every ``PAIR_GROUPS``-th bucket, from all over the range."""
    return i * PAIR_GROUPS + g


@njit(cache=True, nogil=True)
def _sort_buckets(keys, bounds, distinct, g):  # type: ignore[no-untyped-def]
    """Task ``g``'s buckets sorted; each one's count of distinct keys to ``distinct[b + 1]``."""
    for i in range(((1 << PAIR_COUNT_BITS) - g + PAIR_GROUPS - 1) // PAIR_GROUPS):
        b = _group_bucket(i, g)
        lo, hi = bounds[b], bounds[b + 1]
        if hi > lo:
            keys[lo:hi] = np.sort(keys[lo:hi])
            d = 1
            for t in range(lo + 1, hi):
                if keys[t] != keys[t - 1]:
                    d += 1
            distinct[b + 1] = d


@njit(cache=True, nogil=True)
def _emit_buckets(keys, bounds, distinct, out, counts, g):  # type: ignore[no-untyped-def]
    """Task ``g``'s buckets' distinct pairs and counts, from ``distinct[b]`` on."""
    for i in range(((1 << PAIR_COUNT_BITS) - g + PAIR_GROUPS - 1) // PAIR_GROUPS):
        b = _group_bucket(i, g)
        k = distinct[b]
        t, hi = bounds[b], bounds[b + 1]
        while t < hi:
            j = t + 1
            while j < hi and keys[j] == keys[t]:
                j += 1
            out[k, 0] = np.int64(keys[t] >> uint64(32))
            out[k, 1] = np.int64(keys[t] & uint64(0xFFFFFFFF))
            counts[k] = j - t
            k += 1
            t = j


@njit(cache=True, nogil=True, inline="always")
def _anchor_slot(keys, first, h, shift):  # type: ignore[no-untyped-def]
    """The slot of n-gram ``h`` in ``anchor_matches``' table: where it is, or the empty slot
    where it would go (Fibonacci hashing, then linear probing)."""
    s = np.int64((h * np.uint64(0x9E3779B97F4A7C15)) >> shift)
    while first[s] >= 0 and keys[s] != h:
        s = (s + 1) & (first.shape[0] - 1)
    return s


@njit(cache=True, nogil=True)
def anchor_matches(ha, hb, max_occ):  # type: ignore[no-untyped-def]
    """Positions ``(i, j)`` where anchor n-gram ``ha[i]`` equals ``hb[j]``, sorted by i then j.

    An n-gram found more than ``max_occ`` times in B is a phrase the text repeats, not an
    anchor, and is skipped. B's n-grams go into an open-addressing table (each with its
    positions chained in order), so each of A's costs one probe: sorting B and searching it
    twice per n-gram was a third of alignment's time.
    """
    na, nb = ha.shape[0], hb.shape[0]
    if na == 0 or nb == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    bits = 1
    while (1 << bits) < 2 * nb:
        bits += 1
    shift = np.uint64(64 - bits)
    keys = np.empty(1 << bits, dtype=np.uint64)
    first = np.full(1 << bits, -1, dtype=np.int64)  # first position in B of the slot's n-gram
    count = np.zeros(1 << bits, dtype=np.int64)
    after = np.empty(nb, dtype=np.int64)  # the next position of the same n-gram, or -1
    for j in range(nb - 1, -1, -1):  # from the end, so that each chain runs forward
        h = hb[j]
        s = _anchor_slot(keys, first, h, shift)
        keys[s] = h
        after[j] = first[s]
        first[s] = j
        count[s] += 1
    slot = np.empty(na, dtype=np.int64)
    total = 0
    for i in range(na):
        s = _anchor_slot(keys, first, ha[i], shift)
        if first[s] >= 0 and count[s] <= max_occ:
            slot[i] = s
            total += count[s]
        else:
            slot[i] = -1
    ia = np.empty(total, dtype=np.int64)
    ib = np.empty(total, dtype=np.int64)
    k = 0
    for i in range(na):
        if slot[i] >= 0:
            j = first[slot[i]]
            while j >= 0:
                ia[k] = i
                ib[k] = j
                k += 1
                j = after[j]
    return ia, ib


@njit(cache=True, nogil=True)
def chain_anchors(ia, ib, n, gap, max_active):  # type: ignore[no-untyped-def]
    """Group anchors into chains: runs of anchors that advance in both texts with gaps of at
    most ``gap`` words between anchored stretches, preferring the chain on the nearest diagonal.

    Chains are found in one sweep over A, so paragraphs in another order in B, or repeated
    in B, give separate chains. Returns the chain label of each anchor and the chain count.
    """
    m = ia.shape[0]
    label = np.empty(m, dtype=np.int64)
    last_a = np.empty(m, dtype=np.int64)
    last_b = np.empty(m, dtype=np.int64)
    active = np.empty(max_active, dtype=np.int64)
    n_active = 0
    n_chains = 0
    reach = gap + n
    for k in range(m):
        i = ia[k]
        j = ib[k]
        w = 0
        for t in range(n_active):
            c = active[t]
            if i - last_a[c] <= reach:
                active[w] = c
                w += 1
        n_active = w
        best = -1
        best_cost = 1 << 62
        for t in range(n_active):
            c = active[t]
            da = i - last_a[c]
            db = j - last_b[c]
            if da >= 1 and 1 <= db <= reach:
                cost = 4 * abs(da - db) + max(da, db)
                if cost < best_cost:
                    best_cost = cost
                    best = c
        if best >= 0:
            label[k] = best
            last_a[best] = i
            last_b[best] = j
        else:
            c = n_chains
            n_chains += 1
            label[k] = c
            last_a[c] = i
            last_b[c] = j
            if n_active < max_active:
                active[n_active] = c
                n_active += 1
            else:
                # Replace the chain that advanced least recently.
                oldest = 0
                for t in range(1, n_active):
                    if last_a[active[t]] < last_a[active[oldest]]:
                        oldest = t
                active[oldest] = c
    return label, n_chains


@njit(cache=True, nogil=True)
def _extend_edge(ha, hb, i, j, step, drop, min_gain):  # type: ignore[no-untyped-def]
    score = best = best_t = 0
    t = 0
    while score > best - drop:
        x, y = i + step * t, j + step * t
        if not (0 <= x < ha.shape[0] and 0 <= y < hb.shape[0]):
            break
        score += 1 if ha[x] == hb[y] else -1
        t += 1
        if score > best:
            best, best_t = score, t
    return best_t if best >= min_gain else 0


@njit(cache=True, nogil=True)
def extend_edges(ha, hb, a0, a1, b0, b1, drop, min_gain):  # type: ignore[no-untyped-def]
    """Words to add before and after the passage ``ha[a0:a1]`` ~ ``hb[b0:b1]`` on its
    diagonal, X-drop style: edited words at a passage's edge break the n-grams around them, so
    the chain stops short; walking on while matches outweigh mismatches (a walk ends once it
    is ``drop`` below its best) recovers them, and stops at unrelated text. A walk that gains
    fewer than ``min_gain`` matches over mismatches adds nothing."""
    return (_extend_edge(ha, hb, a0 - 1, b0 - 1, -1, drop, min_gain),
            _extend_edge(ha, hb, a1, b1, 1, drop, min_gain))


@njit(cache=True, nogil=True)
def chain_segments(ia, ib, label, n_chains, n, min_run_gap):  # type: ignore[no-untyped-def]
    """Span and coverage of each chain, in tokens: rows ``(a0, a1, b0, b1, cov_a, cov_b)``.

    A lone anchor (one n-gram, not followed on its diagonal) at either end of a chain and
    separated from the rest by ``min_run_gap`` words or more is trimmed: it is usually a
    common phrase next to the passage, and keeping it would swallow the words between.
    """
    m = ia.shape[0]
    first = np.full(n_chains, -1, dtype=np.int64)
    nxt = np.full(m, -1, dtype=np.int64)
    tail = np.full(n_chains, -1, dtype=np.int64)
    for k in range(m):
        c = label[k]
        if first[c] < 0:
            first[c] = k
        else:
            nxt[tail[c]] = k
        tail[c] = k
    out = np.empty((n_chains, 6), dtype=np.int64)
    members = np.empty(m, dtype=np.int64)
    for c in range(n_chains):
        cnt = 0
        k = first[c]
        while k >= 0:
            members[cnt] = k
            cnt += 1
            k = nxt[k]
        lo = 0
        hi = cnt - 1
        # Trim lone anchors at the start.
        while hi - lo >= 1:
            k0 = members[lo]
            k1 = members[lo + 1]
            lone = not (ia[k1] - ia[k0] == 1 and ib[k1] - ib[k0] == 1)
            gap_words = max(ia[k1] - ia[k0] - n, ib[k1] - ib[k0] - n)
            if lone and gap_words >= min_run_gap:
                lo += 1
            else:
                break
        while hi - lo >= 1:
            k0 = members[hi - 1]
            k1 = members[hi]
            lone = not (ia[k1] - ia[k0] == 1 and ib[k1] - ib[k0] == 1)
            gap_words = max(ia[k1] - ia[k0] - n, ib[k1] - ib[k0] - n)
            if lone and gap_words >= min_run_gap:
                hi -= 1
            else:
                break
        cov_a = 0
        cov_b = 0
        for t in range(lo, hi + 1):
            k = members[t]
            if t == lo:
                cov_a += n
                cov_b += n
            else:
                p = members[t - 1]
                cov_a += min(n, ia[k] - ia[p])
                cov_b += min(n, ib[k] - ib[p])
        out[c, 0] = ia[members[lo]]
        out[c, 1] = ia[members[hi]] + n
        out[c, 2] = ib[members[lo]]
        out[c, 3] = ib[members[hi]] + n
        out[c, 4] = cov_a
        out[c, 5] = cov_b
    return out


@njit(cache=True, nogil=True)
def sequence_hash(hashes, seed):  # type: ignore[no-untyped-def]
    """Order-sensitive 64-bit hash of a token sequence (two seeds give a 128-bit content hash).

    A polynomial over the (already mixed) token hashes with a multiplier per seed, mixed once
    at the end: one multiply-add per token instead of a mix.
    """
    mult = (SHINGLE_MULT + uint64(2 * seed)) | uint64(1)
    h = mix64(uint64(seed))
    for x in hashes:
        h = h * mult + x
    return mix64(h ^ uint64(hashes.shape[0]))


@njit(cache=True, nogil=True)
def _next_codepoint(data, i, end):  # type: ignore[no-untyped-def]
    """The code point at byte ``i`` of valid UTF-8, and the index of the next one."""
    b0 = np.uint32(data[i])
    if b0 < 0x80:
        return b0, i + 1
    if b0 < 0xE0 and i + 1 < end:
        return ((b0 & 0x1F) << 6) | (np.uint32(data[i + 1]) & 0x3F), i + 2
    if b0 < 0xF0 and i + 2 < end:
        return (((b0 & 0x0F) << 12) | ((np.uint32(data[i + 1]) & 0x3F) << 6)
                | (np.uint32(data[i + 2]) & 0x3F)), i + 3
    if i + 3 < end:
        return (((b0 & 0x07) << 18) | ((np.uint32(data[i + 1]) & 0x3F) << 12)
                | ((np.uint32(data[i + 2]) & 0x3F) << 6) | (np.uint32(data[i + 3]) & 0x3F)), i + 4
    return np.uint32(0xFFFD), i + 1


@njit(cache=True, nogil=True)
def tokens_utf8(data, start, end, classes, fold_start, fold_len, fold_data,  # type: ignore[no-untyped-def]
                hashes, starts, ends, spans):
    """Tokens of the UTF-8 bytes ``data[start:end]``: each token's folded hash goes to
    ``hashes`` and, when ``spans``, its ``[start, end)`` in code points (Python string
    indices) to ``starts``/``ends``. Returns the count. Allocates nothing: this is the loop
    every byte of a corpus goes through.

    A token is a run of word code points (``WORD``, and ``IGNORABLE`` marks inside a word);
    a ``SINGLE`` code point (scripts without spaces) is a token by itself and a mark right
    after it belongs to it; anything else separates tokens.
    """
    limit = classes.shape[0]
    k = 0
    in_word = False
    h = FNV_OFFSET
    pos = -1  # code point index of the current character
    i = start
    while i < end:
        b = data[i]
        pos += 1
        if b < 0x80:
            # ASCII (most of a news corpus): one class lookup; letters fold to lower case.
            i += 1
            if classes[b] == WORD:
                if not in_word:
                    in_word = True
                    h = FNV_OFFSET
                    if spans:
                        starts[k] = pos
                h = (h ^ (uint64(b + 32) if 0x41 <= b <= 0x5A else uint64(b))) * FNV_PRIME
                if spans:
                    ends[k] = pos + 1
            elif in_word:
                hashes[k] = mix64(h)
                k += 1
                in_word = False
            continue
        c, i = _next_codepoint(data, i, end)
        cls = classes[c] if c < limit else WORD
        if cls == WORD or (cls == IGNORABLE and in_word):
            if not in_word:
                in_word = True
                h = FNV_OFFSET
                if spans:
                    starts[k] = pos
            if c < limit:
                f = fold_start[c]
                for j in range(f, f + fold_len[c]):
                    h = (h ^ uint64(fold_data[j])) * FNV_PRIME
            else:
                h = (h ^ uint64(c)) * FNV_PRIME
            if spans:
                ends[k] = pos + 1
        elif cls == SINGLE:
            if in_word:
                hashes[k] = mix64(h)
                k += 1
                in_word = False
            h = FNV_OFFSET
            f = fold_start[c]
            for j in range(f, f + fold_len[c]):
                h = (h ^ uint64(fold_data[j])) * FNV_PRIME
            hashes[k] = mix64(h)
            if spans:
                starts[k] = pos
                ends[k] = pos + 1
            k += 1
        elif cls == IGNORABLE:
            if spans and k > 0 and ends[k - 1] == pos:
                ends[k - 1] = pos + 1  # a mark after a single-character token belongs to it
        elif in_word:
            hashes[k] = mix64(h)
            k += 1
            in_word = False
    if in_word:
        hashes[k] = mix64(h)
        k += 1
    return k


@njit(cache=True, nogil=True)
def tokenize(data, classes, fold_start, fold_len, fold_data):  # type: ignore[no-untyped-def]
    """Tokens of a text given as UTF-8 bytes: (hashes, starts, ends), offsets in code points."""
    n = data.shape[0]
    hashes = np.empty(n + 1, dtype=np.uint64)
    starts = np.empty(n + 1, dtype=np.int32)
    ends = np.empty(n + 1, dtype=np.int32)
    k = tokens_utf8(data, 0, n, classes, fold_start, fold_len, fold_data, hashes, starts, ends, True)
    return hashes[:k].copy(), starts[:k].copy(), ends[:k].copy()


@njit(cache=True, nogil=True)
def _shingles_into(tokens, n, size, out):  # type: ignore[no-untyped-def]
    """The shingles of ``tokens[:n]`` (see ``shingles``) written into ``out``; returns the count."""
    if n == 0:
        return 0
    w = min(size, n)
    top = uint64(1)
    for _ in range(w - 1):
        top *= SHINGLE_MULT
    h = uint64(0)
    for j in range(w):
        h = h * SHINGLE_MULT + tokens[j]
    # No mix per shingle: token hashes are mixed already, and the sketch mixes each shingle.
    out[0] = h ^ uint64(w)
    for i in range(1, n - w + 1):
        h = (h - tokens[i - 1] * top) * SHINGLE_MULT + tokens[i + w - 1]
        out[i] = h ^ uint64(w)
    return n - w + 1


@njit(cache=True, nogil=True)
def _oph_into(shingle_hashes, num_perm, seed, sig):  # type: ignore[no-untyped-def]
    """The sketch of ``oph_sketch`` written into the row ``sig`` (no allocation)."""
    sig[:] = EMPTY_BIN
    if shingle_hashes.shape[0] == 0:
        return
    shift = uint64(64 - int(np.log2(num_perm)))
    s = mix64(uint64(seed) * SHINGLE_MULT)
    for x in shingle_hashes:
        h = mix64(x ^ s)
        b = h >> shift
        v = np.uint32(h & uint64(0xFFFFFFFF))
        if v < sig[b]:
            sig[b] = v
    # Densify from the bins that shingles filled (not from bins filled by borrowing).
    filled = np.empty(num_perm, dtype=np.bool_)
    for b in range(num_perm):
        filled[b] = sig[b] != EMPTY_BIN
    for b in range(num_perm):
        if not filled[b]:
            attempt = uint64(0)
            while True:
                probe = mix64(s ^ (uint64(b) * SHINGLE_MULT + attempt)) % uint64(num_perm)
                if filled[probe]:
                    sig[b] = sig[probe]
                    break
                attempt += uint64(1)


@njit(cache=True, nogil=True)
def _featurize_range(data, offsets, lo, hi, classes, fold_start, fold_len, fold_data,  # type: ignore[no-untyped-def]
                     shingle_size, num_perm, seed, keep_shingles, n_tokens, content, sigs, n_shingles, room):
    """Documents ``lo`` to ``hi`` of a batch (see ``featurize_batch``): their shingles written
    one after another into ``room`` (when ``keep_shingles``); returns how many were written."""
    longest = 1
    for d in range(lo, hi):
        longest = max(longest, offsets[d + 1] - offsets[d] + 1)
    tokens = np.empty(longest, dtype=np.uint64)
    scratch = np.empty(0 if keep_shingles else longest, dtype=np.uint64)
    no_spans = np.empty(0, dtype=np.int32)
    pos = 0
    for d in range(lo, hi):
        k = tokens_utf8(data, offsets[d], offsets[d + 1], classes, fold_start, fold_len, fold_data,
                        tokens, no_spans, no_spans, False)
        n_tokens[d] = k
        content[d, 0] = sequence_hash(tokens[:k], 1)
        content[d, 1] = sequence_hash(tokens[:k], 2)
        # Repeated shingles change neither the sketch (a minimum) nor the postings
        # (deduplicated after the global sort), so no per-document sort is needed.
        out = room[pos:] if keep_shingles else scratch
        m = _shingles_into(tokens, k, shingle_size, out)
        _oph_into(out[:m], num_perm, seed, sigs[d])
        if keep_shingles:
            n_shingles[d] = m
            pos += m
    return pos


@njit(cache=True, nogil=True)
def _shingle_room(offsets):  # type: ignore[no-untyped-def]
    """Where each document's shingles may start in a buffer with room for all of them: a
    token takes at least two bytes with its separator, so a document of b bytes has at most
    (b + 1) // 2 + 1 shingles."""
    n = offsets.shape[0] - 1
    bound = np.zeros(n + 1, dtype=np.int64)
    for d in range(n):
        bound[d + 1] = bound[d] + (offsets[d + 1] - offsets[d] + 1) // 2 + 1
    return bound


@njit(cache=True, nogil=True)
def _feature_rows(n, num_perm):  # type: ignore[no-untyped-def]
    """Empty per-document outputs of the featurize kernels: token counts, content hashes,
    signatures, shingle counts."""
    return (np.zeros(n, dtype=np.int64), np.empty((n, 2), dtype=np.uint64), np.empty((n, num_perm), dtype=np.uint32),
            np.zeros(n, dtype=np.int64))


@njit(cache=True, nogil=True)
def _offsets_of(counts):  # type: ignore[no-untyped-def]
    out = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    for d in range(counts.shape[0]):
        out[d + 1] = out[d] + counts[d]
    return out


FEATURE_CHUNKS = 64


@njit(cache=True, nogil=True)
def _featurize_chunk(data, offsets, classes, fold_start, fold_len, fold_data,  # type: ignore[no-untyped-def]
                     shingle_size, num_perm, seed, keep_shingles, n_tokens, content, sigs, n_shingles, buf, bound,
                     chunks, c):
    """Chunk ``c`` of ``featurize_batch``: its documents' shingles go to their own stretch of
    ``buf`` (from ``bound[lo]``); returns how many."""
    n = offsets.shape[0] - 1
    lo, hi = n * c // chunks, n * (c + 1) // chunks
    room = buf[bound[lo] : bound[hi]] if keep_shingles else buf
    return _featurize_range(data, offsets, lo, hi, classes, fold_start, fold_len, fold_data, shingle_size,
                            num_perm, seed, keep_shingles, n_tokens, content, sigs, n_shingles, room)


def featurize_batch(data: np.ndarray, offsets: np.ndarray, classes: np.ndarray, fold_start: np.ndarray,
                    fold_len: np.ndarray, fold_data: np.ndarray, shingle_size: int, num_perm: int, seed: int,
                    keep_shingles: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Everything a batch of documents needs before pairing, in one parallel pass.

    ``data``/``offsets``: the documents' UTF-8 bytes back to back (an Arrow string column's
    buffers). Returns per document: token count, 128-bit content hash (two uint64), MinHash
    signature, and (when ``keep_shingles``) its shingles in text order, repeats included,
    concatenated with their offsets. Work is split into chunks of documents, each thread
    writing its chunk's shingles one after another, so nothing is allocated per document.
    """
    n = offsets.shape[0] - 1
    n_tokens, content, sigs, n_shingles = _feature_rows(n, num_perm)
    chunks = max(min(n, FEATURE_CHUNKS), 1)
    bound = _shingle_room(offsets)
    buf = np.empty(bound[n] if keep_shingles else 0, dtype=np.uint64)
    fill = np.array(_each(_featurize_chunk, chunks, data, offsets, classes, fold_start, fold_len, fold_data,
                          shingle_size, num_perm, seed, keep_shingles, n_tokens, content, sigs, n_shingles, buf,
                          bound, chunks), dtype=np.int64)
    shingle_offsets = _offsets_of(n_shingles)
    flat = np.empty(shingle_offsets[n], dtype=np.uint64)
    for c in range(chunks):  # copies (NumPy's, without the GIL): nothing to compile
        lo = n * c // chunks
        flat[shingle_offsets[lo] : shingle_offsets[lo] + fill[c]] = buf[bound[lo] : bound[lo] + fill[c]]
    return n_tokens, content, sigs, flat, shingle_offsets


@njit(cache=True, nogil=True)
def featurize_block(data, offsets, classes, fold_start, fold_len, fold_data,  # type: ignore[no-untyped-def]
                    shingle_size, num_perm, seed, keep_shingles):
    """``featurize_batch`` on the calling thread alone: for threads that each take a block of
    documents (the readers), where one parallel kernel per block would only add barriers."""
    n = offsets.shape[0] - 1
    n_tokens, content, sigs, n_shingles = _feature_rows(n, num_perm)
    buf = np.empty(_shingle_room(offsets)[n] if keep_shingles else 0, dtype=np.uint64)
    m = _featurize_range(data, offsets, 0, n, classes, fold_start, fold_len, fold_data, shingle_size, num_perm,
                         seed, keep_shingles, n_tokens, content, sigs, n_shingles, buf)
    return n_tokens, content, sigs, buf[:m].copy(), _offsets_of(n_shingles)
