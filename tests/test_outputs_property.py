"""Property tests of the results writers (hypothesis, derandomized: the same examples on every
run): the compiled JSON Lines writer against orjson, the documents table's two files against
each other and against the input under the README's rule for carried columns, and every table
of a scan's results folder in both formats."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import twicetold
from twicetold import outputs
from twicetold.config import ScanConfig
from twicetold.model import DocumentRecord, ScanResult

# deadline=None: the first example compiles (or loads) the Numba kernels.
SETTINGS: dict[str, Any] = {"derandomize": True, "deadline": None, "database": None,
                            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
TABLES = ("pairs", "clusters", "passages", "passage_clusters", "documents")

TEXT = (st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
        | st.sampled_from(['"', "\\", "a\nb\x00\x1f\x7f", "é中😀", "\u2028", "", "x" * 40]))
INT64 = st.integers(-2**63, 2**63 - 1) | st.sampled_from([-2**63, 2**63 - 1, -1, 0])
FOUR_DECIMALS = (st.integers(-10**13, 10**13).map(lambda k: k / 10000)
                 | st.sampled_from([-0.0, 0.0, 1.0, -0.5, 1e9, -1e9, 0.0001]))
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def same(a: Any, b: Any) -> bool:
    """Equal as JSON values, strictly: of one type (a boolean is no integer, 1 is not 1.0), the
    sign of a zero included."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def both_formats(folder: Path, table: str) -> list[dict[str, Any]]:
    """A results table's JSON Lines rows, checked to be its Parquet twin's, row for row."""
    rows = read_jsonl(folder / f"{table}.jsonl")
    twin = pq.read_table(folder / f"{table}.parquet").to_pylist()
    assert len(rows) == len(twin), table
    for row, other in zip(rows, twin, strict=True):
        assert list(row) == list(other) and same(row, other), (table, row, other)
    return rows


# ------------------------------------------------------------------ (1) the compiled writer

# Columns of each kind: the Arrow type, the values, and whether the compiled writer takes them
# (numbers of many decimals and integers past int64 go through orjson, with the same bytes).
COLUMNS = {
    "int64": (pa.int64(), INT64, True),
    "int8": (pa.int8(), st.integers(-128, 127), True),
    "uint64": (pa.uint64(), st.integers(0, 2**64 - 1), False),
    "decimals": (pa.float64(), FOUR_DECIMALS | NON_FINITE, True),
    "floats": (pa.float64(), st.floats(), False),
    "bool": (pa.bool_(), st.booleans(), True),
    "string": (pa.string(), TEXT, True),
    "large_string": (pa.large_string(), TEXT, True),
    "texts": (pa.list_(pa.string()), st.lists(TEXT, max_size=3), True),
    "null": (pa.null(), st.none(), True),
}


@st.composite
def arrow_tables(draw: st.DrawFn) -> tuple[pa.Table, bool]:
    """A table of random columns (nulls in each), maybe in two chunks (the second with an
    offset), and whether the compiled writer is certain to write it."""
    n = draw(st.integers(0, 12))
    names = draw(st.lists(TEXT, min_size=1, max_size=5, unique=True))
    columns, compiled = {}, True
    for name in names:
        arrow_type, values, fast = COLUMNS[draw(st.sampled_from(sorted(COLUMNS)))]
        columns[name] = pa.array(draw(st.lists(st.none() | values, min_size=n, max_size=n)), arrow_type)
        compiled = compiled and fast
    table = pa.table(columns)
    cut = draw(st.integers(0, n))
    if 0 < cut < n:
        table = pa.concat_tables([table.slice(0, cut), table.slice(cut)])
    return table, compiled


EXTREMES = pa.table({"n": pa.array([-2**63, 2**63 - 1, None, -1], pa.int64()),
                     "f": pa.array([-0.0, math.nan, -math.inf, 0.0], pa.float64())})


@settings(max_examples=200, **SETTINGS)
@given(arrow_tables(), st.sampled_from([64, 4096, 1 << 20]))
@example((EXTREMES, True), 64)
def test_compiled_writer_writes_orjsons_bytes(drawn: tuple[pa.Table, bool], chunk: int) -> None:
    """int64 extremes, -0.0, NaN and infinities (null, as orjson writes them), nulls, any
    Unicode, lists of texts: the bytes orjson writes of the table's rows, whatever the size of
    the buffer the rows are written through."""
    table, compiled = drawn
    if compiled:
        assert outputs._jsonl_columns(table) is not None
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as monkey:
        monkey.setattr(outputs, "JSONL_CHUNK", chunk)
        monkey.setattr(outputs, "COMPILED_JSONL_MIN_ROWS", 0)  # small tables take orjson otherwise
        path = Path(folder) / "t.jsonl"
        outputs.write_jsonl_table(path, table)
        assert path.read_bytes() == b"".join(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
                                             for row in table.to_pylist())


# ------------------------------------------------------------------ (2) the documents table

SCALARS = (st.none() | st.booleans() | st.integers() | INT64 | st.floats() | TEXT
           | st.sampled_from([2**53, 2**53 + 1, -2**63 - 1, 2**64, -(2**70), -0.0]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                    max_leaves=8)
# What a JSON Lines file holds (RFC 8259: no NaN), as the readers of the other formats also give it.
PLAIN_JSON = st.recursive(st.none() | st.booleans() | INT64 | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                          max_leaves=8)


def nest(value: Any, levels: int, in_lists: bool) -> Any:
    for _ in range(levels):
        value = [value] if in_lists else {"k": value}
    return value


DEEP = st.builds(nest, JSON, st.integers(outputs.MAX_TYPED_DEPTH - 3, outputs.MAX_TYPED_DEPTH + 3), st.booleans())
# Values of one kind per column, most of the time (typed columns), with any JSON value mixed
# in now and then (columns of JSON text).
FAMILIES = [
    TEXT, INT64, st.booleans(), st.floats(), st.integers(-2**53, 2**53) | st.floats(allow_nan=False),
    st.lists(TEXT, max_size=3), st.lists(st.floats() | st.integers(-9, 9), max_size=3),
    st.fixed_dictionaries({"a": st.none() | INT64, "b": st.lists(st.floats(), max_size=2)}),
    st.fixed_dictionaries({"x": TEXT}, optional={"y": st.booleans()}), st.just({}), JSON, DEEP,
]
NAMES = st.sampled_from(["url", "id", "length", "input_length", "cluster", "tags", ""]) | TEXT


@st.composite
def carried_columns(draw: st.DrawFn, n: int) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {}
    for name in draw(st.lists(NAMES, max_size=4, unique=True)):
        family = draw(st.sampled_from(FAMILIES))
        values = st.none() | family | JSON if draw(st.booleans()) else st.none() | family
        columns[name] = draw(st.lists(values, min_size=n, max_size=n))
    return columns


def without_non_finite(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, list):
        return [without_non_finite(x) for x in v]
    if isinstance(v, dict):
        return {k: without_non_finite(x) for k, x in v.items()}
    return v


def json_like(t: pa.DataType, depth: int = 0) -> bool:
    """Whether Arrow's type ``t`` is one Parquet stores and JSON writes as it is, nested at
    most ``MAX_TYPED_DEPTH`` levels."""
    if t in (pa.string(), pa.bool_(), pa.int64(), pa.float64(), pa.null()):
        return True
    if depth >= outputs.MAX_TYPED_DEPTH:
        return False
    if pa.types.is_list(t):
        return json_like(t.value_type, depth + 1)
    return pa.types.is_struct(t) and t.num_fields > 0 and all(json_like(f.type, depth + 1) for f in t)


def as_floats_where_needed(written: Any, given: Any) -> bool:
    """``same``, but for integers written as floats of the same value (a column of numbers)."""
    if type(given) is int and type(written) is float:
        return written == given
    if type(written) is not type(given):
        return False
    if isinstance(given, list):
        return len(written) == len(given) and all(map(as_floats_where_needed, written, given))
    if isinstance(given, dict):
        return written.keys() == given.keys() and all(as_floats_where_needed(written[k], given[k]) for k in given)
    return same(written, given)


def expected_column(values: list[Any]) -> tuple[list[Any], bool]:
    """The README's rule, told by Arrow's own inference: NaN and infinities are null; a column
    that Arrow types as JSON-like types, holding every value as it is (integers among numbers
    with decimals as floats), is written typed (the values as Arrow holds them); any other is
    written as the JSON text of each value. Returns (values, whether JSON text)."""
    clean = [without_non_finite(v) for v in values]
    try:
        array = pa.array(clean)
    except (pa.ArrowException, OverflowError):
        return clean, True
    typed = array.to_pylist()
    if json_like(array.type) and as_floats_where_needed(typed, clean):
        return typed, False
    return clean, True


@st.composite
def documents(draw: st.DrawFn) -> list[DocumentRecord]:
    n = draw(st.integers(0, 6))
    columns = draw(carried_columns(n))
    docs = []
    for i in range(n):
        meta = {name: values[i] for name, values in columns.items() if values[i] is not None or draw(st.booleans())}
        docs.append(DocumentRecord(
            id=f"d{i}", source=draw(st.none() | TEXT), date=draw(st.none() | st.just("2024-05-01")),
            length=draw(st.integers(0, 10**6)), encoding="utf-8", warnings=draw(st.lists(TEXT, max_size=2)),
            meta=meta, origin=f"in.jsonl:{i + 1}", cluster=draw(st.none() | st.integers(0, 3))))
    return docs


@settings(max_examples=150, **SETTINGS)
@given(documents(), st.sampled_from([1, 2]))
@example([DocumentRecord("a", None, None, 1, "utf-8", [], {"m": {}, "n": -2**63, "f": -0.0, "big": 2**70,
                                                            "deep": nest(1, 300, True)}, "x", 0)], 1)
def test_documents_files_hold_the_same_rows_as_the_rule_says(docs: list[DocumentRecord], workers: int) -> None:
    """Random documents with random carried fields (mixed types across rows, objects of other
    keys, empty objects, integers past 64 bits, NaN and infinities, nesting around the depth
    limit): documents.jsonl and documents.parquet hold the same rows, and each carried column
    is the input under the README's rule."""
    with tempfile.TemporaryDirectory() as folder:
        out = outputs.write_results(ScanResult(docs, [], [], []), Path(folder) / "results", workers=workers)
        rows = both_formats(out, "documents")
    names, input_columns = outputs._document_columns(docs)
    assert [list(row) for row in rows] == [names] * len(docs)
    for row, d in zip(rows, docs, strict=True):
        assert (row["id"], row["source"], row["date"], row["length"], row["warnings"], row["cluster"]) == \
            (d.id, d.source, d.date, d.length, d.warnings, d.cluster)
    for name, key in zip(names[len(outputs.DOCUMENT_FIELDS):], input_columns, strict=True):
        written = [row[name] for row in rows]
        expected, text = expected_column([d.meta.get(key) for d in docs])
        if not text:
            assert same(written, expected), (name, written, expected)
            continue
        for w, e in zip(written, expected, strict=True):
            if e is None:
                assert w is None, (name, w)
            else:
                assert type(w) is str and same(json.loads(w), e), (name, w, e)


# ------------------------------------------------------------------ (3) a scan's results folder

SENTENCES = [
    "Dockworkers at the port of Arden walked out on Monday, halting container traffic for the third time.",
    "Union officials said the strike would last until the employers' offer was improved by a wide margin.",
    "«Nous ne reculerons pas», a déclaré la porte-parole devant la foule réunie près du quai numéro neuf.",
    "Grain futures rose for a third day as traders weighed the forecast of a dry summer across the plains.",
    "The city council voted 7–2 to fund the new library, whose doors should open early in the autumn.",
    "Ein Sprecher des Hafens sagte, der Betrieb werde „so bald wie möglich“ wieder aufgenommen werden.",
    "港口发言人表示，码头的运营将尽快恢复，工人们仍在等待新的报价。",
    "Emoji report 😀🚢: shipping lanes reopened after the storm passed north of the islands overnight.",
]


@st.composite
def corpora(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A few documents built from a pool of sentences (so that they share passages), each with
    a source, a date and carried fields."""
    rows = []
    for i in range(draw(st.integers(2, 7))):
        picks = draw(st.lists(st.sampled_from(SENTENCES), min_size=0, max_size=5))
        text = " ".join([f"Report {i}:", *picks, draw(st.sampled_from(["", "Ends.", "More later.\n"]))])
        rows.append({"id": f"doc{i}", "text": text, "source": draw(st.sampled_from(["AP", "Reuters", None])),
                     "date": draw(st.sampled_from(["2024-05-01", "2024-05-02T10:00:00Z", None])),
                     "tags": draw(st.none() | st.lists(TEXT, max_size=2)), "extra": draw(st.none() | PLAIN_JSON)})
    return rows


@settings(max_examples=12, **SETTINGS)
@given(corpora())
def test_every_table_of_a_scan_is_the_same_in_both_formats(corpus: list[dict[str, Any]]) -> None:
    """A scan of a small corpus: every results table holds the same rows in JSON Lines and in
    Parquet, and every passage's text is its document's text[start:end]."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corpus.jsonl"
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in corpus), encoding="utf-8")
        result = twicetold.scan([path], ScanConfig(workers=1))
        out = outputs.write_results(result, Path(folder) / "results", workers=2)
        tables = {name: both_formats(out, name) for name in TABLES}
    texts = {row["id"]: row["text"] for row in corpus}
    assert [d["id"] for d in tables["documents"]] == list(texts)
    assert [d["length"] for d in tables["documents"]] == [len(t) for t in texts.values()]
    for passage in tables["passages"]:
        assert texts[passage["document"]][passage["start"]:passage["end"]] == passage["text"]
    for pair in tables["pairs"]:
        for p in pair["passages"]:
            assert 0 <= p["a_start"] < p["a_end"] <= len(texts[pair["a"]])
            assert 0 <= p["b_start"] < p["b_end"] <= len(texts[pair["b"]])
    occurrences: dict[int, set[str]] = {}
    for passage in tables["passages"]:
        occurrences.setdefault(passage["cluster"], set()).add(passage["text"])
    for cluster in tables["passage_clusters"]:
        assert cluster["id"] not in occurrences or cluster["text"] in occurrences[cluster["id"]]
