"""The ``twicetold`` command line end to end: scan's results folder, pair direction and kinds,
clusters, bad input and exit statuses, standard input, dedup in every format, and --help.

In-process runs go through ``click.testing.CliRunner`` on ``twicetold.cli.cli``; exit statuses
(which ``cli.main`` maps from the error classes) and standard input go through a real
``python -m twicetold`` process.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from twicetold import __version__
from twicetold.cli import cli
from twicetold.config import ScanConfig
from twicetold.errors import OutputError

from .conftest import SEEDS

SEED_A, SEED_B = "000_67ea10a8cc3b0884", "002_84e259149e4ad06a"
TABLES = ("pairs", "clusters", "documents", "passages", "passage_clusters")


# ---------------------------------------------------------------- helpers


_SYLLABLES = ["ba", "ke", "lo", "mu", "ri", "sa", "te", "vo", "ni", "da", "fe", "gu", "po", "zi", "ha", "ju",
              "ce", "wy", "xo", "qua"]
_rng = random.Random(20240601)
VOCAB = sorted({"".join(_rng.choice(_SYLLABLES) for _ in range(_rng.randint(2, 4))) for _ in range(6000)})


def paragraphs(seed: int, n: int, words: int = 60) -> list[str]:
    """``n`` paragraphs of made-up words (sentences of 12 words); different seeds share no text."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        ws = [rng.choice(VOCAB) for _ in range(words)]
        sentences = [" ".join(ws[i:i + 12]) for i in range(0, words, 12)]
        out.append(" ".join(s[0].upper() + s[1:] + "." for s in sentences))
    return out


def article(seed: int, n: int = 7) -> str:
    return "\n\n".join(paragraphs(seed, n))


def edit(text: str, seed: int, n: int = 4) -> str:
    """Replace ``n`` evenly spread words: a near copy (Jaccard of 5-shingles about 0.9 for 420 words)."""
    rng = random.Random(seed)
    ws = text.split(" ")
    for k in range(n):
        i = (k + 1) * len(ws) // (n + 1)
        ws[i] = rng.choice(VOCAB) + ("." if ws[i].endswith(".") else "")
    return " ".join(ws)


def shout(text: str) -> str:
    """Same words, other case and punctuation, same length: an exact copy after normalization."""
    return text.upper().replace(".", "!")


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_text(path: Path) -> str:
    """A file's text as twicetold reads it: UTF-8, line endings untranslated."""
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def squash(s: str) -> str:
    """Without whitespace: Rich wraps long messages (and folds long paths) at the terminal width."""
    return "".join(s.split())


def invoke(*args: str | Path, ok: bool = True) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=not ok)
    if ok:
        assert result.exit_code == 0, result.output + result.stderr
    return result


def run_module(*args: str | Path, stdin: bytes | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # No COLUMNS: stderr is not a terminal, as in a log or a CI job.
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")} | {"PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-m", "twicetold", *map(str, args)], input=stdin,
                          capture_output=True, cwd=cwd, env=env, timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8"),
                                       proc.stderr.decode("utf-8"))


def leftovers(folder: Path) -> list[str]:
    """Temporary files or folders that an atomic write left behind."""
    return sorted(p.name for p in folder.iterdir() if ".twicetold-" in p.name or p.name.endswith(".tmp"))


def pairs_by_ids(out: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["a"], p["b"]): p for p in read_jsonl(out / "pairs.jsonl")}


# ---------------------------------------------------------------- scan: the seeds


@pytest.mark.usefixtures("shared_data")
def test_scan_seeds_results_folder(tmp_path: Path, seed_passage: dict[str, tuple[int, int]]) -> None:
    out = tmp_path / "results"
    result = invoke("scan", SEEDS, "-o", out)

    names = {f"{t}.{ext}" for t in TABLES for ext in ("jsonl", "parquet")} | {"run.json"}
    assert {p.name for p in out.iterdir()} == names
    assert leftovers(tmp_path) == []
    for table in TABLES:  # the two formats hold the same rows, in the same order
        assert pq.read_table(out / f"{table}.parquet").to_pylist() == read_jsonl(out / f"{table}.jsonl"), table
    clusters = pq.read_table(out / "clusters.parquet")
    assert clusters.num_rows == 0 and {"canonical", "members"} <= set(clusters.column_names)

    (pair,) = read_jsonl(out / "pairs.jsonl")
    assert (pair["a"], pair["b"], pair["kind"]) == (SEED_A, SEED_B, "partial")  # no dates: the smaller id
    assert 0 < pair["jaccard"] < 0.6
    (passage,) = pair["passages"]
    assert [(passage["a_start"], passage["a_end"]), (passage["b_start"], passage["b_end"])] \
        == [seed_passage[SEED_A], seed_passage[SEED_B]]
    assert passage["length"] == max(passage["a_end"] - passage["a_start"], passage["b_end"] - passage["b_start"])
    assert 0.9 <= passage["score"] <= 1.0

    docs = read_jsonl(out / "documents.jsonl")
    assert [(d["id"], d["length"], d["encoding"], d["warnings"]) for d in docs] == [
        (SEED_A, len(read_text(SEEDS / f"{SEED_A}.txt")), "utf-8", []),
        (SEED_B, len(read_text(SEEDS / f"{SEED_B}.txt")), "utf-8", [])]

    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["schema_version"] == 1
    assert run["versions"]["twicetold"] == __version__
    assert {"python", "numpy", "numba", "pyarrow"} <= run["versions"].keys()
    assert run["parameters"] == ScanConfig().to_dict()  # the CLI's defaults are the library's
    assert run["counts"]["documents"] == 2 and run["counts"]["pairs"] == 1 and run["counts"]["passages"] == 1
    assert run["counts"]["pairs_by_kind"] == {"partial": 1}
    assert run["timings"]["total"] > 0 and all(v >= 0 for v in run["timings"].values())
    assert run["problems"] == []

    summary = result.stdout
    for label in ("documents", "partial pairs", "reused passages", "time"):
        assert label in summary, summary


@pytest.mark.usefixtures("shared_data")
def test_scan_json_output_is_parseable(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = invoke("scan", SEEDS, "-o", out, "--json")
    printed = json.loads(result.stdout)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert printed["output"] == str(out)
    assert printed["counts"] == run["counts"] and printed["counts"]["pairs_by_kind"] == {"partial": 1}
    assert printed["timings"] == run["timings"]


@pytest.mark.usefixtures("shared_data")
def test_scan_offsets_count_crlf_as_two(tmp_path: Path) -> None:
    """The offsets contract: offsets index the text as read, so a CRLF file's offsets count \\r."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    crlf = read_text(SEEDS / f"{SEED_A}.txt").replace("\n", "\r\n")
    (corpus / "crlf.txt").write_bytes(crlf.encode("utf-8"))
    (corpus / "lf.txt").write_bytes((SEEDS / f"{SEED_B}.txt").read_bytes())
    out = tmp_path / "results"
    invoke("scan", corpus, "-o", out, "-q")
    (pair,) = read_jsonl(out / "pairs.jsonl")
    assert (pair["a"], pair["b"]) == ("crlf", "lf")
    (passage,) = pair["passages"]
    span = read_text(corpus / "crlf.txt")[passage["a_start"]:passage["a_end"]]
    assert span.startswith("Separately, Syrian authorities") and span.endswith("close range.")
    assert "\r\n" in span
    assert read_text(corpus / "lf.txt")[passage["b_start"]:passage["b_end"]].endswith("close range.")


# ---------------------------------------------------------------- scan: direction, kinds, clusters


def test_pair_direction_follows_dates_then_ids(tmp_path: Path) -> None:
    shared = paragraphs(100, 1)[0] + " " + paragraphs(101, 1)[0]
    docs = [  # (id, date): the later-dated documents have the smaller ids
        ("a-late", "2024-03-02"),
        ("z-early", "2024-03-01"),
        ("y-tz", "2024-03-01T01:00:00+05:00"),  # 2024-02-29 20:00 UTC: the earliest
        ("0-undated", None),
    ]
    rows = [{"id": i, "text": "\n\n".join([*paragraphs(200 + k, 2), shared, *paragraphs(300 + k, 2)]),
             **({"date": d} if d else {})} for k, (i, d) in enumerate(docs)]
    out = tmp_path / "results"
    invoke("scan", write_jsonl(tmp_path / "dated.jsonl", rows), "-o", out, "-q")
    pairs = pairs_by_ids(out)
    assert set(pairs) == {
        ("y-tz", "z-early"), ("y-tz", "a-late"), ("z-early", "a-late"),  # by date
        ("0-undated", "a-late"), ("0-undated", "y-tz"), ("0-undated", "z-early"),  # a date missing: by id
    }
    assert {p["kind"] for p in pairs.values()} == {"partial"}
    texts = {r["id"]: r["text"] for r in rows}
    for (a, b), p in pairs.items():
        (passage,) = p["passages"]
        assert texts[a][passage["a_start"]:passage["a_end"]] == shared
        assert texts[b][passage["b_start"]:passage["b_end"]] == shared
    dates = {d["id"]: d["date"] for d in read_jsonl(out / "documents.jsonl")}
    assert dates == dict(docs)


def test_kinds_exact_near_partial_and_carried_columns(tmp_path: Path) -> None:
    base_paragraphs = paragraphs(1, 7)
    base = "\n\n".join(base_paragraphs)
    quoted = base_paragraphs[3]
    rows = [
        {"id": "base", "text": base, "url": "https://one.example/base", "title": "Base"},
        {"id": "copy-exact", "text": shout(base), "url": "https://two.example/copy"},
        {"id": "copy-near", "text": edit(base, 5), "title": "Near"},
        {"id": "quote", "text": "\n\n".join([*paragraphs(2, 3), quoted, *paragraphs(3, 2)])},
        {"id": "other", "text": article(4, 6)},
    ]
    out = tmp_path / "results"
    invoke("scan", write_jsonl(tmp_path / "kinds.jsonl", rows), "-o", out, "-q")
    pairs = pairs_by_ids(out)
    kinds = {ids: p["kind"] for ids, p in pairs.items()}
    assert kinds == {
        ("base", "copy-exact"): "exact",  # case and punctuation differ: still exact
        ("base", "copy-near"): "near",
        # The quoting document shares one paragraph with each member of the cluster.
        ("base", "quote"): "partial", ("copy-exact", "quote"): "partial", ("copy-near", "quote"): "partial",
    }
    assert pairs["base", "copy-exact"]["jaccard"] == 1.0
    assert 0.6 <= pairs["base", "copy-near"]["jaccard"] < 1.0
    assert pairs["base", "quote"]["jaccard"] < 0.3

    texts = {r["id"]: r["text"] for r in rows}
    (passage,) = pairs["base", "quote"]["passages"]
    start = base.index(quoted)
    assert abs(passage["a_start"] - start) <= 2 and abs(passage["a_end"] - (start + len(quoted))) <= 2
    start = texts["quote"].index(quoted)
    assert abs(passage["b_start"] - start) <= 2 and abs(passage["b_end"] - (start + len(quoted))) <= 2
    (passage,) = pairs["base", "copy-near"]["passages"]  # a few changed words do not split the passage
    assert passage["a_end"] - passage["a_start"] >= len(base) - 2 and passage["score"] > 0.95

    (cluster,) = read_jsonl(out / "clusters.jsonl")
    assert cluster["canonical"] == "base" and cluster["size"] == 3
    assert cluster["members"] == ["base", "copy-exact", "copy-near"] and cluster["kind"] == "near"

    docs = {d["id"]: d for d in read_jsonl(out / "documents.jsonl")}
    assert list(docs) == ["base", "copy-exact", "copy-near", "quote", "other"]
    assert docs["base"]["url"] == "https://one.example/base" and docs["base"]["title"] == "Base"
    assert docs["copy-exact"]["url"] == "https://two.example/copy" and docs["copy-exact"]["title"] is None
    assert docs["copy-near"]["title"] == "Near" and docs["copy-near"]["url"] is None
    assert [docs[i]["cluster"] for i in docs] == [0, 0, 0, None, None]
    assert all(d["length"] == len(texts[i]) for i, d in docs.items())
    table = pq.read_table(out / "documents.parquet")
    assert {"url", "title"} <= set(table.column_names)
    assert table.to_pylist() == read_jsonl(out / "documents.jsonl")


@pytest.mark.parametrize(("keep", "canonical"), [("earliest", "v1"), ("first", "v1"), ("longest", "v3")])
def test_cluster_members_pair_with_canonical_only(tmp_path: Path, keep: str, canonical: str) -> None:
    text = article(10)
    copies = {"v1": text, "v2": edit(text, 1), "v3": edit(text, 2) + " " + paragraphs(11, 1)[0],
              "v4": edit(text, 3)}
    rows = [{"id": i, "text": t} for i, t in copies.items()] + [{"id": "lone", "text": article(12)}]
    out = tmp_path / "results"
    invoke("scan", write_jsonl(tmp_path / "copies.jsonl", rows), "-o", out, "-q", "--keep", keep)
    pairs = read_jsonl(out / "pairs.jsonl")
    assert len(pairs) == 3  # n - 1, not n(n - 1)/2
    assert {p["kind"] for p in pairs} == {"near"}
    assert all(canonical in (p["a"], p["b"]) for p in pairs)
    assert {p["a"] if p["b"] == canonical else p["b"] for p in pairs} == set(copies) - {canonical}
    (cluster,) = read_jsonl(out / "clusters.jsonl")
    assert cluster["canonical"] == canonical and sorted(cluster["members"]) == sorted(copies)


# ---------------------------------------------------------------- atomic results folder


def test_existing_output_refused_then_replaced_with_force(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": article(20)}, {"id": "y", "text": article(21)}])
    out = tmp_path / "results"
    out.mkdir()
    (out / "keep-me.txt").write_text("earlier work", encoding="utf-8")

    proc = run_module("scan", corpus, "-o", out)
    assert proc.returncode == 4, proc.stderr
    assert str(out) in squash(proc.stderr) and "--force" in proc.stderr
    assert [p.name for p in out.iterdir()] == ["keep-me.txt"]
    assert (out / "keep-me.txt").read_text(encoding="utf-8") == "earlier work"
    assert leftovers(tmp_path) == []

    # --force replaces a results folder, never a folder of the user's own files.
    result = invoke("scan", corpus, "-o", out, "--force", "-q", ok=False)
    assert isinstance(result.exception, OutputError) and "not a twicetold results folder" in result.exception.message
    assert [p.name for p in out.iterdir()] == ["keep-me.txt"]
    (out / "keep-me.txt").unlink()
    for _ in range(2):
        invoke("scan", corpus, "-o", out, "--force", "-q")
        assert [d["id"] for d in read_jsonl(out / "documents.jsonl")] == ["x", "y"]
    assert leftovers(tmp_path) == []


def test_output_parent_must_exist(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": article(20)}])
    result = invoke("scan", corpus, "-o", tmp_path / "missing" / "results", ok=False)
    assert isinstance(result.exception, OutputError) and result.exception.exit_code == 4
    assert str(tmp_path / "missing") in result.exception.message
    assert not (tmp_path / "missing").exists()


# ---------------------------------------------------------------- errors and exit statuses


@pytest.mark.parametrize("case", ["missing", "bracketed", "duplicate", "threshold", "format", "temp-dir",
                                  "memory-budget"])
def test_errors_exit_statuses(tmp_path: Path, case: str) -> None:
    one = write_jsonl(tmp_path / "one.jsonl", [{"id": "same", "text": article(30)}, {"id": "u", "text": "x y"}])
    two = write_jsonl(tmp_path / "two.jsonl", [{"id": "v", "text": "y z"}, {"id": "same", "text": article(31)}])
    out = tmp_path / "results"
    args: list[str | Path]
    expected: tuple[int, list[str]]
    if case == "missing":
        missing = tmp_path / ("archive-" * 8) / "nowhere.jsonl"  # longer than a line of 80 columns
        args, expected = [missing], (3, [f"input not found: {missing}"])
    elif case == "bracketed":  # a path that looks like terminal markup is printed as it is
        args, expected = [tmp_path / "[/draft].jsonl"], (3, [f"{tmp_path}/[/draft].jsonl"])
    elif case == "duplicate":  # both places are named
        args, expected = [one, two], (3, ["duplicate id 'same'", f"{one}:1", f"{two}:2"])
    elif case == "threshold":
        args, expected = [one, "--threshold", "1.5"], (2, ["threshold", "1.5"])
    elif case == "temp-dir":
        args, expected = [one, "--temp-dir", tmp_path / "gone"], (2, [f"temporary folder {tmp_path / 'gone'}"])
    elif case == "memory-budget":
        args, expected = [one, "--memory-budget", "-1"], (2, ["memory budget", "-1"])
    else:
        args, expected = [one, "--format", "xml"], (2, ["--format", "xml"])
    proc = run_module("scan", *args, "-o", out)
    status, words = expected
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:  # printed whole, not folded at 80 columns: a log can be searched for a path
        assert word in proc.stderr, (word, proc.stderr)
    assert not out.exists() and leftovers(tmp_path) == []


def _bad_corpus(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shared = paragraphs(40, 1)[0]
    (corpus / "good1.txt").write_text(f"{article(41, 2)}\n\n{shared}\n", encoding="utf-8")
    (corpus / "good2.txt").write_text(f"{shared}\n\n{article(42, 2)}\n", encoding="utf-8")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blob.txt").write_bytes(bytes(range(256)) * 8)
    (corpus / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (corpus / "latin.txt").write_bytes("Caf\u00e9 \u201cpriced\u201d at 5\u20ac \u2014 na\u00efve r\u00e9sum\u00e9."
                                       .encode("cp1252"))
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "r1", "text": "first row"}\n{"id": "r2", "text": "unterminated\n'
                    '{"id": "r3", "text": "third row"}\n', encoding="utf-8")
    return corpus, rows


def test_bad_inputs_are_reported_and_do_not_stop_the_run(tmp_path: Path) -> None:
    corpus, rows = _bad_corpus(tmp_path)
    out = tmp_path / "results"
    result = invoke("scan", corpus, rows, "-o", out, "-q")
    stderr = squash(result.stderr)
    for kind in ("empty", "binary", "nottext", "malformedrow", "encodingfallback"):
        assert f"×{kind}" in stderr, (kind, result.stderr)
    for name in ("empty", "blob.txt", "picture.png", f"{rows}:2", "latin.txt"):
        assert squash(name) in stderr, (name, result.stderr)

    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    problems = {(p["kind"], p["where"]) for p in run["problems"]}
    assert problems == {
        ("not_text", str(corpus)),
        ("binary", f"{corpus}/blob.txt"),
        ("empty", f"{corpus}/empty.txt"),
        ("encoding_fallback", f"{corpus}/latin.txt"),
        ("malformed_row", f"{rows}:2"),
    }
    assert run["counts"]["input_problems"] == {"not_text": 1, "binary": 1, "empty": 1, "encoding_fallback": 1,
                                               "malformed_row": 1}
    not_text = next(p for p in run["problems"] if p["kind"] == "not_text")
    assert "picture.png" in not_text["message"] and not_text["action"] == "skipped"

    docs = {d["id"]: d for d in read_jsonl(out / "documents.jsonl")}
    assert list(docs) == ["empty", "good1", "good2", "latin", "r1", "r3"]  # the binary file and bad row: no document
    assert docs["empty"]["length"] == 0 and docs["empty"]["warnings"] == ["empty document"]
    assert docs["latin"]["encoding"] == "cp1252" and "cp1252" in docs["latin"]["warnings"][0]
    assert docs["latin"]["length"] == len("Café “priced” at 5€ — naïve résumé.")
    assert docs["good1"]["warnings"] == [] and docs["r1"]["warnings"] == []
    assert [(p["a"], p["b"], p["kind"]) for p in read_jsonl(out / "pairs.jsonl")] == [("good1", "good2", "partial")]


def test_strict_stops_at_a_malformed_row(tmp_path: Path) -> None:
    _, rows = _bad_corpus(tmp_path)
    out = tmp_path / "results"
    proc = run_module("scan", rows, "-o", out, "--strict")
    assert proc.returncode == 3, proc.stderr
    assert squash(f"{rows}:2") in squash(proc.stderr) and "Traceback" not in proc.stderr
    assert not out.exists() and leftovers(tmp_path) == []


# ---------------------------------------------------------------- standard input


def test_scan_standard_input(tmp_path: Path) -> None:
    shared = paragraphs(50, 2)
    rows = [{"id": "wire-1", "text": "\n\n".join([*paragraphs(51, 2), *shared]), "source": "AP"},
            {"text": "no id here"},
            {"id": "paper-9", "text": "\n\n".join([*shared, *paragraphs(52, 3)]), "source": "Gazette"}]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode("utf-8")
    proc = run_module("scan", "-", "-o", "results", "-q", stdin=data, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "results"
    docs = read_jsonl(out / "documents.jsonl")
    assert [(d["id"], d["source"]) for d in docs] == [("wire-1", "AP"), ("stdin:2", None), ("paper-9", "Gazette")]
    (pair,) = read_jsonl(out / "pairs.jsonl")
    assert (pair["a"], pair["b"], pair["kind"]) == ("paper-9", "wire-1", "partial")
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["inputs"] == ["-"]


# ---------------------------------------------------------------- dedup


def _dedup_rows(dates: bool = True) -> list[dict[str, Any]]:
    a, c = article(60), article(61)
    rows = [
        {"id": "d1", "text": a, "date": "2024-01-03", "url": "u1", "title": "A"},
        {"id": "d2", "text": article(62), "date": "2024-01-01", "url": "u2", "title": "B"},
        {"id": "d3", "text": shout(a), "date": "2024-01-02", "url": "u3", "title": "A again"},
        {"id": "d4", "text": c, "date": "2024-01-05", "url": "u4", "title": "C"},
        {"id": "d5", "text": edit(a, 7) + "\n\n" + paragraphs(63, 1)[0], "date": "2024-01-04", "url": "u5",
         "title": "A, longer"},
        {"id": "d6", "text": edit(c, 8) + " " + paragraphs(64, 1, 12)[0], "date": "2024-01-04", "url": "u6",
         "title": "C, edited"},
        {"id": "d7", "text": article(65), "date": "2024-01-09", "url": "u7", "title": "D"},
    ]
    if not dates:
        for r in rows:
            del r["date"]
    return rows


# Which rows each rule keeps, and the map of removed ids.
KEEP_EARLIEST = (["d2", "d3", "d6", "d7"], {"d1": "d3", "d5": "d3", "d4": "d6"})
KEEP_FIRST = (["d1", "d2", "d4", "d7"], {"d3": "d1", "d5": "d1", "d6": "d4"})
KEEP_LONGEST = (["d2", "d5", "d6", "d7"], {"d1": "d5", "d3": "d5", "d4": "d6"})


def _write_input(tmp_path: Path, fmt: str, rows: list[dict[str, Any]]) -> Path:
    if fmt in ("jsonl", "jsonl.gz"):
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        path = tmp_path / f"corpus.{fmt}"
        path.write_bytes(gzip.compress(data) if fmt.endswith(".gz") else data)
    elif fmt == "csv":
        path = tmp_path / "corpus.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif fmt == "parquet":
        path = tmp_path / "corpus.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        path = tmp_path / "corpus"
        (path / "sub").mkdir(parents=True)
        for r in rows:
            (path / ("sub" if r["id"] == "d7" else "") / f"{r['id']}.txt").write_text(r["text"], encoding="utf-8")
    return path


def _output_rows(path: Path, fmt: str) -> list[dict[str, Any]]:
    if fmt == "jsonl":
        return read_jsonl(path)
    if fmt == "jsonl.gz":
        return [json.loads(line) for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()]
    if fmt == "csv":
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    if fmt == "parquet":
        return pq.read_table(path).to_pylist()
    return [{"id": p.relative_to(path).as_posix()[:-4], "text": read_text(p)} for p in sorted(path.rglob("*.txt"))]


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "csv", "parquet", "txt"])
def test_dedup_keeps_format_columns_and_order(tmp_path: Path, fmt: str) -> None:
    rows = _dedup_rows(dates=fmt != "txt")
    source = _write_input(tmp_path, fmt, rows)
    output = tmp_path / ("deduped" if fmt == "txt" else f"deduped.{fmt}")
    result = invoke("dedup", source, "-o", output, "--json")
    kept_ids, removed = KEEP_FIRST if fmt == "txt" else KEEP_EARLIEST  # .txt files have no dates

    kept = [r for r in rows if r["id"] in kept_ids]
    if fmt == "txt":
        kept = [{"id": "sub/d7" if r["id"] == "d7" else r["id"], "text": r["text"]} for r in kept]
        kept.sort(key=lambda r: r["id"])
    assert _output_rows(output, fmt) == kept
    if fmt == "jsonl":  # lines are copied byte for byte
        lines = source.read_bytes().splitlines(keepends=True)
        assert output.read_bytes() == b"".join(line for line, r in zip(lines, rows, strict=True)
                                               if r["id"] in kept_ids)
    if fmt == "csv":
        assert output.read_bytes().splitlines()[0] == b"id,text,date,url,title"
    if fmt == "parquet":
        assert pq.read_schema(output).equals(pq.read_schema(source))

    removed_map = Path(f"{output}.removed.jsonl")
    assert {r["removed"]: r["kept"] for r in read_jsonl(removed_map)} == removed
    assert {r["kind"] for r in read_jsonl(removed_map)} <= {"exact", "near"}
    counts = json.loads(result.stdout)
    assert (counts["documents"], counts["kept"], counts["removed"]) == (7, 4, 3)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("keep", "expected"), [("earliest", KEEP_EARLIEST), ("longest", KEEP_LONGEST),
                                                ("first", KEEP_FIRST)])
def test_dedup_keep_rules(tmp_path: Path, keep: str, expected: tuple[list[str], dict[str, str]]) -> None:
    source = _write_input(tmp_path, "jsonl", _dedup_rows())
    output = tmp_path / "out.jsonl"
    invoke("dedup", source, "-o", output, "--keep", keep, "-q")
    kept_ids, removed = expected
    assert [r["id"] for r in read_jsonl(output)] == kept_ids
    assert {r["removed"]: r["kept"] for r in read_jsonl(Path(f"{output}.removed.jsonl"))} == removed


def test_dedup_without_dates_keeps_the_first(tmp_path: Path) -> None:
    source = _write_input(tmp_path, "csv", _dedup_rows(dates=False))
    output = tmp_path / "out.csv"
    invoke("dedup", source, "-o", output, "-q")
    kept_ids, removed = KEEP_FIRST
    assert [r["id"] for r in _output_rows(output, "csv")] == kept_ids
    assert {r["removed"]: r["kept"] for r in read_jsonl(Path(f"{output}.removed.jsonl"))} == removed


def test_dedup_removed_path_and_existing_output(tmp_path: Path) -> None:
    source = _write_input(tmp_path, "parquet", _dedup_rows())
    output, removed_map = tmp_path / "out.parquet", tmp_path / "maps" / "removed.jsonl"
    removed_map.parent.mkdir()
    result = invoke("dedup", source, "-o", output, "--removed", removed_map)
    assert "kept 4 of 7" in result.stdout
    assert {r["removed"]: r["kept"] for r in read_jsonl(removed_map)} == KEEP_EARLIEST[1]
    assert not Path(f"{output}.removed.jsonl").exists()

    before = output.read_bytes(), removed_map.read_bytes()
    proc = run_module("dedup", source, "-o", output, "--removed", removed_map)
    assert proc.returncode == 4, proc.stderr
    assert str(output) in squash(proc.stderr)
    assert (output.read_bytes(), removed_map.read_bytes()) == before
    assert leftovers(tmp_path) == [] and leftovers(removed_map.parent) == []

    invoke("dedup", source, "-o", output, "--removed", removed_map, "--force", "--keep", "longest", "-q")
    assert [r["id"] for r in pq.read_table(output).to_pylist()] == KEEP_LONGEST[0]
    assert {r["removed"]: r["kept"] for r in read_jsonl(removed_map)} == KEEP_LONGEST[1]


def test_dedup_existing_removed_map_refused(tmp_path: Path) -> None:
    source = _write_input(tmp_path, "jsonl", _dedup_rows())
    output = tmp_path / "out.jsonl"
    Path(f"{output}.removed.jsonl").write_text("old map\n", encoding="utf-8")
    result = invoke("dedup", source, "-o", output, ok=False)
    assert isinstance(result.exception, OutputError) and result.exception.exit_code == 4
    assert f"{output}.removed.jsonl" in result.exception.message
    assert not output.exists()
    assert Path(f"{output}.removed.jsonl").read_text(encoding="utf-8") == "old map\n"


# ---------------------------------------------------------------- help


@pytest.mark.parametrize("command", [[], ["scan"], ["dedup"]])
def test_help_teaches_with_an_example(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert "Example" in result.stdout
    assert "Usage: " in result.stdout


def test_help_and_version_as_a_process() -> None:
    proc = run_module("--help")
    assert proc.returncode == 0 and "scan" in proc.stdout and "dedup" in proc.stdout
    proc = run_module("--version")
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_no_arguments_is_a_usage_error() -> None:
    proc = run_module("scan")
    assert proc.returncode == 2 and "Missing argument" in proc.stderr
    assert proc.stderr.startswith("Usage: twicetold scan")
