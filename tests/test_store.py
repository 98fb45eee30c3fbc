"""Temporary storage: spilled arrays hold the same values as in memory and leave no file behind."""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np

from twicetold import _kernels
from twicetold.store import Spill


def _buffer_of(array: np.ndarray[Any, Any]) -> object:
    base: object = array
    while isinstance(base, np.ndarray | memoryview):
        base = base.base if isinstance(base, np.ndarray) else base.obj
    return base


def test_arrays_past_the_budget_are_file_backed_equal_and_leave_no_file(tmp_path: Path) -> None:
    spill = Spill(budget=1000, directory=str(tmp_path))
    rng = np.random.default_rng(3)
    small = rng.integers(0, 2**63, 100, dtype=np.uint64)  # 800 bytes: kept as it is
    big = rng.integers(0, 2**63, 10_000, dtype=np.uint64)
    assert spill.keep(small) is small
    moved = spill.keep(big)
    assert isinstance(_buffer_of(moved), mmap.mmap) and isinstance(_buffer_of(spill.keep(small[:50])), mmap.mmap)
    assert np.array_equal(moved, big) and moved.flags.writeable
    assert (spill.in_memory, spill.spilled, spill.room()) == (800, 80_000 + 400, 200)
    assert spill.keep(np.empty(0, np.uint64)).size == 0
    # The kernels take file-backed arrays as they take any other (same type, no new compile).
    assert _kernels.exact_jaccard(np.sort(moved), np.sort(big)) == 1.0
    assert os.listdir(tmp_path) == []
