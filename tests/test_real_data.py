"""The whole scan on real labelled data: the seeds, Clough & Stevenson, PAN 2013."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import twicetold
from twicetold.testing.evaluation import (
    clough_pairing,
    pan_ceiling,
    pan_gold,
    pan_score,
    shared_folder,
    spans_on,
)

from .conftest import DATA, REPO, SEEDS


def test_seeds_scan_reports_one_partial_pair(seed_passage: dict[str, tuple[int, int]]) -> None:
    result = twicetold.scan([SEEDS])
    assert [(p.kind, len(p.passages)) for p in result.pairs] == [("partial", 1)]
    pair = result.pairs[0]
    assert pair.a < pair.b  # no dates: the smaller id is a
    for doc, other in ((pair.a, pair.b), (pair.b, pair.a)):
        assert spans_on(result, doc, other) == [seed_passage[doc]]


@pytest.mark.usefixtures("shared_data")
def test_clough_stevenson_pairs_copied_answers_and_no_independent_ones() -> None:
    data = DATA / "clough_stevenson"
    result = twicetold.scan([data / "corpus-20090418"])
    counts = clough_pairing(result, data)
    cut, light = counts["cut"][0], counts["light"][0]
    # g2pE_taskc, g4pD_taskb and g2pC_taske share (almost) nothing with the source excerpt.
    assert cut + light >= 35, counts
    assert counts["non"][0] == 0, counts
    assert counts["heavy"][0] >= 14, counts
    # Every file read, the Windows-1252 ones flagged and decoded with their quotes.
    assert len(result.documents) == 100
    assert {d.encoding for d in result.documents} >= {"cp1252"}


@pytest.mark.slow
@pytest.mark.usefixtures("shared_data")
def test_pan13_no_obfuscation_pairs_and_passages() -> None:
    data = DATA / "pan13_noobf_public"
    result = twicetold.scan([data])
    score = pan_score(result, pan_gold(data))
    assert score.pairs_found == score.pairs == 215
    # The drifted gold offsets cap any matcher near 0.91: a plain shared-word-run matcher
    # measures that ceiling, and twicetold should reach it.
    assert score.overlap.recall >= 0.88
    assert score.overlap.precision >= 0.88
    plain = pan_ceiling(data)
    assert score.overlap.recall >= plain.recall - 0.01
    assert score.overlap.precision >= plain.precision - 0.01
    # Only the annotations, pair list and README are not text, named in one warning.
    not_text = [p for p in result.problems if p.kind == "not_text"]
    assert len(not_text) == 1 and "README.md" in not_text[0].message


@pytest.mark.usefixtures("shared_data")
def test_seed_files_are_not_modified_by_scan(tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in SEEDS.iterdir()}
    twicetold.write_results(twicetold.scan([SEEDS]), tmp_path / "out")
    assert {p.name: p.read_bytes() for p in SEEDS.iterdir()} == before


def test_shared_folder_found_beside_the_repository_a_clone_came_from(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """CI runs the tests in a clone made in a temporary folder: the shared folder is then the
    one beside the repository it was cloned from; ``TWICETOLD_SHARED`` overrides both."""
    monkeypatch.delenv("TWICETOLD_SHARED", raising=False)
    (tmp_path / "work" / "shared").mkdir(parents=True)
    origin = tmp_path / "work" / "repo"
    subprocess.run(["git", "init", "-q", str(origin)], check=True)
    clone = tmp_path / "elsewhere" / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, capture_output=True)
    assert shared_folder(origin) == tmp_path / "work" / "shared"
    assert shared_folder(clone) == tmp_path / "work" / "shared"
    monkeypatch.setenv("TWICETOLD_SHARED", str(tmp_path))
    assert shared_folder(clone) == tmp_path
    assert shared_folder(tmp_path / "nowhere" / "repo") == tmp_path


@pytest.mark.parametrize("ci", [False, True], ids=["local", "CI"])
def test_without_shared_data_its_tests_skip_with_the_reason_or_fail_in_ci(tmp_path: Path, ci: bool) -> None:
    """A clone without ``../shared/``: the tests that read it are skipped, saying why (not an
    error in a fixture); with ``CI=true`` they fail, saying the same. Run as a separate pytest
    on this repository's seed tests, with ``TWICETOLD_SHARED`` naming an empty folder."""
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"TWICETOLD_SHARED": str(empty)}
    if ci:
        env["CI"] = "true"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "seed",
                          "tests/test_align.py", "tests/test_real_data.py"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    out = run.stdout + run.stderr
    reason = f"../shared/ not found (no {empty / 'seeds'} or {empty / 'data'}): the seeds and labelled data live"
    assert "ValueError" not in out and "FileNotFoundError" not in out, out
    assert out.count(reason) >= 4, out  # the two seed tests of each module
    if ci:
        assert run.returncode == 1 and "CI=true: these tests must run" in out and " passed" not in out, out
    else:
        assert run.returncode == 0 and "4 skipped" in out and "error" not in out, out
