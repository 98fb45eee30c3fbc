"""A temporary, append-only text store: texts are re-read only for the pairs that need
alignment, so memory does not hold the corpus (compressed files and standard input cannot
be re-read cheaply, so the store keeps its own copy)."""

from __future__ import annotations

import os
import tempfile
from types import TracebackType

import numpy as np
import pyarrow as pa


class TextStore:
    """Texts kept in a temporary file, by position of insertion.

    >>> with TextStore() as store:
    ...     store.add("first"), store.add("deuxième")
    ...     store.get(1)
    (0, 1)
    'deuxième'
    """

    def __init__(self, directory: str | None = None) -> None:
        fd, self.path = tempfile.mkstemp(prefix="twicetold-texts-", suffix=".bin", dir=directory)
        self._file = os.fdopen(fd, "w+b")
        self._offsets: list[int] = [0]
        self._fd = self._file.fileno()

    def add(self, text: str) -> int:
        data = text.encode("utf-8", "surrogatepass")
        self._file.write(data)
        self._offsets.append(self._offsets[-1] + len(data))
        return len(self._offsets) - 2

    def add_utf8(self, texts: pa.LargeStringArray) -> None:
        """Append an Arrow string column's texts, writing its UTF-8 buffer as it is."""
        _, offsets_buf, data_buf = texts.buffers()
        offsets = np.frombuffer(memoryview(offsets_buf), dtype=np.int64)[texts.offset : texts.offset + len(texts) + 1]
        if len(texts) == 0:
            return
        if data_buf is not None:
            self._file.write(memoryview(data_buf)[offsets[0] : offsets[-1]])
        self._offsets.extend((offsets[1:] - offsets[0] + self._offsets[-1]).tolist())

    def flush(self) -> None:
        """Write buffered texts to the file (before other processes read it)."""
        self._file.flush()

    def get(self, index: int) -> str:
        self._file.flush()
        start, end = self._offsets[index], self._offsets[index + 1]
        return os.pread(self._fd, end - start, start).decode("utf-8", "surrogatepass")

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def __enter__(self) -> TextStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
