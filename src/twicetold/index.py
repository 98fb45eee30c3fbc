"""A persistent on-disk index: add documents incrementally, then ask where a new text was
copied from, in milliseconds.

The index is one SQLite file (standard library) in WAL mode: any number of processes and
threads read it while one process writes, and every ``add`` or ``remove`` is a single
transaction, so a process killed in the middle leaves the index as it was before or with the
whole batch, never half of it.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "news.twicetold")
>>> wire = ("Dockworkers at the port of Arden walked out on Monday, halting container traffic "
...         "for the first time in a decade, union officials said.")
>>> with Index.create(path) as index:
...     _ = index.add_documents([Document("wire-1", "Ships waited offshore as the harbour master "
...                                                    "closed the northern channel overnight. " + wire)])
...     [(p.a, p.b, p.kind, len(p.passages)) for p in index.query("In brief: " + wire)]
[('query', 'wire-1', 'partial', 1)]

What a query reports is what ``scan`` would report for the query text against the indexed
documents (see :meth:`Index.query`).

**Frozen at add time** (computed once per document with the index's configuration, never
rewritten by later adds): each document's text and metadata, its distinct word shingles (the
``postings`` rows), content hash, MinHash signature and LSH band keys. The configuration
itself (shingle size, MinHash size and seed, threshold and bands, passage parameters) is
frozen when the index is created and stored in it, so the index describes itself. Counters
of documents (in all and per source) are updated in the same transaction as every add and
remove.

**Recomputed at query time**: the document frequencies of the query's shingles (counted from
the postings, so they are those of the documents indexed now, as of the last ``add`` or
``remove``, plus one for the query itself, as a scan over the indexed documents and the query
would count them), candidate documents, Jaccard estimates, passage alignments, and the
passage annotations (shared quotation, boilerplate score against the documents per source
indexed now). Nothing is precomputed across documents (no clusters, no frequency table),
which is why adding a day of news never rewrites what is already there.

Schema (migrations ``m001_initial`` and ``m002_source_counts``):

- ``meta(key, value)``: ``schema_version``, ``config`` (JSON), ``created_at``, ``created_by``,
  and counters kept in step with every write (``documents``, ``postings``, ``bands``).
- ``batches(id, added_at, n_docs, inputs, twicetold_version)``: one row per ``add``.
- ``documents(doc, id UNIQUE, source, date, date_key, length, encoding, warnings, origin,
  meta, n_tokens, n_shingles, content_hash, signature, batch)``; ``date_key`` is the date as
  a sortable UTC string (which document is ``a`` of a pair), ``signature`` the MinHash as
  little-endian uint32 bytes.
- ``texts(doc, text)``: the text as read, kept so passages can be aligned and shown (a BLOB of
  UTF-8 with surrogates passed through for the rare text Python holds with lone surrogates).
- ``bands(band, key, doc)`` WITHOUT ROWID: LSH band keys of documents with words.
- ``postings(shingle, doc)`` WITHOUT ROWID: every distinct word shingle of every document.
- ``sources(source, documents)``: documents per source (``''`` for none).
- ``_twicetold_migrations(name, applied_at)``: the migrations applied, in order.

Hashes are unsigned 64-bit values stored as SQLite's signed 64-bit integers (the same bits).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _kernels, readers
from .align import AlignedText, align
from .atomic import TMP_MARK, output_error, remove_stale
from .candidates import COUNTED_MIN_DF, ShingleCounts
from .cluster import CorpusInfo, passage_clusters
from .config import NearConfig, PassageConfig, ReadConfig, ScanConfig, SketchConfig
from .errors import IndexBusyError, IndexDamagedError, IndexSchemaError, InputError, OutputError, TwicetoldError
from .lsh import bands_for
from .model import Document, InputProblem, Pair, Passage, Progress, sort_key_date
from .normalize import dense_counts, tokenize
from .pairs import KIND_RANK, first_is_a, pair_kind
from .sketch import Features, content_hash, featurize, shingle_set

APPLICATION_ID = 0x54775454  # "TwTT" in the SQLite header: tells a twicetold index from other databases
DEFAULT_TIMEOUT = 30.0
CHUNK_DOCS = 2000  # documents sketched and written per step inside one add transaction
CHUNK_CHARS = 16_000_000
MAX_SQL_VALUES = 30_000  # values per statement, well below SQLite's limits
WRITER_CACHE_KIB = 1 << 20  # 1 GiB page cache for the connection that writes
MMAP_BYTES = 0x7FFF0000  # SQLite's default ceiling for memory-mapped I/O


class _IndexExists(OutputError):
    """A new index's path is taken (by another process, meanwhile): not a failure to write."""


# ---------------------------------------------------------------- migrations

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(name: str) -> Callable[[Migration], Migration]:
    """Register a named schema migration. Migrations run in registration order, each in its
    own transaction together with the row recording it, so an index is never half-migrated
    (SQLite's schema changes are transactional)."""

    def register(fn: Migration) -> Migration:
        if any(n == name for n, _ in MIGRATIONS):
            raise ValueError(f"migration {name!r} is registered twice")
        MIGRATIONS.append((name, fn))
        return fn

    return register


@migration("m001_initial")
def _m001_initial(conn: sqlite3.Connection) -> None:
    for statement in [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE batches (
            id INTEGER PRIMARY KEY, added_at TEXT NOT NULL, n_docs INTEGER NOT NULL,
            inputs TEXT NOT NULL, twicetold_version TEXT NOT NULL)""",
        """CREATE TABLE documents (
            doc INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source TEXT, date TEXT, date_key TEXT,
            length INTEGER NOT NULL, encoding TEXT NOT NULL, warnings TEXT NOT NULL, origin TEXT NOT NULL,
            meta TEXT NOT NULL, n_tokens INTEGER NOT NULL, n_shingles INTEGER NOT NULL,
            content_hash BLOB NOT NULL, signature BLOB NOT NULL, batch INTEGER NOT NULL REFERENCES batches(id))""",
        # Partial index: documents without words never match, whatever their (equal) hash.
        "CREATE INDEX documents_by_content ON documents(content_hash) WHERE n_tokens > 0",
        "CREATE INDEX documents_by_batch ON documents(batch)",
        "CREATE TABLE texts (doc INTEGER PRIMARY KEY, text NOT NULL)",
        """CREATE TABLE bands (band INTEGER NOT NULL, key INTEGER NOT NULL, doc INTEGER NOT NULL,
            PRIMARY KEY (band, key, doc)) WITHOUT ROWID""",
        """CREATE TABLE postings (shingle INTEGER NOT NULL, doc INTEGER NOT NULL,
            PRIMARY KEY (shingle, doc)) WITHOUT ROWID""",
    ]:
        conn.execute(statement)


@migration("m002_source_counts")
def _m002_source_counts(conn: sqlite3.Connection) -> None:
    # Documents per source and in all, kept in step with every add and remove, so a query can
    # score boilerplate (text recurring across one source's documents) without a count over
    # the whole table. A missing source counts under ''.
    conn.execute("CREATE TABLE sources (source TEXT PRIMARY KEY, documents INTEGER NOT NULL)")
    conn.execute("INSERT INTO sources(source, documents) "
                 "SELECT coalesce(source, ''), count(*) FROM documents GROUP BY 1")
    conn.execute("INSERT INTO meta(key, value) SELECT 'documents', count(*) FROM documents")


SCHEMA_VERSION = len(MIGRATIONS)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class AddResult:
    """What one ``add`` did: its batch number, the documents added, input problems, seconds,
    and whether it created the index."""

    batch: int
    added: int
    problems: list[InputProblem]
    seconds: float
    created: bool = False  # this add created the index (see Index.add_or_create)


@dataclass(frozen=True)
class IndexStats:
    """Figures of an index: counts, size on disk (database plus write-ahead log), config."""

    path: str
    schema_version: int
    documents: int
    batches: int
    postings: int
    bands: int
    size_bytes: int
    created_at: str
    last_added_at: str | None
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- helpers


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _version() -> str:
    from . import __version__  # late: the package imports this module while it initializes

    return __version__


def _i64(values: npt.NDArray[np.uint64]) -> list[int]:
    """uint64 hashes as the signed integers SQLite stores (same bits)."""
    return values.view(np.int64).tolist()


def _text_value(text: str) -> str | bytes:
    """A text as SQLite can hold it: TEXT, or UTF-8 bytes with lone surrogates passed through
    (JSON input can carry them; SQLite's TEXT cannot)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _text_of(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", "surrogatepass")


def _content_bytes(content: npt.NDArray[np.uint64]) -> bytes:
    return content.astype("<u8").tobytes()


def _config_to_dict(config: ScanConfig) -> dict[str, Any]:
    """The matching part of a configuration, with the LSH banding resolved, so a later version
    choosing bands differently cannot change what an existing index means."""
    bands, rows = bands_for(config.near, config.sketch.num_perm)
    near = replace(config.near, bands=bands, rows=rows)
    return {"sketch": asdict(config.sketch), "near": asdict(near), "passages": asdict(config.passages)}


def _config_from_dict(data: dict[str, Any], path: str) -> ScanConfig:
    """The stored configuration; a setting this version does not know would change what the
    index means, so it is an error rather than ignored (a setting added since takes its default)."""
    parts: dict[str, Any] = {}
    for name, cls in (("sketch", SketchConfig), ("near", NearConfig), ("passages", PassageConfig)):
        unknown = set(data[name]) - {f.name for f in fields(cls)}
        if unknown:
            raise IndexSchemaError(f"{path} was made with {name} settings this twicetold does not know: "
                                   f"{', '.join(sorted(unknown))}", "upgrade twicetold (pip install -U twicetold)")
        parts[name] = cls(**data[name])
    return ScanConfig(**parts)


def _distinct_postings(f: Features, docs: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64],
                                                                           npt.NDArray[np.int64]]:
    """The (shingle, document) postings of a batch, distinct and sorted by shingle, shingles as
    signed integers (a document's shingles may come in text order, repeats included)."""
    flat, offsets = f.shingles.joined()
    shingles = flat.view(np.int64)
    owners = np.repeat(docs, np.diff(offsets))
    order = np.lexsort((owners, shingles))
    shingles, owners = shingles[order], owners[order]
    keep = np.ones(len(shingles), dtype=bool)
    keep[1:] = (shingles[1:] != shingles[:-1]) | (owners[1:] != owners[:-1])
    return shingles[keep], owners[keep]


def _chunks(docs: Iterable[Document]) -> Iterator[list[Document]]:
    chunk: list[Document] = []
    chars = 0
    for doc in docs:
        chunk.append(doc)
        chars += len(doc.text)
        if len(chunk) >= CHUNK_DOCS or chars >= CHUNK_CHARS:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk


_DOCUMENT_COLUMNS = "d.id, t.text, d.source, d.date, d.meta, d.encoding, d.warnings, d.origin"


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    """SQLite found the file malformed (not busy, full or misused)."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_CORRUPT


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def _write_failure(shown: str, exc: sqlite3.Error, outcome: str) -> OutputError | None:
    """SQLite failing to write the index ``shown`` (a full disk, an I/O error, a read-only file
    or folder) as a clear error (exit status 4) whose hint ends with ``outcome``; None for any
    other error (busy, damaged, misuse)."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    message = str(exc).lower()
    if code == sqlite3.SQLITE_FULL or "disk is full" in message:
        hint = "free space on that disk, or write elsewhere"
    elif code == sqlite3.SQLITE_IOERR or "disk i/o error" in message:
        hint = "the disk may be full or failing: free space on it, or write elsewhere"
    elif code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN) or "readonly" in message \
            or "unable to open" in message:
        hint = "you may not write there: write elsewhere"
    else:
        return None
    return OutputError(f"cannot write {shown}: {exc}", f"{hint}; {outcome}")


@dataclass(frozen=True)
class _Query:
    aligned: AlignedText
    shingles: npt.NDArray[np.uint64]
    signature: npt.NDArray[np.uint32]
    id: str
    date: str | None
    date_key: str | None
    source: str | None


@dataclass
class _Candidate:
    doc: int
    id: str
    date_key: str | None
    n_tokens: int
    signature: npt.NDArray[np.uint32]
    text: str
    source: str | None
    date: str | None


# ---------------------------------------------------------------- the index


class Index:
    """A twicetold index on disk. Open an existing one with ``Index(path)`` or ``Index.open``,
    make a new one with ``Index.create(path, config)``.

    One ``Index`` may be shared by threads: each thread reads through its own SQLite
    connection, and writes from one process go through one connection, one at a time (as
    datasette's write thread does); writers in other processes wait up to ``timeout`` seconds
    for the write lock, then :class:`IndexBusyError` is raised.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        # What write failures name, and what they leave (a first add stages its index elsewhere).
        self._shown = self.path
        self._outcome = "the index is unchanged"
        if not os.path.exists(self.path):
            raise InputError(f"no index at {self.path}",
                             f"create one with: twicetold index add {self.path} INPUT...")
        if os.path.isdir(self.path):
            raise IndexSchemaError(f"{self.path} is a folder, not a twicetold index",
                                   "an index is one file; give its path")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()  # guards _connections
        self._write_lock = threading.Lock()  # one writer per process at a time
        self._writer: sqlite3.Connection | None = None
        self._closed = False
        try:
            with self._guard():
                self._check_and_migrate()
                meta = self._meta(self._reader())
            try:
                stored = json.loads(meta["config"])
            except (KeyError, ValueError) as exc:
                raise self._damaged(exc) from exc
            self.config: ScanConfig = _config_from_dict(stored, self.path)
        except BaseException:
            self.close()
            raise
        self.bands, self.rows = bands_for(self.config.near, self.config.sketch.num_perm)

    # ------------------------------------------------------------ opening and creating

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT) -> Index:
        """Open an existing index (its configuration is read from it)."""
        return cls(path, timeout=timeout)

    @classmethod
    def create(cls, path: str | os.PathLike[str], config: ScanConfig | None = None, *,
               timeout: float = DEFAULT_TIMEOUT) -> Index:
        """Create an empty index at ``path`` with ``config`` (defaults: ``ScanConfig()``).

        Its matching parameters (sketch, near-duplicate and passage settings) are stored in the
        index and used by every later add and query. The file is built under a temporary name
        and renamed into place, so a failure leaves no half-made index.
        """
        path = os.fspath(path)
        if os.path.exists(path):
            raise _IndexExists(f"{path} already exists", "open it with Index.open, or choose another path")
        tmp = _new_index_file(path, config or ScanConfig())
        try:
            _publish(tmp, path)
        finally:
            _remove_index_files(tmp)
        return cls(path, timeout=timeout)

    @classmethod
    def open_or_create(cls, path: str | os.PathLike[str], config: ScanConfig | None = None, *,
                       timeout: float = DEFAULT_TIMEOUT) -> Index:
        """Open the index at ``path``, or create it with ``config`` when there is none."""
        if os.path.exists(path):
            return cls(path, timeout=timeout)
        try:
            return cls.create(path, config, timeout=timeout)
        except _IndexExists:  # created by another process between the two checks
            return cls(path, timeout=timeout)

    @classmethod
    def add_or_create(cls, path: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]],
                      config: ScanConfig | None = None, read_config: ReadConfig | None = None, *,
                      timeout: float = DEFAULT_TIMEOUT, progress: Progress | None = None, workers: int = 0,
                      check: Callable[[ScanConfig], None] | None = None) -> tuple[Index, AddResult]:
        """Add ``inputs`` as one batch to the index at ``path``, creating it with ``config`` when
        there is none; returns the open index and what was done (``created``: this call made it).
        ``check`` sees an existing index's configuration before anything of it is added (to
        refuse options that differ).

        A new index is built with its first batch under a temporary name and put in place only
        once that batch is committed, so a first add that fails or is interrupted leaves no
        index, and no index ever has to be deleted: deleting one after a failed first add lost
        the batches other processes had committed to it meanwhile, and a WAL database cannot be
        deleted safely while another process may open it. If another process makes the index
        in the meantime, the batch goes into that one (as a later add would), read back from
        the temporary index, so standard input is not needed twice.
        """
        path = os.fspath(path)
        names = [os.fspath(p) for p in inputs]
        if os.path.exists(path):
            return cls._add_to(path, timeout, check, lambda index: index.add(
                names, read_config, progress=progress, workers=workers))
        tmp = _new_index_file(path, config or ScanConfig())
        try:
            with cls(tmp, timeout=timeout) as staged:
                staged._shown, staged._outcome = path, "no index was made"
                result = staged.add(names, read_config, progress=progress, workers=workers)
            # Closed: the log is checkpointed into the file and removed, so the file is the whole index.
            if os.path.exists(tmp + "-wal"):
                raise OutputError(f"the new index {path} could not be completed: its write-ahead log remains",
                                  "try again; nothing was added")
            try:
                _publish(tmp, path)
            except _IndexExists:  # another process created the index while this batch was read
                pass
            else:
                _remove_index_files(tmp)  # before opening it: SQLite warns of a database with two names
                return cls(path, timeout=timeout), replace(result, created=True)
            with cls(tmp, timeout=timeout) as staged:
                return cls._add_to(path, timeout, check, lambda index: index.add_documents(
                    staged._documents(), inputs=names, progress=progress, problems=result.problems,
                    workers=workers))
        finally:
            _remove_index_files(tmp)

    @classmethod
    def _add_to(cls, path: str, timeout: float, check: Callable[[ScanConfig], None] | None,
                add: Callable[[Index], AddResult]) -> tuple[Index, AddResult]:
        index = cls(path, timeout=timeout)
        try:
            if check is not None:
                check(index.config)
            return index, add(index)
        except BaseException:
            index.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise TwicetoldError(f"index {self.path} is closed")
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=self.timeout, check_same_thread=False)
        try:
            # FULL: a commit that returned is on disk, even across a power cut (one sync per batch).
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA cache_size = -65536")
            # Reads straight from the OS page cache: about halves the time of a query's B-tree probes.
            conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        except sqlite3.DatabaseError as exc:  # "file is not a database" shows at the first statement
            conn.close()
            raise self._unreadable(exc) from exc
        with self._lock:
            self._connections.append(conn)
        return conn

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection (SQLite connections must not be shared by threads
        running at the same time)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _check_and_migrate(self) -> None:
        conn = self._reader()
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise self._unreadable(exc) from exc
        if app_id != APPLICATION_ID or "_twicetold_migrations" not in tables:
            raise IndexSchemaError(f"{self.path} is not a twicetold index",
                                   "give the path of a file made by `twicetold index add`")
        applied = [r[0] for r in conn.execute("SELECT name FROM _twicetold_migrations ORDER BY rowid")]
        known = [name for name, _ in MIGRATIONS]
        version = int(self._meta(conn).get("schema_version", len(applied)))
        if version > SCHEMA_VERSION or any(name not in known for name in applied):
            raise IndexSchemaError(
                f"{self.path} has index schema version {version}; twicetold {_version()} reads "
                f"version {SCHEMA_VERSION} and older",
                "upgrade twicetold (pip install -U twicetold), or rebuild the index with this version")
        if len(applied) < len(known):
            with self._write_lock:
                _apply_migrations(self._write_conn(), set(applied))

    def _write_conn(self) -> sqlite3.Connection:
        if self._writer is None:
            self._writer = self._connect()
            # New postings land all over the shingle-ordered B-tree: a cache that holds the pages
            # a batch touches writes each of them once, at commit, instead of spilling it again
            # and again (memory is taken only as pages are used).
            self._writer.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        return self._writer

    def _unreadable(self, exc: sqlite3.DatabaseError) -> TwicetoldError:
        """What opening a file SQLite cannot read means: a damaged index, or no index at all."""
        if _is_damage(exc):
            return self._damaged(exc)
        return IndexSchemaError(f"{self.path} is not a twicetold index ({exc})",
                                "give the path of a file made by `twicetold index add`")

    def _damaged(self, exc: BaseException) -> IndexDamagedError:
        return IndexDamagedError(f"{self.path} is damaged ({exc})",
                                 "restore it from a backup, or build it again with twicetold index add "
                                 "(sqlite3's PRAGMA integrity_check lists what is broken)")

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite finding the file malformed, at any statement, raised as IndexDamagedError."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if _is_damage(exc):
                raise self._damaged(exc) from exc
            raise

    @staticmethod
    def _meta(conn: sqlite3.Connection) -> dict[str, str]:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())

    # ------------------------------------------------------------ transactions

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: ``BEGIN IMMEDIATE`` takes the write lock at once (waiting up
        to ``timeout`` for another writer), everything is rolled back on any exception,
        Ctrl-C included."""
        with self._write_lock:
            conn = self._write_conn()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _is_busy(exc):
                    raise IndexBusyError(
                        f"{self.path} is being written by another process; waited {self.timeout:g} s",
                        "try again when the other add or remove has finished, or give a longer timeout",
                    ) from exc
                failure = _write_failure(self._shown, exc, self._outcome)
                if failure is not None:
                    raise failure from exc
                raise
            except sqlite3.DatabaseError as exc:
                if _is_damage(exc):
                    raise self._damaged(exc) from exc
                raise
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:  # (after a failed write) closing the connection rolls back
                        self._writer = None
                        with suppress(sqlite3.Error):
                            conn.close()
                if isinstance(exc, sqlite3.DatabaseError) and _is_damage(exc):
                    raise self._damaged(exc) from exc
                if isinstance(exc, sqlite3.Error):
                    failure = _write_failure(self._shown, exc, self._outcome)
                    if failure is not None:
                        raise failure from exc
                raise

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every statement inside sees the index as of one commit, so a
        query running while a batch is added sees all of that batch or none of it."""
        conn = self._reader()
        with self._guard():
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    # ------------------------------------------------------------ writing

    def add(self, inputs: Sequence[str | os.PathLike[str]], read_config: ReadConfig | None = None, *,
            progress: Progress | None = None, workers: int = 0) -> AddResult:
        """Add the documents of ``inputs`` (folders, JSON Lines, CSV, Parquet, ``-``; as ``scan``
        reads them) as one batch, in one transaction, sketched on ``workers`` threads (0: all
        cores).

        A document whose id is already in the index, or twice in the inputs, raises
        :class:`InputError` naming both, and nothing of the batch is added.
        """
        problems: list[InputProblem] = []
        docs = readers.read_documents(inputs, read_config or ReadConfig(), problems)
        return self.add_documents(docs, inputs=[os.fspath(p) for p in inputs], progress=progress,
                                  problems=problems, workers=workers)

    def add_documents(self, documents: Iterable[Document], *, inputs: Sequence[str] = (),
                      progress: Progress | None = None, problems: list[InputProblem] | None = None,
                      workers: int = 0) -> AddResult:
        """Add documents as one batch, in one transaction (all of them or, on any error, none).

        Documents are sketched (on ``workers`` threads, 0: all cores) and written a chunk at a
        time inside the transaction, so memory stays bounded by the chunk, not the batch.
        ``inputs`` is recorded with the batch.
        """
        report = progress or (lambda stage, done, total: None)
        started = time.perf_counter()
        cfg = self.config
        with self._write() as conn, _kernels.threads(workers or os.cpu_count() or 1):
            batch = conn.execute(
                "INSERT INTO batches(added_at, n_docs, inputs, twicetold_version) VALUES (?, 0, ?, ?)",
                (_now(), json.dumps(list(inputs)), _version())).lastrowid
            assert batch is not None
            next_doc = conn.execute("SELECT coalesce(max(doc), 0) + 1 FROM documents").fetchone()[0]
            seen: dict[str, str] = {}
            added = n_postings = n_bands = 0
            for chunk in _chunks(documents):
                self._check_ids(conn, chunk, seen)
                features = featurize([d.text for d in chunk], cfg.sketch)
                p, b = self._insert(conn, chunk, features, next_doc, batch)
                self._count_sources(conn, [d.source for d in chunk], 1)
                next_doc += len(chunk)
                added += len(chunk)
                n_postings += p
                n_bands += b
                report("read", added, None)
            conn.execute("UPDATE batches SET n_docs = ? WHERE id = ?", (added, batch))
            self._bump(conn, n_postings, n_bands, added)
        report("read", added, added)
        return AddResult(batch, added, problems if problems is not None else [],
                         round(time.perf_counter() - started, 4))

    def _check_ids(self, conn: sqlite3.Connection, chunk: list[Document], seen: dict[str, str]) -> None:
        for d in chunk:
            if d.id in seen:
                raise InputError(f"duplicate id {d.id!r}: at {seen[d.id] or '?'} and at {d.origin or '?'}",
                                 "ids must be unique; choose another id column, or rename one of the two")
            seen[d.id] = d.origin
        ids = json.dumps([d.id for d in chunk])
        row = conn.execute(
            "SELECT d.id, d.origin, d.batch FROM documents d WHERE d.id IN (SELECT value FROM json_each(?)) LIMIT 1",
            (ids,)).fetchone()
        if row is not None:
            where = next(d.origin for d in chunk if d.id == row[0])
            raise InputError(f"duplicate id {row[0]!r}: at {where or '?'} and already in the index "
                             f"(batch {row[2]}, from {row[1] or '?'})",
                             "remove it first with `twicetold index remove`, or give the new document "
                             "another id; nothing of this batch was added")

    def _insert(self, conn: sqlite3.Connection, chunk: list[Document], f: Features, first_doc: int,
                batch: int) -> tuple[int, int]:
        docs = np.arange(first_doc, first_doc + len(chunk), dtype=np.int64)
        shingles, owners = _distinct_postings(f, docs)
        n_shingles = np.bincount(owners - first_doc, minlength=len(chunk))
        conn.executemany(
            "INSERT INTO documents(doc, id, source, date, date_key, length, encoding, warnings, origin, meta, "
            "n_tokens, n_shingles, content_hash, signature, batch) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((int(docs[i]), d.id, d.source, d.date, sort_key_date(d.date), len(d.text), d.encoding,
              json.dumps(d.warnings), d.origin, json.dumps(d.meta, default=str), int(f.n_tokens[i]),
              int(n_shingles[i]), _content_bytes(f.content[i]), f.signatures[i].astype("<u4").tobytes(), batch)
             for i, d in enumerate(chunk)))
        conn.executemany("INSERT INTO texts(doc, text) VALUES (?, ?)",
                         ((int(docs[i]), _text_value(d.text)) for i, d in enumerate(chunk)))
        # Band keys of documents with words only: as in scan, a text without words pairs with nothing.
        usable = np.flatnonzero(f.n_tokens > 0)
        keys = _kernels.band_keys(f.signatures[usable], self.bands, self.rows).view(np.int64)
        band_rows = [(b, int(k), int(docs[u])) for u, row in zip(usable.tolist(), keys, strict=True)
                     for b, k in enumerate(row.tolist())]
        conn.executemany("INSERT INTO bands(band, key, doc) VALUES (?, ?, ?)", band_rows)
        # Postings sorted by shingle: the B-tree then takes them in order, page after page.
        conn.executemany("INSERT INTO postings(shingle, doc) VALUES (?, ?)",
                         zip(shingles.tolist(), owners.tolist(), strict=True))
        return len(shingles), len(band_rows)

    @staticmethod
    def _bump(conn: sqlite3.Connection, postings: int, bands: int, documents: int) -> None:
        conn.executemany("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = ?",
                         [(postings, "postings"), (bands, "bands"), (documents, "documents")])

    @staticmethod
    def _count_sources(conn: sqlite3.Connection, sources: list[str | None], sign: int) -> None:
        counts = Counter(s or "" for s in sources)
        conn.executemany("INSERT INTO sources(source, documents) VALUES (?, ?) ON CONFLICT(source) "
                         "DO UPDATE SET documents = documents + excluded.documents",
                         [(src, sign * n) for src, n in counts.items()])
        if sign < 0:
            conn.execute("DELETE FROM sources WHERE documents <= 0")

    def remove(self, ids: Iterable[str]) -> int:
        """Remove documents by id, in one transaction; returns how many were removed.

        An id not in the index raises :class:`InputError` naming it, and nothing is removed.
        Their postings and band keys are found by sketching their stored text again with the
        index's configuration, so removal costs what adding did.
        """
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return 0
        with self._write() as conn:
            rows: list[tuple[int, str, bytes, int, str | None]] = []
            for start in range(0, len(wanted), MAX_SQL_VALUES):
                rows += conn.execute(
                    "SELECT doc, id, signature, n_tokens, source FROM documents "
                    "WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(wanted[start:start + MAX_SQL_VALUES]),)).fetchall()
            missing = sorted(set(wanted) - {r[1] for r in rows})
            if missing:
                shown = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
                raise InputError(f"{len(missing)} id(s) not in the index: {shown}",
                                 "nothing was removed; give only ids the index holds (as they were when added)")
            n_postings = n_bands = 0
            for start in range(0, len(rows), CHUNK_DOCS):
                part = rows[start:start + CHUNK_DOCS]
                docs = [r[0] for r in part]
                texts = dict(conn.execute(
                    "SELECT doc, text FROM texts WHERE doc IN (SELECT value FROM json_each(?))",
                    (json.dumps(docs),)).fetchall())
                f = featurize([_text_of(texts[d]) for d in docs], self.config.sketch)
                for i, (doc, _id, signature, n_tokens, _source) in enumerate(part):
                    shingles = _i64(np.unique(f.shingle_set(i)))
                    deleted = conn.executemany("DELETE FROM postings WHERE shingle = ? AND doc = ?",
                                               ((s, doc) for s in shingles)).rowcount
                    if deleted != len(shingles):
                        # The text no longer sketches as it did when added (a tokenizer change
                        # without a migration): fall back to a full pass over the postings.
                        deleted += conn.execute("DELETE FROM postings WHERE doc = ?", (doc,)).rowcount
                    n_postings += deleted
                    if n_tokens > 0:
                        n_bands += conn.execute(
                            "DELETE FROM bands WHERE doc = ? AND (band, key) IN (SELECT key, value FROM json_each(?))",
                            (doc, json.dumps(self._band_keys_of(signature)))).rowcount
                conn.execute("DELETE FROM texts WHERE doc IN (SELECT value FROM json_each(?))", (json.dumps(docs),))
                conn.execute("DELETE FROM documents WHERE doc IN (SELECT value FROM json_each(?))",
                             (json.dumps(docs),))
            self._bump(conn, -n_postings, -n_bands, -len(rows))
            self._count_sources(conn, [r[4] for r in rows], -1)
        return len(rows)

    def _band_keys_of(self, signature: bytes) -> list[int]:
        sig = np.frombuffer(signature, dtype="<u4").astype(np.uint32).reshape(1, -1)
        return _kernels.band_keys(sig, self.bands, self.rows)[0].view(np.int64).tolist()

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        """Documents in the index (a counter kept in step with every write: no table scan)."""
        with self._guard():
            return int(self._reader().execute("SELECT value FROM meta WHERE key = 'documents'").fetchone()[0])

    def __contains__(self, doc_id: object) -> bool:
        with self._guard():
            return self._reader().execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None

    def documents(self, q: str | None = None, source: str | None = None, *, missing_source: bool = False,
                  offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
        """A page of the indexed documents by id: ``{"id", "source", "date", "length"}`` each,
        and how many match in all. ``q`` keeps ids that contain it (case-insensitive),
        ``source`` those of one source, ``missing_source`` those without one.

        One read transaction: the page and its count see the same batches."""
        where, args = [], []
        if q:
            where.append("instr(lower(id), lower(?)) > 0")
            args.append(q)
        if missing_source:
            where.append("source IS NULL")
        elif source is not None:
            where.append("source IS ?")
            args.append(source)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        with self._snapshot() as conn:
            total = conn.execute(f"SELECT count(*) FROM documents{clause}", args).fetchone()[0]
            rows = conn.execute(f"SELECT id, source, date, length FROM documents{clause} ORDER BY id LIMIT ? OFFSET ?",
                                [*args, limit, offset]).fetchall()
        return [{"id": r[0], "source": r[1], "date": r[2], "length": r[3]} for r in rows], int(total)

    def get(self, doc_id: str) -> Document | None:
        """The indexed document with this id (text and metadata as added), or None."""
        with self._snapshot() as conn:
            row = conn.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM documents d JOIN texts t ON t.doc = d.doc "
                               "WHERE d.id = ?", (doc_id,)).fetchone()
        return None if row is None else self._document_of(row)

    def _document_of(self, row: tuple[Any, ...]) -> Document:
        try:
            return Document(row[0], _text_of(row[1]), row[2], row[3], json.loads(row[4]), row[5],
                            json.loads(row[6]), row[7])
        except (ValueError, TypeError, AttributeError) as exc:  # rows that SQLite reads but are garbage
            raise self._damaged(exc) from exc

    def _documents(self) -> Iterator[Document]:
        """Every document as it was added, in the order added (a chunk read at a time)."""
        last = 0
        while True:
            with self._snapshot() as conn:
                rows = conn.execute(f"SELECT d.doc, {_DOCUMENT_COLUMNS} FROM documents d JOIN texts t ON t.doc = d.doc "
                                    "WHERE d.doc > ? ORDER BY d.doc LIMIT ?", (last, CHUNK_DOCS)).fetchall()
            if not rows:
                return
            for row in rows:
                yield self._document_of(row[1:])
            last = rows[-1][0]

    def stats(self) -> IndexStats:
        """Counts, size on disk and configuration of the index."""
        with self._snapshot() as conn:
            meta = self._meta(conn)
            batches, last = conn.execute("SELECT count(*), max(added_at) FROM batches").fetchone()
        size = sum(os.path.getsize(self.path + s) for s in ("", "-wal") if os.path.exists(self.path + s))
        return IndexStats(self.path, int(meta.get("schema_version", SCHEMA_VERSION)), int(meta["documents"]),
                          int(batches), int(meta["postings"]), int(meta["bands"]), size, meta["created_at"], last,
                          json.loads(meta["config"]))

    def query(self, text: str, *, id: str = "query", date: str | None = None, source: str | None = None,
              limit: int | None = None) -> list[Pair]:
        """The indexed documents that share text with ``text``, as pairs with their passages.

        The query plays a document with id ``id``, date ``date`` and source ``source``; in each
        pair ``a`` is the earlier by date, else the smaller id, as in ``scan``. The pairs are
        those ``scan`` would report between the query and the indexed documents:

        - ``exact``: the same content hash (same words after normalization);
        - ``near``: a shared LSH band key and an estimated Jaccard of at least the threshold;
        - ``partial``: at least ``min_shared`` shared shingles whose document frequency, the
          query included (indexed documents now + 1), is at most ``max_df``, and at least one
          passage found by alignment that is not boilerplate.

        Passages are annotated as ``scan`` annotates them (``quoted``, ``boilerplate``; pairs
        get ``direction`` and ``same_source``), with passage clusters made of this answer's
        pairs: ``cluster`` numbers the groups of passages that cover the same part of the
        query, and a passage's ``boilerplate`` score counts the documents of that group against
        the documents per source indexed now (plus the query).

        Unlike ``scan``, which reports each near-duplicate cluster through its canonical member
        only, a query reports every indexed document it is related to directly; and a band
        shared by many documents is verified document by document (``scan`` links buckets of
        more than ``lsh.MAX_FULL_BUCKET`` documents as a star).

        Ranked by kind (exact, near, partial), then total passage length, then Jaccard; the
        first ``limit`` pairs are returned.
        """
        cfg = self.config
        # One text: the serial kernels; a parallel kernel's thread start-up costs more than the work.
        tokens = tokenize(text)
        if len(tokens) == 0:
            return []  # a text without words pairs with nothing, as in scan
        shingles = shingle_set(tokens, cfg.sketch.shingle_size)
        signature = _kernels.oph_sketch(shingles, cfg.sketch.num_perm, cfg.sketch.seed)
        keys = _kernels.band_keys(signature.reshape(1, -1), self.bands, self.rows)[0].view(np.int64).tolist()
        query = _Query(AlignedText(text, tokens, _kernels.shingles(tokens.hashes, cfg.passages.ngram),
                                   dense_counts(text, tokens.starts)),
                       shingles, signature, id, date, sort_key_date(date), source)
        with self._snapshot() as conn:
            exact = {r[0] for r in conn.execute(
                "SELECT doc FROM documents WHERE content_hash = ? AND n_tokens > 0", (content_hash(tokens),))}
            banded = {r[0] for r in conn.execute(
                "SELECT DISTINCT doc FROM bands WHERE (band, key) IN (SELECT key, value FROM json_each(?))",
                (json.dumps(keys),))}
            partial: set[int] = set()
            rarity: ShingleCounts | None = None
            if cfg.passages.enabled:
                partial, rarity = self._partial_candidates(conn, shingles)
                query = replace(query, aligned=AlignedText.of(text, cfg.passages.ngram, rarity))
            found = self._candidates(conn, exact | banded | partial)
            counts = self._source_counts(conn, found, query) if found else ({}, 0)
        pairs = self._pairs(query, found, exact, banded, partial, rarity)
        if pairs:
            pairs = self._annotate(pairs, query, found, *counts)
        pairs.sort(key=lambda p: (KIND_RANK[p.kind], -sum(q.length for q in p.passages), -p.jaccard, p.a, p.b))
        return pairs[:limit] if limit is not None else pairs

    @staticmethod
    def _source_counts(conn: sqlite3.Connection, found: list[_Candidate],
                       query: _Query) -> tuple[dict[str | None, int], int]:
        """Indexed documents per source (of the sources in play, the query counted) and in all,
        + 1 for the query: what boilerplate scores are measured against."""
        wanted = {c.source or "" for c in found} | {query.source or ""}
        per_source: dict[str | None, int] = {
            src or None: n for src, n in conn.execute(
                "SELECT source, documents FROM sources WHERE source IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(wanted)),))}
        per_source[query.source] = per_source.get(query.source, 0) + 1
        n_documents = int(conn.execute("SELECT value FROM meta WHERE key = 'documents'").fetchone()[0]) + 1
        return per_source, n_documents

    def _annotate(self, pairs: list[Pair], query: _Query, found: list[_Candidate],
                  per_source: dict[str | None, int], n_documents: int) -> list[Pair]:
        """Quotations, boilerplate (filtered as ``scan`` filters it), direction and same source,
        by ``cluster.passage_clusters`` over this answer's pairs."""
        info = CorpusInfo(
            sources={**{c.id: c.source for c in found}, query.id: query.source},
            dates={**{c.id: c.date_key for c in found}, query.id: query.date_key},
            raw_dates={**{c.id: c.date for c in found}, query.id: query.date},
            docs_per_source=per_source,
            n_documents=n_documents,
            lengths={**{c.id: len(c.text) for c in found}, query.id: len(query.aligned.text)},
        )
        texts = {**{c.id: c.text for c in found}, query.id: query.aligned.text}
        return passage_clusters(pairs, info, texts.__getitem__, self.config.passages).pairs

    def _partial_candidates(self, conn: sqlite3.Connection, shingles: npt.NDArray[np.uint64]
                            ) -> tuple[set[int], ShingleCounts]:
        """Documents sharing at least ``min_shared`` of the query's rare shingles, and the
        counts of the query's shingles (the query included) that weigh its passages' evidence,
        as a scan's would be. A shingle's postings are counted up to ``max_df`` only, so stock
        phrases in thousands of documents cost no more than rare ones; then the postings of the
        rare ones are read."""
        cfg = self.config.passages
        keys = sorted(_i64(shingles))  # probes in key order walk the B-tree pages in order
        df: dict[int, int] = {}
        for start in range(0, len(keys), MAX_SQL_VALUES):
            df.update(conn.execute(
                """WITH q(s) AS (SELECT value FROM json_each(?))
                   SELECT s, (SELECT count(*) FROM (SELECT 1 FROM postings WHERE shingle = q.s LIMIT ?)) FROM q""",
                (json.dumps(keys[start:start + MAX_SQL_VALUES]), cfg.max_df)).fetchall())
        rare = [s for s in keys if 0 < df[s] < cfg.max_df]
        shared: dict[int, int] = {}
        for start in range(0, len(rare), MAX_SQL_VALUES):
            for (doc,) in conn.execute("SELECT doc FROM postings WHERE shingle IN (SELECT value FROM json_each(?))",
                                       (json.dumps(rare[start:start + MAX_SQL_VALUES]),)):
                shared[doc] = shared.get(doc, 0) + 1
        n_documents = int(conn.execute("SELECT value FROM meta WHERE key = 'documents'").fetchone()[0]) + 1
        counted = sorted((int(np.int64(s).view(np.uint64)) >> ShingleCounts.KEY_SHIFT, n + 1)
                         for s, n in df.items() if n + 1 >= COUNTED_MIN_DF)
        counts = ShingleCounts(np.array([k for k, _ in counted], np.uint64),
                               np.array([n for _, n in counted], np.int64), n_documents,
                               self.config.sketch.shingle_size, COUNTED_MIN_DF)
        return {doc for doc, n in shared.items() if n >= cfg.min_shared}, counts

    def _candidates(self, conn: sqlite3.Connection, docs: set[int]) -> list[_Candidate]:
        out: list[_Candidate] = []
        size = 4 * self.config.sketch.num_perm
        ordered = sorted(docs)
        for start in range(0, len(ordered), MAX_SQL_VALUES):
            rows = conn.execute(
                "SELECT d.doc, d.id, d.date_key, d.n_tokens, d.signature, t.text, d.source, d.date "
                "FROM documents d JOIN texts t ON t.doc = d.doc WHERE d.doc IN (SELECT value FROM json_each(?))",
                (json.dumps(ordered[start:start + MAX_SQL_VALUES]),)).fetchall()
            for r in rows:
                try:
                    if len(r[4]) != size:
                        raise ValueError(f"document {r[1]!r} has a signature of {len(r[4])} bytes, not {size}")
                    out.append(_Candidate(r[0], r[1], r[2], r[3], np.frombuffer(r[4], dtype="<u4").astype(np.uint32),
                                          _text_of(r[5]), r[6], r[7]))
                except (ValueError, TypeError, AttributeError) as exc:  # rows SQLite reads but that are garbage
                    raise self._damaged(exc) from exc
        out.sort(key=lambda c: c.doc)
        return out

    def _pairs(self, query: _Query, found: list[_Candidate], exact: set[int], banded: set[int],
               partial: set[int], counts: ShingleCounts | None) -> list[Pair]:
        cfg = self.config
        if not found:
            return []
        # Share of equal signature values, as _kernels.estimate_jaccard computes it.
        sigs = np.vstack([c.signature for c in found])
        jaccard = np.count_nonzero(sigs == query.signature, axis=1) / sigs.shape[1]
        pairs: list[Pair] = []
        for k, c in enumerate(found):
            near = c.doc in banded and c.n_tokens > 0 and bool(jaccard[k] >= cfg.near.threshold)
            if not (c.doc in exact or near or c.doc in partial):
                continue  # a band collision that did not verify
            query_first = first_is_a(query.id, query.date_key, c.id, c.date_key)
            passages: list[Passage] = []
            if cfg.passages.enabled:
                other = AlignedText.of(c.text, cfg.passages.ngram, counts)
                passages = align(query.aligned, other, cfg.passages) if query_first \
                    else align(other, query.aligned, cfg.passages)
            kind = pair_kind(c.doc in exact, near, bool(passages))
            if kind is None:
                continue
            exact_j = None
            if cfg.near.exact_jaccard:
                theirs = shingle_set(tokenize(c.text), cfg.sketch.shingle_size)
                exact_j = round(float(_kernels.exact_jaccard(query.shingles, theirs)), 4)
            a, b = (query.id, c.id) if query_first else (c.id, query.id)
            pairs.append(Pair(a, b, kind, round(float(jaccard[k]), 4), passages, exact_j))
        return pairs

    # ------------------------------------------------------------ closing

    def close(self) -> None:
        """Close every connection this object opened (in all threads)."""
        self._closed = True
        with self._lock:
            conns, self._connections = self._connections, []
        for conn in conns:
            with suppress(sqlite3.Error):
                conn.close()
        self._writer = None

    def __enter__(self) -> Index:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Index({self.path!r})"


def _apply_migrations(conn: sqlite3.Connection, applied: set[str]) -> None:
    """Apply the migrations not yet in ``applied``, each in one transaction with its record."""
    conn.execute("CREATE TABLE IF NOT EXISTS _twicetold_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for number, (name, fn) in enumerate(MIGRATIONS, start=1):
        if name in applied:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM _twicetold_migrations WHERE name = ?", (name,)).fetchone():
                conn.execute("COMMIT")  # another process applied it while this one waited
                continue
            fn(conn)
            conn.execute("INSERT INTO _twicetold_migrations(name, applied_at) VALUES (?, ?)", (name, _now()))
            conn.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(number),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _new_index_file(path: str, config: ScanConfig) -> str:
    """An empty index in a new file next to ``path`` (a temporary name, for :func:`_publish`).

    The name carries this process's id, as the temporaries of results do (``atomic``): the
    temporaries of ``path`` that a process killed meanwhile left (``kill -9``) are removed
    first. A file that cannot be made or written (a missing or read-only folder, a full disk)
    raises :class:`OutputError` naming ``path``, and nothing is left behind.
    """
    dest = Path(os.path.abspath(path))
    try:
        os.makedirs(dest.parent, exist_ok=True)
    except FileExistsError:
        pass  # a file where the folder should be: os.open below says "Not a directory"
    except OSError as exc:
        raise output_error(path, exc) from exc
    remove_stale(dest)
    while True:
        tmp = os.path.join(dest.parent, f".{dest.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(6)}")
        try:
            # Mode 0666 less the umask, as the results get: mkstemp's 0600 survived the rename.
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise output_error(path, exc) from exc
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("PRAGMA journal_mode = WAL")  # persistent: readers never wait for the writer
            _apply_migrations(conn, set())
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
                ("config", json.dumps(_config_to_dict(config), sort_keys=True)),
                ("created_at", _now()),
                ("created_by", f"twicetold {_version()}"),
                ("postings", "0"),
                ("bands", "0"),
            ])
            conn.execute("COMMIT")
        finally:
            conn.close()  # the last close checkpoints the log into the file and removes it
    except BaseException as exc:
        _remove_index_files(tmp)
        if isinstance(exc, OSError):
            raise output_error(path, exc) from exc
        if isinstance(exc, sqlite3.Error):
            raise (_write_failure(path, exc, "no index was made")
                   or OutputError(f"cannot write {path}: {exc}", "write elsewhere; no index was made")) from exc
        raise
    return tmp


def _publish(tmp: str, path: str) -> None:
    """Give the closed index ``tmp`` the name ``path``, never replacing a file there."""
    try:
        os.link(tmp, path)  # atomic, and fails when path exists: an index made meanwhile is kept
    except FileExistsError:
        raise _IndexExists(f"{path} already exists", "another process created it meanwhile") from None
    except OSError:  # a file system without hard links (or a link that failed: try the rename)
        if os.path.exists(path):
            raise _IndexExists(f"{path} already exists", "another process created it meanwhile") from None
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise output_error(path, exc) from exc


def _remove_index_files(tmp: str) -> None:
    """Remove a temporary index (with its log); one that cannot be removed is left for the
    next new index of that name to remove (its process will have ended)."""
    for suffix in ("", "-wal", "-shm"):
        with suppress(OSError):
            os.unlink(tmp + suffix)


def read_text(path: str | os.PathLike[str]) -> str:
    """A query text from a file (``-``: standard input), decoded as ``scan`` decodes ``.txt``
    files, so offsets in the query side of a pair match a scan of that file."""
    import sys

    try:
        data = sys.stdin.buffer.read() if os.fspath(path) == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{os.fspath(path)} cannot be read: {exc.strerror or exc}",
                         "give the path of a text file, or - to read standard input") from exc
    return readers.decode_bytes(data)[0]
