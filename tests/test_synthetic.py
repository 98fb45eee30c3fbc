"""The synthetic corpus generator: deterministic, and its recorded truth is the truth."""

from __future__ import annotations

import difflib
import gzip
import hashlib
import itertools
import json
import re
from collections import Counter, defaultdict
from datetime import date
from typing import Any

import numpy as np
import pytest

from twicetold.testing.synthetic import (
    NEWS_STOCK_PHRASES,
    CorpusSpec,
    PlantedPassage,
    Truth,
    _ocr,
    _stock_phrase_pool,
    generate,
    iter_generate,
    load_truth,
    main,
    shingles,
    true_jaccard,
    wire_groups,
    write_corpus,
    write_wire_groups,
)

WORD = re.compile(r"\w+")

# One corpus with every kind of planting, shared by the tests of this module.
SPEC = CorpusSpec(
    n_docs=1500,
    seed=11,
    mean_chars=2500,
    exact_rate=0.03,
    near_rate=0.08,
    partial_rate=0.1,
    ocr_noise=True,
)


@pytest.fixture(scope="module")
def corpus() -> tuple[dict[str, dict[str, Any]], Truth]:
    docs, truth = generate(SPEC)
    return {d["id"]: d for d in docs}, truth


def _without(text: str, start: int, spans: tuple[tuple[int, int], ...]) -> str:
    """``text`` (which begins at ``start`` in its document) with ``spans`` cut out."""
    for a, b in sorted(spans, reverse=True):
        text = text[: a - start] + text[b - start :]
    return text


def test_same_seed_same_corpus_other_seed_other_corpus() -> None:
    spec = CorpusSpec(n_docs=150, seed=3, mean_chars=1500, ocr_noise=True)
    docs1, truth1 = generate(spec)
    docs2, truth2 = generate(spec)
    assert docs1 == docs2
    assert truth1 == truth2
    docs3, _ = generate(CorpusSpec(n_docs=150, seed=4, mean_chars=1500, ocr_noise=True))
    assert [d["text"] for d in docs1] != [d["text"] for d in docs3]
    assert not {d["text"] for d in docs1} & {d["text"] for d in docs3}


def test_streaming_gives_the_same_corpus_and_truth() -> None:
    spec = CorpusSpec(n_docs=120, seed=5, mean_chars=1500)
    docs, truth = generate(spec)
    streamed_truth = Truth()
    assert list(iter_generate(spec, streamed_truth)) == docs
    assert streamed_truth == truth
    assert truth.spec is not None and CorpusSpec.from_dict(truth.spec) == spec


def test_documents_look_like_news(corpus: tuple[dict[str, dict[str, Any]], Truth]) -> None:
    docs, truth = corpus
    assert len(docs) == SPEC.n_docs
    planted = truth.planted_ids()
    datelines = 0
    for doc in docs.values():
        assert set(doc) == {"id", "text", "source", "date"}
        date.fromisoformat(doc["date"])
        text = doc["text"]
        assert text == text.strip() and "\n\n\n" not in text
        if doc["id"] not in planted:
            assert 4 <= text.count("\n\n") + 1 <= 10
            assert not text[0].islower() and text.endswith(".")
            datelines += bool(re.match(r"[A-Z ]+, [A-Z][a-z]+ \d{1,2} \(\w+\) - [A-Z“]", text))
    assert len({d["source"] for d in docs.values()}) >= 20
    assert datelines > 0.3 * (len(docs) - len(planted))
    all_text = "".join(d["text"] for d in list(docs.values())[:200])
    assert all_text.count("“") == all_text.count("”") > 0
    counts = Counter(WORD.findall(all_text.lower()))
    (top, n_top), *_ = counts.most_common(1)
    assert top == "the" and 0.02 < n_top / counts.total() < 0.15  # Zipf-like skew
    assert len(counts) > 5000 and sum(n == 1 for n in counts.values()) > 1000  # a long tail


@pytest.mark.parametrize("mean_chars", [1500, 4000])
def test_size_is_about_mean_chars(mean_chars: int) -> None:
    docs, _ = generate(CorpusSpec(n_docs=300, seed=1, mean_chars=mean_chars))
    mean = sum(len(d["text"]) for d in docs) / len(docs)
    assert abs(mean - mean_chars) < 0.1 * mean_chars


def test_exact_copies(corpus: tuple[dict[str, dict[str, Any]], Truth]) -> None:
    docs, truth = corpus
    assert len(truth.exact_pairs) > 20
    for original, copy in truth.exact_pairs:
        a, b = docs[original], docs[copy]
        assert a["text"] == b["text"]
        assert a["source"] != b["source"]
        assert a["date"] < b["date"]


def test_near_copies_record_the_true_jaccard_over_0_3_to_0_9(
    corpus: tuple[dict[str, dict[str, Any]], Truth],
) -> None:
    docs, truth = corpus
    assert len(truth.near_pairs) > 60
    values = []
    for original, copy, recorded in truth.near_pairs:
        a, b = docs[original], docs[copy]
        assert recorded == pytest.approx(true_jaccard(a["text"], b["text"]), abs=1e-6)
        assert a["source"] != b["source"] and a["date"] < b["date"]
        values.append(recorded)
    assert min(values) < 0.35 and max(values) > 0.85
    for lo, hi in [(0.3, 0.5), (0.5, 0.7), (0.7, 0.9)]:
        assert sum(lo <= v < hi for v in values) >= 10, (lo, hi)


def test_passage_spans_are_exact(corpus: tuple[dict[str, dict[str, Any]], Truth]) -> None:
    docs, truth = corpus
    partial = [p for p in truth.passages if p.kind == "partial"]
    assert len(partial) > 150
    verbatim = 0
    for p in partial:
        src_text, copy_text = docs[p.source_id]["text"], docs[p.copy_id]["text"]
        source = src_text[p.source_start : p.source_end]
        copied = _without(copy_text[p.copy_start : p.copy_end], p.copy_start, p.inserted)
        # A span is whole paragraphs: it begins and ends at a paragraph boundary.
        for text, start, end in ((src_text, p.source_start, p.source_end),
                                 (copy_text, p.copy_start, p.copy_end)):
            assert 0 <= start < end <= len(text)
            assert start == 0 or text[start - 2 : start] == "\n\n"
            assert end == len(text) or text[end : end + 2] == "\n\n"
        assert len(source) >= SPEC.min_passage_chars
        if p.edit_rate == 0 and p.ocr_rate == 0:
            assert copied == source
            verbatim += 1
        elif p.ocr_rate == 0:
            ratio = difflib.SequenceMatcher(None, source.split(), copied.split(), autojunk=False).ratio()
            assert ratio > 0.7, p
        else:
            # Words compared with the OCR layout undone (a hyphenated line end splits a word); a
            # lost line may take half of a short block, so: most copied words are the source's.
            words = _plain(copied).split()
            matcher = difflib.SequenceMatcher(None, _plain(source).split(), words, autojunk=False)
            assert sum(m.size for m in matcher.get_matching_blocks()) > 0.7 * len(words), p
            assert copied != source or p.edit_rate * len(source.split()) < 1
    assert verbatim > 10


def test_passages_cover_the_hard_cases(corpus: tuple[dict[str, dict[str, Any]], Truth]) -> None:
    docs, truth = corpus
    partial = [p for p in truth.passages if p.kind == "partial"]
    assert {p.edit_rate for p in partial} == set(SPEC.edit_rates)
    assert any(p.ocr_rate > 0 for p in partial) and any(p.ocr_rate == 0 for p in partial)
    assert sum(p.copy_start == 0 for p in partial) >= 5
    assert sum(p.copy_end == len(docs[p.copy_id]["text"]) for p in partial) >= 5
    assert sum(p.source_start == 0 for p in partial) >= 5
    assert sum(p.moved for p in partial) >= 5
    assert sum(bool(p.inserted) for p in partial) >= 5
    for p in partial:  # the copy is later and (by default) in another outlet
        assert docs[p.source_id]["date"] < docs[p.copy_id]["date"]
        assert docs[p.source_id]["source"] != docs[p.copy_id]["source"]
    # A moved planting: its blocks appear in another order in the copy than in the source.
    groups: dict[int, list[PlantedPassage]] = defaultdict(list)
    for p in partial:
        groups[p.group].append(p)
    for blocks in groups.values():
        by_source = sorted(blocks, key=lambda p: p.source_start)
        in_order = [p.copy_start for p in by_source] == sorted(p.copy_start for p in by_source)
        assert blocks[0].moved == (not in_order)


def test_background_documents_are_unrelated(corpus: tuple[dict[str, dict[str, Any]], Truth]) -> None:
    docs, truth = corpus
    planted = truth.planted_ids()
    background = [d for d in docs.values() if d["id"] not in planted]
    assert len(background) > 0.5 * len(docs)
    owners: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for doc in background:
        for gram in shingles(doc["text"], 5):
            owners[gram].append(doc["id"])
    shared5: dict[tuple[str, str], int] = defaultdict(int)
    for ids in owners.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                shared5[(a, b)] += 1
    texts = {d["id"]: d["text"] for d in background}
    for a, b in shared5:  # no run of 8 words in common
        assert not shingles(texts[a], 8) & shingles(texts[b], 8), (a, b)
    # Chance 5-word overlaps are rare and never more than a couple per pair (Jaccard ~ 0).
    assert len(shared5) < 0.001 * len(background) ** 2 / 2
    assert max(shared5.values(), default=0) <= 2


def test_spread_passage_and_boilerplate() -> None:
    spec = CorpusSpec(
        n_docs=400, seed=2, mean_chars=1500, spread_passages=1, spread_docs=30, spread_sources=10,
        boilerplate_sources=1, same_source_rate=0.5,
    )
    docs_list, truth = generate(spec)
    docs = {d["id"]: d for d in docs_list}
    (occurrences,) = truth.spread
    assert len(occurrences) == 30
    assert len({docs[d]["source"] for d, _, _ in occurrences}) == 10
    origin = occurrences[0]
    passage = docs[origin[0]]["text"][origin[1] : origin[2]]
    assert len(passage) > 100
    for doc_id, start, end in occurrences:
        assert docs[doc_id]["text"][start:end] == passage
        if doc_id != origin[0]:
            assert docs[doc_id]["date"] > docs[origin[0]]["date"]
    spread = [p for p in truth.passages if p.kind == "spread"]
    assert len(spread) == 29 and {p.source_id for p in spread} == {origin[0]}
    ((outlet, footer),) = truth.boilerplate.items()
    for doc in docs.values():
        assert doc["text"].endswith("\n\n" + footer) == (doc["source"] == outlet)
    same = [p for p in truth.passages if docs[p.source_id]["source"] == docs[p.copy_id]["source"]]
    assert same  # same_source_rate: an outlet repeating its own paragraphs


def test_write_corpus_and_load_truth(tmp_path: Any) -> None:
    spec = CorpusSpec(n_docs=80, seed=9, mean_chars=1200, spread_passages=1, spread_docs=10,
                      spread_sources=4)
    path = tmp_path / "corpus.jsonl.gz"
    truth = write_corpus(spec, path)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        written = [json.loads(line) for line in f]
    docs, expected = generate(spec)
    assert written == docs
    assert truth == expected
    assert load_truth(path) == truth
    assert load_truth(tmp_path / "corpus.jsonl.gz.truth.json") == truth
    assert not list(tmp_path.glob("*tmp*"))


def test_command_line(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.jsonl"
    assert main(["--docs", "40", "--seed", "2", "--mean-chars", "1000", "-o", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40 and json.loads(lines[0])["id"]
    assert load_truth(out).spec["n_docs"] == 40  # type: ignore[index]
    assert "wrote 40 documents" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--docs", "10", "--exact-rate", "2", "-o", str(out)])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_docs": -1},
        {"n_docs": 10, "exact_rate": 0.5, "near_rate": 0.5},
        {"n_docs": 10, "edit_rates": ()},
        {"n_docs": 10, "near_jaccard": (0.9, 0.3)},
        {"n_docs": 10, "spread_passages": 1},
        {"n_docs": 10, "mean_chars": 10},
        {"n_docs": 10, "stock_phrases": 1.5},
        {"n_docs": 10, "lexicon": "flat"},
        {"n_docs": 10, "ocr_rate": 0.3},
    ],
)
def test_spec_is_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        CorpusSpec(**kwargs)


def test_shingles_and_jaccard() -> None:
    assert shingles("One two, THREE four five six") == {
        ("one", "two", "three", "four", "five"), ("two", "three", "four", "five", "six"),
    }
    assert shingles("too short") == {("too", "short")}
    assert true_jaccard("a b c d e f", "a b c d e g") == pytest.approx(1 / 3)
    assert true_jaccard("", "") == 1.0


def test_default_corpora_are_those_of_earlier_versions() -> None:
    """Without OCR noise, the defaults (grouped lexicon, no stock phrases) make the very corpora
    of earlier versions, byte for byte, so figures measured on them still hold."""
    spec = CorpusSpec(n_docs=300, seed=7, mean_chars=1500, spread_passages=1, spread_docs=20, spread_sources=5,
                      boilerplate_sources=2)
    docs, truth = generate(spec)
    planted = truth.to_dict()
    planted.pop("spec")
    digest = hashlib.sha256(json.dumps([docs, planted], sort_keys=True).encode()).hexdigest()
    assert digest == "f47d547bf46c02dc9c17ce6258290fe805cce917e73d65bbb828783c33c0eb13"


# --------------------------------------------------------------------------------------------
# OCR noise

OCR_SPEC = CorpusSpec(n_docs=400, seed=21, mean_chars=2000, exact_rate=0.0, near_rate=0.0, partial_rate=0.3,
                      ocr_noise=True, ocr_rate=0.1)


def _plain(text: str) -> str:
    """Text with its OCR layout undone: words hyphenated at a line end joined, white space single
    spaces (a dash after a space, as in a dateline, is no hyphenation)."""
    return re.sub(r"\s+", " ", re.sub(r"(?<=[^\W\d_])-\n", "", text))


def test_noisy_passage_spans_are_exact() -> None:
    """A noisy block is set in lines (single line feeds) where the host's paragraphs are not: so
    the recorded span must hold exactly the laid-out paragraphs, from their first character to
    their last, and the text the truth names in the source must be what was copied."""
    docs_list, truth = generate(OCR_SPEC)
    docs = {d["id"]: d["text"] for d in docs_list}
    noisy = [p for p in truth.passages if p.ocr_rate > 0]
    assert len(noisy) > 60 and any(p.ocr_rate == 0 for p in truth.passages)
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for p in truth.passages:
        spans[p.copy_id].append((p.copy_start, p.copy_end))
    hyphens = 0
    for p in noisy:
        text = docs[p.copy_id]
        block = text[p.copy_start : p.copy_end]
        assert block == block.strip() and "\n\n\n" not in block
        assert p.copy_start == 0 or text[p.copy_start - 2 : p.copy_start] == "\n\n"
        assert p.copy_end == len(text) or text[p.copy_end : p.copy_end + 2] == "\n\n"
        # Every paragraph of the block is laid out in lines (unless it fits on one) ...
        for par in block.split("\n\n"):
            assert "\n" in par or len(par) <= 60, par
        hyphens += block.count("-\n")
        # ... and the paragraphs beside it are the host's own, not laid out (or another block).
        before = text[: max(p.copy_start - 2, 0)].rsplit("\n\n", 1)[-1]
        after = text[p.copy_end + 2 :].split("\n\n", 1)[0]
        for par, at in ((before, p.copy_start - 2 - len(before)), (after, p.copy_end + 2)):
            if par and not any(s <= at < e for s, e in spans[p.copy_id]):
                assert "\n" not in par, (p, par)
        # The text the truth names in the source is the one copied: close after undoing the
        # layout, far from its neighbours.
        copied = _plain(_without(block, p.copy_start, p.inserted))
        source = docs[p.source_id][p.source_start : p.source_end]
        ratio = difflib.SequenceMatcher(None, _plain(source), copied, autojunk=False).ratio()
        assert ratio > 0.6, (p, ratio)
        shifted = docs[p.source_id][p.source_end + 2 : p.source_end + 2 + len(source)]
        if len(shifted) > 100:
            assert difflib.SequenceMatcher(None, _plain(shifted), copied, autojunk=False).ratio() < ratio
    assert hyphens > len(noisy)


def test_ocr_noise_is_shared_out_like_old_newspaper_ocr() -> None:
    docs, _ = generate(CorpusSpec(n_docs=30, seed=4, mean_chars=4000, exact_rate=0, near_rate=0, partial_rate=0))
    text = " ".join(d["text"].replace("\n\n", " ") for d in docs)  # one long paragraph
    counts: dict[str, int] = {}
    noisy = _ocr(text, 0.1, np.random.default_rng(5), counts)
    assert noisy == _ocr(text, 0.1, np.random.default_rng(5))  # deterministic from the generator
    assert noisy == noisy.strip() and "\n\n" not in noisy
    # Lines of a column, about a fifth of them ending inside a hyphenated word (as in impresso's
    # OCR of 1900 newspapers: 39 characters a line on average, 22 % hyphenated).
    clean = _ocr(text, 1e-9, np.random.default_rng(5))
    lines = clean.split("\n")
    assert 36 <= np.mean([len(line) for line in lines]) <= 46
    assert max(len(line) for line in lines) <= 48
    assert 0.17 <= sum(line.endswith("-") for line in lines) / len(lines) <= 0.28
    assert _plain(clean) == text  # the layout alone loses nothing
    # The error budget: ~rate errors per character, shared 70/15/10/4.5/0.5 %.
    total = sum(counts.values())
    assert 0.085 * len(text) < total < 0.105 * len(text)
    for kind, share in (("char", 0.70), ("split", 0.15), ("merge", 0.10), ("punct", 0.045)):
        assert abs(counts[kind] / total - share) < 0.03, (kind, counts)
    assert counts["line"] >= 1
    # Split and merged words show in the text: single letters cut off words, and longer words.
    words = _plain(noisy).split()
    assert sum(len(w) == 1 and w.isalpha() and w not in ("a", "A") for w in words) > 0.2 * counts["split"]
    assert max(len(w) for w in words) > max(len(w) for w in text.split())


def test_ocr_noise_keeps_generation_deterministic() -> None:
    spec = CorpusSpec(n_docs=120, seed=8, mean_chars=1500, partial_rate=0.3, ocr_noise=True, ocr_rate=0.2)
    assert generate(spec) == generate(spec)


# --------------------------------------------------------------------------------------------
# Chance overlaps: the Zipf lexicon and stock phrases

NEWS_SPEC = CorpusSpec(n_docs=400, seed=13, mean_chars=4000, exact_rate=0.0, near_rate=0.0, partial_rate=0.0,
                       lexicon="zipf", stock_phrases=NEWS_STOCK_PHRASES)


def _owners(texts: dict[str, str], n: int) -> dict[tuple[str, ...], list[str]]:
    """The documents that hold each word ``n``-gram held by more than one."""
    owners: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for doc_id, text in texts.items():
        for gram in shingles(text, n):
            owners[gram].append(doc_id)
    return {gram: ids for gram, ids in owners.items() if len(ids) > 1}


def _shared_5grams(texts: dict[str, str]) -> dict[tuple[str, str], set[tuple[str, ...]]]:
    """The word 5-grams each pair of documents shares (pairs sharing none left out)."""
    shared: dict[tuple[str, str], set[tuple[str, ...]]] = defaultdict(set)
    for gram, ids in _owners(texts, 5).items():
        for a, b in itertools.combinations(ids, 2):
            shared[(a, b)].add(gram)
    return shared


def test_zipf_lexicon_has_the_frequencies_of_english() -> None:
    docs, _ = generate(NEWS_SPEC)
    counts = Counter(WORD.findall(" ".join(d["text"] for d in docs).lower()))
    total = counts.total()
    freq = np.array(sorted(counts.values(), reverse=True), dtype=np.float64)
    assert counts.most_common(1)[0][0] == "the" and 0.05 < freq[0] / total < 0.08  # English: ~6-7 %
    ranks = np.arange(1, len(freq) + 1)
    slope = -np.polyfit(np.log(ranks[9:2000]), np.log(freq[9:2000]), 1)[0]
    assert 0.85 < slope < 1.15, slope  # Zipf, exponent ~1


def test_stock_phrases_make_chance_overlaps_as_in_news() -> None:
    docs, truth = generate(NEWS_SPEC)
    assert not truth.related_pairs()
    texts = {d["id"]: d["text"] for d in docs}
    shared = _shared_5grams(texts)
    n_pairs = len(texts) * (len(texts) - 1) // 2
    share1 = len(shared) / n_pairs
    share3 = sum(len(g) >= 3 for g in shared.values()) / n_pairs
    assert 0.015 < share1 < 0.05, share1  # ~2.8 % of unrelated pairs share a word 5-gram
    assert 0.0005 < share3 < 0.006, share3  # ~0.24 % share three or more
    # What they share comes from the stock phrases: no run longer than a phrase, and nearly
    # every shared 5-gram overlaps one (the rest: frequent function words by chance).
    phrase_grams = {g for ph in _stock_phrase_pool(0) for g in shingles(" ".join(ph), 4) if len(g) == 4}
    grams = [g for gs in shared.values() for g in gs]
    in_phrase = sum(g[:4] in phrase_grams or g[1:] in phrase_grams for g in grams)
    assert in_phrase > 0.95 * len(grams)
    assert not _owners(texts, 9)
    # Without stock phrases, the same lexicon leaves unrelated documents next to nothing in common.
    plain_docs, _ = generate(CorpusSpec(**{**NEWS_SPEC.to_dict(), "stock_phrases": 0.0}))
    assert len(_shared_5grams({d["id"]: d["text"] for d in plain_docs})) < 0.001 * n_pairs


def test_stock_phrases_read_as_news() -> None:
    pool = _stock_phrase_pool(0)
    assert len(pool) == 300 and len(set(pool)) == 300
    assert all(4 <= len(ph) <= 8 for ph in pool)
    docs, _ = generate(NEWS_SPEC)
    text = " ".join(d["text"] for d in docs[:50])
    assert sum(" ".join(ph) in text for ph in pool[:10]) >= 5  # the commonest, verbatim
    assert "said in a statement" in text or "according to the" in text


# --------------------------------------------------------------------------------------------
# Wire groups


def test_wire_groups_truth_is_the_truth() -> None:
    docs_list, truth = wire_groups(6, 12, seed=3, mean_chars=1500)
    docs = {d["id"]: d for d in docs_list}
    assert len(docs) == 72 and len(truth.spread) == 6
    assert sorted(d for occ in truth.spread for d, _, _ in occ) == sorted(docs)  # every document, once
    assert len(truth.related_pairs()) == 6 * (12 * 11 // 2)
    copies = {p.copy_id: p for p in truth.passages}
    assert len(copies) == 6 * 11 and all(p.kind == "spread" for p in copies.values())
    for k, occ in enumerate(truth.spread):
        (origin, o_start, o_end), *rest = occ
        wire = docs[origin]["text"][o_start:o_end]
        assert 60 <= len(wire.split(" ")) <= 120
        assert len({docs[d]["source"] for d, _, _ in occ}) == 12  # each from another outlet
        assert [d for d, _, _ in occ] == sorted(d for d, _, _ in occ)  # the origin comes first
        for doc_id, start, end in occ:
            text = docs[doc_id]["text"]
            assert start == 0 or text[start - 2 : start] == "\n\n"
            assert end == len(text) or text[end : end + 2] == "\n\n"
            assert len(text) - (end - start) > 200  # embedded in an article of its own
        for doc_id, start, end in rest:
            p = copies[doc_id]
            assert (p.source_id, p.source_start, p.source_end) == (origin, o_start, o_end)
            assert (p.copy_start, p.copy_end, p.group) == (start, end, -1 - k)
            assert docs[doc_id]["date"] > docs[origin]["date"]
            copy = docs[doc_id]["text"][start:end]
            assert 0 <= p.edit_rate <= 0.02
            edits = len(wire.split(" ")) * (1 - difflib.SequenceMatcher(None, wire.split(" "), copy.split(" "),
                                                                         autojunk=False).ratio())
            assert edits <= 0.02 * len(wire.split(" ")) + 1.5, (p, edits)
    assert sum(p.edit_rate > 0 and docs[p.source_id]["text"][p.source_start:p.source_end]
               != docs[p.copy_id]["text"][p.copy_start:p.copy_end] for p in copies.values()) > 20
    # Documents of different groups share no wire text: nothing longer than a stock phrase.
    texts = {d: v["text"] for d, v in docs.items()}
    group = {d: k for k, occ in enumerate(truth.spread) for d, _, _ in occ}
    for gram, ids in _owners(texts, 9).items():
        assert len({group[d] for d in ids}) == 1, gram


def test_write_wire_groups_and_command_line(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wire.jsonl"
    truth = write_wire_groups(path, 3, 5, seed=2, mean_chars=1000)
    docs, expected = wire_groups(3, 5, seed=2, mean_chars=1000)
    assert [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] == docs
    assert truth == expected == load_truth(path)
    assert truth.spec is not None and truth.spec["wire_groups"] == 3 and truth.spec["group_size"] == 5
    out = tmp_path / "cli.jsonl"
    assert main(["--wire-groups", "3", "--group-size", "5", "--seed", "2", "--mean-chars", "1000",
                 "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")
    assert "wrote 15 documents" in capsys.readouterr().err
    with pytest.raises(ValueError):
        wire_groups(2, 401)


def test_command_line_chance_overlaps_and_ocr(tmp_path: Any) -> None:
    out = tmp_path / "c.jsonl"
    assert main(["--docs", "40", "--realistic", "--ocr-noise", "--ocr-rate", "0.05", "-o", str(out)]) == 0
    spec = load_truth(out).spec
    assert spec is not None
    assert (spec["lexicon"], spec["stock_phrases"], spec["ocr_rate"]) == ("zipf", NEWS_STOCK_PHRASES, 0.05)
    assert main(["--docs", "40", "--stock-phrases", "0.1", "-o", str(out)]) == 0
    spec = load_truth(out).spec
    assert spec is not None and (spec["lexicon"], spec["stock_phrases"]) == ("grouped", 0.1)
