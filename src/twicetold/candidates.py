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


@dataclass(frozen=True)
class Candidates:
    """Pairs of document rows (``a < b``) with the number of rare shingles they share, and
    the number of shingles dropped as too frequent."""

    pairs: npt.NDArray[np.int64]
    shared: npt.NDArray[np.int64]
    frequent_shingles: int


def shared_shingle_pairs(shingle_sets: list[npt.NDArray[np.uint64]], max_df: int,
                         min_shared: int) -> Candidates:
    """Pairs of documents sharing at least ``min_shared`` shingles found in at most ``max_df``
    documents. ``shingle_sets[i]`` holds document ``i``'s distinct shingles."""
    if not shingle_sets:
        return Candidates(np.empty((0, 2), np.int64), np.empty(0, np.int64), 0)
    keys = np.concatenate(shingle_sets)
    docs = np.repeat(np.arange(len(shingle_sets), dtype=np.int64), [len(s) for s in shingle_sets])
    order = np.argsort(keys, kind="stable")
    keys, docs = keys[order], docs[order]
    _, counts = np.unique(keys, return_counts=True)
    frequent = int(np.count_nonzero(counts > max_df))
    rows = _kernels.shared_ngram_pairs(keys, docs, max_df)
    if len(rows) == 0:
        return Candidates(np.empty((0, 2), np.int64), np.empty(0, np.int64), frequent)
    combined = (rows[:, 0] << 32) | rows[:, 1]
    uniq, shared = np.unique(combined, return_counts=True)
    keep = shared >= min_shared
    uniq = uniq[keep]
    pairs = np.stack([uniq >> 32, uniq & 0xFFFFFFFF], axis=1)
    return Candidates(pairs, shared[keep], frequent)
