"""Near-duplicate candidates and their verification (``lsh``)."""

from __future__ import annotations

import numpy as np

from twicetold import lsh
from twicetold.config import NearConfig, SketchConfig
from twicetold.sketch import featurize


def corpus(seed: int, n: int = 60) -> list[str]:
    """Pairs of documents whose true Jaccard is spread around 0.6: a base of 200 words and a
    copy with a share of its words replaced."""
    rng = np.random.default_rng(seed)
    texts = []
    for k in range(n // 2):
        base = [f"w{x}" for x in rng.integers(0, 50_000, 200)]
        copy = list(base)
        for i in rng.choice(200, int(rng.uniform(0.02, 0.12) * 200), replace=False):
            copy[i] = f"x{k}_{i}"
        texts += [" ".join(base), " ".join(copy)]
    return texts


def exact(features: object, i: int, j: int) -> float:
    a, b = (set(features.shingle_set(x).tolist()) for x in (i, j))  # type: ignore[attr-defined]
    return len(a & b) / len(a | b)


def test_near_the_threshold_the_exact_jaccard_decides() -> None:
    """With the shingles at hand every kept pair reaches the threshold exactly, and every
    candidate that reaches it is kept; from the estimate alone both go wrong near it."""
    config = NearConfig(threshold=0.6)
    wrong_by_estimate = 0
    for seed in range(3):
        f = featurize(corpus(seed), SketchConfig())
        usable = f.n_tokens > 0
        decided = lsh.near_duplicates(f.signatures, config, usable, f.shingle_set)
        estimated = lsh.near_duplicates(f.signatures, config, usable)
        assert decided.candidates == estimated.candidates and decided.decided_exactly > 0
        kept = {tuple(p) for p in decided.pairs.tolist()}
        candidates = lsh.candidate_pairs(f.signatures, *lsh.bands_for(config, 128), usable).tolist()
        for i, j in candidates:
            assert ((i, j) in kept) == (exact(f, i, j) >= config.threshold), (i, j, exact(f, i, j))
        by_estimate = {tuple(p) for p in estimated.pairs.tolist()}
        wrong_by_estimate += len(kept ^ by_estimate)
        # The reported Jaccard stays the estimate.
        est = dict(zip(map(tuple, estimated.pairs.tolist()), estimated.jaccard.tolist(), strict=True))
        for p, jac in zip(decided.pairs.tolist(), decided.jaccard.tolist(), strict=True):
            assert est.get(tuple(p), jac) == jac
    assert wrong_by_estimate > 0  # the corpora do test the margin
