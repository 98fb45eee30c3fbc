"""Property tests of the two JSON Lines readers against a plain ``json``-module reference.

Random JSON Lines (ids, texts, dates and sources of every type, carried fields with unicode,
escapes, lone surrogates, big integers, floats, nested objects and arrays, nulls, repeated
keys, rows nested past the limit, malformed and blank lines, CRLF, a last line without its
newline) are read by the compiled reader (small blocks, two threads: clean blocks are taken
as they are, the others read line by line) and by the careful line-by-line reader alone.
Both must give what the reference below derives from the README's rules with nothing but
``json.loads``: one document per object line with a text, ``FILE:LINE`` ids where there is
none, exact integers (never floats), lone surrogates replaced by U+FFFD
and flagged, rows nested more than ``MAX_NESTING`` levels malformed, and the problems of each
line in order. Derandomized, with a bounded number of examples: the file runs in seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twicetold import readers
from twicetold.config import ReadConfig
from twicetold.errors import InputError
from twicetold.model import Document, InputProblem

SETTINGS = settings(derandomize=True, max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LIMIT = readers.MAX_NESTING
SURROGATE = re.compile("[\ud800-\udfff]")


# ------------------------------------------------------------------ the reference


def exact_int(digits: str) -> int | str:
    """The README's rule: integers are exact (past Python's 4300 digits, their decimal text)."""
    return int(digits) if len(digits.lstrip("-")) <= 4300 else digits


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def clean(value: Any) -> tuple[Any, bool]:
    """``value`` with lone surrogates replaced by U+FFFD in every string, keys included."""
    if isinstance(value, str):
        return SURROGATE.sub("\ufffd", value), SURROGATE.search(value) is not None
    if isinstance(value, list):
        pairs = [clean(v) for v in value]
        return [v for v, _ in pairs], any(f for _, f in pairs)
    if isinstance(value, dict):
        out, found = {}, False
        for k, v in value.items():
            (k2, fk), (v2, fv) = clean(k), clean(v)
            out[k2] = v2
            found = found or fk or fv
        return out, found
    return value, False


def iso_date(value: str) -> bool:
    """The README's rule: ISO 8601, a trailing Z allowed."""
    def parses(text: str) -> bool:
        try:
            return bool(dt.datetime.fromisoformat(text))
        except ValueError:
            return False

    return parses(value) or (value.endswith("Z") and len(value) > 1 and parses(value[:-1]))


Expected = tuple[list[tuple[Any, ...]], list[tuple[str, str, str]]] | str


def reference(content: str, file: str, config: ReadConfig) -> Expected:
    """Documents (as ``summary`` gives them) and problems ``(where, kind, action)`` of
    ``content`` by the README's rules, or ``"error"`` where reading must stop."""
    lines = content.split("\n")  # JSON Lines end at LF (CRLF leaves a CR: JSON whitespace)
    if lines[-1] == "":
        lines.pop()
    docs: list[tuple[Any, ...]] = []
    problems: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        where = f"{file}:{number}"
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_int=exact_int)
        except ValueError:
            if number == 1 and line.lstrip().startswith("["):
                return "error"  # a JSON array, not JSON Lines
            problems.append((where, "malformed_row", "skipped"))
            continue
        if depth(value) > LIMIT or not isinstance(value, dict):
            problems.append((where, "malformed_row", "skipped"))
            continue
        row, surrogates = clean(value)
        text = row.get(config.text_column)
        if text is None:
            problems.append((where, "missing_text", "skipped"))
            continue
        raw_id = row.get(config.id_column)
        if not isinstance(text, str) or isinstance(raw_id, bool) or not isinstance(raw_id, str | int | float | None):
            problems.append((where, "malformed_row", "skipped"))
            continue
        doc_id = where if raw_id is None or not str(raw_id).strip() else str(raw_id)
        if doc_id in seen:
            return "error"  # a duplicate id
        seen.add(doc_id)
        source, date = (None if row.get(k) in (None, "") else str(row[k])
                        for k in (config.source_column, config.date_column))
        meta = {k: v for k, v in row.items()
                if k not in (config.id_column, config.text_column, config.date_column, config.source_column)}
        flags = []
        if surrogates:
            flags.append("surrogates")
            problems.append((where, "encoding_fallback", "kept"))
        if not text.strip():
            flags.append("empty")
            problems.append((where, "empty", "kept"))
        if len(text) > config.max_chars:
            text = text[: config.max_chars]
            flags.append("too_long")
            problems.append((where, "too_long", "truncated"))
        if date is not None and not iso_date(date):
            flags.append("bad_date")
            problems.append((where, "bad_date", "kept"))
        docs.append((doc_id, text, source, date, json.dumps(meta), "utf-8", where, flags))
    if not docs and not problems:
        problems.append((file, "empty", "skipped"))
    return docs, problems


# ------------------------------------------------------------------ the readers

FLAGS = (("surrogate", "surrogates"), ("empty document", "empty"), ("truncated", "too_long"),
         ("not an ISO date", "bad_date"))


def summary(doc: Document) -> tuple[Any, ...]:
    flags = [flag for w in doc.warnings for said, flag in FLAGS if said in w]
    # Metadata as JSON text: 1, 1.0 and True are equal in Python, not here.
    return (doc.id, doc.text, doc.source, doc.date, json.dumps(doc.meta), doc.encoding, doc.origin, flags)


def fast_blocks() -> tuple[Callable[..., Any], list[bool]]:
    """``_fast_jsonl_block`` that notes, per block, whether the compiled reader took it."""
    taken: list[bool] = []
    original = readers._fast_jsonl_block

    def spy(*args: Any, **kwargs: Any) -> Any:
        n, batch = original(*args, **kwargs)
        taken.append(batch is not None)
        return n, batch

    return spy, taken


def read_both(path: Path, config: ReadConfig, block_bytes: int) -> tuple[Expected, list[bool]]:
    """What both readers make of ``path`` (asserted equal), and which blocks the compiled
    reader took."""

    def read() -> Expected:
        problems: list[InputProblem] = []
        try:
            docs = [summary(d) for b in readers.read_batches([path], config, problems, threads=2)
                    for d in b.documents()]
        except InputError:
            return "error"
        return docs, [(p.where, p.kind, p.action) for p in problems]

    spy, taken = fast_blocks()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(readers, "JSONL_BLOCK_BYTES", block_bytes)
        m.setattr(readers, "_fast_jsonl_block", spy)
        fast = read()
        m.setattr(readers, "_fast_jsonl_block", lambda block, *args: (block.count(b"\n"), None))
        careful = read()
    assert fast == careful
    return fast, taken


# ------------------------------------------------------------------ random JSON Lines

ALPHABET = st.sampled_from([*"aZ 09\t\"\\/{}[]:,éß中😀\u2028\x00\x1f\x7f\r", "\ud800", "\udfff", "\ud83d"])
texts = st.text(ALPHABET, max_size=12) | st.text(max_size=8)
plain_texts = st.text(st.sampled_from(list("ab c中é😀\"\\/")), min_size=1, max_size=12).filter(str.strip)
ints = st.integers(-(2**70), 2**70) | st.sampled_from([
    2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64, 10**30, -(10**25), 0, -1, 10**18 - 1])
floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | ints | floats | texts
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                      max_leaves=5)
deep = st.integers(LIMIT - 3, LIMIT + 3).map(lambda d: [[1]] if d < 2 else _nest(d - 1))
ids = st.none() | st.just("") | st.just("  ") | texts | ints | floats | st.booleans() | st.lists(ints, max_size=1)
dates = st.none() | st.sampled_from(["2024-05-01", "2024-05-01T10:20:30Z", "yesterday", "", "2024-13-01"]) | texts
wanted_texts = (st.none() | texts | plain_texts | st.sampled_from(["", "   ", "x" * 60]) | ints
                | st.lists(texts, max_size=1))


def _nest(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


@st.composite
def rows(draw: st.DrawFn, n: int) -> str:
    """One line: an object with some of the wanted keys and some others (a key may repeat),
    written with or without ASCII escapes and spaces, maybe damaged, blank, or with a CR."""
    kind = draw(st.sampled_from(["row"] * 8 + ["blank", "damaged", "deep", "scalar"]))
    if kind == "blank":
        return draw(st.sampled_from(["", "  ", "\r", " \t "]))
    members: list[tuple[str, Any]] = []
    if draw(st.booleans()) or kind == "deep":
        members.append(("id", f"d{n}" + draw(st.sampled_from(["", "\ud800", " x"]))) if draw(st.booleans())
                       else ("id", draw(ids)))
    if draw(st.integers(0, 9)) > 0:
        members.append(("text", draw(wanted_texts)))
    for key in ("date", "source"):
        if draw(st.booleans()):
            members.append((key, draw(dates if key == "date" else st.none() | texts | ints)))
    for _ in range(draw(st.integers(0, 3))):
        members.append((draw(st.sampled_from(["url", "n", "tags", "k\ud800", "text", "é"]) | texts), draw(values)))
    if kind == "deep":
        members.append(("m", draw(deep)))
    members = draw(st.permutations(members))
    ascii_only = draw(st.booleans()) or any(SURROGATE.search(json.dumps(m, ensure_ascii=False)) for m in members)
    sep = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,\r", " :\r ")]))

    def dumps(v: Any) -> str:
        return json.dumps(v, ensure_ascii=ascii_only)

    line = "{" + sep[0].join(dumps(k) + sep[1] + dumps(v) for k, v in members) + "}"
    if kind == "scalar":
        line = draw(st.sampled_from(["1", '"text"', "[1, 2]", "null"]))
    if kind == "damaged":
        at = draw(st.integers(0, len(line)))
        line = line[:at] + draw(st.sampled_from(list('{}[]":,\\ 0-e.tnu'))) + line[at + 1:]
    return line + draw(st.sampled_from(["", "", "\r"]))


@st.composite
def files(draw: st.DrawFn) -> tuple[str, bool]:
    n = draw(st.integers(0, 10))
    lines = [draw(rows(k)) for k in range(n)]
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""])), draw(st.booleans())


def check(content: str, config: ReadConfig, block_bytes: int) -> list[bool]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.jsonl"
        path.write_bytes(content.encode("utf-8", "surrogatepass"))
        expected = reference(content, str(path), config)
        got, taken = read_both(path, config, block_bytes)
        assert got == expected, content
        return taken


@SETTINGS
@given(files(), st.sampled_from([64, 256, 4096]), st.sampled_from([10_000_000, 8]))
def test_both_readers_give_the_references_documents_and_problems(
        file: tuple[str, bool], block_bytes: int, max_chars: int) -> None:
    content, _ = file
    check(content, ReadConfig(max_chars=max_chars), block_bytes)


@SETTINGS
@given(files())
def test_custom_columns_read_the_same_way(file: tuple[str, bool]) -> None:
    """Other column names: ``id``/``text`` are then carried fields like any other."""
    content, _ = file
    renamed = content.replace('"text"', '"body"').replace('"id"', '"key"')
    check(renamed, ReadConfig(text_column="body", id_column="key", date_column="source", source_column="date"), 256)


@SETTINGS
@given(st.lists(st.tuples(plain_texts, st.sampled_from([None, "2024-05-01", "AP"]),
                          st.dictionaries(st.sampled_from(["url", "n", "z"]), values, max_size=2)),
                min_size=1, max_size=12),
       st.sampled_from(["\n", "\r\n"]), st.booleans(), st.booleans())
def test_clean_rows_are_taken_by_the_compiled_reader(rows: list[tuple[str, str | None, dict[str, Any]]],
                                                      newline: str, ascii_only: bool, too_deep: bool) -> None:
    """Rows with nothing the careful reader must look at (big integers and nesting up to the
    limit included) are read by the compiled reader, block by block, with the reference's
    documents; one row nested a level deeper is not (the careful reader reports it)."""
    lines = []
    for n, (text, extra, meta) in enumerate(rows):
        meta, _ = clean(meta)
        if depth(meta) >= LIMIT:
            continue
        row: dict[str, Any] = {"id": f"doc{n}", "text": text, **meta}
        if extra is not None:
            row["date" if extra[0] == "2" else "source"] = extra
        lines.append(json.dumps(row, ensure_ascii=ascii_only))
    lines.append(json.dumps({"id": "deepest", "text": "t", "m": _nest(LIMIT - 1 + too_deep)}))
    taken = check(newline.join(lines) + newline, ReadConfig(), 1 << 20)
    assert taken == [not too_deep]


@SETTINGS
@given(files())
def test_utf16_and_utf32_files_read_as_their_utf8_twins(file: tuple[str, bool]) -> None:
    """The same lines in UTF-16 or UTF-32 (with a byte-order mark): the same documents and
    problems, line numbers included, flagged with their encoding."""
    content, big_endian = file
    codec, bom = [("utf-16-le", b"\xff\xfe"), ("utf-32-be", b"\x00\x00\xfe\xff")][big_endian]
    config = ReadConfig()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.jsonl"
        path.write_bytes(bom + content.encode(codec, "surrogatepass"))
        expected = reference(content, str(path), config)
        got, _ = read_both(path, config, 256)
    if expected == "error" or got == "error":
        assert got == expected
        return
    docs, problems = expected
    name = codec.rsplit("-", 1)[0]
    want = [(*d[:5], name, *d[6:]) for d in docs]
    assert got[0] == want
    assert [p for p in got[1] if p[1] != "encoding_fallback"] == [p for p in problems if p[1] != "encoding_fallback"]
    fallbacks = [p[0] for p in got[1] if p[1] == "encoding_fallback"]
    flagged = [p[0] for p in problems if p[1] == "encoding_fallback"]  # lone surrogates
    first = [d[6] for d in docs[:1]]  # one "decoded as" problem, at the first document
    assert sorted(fallbacks) == sorted(flagged + first)
