"""Readers: every input format, encodings, standard input, bad input, and copy_filtered."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

import twicetold
from twicetold.config import ReadConfig
from twicetold.errors import InputError
from twicetold.model import Document, InputProblem
from twicetold.readers import copy_filtered, decode_bytes, detect_format, read_documents

from .conftest import DATA

CLOUGH = DATA / "clough_stevenson" / "corpus-20090418"
CFG = ReadConfig()


def read(*inputs: Path | str, config: ReadConfig = CFG) -> tuple[list[Document], list[InputProblem]]:
    problems: list[InputProblem] = []
    docs = list(read_documents([str(p) for p in inputs], config, problems))
    return docs, problems


def kinds(problems: list[InputProblem]) -> list[tuple[str, str]]:
    return [(p.kind, p.action) for p in problems]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def fake_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


# ---------------------------------------------------------------- formats


def test_txt_folder_recursive_sorted_ids_and_compressed(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "b" / "c").mkdir(parents=True)
    (root / "z.txt").write_bytes(b"zed")
    (root / "b" / "c" / "deep.txt").write_bytes(b"deep")
    (root / "a.txt.gz").write_bytes(gzip.compress(b"gzipped"))
    (root / "b" / "y.txt.zst").write_bytes(zstandard.ZstdCompressor().compress(b"zstd text"))
    docs, problems = read(root)
    assert [d.id for d in docs] == ["a", "b/c/deep", "b/y", "z"]
    assert [d.text for d in docs] == ["gzipped", "deep", "zstd text", "zed"]
    assert docs[1].origin == f"{root}/b/c/deep.txt"
    assert problems == []


def test_single_txt_file_and_compressed(tmp_path: Path) -> None:
    (tmp_path / "story.txt").write_bytes(b"one story")
    (tmp_path / "other.txt.gz").write_bytes(gzip.compress(b"two"))
    docs, problems = read(tmp_path / "story.txt", tmp_path / "other.txt.gz")
    assert [(d.id, d.text, d.origin) for d in docs] == [
        ("story", "one story", str(tmp_path / "story.txt")),
        ("other", "two", str(tmp_path / "other.txt.gz")),
    ]
    assert problems == []


@pytest.mark.parametrize("name", ["in.jsonl", "in.ndjson", "in.json"])
def test_jsonl_columns_ids_meta_dates(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(
        '{"id": "a", "text": "alpha", "date": "2024-05-01", "source": "AP", "url": "http://x", "n": 3}\n'
        "\n"
        '{"text": "no id", "title": null}\n'
        '{"id": "", "text": "empty id"}\n'
        '{"id": 42, "text": "numeric id", "date": "2024-05-01T10:00:00Z", "tags": ["a", "b"]}\n',
        encoding="utf-8",
    )
    docs, problems = read(path)
    assert [d.id for d in docs] == ["a", f"{path}:3", f"{path}:4", "42"]
    a = docs[0]
    assert (a.text, a.date, a.source, a.meta) == ("alpha", "2024-05-01", "AP", {"url": "http://x", "n": 3})
    assert a.origin == f"{path}:1" and a.encoding == "utf-8" and a.warnings == []
    assert docs[1].meta == {"title": None} and docs[1].date is None and docs[1].source is None
    assert docs[3].meta == {"tags": ["a", "b"]}
    assert problems == []


def test_custom_columns(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", [{"key": "k1", "body": "b", "when": "2020-01-02", "outlet": "o",
                                              "id": "kept in meta"}])
    cfg = ReadConfig(id_column="key", text_column="body", date_column="when", source_column="outlet")
    (doc,), _ = read(path, config=cfg)
    assert (doc.id, doc.text, doc.date, doc.source, doc.meta) == ("k1", "b", "2020-01-02", "o",
                                                                 {"id": "kept in meta"})


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_compressed_jsonl_and_csv(tmp_path: Path, suffix: str) -> None:
    def pack(data: bytes) -> bytes:
        return gzip.compress(data) if suffix == ".gz" else zstandard.ZstdCompressor().compress(data)

    (tmp_path / f"a.jsonl{suffix}").write_bytes(pack(b'{"id": "j", "text": "from jsonl"}\n'))
    (tmp_path / f"b.csv{suffix}").write_bytes(pack(b"id,text\nc,from csv\n"))
    docs, problems = read(tmp_path / f"a.jsonl{suffix}", tmp_path / f"b.csv{suffix}")
    assert [(d.id, d.text) for d in docs] == [("j", "from jsonl"), ("c", "from csv")]
    assert problems == []


def test_csv_multiline_fields_line_numbers_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b'id,text,url\r\n,"first\r\nsecond line",u1\r\nx,"say ""hi""",u2\r\n,third,u3\r\n')
    docs, problems = read(path)
    assert [d.id for d in docs] == [f"{path}:2", "x", f"{path}:5"]
    assert docs[0].text == "first\r\nsecond line"  # CRLF inside the field kept as is
    assert docs[1].text == 'say "hi"'
    assert docs[2].meta == {"url": "u3"} and docs[2].origin == f"{path}:5"
    assert problems == []


def test_tsv(tmp_path: Path) -> None:
    path = tmp_path / "in.tsv"
    path.write_text("id\ttext\tsource\nt1\ttab, separated\tAFP\n", encoding="utf-8")
    (doc,), _ = read(path)
    assert (doc.id, doc.text, doc.source, doc.meta) == ("t1", "tab, separated", "AFP", {})


def test_parquet_rows_batches_and_types(tmp_path: Path) -> None:
    import datetime as dt

    n = 600  # more than one read batch
    table = pa.table({
        "id": pa.array([None if i % 100 == 5 else i for i in range(n)], pa.int64()),
        "text": [f"text {i}" for i in range(n)],
        "date": pa.array([dt.datetime(2024, 1, 1, 12, 0)] * n, pa.timestamp("s")),
        "title": [f"t{i}" for i in range(n)],
    })
    path = tmp_path / "in.parquet"
    pq.write_table(table, path, row_group_size=250)
    docs, problems = read(path)
    assert len(docs) == n and problems == []
    assert docs[0].id == "0" and docs[5].id == f"{path}:6" and docs[599].id == "599"
    assert docs[105].id == f"{path}:106" and docs[105].origin == f"{path}:106"
    assert docs[3].date == "2024-01-01T12:00:00" and docs[3].meta == {"title": "t3"}


def test_detect_format(tmp_path: Path) -> None:
    names = {"a.txt": "txt", "a.txt.gz": "txt", "a.jsonl.zst": "jsonl", "a.ndjson": "jsonl",
             "a.json": "jsonl", "a.CSV": "csv", "a.tsv.gz": "tsv", "a.parquet": "parquet"}
    for name, fmt in names.items():
        (tmp_path / name).write_bytes(b"")
        assert detect_format(str(tmp_path / name), CFG) == fmt
    assert detect_format(str(tmp_path), CFG) == "txtdir"
    assert detect_format(str(tmp_path / "a.txt"), ReadConfig(format="jsonl")) == "jsonl"


# ---------------------------------------------------------------- standard input


def test_stdin_jsonl_sniffed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_stdin(monkeypatch, b'\n  {"id": "s1", "text": "from stdin"}\n{"text": "no id"}\n')
    docs, problems = read("-")
    assert [(d.id, d.text) for d in docs] == [("s1", "from stdin"), ("stdin:3", "no id")]
    assert problems == []


def test_stdin_text_sniffed_and_crlf(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_stdin(monkeypatch, b"plain text\r\nsecond line\r\n")
    (doc,), _ = read("-")
    assert (doc.id, doc.text, doc.origin) == ("stdin", "plain text\r\nsecond line\r\n", "stdin")


def test_stdin_forced_format_compressed_and_copy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_stdin(monkeypatch, gzip.compress(b"id,text\na,x\nb,y\n"))
    cfg = ReadConfig(format="csv")
    docs, _ = read("-", config=cfg)
    assert [d.id for d in docs] == ["a", "b"]
    # Standard input is spooled once, so it can be read again to copy the kept rows.
    assert copy_filtered("-", tmp_path / "out.csv", {"b"}, cfg) == 1
    assert (tmp_path / "out.csv").read_bytes() == b"id,text\nb,y\n"


# ---------------------------------------------------------------- encodings


@pytest.mark.usefixtures("shared_data")
def test_clough_mixed_encodings() -> None:
    docs, problems = read(CLOUGH)
    assert len(docs) == 100
    by_id = {d.id: d for d in docs}
    cp1252 = [d.id for d in docs if d.encoding == "cp1252"]
    assert len(cp1252) == 17 and all(d.encoding == "utf-8" for d in docs if d.id not in cp1252)
    assert kinds(problems) == [("encoding_fallback", "kept")] * 17
    assert {p.where for p in problems} == {by_id[i].origin for i in cp1252}
    assert all("Windows-1252" in p.message for p in problems)
    for doc_id in cp1252:
        raw = (CLOUGH / f"{doc_id}.txt").read_bytes()
        assert by_id[doc_id].text == raw.decode("cp1252") and by_id[doc_id].warnings
    # g1pB_taska holds byte 0x92: a right single quotation mark, not a cp1250/latin-1 lookalike.
    assert b"\x92" in (CLOUGH / "g1pB_taska.txt").read_bytes()
    assert "It’s" in by_id["g1pB_taska"].text and "\x92" not in by_id["g1pB_taska"].text
    assert all("\ufffd" not in d.text for d in docs)


def test_decode_bytes_order() -> None:
    assert decode_bytes("café".encode()) == ("café", "utf-8", None)
    assert decode_bytes(b"plain") == ("plain", "utf-8", None)
    assert decode_bytes(b"\xef\xbb\xbfbom") == ("bom", "utf-8-sig", None)
    text, enc, warn = decode_bytes("it’s “quoted”".encode("cp1252"))
    assert (text, enc) == ("it’s “quoted”", "cp1252") and warn and "Windows-1252" in warn
    text, enc, warn = decode_bytes(b"\xff\xfe" + "hé".encode("utf-16-le"))
    assert (text, enc) == ("hé", "utf-16") and warn
    # 0x81 is undefined in cp1252: the detector or the replacement fallback decides, never a crash.
    text, enc, warn = decode_bytes(b"abc\x81\x8d\x8f\x90\x9d")
    assert isinstance(text, str) and enc and warn


def test_bom_dropped_and_crlf_kept(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfHello\r\nworld\r\n")
    (doc,), problems = read(tmp_path / "bom.txt")
    assert doc.text == "Hello\r\nworld\r\n" and len(doc.text) == 14 and problems == []
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbfid,text\r\nb1,x\r\n")
    (tmp_path / "bom.jsonl").write_bytes(b'\xef\xbb\xbf{"id": "j1", "text": "y"}\r\n')
    docs, problems = read(tmp_path / "bom.csv", tmp_path / "bom.jsonl")
    assert [(d.id, d.text) for d in docs] == [("b1", "x"), ("j1", "y")] and problems == []


def test_utf16_with_bom(tmp_path: Path) -> None:
    (tmp_path / "u16.txt").write_bytes(b"\xff\xfe" + "Łódź\r\nline".encode("utf-16-le"))
    (tmp_path / "u16.jsonl").write_bytes(b"\xfe\xff" + '{"id": "u", "text": "Ωμέγα"}\n'.encode("utf-16-be"))
    (tmp_path / "u16.csv").write_bytes(b"\xff\xfe" + "id,text\r\nc,ça va\r\n".encode("utf-16-le"))
    docs, problems = read(tmp_path / "u16.txt", tmp_path / "u16.jsonl", tmp_path / "u16.csv")
    assert [(d.id, d.text, d.encoding) for d in docs] == [
        ("u16", "Łódź\r\nline", "utf-16"), ("u", "Ωμέγα", "utf-16"), ("c", "ça va", "utf-16")]
    assert all(d.warnings for d in docs)
    assert kinds(problems) == [("encoding_fallback", "kept")] * 3


def test_cp1252_lines_in_utf8_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"id": "u", "text": "caf\xc3\xa9"}\n{"id": "w1", "text": "it\x92s"}\n'
                     b'{"id": "w2", "text": "\x93q\x94"}\n')
    docs, problems = read(path)
    assert [(d.text, d.encoding) for d in docs] == [("café", "utf-8"), ("it’s", "cp1252"), ("“q”", "cp1252")]
    assert docs[0].warnings == [] and docs[1].warnings and docs[2].warnings
    assert kinds(problems) == [("encoding_fallback", "kept")]  # once per input, not per row
    assert problems[0].where == f"{path}:2"


# ---------------------------------------------------------------- bad input


def test_not_text_files_named_in_one_problem(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("fine")
    for i in range(25):
        (tmp_path / f"img{i:02d}.png").write_bytes(b"\x89PNG")
    docs, problems = read(tmp_path)
    assert [d.id for d in docs] == ["ok"]
    (problem,) = problems
    assert (problem.kind, problem.action, problem.where) == ("not_text", "skipped", str(tmp_path))
    assert "25 file(s)" in problem.message and "img00.png" in problem.message
    assert "img19.png" in problem.message and "img20.png" not in problem.message
    assert problem.message.endswith("and 5 more")


def test_empty_documents_kept_and_flagged(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "empty.txt").write_bytes(b"")
    (tmp_path / "d" / "blank.txt").write_bytes(b"  \n\t\n")
    write_jsonl(tmp_path / "e.jsonl", [{"id": "e", "text": ""}])
    docs, problems = read(tmp_path / "d", tmp_path / "e.jsonl")
    assert [d.id for d in docs] == ["blank", "empty", "e"]
    assert all("empty document" in d.warnings for d in docs)
    assert kinds(problems) == [("empty", "kept")] * 3
    assert "'e'" in problems[2].message and problems[2].where == f"{tmp_path / 'e.jsonl'}:1"


def test_input_without_documents_reported(tmp_path: Path) -> None:
    (tmp_path / "none.jsonl").write_bytes(b"\n\n")
    docs, problems = read(tmp_path / "none.jsonl")
    assert docs == [] and kinds(problems) == [("empty", "skipped")]
    assert "no documents" in problems[0].message


def test_binary_files_skipped(tmp_path: Path) -> None:
    (tmp_path / "nul.txt").write_bytes(b"ELF\x00\x01\x02binary")
    (tmp_path / "junk.txt").write_bytes(bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D, 0x01, 0x02, 0x03] * 50))
    (tmp_path / "good.txt").write_text("good")
    docs, problems = read(tmp_path)
    assert [d.id for d in docs] == ["good"]
    assert kinds(problems) == [("binary", "skipped")] * 2
    assert {p.where for p in problems} == {f"{tmp_path}/nul.txt", f"{tmp_path}/junk.txt"}
    assert all("binary" in p.message for p in problems)


def test_malformed_jsonl_rows(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "text": "fine"}\n{"id": "x", "text": \n[1, 2]\n{"id": "m"}\n'
                    '{"id": "n", "text": 5}\n{"id": "l", "text": "also fine"}\n', encoding="utf-8")
    docs, problems = read(path)
    assert [d.id for d in docs] == ["ok", "l"]
    assert [(p.where, p.kind, p.action) for p in problems] == [
        (f"{path}:2", "malformed_row", "skipped"), (f"{path}:3", "malformed_row", "skipped"),
        (f"{path}:4", "missing_text", "skipped"), (f"{path}:5", "malformed_row", "skipped")]
    assert "invalid JSON" in problems[0].message and "not an object" in problems[1].message
    assert "'text'" in problems[2].message and "int, not a string" in problems[3].message


def test_strict_raises_on_malformed_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "text": "fine"}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.jsonl:2: invalid JSON") as err:
        read(path, config=ReadConfig(strict=True))
    assert err.value.hint and "strict=True" in err.value.hint and "--strict" in (err.value.cli_hint() or "")


def test_json_array_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "arr.json"
    path.write_text('[{"id": "a", "text": "x"},\n {"id": "b", "text": "y"}]\n')
    with pytest.raises(InputError, match="JSON array") as err:
        read(path)
    assert err.value.hint and "one object per line" in err.value.hint


def test_csv_wrong_field_count_and_huge_field(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    huge = "w " * 200_000  # 400 000 characters: beyond the csv module's default field limit
    path.write_text(f"id,text,url\na,short,u\nb,too,many,fields\nc\nd,{huge},u\n", encoding="utf-8")
    docs, problems = read(path)
    assert [d.id for d in docs] == ["a", "d"] and len(docs[1].text) == 400_000
    assert [(p.where, p.kind, p.action) for p in problems] == [
        (f"{path}:3", "malformed_row", "skipped"), (f"{path}:4", "malformed_row", "skipped")]
    assert "4 fields, the header has 3" in problems[0].message


def test_too_long_truncated(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "long.jsonl", [{"id": "L", "text": "x" * 50}, {"id": "S", "text": "short"}])
    docs, problems = read(tmp_path / "long.jsonl", config=ReadConfig(max_chars=10))
    assert [len(d.text) for d in docs] == [10, 5]
    assert kinds(problems) == [("too_long", "truncated")]
    assert "'L'" in problems[0].message and "50" in problems[0].message and docs[0].warnings


def test_bad_dates_flagged_good_dates_not(tmp_path: Path) -> None:
    rows = [{"id": str(i), "text": "t", "date": d} for i, d in enumerate(
        ["2024-05-01", "2024-05-01T10:20:30Z", "2024-05-01 10:20:30+02:00", "yesterday", "01/05/2024"])]
    docs, problems = read(write_jsonl(tmp_path / "d.jsonl", rows))
    assert [d.date for d in docs] == [r["date"] for r in rows]  # kept as given
    assert [(p.where.rsplit(":", 1)[1], p.kind, p.action) for p in problems] == [
        ("4", "bad_date", "kept"), ("5", "bad_date", "kept")]
    assert "'yesterday'" in problems[0].message and docs[3].warnings and not docs[0].warnings


def test_duplicate_ids_within_and_across_inputs(tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [{"id": "x", "text": "1"}, {"id": "x", "text": "2"}])
    with pytest.raises(InputError) as err:
        read(a)
    assert f"'x': at {a}:1 and at {a}:2" in err.value.message
    assert err.value.hint and "id_column=" in err.value.hint and "--id-column" in (err.value.cli_hint() or "")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "y.txt").write_text("folder")
    b = write_jsonl(tmp_path / "b.jsonl", [{"id": "z", "text": "1"}, {"id": "y", "text": "2"}])
    with pytest.raises(InputError, match=rf"'y': at {tmp_path}/dir/y\.txt and at {b}:2"):
        read(tmp_path / "dir", b)


def test_duplicate_ids_from_compressed_twin_in_folder(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("plain")
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress(b"packed"))
    with pytest.raises(InputError, match=r"duplicate id 'a'.*a\.txt and at .*a\.txt\.gz"):
        read(tmp_path)


def test_input_errors_with_hints(tmp_path: Path) -> None:
    (tmp_path / "notes.docx").write_bytes(b"PK")
    (tmp_path / "broken.parquet").write_bytes(b"this is not parquet")
    pq.write_table(pa.table({"id": ["a"], "body": ["b"]}), tmp_path / "nocol.parquet")
    (tmp_path / "nocol.csv").write_text("id,body\na,b\n")
    cases = {
        str(tmp_path / "missing.jsonl"): "input not found",
        str(tmp_path / "notes.docx"): "unknown input format",
        str(tmp_path / "broken.parquet"): "not a readable Parquet file",
        str(tmp_path / "nocol.parquet"): "no 'text' column",
        str(tmp_path / "nocol.csv"): "no 'text' column",
    }
    for path, expected in cases.items():
        with pytest.raises(InputError, match=expected) as err:
            read(path)
        assert err.value.hint, path
    with pytest.raises(InputError, match="no 'text' column") as err:
        read(tmp_path / "nocol.parquet")
    assert "id, body" in err.value.message and "--text-column" in (err.value.cli_hint() or "")
    assert "text_column=" in (err.value.hint or "") and "--" not in (err.value.hint or "")


def test_missing_input_fails_before_reading(tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "g.jsonl", [{"id": "a", "text": "x"}])
    with pytest.raises(InputError, match="input not found"):
        read_documents([str(good), str(tmp_path / "nope.csv")], CFG, [])


# ---------------------------------------------------------------- copy_filtered


def test_copy_jsonl_verbatim_order_and_compression(tmp_path: Path) -> None:
    lines = [b'{"text": "no id", "z": 1}\r\n', b'{"id": "b",  "text": "two", "url": "u"}\n',
             b"garbage\n", b'{"id": "c", "text": "caf\xe9"}\n', b'{"id": "d", "text": "last"}']
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(gzip.compress(b"".join(lines)))
    keep = {f"{src}:1", "c", "d"}
    assert copy_filtered(src, tmp_path / "out.jsonl", keep, CFG) == 3
    assert (tmp_path / "out.jsonl").read_bytes() == lines[0] + lines[3] + lines[4]
    assert copy_filtered(src, tmp_path / "out.jsonl.zst", {"b"}, CFG) == 1
    out = zstandard.ZstdDecompressor().stream_reader((tmp_path / "out.jsonl.zst").read_bytes()).read()
    assert out == lines[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl.gz", "out.jsonl", "out.jsonl.zst"]


def test_copy_csv_keeps_header_dialect_and_rows(tmp_path: Path) -> None:
    tsv = tmp_path / "in.tsv"
    rows = [b"id\ttext\turl\n", b'a\t"multi\nline"\tu1\n', b"b\tshort\n", b"\tno id\tu3\n", b"c\tplain\tu4\n"]
    tsv.write_bytes(b"".join(rows))
    docs, _ = read(tsv)
    assert [d.id for d in docs] == ["a", f"{tsv}:5", "c"]
    assert copy_filtered(tsv, tmp_path / "out.tsv", {"c", f"{tsv}:5"}, CFG) == 2
    assert (tmp_path / "out.tsv").read_bytes() == rows[0] + rows[3] + rows[4]
    csv_src = tmp_path / "q.csv"
    csv_rows = [b"\xef\xbb\xbfid,text,url\r\n", b'a,"x, ""y""",u1\r\n', b'b,"multi\r\nline",u2\r\n']
    csv_src.write_bytes(b"".join(csv_rows))
    assert copy_filtered(csv_src, tmp_path / "q_out.csv", {"b"}, CFG) == 1
    assert (tmp_path / "q_out.csv").read_bytes() == csv_rows[0] + csv_rows[2]
    (out_doc,), _ = read(tmp_path / "q_out.csv")
    assert (out_doc.id, out_doc.text, out_doc.meta) == ("b", "multi\r\nline", {"url": "u2"})


def test_copy_utf16_csv_stays_readable(tmp_path: Path) -> None:
    src = tmp_path / "u.csv"
    src.write_bytes(b"\xff\xfe" + "id,text\r\na,un\r\nb,deux\r\n".encode("utf-16-le"))
    assert copy_filtered(src, tmp_path / "o.csv", {"b"}, CFG) == 1
    assert (tmp_path / "o.csv").read_bytes() == b"\xff\xfe" + "id,text\r\nb,deux\r\n".encode("utf-16-le")


def test_copy_parquet_schema_and_order(tmp_path: Path) -> None:
    n = 700
    table = pa.table({"id": [None if i == 3 else f"r{i}" for i in range(n)],
                      "text": [None if i == 7 else f"t{i}" for i in range(n)],
                      "score": pa.array(range(n), pa.int32())})
    table = table.replace_schema_metadata({b"origin": b"test"})
    src = tmp_path / "in.parquet"
    pq.write_table(table, src, row_group_size=300)
    keep = {f"{src}:4", "r7", "r10", "r299", "r300", "r650"}
    assert copy_filtered(src, tmp_path / "out.parquet", keep, CFG) == 5  # r7 has no text: not a document
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.equals(table.schema, check_metadata=True)
    assert out.column("id").to_pylist() == [None, "r10", "r299", "r300", "r650"]
    assert out.column("score").to_pylist() == [3, 10, 299, 300, 650]


def test_copy_txt_folder_and_single_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"\xef\xbb\xbfA\r\n")
    (src / "sub" / "b.txt.gz").write_bytes(gzip.compress(b"B"))
    (src / "sub" / "c.txt").write_bytes(b"it\x92s")
    (src / "skip.txt").write_bytes(b"gone")
    (src / "readme.md").write_bytes(b"not text")
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("replaced")
    assert copy_filtered(src, out, {"a", "sub/b", "sub/c"}, CFG) == 3
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["a.txt", "sub/b.txt.gz", "sub/c.txt"]
    for rel in files:
        assert (out / rel).read_bytes() == (src / rel).read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "src"]
    assert copy_filtered(src / "sub" / "c.txt", tmp_path / "one.txt.gz", {"c"}, CFG) == 1
    assert gzip.decompress((tmp_path / "one.txt.gz").read_bytes()) == b"it\x92s"


def test_copy_is_atomic_on_failure(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}])
    (tmp_path / "out.jsonl").write_bytes(b"previous\n")

    class Exploding:
        def __contains__(self, item: object) -> bool:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        copy_filtered(src, tmp_path / "out.jsonl", Exploding(), CFG)
    assert (tmp_path / "out.jsonl").read_bytes() == b"previous\n"
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "out.jsonl"]
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("x")
    with pytest.raises(RuntimeError):
        copy_filtered(tmp_path / "d", tmp_path / "dout", Exploding(), CFG)
    assert sorted(os.listdir(tmp_path)) == ["d", "in.jsonl", "out.jsonl"]


def test_corrupt_compressed_inputs(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "ok.txt").write_text("fine")
    (folder / "cut.txt.gz").write_bytes(gzip.compress(b"x" * 1000)[:20])  # truncated download
    docs, problems = read(folder)
    assert [d.id for d in docs] == ["ok"]
    assert [(p.where, p.kind, p.action) for p in problems] == [
        (f"{folder}/cut.txt.gz", "unreadable", "skipped")]
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="cannot be read") as err:
        read(bad)
    assert err.value.hint and "corrupt" in err.value.hint


def test_row_with_unusable_id_is_malformed(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "i.jsonl", [{"id": ["a"], "text": "x"}, {"id": True, "text": "y"},
                                              {"id": 1.5, "text": "z"}])
    docs, problems = read(path)
    assert [d.id for d in docs] == ["1.5"]
    assert kinds(problems) == [("malformed_row", "skipped")] * 2
    assert "not a string or a number" in problems[0].message


def test_lone_surrogate_escapes_are_replaced_one_for_one(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"id": "s", "text": "half a pair \\ud800 here"}\n')
    problems: list[InputProblem] = []
    (doc,) = read_documents([path], ReadConfig(), problems)
    assert doc.text == "half a pair \ufffd here"
    assert [p.kind for p in problems] == ["encoding_fallback"]
    result = twicetold.scan([path])  # the compiled stages accept it
    assert result.documents[0].length == len(doc.text)


# ---------------------------------------------------------------- issue #15: both JSON Lines paths


def read_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch, config: ReadConfig = CFG,
                   ) -> tuple[list[Document], list[InputProblem]]:
    """``path`` read by the compiled reader (small blocks, two threads: clean blocks are taken
    as they are) and by the careful reader alone; both must give the same documents and
    problems, which are returned."""
    from twicetold import readers

    def run() -> tuple[list[Document], list[InputProblem]]:
        problems: list[InputProblem] = []
        docs = [d for b in readers.read_batches([path], config, problems, threads=2) for d in b.documents()]
        return docs, problems

    with monkeypatch.context() as m:
        m.setattr(readers, "JSONL_BLOCK_BYTES", 256)
        fast = run()
        m.setattr(readers, "_fast_jsonl_block", lambda block, *args: (block.count(b"\n"), None))
        careful = run()
    assert fast == careful
    return fast


def scan_and_write(path: Path, out: Path) -> list[dict[str, Any]]:
    """Scan ``path`` and write its results folder; the documents table as written."""
    result = twicetold.scan([path])
    twicetold.write_results(result, out, force=True)
    pq.read_table(out / "documents.parquet")  # Parquet holds it too
    return [json.loads(line) for line in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()]


def test_lone_surrogates_in_every_string_are_replaced_and_flagged(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A lone surrogate escape in the id, source, date, a carried field (nested too) or a key
    becomes U+FFFD like in the text, and the document says where; nothing crashes downstream
    (scan, results, index)."""
    from twicetold.index import Index

    path = tmp_path / "s.jsonl"
    path.write_bytes(
        b'{"id": "i\\ud800", "text": "first text here"}\n'
        b'{"id": "b", "text": "second text here", "source": "AP\\udc00"}\n'
        b'{"id": "c", "text": "third text here", "date": "2024-01-01\\ud83d"}\n'
        b'{"id": "d", "text": "fourth text here", "tags": ["x\\ud800y", {"k": "\\udfff"}]}\n'
        b'{"id": "e", "text": "fifth text here", "ke\\ud800y": 1}\n'
        b'{"id": "f", "text": "sixth \\ud83d\\ude00 pair is fine", "url": "\\\\ud800 is text"}\n')
    docs, problems = read_both_ways(path, monkeypatch)
    assert [d.id for d in docs] == ["i\ufffd", "b", "c", "d", "e", "f"]
    assert docs[1].source == "AP\ufffd" and docs[2].date == "2024-01-01\ufffd"
    assert docs[3].meta == {"tags": ["x\ufffdy", {"k": "\ufffd"}]}
    assert docs[4].meta == {"ke\ufffdy": 1}
    assert docs[5].text == "sixth 😀 pair is fine" and docs[5].meta == {"url": "\\ud800 is text"}
    assert docs[5].warnings == []
    where = [f"{path}:{n}" for n in range(1, 6)]
    flagged = [(p.where, p.kind, p.action) for p in problems if "surrogate" in p.message]
    assert flagged == [(w, "encoding_fallback", "kept") for w in where]
    for doc, field in zip(docs, ["id", "source", "date", "'tags'", "a key"], strict=False):
        assert any("surrogate" in w and field in w for w in doc.warnings), (doc.warnings, field)
    rows = scan_and_write(path, tmp_path / "out")
    assert [r["id"] for r in rows] == [d.id for d in docs]
    with Index.create(tmp_path / "i.twicetold") as index:
        assert index.add([path]).added == 6


def test_lone_surrogate_code_units_in_utf16_jsonl(tmp_path: Path) -> None:
    """A UTF-16 file may hold a lone surrogate code unit itself (not escaped): the same rule."""
    path = tmp_path / "w.jsonl"
    path.write_bytes(b"\xff\xfe" + '{"id": "a", "text": "one'.encode("utf-16-le") + b"\x00\xd8"
                     + '"}\n{"id": "b", "text": "two"}\n'.encode("utf-16-le"))
    docs, problems = read(path)
    assert [(d.id, d.text) for d in docs] == [("a", "one\ufffd"), ("b", "two")]
    assert any("surrogate" in p.message and p.where == f"{path}:1" for p in problems)
    out = tmp_path / "copy.jsonl"
    assert copy_filtered(path, out, {"a", "b"}, CFG) == 2
    assert out.read_bytes() == path.read_bytes()  # copied as it was


def test_big_integers_stay_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Integers past 64 bits are not read as floats: numeric ids are their exact decimal text
    (two ids differing in the 21st digit are two ids), carried integers are exact Python
    integers at any size (past Python's 4300 digits, their decimal text), and the results
    hold them exactly."""
    path = tmp_path / "b.jsonl"
    huge = "9" * 5000  # past Python's int-from-text limit too
    path.write_text(
        '{"id": 123456789012345678901, "text": "one text"}\n'
        '{"id": 123456789012345678902, "text": "two text"}\n'
        '{"id": -9223372036854775809, "text": "three text"}\n'
        '{"id": "s", "text": "four text", "u": 9223372036854775808, "v": 18446744073709551616, '
        '"w": -9223372036854775809, "x": 9223372036854775807, "y": -9223372036854775808, '
        '"z": [123456789012345678901234567890, {"n": 18446744073709551615}], "f": 1.5e300}\n'
        f'{{"id": "t", "text": "five text", "h": {huge}, "g": -{huge}}}\n', encoding="utf-8")
    docs, problems = read_both_ways(path, monkeypatch)
    assert problems == []
    assert [d.id for d in docs] == ["123456789012345678901", "123456789012345678902", "-9223372036854775809",
                                    "s", "t"]
    meta = {"u": 2**63, "v": 2**64, "w": -(2**63) - 1, "x": 2**63 - 1, "y": -(2**63),
            "z": [123456789012345678901234567890, {"n": 2**64 - 1}], "f": 1.5e300}
    assert docs[3].meta == meta and all(type(v) is int for v in (meta["u"], meta["v"], meta["w"]))
    assert docs[4].meta == {"h": huge, "g": "-" + huge}
    clean = tmp_path / "clean.jsonl"  # string ids: a block the compiled reader takes, carried fields and all
    clean.write_text('{"id": "c", "text": "a text", "u": 9223372036854775808, "v": 1e2, "x": 5}\n', encoding="utf-8")
    (doc,), _ = read_both_ways(clean, monkeypatch)
    assert doc.meta == {"u": 2**63, "v": 100.0, "x": 5} and type(doc.meta["v"]) is float
    rows = scan_and_write(path, tmp_path / "out")  # written exactly: as integers, or their JSON text

    def exact(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    assert [exact(rows[3][k]) for k in ("u", "v", "w", "x", "y")] == [2**63, 2**64, -(2**63) - 1, 2**63 - 1, -(2**63)]


def nested(depth: int) -> str:
    """A row whose JSON nests ``depth`` levels, the row itself counted."""
    return '{"text": "deep row", "m": ' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"


def test_rows_nested_too_deep_are_malformed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twicetold.readers import MAX_NESTING

    path = tmp_path / "deep.jsonl"
    depths = [MAX_NESTING, MAX_NESTING + 1, 300, 600, 5000]
    path.write_text("".join(nested(d) + "\n" for d in depths) + '{"text": "last"}\n'
                    + '{"text": "[[[[ in a string is text", "m": {"a": [{"b": []}]}}\n', encoding="utf-8")
    docs, problems = read_both_ways(path, monkeypatch)
    assert [d.id for d in docs] == [f"{path}:1", f"{path}:6", f"{path}:7"]
    assert [(p.where, p.kind, p.action) for p in problems] == [
        (f"{path}:{n}", "malformed_row", "skipped") for n in (2, 3, 4, 5)]
    assert all(f"more than {MAX_NESTING} levels" in p.message for p in problems)
    rows = scan_and_write(path, tmp_path / "out")  # the deepest row kept is written, JSON and Parquet
    assert len(rows) == 3
    with pytest.raises(InputError, match=rf"deep\.jsonl:2: .*more than {MAX_NESTING} levels"):
        read(path, config=ReadConfig(strict=True))
    clean = tmp_path / "clean.jsonl"  # the compiled reader takes the deepest row allowed
    clean.write_text(nested(MAX_NESTING).replace('"text"', '"id": "x", "text"') + "\n", encoding="utf-8")
    (doc,), _ = read_both_ways(clean, monkeypatch)
    assert doc.id == "x"


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_jsonl_lines_end_only_at_newline(tmp_path: Path, codec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A carriage return alone is not a line end in JSON Lines, whatever the encoding: between
    tokens it is JSON whitespace (the row is read), inside a string it makes the row invalid
    (one malformed row), and the lines after keep their numbers."""
    boms = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00",
            "utf-32-be": b"\x00\x00\xfe\xff"}
    content = ('{"id": "a",\r"text": "one\\rtwo"}\r\n'
               '{"text": "raw\rcr"}\n'
               '\r\n'
               '{"text":\r"three"}\r'
               '\n{"text": "four"}\n')
    path = tmp_path / "cr.jsonl"
    path.write_bytes(boms.get(codec, b"") + content.encode(codec))
    docs, problems = read_both_ways(path, monkeypatch)
    assert [(d.id, d.text) for d in docs] == [("a", "one\rtwo"), (f"{path}:4", "three"), (f"{path}:5", "four")]
    assert [(p.where, p.kind) for p in problems if p.kind != "encoding_fallback"] == [(f"{path}:2", "malformed_row")]
    out = tmp_path / "copy.jsonl"  # lines copied as they are, CRs and all
    assert copy_filtered(path, out, {d.id for d in docs}, CFG) == 3
    lines = content.split("\n")
    kept = "\n".join([lines[0], lines[3], lines[4], ""])
    assert out.read_bytes() == boms.get(codec, b"") + kept.encode(codec)


def test_null_text_is_named_null_and_strict_names_the_row_once(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    path.write_text('{"id": "a", "text": null}\n{"id": "b"}\n{"id": "c", "text": "fine"}\n', encoding="utf-8")
    docs, problems = read(path)
    assert [d.id for d in docs] == ["c"]
    assert [(p.where, p.kind, p.message) for p in problems] == [
        (f"{path}:1", "missing_text", f"{path}:1: 'text' is null"),
        (f"{path}:2", "missing_text", f"{path}:2: no 'text' field (its fields: id)")]
    with pytest.raises(InputError) as err:
        read(path, config=ReadConfig(strict=True))
    assert err.value.message == f"{path}:1: 'text' is null"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x"}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read(bad, config=ReadConfig(strict=True))
    assert err.value.message.count(f"{bad}:2") == 1


def no_documents(tmp_path: Path, name: str) -> Path:
    """An input that holds no documents, of the kind ``name`` says."""
    path = tmp_path / name
    if name == "empty-folder":
        path.mkdir()
    elif name == "pdf-folder":
        path.mkdir()
        for n in range(3):
            (path / f"paper{n}.pdf").write_bytes(b"%PDF-1.7 ...")
        (path / "scan.png").write_bytes(b"\x89PNG\r\n")
    elif name == "png-folder":
        path.mkdir()
        (path / "a.png").write_bytes(b"\x89PNG\r\n")
    elif name == "binary.txt":
        path.write_bytes(b"\x7fELF\x00\x01\x02\x03" * 10)
    elif name == "body.jsonl":
        write_jsonl(path, [{"id": "a", "body": "the text is here"}, {"id": "b", "body": "and here"}])
    elif name == "null.jsonl":
        write_jsonl(path, [{"id": "a", "text": None}])
    else:
        path.write_bytes(b"")
    return path


@pytest.mark.parametrize(("name", "said", "hinted"), [
    ("empty-folder", "no files", "give a folder of .txt files"),
    ("pdf-folder", "3 .pdf, 1 .png", "extract"),
    ("png-folder", "1 .png", "extract"),
    ("binary.txt", "binary", "text"),
    ("body.jsonl", "no 'text' field", "--text-column"),
    ("null.jsonl", "'text' is null", "--text-column"),
    ("empty.jsonl", "empty", "written completely")])
def test_reading_no_documents_is_an_input_error(tmp_path: Path, name: str, said: str, hinted: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing to scan is an input error with a hint (exit status 3), not an empty results
    folder; what was found is said."""
    from twicetold.cli import main

    path = no_documents(tmp_path, name)
    with pytest.raises(InputError, match="no documents") as err:
        twicetold.scan([path])
    assert said in err.value.message and err.value.hint and hinted in (err.value.cli_hint() or "")
    with pytest.raises(SystemExit) as code:
        main(["scan", str(path), "-o", str(tmp_path / "out"), "-q"])
    assert code.value.code == 3 and not (tmp_path / "out").exists()
    assert "no documents" in capsys.readouterr().err
    other = write_jsonl(tmp_path / "other.jsonl", [{"id": "x", "text": "one document"}])
    assert len(twicetold.scan([path, other]).documents) == 1  # nothing from one input of several is fine
