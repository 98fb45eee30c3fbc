"""Temporary storage: spilled arrays hold the same values as in memory and leave no file behind."""

from __future__ import annotations

import errno
import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twicetold import _kernels
from twicetold.errors import OutputError
from twicetold.store import Spill, TextStore


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


def test_a_full_disk_is_a_clear_error_and_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OutputError) as caught:
        Spill(budget=0, directory=str(tmp_path)).keep(np.arange(10, dtype=np.uint64))
    assert "cannot write 80 bytes of spilled shingles to" in caught.value.message
    assert "No space left on device" in caught.value.message and "--temp-dir" in (caught.value.cli_hint() or "")
    assert "temp_dir=" in (caught.value.hint or "")  # a library caller is told its own setting
    assert caught.value.exit_code == 4
    assert os.listdir(tmp_path) == []


def test_a_text_store_on_a_full_disk_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with TextStore(str(tmp_path)) as store:
        store.add("kept before the disk filled up")

        def full(*args: object) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(store._file, "write", full)
        with pytest.raises(OutputError, match=r"cannot write the temporary text store to .*No space left"):
            store.add("x" * 100)
        monkeypatch.undo()
        assert store.get(0) == "kept before the disk filled up"
    assert os.listdir(tmp_path) == []


def test_the_text_store_has_no_name_to_leave_behind(tmp_path: Path) -> None:
    """Nothing of the store is in its folder even while it is open, so kill -9 leaves nothing."""
    with TextStore(str(tmp_path)) as store:
        store.add("a text")
        store.flush()
        assert os.listdir(tmp_path) == [] and store.get(0) == "a text"
