"""The executor seam: the plan runs the same stages on any ``Executor``, with the same results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TypeVar

import pytest

import twicetold
from twicetold.config import ScanConfig
from twicetold.executor import Executor, LocalExecutor, Storage
from twicetold.model import Progress
from twicetold.testing.synthetic import CorpusSpec, write_corpus

C = TypeVar("C")
J = TypeVar("J")
R = TypeVar("R")


class BackwardsExecutor:
    """A second executor: it runs the chunks of work last first (as a cluster may finish them
    in any order) and counts what the plan asked of it; storage is this machine's."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.local = LocalExecutor(workers, memory_budget=1 << 30)
        self.calls: Counter[str] = Counter()

    def session(self) -> AbstractContextManager[Storage]:
        self.calls["session"] += 1
        return self.local.session()

    def warm_up(self, exercises: list[str], report: Progress) -> None:
        self.calls["warm_up"] += 1
        self.local.warm_up(exercises, report)

    def map_chunks(self, work: Callable[[C, J], R], shared: C, chunks: Sequence[J], storage: Storage,
                   *, parallel: bool) -> Iterator[R]:
        self.calls["chunks"] += len(chunks)
        done = [work(shared, chunk) for chunk in reversed(chunks)]
        yield from reversed(done)

    def release_memory(self) -> None:
        self.calls["release_memory"] += 1


def tables(result: twicetold.ScanResult) -> tuple[object, ...]:
    return (result.pairs, result.clusters, list(result.occurrences), list(result.passage_clusters),
            result.run["counts"])


@pytest.mark.parametrize("workers", [1, 3])
def test_another_executor_gives_the_same_results(tmp_path: Path, workers: int) -> None:
    path = tmp_path / "corpus.jsonl"
    write_corpus(CorpusSpec(n_docs=400, seed=2, mean_chars=1500), path)
    cfg = ScanConfig(workers=workers)
    backwards = BackwardsExecutor(workers)
    assert isinstance(backwards, Executor)  # the protocol is all the plan needs
    theirs = twicetold.scan([path], cfg, executor=backwards)
    ours = twicetold.scan([path], cfg)
    assert tables(theirs) == tables(ours) and ours.pairs
    assert backwards.calls["session"] == 1 and backwards.calls["chunks"] >= 1
    assert backwards.calls["release_memory"] == 1  # the shingles were let go before alignment


def test_local_map_chunks_keeps_the_order_on_forked_workers(tmp_path: Path) -> None:
    local = LocalExecutor(workers=2, memory_budget=1 << 20, temp_dir=str(tmp_path))
    with local.session() as storage:
        got = list(local.map_chunks(lambda base, chunk: [base + x for x in chunk], 100,
                                    [list(range(k, k + 3)) for k in range(0, 30, 3)], storage, parallel=True))
    assert got == [[100 + x for x in range(k, k + 3)] for k in range(0, 30, 3)]
    assert list(tmp_path.iterdir()) == []  # nothing left behind
