"""Plain data passed between the stages, and what a scan gives back (``ScanResult``).

Offsets everywhere are Python string indices (code points) into ``Document.text``,
half-open ``[start, end)``: ``text[start:end]`` is the span (see the README's offsets contract).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

import numpy as np
import numpy.typing as npt
import pyarrow as pa

Progress = Callable[[str, int, int | None], None]
"""Called as ``progress(stage, done, total)``; ``total`` is None while it is unknown."""


def sort_key_date(value: str | None) -> str | None:
    """A date as a sortable UTC ISO string, or None when it is missing or unreadable."""
    if not value:
        return None
    try:
        d = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if d.tzinfo is not None:
        d = d.astimezone(dt.UTC).replace(tzinfo=None)
    return d.isoformat()


def jsonable(value: Any) -> Any:
    """A value as JSON-compatible data: dates as ISO text, decimals as text, bytes as base64,
    containers recursively, anything else as its string."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


@dataclass(slots=True)
class Document:
    """One document as read: its id, its text exactly as decoded, and what came with it.

    ``meta`` holds every other input column (url, title, ...), carried through to the outputs.
    ``origin`` says where the document came from (``path`` or ``path:line``) for messages.
    """

    id: str
    text: str
    source: str | None = None
    date: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    encoding: str = "utf-8"
    warnings: list[str] = field(default_factory=list)
    origin: str = ""


@dataclass(slots=True, frozen=True)
class InputProblem:
    """Something wrong with the input that did not stop the run, reported and recorded.

    ``kind`` is one of: ``empty``, ``binary``, ``not_text``, ``malformed_row``,
    ``missing_text``, ``encoding_fallback``, ``too_long``, ``bad_date``, ``unreadable``.
    ``action`` says what was done: ``kept`` (the document is in the outputs, flagged),
    ``skipped`` (no document was made; the row or file is named here) or ``truncated``.
    """

    where: str
    kind: str
    message: str
    action: str


@dataclass(slots=True, frozen=True)
class Passage:
    """A reused passage of a pair: ``a_text[a_start:a_end]`` was reused as ``b_text[b_start:b_end]``.

    ``length`` is the passage's length in characters (the longer of the two sides);
    ``score`` in [0, 1] is the share of the two spans' words that align (1.0: verbatim).
    ``cluster`` is its passage cluster across the corpus, ``quoted`` says it lies inside
    quotation marks in both documents (a shared quote, not copied reporting), and
    ``boilerplate`` (0 to 1) how much it recurs as a template (see ``cluster.boilerplate``).
    ``evidence`` is what it was kept on: its aligned characters weighted by how rare its
    shared shingles are in the corpus (``align.evidence``); None where nothing measured it.
    """

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    length: int
    score: float
    cluster: int | None = None
    quoted: bool = False
    boilerplate: float = 0.0
    evidence: float | None = None


@dataclass(slots=True)
class Pair:
    """Two documents that share text. ``a`` is the earlier by date, else the smaller id.

    ``kind`` is the strongest relation that holds: ``exact`` > ``near`` > ``partial``.
    ``jaccard`` is the MinHash estimate over word shingles; ``jaccard_exact`` is filled on request.
    ``direction`` is ``a->b`` when ``a`` is dated earlier, else ``unknown``; ``same_source`` says
    whether both come from one source (None when a source is missing). ``coverage_a`` and
    ``coverage_b`` are the shares of ``a``'s and ``b``'s characters inside the pair's passages:
    how much of each document is derived from the other (a story rewritten from agency copy,
    where scattered phrases survive, ranks by them).
    """

    a: str
    b: str
    kind: str
    jaccard: float
    passages: list[Passage]
    jaccard_exact: float | None = None
    direction: str = "unknown"
    same_source: bool | None = None
    coverage_a: float = 0.0
    coverage_b: float = 0.0


@dataclass(slots=True)
class Cluster:
    """Near-duplicate documents (exact copies included) with one canonical member.

    ``min_jaccard`` is the lowest estimated similarity of a member to the canonical member.
    """

    id: int
    canonical: str
    members: list[str]
    kind: str
    min_jaccard: float


@dataclass(slots=True, frozen=True)
class Occurrence:
    """One place a reused passage occurs: ``text[start:end]`` of ``document``."""

    cluster: int
    document: str
    start: int
    end: int
    text: str
    source: str | None
    date: str | None
    origin: bool
    quoted: bool
    boilerplate: float


@dataclass(slots=True, frozen=True)
class PassageCluster:
    """The same passage across the corpus: its occurrences' count, documents, distinct sources,
    time span, the likely origin (the earliest dated occurrence, None on a tie or without
    dates), its boilerplate score and a representative text."""

    id: int
    size: int
    documents: int
    sources: int
    first_date: str | None
    last_date: str | None
    origin: str | None
    boilerplate: float
    text: str


@dataclass
class DocumentRecord:
    """What the outputs say about one document (its text stays in the input)."""

    id: str
    source: str | None
    date: str | None
    length: int
    encoding: str
    warnings: list[str]
    meta: dict[str, Any]
    origin: str
    cluster: int | None = None


@dataclass
class ScanResult:
    """Everything a scan found: documents, pairs, clusters, and the run record (``run.json``)."""

    documents: list[DocumentRecord]
    pairs: list[Pair]
    clusters: list[Cluster]
    problems: list[InputProblem]
    run: dict[str, Any] = field(default_factory=dict)
    # Passage occurrences and clusters: ``model.TableRows`` after a scan (columns, made
    # objects when read), or any list of them.
    occurrences: Sequence[Occurrence] = field(default_factory=list)
    passage_clusters: Sequence[PassageCluster] = field(default_factory=list)

    def pair_counts(self) -> dict[str, int]:
        from .pairs import KIND_RANK  # pairs builds on this module

        counts = Counter(p.kind for p in self.pairs)
        return {k: counts.get(k, 0) for k in KIND_RANK}


@dataclass
class DedupResult:
    """What ``dedup`` kept and removed: ``removed`` maps each removed id to the kept id."""

    kept: int
    removed: dict[str, str]
    scan: ScanResult


def string_buffers(array: pa.Array) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The UTF-8 data and the offsets (as 64-bit integers) of an Arrow string column, without
    copying the data: the compiled stages read texts straight from them."""
    n = len(array)
    _, offsets_buf, data_buf = array.buffers()
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(memoryview(offsets_buf), dtype=width)[array.offset : array.offset + n + 1] \
        if offsets_buf is not None else np.zeros(n + 1, dtype=width)
    data = np.frombuffer(memoryview(data_buf), dtype=np.uint8) if data_buf is not None else np.empty(0, np.uint8)
    return data, offsets.astype(np.int64, copy=False)


T = TypeVar("T")


class TableRows(Sequence[T]):
    """The rows of an Arrow table as objects (``make(*row)``), made on first use: results
    that run to many rows and much text (passage occurrences) stay columns, which the
    results writers take as they are, and become objects only for a caller that asks."""

    def __init__(self, table: pa.Table, make: Callable[..., T]) -> None:
        self.table = table
        self._make = make
        self._rows: list[T] | None = None

    def _objects(self) -> list[T]:
        if self._rows is None:
            columns = [column.to_pylist() for column in self.table.columns]
            self._rows = [self._make(*row) for row in zip(*columns, strict=True)]
        return self._rows

    def __len__(self) -> int:
        return self.table.num_rows

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self._objects()[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self._objects())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TableRows | list | tuple) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TableRows({self._objects()!r})"
