"""A generated corpus with planted exact copies, near copies and partially copied paragraphs:
recall and precision per kind, and passage accuracy per edit level, against the truth."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import twicetold
from twicetold.testing.evaluation import char_overlap, paired, spans_on
from twicetold.testing.synthetic import CorpusSpec, Truth, write_corpus

SPEC = CorpusSpec(n_docs=1200, seed=11, mean_chars=2500, exact_rate=0.03, near_rate=0.06, partial_rate=0.1,
                  edit_rates=(0.0, 0.02, 0.05, 0.1))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[twicetold.ScanResult, Truth]:
    path = tmp_path_factory.mktemp("generated") / "corpus.jsonl"
    truth = write_corpus(SPEC, path)
    return twicetold.scan([path]), truth


def test_exact_copies_are_all_found_as_exact(generated: tuple[twicetold.ScanResult, Truth]) -> None:
    result, truth = generated
    found = paired(result)
    assert truth.exact_pairs
    assert all(frozenset(p) in found for p in truth.exact_pairs)
    exact_kind = {frozenset((p.a, p.b)) for p in result.pairs if p.kind == "exact"}
    clusters = {m: c.kind for c in result.clusters for m in c.members}
    assert all(frozenset(p) in exact_kind or clusters.get(p[1]) == "exact" for p in truth.exact_pairs)


def test_near_copies_above_the_threshold_are_near_duplicates(generated: tuple[twicetold.ScanResult, Truth]) -> None:
    result, truth = generated
    cluster_of = {m: c.id for c in result.clusters for m in c.members}
    above = [(a, b) for a, b, j in truth.near_pairs if j >= 0.7]
    together = sum(cluster_of.get(a) is not None and cluster_of.get(a) == cluster_of.get(b) for a, b in above)
    assert above and together / len(above) >= 0.95, (together, len(above))
    # Every near copy shares text with its original, whatever its Jaccard: it is paired.
    found = paired(result)
    recall = sum(frozenset((a, b)) in found for a, b, _ in truth.near_pairs) / len(truth.near_pairs)
    assert recall >= 0.98, recall


def test_reported_pairs_are_planted(generated: tuple[twicetold.ScanResult, Truth]) -> None:
    result, truth = generated
    related = {frozenset(p) for p in truth.related_pairs()}
    cluster_of = {m: c.id for c in result.clusters for m in c.members}
    wrong = [p for p in result.pairs if frozenset((p.a, p.b)) not in related
             and not (cluster_of.get(p.a) is not None and cluster_of.get(p.a) == cluster_of.get(p.b))]
    assert len(wrong) / max(len(result.pairs), 1) <= 0.02, wrong[:5]


def test_partial_copies_are_found_whole_at_every_edit_level(generated: tuple[twicetold.ScanResult, Truth]) -> None:
    result, truth = generated
    by_rate: dict[float, list[tuple[list[tuple[int, int]], list[tuple[int, int]]]]] = defaultdict(list)
    fragmented = total = 0
    plantings = [p for p in truth.passages if p.kind == "partial"]
    assert plantings
    for p in plantings:
        found = spans_on(result, p.copy_id, p.source_id)
        planted = (p.copy_start, p.copy_end)
        by_rate[p.edit_rate].append(([planted], found))
        pieces = [s for s in found if min(s[1], planted[1]) - max(s[0], planted[0]) > 0]
        total += 1
        fragmented += len(pieces) > 1
    for rate, items in sorted(by_rate.items()):
        score = sum((char_overlap(t, f) for t, f in items), start=char_overlap([], []))
        assert score.recall >= 0.9, (rate, score)
    assert fragmented / total <= 0.1, (fragmented, total)


def write_truth_summary(path: Path) -> None:  # pragma: no cover - a helper for manual runs
    """Not a test: kept so the per-edit-level figures can be printed by hand."""


def test_results_are_identical_with_one_or_two_workers(generated: tuple[twicetold.ScanResult, Truth],
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twicetold import passages

    path = tmp_path / "corpus.jsonl"
    write_corpus(SPEC, path)
    monkeypatch.setattr(passages, "PARALLEL_MIN_PAIRS", 1)  # take the forked path even here
    monkeypatch.setattr(passages, "ALIGN_CHUNK", 37)

    def key(r: twicetold.ScanResult) -> list[tuple[object, ...]]:
        return [(p.a, p.b, p.kind, p.jaccard, p.direction, tuple(p.passages)) for p in r.pairs]

    one = twicetold.scan([path], twicetold.ScanConfig(workers=1))
    two = twicetold.scan([path], twicetold.ScanConfig(workers=2))
    assert key(one) == key(two) == key(generated[0])
    assert [(c.canonical, c.members) for c in one.clusters] == [(c.canonical, c.members) for c in two.clusters]
    assert one.occurrences == two.occurrences == generated[0].occurrences
    assert one.passage_clusters == two.passage_clusters == generated[0].passage_clusters


@pytest.mark.parametrize("room_share", [1.0, 0.1])
def test_passage_texts_come_back_through_the_shared_buffer(generated: tuple[twicetold.ScanResult, Truth],
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            room_share: float) -> None:
    """The forked aligners write passage texts into a shared buffer, a region per chunk of
    pairs; a text that does not fit in what is left of its region comes back as a string. With
    the room the documents' sizes give, or a tenth of it (so most do not fit): the same
    occurrences and texts as the in-process scan."""
    from twicetold import cluster, passages
    from twicetold.store import TextStore

    path = tmp_path / "corpus.jsonl"
    write_corpus(SPEC, path)
    monkeypatch.setattr(passages, "PARALLEL_MIN_PAIRS", 1)
    monkeypatch.setattr(passages, "ALIGN_CHUNK", 37)
    sizes = TextStore.sizes
    monkeypatch.setattr(TextStore, "sizes", lambda self: (sizes(self) * room_share).astype(np.int64))
    kinds: list[tuple[int, int]] = []
    made = cluster._Texts.__init__

    def count(self: Any, pieces: list[Any], buffer: Any) -> None:
        kinds.append((sum(isinstance(p, str) for p in pieces), sum(not isinstance(p, str) for p in pieces)))
        made(self, pieces, buffer)

    monkeypatch.setattr(cluster._Texts, "__init__", count)
    result = twicetold.scan([path], twicetold.ScanConfig(workers=2))
    assert result.occurrences == generated[0].occurrences
    assert result.passage_clusters == generated[0].passage_clusters
    (strings, in_buffer), = kinds
    assert in_buffer > 0 and (strings == 0 if room_share == 1.0 else strings > in_buffer)


def test_spilling_to_disk_past_the_memory_budget_changes_no_result(
        generated: tuple[twicetold.ScanResult, Truth], tmp_path: Path) -> None:
    import gzip
    import os

    from twicetold import _kernels
    from twicetold.store import Spill

    # Compressed, so the texts are copied to the text store as well: all of it in temp_dir.
    path = tmp_path / "corpus.jsonl.gz"
    write_corpus(SPEC, tmp_path / "corpus.jsonl")
    path.write_bytes(gzip.compress((tmp_path / "corpus.jsonl").read_bytes()))
    temp = tmp_path / "temp"
    temp.mkdir()
    seen: list[list[str]] = []
    passes: list[int] = []
    keep, shared_in_buckets = Spill.keep, _kernels.shared_in_buckets

    def spied(self: Spill, array: object) -> object:
        # What the process holds open in temp_dir, by name (a file without a name shows as
        # the folder's path, a '#' and its inode), and what the folder lists.
        held = []
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                held.append(os.readlink(f"/proc/self/fd/{fd}"))
        seen.append([t for t in held if t.startswith(str(temp))] + os.listdir(temp))
        return keep(self, array)  # type: ignore[arg-type]

    def counted(*args: object) -> object:
        passes.append(1)
        return shared_in_buckets(*args)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(Spill, "keep", spied)
        m.setattr(_kernels, "shared_in_buckets", counted)
        spilled = twicetold.scan([path], twicetold.ScanConfig(memory_budget_mb=1, temp_dir=str(temp)))
    base = generated[0]
    # The shingles (~4 MB here) went to disk past the first megabyte, and with no budget left,
    # the postings were made in passes.
    assert spilled.run["counts"]["bytes_spilled_to_disk"] > 3 * 2**20
    assert len(passes) > 4
    assert base.run["counts"]["bytes_spilled_to_disk"] == 0
    assert [(p.a, p.b, p.kind, p.jaccard, p.passages) for p in spilled.pairs] == \
        [(p.a, p.b, p.kind, p.jaccard, p.passages) for p in base.pairs]
    assert spilled.clusters == base.clusters
    assert spilled.occurrences == base.occurrences
    # While it ran, the text store lived in temp_dir without a name (nothing for the folder to
    # list, so nothing to leave behind); spilled files are unlinked once mapped.
    assert any(names for names in seen) and all(all(n.startswith(str(temp)) for n in names) for names in seen)
    assert os.listdir(temp) == []



def test_alignment_chunks_cover_every_pair_in_order_and_shrink_toward_the_end() -> None:
    from twicetold import passages

    pairs = [(i, i + 1) for i in range(12_345)]
    chunks = passages._chunks(pairs, workers=2)
    assert [p for c in chunks for p in c] == pairs
    sizes = [len(c) for c in chunks]
    assert max(sizes) == passages.ALIGN_CHUNK
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-2] == passages.ALIGN_MIN_CHUNK  # the workers' last chunks are small
    assert passages._chunks([], workers=2) == []


def test_a_scan_lets_the_shingles_go_once_the_candidates_are_found(tmp_path: Path) -> None:
    from twicetold.config import NearConfig, ScanConfig
    from twicetold.plan import run_stages

    path = tmp_path / "corpus.jsonl"
    write_corpus(CorpusSpec(n_docs=200, seed=5, mean_chars=1500, partial_rate=0.2), path)
    kept: dict[tuple[bool, bool], int] = {}
    pairs: dict[tuple[bool, bool], list[tuple[str, str, float | None]]] = {}
    for keep in (True, False):
        for exact in (True, False):
            with run_stages([path], ScanConfig(near=NearConfig(exact_jaccard=exact)), keep_shingles=keep) as st:
                kept[keep, exact] = len(st.features.shingles)
                pairs[keep, exact] = [(p.a, p.b, p.jaccard_exact) for p in st.passages.pairs]
    # Let go only when nothing after the candidates needs them (--exact-jaccard does).
    assert kept[False, False] == 0 and kept[True, False] == kept[True, True] == kept[False, True] > 0
    assert pairs[False, False] == pairs[True, False] and pairs[False, True] == pairs[True, True]
    assert pairs[True, False] and all(j is not None for _, _, j in pairs[True, True])
