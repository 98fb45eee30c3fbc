"""Read corpora into ``Document`` objects, streaming, and copy a filtered subset back out.

Formats: a folder of ``.txt`` files (recursive), a single ``.txt`` file, JSON Lines, CSV/TSV and
Parquet; the text formats may be gzip- or zstd-compressed; ``-`` is standard input. Nothing is
dropped silently: whatever cannot become a document is recorded as an ``InputProblem``, and
what cannot be read at all raises ``InputError`` with a hint.

Every format goes through one record generator (``_records``) that yields ``(document, raw)``
pairs; ``read_documents`` keeps the documents and ``copy_filtered`` writes the raw bytes/rows
of the kept ones, so both compute ids by the same code. Clean blocks of JSON Lines take a
faster road in both (``_parsed_blocks``: the compiled reader of ``_jsonl``), with the per-line
records as its fallback and as the reference the tests hold it to.
"""

from __future__ import annotations

import atexit
import csv
import datetime as dt
import decimal
import gzip
import io
import json
import os
import re
import shutil
import sys
import tempfile
from collections import Counter, deque
from collections.abc import Callable, Container, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import charset_normalizer
import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import zstandard

from . import _jsonl
from .atomic import atomic_path
from .config import ReadConfig
from .errors import InputError
from .model import Document, InputProblem, jsonable

_TXT_SUFFIXES = (".txt.gz", ".txt.zst", ".txt")
_EXT_FORMATS = {".txt": "txt", ".text": "txt", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
                ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}
_BINARY_SNIFF = 8192
_PARQUET_BATCH = 256  # rows per batch: documents can be megabytes each, so keep batches small
_MAX_NAMES = 20
_ROW_KINDS = ("malformed_row", "missing_text")  # the problems that config.strict turns into errors
_SURROGATE = re.compile("[\ud800-\udfff]")
# Where a JSON line may spell a surrogate (``\ud800``), or hold an integer of 19 digits or more
# (orjson reads integers past 64 bits as floats): only then does a line need the slow, careful steps.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONG_DIGITS = re.compile(r"\d{19}")
_LONG_DIGITS_BYTES = re.compile(rb"\d{19}")
MAX_NESTING = _jsonl.MAX_NESTING
"""Levels of objects and arrays a JSON Lines row may nest (the row itself is one): a deeper
row is malformed (JSON writers and readers, ours included, stop at some depth anyway)."""
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_GZIP_MAGIC, _ZSTD_MAGIC = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))

Record = tuple[Document | None, Any]  # (None, raw) = bytes every copy must keep (BOM, CSV header)


def _raise_csv_limit() -> None:
    # Documents of many megabytes in one CSV field are normal here; the default limit is 128 KiB.
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:  # C long is 32 bits on some platforms
            limit //= 2


_raise_csv_limit()


# ---------------------------------------------------------------- decoding


def decode_bytes(data: bytes) -> tuple[str, str, str | None]:
    """Decode one document's bytes: ``(text, encoding, warning or None)``.

    Order: UTF-8 (a byte-order mark is dropped, encoding ``utf-8-sig``), UTF-16/32 with a
    byte-order mark, Windows-1252 when it decodes strictly (it leaves five bytes undefined, so
    binary junk fails), charset-normalizer's guess, and last UTF-8 with U+FFFD replacements.
    A detector alone is not enough: on Windows-1252 text it may answer cp1250 and garble quotes.
    The warning is ``None`` for UTF-8 (ASCII included) and says what was done otherwise.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig", None
        except UnicodeDecodeError:
            text = data[3:].decode("utf-8", errors="replace")
            return text, "utf-8", "UTF-8 byte-order mark but invalid bytes (replaced by U+FFFD)"
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec, f"decoded as {codec.upper()} (byte-order mark)"
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252", "not valid UTF-8; decoded as Windows-1252 (cp1252)"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return str(best), best.encoding, f"not valid UTF-8 or Windows-1252; detected as {best.encoding}"
    return (data.decode("utf-8", errors="replace"), "utf-8",
            "encoding not recognised; invalid bytes replaced by U+FFFD")


def _looks_binary(text: str) -> bool:
    """True when a decode is mostly replacement characters or control codes (not prose)."""
    if not text:
        return False
    bad = sum(1 for c in text if c == "\ufffd" or (c < " " and c not in "\t\n\r\f\v"))
    return bad > 0.3 * len(text)


# ---------------------------------------------------------------- opening files


def _compression(name: str) -> str | None:
    low = name.lower()
    if low.endswith(".gz"):
        return "gzip"
    if low.endswith((".zst", ".zstd")):
        return "zstd"
    return None


def _open_binary(path: str, compression: str | None) -> io.BufferedIOBase:
    """Open for streaming reads, decompressing; the result supports ``peek``."""
    if compression == "gzip":
        return gzip.GzipFile(path, "rb")
    if compression == "zstd":
        # The decompression reader owns the file (closefd) and closes it with itself.
        raw = open(path, "rb")  # noqa: SIM115
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
        return io.BufferedReader(reader)
    return open(path, "rb")


def _input_compression(path: str) -> str | None:
    """Compression of an input: from the name, or from the magic number for spooled stdin."""
    if path != _spool_path():
        return _compression(path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    return "gzip" if magic.startswith(_GZIP_MAGIC) else "zstd" if magic == _ZSTD_MAGIC else None


_spool: tuple[object, str] | None = None


def _spool_path() -> str | None:
    return _spool[1] if _spool is not None else None


_spool_files: list[IO[bytes]] = []  # kept open: their descriptors are the spooled texts' names


def _spool_stdin() -> str:
    """Copy standard input to a temporary file once per stdin object, so it can be read twice."""
    global _spool
    if _spool is not None and _spool[0] is sys.stdin:
        return _spool[1]
    if sys.platform.startswith("linux"):
        # A file without a name (O_TMPFILE): nothing is left behind even by kill -9. The process
        # (and its forked workers) open it again by its descriptor's name, with an offset of its own.
        spooled: IO[bytes] = tempfile.TemporaryFile(prefix="twicetold-stdin-")  # noqa: SIM115 (kept open)
        _spool_files.append(spooled)
        path = f"/proc/self/fd/{spooled.fileno()}"
    else:
        spooled = tempfile.NamedTemporaryFile(prefix="twicetold-stdin-", delete=False)  # noqa: SIM115
        path = spooled.name
        atexit.register(lambda: Path(path).unlink(missing_ok=True))
    shutil.copyfileobj(getattr(sys.stdin, "buffer", sys.stdin), spooled)
    spooled.flush()
    if not sys.platform.startswith("linux"):
        spooled.close()
    _spool = (sys.stdin, path)
    return path


def _resolve(path: str) -> tuple[str, str]:
    """(name used in messages and FILE:LINE ids, path on disk)."""
    return ("stdin", _spool_stdin()) if path == "-" else (path, path)


# ---------------------------------------------------------------- format detection


def detect_format(path: str, config: ReadConfig) -> str:
    """Return the format of an input: ``txtdir``, ``txt``, ``jsonl``, ``csv``, ``tsv`` or ``parquet``.

    ``config.format`` wins over the file name. Standard input (``-``) is spooled and sniffed
    when no format is given: JSON Lines if its first non-blank byte is ``{``, else one text.
    Raises ``InputError`` for a missing path or an unknown extension.
    """
    path = os.fspath(path)
    if path == "-":
        disk = _spool_stdin()
        if config.format:
            return config.format
        with _open_binary(disk, _input_compression(disk)) as fh:
            head = fh.read(_BINARY_SNIFF).lstrip(b" \t\r\n\xef\xbb\xbf")
        return "jsonl" if head.startswith(b"{") else "txt"
    if not os.path.exists(path):
        raise InputError(f"input not found: {path}", "check the path; use - to read standard input")
    if os.path.isdir(path):
        if config.format not in (None, "txt"):
            raise InputError(f"{path} is a folder, but format {config.format} was asked for",
                             "only folders of .txt files are read; give the files themselves")
        return "txtdir"
    if config.format:
        return config.format
    name = path.lower()
    if _compression(name):
        name = name.rsplit(".", 1)[0]
    fmt = _EXT_FORMATS.get(os.path.splitext(name)[1])
    if fmt is None:
        raise InputError(f"unknown input format: {path}",
                         "use .txt, .jsonl, .ndjson, .json, .csv, .tsv or .parquet (optionally .gz/.zst), "
                         "or name the format with {format}")
    if fmt == "parquet" and _compression(path):
        raise InputError(f"compressed Parquet is not read: {path}",
                         "decompress it; Parquet compresses its own columns")
    return fmt


# ---------------------------------------------------------------- building documents


def _report(problems: list[InputProblem], config: ReadConfig, where: str, kind: str, message: str,
            action: str) -> None:
    if config.strict and kind in _ROW_KINDS:
        said = message if message.startswith(f"{where}:") else f"{where}: {message}"  # the place, once
        raise InputError(said, "fix the row, or run without {strict} to skip it")
    problems.append(InputProblem(where=where, kind=kind, message=message, action=action))


def _date_ok(value: str) -> bool:
    for candidate in (value, value[:-1] if value.endswith("Z") else None):
        if candidate:
            try:
                dt.datetime.fromisoformat(candidate)
                return True
            except ValueError:
                pass
    return False


def _optional_str(value: Any) -> str | None:
    value = jsonable(value)
    return None if value is None or value == "" else str(value)


def _exact_int(digits: str) -> int | str:
    """A JSON integer as read: an exact ``int`` of any size, or its decimal text past the
    digits Python converts (``sys.get_int_max_str_digits``, 4300 by default)."""
    limit = sys.get_int_max_str_digits()
    return int(digits) if not limit or len(digits) - digits.startswith("-") <= limit else digits


def _without_surrogates(value: Any) -> tuple[Any, bool]:
    """``value`` with every lone surrogate of its strings (keys too) replaced by U+FFFD, one
    character for one, and whether there was any."""
    if isinstance(value, str):
        return (_SURROGATE.sub("\ufffd", value), True) if _SURROGATE.search(value) else (value, False)
    if isinstance(value, list):
        items = [_without_surrogates(v) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    if isinstance(value, dict):
        found = False
        clean: dict[Any, Any] = {}
        for k, v in value.items():
            k, key_found = _without_surrogates(k)
            clean[k], value_found = _without_surrogates(v)
            found = found or key_found or value_found
        return clean, found
    return value, False


def _row_without_surrogates(row: dict[str, Any], config: ReadConfig) -> tuple[dict[str, Any], list[str]]:
    """A row with its lone surrogates replaced (see ``_without_surrogates``), and where they
    were: ``id``, ``text``, ``date``, ``source``, a carried field (``'name'``) or ``a key``."""
    names = {config.id_column: "id", config.text_column: "text", config.date_column: "date",
             config.source_column: "source"}
    clean: dict[str, Any] = {}
    found: list[str] = []
    for k, v in row.items():
        key, key_found = _without_surrogates(k)
        clean[key], value_found = _without_surrogates(v)
        if value_found:
            found.append(names.get(key, repr(key)))
        if key_found:
            found.append(f"a key ({key!r})")
    return clean, found


def _finish(doc: Document, encoding_warning: str | None, config: ReadConfig,
            problems: list[InputProblem], report_encoding: bool = True,
            surrogates: Sequence[str] = ()) -> Document:
    """Flag what is odd about a document (lone surrogates, found in the fields ``surrogates``
    names or in its text; encoding, empty, too long, bad date) and return it."""
    where = doc.origin
    found = list(surrogates)
    if _SURROGATE.search(doc.text):
        doc.text = _SURROGATE.sub("\ufffd", doc.text)
        found.append("text")
    if found:
        # JSON may escape half of a UTF-16 pair ("\ud800"), and a UTF-16 file may hold one: no
        # encoding can write that, so it becomes U+FFFD, one character for one (offsets stay).
        message = f"lone UTF-16 surrogates replaced by U+FFFD in {', '.join(dict.fromkeys(found))}"
        doc.warnings.append(message)
        _report(problems, config, where, "encoding_fallback", f"{where}: {message}", "kept")
    if encoding_warning:
        doc.warnings.append(encoding_warning)
        if report_encoding:
            _report(problems, config, where, "encoding_fallback", f"{where}: {encoding_warning}", "kept")
    if not doc.text.strip():
        doc.warnings.append("empty document")
        _report(problems, config, where, "empty", f"document {doc.id!r} is empty or only whitespace", "kept")
    if len(doc.text) > config.max_chars:
        message = (f"document {doc.id!r} has {len(doc.text):,} characters; "
                   f"truncated to max_chars={config.max_chars:,}")
        doc.text = doc.text[: config.max_chars]
        doc.warnings.append(message)
        _report(problems, config, where, "too_long", message, "truncated")
    if doc.date is not None and not _date_ok(doc.date):
        message = f"date {doc.date!r} is not an ISO date (YYYY-MM-DD[THH:MM:SS]); kept as given"
        doc.warnings.append(message)
        _report(problems, config, where, "bad_date", message, "kept")
    return doc


def _text_document(data: bytes, doc_id: str, origin: str, config: ReadConfig,
                   problems: list[InputProblem]) -> Document | None:
    """One whole file's bytes as one document, or ``None`` (reported) when it is binary."""
    has_bom = data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))
    if not has_bom and b"\x00" in data[:_BINARY_SNIFF]:
        _report(problems, config, origin, "binary", f"{origin} is binary (NUL bytes), not text", "skipped")
        return None
    text, encoding, warning = decode_bytes(data)
    if _looks_binary(text):
        _report(problems, config, origin, "binary",
                f"{origin} is binary (it decodes to mostly invalid characters), not text", "skipped")
        return None
    doc = Document(id=doc_id, text=text, encoding=encoding, origin=origin)
    return _finish(doc, warning, config, problems)


def _row_document(row: dict[str, Any], file: str, line: int, encoding: str, warning: str | None,
                  config: ReadConfig, problems: list[InputProblem], first_fallback: bool,
                  surrogates: bool = False) -> Document | None:
    """A JSON object or CSV/Parquet row as a document, or ``None`` (reported) if it has no
    text. ``surrogates``: the row's strings may hold lone surrogates (they are replaced)."""
    where = f"{file}:{line}"
    cleaned: list[str] = []
    if surrogates:
        row, cleaned = _row_without_surrogates(row, config)
    if config.text_column not in row:
        fields = ", ".join(map(str, row)) or "none"
        _report(problems, config, where, "missing_text",
                f"{where}: no {config.text_column!r} field (its fields: {fields})", "skipped")
        return None
    if row[config.text_column] is None:
        _report(problems, config, where, "missing_text", f"{where}: {config.text_column!r} is null", "skipped")
        return None
    text = row[config.text_column]
    if not isinstance(text, str):
        _report(problems, config, where, "malformed_row",
                f"{where}: field {config.text_column!r} is {type(text).__name__}, not a string", "skipped")
        return None
    raw_id = row.get(config.id_column)
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int | float | decimal.Decimal | None):
        _report(problems, config, where, "malformed_row",
                f"{where}: id {raw_id!r} is not a string or a number", "skipped")
        return None
    doc_id = where if raw_id is None or not str(raw_id).strip() else str(raw_id)
    skip = {config.id_column, config.text_column, config.date_column, config.source_column}
    doc = Document(id=doc_id, text=text, source=_optional_str(row.get(config.source_column)),
                   date=_optional_str(row.get(config.date_column)),
                   meta={k: jsonable(v) for k, v in row.items() if k not in skip},
                   encoding=encoding, origin=where)
    if warning and first_fallback:
        # One problem per input (at its first such row), not one per row; every row's document
        # still carries the warning.
        _report(problems, config, where, "encoding_fallback",
                f"{where}: {warning} (first such row of {file}; later ones are flagged on their documents)",
                "kept")
    return _finish(doc, warning, config, problems, report_encoding=False, surrogates=cleaned)


# ---------------------------------------------------------------- per-format records


def _txtdir_records(folder: str, config: ReadConfig, problems: list[InputProblem]) -> Iterator[Record]:
    """Every ``.txt``/``.txt.gz``/``.txt.zst`` under ``folder`` sorted by relative path; raw = (path, rel)."""
    texts: list[tuple[str, str]] = []
    others: list[str] = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
            suffix = next((s for s in _TXT_SUFFIXES if name.lower().endswith(s)), None)
            if suffix is None:
                others.append(rel)
            else:
                texts.append((rel, rel[: -len(suffix)]))
    if others:
        others.sort()
        listed = ", ".join(others[:_MAX_NAMES])
        more = f" and {len(others) - _MAX_NAMES} more" if len(others) > _MAX_NAMES else ""
        _report(problems, config, folder, "not_text",
                f"{len(others)} file(s) in {folder} are not .txt/.txt.gz/.txt.zst and were not read: "
                f"{listed}{more}", "skipped")
    for rel, doc_id in sorted(texts):
        path = os.path.join(folder, rel)
        origin = f"{folder.rstrip('/' + os.sep)}/{rel}"
        data = _read_file_bytes(path, origin, config, problems)
        if data is not None:
            doc = _text_document(data, doc_id, origin, config, problems)
            if doc is not None:
                yield doc, (path, rel)


def _read_file_bytes(path: str, origin: str, config: ReadConfig,
                     problems: list[InputProblem]) -> bytes | None:
    try:
        with _open_binary(path, _input_compression(path)) as fh:
            return fh.read()
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        _report(problems, config, origin, "unreadable", f"{origin} cannot be read: {exc}", "skipped")
        return None


def _txt_records(file: str, disk: str, config: ReadConfig, problems: list[InputProblem]) -> Iterator[Record]:
    """A single text file (or stdin) as one document; raw = its decompressed bytes."""
    if file == "stdin":
        doc_id = "stdin"
    else:
        name = os.path.basename(file)
        suffix = next((s for s in _TXT_SUFFIXES if name.lower().endswith(s)), None)
        doc_id = name[: -len(suffix)] if suffix else os.path.splitext(name)[0] or name
    data = _read_file_bytes(disk, file, config, problems)
    doc = None if data is None else _text_document(data, doc_id, file, config, problems)
    if doc is not None:
        yield doc, data


def _lines(fh: io.BufferedIOBase, newline: str = "") -> tuple[bytes, Iterator[tuple[bytes, str, str, str | None]]]:
    """Split a stream into lines, keeping line endings: ``(bom, iter of (raw, text, encoding, warning))``.

    UTF-8 is tried per line, so one Windows-1252 line does not garble or stop a UTF-8 file;
    UTF-16/32 (byte-order mark) files are decoded as a whole stream, split as ``newline``
    says (``open``'s argument: ``""`` at CR, LF and CRLF; ``"\n"`` at LF only, as UTF-8 is
    split), with lone surrogate code units passed through (the readers replace them). ``raw``
    excludes the BOM.
    """
    head = fh.peek(4)[:4]  # type: ignore[attr-defined]
    for bom, codec in _BOMS:
        if head.startswith(bom):
            fh.read(len(bom))
            # The BOM's byte order tells which endianness the rest of the stream uses.
            endian = codec + ("-le" if bom[0] == 0xFF else "-be")
            wrapper = io.TextIOWrapper(cast(IO[bytes], fh), encoding=endian, newline=newline,
                                       errors="surrogatepass")
            warning = f"decoded as {codec.upper()} (byte-order mark)"
            return bom, ((line.encode(endian, "surrogatepass"), line, codec, warning) for line in wrapper)
    bom = b""
    if head.startswith(b"\xef\xbb\xbf"):
        bom = fh.read(3)

    def utf8_lines() -> Iterator[tuple[bytes, str, str, str | None]]:
        for raw in fh:
            try:
                yield raw, raw.decode("utf-8"), "utf-8", None
            except UnicodeDecodeError:
                text, encoding, warning = decode_bytes(raw)
                yield raw, text, encoding, warning

    return bom, utf8_lines()


def _jsonl_line(file: str, number: int, raw: bytes, text: str, encoding: str, warning: str | None,
                config: ReadConfig, problems: list[InputProblem], first_fallback: bool) -> Document | None:
    """One JSON Lines line as a document, or ``None`` (reported, unless blank)."""
    where = f"{file}:{number}"
    if not text.strip():
        return None  # blank lines hold no data
    if text.count("{") + text.count("[") > MAX_NESTING and _nesting(text) > MAX_NESTING:
        _report(problems, config, where, "malformed_row",
                f"{where}: JSON nested more than {MAX_NESTING} levels deep", "skipped")
        return None
    try:
        value = _loads(raw if encoding == "utf-8" else text)
    except ValueError as exc:
        if number == 1 and text.lstrip().startswith("["):
            raise InputError(f"{file} holds a JSON array, not JSON Lines",
                             "write one object per line, e.g. jq -c '.[]' in.json > in.jsonl") from exc
        _report(problems, config, where, "malformed_row", f"{where}: invalid JSON ({exc})", "skipped")
        return None
    if not isinstance(value, dict):
        _report(problems, config, where, "malformed_row",
                f"{where}: a JSON {type(value).__name__}, not an object", "skipped")
        return None
    surrogates = _SURROGATE_ESCAPE.search(text) is not None or (
        encoding != "utf-8" and _SURROGATE.search(text) is not None)
    return _row_document(value, file, number, encoding, warning, config, problems, first_fallback, surrogates)


def _nesting(text: str) -> int:
    """How many levels of objects and arrays the JSON ``text`` nests (brackets in strings
    are text)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _loads(data: bytes | str) -> Any:
    """One JSON value, integers exact (``_exact_int``). orjson is several times faster, but
    reads integers past 64 bits as floats: a line with 19 digits in a row goes to json, as
    does what orjson refuses (NaN, lone surrogates)."""
    long_digits = (_LONG_DIGITS_BYTES.search(data) if isinstance(data, bytes)
                   else _LONG_DIGITS.search(data))
    if long_digits is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data, parse_int=_exact_int)


def _jsonl_records(file: str, fh: io.BufferedIOBase, config: ReadConfig,
                   problems: list[InputProblem]) -> Iterator[Record]:
    """One document per JSON object line; raw = the line's bytes as in the file."""
    bom, lines = _lines(fh, newline="\n")  # JSON Lines end at LF only: a CR alone is JSON whitespace
    if bom:
        yield None, bom
    fallback_seen = False
    for number, (raw, text, encoding, warning) in enumerate(lines, 1):
        doc = _jsonl_line(file, number, raw, text, encoding, warning, config, problems, not fallback_seen)
        fallback_seen = fallback_seen or (warning is not None and doc is not None)  # said at the first document
        if doc is not None:
            yield doc, raw


def _csv_records(file: str, fh: io.BufferedIOBase, delimiter: str, config: ReadConfig,
                 problems: list[InputProblem]) -> Iterator[Record]:
    """One document per CSV/TSV row after the header; raw = the row's lines' bytes (quoting kept)."""
    bom, lines = _lines(fh)
    pending: list[tuple[bytes, str, str | None]] = []  # lines of the row being parsed

    def texts() -> Iterator[str]:
        for raw, text, encoding, warning in lines:
            pending.append((raw, encoding, warning))
            yield text

    reader = csv.reader(texts(), delimiter=delimiter)
    header: list[str] | None = None
    fallback_seen = False
    while True:
        start = reader.line_num + 1
        pending.clear()
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            _report(problems, config, f"{file}:{start}", "malformed_row", f"{file}:{start}: {exc}", "skipped")
            continue
        if not row:
            continue  # blank line
        raw = b"".join(p[0] for p in pending)
        fallback = next(((p[1], p[2]) for p in pending if p[2]), None)
        if header is None:
            header = row
            if config.text_column not in header:
                columns = ", ".join(header)
                raise InputError(f"{file} has no {config.text_column!r} column (columns: {columns})",
                                 "name the text column with {text_column}, or the format (tsv or csv) with {format} "
                                 "if the delimiter is not the one the extension suggests")
            yield None, bom + raw
            continue
        if len(row) != len(header):
            _report(problems, config, f"{file}:{start}", "malformed_row",
                    f"{file}:{start}: {len(row)} fields, the header has {len(header)}", "skipped")
            continue
        encoding, warning = fallback or (pending[0][1] if pending else "utf-8", None)
        doc = _row_document(dict(zip(header, row, strict=True)), file, start, encoding, warning, config,
                            problems, first_fallback=not fallback_seen, surrogates=encoding in ("utf-16", "utf-32"))
        fallback_seen = fallback_seen or (warning is not None and doc is not None)
        if doc is not None:
            yield doc, raw
    if header is None:
        raise InputError(f"{file} has no header row",
                         "a CSV/TSV input starts with a header naming its columns")


def _parquet_file(file: str, disk: str) -> Any:
    import pyarrow.parquet as pq  # imported here: only Parquet inputs pay for it

    try:
        return pq.ParquetFile(disk)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError... for a damaged file
        raise InputError(f"{file} is not a readable Parquet file: {exc}",
                         "check the file, or name its real format with {format}") from exc


def _parquet_records(file: str, disk: str, config: ReadConfig,
                     problems: list[InputProblem]) -> Iterator[Record]:
    """One document per row, read batch by batch; raw = (batch, index in batch)."""
    pf = _parquet_file(file, disk)
    names = pf.schema_arrow.names
    if config.text_column not in names:
        raise InputError(f"{file} has no {config.text_column!r} column (columns: {', '.join(names)})",
                         "name the text column with {text_column}")
    number = 0
    try:
        for batch in pf.iter_batches(batch_size=_PARQUET_BATCH):
            for index, row in enumerate(batch.to_pylist()):
                number += 1
                doc = _row_document(row, file, number, "utf-8", None, config, problems, False)
                if doc is not None:
                    yield doc, (batch, index)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{file} is not a readable Parquet file: {exc}", "check the file") from exc


def _records(path: str, fmt: str, config: ReadConfig, problems: list[InputProblem]) -> Iterator[Record]:
    """The records of one input: the single code path for ids, used by reading and by copying."""
    file, disk = _resolve(path)
    if fmt == "txtdir":
        yield from _txtdir_records(file, config, problems)
        return
    if fmt == "txt":
        yield from _txt_records(file, disk, config, problems)
        return
    if fmt == "parquet":
        yield from _parquet_records(file, disk, config, problems)
        return
    try:
        with _open_binary(disk, _input_compression(disk)) as fh:
            if fmt == "jsonl":
                yield from _jsonl_records(file, fh, config, problems)
            else:
                yield from _csv_records(file, fh, "\t" if fmt == "tsv" else ",", config, problems)
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        raise InputError(f"{file} cannot be read: {exc}",
                         "check that the file is complete and not corrupt") from exc


# ---------------------------------------------------------------- public entry points


@dataclass
class DocumentBatch:
    """Documents read together, as columns. ``texts`` is an Arrow string column whose UTF-8
    buffers the compiled stages read directly. Metadata (every other field) is kept as dicts
    (``meta_rows``) or, from clean JSON Lines blocks, as one JSON object per line
    (``meta_json``, parsed when asked for)."""

    ids: list[str]
    texts: pa.LargeStringArray
    sources: list[str | None]
    dates: list[str | None]
    encodings: list[str]
    warnings: list[list[str]]
    origins: list[str]
    meta_rows: list[dict[str, Any]] | None = None
    meta_json: list[bytes] | None = None
    lines: tuple[str, npt.NDArray[np.int64]] | None = None
    """For documents read from a plain JSON Lines file: the file, and where each line starts
    and ends in it (``n + 1`` bounds), so the text store can re-read them in place."""
    prepared: object = None
    """What ``read_batches``' ``prepare`` made of this batch on the thread that parsed it
    (None where it did not run)."""

    def __len__(self) -> int:
        return len(self.ids)

    def meta(self) -> list[dict[str, Any]]:
        if self.meta_rows is None:
            self.meta_rows = ([{k: jsonable(v) for k, v in _loads(raw).items()} for raw in self.meta_json]
                              if self.meta_json is not None else [{} for _ in self.ids])
        return self.meta_rows

    @classmethod
    def of(cls, docs: list[Document]) -> DocumentBatch:
        return cls([d.id for d in docs], pa.array([d.text for d in docs], type=pa.large_string()),
                   [d.source for d in docs], [d.date for d in docs], [d.encoding for d in docs],
                   [d.warnings for d in docs], [d.origin for d in docs], meta_rows=[d.meta for d in docs])

    def documents(self) -> Iterator[Document]:
        for i, (text, meta) in enumerate(zip(self.texts.to_pylist(), self.meta(), strict=True)):
            yield Document(self.ids[i], text, self.sources[i], self.dates[i], meta, self.encodings[i],
                           self.warnings[i], self.origins[i])


BATCH_DOCS = 4096
Prepare = Callable[[DocumentBatch], object]


def _batched(docs: Iterator[Document], size: int) -> Iterator[DocumentBatch]:
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield DocumentBatch.of(batch)
            batch = []
    if batch:
        yield DocumentBatch.of(batch)


def _fast_jsonl_block(block: bytes, config: ReadConfig, disk: str, offset: int | None,
                      prepare: Prepare | None = None) -> tuple[int, DocumentBatch | None]:
    """The number of lines of a block of JSON Lines, and its documents parsed by one compiled
    pass (``_jsonl.parse_block``), or ``None`` when anything in it needs the per-line
    reader's care (invalid UTF-8 or JSON, blank lines, missing or empty ids or texts, long
    texts, odd dates); the caller then reads it line by line, so both paths give the same
    documents and problems. The documents' ``origins`` are left to the caller, which knows
    the block's first line; ``offset``, where the block starts in ``disk`` (None when
    compressed), gives the documents' ``lines``. Releases the GIL while it parses, so blocks
    parse side by side."""
    import pyarrow.compute as pc

    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == 10) + 1
    if len(ends) == 0 or ends[-1] != len(data):
        ends = np.append(ends, len(data))
    n = len(ends)
    names = list(dict.fromkeys([config.id_column, config.text_column, config.date_column, config.source_column]))
    encoded = [name.encode("utf-8") for name in names]
    first_bad, state, offsets, out, meta = _jsonl.parse_block(
        data, ends, np.frombuffer(b"".join(encoded), dtype=np.uint8),
        np.cumsum([0] + [len(e) for e in encoded]).astype(np.int64))
    if first_bad >= 0:
        return n, None

    def column(name: str) -> pa.LargeStringArray:
        k = names.index(name)
        return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets[k]), pa.py_buffer(out[k]))

    for name in (config.text_column, config.id_column):
        if (state[:, names.index(name)] != _jsonl.STRING).any():
            return n, None  # missing or null: the per-line reader reports or names them
    text = column(config.text_column)
    if pc.max(pc.utf8_length(text)).as_py() > config.max_chars:
        return n, None
    # Empty or whitespace-only texts get a problem each from the per-line reader.
    if pc.any(pc.or_(pc.equal(pc.binary_length(text), 0), pc.utf8_is_space(text))).as_py():
        return n, None
    ids = column(config.id_column).to_pylist()
    if any(not i.strip() for i in ids):
        return n, None
    dates = [d or None for d in column(config.date_column).to_pylist()]
    if not all(_date_ok(d) for d in set(dates) if d):
        return n, None
    # The other members, as the per-line reader would read them (orjson, then json).
    meta_json = meta.tobytes().split(b"\n")[:-1] if len(meta) > 3 * n else None
    sources = [s or None for s in column(config.source_column).to_pylist()]
    lines = (disk, np.concatenate([[0], ends]) + offset) if offset is not None else None
    batch = DocumentBatch(ids, text, sources, dates, ["utf-8"] * n, [[] for _ in range(n)], [],
                          meta_json=meta_json, lines=lines)
    if prepare is not None:
        batch.prepared = prepare(batch)
    return n, batch


JSONL_BLOCK_BYTES = 8 << 20


def _jsonl_blocks(fh: io.BufferedIOBase, start: int) -> Iterator[tuple[bytes, int]]:
    """Blocks of whole lines (the last one may lack its newline), copied once, with where
    each starts in the stream (the stream's first byte at ``start``)."""
    carry = b""
    at = start
    while True:
        chunk = fh.read(JSONL_BLOCK_BYTES)
        if not chunk:
            if carry:
                yield carry, at
            return
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            carry += chunk  # one line longer than a block: read on
            continue
        block = b"".join((carry, memoryview(chunk)[:cut])) if carry or cut < len(chunk) else chunk
        yield block, at
        at += len(block)
        carry = chunk[cut:]


@dataclass
class _ParsedBlock:
    """A block of JSON Lines as the compiled reader left it: its documents, or ``None`` when
    the block must be read line by line."""

    block: bytes
    first_line: int
    n_lines: int
    batch: DocumentBatch | None


def _parsed_blocks(file: str, disk: str, fh: io.BufferedIOBase, config: ReadConfig, threads: int,
                   prepare: Prepare | None = None) -> Iterator[_ParsedBlock]:
    """The blocks of a UTF-8 JSON Lines stream (past any BOM) parsed on ``threads`` threads,
    in order; ``prepare`` runs on each parsed batch in the thread that parsed it."""
    plain = _input_compression(disk) is None  # lines can be re-read in place
    first_line = 1
    with ThreadPoolExecutor(max_workers=max(threads, 1), thread_name_prefix="twicetold-read") as pool:
        pending: deque[tuple[Future[tuple[int, DocumentBatch | None]], bytes]] = deque()

        def settle() -> _ParsedBlock:
            nonlocal first_line
            fast, block = pending.popleft()
            n_lines, batch = fast.result()
            if batch is not None:
                batch.origins = [f"{file}:{first_line + k}" for k in range(n_lines)]
            parsed = _ParsedBlock(block, first_line, n_lines, batch)
            first_line += n_lines
            return parsed

        for block, at in _jsonl_blocks(fh, fh.tell() if plain else 0):
            pending.append((pool.submit(_fast_jsonl_block, block, config, disk, at if plain else None, prepare),
                            block))
            if len(pending) > threads:
                yield settle()
        while pending:
            yield settle()


def _skip_utf8_bom(fh: io.BufferedIOBase) -> bytes:
    """Read past a UTF-8 byte-order mark at the start of ``fh``; return it (or b"")."""
    if fh.peek(3)[:3] == b"\xef\xbb\xbf":  # type: ignore[attr-defined]
        return fh.read(3)
    return b""


def _wide_encoding(fh: io.BufferedIOBase) -> bool:
    """Whether ``fh`` starts with a UTF-16/32 byte-order mark (then it is decoded as one stream)."""
    head = fh.peek(4)[:4]  # type: ignore[attr-defined]
    return any(head.startswith(bom) for bom, _ in _BOMS)


def _jsonl_batches(path: str, config: ReadConfig, problems: list[InputProblem], size: int, threads: int,
                   prepare: Prepare | None) -> Iterator[DocumentBatch]:
    """JSON Lines in batches: blocks of whole lines are parsed by the compiled reader on
    ``threads`` threads, in order; a block it cannot take as it is goes through the
    per-line reader."""
    file, disk = _resolve(path)
    try:
        with _open_binary(disk, _input_compression(disk)) as fh:
            if _wide_encoding(fh):
                yield from _batched((d for d, _ in _jsonl_records(file, fh, config, problems) if d), size)
                return
            _skip_utf8_bom(fh)
            fallback_seen = [False]
            for parsed in _parsed_blocks(file, disk, fh, config, threads, prepare):
                if parsed.batch is not None:
                    yield parsed.batch
                else:
                    yield from _batched((doc for doc, _ in _jsonl_block_records(
                        file, parsed.block, parsed.first_line, config, problems, fallback_seen)), size)
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        raise InputError(f"{file} cannot be read: {exc}", "check that the file is complete and not corrupt") from exc


def _jsonl_block_records(file: str, block: bytes, first_line: int, config: ReadConfig,
                         problems: list[InputProblem], fallback_seen: list[bool]) -> Iterator[tuple[Document, bytes]]:
    """The documents of a block of lines, read one line at a time with every check, with
    each one's line as it is in the file."""
    _, lines = _lines(io.BufferedReader(io.BytesIO(block)))
    for number, (raw, text, encoding, warning) in enumerate(lines, first_line):
        doc = _jsonl_line(file, number, raw, text, encoding, warning, config, problems, not fallback_seen[0])
        fallback_seen[0] = fallback_seen[0] or (warning is not None and doc is not None)
        if doc is not None:
            yield doc, raw


def _copy_jsonl(path: str, keep_ids: Container[str], config: ReadConfig, sink: io.BufferedIOBase | IO[bytes],
                threads: int) -> int:
    """The lines of the documents in ``keep_ids`` copied to ``sink`` byte for byte: blocks the
    compiled reader takes are copied in runs of kept lines, the others line by line."""
    file, disk = _resolve(path)
    written = 0
    with _open_binary(disk, _input_compression(disk)) as fh:
        if _wide_encoding(fh):
            for doc, raw in _jsonl_records(file, fh, config, []):
                if doc is None or doc.id in keep_ids:
                    sink.write(raw)
                    written += doc is not None
            return written
        sink.write(_skip_utf8_bom(fh))
        for parsed in _parsed_blocks(file, disk, fh, config, threads):
            if parsed.batch is None:
                for doc, raw in _jsonl_block_records(file, parsed.block, parsed.first_line, config, [], [False]):
                    if doc.id in keep_ids:
                        sink.write(raw)
                        written += 1
                continue
            data = np.frombuffer(parsed.block, dtype=np.uint8)
            bounds = np.concatenate([[0], np.flatnonzero(data == 10) + 1, [len(data)]])[: parsed.n_lines + 1]
            keep = np.fromiter((i in keep_ids for i in parsed.batch.ids), dtype=bool, count=parsed.n_lines)
            # Runs of kept lines, each written in one call.
            edges = np.flatnonzero(np.diff(np.concatenate([[False], keep, [False]]).astype(np.int8)))
            view = memoryview(parsed.block)
            for start, stop in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
                sink.write(view[bounds[start] : bounds[stop]])
            written += int(keep.sum())
    return written


def read_batches(inputs: Sequence[str | os.PathLike[str]], config: ReadConfig, problems: list[InputProblem],
                 size: int = BATCH_DOCS, threads: int = 1, prepare: Prepare | None = None) -> Iterator[DocumentBatch]:
    """Stream the documents of every input in batches of about ``size``, in input order.

    The same documents, ids, checks and problems as ``read_documents``; clean JSON Lines are
    parsed by a compiled reader a block at a time, blocks on up to ``threads`` threads,
    which is what makes large corpora fast. ``prepare`` (say, sketching) runs on those
    blocks' batches in the thread that parsed each, its result in ``batch.prepared``; other
    batches come with ``prepared`` None.
    """
    plans = [(os.fspath(p), detect_format(os.fspath(p), config)) for p in inputs]

    def generate() -> Iterator[DocumentBatch]:
        seen: dict[str, str] = {}
        for path, fmt in plans:
            empty, reported = True, len(problems)
            if fmt == "jsonl":
                batches = _jsonl_batches(path, config, problems, size, threads, prepare)
            else:
                batches = _batched((doc for doc, _ in _records(path, fmt, config, problems) if doc is not None),
                                   size)
            for batch in batches:
                for doc_id, origin in zip(batch.ids, batch.origins, strict=True):
                    if doc_id in seen:
                        raise InputError(f"duplicate id {doc_id!r}: at {seen[doc_id]} and at {origin}",
                                         "ids must be unique; choose another column with {id_column}, "
                                         "or rename one of the two")
                    seen[doc_id] = origin
                empty = empty and not len(batch)
                yield batch
            if empty and len(problems) == reported:  # say why an input gave nothing
                name = _resolve(path)[0]
                _report(problems, config, name, "empty", f"{name}: no documents in this input", "skipped")

    return generate()


def no_documents_error(inputs: Sequence[str | os.PathLike[str]], problems: Sequence[InputProblem]) -> InputError:
    """The error for inputs that gave no document at all: what they held (the files of a
    folder by extension, rows without text, binary files, ...) and what to do about it."""
    names = [_resolve(os.fspath(p))[0] for p in inputs]
    found: list[str] = []
    hints: list[str] = []
    for name in names:
        if name != "stdin" and os.path.isdir(name):
            suffixes = Counter(next((s for s in _TXT_SUFFIXES if f.lower().endswith(s)), None)
                               or os.path.splitext(f)[1].lower() or "(no extension)"
                               for _, _, files in os.walk(name) for f in files)
            if not suffixes:
                found.append(f"{name} is an empty folder (no files)")
                hints.append("give a folder of .txt files, or .jsonl, .csv or .parquet files")
                continue
            listed = ", ".join(f"{n} {s}" for s, n in sorted(suffixes.items(), key=lambda i: (-i[1], i[0])))
            found.append(f"{name} holds {listed} file(s)")
            others = [s for s in suffixes if s not in _TXT_SUFFIXES]
            if others:
                hints.append(f"twicetold reads text: extract the text of the {', '.join(sorted(others))} files "
                             "first (pdftotext for PDF, OCR for images) into .txt files or JSON Lines")
        elif name != "stdin" and os.path.isfile(name) and os.path.getsize(name) == 0:
            found.append(f"{name} is empty (0 bytes)")
            hints.append("check that the input was written completely")
    for kind, said, hint in (
            ("missing_text", "row(s) without text", "name the field or column that holds the text with {text_column}"),
            ("malformed_row", "malformed row(s)", "fix the malformed rows (the first is named)"),
            ("binary", "binary file(s)", "give text: .txt files, JSON Lines, CSV or Parquet"),
            ("unreadable", "unreadable file(s)", "check that the files are complete and readable")):
        these = [p for p in problems if p.kind == kind]
        if these:
            found.append(f"{len(these)} {said}, first {these[0].message}")
            hints.append(hint)
    if not found:  # blank lines, say: each input said so
        found = [p.message for p in problems if p.kind == "empty"] or ["nothing to read"]
    return InputError(f"no documents were read from {', '.join(names) or 'no inputs'}: {'; '.join(found)}",
                      "; ".join(dict.fromkeys(hints))
                      or "give .txt files, or JSON Lines, CSV or Parquet with a text field")


def read_documents(inputs: Sequence[str | os.PathLike[str]], config: ReadConfig,
                   problems: list[InputProblem]) -> Iterator[Document]:
    """Stream the documents of every input, in order; append what was odd to ``problems``.

    Inputs are checked at once (missing paths and unknown formats raise ``InputError`` before
    anything is read); documents are then read lazily. Duplicate ids, within one input or
    across inputs, raise ``InputError`` naming both places. Ids: the id column, else
    ``FILE:LINE`` (1-based line of JSON Lines/CSV, row of Parquet); for ``.txt`` folders the
    relative path without ``.txt``; ``stdin`` for a text read from standard input.
    """
    batches = read_batches(inputs, config, problems)
    return (doc for batch in batches for doc in batch.documents())


@contextmanager
def _open_output(path: str, name: str) -> Iterator[io.BufferedIOBase | IO[bytes]]:
    """Open ``path`` for writing, compressed as ``name``'s extension asks (gzip mtime 0: reproducible)."""
    with open(path, "wb") as fh:
        compression = _compression(name)
        if compression == "gzip":
            with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
                yield gz
        elif compression == "zstd":
            with zstandard.ZstdCompressor().stream_writer(fh, closefd=False) as zw:
                yield zw
        else:
            yield fh


def copy_filtered(input: str | os.PathLike[str], output: str | os.PathLike[str],
                  keep_ids: Container[str], config: ReadConfig, threads: int = 1, *, force: bool = True) -> int:
    """Write the documents of ONE input whose ids are in ``keep_ids`` to ``output``; return their count.

    The output has the input's format, columns and row order: JSON Lines and CSV/TSV lines are
    copied byte for byte (header, quoting and line endings included), Parquet keeps the
    schema, a ``.txt`` folder becomes a folder with the kept files at the same relative paths,
    bytes as they are. The output's ``.gz``/``.zst`` extension decides compression (not for
    folders or Parquet). Rows skipped as malformed, and binary files, were never documents and
    are not written. Ids are computed by the same code as ``read_documents``. The write is
    atomic (``atomic.atomic_path``): a temporary sibling renamed into place, removed on any
    error; an existing output is replaced when ``force`` (a folder only if it holds text files).
    """
    path = os.fspath(input)
    is_dir = detect_format(path, config) == "txtdir"
    with atomic_path(output, force, is_dir=is_dir, inputs=[path], holds="texts") as tmp:
        return copy_filtered_into(path, tmp, keep_ids, config, threads, name=os.fspath(output))


def copy_filtered_into(input: str | os.PathLike[str], tmp: str | os.PathLike[str], keep_ids: Container[str],
                       config: ReadConfig, threads: int = 1, *, name: str) -> int:
    """``copy_filtered`` into ``tmp``, a new file or an empty folder (for a ``.txt`` folder) that
    the caller renames to ``name`` (whose extension decides compression) when all is written."""
    path, out = os.fspath(input), Path(tmp)
    fmt = detect_format(path, config)
    scratch: list[InputProblem] = []  # already reported when the input was read
    records = _records(path, fmt, config, scratch)
    if fmt == "txtdir":
        return _copy_txtdir(records, keep_ids, out)
    if fmt == "parquet":
        return _copy_parquet(path, records, keep_ids, str(out))
    written = 0
    with _open_output(str(out), name) as sink:
        if fmt == "jsonl":
            try:
                return _copy_jsonl(path, keep_ids, config, sink, threads)
            except (OSError, EOFError, zstandard.ZstdError) as exc:
                raise InputError(f"{path} cannot be read: {exc}",
                                 "check that the file is complete and not corrupt") from exc
        for doc, raw in records:
            if doc is None or doc.id in keep_ids:
                sink.write(raw)
                written += doc is not None
    return written


def _copy_parquet(path: str, records: Iterator[Record], keep_ids: Container[str], tmp: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_file(*_resolve(path)).schema_arrow
    written = 0
    with pq.ParquetWriter(tmp, schema) as writer:
        batch: Any = None
        mask: list[bool] = []

        def flush() -> None:
            if batch is not None and any(mask):
                writer.write_batch(batch.filter(pa.array(mask)))

        for doc, (row_batch, index) in records:
            if row_batch is not batch:
                flush()
                batch, mask = row_batch, [False] * row_batch.num_rows
            if doc is not None and doc.id in keep_ids:
                mask[index] = True
                written += 1
        flush()
    return written


def _copy_txtdir(records: Iterator[Record], keep_ids: Container[str], out: Path) -> int:
    written = 0
    for doc, (src, rel) in records:
        if doc is not None and doc.id in keep_ids:
            dest = out.joinpath(*rel.split("/"))
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            written += 1
    return written
