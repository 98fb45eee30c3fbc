"""Compiled inner loops: the only module that imports Numba.

Every kernel works on NumPy arrays, caches its machine code on disk (``cache=True``) and
releases the GIL (``nogil=True``) so Python threads can run kernels side by side. Each one
has a plain reference that ``tests/test_kernels.py`` compares it with.

Hash constants are fixed forever: signatures and band keys stay comparable across runs
and versions (changing one is a schema change of the index).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
SHINGLE_MULT = np.uint64(0x9E3779B97F4A7C15)
EMPTY_BIN = np.uint32(0xFFFFFFFF)
SEP, WORD, SINGLE, IGNORABLE = 0, 1, 2, 3


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
def tokenize(cps, classes, fold_start, fold_len, fold_data):  # type: ignore[no-untyped-def]
    """Tokens of a text given as code points: (hashes, starts, ends)."""
    n = cps.shape[0]
    limit = classes.shape[0]
    hashes = np.empty(n, dtype=np.uint64)
    starts = np.empty(n, dtype=np.int32)
    ends = np.empty(n, dtype=np.int32)
    k = 0
    in_word = False
    h = FNV_OFFSET
    for i in range(n):
        c = cps[i]
        cls = classes[c] if c < limit else WORD
        if cls == WORD or (cls == IGNORABLE and in_word):
            if not in_word:
                in_word = True
                h = FNV_OFFSET
                starts[k] = i
            if c < limit:
                s = fold_start[c]
                for j in range(s, s + fold_len[c]):
                    h = (h ^ uint64(fold_data[j])) * FNV_PRIME
            else:
                h = (h ^ uint64(c)) * FNV_PRIME
            ends[k] = i + 1
        elif cls == SINGLE:
            if in_word:
                hashes[k] = mix64(h)
                k += 1
                in_word = False
            h = FNV_OFFSET
            s = fold_start[c]
            for j in range(s, s + fold_len[c]):
                h = (h ^ uint64(fold_data[j])) * FNV_PRIME
            hashes[k] = mix64(h)
            starts[k] = i
            ends[k] = i + 1
            k += 1
        elif cls == IGNORABLE:
            if k > 0 and ends[k - 1] == i:
                ends[k - 1] = i + 1  # a mark after a single-character token belongs to it
        elif in_word:
            hashes[k] = mix64(h)
            k += 1
            in_word = False
    if in_word:
        hashes[k] = mix64(h)
        k += 1
    return hashes[:k].copy(), starts[:k].copy(), ends[:k].copy()


@njit(cache=True, nogil=True)
def shingles(tokens, size):  # type: ignore[no-untyped-def]
    """Hashes of the word n-grams (``size`` consecutive tokens), one per start position.

    A text shorter than ``size`` tokens (but not empty) gives one shingle of all its tokens,
    so short documents can still match each other.
    """
    n = tokens.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    m = max(n - size + 1, 1)
    w = min(size, n)
    out = np.empty(m, dtype=np.uint64)
    for i in range(m):
        h = uint64(w)
        for j in range(i, i + w):
            h = mix64(h * SHINGLE_MULT + tokens[j])
        out[i] = h
    return out


@njit(cache=True, nogil=True)
def oph_sketch(shingle_hashes, num_perm, seed):  # type: ignore[no-untyped-def]
    """One-permutation MinHash with optimal densification (Shrivastava, 2017).

    One hash per shingle instead of ``num_perm``: the top bits pick a bin, the low 32 bits
    are the value, and each bin keeps its minimum. Empty bins borrow the value of a bin
    chosen by a seeded probe sequence, so two documents' empty bins borrow alike and the
    share of equal bins stays an unbiased Jaccard estimate.
    """
    sig = np.full(num_perm, EMPTY_BIN, dtype=np.uint32)
    if shingle_hashes.shape[0] == 0:
        return sig
    shift = uint64(64 - int(np.log2(num_perm)))
    s = mix64(uint64(seed) * SHINGLE_MULT)
    for x in shingle_hashes:
        h = mix64(x ^ s)
        b = h >> shift
        v = np.uint32(h & uint64(0xFFFFFFFF))
        if v < sig[b]:
            sig[b] = v
    filled = sig != EMPTY_BIN
    out = sig.copy()
    for b in range(num_perm):
        if not filled[b]:
            attempt = uint64(0)
            while True:
                probe = mix64(s ^ (uint64(b) * SHINGLE_MULT + attempt)) % uint64(num_perm)
                if filled[probe]:
                    out[b] = sig[probe]
                    break
                attempt += uint64(1)
    return out


@njit(cache=True, nogil=True, parallel=True)
def oph_sketch_batch(all_shingles, offsets, num_perm, seed):  # type: ignore[no-untyped-def]
    """Sketches of many documents whose shingles are concatenated (``offsets`` has n+1 entries)."""
    n = offsets.shape[0] - 1
    out = np.empty((n, num_perm), dtype=np.uint32)
    for d in prange(n):
        out[d] = oph_sketch(all_shingles[offsets[d] : offsets[d + 1]], num_perm, seed)
    return out


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
        j = i + 1
        while j < n and sorted_keys[j] == sorted_keys[i]:
            j += 1
        size = j - i
        count += size * (size - 1) // 2 if size <= max_full else size - 1
        i = j
    out = np.empty((count, 2), dtype=np.int64)
    k = 0
    i = 0
    while i < n:
        j = i + 1
        while j < n and sorted_keys[j] == sorted_keys[i]:
            j += 1
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


@njit(cache=True, nogil=True, parallel=True)
def estimate_jaccard(signatures, pairs):  # type: ignore[no-untyped-def]
    """Share of equal signature values for each pair of rows."""
    m = pairs.shape[0]
    k = signatures.shape[1]
    out = np.empty(m, dtype=np.float64)
    for p in prange(m):
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
def connected_components(n, edges):  # type: ignore[no-untyped-def]
    """Component label of each of ``n`` nodes (the smallest node of its component)."""
    parent = np.arange(n, dtype=np.int64)
    for e in range(edges.shape[0]):
        a = _find(parent, edges[e, 0])
        b = _find(parent, edges[e, 1])
        if a != b:
            if a < b:
                parent[b] = a
            else:
                parent[a] = b
    for i in range(n):
        parent[i] = _find(parent, i)
    return parent


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


@njit(cache=True, nogil=True)
def shared_ngram_pairs(keys, docs, max_df):  # type: ignore[no-untyped-def]
    """Pairs of documents sharing an n-gram, from (n-gram, document) postings sorted by n-gram.

    Each document's n-grams must be distinct. An n-gram in more than ``max_df`` documents is
    boilerplate and gives nothing. A pair appears once per n-gram it shares.
    """
    n = keys.shape[0]
    count = 0
    i = 0
    while i < n:
        j = i + 1
        while j < n and keys[j] == keys[i]:
            j += 1
        size = j - i
        if 2 <= size <= max_df:
            count += size * (size - 1) // 2
        i = j
    out = np.empty((count, 2), dtype=np.int64)
    k = 0
    i = 0
    while i < n:
        j = i + 1
        while j < n and keys[j] == keys[i]:
            j += 1
        if 2 <= j - i <= max_df:
            for p in range(i, j):
                for q in range(p + 1, j):
                    a, b = docs[p], docs[q]
                    out[k, 0] = min(a, b)
                    out[k, 1] = max(a, b)
                    k += 1
        i = j
    return out


@njit(cache=True, nogil=True)
def anchor_matches(ha, hb, max_occ):  # type: ignore[no-untyped-def]
    """Positions ``(i, j)`` where anchor n-gram ``ha[i]`` equals ``hb[j]``, sorted by i then j.

    An n-gram found more than ``max_occ`` times in B is a phrase the text repeats, not an
    anchor, and is skipped.
    """
    order = np.argsort(hb, kind="mergesort")
    sb = hb[order]
    nb = sb.shape[0]
    count = 0
    for i in range(ha.shape[0]):
        lo = np.searchsorted(sb, ha[i])
        hi = lo
        while hi < nb and sb[hi] == ha[i]:
            hi += 1
        if hi - lo <= max_occ:
            count += hi - lo
    ia = np.empty(count, dtype=np.int64)
    ib = np.empty(count, dtype=np.int64)
    k = 0
    for i in range(ha.shape[0]):
        lo = np.searchsorted(sb, ha[i])
        hi = lo
        while hi < nb and sb[hi] == ha[i]:
            hi += 1
        if hi - lo <= max_occ:
            for t in range(lo, hi):
                ia[k] = i
                ib[k] = order[t]
                k += 1
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
