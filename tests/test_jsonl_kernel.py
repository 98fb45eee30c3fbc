"""The compiled JSON Lines reader against orjson (the reference), line by line and as a reader:
every line it takes gives orjson's values, every line orjson refuses is left to the careful
reader, and a file read the fast way gives the same documents as read the careful way."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pytest

from twicetold import _jsonl, corpus, plan, readers
from twicetold.config import ReadConfig, ScanConfig
from twicetold.sketch import Features, featurize

KEYS = ["id", "text", "date", "source"]
ALPHABET = ["a", "Z", " ", "\n", "\t", '"', "\\", "/", "é", "ß", "ж", "ع", "中", "😀", "\u2028", "\x00", "\x1f", "\x7f"]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30)))


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randint(0, 7 if depth < 3 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 17, 10**12, -3.5, 1e-7, 2.5e30])
    if kind in (3, 4):
        return random_text(rng)
    if kind in (5, 6):
        return {random_text(rng): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def random_line(rng: random.Random) -> bytes:
    row: dict[str, Any] = {}
    for key in KEYS:
        if rng.random() < 0.85:
            row[key] = random_text(rng) if rng.random() < 0.9 else None
    for _ in range(rng.randint(0, 3)):
        row[f"m{rng.randint(0, 9)}"] = random_value(rng)
    items = list(row.items())
    rng.shuffle(items)
    text = json.dumps(dict(items), ensure_ascii=rng.random() < 0.5,
                      separators=rng.choice([(",", ":"), (", ", ": ")]))
    return (" " * rng.randint(0, 1) + text + "\r" * rng.randint(0, 1)).encode("utf-8")


def damaged(line: bytes, rng: random.Random) -> bytes:
    """A line with one random byte changed, dropped or added: often not JSON any more."""
    data = bytearray(line)
    at = rng.randrange(len(data) + 1)
    byte = rng.choice(b'{}[]":,\\ 0-e.tnu\x80\xc3\xff\x01')
    choice = rng.randint(0, 2)
    if choice == 0 and at < len(data):
        data[at] = byte
    elif choice == 1 and at < len(data):
        del data[at]
    else:
        data.insert(at, byte)
    return bytes(data).replace(b"\n", b" ")


def parse(lines: list[bytes]) -> tuple[int, Any, Any, Any, Any]:
    data = np.frombuffer(b"".join(line + b"\n" for line in lines), dtype=np.uint8)
    ends = np.cumsum([len(line) + 1 for line in lines]).astype(np.int64)
    keys = "".join(KEYS).encode()
    key_offsets = np.cumsum([0] + [len(k) for k in KEYS]).astype(np.int64)
    return _jsonl.parse_block(data, ends, np.frombuffer(keys, dtype=np.uint8), key_offsets)


def reference(line: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


@pytest.mark.parametrize("seed", range(4))
def test_lines_decode_like_orjson(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        line = random_line(rng)
        if rng.random() < 0.4:
            line = damaged(line, rng)
        first_bad, state, offsets, out, meta = parse([line])
        expected = reference(line)
        if expected is None:
            assert first_bad == 0, line  # orjson refuses it: the careful reader must see it
            continue
        wanted_ok = all(expected.get(k) is None or isinstance(expected[k], str) for k in KEYS)
        escaped_key = b"\\" in line and any(b"\\" in k.encode() or not k.isascii() for k in expected)
        if not wanted_ok or escaped_key:
            continue  # left to the careful reader on purpose, or taken: both are fine
        assert first_bad == -1, line
        for k, key in enumerate(KEYS):
            value = expected.get(key)
            if key not in expected:
                assert state[0, k] == _jsonl.ABSENT
            elif value is None:
                assert state[0, k] == _jsonl.NULL
            else:
                assert state[0, k] == _jsonl.STRING
                assert out[k][offsets[k, 0] : offsets[k, 1]].tobytes().decode("utf-8") == value
        others = {k: v for k, v in expected.items() if k not in KEYS}
        assert orjson.loads(meta.tobytes()) == others


def test_what_the_careful_reader_must_see() -> None:
    for line in [b"", b"   ", b"[1, 2]", b'{"id": 1, "text": "a"}', b'{"text": "a", "text": "b"}',
                 b'{"text": "\\ud800"}', b'{"text": "\\udc00x"}', b'{"te\\u0078t": "a"}', b'{"text": "a"} x',
                 b'{"text": "a\xff"}', b'{"text": "\xed\xa0\x80"}', b'{"text": "\xc0\xaf"}', b'{"m": NaN}',
                 b'{"m": 01}', b'{"m": 1.}', b'{"m": [1,]}', b'{"m": {"a" 1}}', b'{"text": "tab\there"}',
                 b'{"m": ' + b"[" * 600 + b"]" * 600 + b"}"]:
        assert parse([line])[0] == 0, line


def test_block_stops_at_its_first_bad_line() -> None:
    lines = [b'{"id": "a", "text": "x"}', b'{"id": "b", "text": "y"}', b"{oops", b'{"id": "c", "text": "z"}']
    assert parse(lines)[0] == 2
    first_bad, _, offsets, out, meta = parse(lines[:2])
    assert first_bad == -1
    assert out[1][offsets[1, 0] : offsets[1, 2]].tobytes() == b"xy"
    assert meta.tobytes() == b"{}\n{}\n"


@pytest.mark.parametrize("seed", range(3))
def test_fast_reader_gives_the_careful_readers_documents(tmp_path: Path, seed: int,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A file of mostly clean lines with some a block cannot take, in small blocks so that
    both paths run: the same documents, ids, origins, metadata and problems as when every
    block is read line by line."""
    rng = random.Random(seed)
    lines = []
    for n in range(600):
        row: dict[str, Any] = {"id": f"d{n}", "text": random_text(rng) + "words here",
                               "source": rng.choice(["a", "b", None])}
        if rng.random() < 0.5:
            row["date"] = rng.choice(["2024-01-02", "2024-01-02T10:00:00Z", ""])
        if rng.random() < 0.5:
            row["url"] = f"https://example.org/{n}"
        if rng.random() < 0.3:
            row["tags"] = [random_text(rng)]
        line = json.dumps(row, ensure_ascii=rng.random() < 0.5)
        if rng.random() < 0.02:
            line = line[:-3]  # malformed: its block goes the careful way and reports it
        lines.append(line)
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(readers, "JSONL_BLOCK_BYTES", 4096)

    def read(threads: int) -> tuple[list[Any], list[Any]]:
        problems: list[Any] = []
        docs = [(d.id, d.text, d.source, d.date, d.meta, d.origin, d.warnings)
                for b in readers.read_batches([path], ReadConfig(), problems, threads=threads) for d in b.documents()]
        return docs, [(p.kind, p.where) for p in problems]

    fast = read(2)
    assert fast == read(1)
    monkeypatch.setattr(readers, "_fast_jsonl_block", lambda block, *args: (block.count(b"\n"), None))
    assert fast == read(1)
    assert len(fast[0]) + len(fast[1]) == 600


@pytest.mark.parametrize("workers", [1, 2])
def test_features_of_clean_and_careful_blocks_are_one_batchs(tmp_path: Path, workers: int,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Clean blocks come sketched by the reader thread that parsed them, the others are
    sketched by the scan: in document order, the features are those of all the texts
    sketched as one batch."""
    rng = random.Random(7)
    words = ["wire", "report", "said", "the", "minister", "on", "tuesday", "in", "a", "statement"]
    lines = [json.dumps({"id": f"d{n}", "text": " ".join(rng.choice(words) for _ in range(rng.randint(5, 80)))})
             for n in range(400)]
    lines[150] = lines[150][:-2]  # malformed: its block is read the careful way
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(readers, "JSONL_BLOCK_BYTES", 4096)
    sketched_by_readers: list[int] = []
    block = corpus.Corpus.sketch_block

    def counted(self: Any, batch: readers.DocumentBatch) -> Features:
        sketched_by_readers.append(len(batch))
        return block(self, batch)

    monkeypatch.setattr(corpus.Corpus, "sketch_block", counted)
    with plan.run_stages([path], ScanConfig(workers=workers)) as state:
        assert 0 < sum(sketched_by_readers) < len(state.corpus) == 399
        texts = [state.text(i) for i in range(len(state.corpus))]
        one = featurize(texts, state.config.sketch)
        got = state.features
        for field in ("n_tokens", "content", "signatures"):
            assert np.array_equal(getattr(got, field), getattr(one, field)), field
        for joined, whole in zip(got.shingles.joined(), one.shingles.joined(), strict=True):
            assert np.array_equal(joined, whole)


@pytest.mark.parametrize("variant", ["plain", "bom-crlf-no-final-newline", "zst"])
def test_texts_reread_in_place_are_the_texts_read(tmp_path: Path, variant: str) -> None:
    """Texts of plain JSON Lines files are re-read from the file by the text store (not
    copied): every one must come back exactly, escapes, BOM, CRLF and a last line without its
    newline included; a compressed file's texts are copied and come back the same."""
    import zstandard

    from twicetold.config import ScanConfig
    from twicetold.plan import run_stages

    rng = random.Random(7)
    rows = [{"id": f"d{n}", "text": random_text(rng) + " some words", "big": 10**30 if n == 3 else n}
            for n in range(300)]
    lines = [json.dumps(r, ensure_ascii=n % 2 == 0) for n, r in enumerate(rows)]
    data = "\n".join(lines).encode("utf-8") + b"\n"
    if variant.startswith("bom"):
        data = b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8")
    path = tmp_path / ("c.jsonl.zst" if variant == "zst" else "c.jsonl")
    path.write_bytes(zstandard.ZstdCompressor().compress(data) if variant == "zst" else data)
    with run_stages([path], ScanConfig()) as state:
        got = {r.id: state.text(i) for i, r in enumerate(state.corpus.records)}
        in_place = bool(state.corpus.store._inputs)
    assert in_place == (variant != "zst")
    assert got == {r["id"]: r["text"] for r in rows}


@pytest.mark.parametrize("variant", ["plain", "bom-crlf-no-final-newline", "zst"])
def test_copy_through_the_compiled_reader_writes_the_careful_copy(tmp_path: Path, variant: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """``copy_filtered`` on JSON Lines (runs of kept lines from blocks the compiled reader
    takes, line by line for the others) writes exactly what copying every record the careful
    way writes: the same bytes, malformed and blank lines left out, BOM and line endings kept."""
    import zstandard

    rng = random.Random(11)
    lines = []
    for n in range(500):
        line = json.dumps({"id": f"d{n}", "text": random_text(rng) + " words", "n": n}, ensure_ascii=n % 3 == 0)
        if rng.random() < 0.01:
            line = line[:-2]  # malformed
        elif rng.random() < 0.01:
            line = ""  # blank
        lines.append(line)
    newline = "\r\n" if variant.startswith("bom") else "\n"
    data = newline.join(lines).encode("utf-8") + (b"" if variant.startswith("bom") else b"\n")
    if variant.startswith("bom"):
        data = b"\xef\xbb\xbf" + data
    path = tmp_path / ("c.jsonl.zst" if variant == "zst" else "c.jsonl")
    path.write_bytes(zstandard.ZstdCompressor().compress(data) if variant == "zst" else data)
    monkeypatch.setattr(readers, "JSONL_BLOCK_BYTES", 2048)
    keep = {f"d{n}" for n in range(500) if rng.random() < 0.8}
    expected = b"".join(raw for doc, raw in readers._records(str(path), "jsonl", ReadConfig(), [])
                        if doc is None or doc.id in keep)
    for threads in (1, 2):
        out = tmp_path / f"out{threads}.jsonl"
        kept = readers.copy_filtered(path, out, keep, ReadConfig(), threads=threads)
        assert out.read_bytes() == expected
        assert kept == len(keep & {doc.id for doc, _ in readers._records(str(path), "jsonl", ReadConfig(), [])
                                   if doc is not None})


# ------------------------------------------------------------------ writing, against orjson

def orjson_lines(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in rows)


@pytest.mark.parametrize("seed", range(6))
def test_jsonl_table_writer_gives_orjsons_bytes(tmp_path: Path, seed: int) -> None:
    """Random tables of every kind of column the compiled writer takes (texts with quotes,
    backslashes, control characters and every width of UTF-8, integers of both signs,
    four-decimal numbers, booleans, nulls in each, lists of texts), as small and large string
    columns, in buffers small enough that rows break across writes: orjson's bytes."""
    from twicetold import outputs

    rng = random.Random(seed)
    n = rng.choice([0, 1, 7, 300])
    rows = [{"id": rng.randint(-10**12, 10**12), "text": random_text(rng) * rng.randint(0, 40),
             "source": rng.choice([None, random_text(rng)]), "score": round(rng.random() * rng.choice([1, 3]), 4),
             "whole": rng.choice([None, float(rng.randint(-3, 3))]), "flag": rng.choice([None, True, False]),
             "cluster": rng.choice([None, rng.randint(0, 9)]), "k\"ey": "x",
             "warnings": rng.choice([[], [], [random_text(rng)], [random_text(rng), "x"]])} for _ in range(n)]
    schema = pa.schema([("id", pa.int64()), ("text", rng.choice([pa.string(), pa.large_string()])),
                        ("source", pa.string()), ("score", pa.float64()), ("whole", pa.float64()),
                        ("flag", pa.bool_()), ("cluster", pa.int64()), ("k\"ey", pa.string()),
                        ("warnings", pa.list_(pa.string()))])
    table = pa.Table.from_pylist(rows, schema=schema)
    if n > 2:
        table = pa.concat_tables([table.slice(0, n // 2), table.slice(n // 2)])  # chunked, with an offset
    assert outputs._jsonl_columns(table) is not None
    monkey = pytest.MonkeyPatch()
    monkey.setattr(outputs, "JSONL_CHUNK", rng.choice([64, 4096, 1 << 20]))
    monkey.setattr(outputs, "COMPILED_JSONL_MIN_ROWS", 0)  # small tables take orjson otherwise
    try:
        outputs.write_jsonl_table(tmp_path / "t.jsonl", table)
    finally:
        monkey.undo()
    assert (tmp_path / "t.jsonl").read_bytes() == orjson_lines(rows)


def test_every_four_decimal_number_is_written_as_repr_writes_it() -> None:
    from twicetold import outputs

    values = [k / 10000 for k in range(-20000, 20001)] + [123456.5, 0.0]
    table = pa.table({"x": pa.array(values, pa.float64())})
    columns = outputs._jsonl_columns(table)
    assert columns is not None
    out = np.empty(64 * len(values), dtype=np.uint8)
    rows, used = _jsonl.write_rows(0, len(values), out=out, **columns)
    assert rows == len(values)
    assert out[:used].tobytes() == orjson_lines([{"x": v} for v in values])


def test_jsonl_table_writer_leaves_other_columns_to_orjson(tmp_path: Path) -> None:
    """Numbers of more than four decimals, lists of numbers and objects are not the compiled
    writer's: the table is written through orjson, with the same bytes."""
    from twicetold import outputs

    for table in (pa.table({"x": [0.123456]}), pa.table({"x": [[1, 2]]}), pa.table({"x": [{"a": 1}]})):
        assert outputs._jsonl_columns(table) is None
        outputs.write_jsonl_table(tmp_path / "t.jsonl", table)
        assert (tmp_path / "t.jsonl").read_bytes() == orjson_lines(table.to_pylist())


# ------------------------------------------------------------------ reading: limits (issue #15)

def test_rows_nested_past_the_limit_are_left_to_the_careful_reader() -> None:
    """A row may nest ``MAX_NESTING`` levels (itself included); a deeper one is bad, so the
    careful reader reports it as malformed, the same way on both paths."""
    def row(levels: int) -> bytes:
        return b'{"text": "t", "m": ' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"

    assert parse([row(_jsonl.MAX_NESTING)])[0] == -1
    assert parse([row(_jsonl.MAX_NESTING + 1)])[0] == 0
    def objects(levels: int) -> bytes:
        return b'{"text": "t", "m": ' + b'{"a": ' * (levels - 1) + b"1" + b"}" * levels

    assert parse([objects(_jsonl.MAX_NESTING)])[0] == -1
    assert parse([objects(_jsonl.MAX_NESTING + 1)])[0] == 0


def test_big_integers_of_clean_rows_are_exact(tmp_path: Path) -> None:
    """The compiled reader copies carried numbers as written; read back, integers are exact
    at any size (orjson reads those past 64 bits as floats)."""
    rows = [{"id": f"d{n}", "text": "some text", "n": v}
            for n, v in enumerate([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**40, 7])]
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (batch,) = readers.read_batches([path], ReadConfig(), [])
    assert batch.meta_json is not None  # the compiled reader took the block
    assert [m["n"] for m in batch.meta()] == [2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**40, 7]
    assert all(type(m["n"]) is int for m in batch.meta())
