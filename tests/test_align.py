"""Alignment on the seeds and on constructed pairs whose true passages are known."""

from __future__ import annotations

import random

import pytest

from twicetold import PassageConfig, align
from twicetold.evaluation import char_overlap

WORDS = (
    "harbor council vote budget strike minister river bridge storm farmers grain price rail union court "
    "judge ruling election mayor school hospital nurses contract talks fuel tanker coast guard rescue crew "
    "village flood season market export tariff factory workers shift north south east west capital region"
).split()


def prose(rng: random.Random, n_words: int) -> str:
    """Unrelated filler: random words in sentences (shares no long runs with other filler)."""
    out, sentence = [], []
    for _ in range(n_words):
        sentence.append(rng.choice(WORDS) + str(rng.randint(0, 999)))
        if len(sentence) >= rng.randint(8, 16):
            out.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    if sentence:
        out.append(" ".join(sentence).capitalize() + ".")
    return " ".join(out)


def edit(rng: random.Random, text: str, rate: float) -> str:
    words = text.split(" ")
    for i in range(len(words)):
        if rng.random() < rate:
            words[i] = rng.choice(["altered", "changed", "other"]) + str(rng.randint(0, 99))
    return " ".join(words)


def test_seeds_one_passage_with_exact_boundaries(seed_texts: tuple[str, str]) -> None:
    a, b = seed_texts
    passages = align(a, b)
    assert len(passages) == 1
    p = passages[0]
    for text, start, end in ((a, p.a_start, p.a_end), (b, p.b_start, p.b_end)):
        true_start = text.index("Separately, Syrian authorities")
        true_end = text.index("fired at very close range.") + len("fired at very close range.")
        assert (start, end) == (true_start, true_end)
    # The differing comma ("SANA that" / "SANA, that") does not split or lower the passage.
    assert p.score == 1.0


def test_seeds_paraphrased_claims_are_not_verbatim_reuse(seed_texts: tuple[str, str]) -> None:
    a, b = seed_texts
    for p in align(a, b):
        assert "mass grave" not in a[p.a_start : p.a_end]
        assert "body parts" not in b[p.b_start : p.b_end]


@pytest.mark.parametrize("rate", [0.0, 0.03, 0.06, 0.1])
def test_edited_passage_is_found_whole(rate: float) -> None:
    rng = random.Random(int(rate * 100))
    passage = prose(rng, 120)
    copy = edit(rng, passage, rate)
    a = prose(rng, 150) + "\n\n" + passage + "\n\n" + prose(rng, 100)
    b = prose(rng, 80) + "\n\n" + copy + "\n\n" + prose(rng, 200)
    found = align(a, b)
    assert len(found) == 1
    a0 = a.index(passage)
    b0 = b.index(copy)
    # Words at the very edge next to a run of edits cannot be told from unrelated text, so a
    # single case may lose a few; the generated-corpus test measures the aggregate.
    assert char_overlap([(a0, a0 + len(passage))], [(found[0].a_start, found[0].a_end)]).f1 > 0.93
    assert char_overlap([(b0, b0 + len(copy))], [(found[0].b_start, found[0].b_end)]).f1 > 0.93
    assert found[0].score == pytest.approx(1 - rate, abs=0.12)


def test_moved_paragraphs_are_each_found() -> None:
    rng = random.Random(3)
    p1, p2, p3 = (prose(rng, 60) for _ in range(3))
    a = "\n\n".join([p1, prose(rng, 60), p2, prose(rng, 60), p3])
    b = "\n\n".join([p3, prose(rng, 60), p2, prose(rng, 60), p1])
    found = align(a, b)
    assert sorted((a[p.a_start : p.a_end], b[p.b_start : p.b_end]) for p in found) == sorted(
        (p, p) for p in (p1, p2, p3)
    )


def test_paragraph_repeated_in_b_gives_overlapping_passages() -> None:
    rng = random.Random(5)
    para = prose(rng, 50)
    a = prose(rng, 40) + "\n\n" + para + "\n\n" + prose(rng, 40)
    b = para + "\n\n" + prose(rng, 60) + "\n\n" + para
    found = align(a, b)
    assert len(found) == 2
    assert {(p.a_start, p.a_end) for p in found} == {(a.index(para), a.index(para) + len(para))}
    assert sorted(p.b_start for p in found) == [0, b.rindex(para)]


@pytest.mark.parametrize("swap", [False, True])
def test_passages_at_the_very_start_and_end_are_found_in_both_orders(swap: bool) -> None:
    rng = random.Random(9)
    head, tail = prose(rng, 40), prose(rng, 40)
    a = head + "\n\n" + prose(rng, 80) + "\n\n" + tail
    b = tail + " " + prose(rng, 70) + " " + head
    x, y = (b, a) if swap else (a, b)
    found = align(x, y)
    spans_x = sorted((p.a_start, p.a_end) for p in found)
    assert (x.index(head), x.index(head) + len(head)) in spans_x
    assert (x.index(tail), x.index(tail) + len(tail)) in spans_x
    assert min(s for s, _ in spans_x) == 0 or max(e for _, e in spans_x) == len(x)


def test_short_common_phrase_is_not_a_passage() -> None:
    rng = random.Random(1)
    phrase = "said in a statement on Monday that"
    a = prose(rng, 60) + " " + phrase + " " + prose(rng, 60)
    b = prose(rng, 60) + " " + phrase + " " + prose(rng, 60)
    assert align(a, b) == []
    assert len(align(a, b, PassageConfig(min_length=20))) == 1
