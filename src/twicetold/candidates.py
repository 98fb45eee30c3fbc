"""Candidate pairs for passage alignment: documents that share rare shingles.

Postings are (shingle, document) rows sorted by shingle; a shingle found in more than
``max_df`` documents is boilerplate or a stock phrase and gives no candidates. Documents
that share at least ``min_shared`` distinct rare shingles are aligned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from . import _kernels
from .errors import ConfigError
from .sketch import Shingles


@dataclass(frozen=True)
class ShingleCounts:
    """How many documents of a corpus hold each frequent shingle: what makes a shared
    shingle evidence of reuse (rare) or a stock phrase (common).

    ``keys`` are shingle hashes shifted right by ``KEY_SHIFT`` (as the candidate postings pack
    them), sorted, for the shingles in at least ``min_count`` documents; ``counts`` their
    document counts. A shingle not listed is in fewer than ``min_count`` documents.
    """

    keys: npt.NDArray[np.uint64]
    counts: npt.NDArray[np.int64]
    n_documents: int
    shingle_size: int
    min_count: int

    KEY_SHIFT = 24

    def rarity(self, shingles: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
        """Each shingle's rarity in [0, 1]: ``log(N / df) / log(N / 2)``, 1 for a shingle in two
        documents, 0 in half the corpus or more; an unlisted shingle counts as in two."""
        keys = shingles >> np.uint64(self.KEY_SHIFT)
        at = np.searchsorted(self.keys, keys)
        found = at < len(self.keys)
        found[found] = self.keys[at[found]] == keys[found]
        df = np.full(len(shingles), 2.0)
        df[found] = self.counts[at[found]]
        n = max(self.n_documents, 4)
        return np.clip(np.log(n / df) / np.log(n / 2), 0.0, 1.0)


@dataclass(frozen=True)
class Candidates:
    """Pairs of document rows (``a < b``) with the number of rare shingles they share, the
    number of shingles dropped as too frequent, and the document counts of the shingles in
    at least ``COUNTED_MIN_DF`` documents (what alignment weighs its passages' evidence by)."""

    pairs: npt.NDArray[np.int64]
    shared: npt.NDArray[np.int64]
    frequent_shingles: int
    counts: ShingleCounts | None = None


# Shingles in fewer documents than this are not counted one by one (they are most of the
# shared ones): alignment takes them as found in two, which is within a few per cent of
# their rarity in any corpus of more than a few hundred documents.
COUNTED_MIN_DF = 5


MAX_PASSES = 8  # the postings buffer holds at least an eighth of the postings, whatever the budget


def posting_passes(bucket_sizes: npt.NDArray[np.int64], budget: int) -> list[tuple[int, int]]:
    """Ranges ``[b0, b1)`` of buckets, in order, each holding at most ``budget`` postings (or
    a single bucket), fewest ranges first: the passes of ``shared_postings``."""
    passes = []
    b0, held = 0, 0
    for b, size in enumerate(bucket_sizes.tolist()):
        if held + size > budget and b > b0:
            passes.append((b0, b))
            b0, held = b, 0
        held += size
    if b0 < len(bucket_sizes):
        passes.append((b0, len(bucket_sizes)))
    return passes


def shared_postings(shingles: Shingles, budget: int | None = None,
                    sub_bucket: int = _kernels.SUB_BUCKET) -> Iterator[npt.NDArray[np.uint64]]:
    """Postings of the shingles found more than once, packed as ``shingle >> 24 << 24 |
    document``, sorted and distinct, a range of buckets at a time (each range's shingles
    above the previous range's; the runs of one shingle are never cut).

    Postings are as many as the shingles, so they are scattered into one buffer of at most
    ``budget`` bytes (all at once when None; at least ``1 / MAX_PASSES`` of them), reused by
    every pass: each yielded array is a view of it, valid until the next. Each pass reads
    every document's shingles again (the three steps of ``_kernels``, over every part).
    ``sub_bucket``: see ``_kernels.shared_in_buckets``.
    """
    hists = [_kernels.posting_histogram(flat, offsets) for flat, offsets in shingles.parts]
    if not hists:
        return
    counts = np.stack(hists)  # part, chunk, bucket
    chunks = counts.shape[1]
    per_bucket = counts.transpose(2, 0, 1).reshape(counts.shape[2], -1)  # bucket, (part, chunk)
    sizes = per_bucket.sum(axis=1)
    total = int(sizes.sum())
    # Postings (8 bytes each) the buffer holds: each pass but the last then holds more than an
    # eighth of them, so there are at most eight.
    room = total if budget is None else max(budget // 8, -(-total // MAX_PASSES) + int(sizes.max()))
    passes = posting_passes(sizes, room)
    buffer = np.empty(max(int(sizes[b0:b1].sum()) for b0, b1 in passes), dtype=np.uint64)
    for b0, b1 in passes:
        # Bucket by bucket, each part's chunks in order: where each chunk writes its postings.
        held = per_bucket[b0:b1]
        starts = (np.cumsum(held.ravel()) - held.ravel()).reshape(held.shape)
        bounds = np.concatenate([[0], np.cumsum(held.sum(axis=1))]).astype(np.int64)
        out = buffer[: bounds[-1]]
        for k, ((flat, offsets), first) in enumerate(zip(shingles.parts, shingles.firsts[:-1], strict=True)):
            start = np.ascontiguousarray(starts[:, k * chunks : (k + 1) * chunks].T)
            _kernels.scatter_postings(flat, offsets, first, start, out, b0)
        yield _kernels.shared_in_buckets(out, bounds, sub_bucket)


COUNT_SLICE = 1 << 22  # postings looked at at once by _counted (its temporaries stay ~100 MB)


def _counted(packed: npt.NDArray[np.uint64], slice_size: int = COUNT_SLICE
             ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """The keys and document counts of the shingles of sorted, distinct ``packed`` postings
    found in at least ``COUNTED_MIN_DF`` documents, a slice of whole runs at a time (a copy of
    all the keys at once was 0.4 GB more at 100,000 articles)."""
    shift = np.uint64(ShingleCounts.KEY_SHIFT)
    found_keys, found_sizes = [], []
    i = 0
    while i < len(packed):
        j = min(len(packed), i + slice_size)
        last = packed[j - 1] >> shift
        if j < len(packed) and last < np.uint64(2**64 - 1) >> shift:  # on to the end of the run it cuts
            j = int(np.searchsorted(packed, (last + np.uint64(1)) << shift))
        elif j < len(packed):  # the cut run is of the largest key: it runs to the end
            j = len(packed)
        keys = packed[i:j] >> shift
        starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        sizes = np.diff(np.append(starts, len(keys)))
        many = sizes >= COUNTED_MIN_DF
        found_keys.append(keys[starts[many]])
        found_sizes.append(sizes[many])
        i = j
    if not found_keys:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    return np.concatenate(found_keys), np.concatenate(found_sizes)


def shared_shingle_pairs(shingles: Shingles, max_df: int, min_shared: int, budget: int | None = None,
                         shingle_size: int = 5) -> Candidates:
    """Pairs of documents sharing at least ``min_shared`` shingles found in at most ``max_df``
    documents (postings made in passes of at most ``budget`` bytes: see ``shared_postings``),
    and the counts of the shingles (of ``shingle_size`` words) found in many."""
    n = shingles.firsts[-1]
    if n > _kernels.DOC_MASK:
        raise ConfigError(f"{n:,} documents in one scan; this version pairs at most {_kernels.DOC_MASK:,}",
                          "split the corpus, or deduplicate it first with twicetold dedup")
    # Each pass's (pair, shingle) rows are counted at once (they outnumber the pairs tenfold),
    # and a pair's counts from several passes are added up at the end.
    counted, frequent, many = [], 0, []
    for packed in shared_postings(shingles, budget):
        rows, dropped = _kernels.shared_ngram_pairs(packed, max_df)
        counted.append(_kernels.count_pairs(rows))
        frequent += int(dropped)
        many.append(_counted(packed))  # passes come in order of shingle: keys stay sorted
        del rows
    counts = ShingleCounts(np.concatenate([k for k, _ in many]) if many else np.empty(0, np.uint64),
                           np.concatenate([c for _, c in many]) if many else np.empty(0, np.int64),
                           int(n), shingle_size, COUNTED_MIN_DF)
    if not counted:
        return Candidates(np.empty((0, 2), np.int64), np.empty(0, np.int64), frequent, counts)
    pairs, shared = counted[0] if len(counted) == 1 else _add_counts(counted)
    keep = shared >= min_shared
    return Candidates(pairs[keep], shared[keep], frequent, counts)


def _add_counts(counted: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]
                ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Distinct pairs, sorted, with their counts added up over every ``(pairs, counts)``."""
    keys = np.concatenate([(p[:, 0] << 32) | p[:, 1] for p, _ in counted])
    counts = np.concatenate([c for _, c in counted])
    order = np.argsort(keys, kind="stable")
    keys, counts = keys[order], counts[order]
    starts = np.flatnonzero(np.diff(keys, prepend=np.int64(-1)))
    if len(starts) == 0:
        return np.empty((0, 2), np.int64), np.empty(0, np.int64)
    distinct = keys[starts]
    return np.stack([distinct >> 32, distinct & 0xFFFFFFFF], axis=1), np.add.reduceat(counts, starts)


# Aligning on letters (OCR'd text), documents are candidates too when they share letter grams:
# OCR noise leaves few word 5-grams intact (at 15 % of characters wrong, about one in a
# hundred), and a pair never found is never aligned. Grams of LETTER_GRAM letters, of which one
# in LETTER_SAMPLE is kept by its hash (the same ones in every document), so that the postings
# stay about as many as the words'; LETTER_MIN_SHARED of them make a pair.
LETTER_GRAM = 12
LETTER_SAMPLE = 4
LETTER_MIN_SHARED = 4
LETTER_PART = 10_000  # documents per part of the grams (each part may spill to disk)


def letter_gram_pairs(text_of: Callable[[int], str], n: int, max_df: int,
                      keep: Callable[[npt.NDArray[np.uint64]], npt.NDArray[np.uint64]],
                      budget: int | None = None) -> Candidates:
    """Pairs of the ``n`` documents (``text_of(row)``) sharing at least ``LETTER_MIN_SHARED``
    sampled letter grams found in at most ``max_df`` documents. The grams are made a part of
    ``LETTER_PART`` documents at a time and handed to ``keep`` (which may spill them to disk);
    the postings are made in passes of ``budget`` bytes, as for shingles."""
    from .letters import sampled_grams  # letters builds on align, which builds on this module
    from .normalize import code_points, tables

    t = tables()
    parts = []
    for first in range(0, n, LETTER_PART):
        # A part's texts in one string and one kernel call: per document, the calls and their
        # arrays cost more than the grams.
        texts = [text_of(i) for i in range(first, min(first + LETTER_PART, n))]
        bounds = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([len(x) for x in texts], out=bounds[1:])
        grams, offsets = sampled_grams(code_points("".join(texts)), bounds, t.classes, t.fold_start, t.fold_len,
                                       t.fold_data, LETTER_GRAM, LETTER_SAMPLE)
        del texts
        parts.append((keep(grams), offsets))
    return shared_shingle_pairs(Shingles(tuple(parts)), max_df, LETTER_MIN_SHARED, budget)
