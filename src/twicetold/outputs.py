"""Outputs: the results folder (Parquet and JSON Lines tables, ``run.json``), written
atomically: everything goes to a temporary sibling folder that is renamed into place only
when complete, so a failure or Ctrl-C leaves no half-written folder.
"""

from __future__ import annotations

import gc
import json
import operator
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import _jsonl
from .errors import OutputError
from .model import TableRows, jsonable, string_buffers

SCHEMA_VERSION = 1
MAX_PROBLEMS_RECORDED = 1000

PASSAGE_TYPE = pa.struct([
    ("a_start", pa.int64()), ("a_end", pa.int64()), ("b_start", pa.int64()), ("b_end", pa.int64()),
    ("length", pa.int64()), ("score", pa.float64()), ("cluster", pa.int64()), ("quoted", pa.bool_()),
    ("boilerplate", pa.float64()),
])
PAIRS_SCHEMA = pa.schema([
    ("a", pa.string()), ("b", pa.string()), ("kind", pa.string()), ("jaccard", pa.float64()),
    ("jaccard_exact", pa.float64()), ("direction", pa.string()), ("same_source", pa.bool_()),
    ("passages", pa.list_(PASSAGE_TYPE)),
])
PASSAGES_SCHEMA = pa.schema([
    ("cluster", pa.int64()), ("document", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
    ("text", pa.string()), ("source", pa.string()), ("date", pa.string()), ("origin", pa.bool_()),
    ("quoted", pa.bool_()), ("boilerplate", pa.float64()),
])
PASSAGE_CLUSTERS_SCHEMA = pa.schema([
    ("id", pa.int64()), ("size", pa.int64()), ("documents", pa.int64()), ("sources", pa.int64()),
    ("first_date", pa.string()), ("last_date", pa.string()), ("origin", pa.string()),
    ("boilerplate", pa.float64()), ("text", pa.string()),
])
CLUSTERS_SCHEMA = pa.schema([
    ("id", pa.int64()), ("canonical", pa.string()), ("size", pa.int64()), ("kind", pa.string()),
    ("min_jaccard", pa.float64()), ("members", pa.list_(pa.string())),
])
DOCUMENT_FIELDS = ["id", "source", "date", "length", "encoding", "warnings", "cluster", "origin"]


def check_destination(path: str | os.PathLike[str], force: bool) -> Path:
    """Fail early, before any work, when ``path`` exists and ``force`` is not set."""
    out = Path(path)
    if out.exists() and not force:
        raise OutputError(f"{out} already exists", "pass --force to replace it, or choose another path")
    if not out.parent.exists():
        raise OutputError(f"the folder {out.parent} does not exist", "create it first")
    return out


@contextmanager
def atomic_path(path: str | os.PathLike[str], force: bool, is_dir: bool) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on failure it
    is removed and ``path`` is left as it was."""
    dest = check_destination(path, force)
    prefix = f".{dest.name}.twicetold-tmp-"
    # Keep the destination's extensions: writers pick the format and compression from them.
    suffix = "".join(dest.suffixes)
    if is_dir:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=dest.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=dest.parent)
        os.close(fd)
        tmp = Path(name)
    try:
        # mkdtemp/mkstemp make owner-only paths; the result gets the mode a plain mkdir/open would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, (0o777 if is_dir else 0o666) & ~umask)
        yield tmp
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.twicetold-old-", dir=dest.parent))
            os.replace(dest, old / dest.name)
            os.replace(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dest)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
        raise


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused: a scan and its outputs make objects by the
    million (records, pairs, rows) and none in cycles, so the collector's passes over them
    would be pure cost (they took a third of the time of writing 100k documents' rows)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """One JSON object per line, UTF-8 (orjson: JSON types natively, anything else via jsonable).

    Written through a 1 MB buffer: each write to the file lets go of the GIL and must win it
    back, and with the Parquet thread running, an 8 KB buffer's many writes waited in turn."""
    option = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
    with open(path, "wb", buffering=1 << 20) as f:
        for row in rows:
            f.write(orjson.dumps(row, default=jsonable, option=option))


JSONL_CHUNK = 4 << 20  # bytes the compiled writer fills before each write to the file


def _raw_json(array: pa.Array) -> pa.Array:
    """A list column as the JSON text of each row (``[]`` for the many empty ones, made here
    without a Python object each)."""
    lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
    parts = [b"[]"] * len(array)
    for i in np.flatnonzero(lengths).tolist():
        parts[i] = orjson.dumps(array[i].as_py())
    return pa.array(parts, pa.binary()).view(pa.string())


def _jsonl_columns(table: pa.Table) -> dict[str, Any] | None:
    """``table``'s columns as ``_jsonl.write_rows`` takes them, or None when one of them is of
    a type it does not write (then the rows go through orjson)."""
    n = table.num_rows
    kinds: list[int] = []
    slots: list[int] = []
    values: dict[int, list[npt.NDArray[Any]]] = {_jsonl.INT: [], _jsonl.DECIMAL4: [], _jsonl.BOOL: []}
    texts: list[npt.NDArray[np.uint8]] = []
    text_offsets: list[npt.NDArray[np.int64]] = []
    present: list[npt.NDArray[np.bool_]] = []
    for column in table.combine_chunks().columns:
        array = column.chunk(0) if column.num_chunks else pa.array([], column.type)
        t = array.type
        present.append(np.asarray(array.is_valid()))
        if pa.types.is_list(t) and (pa.types.is_string(t.value_type) or pa.types.is_null(t.value_type)):
            array, t = _raw_json(array), None
        if t is None or pa.types.is_string(t) or pa.types.is_large_string(t):
            kinds.append(_jsonl.RAW if t is None else _jsonl.TEXT)
            slots.append(len(texts))
            data, offsets = string_buffers(array)
            texts.append(data)
            text_offsets.append(offsets)
            continue
        if pa.types.is_integer(t):
            kind, filled = _jsonl.INT, pc.fill_null(array, 0).to_numpy().astype(np.int64)
        elif pa.types.is_boolean(t):
            kind, filled = _jsonl.BOOL, pc.fill_null(array, False).to_numpy(zero_copy_only=False).astype(np.uint8)
        elif pa.types.is_floating(t):
            kind, filled = _jsonl.DECIMAL4, pc.fill_null(array, 0.0).to_numpy().astype(np.float64)
            if not np.array_equal(np.round(filled * 10000) / 10000, filled) or np.abs(filled).max(initial=0) > 1e9:
                return None  # only numbers of at most four decimals are written here as repr writes them
        else:
            return None
        kinds.append(kind)
        slots.append(len(values[kind]))
        values[kind].append(filled)
    if not texts:  # the kernel takes a tuple of at least one text column
        texts, text_offsets = [np.empty(0, np.uint8)], [np.zeros(n + 1, np.int64)]
    keys = [orjson.dumps(name) for name in table.column_names]
    prefixes = [b"{" + keys[0] + b":"] + [b"," + k + b":" for k in keys[1:]] if keys else []

    def rows(kind: int, dtype: type) -> npt.NDArray[Any]:
        return np.array(values[kind], dtype=dtype).reshape(len(values[kind]), n)

    return {"prefixes": np.frombuffer(b"".join(prefixes), dtype=np.uint8),
            "prefix_offsets": np.cumsum([0] + [len(p) for p in prefixes]).astype(np.int64),
            "kinds": np.array(kinds, dtype=np.int64), "slots": np.array(slots, dtype=np.int64),
            "ints": rows(_jsonl.INT, np.int64), "decimals": rows(_jsonl.DECIMAL4, np.float64),
            "bools": rows(_jsonl.BOOL, np.uint8), "texts": tuple(texts), "text_offsets": tuple(text_offsets),
            "present": np.array(present, dtype=np.uint8).reshape(len(present), n)}


def write_jsonl_table(path: Path, table: pa.Table) -> None:
    """``table`` as JSON Lines: the same bytes as ``write_jsonl`` of its rows, but written by a
    compiled kernel straight from the Arrow buffers, without the GIL (columns of integers,
    booleans, texts, lists of texts and numbers of at most four decimals, nulls in any; a
    table with anything else goes through ``write_jsonl``)."""
    columns = _jsonl_columns(table)
    if columns is None or table.num_columns == 0:
        write_jsonl(path, table.to_pylist())
        return
    out = np.empty(JSONL_CHUNK, dtype=np.uint8)
    with open(path, "wb", buffering=0) as f:
        row = 0
        while row < table.num_rows:
            rows, used = _jsonl.write_rows(row, table.num_rows, out=out, **columns)
            if rows == 0:  # one row longer than the buffer
                out = np.empty(2 * len(out), dtype=np.uint8)
                continue
            view = out.data[:used]
            while view:
                view = view[f.write(view):]
            row += rows


def fields(obj: Any) -> dict[str, Any]:
    """A flat dataclass as a dict (``dataclasses.asdict`` deep-copies, which is slow)."""
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


def _table(rows: list[dict[str, Any]], schema: pa.Schema | None) -> pa.Table:
    if schema is not None:
        return pa.Table.from_pylist(rows, schema=schema)
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Carried-through columns of mixed types: keep them, JSON-encoded.
        fixed = [{k: (json.dumps(jsonable(v), ensure_ascii=False) if k not in DOCUMENT_FIELDS
                      and not isinstance(v, str | type(None)) else v) for k, v in r.items()} for r in rows]
        return pa.Table.from_pylist(fixed)


def write_parquet(path: Path, table: pa.Table) -> None:
    # zstd: files 40 % smaller than with the default (snappy), written as fast
    pq.write_table(table, path, compression="zstd")


Rows: TypeAlias = list[dict[str, Any]] | pa.Table  # a table's rows as dictionaries, or already as Arrow columns


def _as_table(rows: Rows, schema: pa.Schema | None) -> pa.Table:
    if not isinstance(rows, pa.Table):
        return _table(rows, schema)
    try:
        return rows if schema is None else rows.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowCapacityError):
        return rows  # texts past 2 GB in all stay large strings


def _write_jsonl_rows(path: Path, rows: Rows) -> None:
    if isinstance(rows, pa.Table):
        write_jsonl_table(path, rows)
    else:
        write_jsonl(path, rows)


def _rows(items: Sequence[Any]) -> Rows:
    """Result objects as rows: the columns themselves when the results kept them so."""
    return items.table if isinstance(items, TableRows) else [fields(x) for x in items]


def write_table(folder: Path, name: str, rows: Rows, schema: pa.Schema | None = None) -> None:
    """Write ``name.jsonl`` and ``name.parquet`` holding the same rows."""
    _write_jsonl_rows(folder / f"{name}.jsonl", rows)
    write_parquet(folder / f"{name}.parquet", _as_table(rows, schema))


def _document_columns(docs: list[Any]) -> tuple[list[str], list[str]]:
    """The documents table's column names, and the input columns carried through (a column
    whose name clashes with a fixed field is written as ``input_<name>``), in order of appearance."""
    input_columns = list(dict.fromkeys(k for d in docs for k in d.meta))
    names = list(DOCUMENT_FIELDS)
    for k in input_columns:
        names.append(f"input_{k}" if k in names else k)
    return names, input_columns


def document_rows(documents: Iterable[Any]) -> list[dict[str, Any]]:
    """Output rows of documents: the fixed fields, then the carried-through input columns.
    Every row gets every column (Parquet needs one schema), in the order the columns appear."""
    docs = list(documents)
    fixed = list(map(operator.attrgetter(*DOCUMENT_FIELDS), docs))
    names, input_columns = _document_columns(docs)
    if not input_columns:
        return [dict(zip(DOCUMENT_FIELDS, values, strict=True)) for values in fixed]
    return [dict(zip(names, values + tuple(d.meta.get(k) for k in input_columns), strict=True))
            for values, d in zip(fixed, docs, strict=True)]


def document_table(documents: Iterable[Any]) -> pa.Table | None:
    """The rows of ``document_rows`` as Arrow columns, made column by column (no row
    dictionaries), or None when an input column holds values of several types or nested ones
    (its rows are then written through ``document_rows``, as they come)."""
    docs = list(documents)
    names, input_columns = _document_columns(docs)
    columns = [list(c) for c in zip(*map(operator.attrgetter(*DOCUMENT_FIELDS), docs), strict=True)] if docs \
        else [[] for _ in DOCUMENT_FIELDS]
    columns += [[d.meta.get(k) for d in docs] for k in input_columns]
    try:
        table = pa.table([pa.array(c) for c in columns], names=names)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return table if _flat(table.schema) else None


def _document_rows(documents: Sequence[Any]) -> Rows:
    table = document_table(documents)
    return document_rows(documents) if table is None else table


def _flat(schema: pa.Schema) -> bool:
    """Whether every column is of a type ``write_jsonl_table`` writes, or hands back to orjson
    unchanged (``to_pylist`` gives back the values of flat columns as they were)."""
    def flat(t: pa.DataType) -> bool:
        return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_null(t)
                or pa.types.is_string(t))
    return all(flat(f.type) or (pa.types.is_list(f.type) and flat(f.type.value_type)) for f in schema)


def _write_tables(folder: Path, tables: list[tuple[str, Callable[[], Rows], pa.Schema | None]], workers: int) -> None:
    """Write each ``(name, rows, schema)`` table, its rows made once for both formats. With
    ``workers`` > 1, what can be written without the GIL goes to two threads (pyarrow's
    Parquet, and JSON Lines of tables that are already Arrow columns, by the compiled writer),
    while this thread does what holds it: making rows and Arrow tables, and orjson's JSON
    Lines. Threads, not forked processes: a forked writer copies every memory page it touches
    (reference counts are writes), which cost as much as the second core saved."""
    if workers <= 1:
        for name, make_rows, schema in tables:
            write_table(folder, name, make_rows(), schema)
        return
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="twicetold-write") as pool:
        pending = []
        for name, make_rows, schema in tables:
            rows = make_rows()
            table = _as_table(rows, schema)
            pending.append(pool.submit(write_parquet, folder / f"{name}.parquet", table))
            if isinstance(rows, pa.Table):
                pending.append(pool.submit(write_jsonl_table, folder / f"{name}.jsonl", table))
            else:
                write_jsonl(folder / f"{name}.jsonl", rows)
        for done in pending:
            done.result()


def versions() -> dict[str, str]:
    import numba
    import numpy

    from . import __version__

    return {"twicetold": __version__, "python": sys.version.split()[0], "numpy": numpy.__version__,
            "numba": numba.__version__, "pyarrow": pa.__version__, "platform": platform.platform()}


def write_results(result: Any, outdir: str | os.PathLike[str], *, force: bool = False,
                  parameters: dict[str, Any] | None = None, inputs: list[str] | None = None,
                  workers: int = 1) -> Path:
    """Write a scan's results folder: ``pairs``, ``clusters``, ``documents``, ``passages`` and
    ``passage_clusters`` as JSON Lines and Parquet, plus ``run.json``. Replaces an existing
    folder only with ``force``. With ``workers`` > 1 the Parquet files are encoded on a second
    thread (see ``_write_tables``)."""
    with gc_paused(), atomic_path(outdir, force, is_dir=True) as tmp:
        def pairs() -> list[dict[str, Any]]:
            return [{"a": p.a, "b": p.b, "kind": p.kind, "jaccard": p.jaccard, "jaccard_exact": p.jaccard_exact,
                     "direction": p.direction, "same_source": p.same_source,
                     "passages": [fields(x) for x in p.passages]} for p in result.pairs]

        def clusters() -> list[dict[str, Any]]:
            return [{"id": c.id, "canonical": c.canonical, "size": len(c.members), "kind": c.kind,
                     "min_jaccard": c.min_jaccard, "members": c.members} for c in result.clusters]

        _write_tables(tmp, [
            ("passages", lambda: _rows(result.occurrences), PASSAGES_SCHEMA),
            ("documents", lambda: _document_rows(result.documents), None),
            ("passage_clusters", lambda: _rows(result.passage_clusters), PASSAGE_CLUSTERS_SCHEMA),
            ("pairs", pairs, PAIRS_SCHEMA),
            ("clusters", clusters, CLUSTERS_SCHEMA),
        ], workers)
        problems = [fields(p) for p in result.problems]
        run = {
            "schema_version": SCHEMA_VERSION,
            "versions": versions(),
            "inputs": inputs or [],
            "parameters": parameters or {},
            **result.run,
            "problems": problems[:MAX_PROBLEMS_RECORDED],
            "problems_not_listed": max(0, len(problems) - MAX_PROBLEMS_RECORDED),
        }
        (tmp / "run.json").write_text(json.dumps(jsonable(run), indent=2, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    return Path(outdir)
