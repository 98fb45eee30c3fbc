"""Outputs: the results folder (Parquet and JSON Lines tables, ``run.json``), written
atomically: everything goes to a temporary sibling folder that is renamed into place only
when complete, so a failure or Ctrl-C leaves no half-written folder.
"""

from __future__ import annotations

import functools
import gc
import json
import operator
import os
import platform
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import OutputError
from .model import jsonable

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
    """One JSON object per line, UTF-8 (orjson: JSON types natively, anything else via jsonable)."""
    option = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
    with open(path, "wb") as f:
        for row in rows:
            f.write(orjson.dumps(row, default=jsonable, option=option))


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


FORMATS = ("jsonl", "parquet")


def write_table(folder: Path, name: str, rows: list[dict[str, Any]], schema: pa.Schema | None = None,
                formats: Iterable[str] = FORMATS) -> None:
    """Write ``name.jsonl`` and ``name.parquet`` (or those of ``formats``) holding the same rows."""
    for fmt in formats:
        if fmt == "jsonl":
            write_jsonl(folder / f"{name}.jsonl", rows)
        else:
            pq.write_table(_table(rows, schema), folder / f"{name}.parquet")


def document_rows(documents: Iterable[Any]) -> list[dict[str, Any]]:
    """Output rows of documents: the fixed fields, then the carried-through input columns
    (a column whose name clashes with a fixed field is written as ``input_<name>``). Every
    row gets every column (Parquet needs one schema), in the order the columns appear."""
    docs = list(documents)
    fixed = list(map(operator.attrgetter(*DOCUMENT_FIELDS), docs))
    input_columns = list(dict.fromkeys(k for d in docs for k in d.meta))
    if not input_columns:
        return [dict(zip(DOCUMENT_FIELDS, values, strict=True)) for values in fixed]
    names = list(DOCUMENT_FIELDS)
    for k in input_columns:
        names.append(f"input_{k}" if k in names else k)
    return [dict(zip(names, values + tuple(d.meta.get(k) for k in input_columns), strict=True))
            for values, d in zip(fixed, docs, strict=True)]


def _in_parallel(jobs: list[tuple[float, Callable[[], None]]], workers: int) -> None:
    """Run ``(weight, job)`` jobs spread over ``workers`` processes: the heaviest first, each
    to the least loaded process; the others are forked children, which see the results in
    memory as they are (nothing is pickled) and only write files. Fails if any job failed."""
    if workers <= 1 or len(jobs) < 2 or not hasattr(os, "fork"):
        for _, job in jobs:
            job()
        return
    groups: list[list[Callable[[], None]]] = [[] for _ in range(min(workers, len(jobs)))]
    load = [0.0] * len(groups)
    for weight, job in sorted(jobs, key=lambda j: -j[0]):
        k = load.index(min(load))
        groups[k].append(job)
        load[k] += weight
    children = []
    for group in groups[1:]:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: write, then leave without running the parent's cleanup
            code = 1
            try:
                for job in group:
                    job()
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        children.append(pid)
    failure: BaseException | None = None
    try:
        for job in groups[0]:
            job()
    except BaseException as exc:
        failure = exc
    for pid in children:
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0 and failure is None:
            failure = OutputError("writing the results failed in a worker process (see the message above)",
                                  "check the free space and permissions of the output folder")
    if failure is not None:
        raise failure


def _write_one(folder: Path, name: str, rows: Callable[[], list[dict[str, Any]]], schema: pa.Schema | None,
               formats: tuple[str, ...]) -> None:
    write_table(folder, name, rows(), schema, formats)


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
    folder only with ``force``. With ``workers`` > 1 the tables are written by that many
    processes side by side (forked, where the platform can)."""
    with gc_paused(), atomic_path(outdir, force, is_dir=True) as tmp:
        def pairs() -> list[dict[str, Any]]:
            return [{"a": p.a, "b": p.b, "kind": p.kind, "jaccard": p.jaccard, "jaccard_exact": p.jaccard_exact,
                     "direction": p.direction, "same_source": p.same_source,
                     "passages": [fields(x) for x in p.passages]} for p in result.pairs]

        def clusters() -> list[dict[str, Any]]:
            return [{"id": c.id, "canonical": c.canonical, "size": len(c.members), "kind": c.kind,
                     "min_jaccard": c.min_jaccard, "members": c.members} for c in result.clusters]

        tables: list[tuple[str, float, Callable[[], list[dict[str, Any]]], pa.Schema | None]] = [
            # name, weight (roughly the bytes it writes, to spread the work), rows, schema
            ("pairs", 200.0 * len(result.pairs) + 100 * sum(len(p.passages) for p in result.pairs), pairs,
             PAIRS_SCHEMA),
            ("passages", sum(len(o.text) + 150 for o in result.occurrences),
             lambda: [fields(o) for o in result.occurrences], PASSAGES_SCHEMA),
            ("passage_clusters", sum(len(c.text) + 150 for c in result.passage_clusters),
             lambda: [fields(c) for c in result.passage_clusters], PASSAGE_CLUSTERS_SCHEMA),
            ("clusters", 100.0 * sum(len(c.members) for c in result.clusters), clusters, CLUSTERS_SCHEMA),
            ("documents", 400.0 * len(result.documents), lambda: document_rows(result.documents), None),
        ]
        # On several processes each format of each table is a job of its own (the largest table
        # is about half of all the writing, so whole tables would leave one process waiting);
        # on one, a table's rows are made once for both formats.
        split = [FORMATS] if workers <= 1 else [(fmt,) for fmt in FORMATS]
        _in_parallel([(weight * len(formats) / len(FORMATS),
                       functools.partial(_write_one, tmp, name, rows, schema, formats))
                      for name, weight, rows, schema in tables for formats in split], workers)
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
