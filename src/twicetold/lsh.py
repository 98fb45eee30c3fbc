"""Near-duplicate candidates by LSH banding, each verified before it is kept.

Banding hashes ``rows`` consecutive signature values per band; documents that agree on a
whole band become candidates. Every candidate pair is then verified on the full signature
(and on request on the exact shingle sets), so band collisions never glue unrelated
documents together.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from . import _kernels
from .config import NearConfig
from .errors import ConfigError

MAX_FULL_BUCKET = 64  # larger buckets are linked as a star, not all pairs


# Every candidate is verified on the full signature, so a false candidate costs a comparison
# while a missed one is lost: weigh misses nine times more than datasketch's even split.
FALSE_POSITIVE_WEIGHT = 0.1
FALSE_NEGATIVE_WEIGHT = 0.9


@functools.cache
def optimal_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands and rows for a Jaccard threshold, minimizing the weighted false-positive and
    false-negative areas under the S-curve ``1 - (1 - s**r)**b`` (as datasketch's
    ``_optimal_param`` does, with misses weighted 0.9 and false candidates 0.1).

    >>> optimal_bands(0.6, 128)  # P(candidate) is 0.87 at J=0.6 and 0.99 at J=0.7
    (25, 5)
    """
    grid = np.linspace(0.0, 1.0, 1001)
    below, above = grid <= threshold, grid >= threshold
    best, best_err = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            hit = 1 - (1 - grid**r) ** b
            fp = float(np.trapezoid(hit[below], grid[below]))
            fn = float(np.trapezoid(1 - hit[above], grid[above]))
            err = FALSE_POSITIVE_WEIGHT * fp + FALSE_NEGATIVE_WEIGHT * fn
            if err < best_err:
                best_err, best = err, (b, r)
    return best


@dataclass(frozen=True)
class NearPairs:
    """Verified near-duplicate pairs (row indices, ``a < b``) with their estimated Jaccard,
    and how many band candidates were seen before verification."""

    pairs: npt.NDArray[np.int64]
    jaccard: npt.NDArray[np.float64]
    candidates: int
    decided_exactly: int = 0  # candidates near the threshold decided on their exact Jaccard


def bands_for(config: NearConfig, num_perm: int) -> tuple[int, int]:
    if config.bands is not None and config.rows is not None:
        if config.bands * config.rows > num_perm:
            raise ConfigError(
                f"bands * rows = {config.bands} * {config.rows} exceeds num_perm {num_perm}",
                "lower bands or rows, or leave both out to choose them from the threshold",
            )
        return config.bands, config.rows
    return optimal_bands(round(config.threshold, 4), num_perm)


def candidate_pairs(signatures: npt.NDArray[np.uint32], bands: int, rows: int,
                    usable: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Distinct pairs of usable rows that share at least one band key."""
    keys = _kernels.band_keys(signatures, bands, rows)
    idx = np.flatnonzero(usable)
    found = []
    for b in range(bands):
        k = keys[idx, b]
        order = np.argsort(k, kind="stable")
        found.append(_kernels.bucket_pairs(k[order], idx[order], MAX_FULL_BUCKET))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    return np.unique(pairs, axis=0) if len(pairs) else pairs


# Within this distance of the threshold, the estimate of 128 values (standard deviation 0.044
# at J = 0.5) decides wrongly too often; the exact Jaccard decides instead, where the shingles
# are at hand. Farther away the estimate is right all but never (3.4 standard deviations).
EXACT_MARGIN = 0.15


def near_duplicates(signatures: npt.NDArray[np.uint32], config: NearConfig, usable: npt.NDArray[np.bool_],
                    shingles: Callable[[int], npt.NDArray[np.uint64]] | None = None) -> NearPairs:
    """Candidate pairs from banding, kept when their Jaccard reaches the threshold: the
    estimate from the signatures, or, for candidates within ``EXACT_MARGIN`` of the threshold
    when ``shingles`` gives each document's shingles, the exact Jaccard of their shingle sets.
    The pairs' ``jaccard`` is the estimate either way."""
    bands, rows = bands_for(config, signatures.shape[1])
    pairs = candidate_pairs(signatures, bands, rows, usable)
    jac = _kernels.estimate_jaccard(signatures, pairs) if len(pairs) else np.empty(0)
    keep = jac >= config.threshold
    close = np.flatnonzero(np.abs(jac - config.threshold) < EXACT_MARGIN) if shingles else np.empty(0, np.int64)
    distinct: dict[int, npt.NDArray[np.uint64]] = {}  # a document in several close pairs: its set once

    def shingle_set(i: int) -> npt.NDArray[np.uint64]:
        assert shingles is not None
        if i not in distinct:
            distinct[i] = np.unique(shingles(i))
        return distinct[i]

    for k in close.tolist():
        i, j = pairs[k].tolist()
        keep[k] = _kernels.exact_jaccard(shingle_set(i), shingle_set(j)) >= config.threshold
    return NearPairs(pairs[keep], jac[keep], len(pairs), len(close))
