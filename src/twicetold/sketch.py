"""Sketching: word shingles, content hashes and MinHash signatures of documents.

Shingles are hashes of ``SketchConfig.shingle_size`` consecutive normalized words. A
document's signature is a one-permutation MinHash of its distinct shingles (see
``_kernels.oph_sketch``): ``num_perm`` 32-bit values, whose share of equal values between two
documents estimates the Jaccard similarity of their shingle sets. Seeds are fixed
(``SketchConfig.seed``), so signatures are comparable across runs and versions.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from . import _kernels
from .config import SketchConfig
from .model import string_buffers
from .normalize import Tokens, tables


def shingle_set(tokens: Tokens, size: int) -> npt.NDArray[np.uint64]:
    """Distinct shingle hashes of a document, sorted."""
    return np.unique(_kernels.shingles(tokens.hashes, size))


def content_hash(tokens: Tokens) -> bytes:
    """128-bit hash of the normalized word sequence: equal for texts that differ only in case,
    punctuation, whitespace or Unicode form (the same value ``featurize`` computes)."""
    pair = np.array([_kernels.sequence_hash(tokens.hashes, 1), _kernels.sequence_hash(tokens.hashes, 2)],
                    dtype="<u8")
    return pair.tobytes()


@dataclass(frozen=True)
class Shingles:
    """Documents' shingles, in text order with repeats, as the batches made them: part ``k``
    is ``(flat, offsets)``, its ``d``-th document's shingles ``flat[offsets[d]:offsets[d + 1]]``
    (``offsets[0]`` is 0).
    The parts of a corpus are never joined: that would copy all its shingles once more."""

    parts: tuple[tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]], ...]

    @cached_property
    def firsts(self) -> list[int]:
        """The row of each part's first document, then the number of documents."""
        return np.cumsum([0] + [len(offsets) - 1 for _, offsets in self.parts]).tolist()

    def of(self, i: int) -> npt.NDArray[np.uint64]:
        """Document ``i``'s shingles."""
        k = bisect.bisect_right(self.firsts, i) - 1
        flat, offsets = self.parts[k]
        d = i - self.firsts[k]
        return flat[offsets[d] : offsets[d + 1]]

    def joined(self) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
        """All shingles in one array, with every document's offsets: the only part as it is,
        else a copy (for small uses)."""
        if not self.parts:
            return np.empty(0, np.uint64), np.zeros(1, np.int64)
        if len(self.parts) == 1:
            return self.parts[0]
        shifts = np.cumsum([0] + [len(flat) for flat, _ in self.parts[:-1]])
        offsets = np.concatenate([np.zeros(1, np.int64)] + [o[1:] + s for (_, o), s in
                                                            zip(self.parts, shifts, strict=True)])
        return np.concatenate([flat for flat, _ in self.parts]), offsets

    def __len__(self) -> int:
        return sum(len(flat) for flat, _ in self.parts)


@dataclass(frozen=True)
class Features:
    """What the pairing stages need of a batch of documents, row ``i`` per document ``i``.

    ``content``: 128-bit content hashes (two uint64 per row); ``signatures``: MinHash rows;
    ``shingles``: each document's shingles (none when only sketches were kept, as for dedup).
    """

    n_tokens: npt.NDArray[np.int64]
    content: npt.NDArray[np.uint64]
    signatures: npt.NDArray[np.uint32]
    shingles: Shingles

    @classmethod
    def concat(cls, parts: list[Features], num_perm: int) -> Features:
        """The parts one after another (their shingles are not copied)."""
        if not parts:
            return cls(np.empty(0, np.int64), np.empty((0, 2), np.uint64), np.empty((0, num_perm), np.uint32),
                       Shingles(()))
        return cls(np.concatenate([p.n_tokens for p in parts]), np.concatenate([p.content for p in parts]),
                   np.concatenate([p.signatures for p in parts]),
                   Shingles(tuple(part for p in parts for part in p.shingles.parts)))

    def shingle_set(self, i: int) -> npt.NDArray[np.uint64]:
        return self.shingles.of(i)


def featurize(texts: list[str] | pa.LargeStringArray, config: SketchConfig, *,
              keep_shingles: bool = True, parallel: bool = True) -> Features:
    """Tokens, content hashes, shingles and signatures of many texts in one pass, on all of
    Numba's threads, or with ``parallel=False`` on the calling thread alone (for callers that
    run several batches side by side themselves).

    >>> f = featurize(["The same words.", "the SAME words", "Other words here."], SketchConfig())
    >>> bool((f.content[0] == f.content[1]).all()), bool((f.content[0] == f.content[2]).all())
    (True, False)
    """
    column = texts if isinstance(texts, pa.LargeStringArray) else pa.array(texts, type=pa.large_string())
    data, offsets = string_buffers(column)
    t = tables()
    kernel = _kernels.featurize_batch if parallel else _kernels.featurize_block
    n_tokens, content, sigs, flat, shingle_offsets = kernel(
        data, offsets, t.classes, t.fold_start, t.fold_len, t.fold_data,
        config.shingle_size, config.num_perm, config.seed, keep_shingles)
    return Features(n_tokens, content, sigs, Shingles(((flat, shingle_offsets),)))
