"""Sketching: word shingles, content hashes and MinHash signatures of documents.

Shingles are hashes of ``SketchConfig.shingle_size`` consecutive normalized words. A
document's signature is a one-permutation MinHash of its distinct shingles (see
``_kernels.oph_sketch``): ``num_perm`` 32-bit values, whose share of equal values between two
documents estimates the Jaccard similarity of their shingle sets. Seeds are fixed
(``SketchConfig.seed``), so signatures are comparable across runs and versions.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

from . import _kernels
from .config import SketchConfig
from .normalize import Tokens


def shingle_set(tokens: Tokens, size: int) -> npt.NDArray[np.uint64]:
    """Distinct shingle hashes of a document, sorted."""
    return np.unique(_kernels.shingles(tokens.hashes, size))


def content_hash(tokens: Tokens) -> bytes:
    """128-bit hash of the normalized word sequence: equal for texts that differ only in case,
    punctuation, whitespace or Unicode form."""
    return hashlib.blake2b(tokens.hashes.tobytes(), digest_size=16).digest()


def signatures(shingle_sets: list[npt.NDArray[np.uint64]], config: SketchConfig) -> npt.NDArray[np.uint32]:
    """MinHash signatures, one row per document (a row of ``0xFFFFFFFF`` for a document
    without words)."""
    if not shingle_sets:
        return np.empty((0, config.num_perm), dtype=np.uint32)
    lengths = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=len(shingle_sets))
    offsets = np.zeros(len(shingle_sets) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.concatenate(shingle_sets) if offsets[-1] else np.empty(0, dtype=np.uint64)
    return _kernels.oph_sketch_batch(flat, offsets, config.num_perm, config.seed)
