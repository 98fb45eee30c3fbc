"""Candidate pairs for passage alignment: documents that share rare shingles.

Postings are (shingle, document) rows sorted by shingle; a shingle found in more than
``max_df`` documents is boilerplate or a stock phrase and gives no candidates. Documents
that share at least ``min_shared`` distinct rare shingles are aligned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from . import _kernels
from .errors import ConfigError
from .sketch import Shingles
from .store import Spill


@dataclass(frozen=True)
class Candidates:
    """Pairs of document rows (``a < b``) with the number of rare shingles they share, and
    the number of shingles dropped as too frequent."""

    pairs: npt.NDArray[np.int64]
    shared: npt.NDArray[np.int64]
    frequent_shingles: int


def shared_postings(shingles: Shingles, spill: Spill | None = None) -> npt.NDArray[np.uint64]:
    """Postings of the shingles found more than once, packed as ``shingle >> 24 << 24 |
    document``, sorted and distinct (the three steps of ``_kernels``, over every part). The
    postings array is as long as all the shingles together: ``spill`` may put it on disk."""
    hists = [_kernels.posting_histogram(flat, offsets) for flat, offsets in shingles.parts]
    if not hists:
        return np.empty(0, np.uint64)
    # Bucket by bucket, each part's chunks in order: where each chunk writes its postings.
    counts = np.stack(hists)  # part, chunk, bucket
    per_bucket = counts.transpose(2, 0, 1).reshape(counts.shape[2], -1)
    starts = (np.cumsum(per_bucket.ravel()) - per_bucket.ravel()).reshape(per_bucket.shape)
    bounds = np.concatenate([[0], np.cumsum(per_bucket.sum(axis=1))]).astype(np.int64)
    out = spill.empty(int(bounds[-1]), np.uint64) if spill else np.empty(int(bounds[-1]), dtype=np.uint64)
    chunks = counts.shape[1]
    for k, ((flat, offsets), first) in enumerate(zip(shingles.parts, shingles.firsts[:-1], strict=True)):
        start = np.ascontiguousarray(starts[:, k * chunks : (k + 1) * chunks].T)
        _kernels.scatter_postings(flat, offsets, first, start, out)
    return _kernels.shared_in_buckets(out, bounds)


def shared_shingle_pairs(shingles: Shingles, max_df: int, min_shared: int, spill: Spill | None = None
                         ) -> Candidates:
    """Pairs of documents sharing at least ``min_shared`` shingles found in at most ``max_df``
    documents (postings beyond ``spill``'s memory budget go to disk)."""
    n = shingles.firsts[-1]
    if n > _kernels.DOC_MASK:
        raise ConfigError(f"{n:,} documents in one scan; this version pairs at most {_kernels.DOC_MASK:,}",
                          "split the corpus, or deduplicate it first with twicetold dedup")
    packed = shared_postings(shingles, spill)
    rows, frequent = _kernels.shared_ngram_pairs(packed, max_df)
    del packed
    pairs, shared = _kernels.count_pairs(rows)
    keep = shared >= min_shared
    return Candidates(pairs[keep], shared[keep], int(frequent))
