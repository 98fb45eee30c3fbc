"""The fused batch kernel (``featurize``) against the per-document path it replaces."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from twicetold import SketchConfig, _kernels
from twicetold.normalize import tokenize
from twicetold.sketch import Features, content_hash, featurize

from .test_normalize import SAMPLES

TEXTS = [*SAMPLES, "word " * 3, "Ünïcödé ｆｕｌｌｗｉｄｔｈ 𝐦𝐚𝐭𝐡 😀 text", "a中b中c", "x" * 5000]


@pytest.mark.parametrize("parallel", [True, False])
def test_featurize_equals_per_document_reference(parallel: bool) -> None:
    """Both kernels: the parallel one (chunks of documents on all threads) and the one the
    reader threads run on a block each."""
    cfg = SketchConfig(shingle_size=3, num_perm=64)
    f = featurize(TEXTS, cfg, parallel=parallel)
    for i, text in enumerate(TEXTS):
        tokens = tokenize(text)
        shingles = _kernels.shingles(tokens.hashes, cfg.shingle_size)
        assert f.n_tokens[i] == len(tokens)
        assert f.content[i].astype("<u8").tobytes() == content_hash(tokens)
        assert f.shingle_set(i).tolist() == shingles.tolist()
        assert f.signatures[i].tolist() == _kernels.oph_sketch(shingles, cfg.num_perm, cfg.seed).tolist()


def test_featurize_reads_sliced_arrow_columns() -> None:
    column = pa.array(["padding", *TEXTS], type=pa.large_string()).slice(1)
    assert np.array_equal(featurize(column, SketchConfig()).signatures, featurize(TEXTS, SketchConfig()).signatures)


def test_empty_batch_and_empty_documents() -> None:
    f = featurize(["", "   ", "words here"], SketchConfig())
    assert f.n_tokens.tolist() == [0, 0, 2]
    assert len(f.shingle_set(0)) == 0 and len(f.shingle_set(2)) == 1


@pytest.mark.parametrize("parallel", [True, False])
def test_sketches_without_keeping_shingles_are_the_same(parallel: bool) -> None:
    kept = featurize(TEXTS, SketchConfig())
    lean = featurize(TEXTS, SketchConfig(), keep_shingles=False, parallel=parallel)
    assert np.array_equal(kept.signatures, lean.signatures) and np.array_equal(kept.content, lean.content)
    assert np.array_equal(kept.n_tokens, lean.n_tokens)
    assert len(lean.shingles) == 0 and lean.shingles.parts[0][1].tolist() == [0] * (len(TEXTS) + 1)


def test_batches_joined_equal_one_batch() -> None:
    """A corpus's shingles stay in their batches' arrays; read by document or joined they
    are the same as when every text is sketched in one batch."""
    texts = ["The same words here.", "", "Other words, and more words than that.", "One more text it is."]
    cfg = SketchConfig()
    whole = featurize(texts, cfg)
    parts = Features.concat([featurize(texts[:1], cfg), featurize(texts[1:3], cfg), featurize(texts[3:], cfg)],
                            cfg.num_perm)
    assert parts.shingles.firsts == [0, 1, 3, 4]
    for i in range(len(texts)):
        assert parts.shingle_set(i).tolist() == whole.shingle_set(i).tolist()
    for joined, one in zip(parts.shingles.joined(), whole.shingles.joined(), strict=True):
        assert joined.tolist() == one.tolist()
    assert len(parts.shingles) == len(whole.shingles) > 0
    assert (parts.signatures == whole.signatures).all()
