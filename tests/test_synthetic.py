"""The synthetic corpus generator: deterministic, and its recorded truth is the truth."""

from __future__ import annotations

import difflib
import gzip
import json
import re
from collections import Counter, defaultdict
from datetime import date
from typing import Any

import pytest

from twicetold.testing.synthetic import (
    CorpusSpec,
    PlantedPassage,
    Truth,
    generate,
    iter_generate,
    load_truth,
    main,
    shingles,
    true_jaccard,
    write_corpus,
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
        else:
            ratio = difflib.SequenceMatcher(None, source.split(), copied.split(), autojunk=False).ratio()
            assert ratio > 0.7, p
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
