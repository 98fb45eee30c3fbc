"""The results folder: its tables in two formats, run.json, and atomic writes (no half-written
folder on failure or Ctrl-C, an existing folder replaced only with ``force``)."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import twicetold
from twicetold import outputs
from twicetold.errors import OutputError
from twicetold.model import Cluster, DocumentRecord, InputProblem, Pair, Passage, ScanResult, TableRows
from twicetold.outputs import (
    CLUSTERS_SCHEMA,
    MAX_PROBLEMS_RECORDED,
    PAIRS_SCHEMA,
    SCHEMA_VERSION,
    atomic_path,
    check_destination,
    document_rows,
    write_results,
)

TABLES = ("pairs", "clusters", "documents", "passages", "passage_clusters")


def doc(id: str, **meta: Any) -> DocumentRecord:
    return DocumentRecord(id=id, source="AP", date="2024-05-01", length=100, encoding="utf-8", warnings=[],
                          meta=meta, origin=f"in.jsonl:{id}")


def make_result(problems: int = 1) -> ScanResult:
    documents = [doc("a", url="https://a.example", title="A"), doc("b", url="https://b.example"),
                 doc("c", title="C")]
    documents[1].warnings = ["not valid UTF-8; decoded as Windows-1252 (cp1252)"]
    documents[0].cluster = documents[1].cluster = 0
    pairs = [
        Pair("a", "b", "near", 0.875, [Passage(0, 90, 0, 92, 92, 0.98)], jaccard_exact=0.9),
        Pair("a", "c", "partial", 0.125, [Passage(10, 40, 50, 81, 31, 1.0), Passage(60, 99, 0, 38, 39, 0.75)]),
    ]
    clusters = [Cluster(0, "a", ["a", "b"], "near", 0.875)]
    found = [InputProblem(f"in.jsonl:{i}", "malformed_row", f"in.jsonl:{i}: invalid JSON", "skipped")
             for i in range(problems)]
    run = {"counts": {"documents": 3, "pairs": 2}, "timings": {"read_and_tokenize": 0.5, "total": 1.25}}
    return ScanResult(documents, pairs, clusters, found, run)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".twicetold-" in p.name)


def fail_after_first_table(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> list[str]:
    """Make the second ``write_table`` call raise ``error``; return the names of tables written."""
    real = outputs.write_table
    written: list[str] = []

    def failing(folder: Path, name: str, *args: Any, **kwargs: Any) -> None:
        if written:
            raise error
        real(folder, name, *args, **kwargs)
        written.append(name)

    monkeypatch.setattr(outputs, "write_table", failing)
    return written


# ---------------------------------------------------------------- contents


def test_tables_in_both_formats_hold_the_same_rows(tmp_path: Path) -> None:
    out = write_results(make_result(), tmp_path / "results", parameters={"keep": "earliest"}, inputs=["in.jsonl"])
    assert out == tmp_path / "results"
    assert {p.name for p in out.iterdir()} == {f"{t}.{e}" for t in TABLES for e in ("jsonl", "parquet")} | {"run.json"}
    for table in TABLES:
        assert pq.read_table(out / f"{table}.parquet").to_pylist() == read_jsonl(out / f"{table}.jsonl"), table
    assert pq.read_schema(out / "pairs.parquet").equals(PAIRS_SCHEMA)
    assert pq.read_schema(out / "clusters.parquet").equals(CLUSTERS_SCHEMA)

    pairs = read_jsonl(out / "pairs.jsonl")
    assert pairs[0] == {"a": "a", "b": "b", "kind": "near", "jaccard": 0.875, "jaccard_exact": 0.9,
                        "direction": "unknown", "same_source": None, "coverage_a": 0.0, "coverage_b": 0.0,
                        "passages": [
        {"a_start": 0, "a_end": 90, "b_start": 0, "b_end": 92, "length": 92, "score": 0.98, "cluster": None,
         "quoted": False, "boilerplate": 0.0, "evidence": None}]}
    assert pairs[1]["jaccard_exact"] is None and len(pairs[1]["passages"]) == 2
    assert read_jsonl(out / "clusters.jsonl") == [
        {"id": 0, "canonical": "a", "size": 2, "kind": "near", "min_jaccard": 0.875, "members": ["a", "b"]}]
    docs = read_jsonl(out / "documents.jsonl")
    assert [(d["id"], d["cluster"], d["url"], d["title"]) for d in docs] == [
        ("a", 0, "https://a.example", "A"), ("b", 0, "https://b.example", None), ("c", None, None, "C")]
    assert docs[1]["warnings"] == ["not valid UTF-8; decoded as Windows-1252 (cp1252)"]


def test_run_record(tmp_path: Path) -> None:
    out = write_results(make_result(), tmp_path / "results", parameters={"keep": "earliest"}, inputs=["in.jsonl"])
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["schema_version"] == SCHEMA_VERSION
    assert run["versions"]["twicetold"] == twicetold.__version__
    assert run["inputs"] == ["in.jsonl"] and run["parameters"] == {"keep": "earliest"}
    assert run["counts"] == {"documents": 3, "pairs": 2}
    assert run["timings"] == {"read_and_tokenize": 0.5, "total": 1.25}
    assert run["problems"] == [{"where": "in.jsonl:0", "kind": "malformed_row",
                                "message": "in.jsonl:0: invalid JSON", "action": "skipped"}]
    assert run["problems_not_listed"] == 0


def test_run_record_caps_the_problems_listed(tmp_path: Path) -> None:
    out = write_results(make_result(problems=MAX_PROBLEMS_RECORDED + 5), tmp_path / "results")
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert len(run["problems"]) == MAX_PROBLEMS_RECORDED and run["problems_not_listed"] == 5
    assert run["problems"][-1]["where"] == f"in.jsonl:{MAX_PROBLEMS_RECORDED - 1}"


def test_document_rows_share_one_set_of_columns_and_rename_clashes() -> None:
    rows = document_rows([doc("a", url="u", length="long"), doc("b", title="T")])
    assert list(rows[0]) == list(rows[1]) == [*outputs.DOCUMENT_FIELDS, "url", "input_length", "title"]
    assert (rows[0]["length"], rows[0]["input_length"], rows[0]["title"]) == (100, "long", None)
    assert (rows[1]["url"], rows[1]["title"]) == (None, "T")


def documents_written(tmp_path: Path, documents: list[DocumentRecord], workers: int = 1) -> list[dict[str, Any]]:
    """The documents table written by ``write_results``: its JSON Lines rows, checked to be the
    Parquet file's rows, row for row."""
    result = make_result()
    result.documents = documents
    out = write_results(result, tmp_path / f"results{len(list(tmp_path.iterdir()))}", workers=workers)
    rows = read_jsonl(out / "documents.jsonl")
    assert pq.read_table(out / "documents.parquet").to_pylist() == rows
    return rows


def carried(rows: list[dict[str, Any]], name: str) -> list[Any]:
    return [r[name] for r in rows]


def test_mixed_type_input_columns_are_json_text_in_both_files(tmp_path: Path) -> None:
    """A carried column whose values do not share one type is written in both files as the
    JSON text of each value (strings included, so that every value reads back as it was)."""
    rows = documents_written(tmp_path, [doc("a", tags=["x", "y"], n=3, s="x"), doc("b", tags="plain", n="three"),
                                        doc("c", tags=None, n=True, s="y")])
    assert carried(rows, "tags") == ['["x","y"]', '"plain"', None]
    assert carried(rows, "n") == ["3", '"three"', "true"]
    assert carried(rows, "s") == ["x", None, "y"]  # one type: kept as it is
    assert [r["id"] for r in rows] == ["a", "b", "c"]


@pytest.mark.parametrize("workers", [1, 2])
def test_empty_objects_in_carried_fields_are_written(tmp_path: Path, workers: int) -> None:
    """Parquet has no empty struct: a carried field holding ``{}`` (alone, in a list, in an
    object) is written as JSON text in both files instead of failing the scan."""
    rows = documents_written(tmp_path, [doc("a", metadata={}, m=[{}], o={"a": {}}, p={"k": 1}),
                                        doc("b", metadata={}, m=[{}, {}], o={"a": {}}, p={})], workers)
    assert carried(rows, "metadata") == ["{}", "{}"]
    assert carried(rows, "m") == ["[{}]", "[{},{}]"]
    assert carried(rows, "o") == ['{"a":{}}', '{"a":{}}']
    assert carried(rows, "p") == ['{"k":1}', "{}"]


def test_objects_of_one_shape_stay_typed(tmp_path: Path) -> None:
    """Objects with the same keys, lists of one type, numbers mixed with integers: typed in
    both files (integers in a column of numbers with decimals written with them: 1.0)."""
    rows = documents_written(tmp_path, [doc("a", where={"city": "Arden", "at": [1, 2.5]}, score=1, tags=["x"]),
                                        doc("b", where={"at": [], "city": None}, score=0.25, tags=None),
                                        doc("c", where=None, score=None, tags=[])])
    assert carried(rows, "where") == [{"city": "Arden", "at": [1.0, 2.5]}, {"city": None, "at": []}, None]
    assert carried(rows, "score") == [1.0, 0.25, None] and isinstance(rows[0]["score"], float)
    assert carried(rows, "tags") == [["x"], None, []]


def test_objects_with_different_keys_are_json_text_in_both_files(tmp_path: Path) -> None:
    """Parquet would give every row every key (null where missing): the rows differ from the
    input, so such a column is JSON text instead."""
    rows = documents_written(tmp_path, [doc("a", m={"x": 1}), doc("b", m={"y": "z"})])
    assert carried(rows, "m") == ['{"x":1}', '{"y":"z"}']


def test_deeply_nested_carried_fields_are_json_text(tmp_path: Path) -> None:
    """Nesting too deep for Parquet (and for orjson, 255 levels) is written as JSON text: any
    depth a caller can build, even one Python's own recursion could not write."""
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    shallow: Any = {"k": 1}
    for _ in range(outputs.MAX_TYPED_DEPTH - 1):
        shallow = {"k": shallow}
    rows = documents_written(tmp_path, [doc("a", deep=deep, d4998=deep[0][0]), doc("b", deep=None, d4998=[[1]])])
    assert carried(rows, "deep") == ["[" * 5000 + "1" + "]" * 5000, None]
    assert carried(rows, "d4998") == ["[" * 4998 + "1" + "]" * 4998, "[[1]]"]
    assert documents_written(tmp_path, [doc("a", shallow=shallow)])[0]["shallow"] == shallow  # 16 levels: typed
    too_deep = documents_written(tmp_path, [doc("a", shallow={"k": shallow})])[0]["shallow"]
    assert too_deep == json.dumps({"k": shallow}, separators=(",", ":"))


def test_a_carried_field_that_holds_itself_is_a_clear_error(tmp_path: Path) -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    result = make_result()
    result.documents = [doc("a", loop=loop)]
    with pytest.raises(OutputError, match="loop"):
        write_results(result, tmp_path / "results")
    assert list(tmp_path.iterdir()) == []


def test_integers_beyond_64_bits_are_decimal_text_in_both_files(tmp_path: Path) -> None:
    big = 2**70
    rows = documents_written(tmp_path, [doc("a", n=big, m=[1, -big], k=2**63 - 1), doc("b", n=5, m=None, k=-2**63)])
    assert carried(rows, "n") == [str(big), "5"]
    assert carried(rows, "m") == [f"[1,{-big}]", None]
    assert carried(rows, "k") == [2**63 - 1, -2**63]  # int64 extremes stay integers


def test_integers_too_big_for_a_float_keep_a_mixed_column_text(tmp_path: Path) -> None:
    rows = documents_written(tmp_path, [doc("a", n=2**53 + 1), doc("b", n=0.5)])
    assert carried(rows, "n") == [str(2**53 + 1), "0.5"]


def test_non_finite_numbers_are_null_in_both_files(tmp_path: Path) -> None:
    nan, inf = float("nan"), float("inf")
    rows = documents_written(tmp_path, [doc("a", x=nan, y=[1.5, inf], z=nan), doc("b", x=-inf, y=[-inf], z="s"),
                                        doc("c", x=2.5, y=None, z=1)])
    assert carried(rows, "x") == [None, None, 2.5]
    assert carried(rows, "y") == [[1.5, None], [None], None]
    assert carried(rows, "z") == [None, '"s"', "1"]


@pytest.mark.parametrize("workers", [1, 2])
def test_int64_extremes_and_negative_zero_are_written_exactly(tmp_path: Path, workers: int) -> None:
    """The compiled JSON Lines writer (the documents table's usual path: every column typed)
    writes -2**63 and -0.0 as they are, like the Parquet twin."""
    documents = [doc("a", n=-2**63, f=-0.0), doc("b", n=2**63 - 1, f=0.5), doc("c", n=None, f=None)]
    documents[0].cluster = 0
    table = outputs.document_table(documents)
    assert outputs._jsonl_columns(table) is not None  # the compiled writer's
    rows = documents_written(tmp_path, documents, workers)
    assert carried(rows, "n") == [-2**63, 2**63 - 1, None]
    assert carried(rows, "f") == [0.0, 0.5, None] and str(rows[0]["f"]) == "-0.0"


@pytest.mark.parametrize("workers", [1, 2])
def test_documents_written_from_columns_are_the_rows_files(tmp_path: Path, workers: int) -> None:
    """The documents table is made column by column and written by the compiled JSON Lines
    writer where its columns allow (texts, integers, booleans, lists of texts, nulls), else
    through orjson (a number of many decimals, objects): the bytes orjson writes of its rows."""
    for share in [0.25, 0.123456]:  # the compiled writer's, then orjson's
        result = make_result()
        result.documents += [doc("d", url=None, n=3, share=share, flag=True, tags=["x", "y\n"], nothing=None),
                             doc("e", n=None, share=0.5, flag=None, tags=[])]
        table = outputs.document_table(result.documents)
        assert (outputs._jsonl_columns(table) is None) == (share == 0.123456)
        out = write_results(result, tmp_path / f"columns{share}", workers=workers)
        assert (out / "documents.jsonl").read_bytes() == b"".join(
            orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for row in table.to_pylist())
        assert pq.read_table(out / "documents.parquet").to_pylist() == read_jsonl(out / "documents.jsonl")
    table = outputs.document_table([doc("a", n=1), doc("b", n="one"), doc("c", where={"city": "Arden"})])
    assert table.column("n").to_pylist() == ["1", '"one"', None]
    assert table.column("where").to_pylist() == [None, None, {"city": "Arden"}]
    assert table.schema.field("warnings").type == pa.list_(pa.string())
    assert table.schema.field("cluster").type == pa.int64()


def test_results_folder_gets_the_usual_permissions(tmp_path: Path) -> None:
    out = write_results(make_result(), tmp_path / "results")
    (tmp_path / "plain").mkdir()
    assert stat.S_IMODE(out.stat().st_mode) == stat.S_IMODE((tmp_path / "plain").stat().st_mode)


# ---------------------------------------------------------------- atomic writes


def test_existing_folder_refused_without_force_before_anything_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    written = fail_after_first_table(monkeypatch, AssertionError("nothing should be written"))
    with pytest.raises(OutputError) as info:
        write_results(make_result(), out)
    assert info.value.exit_code == 4 and str(out) in info.value.message and info.value.hint
    assert written == [] and snapshot(out) == {"notes.txt": b"mine"} and leftovers(tmp_path) == []


def test_force_replaces_a_results_folder_never_a_users_folder(tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match="not a twicetold results folder"):
        write_results(make_result(), out, force=True)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    (out / "notes.txt").unlink()
    write_results(make_result(), out, force=True)  # an empty folder
    (out / "extra.txt").write_text("left in a results folder", encoding="utf-8")
    write_results(make_result(), out, force=True)  # a results folder, whatever it holds
    assert not (out / "extra.txt").exists() and (out / "run.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["results"]  # no temporary or old folder left


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failure_while_writing_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                error: BaseException) -> None:
    written = fail_after_first_table(monkeypatch, error)
    with pytest.raises(type(error)):
        write_results(make_result(), tmp_path / "results")
    assert len(written) == 1  # it failed half-way
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failed_forced_write_keeps_the_existing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       error: BaseException) -> None:
    out = write_results(make_result(), tmp_path / "results")
    before = snapshot(out)
    result = make_result()
    result.pairs = result.pairs[:1]
    written = fail_after_first_table(monkeypatch, error)
    with pytest.raises(type(error)):
        write_results(result, out, force=True)
    assert len(written) == 1
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


def test_atomic_file_keeps_extensions_and_replaces_only_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "corpus.jsonl.gz"
    with atomic_path(dest, force=False, is_dir=False) as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".jsonl.gz") and tmp != dest
        assert not dest.exists()
        tmp.write_bytes(b"new")
    assert dest.read_bytes() == b"new"
    with pytest.raises(ValueError), atomic_path(dest, force=True, is_dir=False) as tmp:
        tmp.write_bytes(b"half")
        raise ValueError("stop")
    assert dest.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["corpus.jsonl.gz"]
    with pytest.raises(OutputError):
        atomic_path(dest, force=False, is_dir=False).__enter__()
    assert [p.name for p in tmp_path.iterdir()] == ["corpus.jsonl.gz"]
    mode = stat.S_IMODE(dest.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_check_destination(tmp_path: Path) -> None:
    assert check_destination(tmp_path / "new", force=False) == tmp_path / "new"
    assert check_destination(tmp_path, force=True) == tmp_path
    with pytest.raises(OutputError, match="already exists"):
        check_destination(tmp_path, force=False)
    with pytest.raises(OutputError, match="does not exist") as info:
        check_destination(tmp_path / "no" / "such" / "results", force=False)
    assert str(tmp_path / "no" / "such") in info.value.message


def test_scan_results_round_trip(tmp_path: Path) -> None:
    """A real scan written and read back: every passage offset stays inside its document."""
    wire = ("Dockworkers at the port of Arden walked out on Monday, halting container traffic for the "
            "third time this year, union officials said.")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(wire + " Talks resume on Friday.", encoding="utf-8")
    (corpus / "b.txt").write_text("In brief: " + wire, encoding="utf-8")
    out = write_results(twicetold.scan([corpus]), tmp_path / "results")
    (pair,) = read_jsonl(out / "pairs.jsonl")
    (passage,) = pair["passages"]
    texts = {d: (corpus / f"{d}.txt").read_text(encoding="utf-8") for d in ("a", "b")}
    assert texts["a"][passage["a_start"]:passage["a_end"]] == wire
    assert texts["b"][passage["b_start"]:passage["b_end"]] == wire
    assert pq.read_table(out / "pairs.parquet").to_pylist() == [pair]


def test_tables_written_side_by_side_are_the_same_files(tmp_path: Path) -> None:
    """Tables written on two threads hold the same bytes as written on one, and the passage
    tables written from columns the same as written from objects."""
    wire = ("Dockworkers at the port of Arden walked out on Monday, halting container traffic for the "
            "third time this year, union officials said.")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for k in range(6):
        (corpus / f"d{k}.txt").write_text(f"Report {k}. " + wire + f" More on {k} later.", encoding="utf-8")
    scanned = twicetold.scan([corpus])
    assert isinstance(scanned.occurrences, TableRows) and len(scanned.occurrences) > 0
    # A scan keeps its passage occurrences and clusters as columns, written as they are; the
    # same results as objects go through orjson and Arrow's conversion: the same files.
    as_objects = replace(scanned, occurrences=list(scanned.occurrences),
                         passage_clusters=list(scanned.passage_clusters))
    files = []
    for result in (make_result(), scanned, as_objects):
        one = snapshot(write_results(result, tmp_path / "one", force=True, workers=1))
        two = snapshot(write_results(result, tmp_path / "two", force=True, workers=2))
        one.pop("run.json"), two.pop("run.json")
        assert one == two and set(one) == {f"{t}.{ext}" for t in TABLES for ext in ("jsonl", "parquet")}
        files.append(one)
    assert files[1] == files[2]


@pytest.mark.parametrize("failing_format", ["jsonl", "parquet"])
def test_failure_on_either_writing_thread_fails_and_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     failing_format: str) -> None:
    """With two workers the Parquet files are written on a second thread: a table that fails
    there, or on the calling thread (JSON Lines), fails the whole write with its own error,
    and nothing is left behind."""
    def failing_instead_of(real: Any) -> Any:
        def failing(path: Path, data: Any) -> None:
            if path.name == f"documents.{failing_format}":
                raise RuntimeError("disk full")
            real(path, data)
        return failing

    for writer in ["write_jsonl", "write_jsonl_table"] if failing_format == "jsonl" else ["write_parquet"]:
        monkeypatch.setattr(outputs, writer, failing_instead_of(getattr(outputs, writer)))
    with pytest.raises(RuntimeError, match="disk full"):
        write_results(make_result(), tmp_path / "results", workers=2)
    assert list(tmp_path.iterdir()) == []
