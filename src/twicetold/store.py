"""Temporary storage on disk, so that memory does not grow with the corpus: an append-only
text store (texts are re-read only for the pairs that need alignment), and ``Spill``, which
moves the documents' shingles to temporary files beyond a memory budget.

Texts of plain (uncompressed) JSON Lines files are not copied at all: the store keeps where
each document's line lies in its file and decodes that line again when the text is asked
for. Everything else (compressed files, folders, CSV, Parquet) is copied into a temporary
file, since those cannot be re-read cheaply by position. The input files must not change
while the scan runs.
"""

from __future__ import annotations

import bisect
import json
import mmap
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa

from .errors import OutputError
from .model import string_buffers


@contextmanager
def _disk_space(what: str, directory: str | None, hint: str = "free space there, or choose another {temp_dir}"
                ) -> Iterator[None]:
    """A temporary file that cannot be written (a full disk, a folder without permission) as
    a clear error instead of a traceback."""
    try:
        yield
    except OSError as e:
        raise OutputError(f"cannot write {what} to {directory or tempfile.gettempdir()}: {e.strerror or e}",
                          hint) from e


@dataclass(frozen=True)
class _Segment:
    """Documents ``first..first + len(bounds) - 2``: document ``first + k`` is the bytes
    ``bounds[k]:bounds[k + 1]`` of ``fd``, UTF-8 text (``key`` None) or a JSON line whose
    ``key`` field is the text."""

    first: int
    bounds: npt.NDArray[np.int64]
    fd: int
    key: str | None


class TextStore:
    """Texts by position of insertion.

    >>> with TextStore() as store:
    ...     store.add("first"), store.add("deuxième")
    ...     store.get(1)
    (0, 1)
    'deuxième'
    """

    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory
        with _disk_space("the temporary text store", directory):
            # A file without a name where the platform allows (read and written through its
            # descriptor only, which the forked alignment workers inherit): nothing is left
            # behind even by kill -9.
            self._file = tempfile.TemporaryFile(prefix="twicetold-texts-", suffix=".bin", dir=directory)  # noqa: SIM115
        self._fd = self._file.fileno()
        self._size = 0  # bytes written to the temporary file
        self._segments: list[_Segment] = []
        self._firsts: list[int] = []
        self._inputs: dict[str, int] = {}  # input files read in place, and their descriptors
        self._count = 0

    def _append(self, bounds: npt.NDArray[np.int64], fd: int, key: str | None) -> None:
        self._segments.append(_Segment(self._count, bounds, fd, key))
        self._firsts.append(self._count)
        self._count += len(bounds) - 1

    def add(self, text: str) -> int:
        data = text.encode("utf-8", "surrogatepass")
        self._write(data)
        self._append(np.array([self._size, self._size + len(data)], dtype=np.int64), self._fd, None)
        self._size += len(data)
        return self._count - 1

    def add_utf8(self, texts: pa.LargeStringArray) -> None:
        """Append an Arrow string column's texts, writing its UTF-8 buffer as it is."""
        if len(texts) == 0:
            return
        data, offsets = string_buffers(texts)
        self._write(data[offsets[0] : offsets[-1]].data)
        self._append(offsets - offsets[0] + self._size, self._fd, None)
        self._size += int(offsets[-1] - offsets[0])

    def add_lines(self, path: str, bounds: npt.NDArray[np.int64], key: str) -> None:
        """Append documents that are JSON lines of ``path`` (line ``k`` is the bytes
        ``bounds[k]:bounds[k + 1]``), their text the ``key`` field: nothing is copied."""
        if path not in self._inputs:
            self._inputs[path] = os.open(path, os.O_RDONLY)
        self._append(np.asarray(bounds, dtype=np.int64), self._inputs[path], key)

    def _write(self, data: bytes | memoryview) -> None:
        with _disk_space("the temporary text store", self.directory):
            self._file.write(data)

    def flush(self) -> None:
        """Write buffered texts to the file (before other processes read it)."""
        with _disk_space("the temporary text store", self.directory):
            self._file.flush()

    def get(self, index: int) -> str:
        if not 0 <= index < self._count:
            raise IndexError(index)
        segment = self._segments[bisect.bisect_right(self._firsts, index) - 1]
        k = index - segment.first
        start, end = int(segment.bounds[k]), int(segment.bounds[k + 1])
        if segment.fd == self._fd:
            self.flush()
        data = os.pread(segment.fd, end - start, start)
        if segment.key is not None:
            try:
                row = orjson.loads(data)
            except orjson.JSONDecodeError:  # integers beyond 64 bits in other fields
                row = json.loads(data)
            text: str = row[segment.key]
            return text
        return data.decode("utf-8", "surrogatepass")

    def __len__(self) -> int:
        return self._count

    def sizes(self) -> npt.NDArray[np.int64]:
        """Each document's size in the store, in bytes: at least the size of its text in UTF-8
        (a JSON line holds its text, escapes no shorter than what they stand for)."""
        parts = [np.diff(segment.bounds) for segment in self._segments]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def close(self) -> None:
        for fd in self._inputs.values():
            os.close(fd)
        self._inputs.clear()
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> TextStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class Spill:
    """Large arrays (the batches' shingles) kept in memory up to ``budget`` bytes in all, and
    past it in temporary files (in ``directory``) mapped back into memory: the kernels read
    them as ordinary arrays, and the operating system pages them in as they are read and can
    drop them again when memory is short, instead of the process running out of it. What is
    left of the budget (``room``) sizes the candidate search's postings buffer.

    The files are unlinked as soon as they are mapped, so nothing is left behind, even by
    a crash. The budget is spent, never given back: the arrays it decides on live through
    the pairing stages.

    >>> spill = Spill(budget=16)
    >>> kept = spill.keep(np.arange(2, dtype=np.uint64))  # 16 bytes: in memory
    >>> moved = spill.keep(np.arange(3, dtype=np.uint64))  # past the budget: on disk
    >>> moved.tolist(), spill.in_memory, spill.spilled
    ([0, 1, 2], 16, 24)
    """

    def __init__(self, budget: int, directory: str | None = None) -> None:
        self.budget = budget
        self.directory = directory
        self.in_memory = 0  # bytes
        self.spilled = 0

    def _fits(self, nbytes: int) -> bool:
        if nbytes == 0 or self.in_memory + nbytes <= self.budget:
            self.in_memory += nbytes
            return True
        self.spilled += nbytes
        return False

    def keep(self, array: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """``array`` itself while the budget allows, else the same values mapped from a file."""
        if self._fits(array.nbytes):
            return array
        data = np.ascontiguousarray(array)
        with _disk_space(f"{data.nbytes:,} bytes of spilled shingles", self.directory,
                         "free space there, choose another {temp_dir}, or raise {memory_budget}"):
            fd, path = tempfile.mkstemp(prefix="twicetold-spill-", suffix=".bin", dir=self.directory)
            try:
                view = data.data.cast("B")
                done = 0
                while done < len(view):
                    done += os.write(fd, view[done:])
                # A private mapping: writable, so the kernels see plain arrays (no new compile).
                mapped = mmap.mmap(fd, data.nbytes, access=mmap.ACCESS_COPY)
            finally:
                os.close(fd)
                os.unlink(path)  # the mapping keeps the data; nothing is left behind, even by a crash
        return np.frombuffer(mapped, dtype=data.dtype).reshape(data.shape)

    def room(self) -> int:
        """Bytes left in the budget."""
        return max(self.budget - self.in_memory, 0)
