"""Candidate pairs against a plain reference, the shingle counts that weigh evidence, and the
letter-gram candidates of OCR'd text."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import numpy as np
import pytest

from twicetold.candidates import COUNTED_MIN_DF, ShingleCounts, letter_gram_pairs, shared_shingle_pairs
from twicetold.sketch import Shingles


def random_shingles(rng: random.Random, n_docs: int, vocab: int) -> list[list[int]]:
    return [[rng.randrange(vocab) << 24 for _ in range(rng.randrange(0, 30))] for _ in range(n_docs)]


def as_parts(docs: list[list[int]], cut: int) -> Shingles:
    """The documents as two parts (as two batches would make them), cut after ``cut``."""
    parts = []
    for chunk in (docs[:cut], docs[cut:]):
        flat = np.array([s for d in chunk for s in d], dtype=np.uint64)
        offsets = np.cumsum([0] + [len(d) for d in chunk]).astype(np.int64)
        parts.append((flat, offsets))
    return Shingles(tuple(parts))


def test_pairs_and_counts_match_a_plain_reference() -> None:
    for seed in range(20):
        rng = random.Random(seed)
        docs = random_shingles(rng, rng.randrange(2, 40), rng.choice([20, 200]))
        max_df, min_shared = rng.choice([2, 5, 250]), rng.choice([1, 2, 3])
        df = Counter(s for d in docs for s in set(d))
        shared: Counter[tuple[int, int]] = Counter()
        for s in df:
            holders = [i for i, d in enumerate(docs) if s in d]
            if len(holders) <= max_df:
                shared.update(itertools.combinations(holders, 2))
        want = {p: c for p, c in shared.items() if c >= min_shared}
        got = shared_shingle_pairs(as_parts(docs, len(docs) // 2), max_df, min_shared,
                                   budget=rng.choice([None, 64]))
        assert dict(zip(map(tuple, got.pairs.tolist()), got.shared.tolist(), strict=True)) == want, seed
        counts = got.counts
        assert counts is not None and counts.n_documents == len(docs)
        many = sorted((s >> ShingleCounts.KEY_SHIFT, c) for s, c in df.items() if c >= COUNTED_MIN_DF)
        assert list(zip(counts.keys.tolist(), counts.counts.tolist(), strict=True)) == many, seed


def test_rarity_is_one_in_two_documents_and_falls_with_the_count() -> None:
    counts = ShingleCounts(np.array([7, 9], np.uint64), np.array([50, 1000], np.int64), 1000, 5, COUNTED_MIN_DF)
    rarity = counts.rarity(np.array([7 << 24, 9 << 24, 8 << 24], np.uint64))
    assert rarity[2] == 1.0 and 0.0 < rarity[0] < 1.0 and rarity[1] == 0.0


def test_letter_grams_pair_an_ocr_copy_and_nothing_else() -> None:
    clean = ("Le conseil fédéral a décidé hier de convoquer les chambres fédérales pour une session "
             "extraordinaire qui s'ouvrira le lundi vingt-trois avril à Berne.")
    noisy = ("Le con seil fé-\ndéral a dé cidé hier de conv0quer les charnbres fédé rales pour une "
             "sessionextraordinaire qui s'ouvri ra le lundi vingt-trois avril à Berne.")
    other = "La récolte des vignes du Lavaux promet d'être abondante cette année, disent les vignerons."
    texts = [clean, other, noisy]
    got = letter_gram_pairs(texts.__getitem__, len(texts), 250, lambda a: a)
    assert got.pairs.tolist() == [[0, 2]]


def test_letter_grams_are_each_texts_sampled_letter_grams_a_part_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import twicetold.candidates as C
    from twicetold.letters import LetterText

    rng = random.Random(4)
    texts = ["".join(rng.choice("abcdéß ,-\n漢") for _ in range(rng.randint(0, 120))) for _ in range(23)]
    monkeypatch.setattr(C, "LETTER_PART", 5)  # five parts, the last one short
    kept: list[list[int]] = []
    letter_gram_pairs(texts.__getitem__, len(texts), 250, lambda g: kept.append(g.tolist()) or g)
    # The reference: each text's letter grams (LetterText), those the sample keeps, part by part.
    expected = []
    for first in range(0, len(texts), 5):
        part = []
        for text in texts[first : first + 5]:
            grams = LetterText.of(text, C.LETTER_GRAM).grams.tolist()
            part.extend(g for g in grams if g % C.LETTER_SAMPLE == 0)
        expected.append(part)
    assert kept == expected and any(kept)


def test_shingle_counts_are_the_same_counted_a_slice_at_a_time() -> None:
    from twicetold.candidates import _counted

    rng = np.random.default_rng(3)
    keys = np.sort(rng.integers(0, 40, size=400)).astype(np.uint64)
    packed = (keys << np.uint64(24)) | np.arange(400, dtype=np.uint64)  # distinct postings, runs of keys
    whole = _counted(packed, slice_size=10**9)
    for size in (1, 7, 64, 399):
        got = _counted(packed, slice_size=size)
        assert got[0].tolist() == whole[0].tolist() and got[1].tolist() == whole[1].tolist(), size
    assert whole[1].sum() == sum(c for c in np.unique(keys, return_counts=True)[1] if c >= COUNTED_MIN_DF)
    # The largest key there is, cut by a slice, does not wrap around.
    top = np.uint64(2**64 - 1) >> np.uint64(24)
    edge = np.concatenate([packed, (top << np.uint64(24)) | np.arange(10, dtype=np.uint64)])
    assert _counted(edge, slice_size=405)[1].tolist() == [*whole[1].tolist(), 10]
