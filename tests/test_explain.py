"""explain: the verdict of every stage, on the seeds and on pairs dropped for known reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from twicetold import InputError, PassageConfig, ScanConfig
from twicetold.explain import explain, word_differences

from .conftest import DATA, SEEDS

A, B = "000_67ea10a8cc3b0884", "002_84e259149e4ad06a"


@pytest.mark.usefixtures("shared_data")
def test_reported_pair_shows_passage_differences_and_parameters(seed_texts: tuple[str, str]) -> None:
    e = explain([SEEDS], B, A)
    assert e.reported and e.dropped_at is None
    assert e.pair is not None and (e.pair.a, e.pair.b) == (A, B)
    (diff,) = e.differences
    # The seeds' passage differs by one comma only ("SANA that" / "SANA, that"), which the
    # report and the web app mark too.
    assert [(d.op, d.a, d.b) for d in diff][1] == ("insert", "", ", ")
    assert [d.op for d in diff] == ["equal", "insert", "equal"]
    assert diff[0].a.startswith("Separately") and diff[-1].b.endswith("close range.")
    (p,) = e.pair.passages
    assert "".join(d.a for d in diff) == seed_texts[0][p.a_start : p.a_end]
    assert "".join(d.b for d in diff) == seed_texts[1][p.b_start : p.b_end]
    assert (e.parameters["min_evidence"], e.parameters["min_length"]) == (80.0, 25)
    stages = {v.stage: v for v in e.verdicts}
    assert stages["candidates"].passed and stages["align"].passed and not stages["near"].passed


@pytest.mark.usefixtures("shared_data")
def test_short_shared_run_is_dropped_at_alignment_with_the_reason() -> None:
    # Clough g2pC_taske shares only a seven-word run with its source.
    e = explain([DATA / "clough_stevenson" / "corpus-20090418"], "g2pC_taske", "orig_taske")
    assert not e.reported and e.dropped_at == "align"
    assert any("< min_evidence 80" in why for _, why in e.dropped_passages)


def test_pair_without_shared_text_is_dropped_at_candidates(tmp_path: Path) -> None:
    rows = [{"id": "x", "text": "Harbour cranes stood idle as the strike entered its third day."},
            {"id": "y", "text": "The orchestra announced a new season of free concerts in the park."}]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    e = explain([path], "x", "y")
    assert e.dropped_at == "candidates"


def test_boilerplate_max_df_is_named(tmp_path: Path) -> None:
    shared = "Police said the investigation was continuing and asked witnesses to come forward with information."
    rows = [{"id": f"d{i}", "text": f"Report number {i} about event {i * 7}. " + shared} for i in range(6)]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = ScanConfig(passages=PassageConfig(max_df=3))
    e = explain([path], "d0", "d1", cfg)
    assert e.dropped_at == "candidates"
    assert "max_df=3" in next(v.detail for v in e.verdicts if v.stage == "candidates")


def test_members_of_one_cluster_are_paired_through_the_canonical_member(tmp_path: Path) -> None:
    text = " ".join(f"word{i}" for i in range(200))
    rows = [{"id": name, "text": text} for name in ("c1", "c2", "c3")]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    e = explain([path], "c2", "c3")
    assert not e.reported and e.dropped_at == "pairs"


@pytest.mark.usefixtures("shared_data")
def test_unknown_id_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no document 'nope'"):
        explain([SEEDS], A, "nope")


def test_word_differences_keep_original_text() -> None:
    diff = word_differences("The Army said, on Monday, that", "the army said that")
    assert [(d.op, d.a.strip(), d.b.strip()) for d in diff] == [
        ("equal", "The Army said", "the army said"), ("delete", ", on Monday,", ""), ("equal", "that", "that")]


def test_explain_and_the_report_mark_the_same_differences() -> None:
    """One word diff (``diff``) for the terminal and the HTML views: each stretch explain
    calls changed is what the report marks, token for token."""
    from twicetold.report import diff_marks

    a = "The bridge would reopen, officials said on Monday, after ＲＥＰＡＩＲＳ to its cable."
    b = "the bridge will reopen officials said Monday after repairs to its main cable!"
    changed = [(d.op, d.a.strip(), d.b.strip()) for d in word_differences(a, b) if d.op != "equal"]
    am, bm, _ = diff_marks(a, b) or ([], [], {})
    marked = [(a[x.start:x.end], b[y.start:y.end]) for x, y in zip(am, bm, strict=True)]
    assert [(x, y) for _, x, y in changed] == marked
    assert ("replace", "would", "will") in changed and ("insert", "", "main") in changed


def test_the_candidates_verdict_is_the_candidates_stage_s_own(tmp_path: Path) -> None:
    """On OCR'd text documents are also paired on shared letter grams, when too few word
    shingles survive the noise: explain reads which pairs the stage made, so every reported
    pair passed it, and the pairs made on letters alone say so."""
    from twicetold.explain import _explain
    from twicetold.plan import run_stages
    from twicetold.testing.synthetic import CorpusSpec, write_corpus

    path = tmp_path / "ocr.jsonl"
    write_corpus(CorpusSpec(n_docs=150, seed=3, mean_chars=2500, exact_rate=0.0, near_rate=0.0, partial_rate=0.3,
                            edit_rates=(0.0,), ocr_noise=True, ocr_rate=0.15), path)
    with run_stages([path]) as st:
        assert st.config.passages.anchors == "letters"
        verdicts = [next(v for v in _explain(st, p.a, p.b).verdicts if v.stage == "candidates")
                    for p in st.passages.pairs if p.kind == "partial"]
    assert verdicts and all(v.passed for v in verdicts)
    assert any("letter grams" in v.detail for v in verdicts)
