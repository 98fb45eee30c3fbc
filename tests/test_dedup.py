"""dedup as a library call: what it keeps and removes, and that a failure leaves nothing
half-written (the command-line forms are in test_cli)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import twicetold
from twicetold import readers

WIRE = ("Dockworkers at the port of Arden walked out on Monday, halting container traffic, and the union said "
        "talks would resume on Friday after the employers' latest offer was rejected by a show of hands.")


def corpus(tmp_path: Path) -> Path:
    rows = [{"id": "a", "text": WIRE, "date": "2026-03-02"},
            {"id": "b", "text": WIRE + " (AP)", "date": "2026-03-01"},
            {"id": "c", "text": "Grain futures rose for a third day on forecasts of a dry spring in the plains."},
            {"id": "d", "text": WIRE, "date": "2026-03-03"}]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_dedup_keeps_one_per_cluster_and_maps_the_rest(tmp_path: Path) -> None:
    source, out = corpus(tmp_path), tmp_path / "out.jsonl"
    result = twicetold.dedup(source, out)
    assert isinstance(result, twicetold.DedupResult) and result.kept == 2
    assert result.removed == {"a": "b", "d": "b"}  # the earliest is kept
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["b", "c"]
    removed = [json.loads(line) for line in Path(f"{out}.removed.jsonl").read_text().splitlines()]
    assert {r["removed"]: r["kept"] for r in removed} == result.removed


def test_a_failed_copy_leaves_neither_the_corpus_nor_the_map(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    source, out = corpus(tmp_path), tmp_path / "out.jsonl"
    out.write_text("an earlier output\n")
    copy = readers.copy_filtered_into

    def failing(*args: object, **kwargs: object) -> int:
        copy(*args, **kwargs)  # type: ignore[arg-type]
        raise OSError(28, "No space left on device")  # the disk filled as the copy ended

    monkeypatch.setattr(readers, "copy_filtered_into", failing)
    with pytest.raises(twicetold.OutputError, match="No space left"):
        twicetold.dedup(source, out, force=True)
    # Neither the corpus nor the map took its place: the earlier output is as it was.
    assert out.read_text() == "an earlier output\n" and not Path(f"{out}.removed.jsonl").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]
