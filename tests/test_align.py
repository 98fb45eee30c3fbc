"""Alignment on the seeds and on constructed pairs whose true passages are known."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from twicetold import PassageConfig, _kernels, align
from twicetold.align import (
    EDGE_PUNCTUATION,
    AlignedText,
    _cluster_end,
    _cluster_start,
    _simple_edges,
    _widen_clusters,
    _widen_simple,
)
from twicetold.candidates import COUNTED_MIN_DF, ShingleCounts
from twicetold.model import Passage
from twicetold.normalize import tokenize
from twicetold.testing.evaluation import char_overlap

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


def test_seeds_one_passage_with_exact_boundaries(seed_texts: tuple[str, str],
                                                 seed_passage: dict[str, tuple[int, int]]) -> None:
    a, b = seed_texts
    passages = align(a, b)
    assert len(passages) == 1
    p = passages[0]
    assert [(p.a_start, p.a_end), (p.b_start, p.b_end)] == list(seed_passage.values())
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
    assert len(align(a, b, PassageConfig(min_length=20, min_evidence=20))) == 1


def _counts(corpus: list[str], shingle_size: int = 5) -> ShingleCounts:
    """A corpus's shingle counts, as the candidates stage makes them (from plain Python)."""
    per_doc: Counter[int] = Counter()
    for text in corpus:
        per_doc.update({int(h) >> ShingleCounts.KEY_SHIFT for h in
                        _kernels.shingles(tokenize(text).hashes, shingle_size).tolist()})
    frequent = sorted((k, c) for k, c in per_doc.items() if c >= COUNTED_MIN_DF)
    return ShingleCounts(np.array([k for k, _ in frequent], np.uint64), np.array([c for _, c in frequent], np.int64),
                         len(corpus), shingle_size, COUNTED_MIN_DF)


def test_evidence_weighs_rare_words_above_a_formula() -> None:
    """Two passages of one length: the one whose words the corpus holds in many documents (a
    formula) is dropped, the one whose words are rare is kept; the evidence is reported."""
    rng = random.Random(7)
    formula = "font part à leurs amis et connaissances de la perte cruelle"  # 59 characters
    rare = "Vevey Montreux tramway Clarens Chillon funiculaire Glion Naye"  # 60 characters
    others = [prose(rng, 30) + " " + formula + " " + prose(rng, 30) for _ in range(200)]
    counts = _counts([*others, rare])
    cfg = PassageConfig(min_evidence=66)
    texts = [prose(rng, 40) + " " + x + " " + prose(rng, 40) for x in (formula, rare, formula, rare)]
    a_formula, a_rare, b_formula, b_rare = (AlignedText.of(t, cfg.ngram, counts) for t in texts)
    assert align(a_formula, b_formula, cfg) == []
    [kept] = align(a_rare, b_rare, cfg)
    assert texts[1][kept.a_start : kept.a_end] == rare
    assert kept.evidence is not None and kept.evidence >= 66 > kept.length * kept.score
    # Without the corpus's counts every shingle counts as common: the evidence is the length.
    [plain] = align(texts[1], texts[3], PassageConfig(min_evidence=50))
    assert plain.evidence == plain.length * plain.score


# ---------------------------------------------------------------- edges on grapheme clusters (issue #15)

FAMILY = "\U0001F469\u200d\U0001F469\u200d\U0001F467"  # woman, woman, girl: one cluster of five code points
FAMILY_2 = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # man, woman, girl: ends like FAMILY
FR, DE = "\U0001F1EB\U0001F1F7", "\U0001F1E9\U0001F1EA"  # flags: two regional indicators each
CORE = prose(random.Random(15), 45).rstrip(".")  # the shared words: starts and ends with a letter or digit


def boundaries(text: str) -> set[int]:
    """Every grapheme cluster boundary of ``text``, from segmenting the whole text."""
    return {0, *(m.end() for m in regex.finditer(r"\X", text))}


def assert_edges_on_boundaries(a: str, b: str, passages: list[Passage]) -> None:
    ba, bb = boundaries(a), boundaries(b)
    for p in passages:
        assert {p.a_start, p.a_end} <= ba, (p, a[p.a_start - 3 : p.a_start + 3], a[p.a_end - 3 : p.a_end + 3])
        assert {p.b_start, p.b_end} <= bb, (p, b[p.b_start - 3 : p.b_start + 3], b[p.b_end - 3 : p.b_end + 3])


# Each side: (outside before, inside before, shared core, inside after, outside after). The passage
# must be exactly inside before + core + inside after, on each side.
EDGE_CASES = {
    "ZWJ sequence shared whole": (("", FAMILY, CORE, FAMILY + "!", ""), ("", FAMILY, CORE, FAMILY + "!", "")),
    "ZWJ sequences that end alike": ((FAMILY_2, "", CORE, "", FAMILY_2), (FAMILY, "", CORE, "", FAMILY)),
    "emoji joined in one text only": (("\U0001F469\u200d\U0001F467", "", CORE, "", ""),
                                      ("\U0001F467", "", CORE, "", "")),
    "full stop with an accent in one text": (("", "", CORE, "", ".\u0301"), ("", "", CORE, "", ".")),
    "marks on shared punctuation": (("", "", CORE, "!\u0301\u0302\u0303?", ""),
                                    ("", "", CORE, "!\u0301\u0302\u0303?", "")),
    "flags shared": (("", FR + DE, CORE, "", ""), ("", FR + DE, CORE, "", "")),
    "regional indicators paired otherwise": ((FR + DE, "", CORE, "", ""), ("\U0001F1F7" + DE, "", CORE, "", "")),
    "Hangul jamo after shared punctuation": (("", "", CORE, ".", "\u1100\u1161\u11a8"),
                                             ("", "", CORE, ".", "\u1100\u1161")),
    "Thai vowel sign on a matched consonant": (("", "", CORE + " ตลาด", "\u0e34", ""),
                                               ("", "", CORE + " ตลาด", "", "")),
    "skin tone on a matched letter": (("", "", CORE, "\U0001F3FD", ""), ("", "", CORE, "", "")),
    "Arabic number sign before matched digits": (("", "\u0600", "2024 " + CORE, "", ""),
                                                 ("", "", "2024 " + CORE, "", "")),
    "a hundred marks on a quotation mark": (('"' + "\u0301" * 100, "", CORE, "", ""), ('"', "", CORE, "", "")),
}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_passage_edges_fall_on_grapheme_cluster_boundaries(case: str) -> None:
    """Widening over shared punctuation takes whole clusters that are the same in both texts;
    a cluster straddling a matched word's edge is taken whole."""
    rng = random.Random(case)
    texts, expected = [], []
    for out_l, in_l, core, in_r, out_r in EDGE_CASES[case]:
        texts.append(f"{prose(rng, 30)} {out_l}{in_l}{core}{in_r}{out_r} {prose(rng, 30)}")
        expected.append(in_l + core + in_r)
    a, b = texts
    (p,) = align(a, b)
    assert (a[p.a_start : p.a_end], b[p.b_start : p.b_end]) == tuple(expected)
    assert_edges_on_boundaries(a, b, [p])


# Pieces that carry a passage's edge punctuation (shared by both texts) ...
PUNCTUATION = ['"', "(", "«", "»", ".", ",", "!", "…", "—", "!\u0301", ".\u0308\u0323", "\U0001F467", FAMILY,
               FR, DE, "\u2764\ufe0f", "\U0001F44D\U0001F3FD", "#\ufe0f\u20e3", "\u3002"]
# ... words that may open or close the shared text ...
EDGE_WORDS = ["harbour", "cafe\u0301", "Zoe\u0308", "\u1112\u1161\u11ab\u1100\u116e\u11a8", "한국어", "กิน",
              "ตลาด", "नमस्ते", "2024", "Ελλάδα"]
# ... and what may stand right before or after the shared text in one text only: pieces that join
# a cluster with the shared text's first or last character without changing its words.
OUTSIDE_BEFORE = ['"', "\U0001F469\u200d", "\u200d", "\U0001F1EB", "\U0001F1F7", "\u0600", FAMILY, "\U0001F467"]
OUTSIDE_AFTER = ["\u0301", "\u0e34", "\U0001F3FD", "\u200d\U0001F466", "\U0001F1F7", "\u20e3", "!", FR]


@st.composite
def pairs_sharing_a_passage(draw: st.DrawFn) -> tuple[str, str, tuple[int, int], tuple[int, int]]:
    """Two texts sharing ``punctuation + core + punctuation``, with clusters that join it at
    either edge in one or both texts; returns the texts and the core's span in each."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    pieces = st.lists(st.sampled_from(PUNCTUATION), max_size=3).map("".join)
    before, after = draw(pieces), draw(pieces)
    core = f"{draw(st.sampled_from(EDGE_WORDS))} {prose(rng, 40)} {draw(st.sampled_from(EDGE_WORDS))}"
    outside_before = st.lists(st.sampled_from(OUTSIDE_BEFORE), max_size=2).map("".join)
    outside_after = st.lists(st.sampled_from(OUTSIDE_AFTER), max_size=2).map("".join)
    texts, spans = [], []
    for _ in range(2):
        head = f"{prose(rng, 30)} {draw(outside_before)}{before}"
        texts.append(f"{head}{core}{after}{draw(outside_after)} {prose(rng, 30)}")
        spans.append((len(head), len(head) + len(core)))
    return texts[0], texts[1], spans[0], spans[1]


@settings(derandomize=True, max_examples=150, deadline=None, database=None)
@given(pairs_sharing_a_passage())
def test_edges_near_joining_characters_are_cluster_boundaries(
        pair: tuple[str, str, tuple[int, int], tuple[int, int]]) -> None:
    a, b, (a0, a1), (b0, b1) = pair
    passages = align(a, b)
    assert_edges_on_boundaries(a, b, passages)
    # The shared text is still found, whole, and the passage reaches no further than the
    # clusters next to it (no space is crossed).
    (p,) = [p for p in passages if p.a_start <= a0 and a1 <= p.a_end and p.b_start <= b0 and b1 <= p.b_end]
    for extra in (a[p.a_start : a0], a[a1 : p.a_end], b[p.b_start : b0], b[b1 : p.b_end]):
        assert not any(c.isspace() for c in extra), (extra, p)
    # Where the core's edges are cluster boundaries in both texts and the passage holds no
    # word past them, what widening added is the same in both, punctuation only, at most
    # EDGE_PUNCTUATION clusters. (The tokenizer reads U+FE0F, the emoji presentation
    # selector, as a word: "❤\ufe0f" ends a passage with a word of its own.)
    ba, bb = boundaries(a), boundaries(b)
    for (sa, ea), (sb, eb), edge_a, edge_b in (((p.a_start, a0), (p.b_start, b0), a0, b0),
                                             ((a1, p.a_end), (b1, p.b_end), a1, b1)):
        if edge_a in ba and edge_b in bb and not len(tokenize(a[sa:ea])) and not len(tokenize(b[sb:eb])):
            assert a[sa:ea] == b[sb:eb], (a[sa:ea], b[sb:eb])
            assert not any(c.isalnum() for c in a[sa:ea])
            assert len(regex.findall(r"\X", a[sa:ea])) <= EDGE_PUNCTUATION


@settings(derandomize=True, max_examples=300, deadline=None, database=None)
@given(st.lists(st.sampled_from([*PUNCTUATION, *EDGE_WORDS, *OUTSIDE_BEFORE, *OUTSIDE_AFTER, " ", "\r\n", "\r",
                                 "\u0301" * 40, FR * 12, "x"]), max_size=12).map("".join))
def test_cluster_start_and_end_agree_with_segmenting_the_whole_text(text: str) -> None:
    """The edge helpers look at a few characters around one offset; they find the same
    boundaries as segmenting the whole text (long runs of marks and of flags included)."""
    cuts = sorted(boundaries(text) | {len(text)})
    for i in range(len(text) + 1):
        assert _cluster_start(text, i) == max(c for c in cuts if c <= i)
        assert _cluster_end(text, i) == min(c for c in cuts if c >= i)


@settings(derandomize=True, max_examples=300, deadline=None, database=None)
@given(st.data())
def test_simple_shortcut_widens_like_the_cluster_walk(data: st.DataObject) -> None:
    """Where every character near the edges is below U+0300 (ASCII, Latin-1, Latin Extended,
    spacing modifier letters), ``_widen`` takes a character at a time; that gives what walking
    grapheme clusters gives."""
    texts = st.text(st.sampled_from(list("ab1 .,!?\"'()-\r\né«»§ÿ\u00a0\u00adĀǄʰ\u02ff")), min_size=1, max_size=30)
    a, b = data.draw(texts), data.draw(texts)
    spans = []
    for text in (a, b):
        cuts = sorted(i for i in range(len(text) + 1) if text[i - 1 : i + 1] != "\r\n")
        start = data.draw(st.sampled_from(cuts))
        spans.append((start, data.draw(st.sampled_from([c for c in cuts if c >= start]))))
    (a0, a1), (b0, b1) = spans
    assert _simple_edges(a, a0, a1) and _simple_edges(b, b0, b1)
    assert _widen_simple(a, a0, a1, b, b0, b1) == _widen_clusters(a, a0, a1, b, b0, b1)


def swapped(passages: list[Passage]) -> list[Passage]:
    return sorted((Passage(p.b_start, p.b_end, p.a_start, p.a_end, p.length, p.score, evidence=p.evidence)
                   for p in passages),
                  key=lambda p: (p.a_start, p.b_start))


@settings(derandomize=True, max_examples=150, deadline=None, database=None)
@given(st.integers(0, 2**32), st.integers(1, 3), st.sampled_from([0.0, 0.05, 0.15, 0.3]), st.booleans())
def test_both_orders_give_the_same_passages(seed: int, blocks: int, rate: float, repeat: bool) -> None:
    """align(a, b) and align(b, a) agree, sides swapped: shared blocks with edits, moved
    around, one of them repeated (where one order used to find passages the other did not)."""
    rng = random.Random(seed)
    shared = [prose(rng, rng.randint(15, 80)) for _ in range(blocks)]
    a_parts = [prose(rng, rng.randint(0, 40)), *shared]
    b_parts = [edit(rng, s, rate) for s in shared] + [prose(rng, rng.randint(0, 40))]
    rng.shuffle(b_parts)
    if repeat:
        b_parts.append(edit(rng, shared[0], rate))
    a, b = "\n\n".join(a_parts), "\n\n".join(b_parts)
    for cfg in (PassageConfig(), PassageConfig(min_length=20, max_gap=4)):
        assert align(a, b, cfg) == swapped(align(b, a, cfg))


def test_a_reused_chinese_sentence_is_long_enough() -> None:
    """A Han or kana character counts as three toward the length and the evidence: under a
    gate of 70, a whole reused Chinese sentence (53 characters) is a passage; a shared phrase
    of thirteen characters is not, and neither are the same 53 characters of English."""
    cfg = PassageConfig(min_evidence=70)
    sentence = ("港口工人周一举行大规模罢工，导致全市集装箱运输全面停顿，"
                "工会负责人表示双方谈判将于本周五在市政厅重新开始。")
    a = "今天的天气晴朗，气温适中。" + sentence + "更多消息请关注本台后续报道。"
    b = "本报讯：" + sentence + "另据了解，当地商会对此表示担忧。"
    (p,) = align(a, b, cfg)
    assert a[p.a_start : p.a_end] == b[p.b_start : p.b_end] == sentence and len(sentence) < cfg.min_evidence
    phrase = "港口工人周一举行大规模罢工"
    assert align(f"今天的天气晴朗。{phrase}更多消息。", f"本报讯：{phrase}另据了解。", cfg) == []
    english = "Dockworkers struck on Monday and the port stood still"
    assert align(f"Weather is fine. {english}. More later.", f"In brief: {english}. Also today.", cfg) == []
