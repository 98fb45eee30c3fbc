"""Outputs: the results folder (Parquet and JSON Lines tables, ``run.json``), written
atomically: everything goes to a temporary sibling folder that is renamed into place only
when complete, so a failure or Ctrl-C leaves no half-written folder.
"""

from __future__ import annotations

import gc
import json
import math
import operator
import os
import platform
import sys
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
from .atomic import atomic_path as atomic_path  # re-exported: the one atomic writer
from .atomic import check_destination as check_destination
from .errors import OutputError
from .model import TableRows, jsonable, string_buffers

SCHEMA_VERSION = 1
MAX_PROBLEMS_RECORDED = 1000

PASSAGE_TYPE = pa.struct([
    ("a_start", pa.int64()), ("a_end", pa.int64()), ("b_start", pa.int64()), ("b_end", pa.int64()),
    ("length", pa.int64()), ("score", pa.float64()), ("cluster", pa.int64()), ("quoted", pa.bool_()),
    ("boilerplate", pa.float64()), ("evidence", pa.float64()),
])
PAIRS_SCHEMA = pa.schema([
    ("a", pa.string()), ("b", pa.string()), ("kind", pa.string()), ("jaccard", pa.float64()),
    ("jaccard_exact", pa.float64()), ("direction", pa.string()), ("same_source", pa.bool_()),
    ("coverage_a", pa.float64()), ("coverage_b", pa.float64()), ("passages", pa.list_(PASSAGE_TYPE)),
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
        if pa.types.is_null(t):
            kind, filled = _jsonl.INT, np.zeros(n, np.int64)  # never read: no row is present
        elif pa.types.is_integer(t):
            if pa.types.is_uint64(t) and (pc.max(array).as_py() or 0) >= 1 << 63:
                return None  # past int64
            kind, filled = _jsonl.INT, pc.fill_null(array, 0).to_numpy().astype(np.int64)
        elif pa.types.is_boolean(t):
            kind, filled = _jsonl.BOOL, pc.fill_null(array, False).to_numpy(zero_copy_only=False).astype(np.uint8)
        elif pa.types.is_floating(t):
            kind, filled = _jsonl.DECIMAL4, pc.fill_null(array, 0.0).to_numpy().astype(np.float64)
            finite = np.isfinite(filled)
            if not finite.all():  # NaN and infinities are null, as orjson writes them (JSON has none)
                present[-1] = present[-1] & finite
                filled = np.where(finite, filled, 0.0)
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


# Below this many rows a table is written through orjson: the same bytes, in a blink, and the
# compiled writer (twenty seconds to compile on a first run) is not needed at all.
COMPILED_JSONL_MIN_ROWS = 5000


def write_jsonl_table(path: Path, table: pa.Table) -> None:
    """``table`` as JSON Lines: the same bytes as ``write_jsonl`` of its rows, but written by a
    compiled kernel straight from the Arrow buffers, without the GIL (columns of integers,
    booleans, texts, lists of texts and numbers of at most four decimals, nulls in any, NaN
    and infinities written as null like orjson writes them; a table with anything else goes
    through ``write_jsonl``)."""
    columns = _jsonl_columns(table) if table.num_rows >= COMPILED_JSONL_MIN_ROWS else None
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
    return pa.Table.from_pylist(rows, schema=schema)


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


DOCUMENT_TYPES = [pa.string(), pa.string(), pa.string(), pa.int64(), pa.string(), pa.list_(pa.string()), pa.int64(),
                  pa.string()]  # of DOCUMENT_FIELDS
MAX_TYPED_DEPTH = 16  # levels of lists and objects a carried column keeps as Parquet types; deeper is JSON text
MAX_TEXT_DEPTH = 100_000  # levels written as JSON text; deeper is taken for a value that holds itself
_EXACT = 1 << 53  # integers up to this size are exact as floats
_INT64 = 1 << 63


def _document_columns(docs: list[Any]) -> tuple[list[str], list[Any]]:
    """The documents table's column names, and the input columns carried through (a column
    whose name clashes with a fixed field, or with a column before it, is written as
    ``input_<name>``), in order of appearance."""
    input_columns = list(dict.fromkeys(k for d in docs for k in d.meta))
    names = list(DOCUMENT_FIELDS)
    taken = set(names)
    for k in input_columns:
        name = str(k)
        while name in taken:
            name = f"input_{name}"
        names.append(name)
        taken.add(name)
    return names, input_columns


def document_rows(documents: Iterable[Any]) -> list[dict[str, Any]]:
    """Output rows of documents, as written (``document_table``): the fixed fields, then the
    carried-through input columns. Every row gets every column (Parquet needs one schema), in
    the order the columns appear."""
    return document_table(documents).to_pylist()


def document_table(documents: Iterable[Any]) -> pa.Table:
    """The documents table, made column by column (no row dictionaries): the fixed fields
    (``DOCUMENT_TYPES``), then each carried-through input column as ``carried_column`` makes
    it, so that its JSON Lines and Parquet files hold the same rows."""
    docs = list(documents)
    names, input_columns = _document_columns(docs)
    fixed = [list(c) for c in zip(*map(operator.attrgetter(*DOCUMENT_FIELDS), docs), strict=True)] if docs \
        else [[] for _ in DOCUMENT_FIELDS]
    arrays = [_fixed_column(name, values, t) for name, values, t in zip(DOCUMENT_FIELDS, fixed, DOCUMENT_TYPES,
                                                                       strict=True)]
    arrays += [carried_column(name, [d.meta.get(k) for d in docs])
               for name, k in zip(names[len(DOCUMENT_FIELDS):], input_columns, strict=True)]
    return pa.table(arrays, names=names)


def _document_rows(documents: Sequence[Any]) -> Rows:
    return document_table(documents)


def _fixed_column(name: str, values: list[Any], arrow_type: pa.DataType) -> pa.Array | pa.ChunkedArray:
    try:
        return pa.array(values, arrow_type)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return carried_column(name, values)  # a library caller's odd values: the rule of carried columns


class _Untyped(Exception):
    """The values of a carried column share no Arrow type that holds each of them as it is."""


def carried_column(name: str, values: list[Any]) -> pa.Array | pa.ChunkedArray:
    """A carried-through input column as an Arrow column, written the same in both files (see
    the README, ``documents``): values of one type keep it (texts, booleans, integers within
    64 bits, numbers: integers among numbers with decimals become floats when exact, lists
    and objects whose items and members share one type, objects with the same keys in
    every row, at most ``MAX_TYPED_DEPTH`` levels deep); NaN and infinities are null;
    anything else makes the column one of JSON texts, each value's (``json_text``)."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    try:
        if kinds <= {str}:
            return pa.array(values, pa.string())
        if kinds == {bool}:
            return pa.array(values, pa.bool_())
        if kinds == {int}:
            return pa.array(values, pa.int64())  # OverflowError past int64: JSON text
        if kinds == {float}:
            return _finite(pa.array(values, pa.float64()))
        shape = None
        for v in values:
            shape = _unify(shape, _shape(v, 0))
        if _has_non_finite(shape):
            values = [_without_non_finite(v) for v in values]
        return pa.array(values, _arrow_type(shape))
    except (_Untyped, pa.ArrowException, OverflowError, TypeError, ValueError):
        return pa.array([None if v is None or (isinstance(v, float) and not math.isfinite(v)) else json_text(name, v)
                         for v in values], pa.binary()).view(pa.string())


def _finite(array: pa.Array) -> pa.Array:
    """A float column with NaN and infinities as nulls."""
    bad = pc.fill_null(pc.invert(pc.is_finite(array)), False)
    return pc.if_else(bad, pa.scalar(None, array.type), array) if pc.any(bad).as_py() else array


# The type a carried value has in ``_shape``: None (null, goes with any), "s" (text), "b"
# (boolean), "i" (an integer exact as a float), "I" (any other int64), "f" (a finite float),
# "F" (floats, some of them NaN or infinite), ("l", items' shape) or ("d", keys, members' shapes).
Shape: TypeAlias = Any


def _shape(v: Any, depth: int) -> Shape:
    """The shape of the value ``v``, nested ``depth`` levels deep; _Untyped when it has none."""
    t = type(v)
    if t is str:
        return "s"
    if v is None:
        return None
    if t is bool:
        return "b"
    if t is float:
        return "f" if math.isfinite(v) else "F"
    if t is int or (isinstance(v, int) and not isinstance(v, bool)):
        if -_EXACT <= v <= _EXACT:
            return "i"
        if -_INT64 <= v < _INT64:
            return "I"
        raise _Untyped
    if isinstance(v, list | tuple | dict):
        if depth >= MAX_TYPED_DEPTH:
            raise _Untyped
        if isinstance(v, dict):
            if not v or not all(type(k) is str for k in v):
                raise _Untyped  # no empty struct in Parquet
            return "d", tuple(v), tuple(_shape(x, depth + 1) for x in v.values())
        item = None
        for x in v:
            item = _unify(item, _shape(x, depth + 1))
        return "l", item
    if isinstance(v, float):
        return "f" if math.isfinite(v) else "F"
    if isinstance(v, str):
        return "s"
    raise _Untyped


_NUMBERS = {frozenset("iI"): "I", frozenset("if"): "f", frozenset("iF"): "F", frozenset("fF"): "F"}


def _unify(a: Shape, b: Shape) -> Shape:
    """The shape of values of shapes ``a`` and ``b`` together; _Untyped when they have none."""
    if a == b or b is None:
        return a
    if a is None:
        return b
    if type(a) is str and type(b) is str:
        both = _NUMBERS.get(frozenset((a, b)))
        if both is None:
            raise _Untyped
        return both
    if type(a) is tuple and type(b) is tuple and a[0] == b[0]:
        if a[0] == "l":
            return "l", _unify(a[1], b[1])
        if a[1] == b[1]:
            return "d", a[1], tuple(_unify(x, y) for x, y in zip(a[2], b[2], strict=True))
        if len(a[1]) == len(b[1]) and set(a[1]) == set(b[1]):  # the same keys in another order
            members = dict(zip(b[1], b[2], strict=True))
            return "d", a[1], tuple(_unify(x, members[k]) for k, x in zip(a[1], a[2], strict=True))
    raise _Untyped


def _has_non_finite(shape: Shape) -> bool:
    if shape == "F":
        return True
    if type(shape) is tuple:
        return _has_non_finite(shape[1]) if shape[0] == "l" else any(map(_has_non_finite, shape[2]))
    return False


def _without_non_finite(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _without_non_finite(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_without_non_finite(x) for x in v]
    return v


def _arrow_type(shape: Shape) -> pa.DataType:
    if shape is None:
        return pa.null()
    if type(shape) is str:
        return {"s": pa.string(), "b": pa.bool_(), "i": pa.int64(), "I": pa.int64(), "f": pa.float64(),
                "F": pa.float64()}[shape]
    if shape[0] == "l":
        return pa.list_(_arrow_type(shape[1]))
    return pa.struct([(k, _arrow_type(x)) for k, x in zip(shape[1], shape[2], strict=True)])


def json_text(name: str, value: Any) -> bytes:
    """``value`` as compact JSON text (orjson's: NaN and infinities as null), any depth and
    integers of any size included; OutputError for a value that holds itself. ``name``: its
    column, for the message."""
    try:
        return orjson.dumps(value, default=jsonable, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    except orjson.JSONEncodeError:  # nested past 254 levels, an integer past 64 bits, a lone surrogate
        pass
    parts: list[bytes] = []
    todo: list[Any] = [(value, 0)]  # values to write (with their depth) and bytes written as they are
    while todo:
        item = todo.pop()
        if type(item) is bytes:
            parts.append(item)
            continue
        v, depth = item
        if isinstance(v, dict | list | tuple):
            if depth >= MAX_TEXT_DEPTH:
                raise OutputError(f"the input column {name!r} holds a value nested more than {MAX_TEXT_DEPTH} "
                                  "levels deep, or one that holds itself: it cannot be written as JSON",
                                  "carry JSON values through (trees, not loops)")
            todo.append(b"}" if isinstance(v, dict) else b"]")
            items = list(v.items()) if isinstance(v, dict) else list(enumerate(v))
            for i in range(len(items) - 1, -1, -1):
                key, x = items[i]
                todo.append((x, depth + 1))
                comma = b"," if i else b""
                todo.append(comma + _json_key(key) + b":" if isinstance(v, dict) else comma)
            todo.append(b"{" if isinstance(v, dict) else b"[")
        else:
            parts.append(_json_scalar(v))
    return b"".join(parts)


def _json_scalar(v: Any) -> bytes:
    if v is None:
        return b"null"
    if isinstance(v, bool):
        return b"true" if v else b"false"
    if isinstance(v, int):
        return str(int(v)).encode()
    if isinstance(v, float):
        return orjson.dumps(float(v))  # null when not finite
    if isinstance(v, str):
        try:
            return orjson.dumps(v)
        except orjson.JSONEncodeError:  # a lone surrogate: escaped
            return json.dumps(v).encode()
    return _json_scalar(jsonable(v))


def _json_key(k: Any) -> bytes:
    """An object key as JSON text, as orjson writes keys that are not texts."""
    if isinstance(k, str):
        return _json_scalar(k)
    if k is None or isinstance(k, bool | int):
        return _json_scalar(_json_scalar(k).decode())
    try:
        return orjson.dumps({k: 0}, option=orjson.OPT_NON_STR_KEYS)[1:-3]
    except orjson.JSONEncodeError:
        return _json_scalar(str(k))


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
    with gc_paused(), atomic_path(outdir, force, is_dir=True, inputs=inputs or ()) as tmp:
        def pairs() -> list[dict[str, Any]]:
            return [{"a": p.a, "b": p.b, "kind": p.kind, "jaccard": p.jaccard, "jaccard_exact": p.jaccard_exact,
                     "direction": p.direction, "same_source": p.same_source, "coverage_a": p.coverage_a,
                     "coverage_b": p.coverage_b, "passages": [fields(x) for x in p.passages]} for p in result.pairs]

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
