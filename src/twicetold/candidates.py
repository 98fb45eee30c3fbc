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


@dataclass(frozen=True)
class Candidates:
    """Pairs of document rows (``a < b``) with the number of rare shingles they share, and
    the number of shingles dropped as too frequent."""

    pairs: npt.NDArray[np.int64]
    shared: npt.NDArray[np.int64]
    frequent_shingles: int


def shared_shingle_pairs(flat: npt.NDArray[np.uint64], offsets: npt.NDArray[np.int64], max_df: int,
                         min_shared: int) -> Candidates:
    """Pairs of documents sharing at least ``min_shared`` shingles found in at most ``max_df``
    documents. Document ``i``'s distinct shingles are ``flat[offsets[i]:offsets[i + 1]]``."""
    n = len(offsets) - 1
    if n > _kernels.DOC_MASK:
        raise ConfigError(f"{n:,} documents in one scan; this version pairs at most {_kernels.DOC_MASK:,}",
                          "split the corpus, or deduplicate it first with twicetold dedup")
    packed = _kernels.pack_and_sort_postings(flat, offsets)
    rows, frequent = _kernels.shared_ngram_pairs(packed, max_df)
    del packed
    if len(rows) == 0:
        return Candidates(np.empty((0, 2), np.int64), np.empty(0, np.int64), int(frequent))
    combined = np.sort((rows[:, 0] << 32) | rows[:, 1])
    del rows
    starts = np.flatnonzero(np.diff(combined, prepend=np.int64(-1)))
    shared = np.diff(np.append(starts, len(combined)))
    keep = shared >= min_shared
    uniq = combined[starts[keep]]
    pairs = np.stack([uniq >> 32, uniq & 0xFFFFFFFF], axis=1)
    return Candidates(pairs, shared[keep], int(frequent))
