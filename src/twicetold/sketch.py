"""Sketching: word shingles, content hashes and MinHash signatures of documents.

Shingles are hashes of ``SketchConfig.shingle_size`` consecutive normalized words. A
document's signature is a one-permutation MinHash of its distinct shingles (see
``_kernels.oph_sketch``): ``num_perm`` 32-bit values, whose share of equal values between two
documents estimates the Jaccard similarity of their shingle sets. Seeds are fixed
(``SketchConfig.seed``), so signatures are comparable across runs and versions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from . import _kernels
from .config import SketchConfig
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
class Features:
    """What the pairing stages need of a batch of documents, row ``i`` per document ``i``.

    ``content``: 128-bit content hashes (two uint64 per row); ``signatures``: MinHash rows;
    document ``i``'s shingles, in text order with repeats, are ``shingles[offsets[i]:offsets[i + 1]]``
    (empty when only sketches were kept, as for dedup).
    """

    n_tokens: npt.NDArray[np.int64]
    content: npt.NDArray[np.uint64]
    signatures: npt.NDArray[np.uint32]
    shingles: npt.NDArray[np.uint64]
    offsets: npt.NDArray[np.int64]

    @classmethod
    def concat(cls, parts: list[Features], num_perm: int,
               shingles: npt.NDArray[np.uint64] | None = None) -> Features:
        """The parts one after another; ``shingles``, when given, already holds the parts'
        shingles back to back (they are views of it), so they are not copied again."""
        if not parts:
            return cls(np.empty(0, np.int64), np.empty((0, 2), np.uint64), np.empty((0, num_perm), np.uint32),
                       np.empty(0, np.uint64), np.zeros(1, np.int64))
        shifts = np.cumsum([0] + [len(p.shingles) for p in parts[:-1]])
        offsets = np.concatenate([parts[0].offsets[:1]] + [p.offsets[1:] + s for p, s in zip(parts, shifts,
                                                                                            strict=True)])
        return cls(np.concatenate([p.n_tokens for p in parts]), np.concatenate([p.content for p in parts]),
                   np.concatenate([p.signatures for p in parts]),
                   shingles if shingles is not None else np.concatenate([p.shingles for p in parts]),
                   offsets)

    def shingle_set(self, i: int) -> npt.NDArray[np.uint64]:
        return self.shingles[self.offsets[i] : self.offsets[i + 1]]


def featurize(texts: list[str] | pa.LargeStringArray, config: SketchConfig, *,
              keep_shingles: bool = True) -> Features:
    """Tokens, content hashes, shingles and signatures of many texts in one parallel pass.

    >>> f = featurize(["The same words.", "the SAME words", "Other words here."], SketchConfig())
    >>> bool((f.content[0] == f.content[1]).all()), bool((f.content[0] == f.content[2]).all())
    (True, False)
    """
    column = texts if isinstance(texts, pa.LargeStringArray) else pa.array(texts, type=pa.large_string())
    _, offsets_buf, data_buf = column.buffers()
    offsets = np.frombuffer(memoryview(offsets_buf), dtype=np.int64)[column.offset : column.offset + len(column) + 1]
    data = np.frombuffer(memoryview(data_buf), dtype=np.uint8) if data_buf is not None else np.empty(0, np.uint8)
    t = tables()
    n_tokens, content, sigs, flat, shingle_offsets = _kernels.featurize_batch(
        data, offsets, t.classes, t.fold_start, t.fold_len, t.fold_data,
        config.shingle_size, config.num_perm, config.seed, keep_shingles)
    return Features(n_tokens, content, sigs, flat, shingle_offsets)
