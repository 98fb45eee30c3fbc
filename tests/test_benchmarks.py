"""The benchmark runners' bookkeeping on a small generated corpus (no timings asserted)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from twicetold.testing.synthetic import CorpusSpec, load_truth, true_jaccard, write_corpus

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench_near = _load("bench_near")
bench_scale = _load("bench_scale")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "corpus.jsonl"
    write_corpus(CorpusSpec(n_docs=300, seed=5, exact_rate=0.04, near_rate=0.1), path)
    return path


@pytest.fixture(scope="module")
def grader(corpus: Path) -> bench_near.Grader:
    return bench_near.Grader(corpus)


def test_positives_are_exact_and_near_copies_above_the_threshold(corpus: Path, grader: bench_near.Grader) -> None:
    truth = load_truth(corpus)
    texts = dict(zip(*bench_near.read_jsonl(str(corpus)), strict=True))
    above = [(a, b) for a, b, _ in truth.near_pairs if true_jaccard(texts[a], texts[b]) >= 0.5]
    assert truth.exact_pairs and above and len(above) < len(truth.near_pairs)
    perfect = grader.grade(truth.exact_pairs + above)
    assert perfect["positives"] == len(truth.exact_pairs) + len(above)
    assert perfect["recall"] == 1.0 and perfect["precision"] == 1.0
    assert perfect["by_bucket"]["exact"] == {"found": len(truth.exact_pairs), "planted": len(truth.exact_pairs)}
    assert perfect["by_bucket"]["0.3-0.5"]["found"] == 0
    # A pair below the threshold costs precision; a missing positive costs recall.
    below = next((a, b) for a, b, _ in truth.near_pairs if (a, b) not in above)
    worse = grader.grade([*truth.exact_pairs, *above[1:], below])
    assert worse["positives_found"] == perfect["positives"] - 1
    assert worse["reported_true"] == worse["reported"] - 1
    # Members of one cluster count as found together, whatever pairs are listed.
    a, b = above[0]
    assert grader.grade([], groups=[[a, "doc-x", b]])["positives_found"] == 1
    # On a prefix, only the planted pairs inside it count.
    ids = set(texts)
    some = {x for x in ids if x < sorted(ids)[150]}
    assert grader.grade([], docs=some)["positives"] < perfect["positives"]


def test_twicetold_finds_the_planted_copies(corpus: Path, grader: bench_near.Grader) -> None:
    out, _ = bench_near.run_twicetold(str(corpus), 1, None)
    score = grader.grade(out["pairs"], out["groups"])
    assert score["positives"] > 10
    assert score["recall"] >= 0.9
    assert score["precision"] >= 0.9


def test_peers_report_pairs_in_the_same_terms(corpus: Path, grader: bench_near.Grader) -> None:
    pytest.importorskip("rensa")
    out = bench_near.run_rensa(str(corpus), bench_near.rensa_bands())
    assert out["params"]["bands_rows"] == [32, 4]
    score = grader.grade(out["pairs"])
    assert score["recall"] >= 0.8 and score["precision"] >= 0.8


def test_child_reports_json_with_its_own_peak_memory(corpus: Path) -> None:
    run = bench_near.child("twicetold-1w", str(corpus), None)
    json.dumps(run)
    assert run["seconds"] > 0 and 10 < run["peak_rss_mb"] < 100_000
    assert {"pairs", "groups", "stage_seconds"} <= run.keys()


def test_snapshot_is_a_copy_of_the_package_reused_while_unchanged(tmp_path: Path) -> None:
    first = bench_near.snapshot_twicetold(tmp_path)
    assert (tmp_path / "twicetold" / "__init__.py").exists()
    marker = tmp_path / "twicetold" / "__pycache__" / "kept"
    marker.parent.mkdir(exist_ok=True)
    marker.touch()
    assert bench_near.snapshot_twicetold(tmp_path)["sha256"] == first["sha256"]
    assert marker.exists()  # an identical copy is kept, with its Numba cache
    env = bench_near.child_env(first)
    assert env is not None and env["PYTHONPATH"].split(":")[0] == str(tmp_path)


def test_passage_accuracy_of_the_planted_truth_itself(corpus: Path, tmp_path: Path) -> None:
    """Results that report exactly the planted passages score F1 1, all as one passage."""
    truth = load_truth(corpus)
    rows: dict[tuple[str, str], list[dict[str, int]]] = {}
    for p in truth.passages:
        rows.setdefault((p.source_id, p.copy_id), []).append(
            {"a_start": p.source_start, "a_end": p.source_end, "b_start": p.copy_start, "b_end": p.copy_end})
    (tmp_path / "pairs.jsonl").write_text("".join(
        json.dumps({"a": a, "b": b, "kind": "partial", "passages": ps}) + "\n" for (a, b), ps in rows.items()))
    score = bench_scale.passage_accuracy(tmp_path, corpus)
    assert score["planted_passages"] == len(truth.passages) > 0
    assert score["char_f1"] == 1.0
    assert score["as_one_passage"] == score["planted_passages"]
    assert score["reported_pairs_unrelated"] == 0


def test_jsonl_benchmark_runs_on_a_tiny_corpus(tmp_path: Path) -> None:
    pytest.importorskip("polars")
    import subprocess

    run = subprocess.run([sys.executable, str(BENCHMARKS / "bench_jsonl.py"), "--docs", "300", "--repeat", "1",
                          "--big-mb", "2", "--out", str(tmp_path), "--json", str(tmp_path / "results.json")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    for heading in ("READ", "SCAN", "WRITE", "CAPABILITIES", "SUMMARY"):
        assert f"\n{heading}" in run.stdout
    assert "polars.read_ndjson" in run.stdout and "pyarrow.json.read_json" in run.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert {r["rows"] for r in results["read"]} == {300}
    malformed = next(c for c in results["capabilities"] if c["case"].startswith("malformed"))
    assert malformed["twicetold rows"] == "4 rows + 1 problem(s)"
    assert malformed["pyarrow.json rows"] == "FAILS"
