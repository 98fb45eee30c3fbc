"""twicetold's compiled JSON Lines reader and writer (``_jsonl``) against pyarrow and polars.

    python benchmarks/bench_jsonl.py                      # 100,000 documents (~420 MB)
    python benchmarks/bench_jsonl.py --docs 300 --repeat 1 --big-mb 2   # a smoke run

Generates ``python -m twicetold.testing.synthetic --docs N --seed 1`` into
``.bench/jsonl/corpus-N.jsonl`` (ignored by git) unless it is there, then, on that one file
(read from the page cache: every reader gets an untimed warm-up run, then the best of
``--repeat`` runs):

READ   ``twicetold.readers.read_batches`` with the default ``ReadConfig`` as a scan calls it
       (every batch consumed, its metadata asked for), on one thread and on the scan's
       ``n_workers`` threads; once more with the ``prepare`` hook a scan passes (the batch's
       sketch, made on the thread that parsed it: read *and* sketch, so not comparable to
       the libraries, shown for scale); ``pyarrow.json.read_json``; ``polars.read_ndjson``
       and ``polars.scan_ndjson(...).collect()``. MB/s of the file, and each one's speed as a
       multiple of twicetold's (same threads).
SCAN   ``twicetold.scan([path])`` (wall time and its ``read_and_sketch`` stage) on the JSON
       Lines file; on the same rows converted to Parquet (twicetold's Parquet reader: pyarrow
       batches, then rows one by one); and on the JSON Lines file with the JSON Lines reader
       swapped, in this process only, for a library one (pyarrow.json, polars: the whole file
       read to Arrow, cut into batches that the scan sketches in its background thread as it
       does every batch that is not from the compiled reader). That last is what replacing
       the reader would give, and the difference is what the reader costs the scan.
WRITE  The same Arrow tables (the corpus itself; the ``documents`` and ``passages`` tables of
       the scan) written as JSON Lines by ``outputs.write_jsonl_table`` (the compiled writer;
       its row minimum lifted so it runs at any size), by ``outputs.write_jsonl`` (orjson, the
       reference it must equal) and by ``polars.DataFrame.write_ndjson``. pyarrow has no JSON
       writer. MB/s of output, and whether the bytes are identical (if not: where and how they
       differ), on those tables and on a small table of awkward values.
CAN    Small hostile files: what each reader makes of them (rows, or a failure of the whole
       file), with twicetold's ``InputProblem``s.

Ends with a summary of where the compiled code is faster, slower, or gives what the libraries
cannot. ``--json FILE`` also writes every figure as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / ".bench" / "jsonl"

try:
    import polars as pl
except ImportError:  # an optional library: its rows say so
    pl = None  # type: ignore[assignment]


FIELDS = ("id", "text", "date", "source")  # the fields a scan reads, all texts


def pa_options() -> pajson.ParseOptions:
    """pyarrow.json as a replacement reader would call it: the scan's fields read as texts
    (left to itself, pyarrow makes ``"2024-01-01"`` a timestamp), every other one inferred."""
    return pajson.ParseOptions(explicit_schema=pa.schema([(f, pa.string()) for f in FIELDS]))


def pa_read(path: Path, threads: bool = True) -> pa.Table:
    return pajson.read_json(path, read_options=pajson.ReadOptions(use_threads=threads), parse_options=pa_options())


def pl_read(path: Path) -> Any:
    assert pl is not None
    return pl.read_ndjson(path, schema_overrides=dict.fromkeys(FIELDS, pl.String))


def ensure_corpus(out: Path, n_docs: int) -> Path:
    path = out / f"corpus-{n_docs}.jsonl"
    if not path.exists():
        out.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} ...", flush=True)
        subprocess.run([sys.executable, "-m", "twicetold.testing.synthetic", "--docs", str(n_docs), "--seed", "1",
                        "-o", str(path)], check=True)
    return path


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """One untimed warm-up run, then the best wall time of ``repeat`` runs (and the last result)."""
    result = fn()
    del result
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


# -------------------------------------------------------------------------------- reading


def twicetold_read(path: Path, threads: int, prepare: Callable[[Any], object] | None = None) -> int:
    from twicetold import _kernels
    from twicetold.config import ReadConfig
    from twicetold.readers import read_batches

    n = 0
    problems: list[Any] = []
    with _kernels.threads(threads):
        for batch in read_batches([path], ReadConfig(), problems, threads=threads, prepare=prepare):
            batch.meta()  # what the scan asks of every batch
            n += len(batch)
    return n


def sketcher() -> Callable[[Any], object]:
    """The ``prepare`` a scan passes: the batch's sketch on the thread that parsed it."""
    from twicetold.config import ScanConfig
    from twicetold.sketch import featurize

    cfg = ScanConfig()
    return lambda batch: featurize(batch.texts, cfg.sketch, keep_shingles=True, parallel=False)


def bench_read(path: Path, repeat: int, threads: int) -> list[dict[str, Any]]:
    mb = path.stat().st_size / 1e6
    runs: list[tuple[str, int, Callable[[], int]]] = [
        ("twicetold read_batches", 1, lambda: twicetold_read(path, 1)),
        ("twicetold read_batches", threads, lambda: twicetold_read(path, threads)),
        ("twicetold read_batches + sketch (prepare)", 1, lambda: twicetold_read(path, 1, sketcher())),
        ("twicetold read_batches + sketch (prepare)", threads, lambda: twicetold_read(path, threads, sketcher())),
        ("pyarrow.json.read_json", 1, lambda: pa_read(path, threads=False).num_rows),
        ("pyarrow.json.read_json", threads, lambda: pa_read(path).num_rows),
    ]
    if pl is not None:
        overrides = dict.fromkeys(FIELDS, pl.String)
        runs += [("polars.read_ndjson", threads, lambda: pl_read(path).height),
                 ("polars.scan_ndjson().collect()", threads,
                  lambda: pl.scan_ndjson(path, schema_overrides=overrides).collect().height)]
    out = []
    rows_expected = None
    for name, n_threads, fn in runs:
        seconds, rows = best_of(fn, repeat)
        rows_expected = rows_expected or rows
        out.append({"reader": name, "threads": n_threads, "seconds": seconds, "mb_per_s": mb / seconds,
                    "rows": rows})
        print(f"  {name} ({n_threads} thread(s)): {seconds:.2f} s", flush=True)
    base = {r["threads"]: r["mb_per_s"] for r in out if r["reader"] == "twicetold read_batches"}
    for r in out:
        # polars sizes its own pool (all cores): compared with twicetold on all threads
        r["vs_twicetold"] = r["mb_per_s"] / base.get(r["threads"], base[threads])
    return out


# -------------------------------------------------------------------------------- whole scan


def library_batches(kind: str) -> Callable[..., Iterator[Any]]:
    """A stand-in for ``readers._jsonl_batches`` reading the whole file with a library: the
    batches the scan needs (ids, texts, sources, dates, origins), without ``prepared``."""
    from twicetold import readers

    def batches(path: str, config: Any, problems: list[Any], size: int, threads: int,
                prepare: Any) -> Iterator[Any]:
        arrow = pl_read(Path(path)).to_arrow() if kind == "polars" else pa_read(Path(path))
        names = set(arrow.column_names)
        special = {config.id_column, config.text_column, config.date_column, config.source_column}
        extra = [c for c in arrow.column_names if c not in special]
        for start in range(0, arrow.num_rows, size):
            part = arrow.slice(start, size)
            n = part.num_rows

            def col(name: str, part: pa.Table = part, n: int = n) -> list[Any]:
                return part.column(name).to_pylist() if name in names else [None] * n

            ids = [i if i else f"{path}:{start + k + 1}" for k, i in enumerate(col(config.id_column))]
            text = part.column(config.text_column).combine_chunks().cast(pa.large_string())
            meta = part.select(extra).to_pylist() if extra else [{} for _ in range(n)]
            yield readers.DocumentBatch(ids, text, [s or None for s in col(config.source_column)],
                                        [d or None for d in col(config.date_column)], ["utf-8"] * n,
                                        [[] for _ in range(n)], [f"{path}:{start + k + 1}" for k in range(n)],
                                        meta_rows=meta)

    return batches


@contextlib.contextmanager
def swapped_reader(kind: str | None) -> Iterator[None]:
    from twicetold import readers

    if kind is None:
        yield
        return
    original = readers._jsonl_batches
    readers._jsonl_batches = library_batches(kind)
    try:
        yield
    finally:
        readers._jsonl_batches = original


def bench_scan(path: Path, parquet: Path, repeat: int) -> tuple[list[dict[str, Any]], Any]:
    import twicetold

    variants: list[tuple[str, Path, str | None]] = [
        ("JSON Lines, compiled reader", path, None),
        ("Parquet (converted), twicetold's Parquet reader", parquet, None),
        ("JSON Lines, reader swapped for pyarrow.json", path, "pyarrow"),
    ]
    if pl is not None:
        variants.append(("JSON Lines, reader swapped for polars", path, "polars"))
    out = []
    first: Any = None
    for k, (name, source, swap) in enumerate(variants):
        best: dict[str, Any] | None = None
        with swapped_reader(swap):
            if k == 0:
                first = twicetold.scan([source])  # untimed: Numba's kernels load; kept for the write tables
            for _ in range(repeat):
                gc.collect()
                t0 = time.perf_counter()
                result = twicetold.scan([source])
                seconds = time.perf_counter() - t0
                if best is None or seconds < best["seconds"]:
                    best = {"variant": name, "seconds": seconds, "documents": len(result.documents),
                            "read_and_sketch": result.run["timings"]["read_and_sketch"], "pairs": len(result.pairs)}
                del result
        assert best is not None
        out.append(best)
        print(f"  {name}: {best['seconds']:.2f} s (read_and_sketch {best['read_and_sketch']:.2f} s)", flush=True)
    return out, first


# -------------------------------------------------------------------------------- writing


def write_compiled(path: Path, tab: pa.Table) -> None:
    from twicetold import outputs

    floor = outputs.COMPILED_JSONL_MIN_ROWS
    outputs.COMPILED_JSONL_MIN_ROWS = 0  # the compiled writer at any size
    try:
        outputs.write_jsonl_table(path, tab)
    finally:
        outputs.COMPILED_JSONL_MIN_ROWS = floor


def write_orjson(path: Path, tab: pa.Table) -> None:
    from twicetold import outputs

    outputs.write_jsonl(path, tab.to_pylist())


def write_polars(path: Path, tab: pa.Table) -> None:
    assert pl is not None
    pl.from_arrow(tab).write_ndjson(path)  # type: ignore[union-attr]


def compiled_takes(tab: pa.Table) -> bool:
    from twicetold import outputs

    return outputs._jsonl_columns(tab) is not None


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def describe_difference(ours: Path, theirs: Path, limit: int = 3) -> str:
    """'identical', or how many lines differ, whether they hold the same values, and the first
    differences (a few characters around each)."""
    if _digest(ours) == _digest(theirs):
        return "identical"
    differing = same_values = total = 0
    shown: list[str] = []
    with open(ours, "rb") as a, open(theirs, "rb") as b:
        for number, (x, y) in enumerate(zip(a, b, strict=False), 1):
            total += 1
            if x == y:
                continue
            differing += 1
            with contextlib.suppress(ValueError):
                same_values += json.loads(x) == json.loads(y)
            if len(shown) < limit:
                at = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
                lo = max(0, at - 12)
                shown.append(f"line {number}: ours {x[lo:at + 24]!r} / theirs {y[lo:at + 24]!r}")
    sizes = f"{ours.stat().st_size:,} vs {theirs.stat().st_size:,} bytes"
    return (f"{differing:,} of {total:,} lines differ ({sizes}); {same_values:,} of them hold equal values "
            f"when parsed; " + "; ".join(shown))


def awkward_table() -> pa.Table:
    """Values whose JSON spelling writers choose differently."""
    texts = ["é ü 漢字 😀", 'tab\t nl\n quote" bs\\ slash/', "\x00\x01\x1f\x7f", "\u2028\u2029", "</script>", None]
    return pa.table({
        "text": pa.array(texts, pa.string()),
        "int": pa.array([0, -1, 2**53 + 1, 2**63 - 1, -(2**63), None], pa.int64()),
        "score": pa.array([0.1, 0.5, 1.0, 0.3333, 1e9, None], pa.float64()),
        "flag": pa.array([True, False, None, True, False, True]),
        "tags": pa.array([["a"], [], None, ["x", "ü"], ["\n"], []], pa.list_(pa.string())),
    })


def awkward_floats() -> pa.Table:
    """Numbers the compiled writer leaves to orjson (more than four decimals, exponents, NaN)."""
    return pa.table({"x": pa.array([1e-05, 0.1 + 0.2, 1e20, 123456.789012, float("nan"), float("inf")])})


def bench_write(tables: dict[str, pa.Table], folder: Path, repeat: int) -> list[dict[str, Any]]:
    writers: list[tuple[str, Callable[[Path, pa.Table], None]]] = [
        ("twicetold compiled (write_jsonl_table)", write_compiled), ("twicetold orjson (write_jsonl)", write_orjson)]
    if pl is not None:
        writers.append(("polars write_ndjson", write_polars))
    out: list[dict[str, Any]] = []
    for tname, tab in tables.items():
        files: dict[str, Path] = {}
        for wname, fn in writers:
            target = folder / f"{tname}.{wname.split()[0]}-{wname.split()[1]}.jsonl"
            small = tab.num_rows < 100
            try:
                def once(fn: Callable[[Path, pa.Table], None] = fn, target: Path = target,
                         tab: pa.Table = tab) -> None:
                    fn(target, tab)

                seconds, _ = best_of(once, 1 if small else repeat)
            except Exception as exc:  # a writer that refuses a value: said as it is
                out.append({"table": tname, "writer": wname, "error": f"{type(exc).__name__}: {exc}"[:160]})
                continue
            files[wname] = target
            size = target.stat().st_size
            out.append({"table": tname, "writer": wname, "rows": tab.num_rows, "seconds": seconds,
                        "mb_per_s": size / 1e6 / seconds, "bytes": size,
                        "compiled_path": compiled_takes(tab) if "compiled" in wname else None})
        ours = files.get(writers[0][0])
        for r in out:
            if r["table"] == tname and "error" not in r and ours is not None and r["writer"] != writers[0][0]:
                r["bytes_vs_compiled"] = describe_difference(ours, files[r["writer"]])
        if not tab.num_rows < 100:
            print(f"  {tname}: written", flush=True)
    return out


# -------------------------------------------------------------------------------- capabilities


def _nested(depth: int) -> str:
    return '{"id": "deep", "text": "deep nesting", "x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def hostile_files(folder: Path, big_mb: int) -> list[tuple[str, Path, Callable[[list[dict[str, Any]]], str]]]:
    """(case, file, what to show of its rows) for each hostile file."""
    def lines(*rows: str, end: str = "\n") -> bytes:
        return "".join(r + end for r in rows).encode("utf-8")

    def ok(i: int) -> str:
        return json.dumps({"id": f"r{i}", "text": f"row {i} text"})

    cases: list[tuple[str, bytes, Callable[[list[dict[str, Any]]], str]]] = [
        ("malformed line 3 of 5", lines(ok(1), ok(2), '{"id": "r3", "text": "oops"', ok(4), ok(5)),
         lambda rows: f"{len(rows)} rows: " + ",".join(str(r.get("id")) for r in rows)),
        ("extra field, mixed types", lines(*[json.dumps({"id": f"r{i}", "text": "t", "extra": v})
                                             for i, v in enumerate([1, "two", 3.5, [4], {"five": 5}, None, True])]),
         lambda rows: ", ".join(repr(r.get("extra")) for r in rows)),
        ("integer past int64", lines('{"id": "r1", "text": "t", "n": 1}',
                                     '{"id": "r2", "text": "t", "n": 123456789012345678901234567890}'),
         lambda rows: ", ".join(repr(r.get("n")) for r in rows)),
        ("lone high surrogate \\ud800", lines('{"id": "r1", "text": "a\\ud800b"}', ok(2)),
         lambda rows: f"{len(rows)} rows: " + ", ".join(ascii(r.get("text")) for r in rows)),
        ("lone low surrogate \\udc00", lines(ok(1), '{"id": "r2", "text": "a\\udc00b"}'),
         lambda rows: f"{len(rows)} rows: " + ", ".join(ascii(r.get("text")) for r in rows)),
        ("UTF-16 file (BOM)", "".join(ok(i) + "\n" for i in (1, 2)).encode("utf-16"),
         lambda rows: f"{len(rows)} rows: " + ", ".join(ascii(r.get("text")) for r in rows)),
        ("CRLF line ends", lines(ok(1), ok(2), end="\r\n"),
         lambda rows: f"{len(rows)} rows: " + ", ".join(ascii(r.get("text")) for r in rows)),
        (f"{big_mb} MB text in one field", lines(ok(1), json.dumps({"id": "big", "text": "word " * (big_mb * 200_000)}),
                                                 ok(3)),
         lambda rows: f"{len(rows)} rows, longest text {max(len(r.get('text') or '') for r in rows):,} chars"),
        ("nesting 100 levels deep", lines(ok(1), _nested(100)),
         lambda rows: f"{len(rows)} rows: " + ",".join(str(r.get("id")) for r in rows)),
    ]
    out = []
    for k, (name, data, show) in enumerate(cases):
        path = folder / f"hostile-{k}.jsonl"
        path.write_bytes(data)
        out.append((name, path, show))
    return out


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"fails the whole file: {type(exc).__name__}: {text[:110]}"


def read_twicetold_rows(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    from twicetold.config import ReadConfig
    from twicetold.readers import read_batches

    problems: list[Any] = []
    rows = []
    for batch in read_batches([path], ReadConfig(), problems):
        for doc in batch.documents():
            rows.append({"id": doc.id, "text": doc.text, **doc.meta})
    said = [f"{p.kind} at {Path(p.where).name} ({p.action})" for p in problems]
    return rows, said


def capabilities(folder: Path, big_mb: int) -> list[dict[str, str]]:
    readers: list[tuple[str, Callable[[Path], list[dict[str, Any]]]]] = [
        ("pyarrow.json", lambda p: pajson.read_json(p).to_pylist())]
    if pl is not None:
        readers.append(("polars", lambda p: pl.read_ndjson(p).to_dicts()))
    out = []
    for name, path, show in hostile_files(folder, big_mb):
        row = {"case": name}
        try:
            rows, said = read_twicetold_rows(path)
            row["twicetold"] = show(rows) + (f"; problems: {'; '.join(said)}" if said else "")
            row["twicetold rows"] = f"{len(rows)} rows" + (f" + {len(said)} problem(s)" if said else "")
        except Exception as exc:
            row["twicetold"], row["twicetold rows"] = _short(exc), "FAILS"
        for rname, read in readers:
            try:
                got = read(path)
                row[rname], row[f"{rname} rows"] = show(got), f"{len(got)} rows"
            except BaseException as exc:  # polars panics surface as PanicException (a BaseException)
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                row[rname], row[f"{rname} rows"] = _short(exc), "FAILS"
        out.append(row)
    return out


# -------------------------------------------------------------------------------- report


def summarize(read: list[dict[str, Any]], scan: list[dict[str, Any]], write: list[dict[str, Any]],
              threads: int) -> list[str]:
    def rate(name: str, n: int) -> float:
        return next((r["mb_per_s"] for r in read if r["reader"] == name and r["threads"] == n), math.nan)

    ours, ours1 = rate("twicetold read_batches", threads), rate("twicetold read_batches", 1)
    pa_n, pa_1 = rate("pyarrow.json.read_json", threads), rate("pyarrow.json.read_json", 1)
    pl_n = rate("polars.read_ndjson", threads)
    lines = [f"READ: compiled reader {ours:.0f} MB/s on {threads} thread(s) ({ours1:.0f} on 1); "
             f"pyarrow.json {pa_n:.0f} MB/s ({pa_1:.0f} on 1), {pa_n / ours:.2f}x"
             + (f"; polars {pl_n:.0f} MB/s, {pl_n / ours:.2f}x" if pl is not None else "; polars not installed")]
    if scan:
        base = scan[0]
        parts = [f"{s['variant']} {s['seconds']:.2f} s (read+sketch {s['read_and_sketch']:.2f} s, "
                 f"{s['seconds'] / base['seconds']:.2f}x)" for s in scan]
        lines.append("SCAN: " + "; ".join(parts))
    for tname in dict.fromkeys(w["table"] for w in write):
        rows = {w["writer"]: w for w in write if w["table"] == tname}
        c = rows.get("twicetold compiled (write_jsonl_table)")
        p = rows.get("polars write_ndjson")
        o = rows.get("twicetold orjson (write_jsonl)")
        if c is None or "error" in c or c["rows"] < 100:
            continue
        said = f"WRITE {tname}: compiled {c['mb_per_s']:.0f} MB/s" + ("" if c["compiled_path"] else
                                                                        " (fell back to orjson)")
        if o and "error" not in o:
            said += f", orjson {o['mb_per_s']:.0f} MB/s ({o['bytes_vs_compiled'].split(';')[0]})"
        if p and "error" not in p:
            said += f", polars {p['mb_per_s']:.0f} MB/s ({p['mb_per_s'] / c['mb_per_s']:.2f}x; " \
                    f"bytes {p['bytes_vs_compiled'].split(';')[0]})"
        lines.append(said)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--docs", type=int, default=100_000, help="documents in the corpus (default 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each, best kept (default 3)")
    parser.add_argument("--out", type=Path, default=BENCH, help="where the corpus goes (default .bench/jsonl)")
    parser.add_argument("--big-mb", type=int, default=50, help="size of the hostile single text field (default 50)")
    parser.add_argument("--no-scan", action="store_true", help="skip the whole-scan comparison")
    parser.add_argument("--json", type=Path, help="also write every figure here as JSON")
    args = parser.parse_args(argv)
    from twicetold.config import ScanConfig

    threads = ScanConfig().n_workers
    corpus = ensure_corpus(args.out, args.docs)
    mb = corpus.stat().st_size / 1e6
    versions = {"pyarrow": pa.__version__, "polars": pl.__version__ if pl is not None else "not installed"}
    print(f"corpus {corpus} ({mb:,.1f} MB, {args.docs:,} docs); {threads} core(s); {versions}", flush=True)
    results: dict[str, Any] = {"corpus": str(corpus), "mb": mb, "threads": threads, "versions": versions}

    print(f"\nREAD (best of {args.repeat} after a warm-up)", flush=True)
    read = bench_read(corpus, args.repeat, threads)
    results["read"] = read
    print(table([[r["reader"], str(r["threads"]), f"{r['seconds']:.3f}", f"{r['mb_per_s']:.0f}",
                  f"{r['vs_twicetold']:.2f}x", str(r["rows"])] for r in read],
                ["reader", "threads", "seconds", "MB/s", "vs twicetold", "rows"]))

    with tempfile.TemporaryDirectory(prefix="bench-jsonl-", dir=args.out) as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        corpus_table = pa_read(corpus)
        parquet = work / f"{corpus.stem}.parquet"
        pq.write_table(corpus_table, parquet, compression="zstd")
        results["parquet_conversion_seconds"] = time.perf_counter() - t0
        scan: list[dict[str, Any]] = []
        tables: dict[str, pa.Table] = {"corpus": corpus_table}
        if not args.no_scan:
            print(f"\nSCAN twicetold.scan (best of {args.repeat}; Parquet conversion took "
                  f"{results['parquet_conversion_seconds']:.1f} s, not counted)", flush=True)
            scan, first = bench_scan(corpus, parquet, args.repeat)
            results["scan"] = scan
            print(table([[s["variant"], f"{s['seconds']:.2f}", f"{s['read_and_sketch']:.2f}",
                          f"{s['seconds'] / scan[0]['seconds']:.2f}x", str(s["documents"]), str(s["pairs"])]
                         for s in scan],
                        ["input / reader", "scan s", "read_and_sketch s", "vs compiled", "documents", "pairs"]))
            from twicetold import outputs
            from twicetold.model import TableRows

            tables["documents"] = outputs.document_table(first.documents)
            occ = first.occurrences
            tables["passages"] = (occ.table if isinstance(occ, TableRows) else
                                  pa.Table.from_pylist([outputs.fields(o) for o in occ])).cast(
                outputs.PASSAGES_SCHEMA)
            del first
        tables["awkward values"] = awkward_table()
        tables["awkward floats"] = awkward_floats()

        print(f"\nWRITE (best of {args.repeat}; pyarrow has no JSON writer)", flush=True)
        write = bench_write(tables, work, args.repeat)
        results["write"] = write
        print(table([[w["table"], w["writer"], str(w.get("rows", "")),
                      f"{w['seconds']:.3f}" if "seconds" in w else "-",
                      f"{w['mb_per_s']:.0f}" if "mb_per_s" in w else "-",
                      {True: "yes", False: "no: orjson", None: ""}[w.get("compiled_path")]]
                     for w in write],
                    ["table", "writer", "rows", "seconds", "MB/s", "compiled"]))
        print("\nbytes against the compiled writer's:")
        for w in write:
            if "error" in w:
                print(f"  {w['table']} / {w['writer']}: {w['error']}")
            elif "bytes_vs_compiled" in w:
                print(f"  {w['table']} / {w['writer']}: {w['bytes_vs_compiled']}")

        print("\nCAPABILITIES (hostile files; 'fails the whole file' = no rows at all)", flush=True)
        caps = capabilities(work, args.big_mb)
        results["capabilities"] = caps
        names = [k for k in caps[0] if k != "case" and not k.endswith(" rows")]
        for c in caps:
            print(f"- {c['case']}")
            for k in names:
                print(f"    {k:<13} {c[k]}")
        print(table([[c["case"], *[c[f"{k} rows"] for k in names]] for c in caps],
                    ["case", *names]))

    print("\nSUMMARY")
    summary = summarize(read, scan, write, threads)
    results["summary"] = summary
    for line in summary:
        print("- " + line)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
