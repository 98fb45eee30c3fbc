"""The plan: the stages in order over plain data, rows in input order whatever the batching,
and run.json's counts read from what each stage produced."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import twicetold
from twicetold import readers
from twicetold.config import ScanConfig
from twicetold.plan import run_stages
from twicetold.testing.synthetic import CorpusSpec, generate


@pytest.fixture(scope="module")
def corpus_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    docs, _ = generate(CorpusSpec(n_docs=300, seed=9, mean_chars=1200))
    path = tmp_path_factory.mktemp("plan") / "corpus.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "text", "source", "date"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(docs)
    return path


def tables(result: twicetold.ScanResult) -> tuple[Any, ...]:
    return (result.documents, result.pairs, result.clusters, list(result.occurrences),
            list(result.passage_clusters), result.run["counts"])


def test_rows_are_input_order_for_any_batching(corpus_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = twicetold.scan([corpus_csv])
    read_batches = readers.read_batches
    sizes: list[int] = []

    def small(*args: Any, **kwargs: Any) -> Any:
        for batch in read_batches(*args, **{**kwargs, "size": 7}):
            sizes.append(len(batch.ids))
            yield batch

    monkeypatch.setattr(readers, "read_batches", small)
    batched = twicetold.scan([corpus_csv])
    assert len(sizes) > 40 and max(sizes) <= 7  # the plan did read in small batches
    assert tables(batched) == tables(whole) and whole.pairs
    with open(corpus_csv, encoding="utf-8", newline="") as f:
        assert [d.id for d in batched.documents] == [row["id"] for row in csv.DictReader(f)]


def test_run_counts_are_what_the_stages_made(corpus_csv: Path) -> None:
    with run_stages([corpus_csv], ScanConfig(workers=2)) as st:
        counts = st.run["counts"]
        assert counts["documents"] == len(st.corpus) == 300
        assert counts["passage_candidates"] == len(st.candidates.pairs) > 0
        assert counts["pair_candidates_to_align"] == len(st.aligned)
        assert counts["pairs"] == len(st.passages.pairs)
        assert counts["near_pairs_verified"] == len(st.near.pairs)
        assert counts["clusters"] == len(st.clusters)
        assert counts["pairs_aligned"] + counts["pairs_derived_through_hubs"] == len(st.aligned)
        assert st.run["anchors"] == st.config.passages.anchors == "words"
        # Every pair aligned is a candidate pair or joins a cluster member to its canonical member.
        candidates = {tuple(p) for p in st.candidates.pairs.tolist()}
        canonical = st.components.canonical
        for i, j in st.aligned.tolist():
            assert (i, j) in candidates or canonical[i] == j or canonical[j] == i
        assert np.all(st.aligned[:, 0] < st.aligned[:, 1])


def test_anchors_are_decided_on_documents_spread_over_the_corpus(tmp_path: Path) -> None:
    """OCR'd pages at the end of a corpus are seen too: the sample spans the corpus, not its head."""
    from twicetold.plan import SIGNS_SAMPLE

    clean = [f"Report {i} on the harbour, written and published online the same day." for i in range(SIGNS_SAMPLE)]
    column = "The dock-\nworkers walked out on Mon-\nday, halting con-\ntainer traffic at the port.\n"
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i, text in enumerate(clean + [column] * SIGNS_SAMPLE):
        (folder / f"d{i:05d}.txt").write_text(text, encoding="utf-8")
    with run_stages([folder]) as st:
        assert st.config.passages.anchors == "letters", st.run["anchors_decided_on"]
