"""How a scan's stages run: what the plan (``plan.find_reuse``) asks of the machine it runs on.

The plan says *what* is computed, stage after stage, over plain data; an executor says *how*:
where texts are kept while a scan runs, where arrays go past the memory budget, how many
threads the compiled kernels use, and on which processes chunks of work run. One
implementation today, :class:`LocalExecutor`, on this machine's cores; a distributed one adds
itself by implementing :class:`Executor`, not by editing the plan.

Whatever runs them, chunks of work come back in the order they were given, so any number
of workers gives the same results as one.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from . import _kernels, _warmup
from .model import Progress
from .outputs import gc_paused
from .store import Spill, TextStore

C = TypeVar("C")  # what every chunk of work shares (settings, buffers)
J = TypeVar("J")  # one chunk of work
R = TypeVar("R")  # its result


@dataclass(frozen=True)
class Storage:
    """Where a running scan keeps things: the documents' texts (``store``, read back to align
    passages) and arrays past the memory budget (``spill``)."""

    store: TextStore
    spill: Spill


@runtime_checkable
class Executor(Protocol):
    """What the plan needs from the machine(s) a scan runs on."""

    workers: int

    def session(self) -> AbstractContextManager[Storage]:
        """The scan's storage, open while the scan runs; everything in it is gone after."""
        ...

    def warm_up(self, exercises: list[str], report: Progress) -> None:
        """Compile the kernels of ``exercises`` (``_warmup.needed``) where the work will run."""
        ...

    def map_chunks(self, work: Callable[[C, J], R], shared: C, chunks: Sequence[J], storage: Storage,
                   *, parallel: bool) -> Iterator[R]:
        """``work(shared, chunk)`` for every chunk, results in the order of ``chunks``; spread
        over the workers when ``parallel`` (else wherever is cheapest)."""
        ...

    def release_memory(self) -> None:
        """Give memory freed by the plan back to the operating system."""
        ...


# The chunked work of a ``LocalExecutor.map_chunks`` call, set before its processes are forked
# (they inherit it: nothing is pickled but the chunks and their results).
_work: tuple[Callable[[Any, Any], Any], Any] | None = None


def _run_chunk(chunk: Any) -> Any:
    assert _work is not None
    work, shared = _work
    return work(shared, chunk)


class LocalExecutor:
    """This machine: ``workers`` cores for the kernels' threads and a pool of forked processes
    for chunked Python work (alignment's glue holds the GIL), texts in a file without a name,
    arrays spilled to ``temp_dir`` past ``memory_budget`` bytes, the garbage collector paused
    while the scan holds its millions of objects."""

    def __init__(self, workers: int, memory_budget: int, temp_dir: str | None = None) -> None:
        self.workers = workers
        self.memory_budget = memory_budget
        self.temp_dir = temp_dir

    @contextmanager
    def session(self) -> Iterator[Storage]:
        spill = Spill(self.memory_budget, self.temp_dir)
        with gc_paused(), _kernels.threads(self.workers), TextStore(self.temp_dir) as store:
            yield Storage(store, spill)

    def warm_up(self, exercises: list[str], report: Progress) -> None:
        _warmup.warm_up(exercises, self.workers, report)

    def map_chunks(self, work: Callable[[C, J], R], shared: C, chunks: Sequence[J], storage: Storage,
                   *, parallel: bool) -> Iterator[R]:
        global _work
        _work = (work, shared)
        try:
            if parallel and self.workers > 1 and "fork" in mp.get_all_start_methods():
                storage.store.flush()  # the forked workers read texts from the store's file
                with mp.get_context("fork").Pool(self.workers, initializer=_warmup.worker_signals) as pool:
                    yield from pool.imap(_run_chunk, chunks)
            else:
                for chunk in chunks:
                    yield work(shared, chunk)
        finally:
            _work = None

    def release_memory(self) -> None:
        # Memory freed by the reader threads stays in their malloc arenas for reuse: without
        # this, letting the shingles go would not shrink the process (glibc only; elsewhere a no-op).
        with suppress(OSError, AttributeError, TypeError):  # no C library by that name, or no malloc_trim
            ctypes.CDLL(None).malloc_trim(0)
