"""The persistent index: same answers as scan, crash safety, concurrent readers, upkeep."""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numba
import pytest
from click.testing import CliRunner

from twicetold import scan
from twicetold.cli import cli, main
from twicetold.config import NearConfig, PassageConfig, ScanConfig, SketchConfig
from twicetold.errors import IndexDamagedError, InputError, OutputError, TwicetoldError
from twicetold.index import MIGRATIONS, SCHEMA_VERSION, Index, IndexBusyError, IndexSchemaError, read_text
from twicetold.model import Document, Pair
from twicetold.testing.synthetic import CorpusSpec, generate

from .conftest import SEEDS

SEED_PATHS = sorted(SEEDS.glob("*.txt"))


def write_jsonl(path: Path, docs: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def as_document(d: dict[str, str]) -> Document:
    return Document(d["id"], d["text"], d.get("source"), d.get("date"))


def comparable(pairs: list[Pair]) -> list[Pair]:
    """Pairs by ids, passage cluster ids left out: a scan numbers passage clusters across its
    whole corpus, a query within its answer."""
    return sorted((replace(p, passages=[replace(x, cluster=None) for x in p.passages]) for p in pairs),
                  key=lambda p: (p.a, p.b))


# ---------------------------------------------------------------- same answers as scan


@pytest.mark.parametrize("config", [
    ScanConfig(),
    ScanConfig(sketch=SketchConfig(shingle_size=4, num_perm=64), near=NearConfig(threshold=0.8),
               passages=PassageConfig(ngram=4, min_length=40)),
], ids=["defaults", "other-config"])
@pytest.mark.usefixtures("shared_data")
def test_seeds_query_gives_scans_pair_and_passage(tmp_path: Path, config: ScanConfig,
                                                  seed_passage: dict[str, tuple[int, int]]) -> None:
    expected = scan([SEEDS], config).pairs
    assert len(expected) == 1 and len(expected[0].passages) == 1
    for indexed, queried in ((SEED_PATHS[0], SEED_PATHS[1]), (SEED_PATHS[1], SEED_PATHS[0])):
        with Index.create(tmp_path / f"{indexed.stem}.twicetold", config) as index:
            index.add([indexed])
            got = index.query(read_text(queried), id=queried.stem)
        assert comparable(got) == comparable(expected)
    # The passage is the founding example's, as the offsets contract describes it.
    pair = expected[0]
    passage = pair.passages[0]
    assert [(passage.a_start, passage.a_end), (passage.b_start, passage.b_end)] \
        == [seed_passage[pair.a], seed_passage[pair.b]]


def test_config_is_stored_and_used(tmp_path: Path) -> None:
    config = ScanConfig(sketch=SketchConfig(shingle_size=4, num_perm=64), near=NearConfig(threshold=0.8),
                        passages=PassageConfig(max_df=10, min_length=50))
    Index.create(tmp_path / "i.twicetold", config).close()
    with Index.open(tmp_path / "i.twicetold") as index:
        assert index.config.sketch == config.sketch
        assert index.config.passages == config.passages
        assert index.config.near.threshold == 0.8
        assert (index.config.near.bands, index.config.near.rows) == (index.bands, index.rows)
        assert index.stats().config["sketch"]["shingle_size"] == 4


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A generated corpus with planted exact, near and partial copies, indexed in three batches
    without the query documents (copies whose originals are indexed, plus unrelated ones)."""
    tmp = tmp_path_factory.mktemp("planted")
    docs, truth = generate(CorpusSpec(n_docs=360, seed=11, mean_chars=1500, exact_rate=0.04, near_rate=0.06,
                                      partial_rate=0.08))
    queries = [b for _, b in truth.exact_pairs[:3]] + [b for _, b, _ in truth.near_pairs[:4]]
    queries += list(dict.fromkeys(p.copy_id for p in truth.passages))[:5]
    related = truth.planted_ids()
    queries += [d["id"] for d in docs if d["id"] not in related][-2:]
    base = [d for d in docs if d["id"] not in set(queries)]
    path = tmp / "i.twicetold"
    with Index.create(path) as index:
        for k in range(3):
            index.add([write_jsonl(tmp / f"batch{k}.jsonl", base[k::3])])
    write_jsonl(tmp / "base.jsonl", base)
    return {"tmp": tmp, "path": path, "docs": {d["id"]: d for d in docs}, "queries": queries, "base": base}


def test_batched_index_answers_like_a_full_scan(planted: dict[str, object]) -> None:
    tmp, docs = planted["tmp"], planted["docs"]
    assert isinstance(tmp, Path) and isinstance(docs, dict) and isinstance(planted["queries"], list)
    kinds = set()
    with Index.open(planted["path"]) as index:  # type: ignore[arg-type]
        for qid in planted["queries"]:
            q = docs[qid]
            expected = [p for p in scan([tmp / "base.jsonl", write_jsonl(tmp / "q.jsonl", [q])]).pairs
                        if qid in (p.a, p.b)]
            got = index.query(q["text"], id=qid, date=q["date"], source=q["source"])
            assert comparable(got) == comparable(expected), qid
            kinds |= {p.kind for p in got}
    assert kinds == {"exact", "near", "partial"}


def test_results_are_ranked_and_limited(planted: dict[str, object]) -> None:
    docs = planted["docs"]
    assert isinstance(docs, dict)
    # A text made of an exact copy of one indexed document plus passages of two others.
    base = planted["base"]
    assert isinstance(base, list)
    first, second, third = base[10], base[20], base[30]
    text = "\n\n".join([first["text"], second["text"][:600], third["text"][:300]])
    with Index.open(planted["path"]) as index:  # type: ignore[arg-type]
        exact = index.query(first["text"], id="zz-query")
        assert exact[0].kind == "exact" and exact[0].b == "zz-query" and exact[0].a == first["id"]
        pairs = index.query(text, id="zz-query")
        ranked = [(p.kind, -sum(x.length for x in p.passages), -p.jaccard) for p in pairs]
        order = {"exact": 0, "near": 1, "partial": 2}
        assert [(order[k], n, j) for k, n, j in ranked] == sorted((order[k], n, j) for k, n, j in ranked)
        assert {first["id"], second["id"], third["id"]} <= {p.a for p in pairs}
        assert pairs[0].a == first["id"]  # the longest passage first
        assert index.query(text, id="zz-query", limit=1) == pairs[:1]
        assert index.query("") == [] and index.query(" ,. ;") == []


# ---------------------------------------------------------------- crash safety

CHILD_ADD = """
import sys
import twicetold.index as ix
ix.CHUNK_DOCS = 40  # many chunks inside the one transaction: kills land between writes
index = ix.Index.open(sys.argv[1])
print("ready", flush=True)
index.add([sys.argv[2]])
print("done", flush=True)
"""


def spawn(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    return subprocess.Popen([sys.executable, "-c", *args], stdout=subprocess.PIPE, text=True, env=env)


def check_consistent(path: Path, base: list[dict[str, str]], allowed: set[int], sample: int | None = 3) -> int:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Index.open(path) as index:
        n = len(index)
        assert n in allowed
        stats = index.stats()
        conn = index._reader()  # counters are written in the same transaction as the rows
        assert stats.postings == conn.execute("SELECT count(*) FROM postings").fetchone()[0]
        assert stats.bands == conn.execute("SELECT count(*) FROM bands").fetchone()[0]
        assert n == conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        assert n == conn.execute("SELECT sum(documents) FROM sources").fetchone()[0]
        for d in random.Random(n).sample(base, sample or len(base)):  # committed documents still answer
            assert ("exact", d["id"]) in [(p.kind, p.a) for p in index.query(d["text"], id="~query")]
    return n


def test_killed_add_leaves_index_before_or_after_whole_batch(tmp_path: Path) -> None:
    docs, _ = generate(CorpusSpec(n_docs=900, seed=5, mean_chars=1000))
    base, batch = docs[:100], docs[100:]
    path = tmp_path / "i.twicetold"
    with Index.create(path) as index:
        index.add_documents([as_document(d) for d in base])
    pristine = tmp_path / "pristine.twicetold"  # closed, so the log is checkpointed into the file
    shutil.copyfile(path, pristine)
    big = write_jsonl(tmp_path / "batch.jsonl", batch)
    before, after = len(base), len(base) + len(batch)

    # One uncut run measures how long an add takes.
    child = spawn(CHILD_ADD, str(path), str(big))
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    t0 = time.perf_counter()
    assert child.wait(timeout=120) == 0
    duration = time.perf_counter() - t0
    assert check_consistent(path, base, {after}) == after

    rng = random.Random(2026)
    outcomes = []
    for trial in range(4):
        if trial == 0 or outcomes[-1] == after:
            shutil.copyfile(pristine, path)
        child = spawn(CHILD_ADD, str(path), str(big))
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, duration * 1.1))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        outcomes.append(check_consistent(path, base, {before, after}))
    assert before in outcomes  # at least one kill landed inside the transaction
    check_consistent(path, base, {outcomes[-1]}, sample=None)


# ---------------------------------------------------------------- concurrency

CHILD_WRITER = """
import sys, time
import twicetold.index as ix
ix.CHUNK_DOCS = 25
index = ix.Index.open(sys.argv[1])
index.add([sys.argv[2]])
"""


def test_readers_see_all_or_nothing_of_a_concurrent_add(tmp_path: Path) -> None:
    docs, _ = generate(CorpusSpec(n_docs=400, seed=3, mean_chars=1000, exact_rate=0, near_rate=0,
                                      partial_rate=0))
    query, others = docs[0], docs[1:]
    paras = query["text"].split("\n\n")
    partial_1 = dict(others[0], id="partial-1", text=others[0]["text"] + "\n\n" + "\n\n".join(paras[:2]))
    exact = dict(others[1], id="exact-copy", text=query["text"])
    partial_2 = dict(others[2], id="partial-2", text="\n\n".join(paras[-2:]) + "\n\n" + others[2]["text"])
    path = tmp_path / "i.twicetold"
    with Index.create(path) as index:
        index.add_documents([as_document(d) for d in [partial_1, *others[3:100]]])
    # The new batch's two related documents are far apart: in chunks written at different times.
    new = write_jsonl(tmp_path / "new.jsonl", [exact, *others[100:], partial_2])

    answers: list[frozenset[str]] = []
    errors: list[BaseException] = []
    writer_done = threading.Event()
    shared = Index.open(path, timeout=5)

    def read() -> None:
        try:
            stop_at = None
            while stop_at is None or time.perf_counter() < stop_at:
                answers.append(frozenset(p.a if p.b == "query" else p.b for p in shared.query(query["text"])))
                if writer_done.is_set() and stop_at is None:
                    stop_at = time.perf_counter() + 0.3
        except BaseException as exc:  # any error, "database is locked" included, fails the test
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    writer = spawn(CHILD_WRITER, str(path), str(new))
    assert writer.wait(timeout=120) == 0
    writer_done.set()
    for t in threads:
        t.join(timeout=60)
    shared.close()
    assert not errors, errors
    before, after = frozenset({"partial-1"}), frozenset({"partial-1", "exact-copy", "partial-2"})
    assert set(answers) <= {before, after}, set(answers) - {before, after}
    assert before in answers and after in answers


def test_second_writer_waits_then_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "i.twicetold"
    Index.create(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Index.open(path, timeout=0.2) as index:
            t0 = time.perf_counter()
            with pytest.raises(IndexBusyError, match="another process") as info:
                index.add_documents([Document("a", "some words to index here")])
            assert time.perf_counter() - t0 >= 0.15
            assert info.value.hint
            assert index.query("some words to index here") == []  # readers are not blocked
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Index.open(path) as index:
        index.add_documents([Document("a", "some words to index here")])
        assert len(index) == 1


# ---------------------------------------------------------------- upkeep and errors


@pytest.mark.usefixtures("shared_data")
def test_remove_and_stats(tmp_path: Path) -> None:
    a, b = (read_text(p) for p in SEED_PATHS)
    with Index.create(tmp_path / "i.twicetold") as index:
        index.add_documents([Document("a", a, "outlet-a", "2024-03-01", {"url": "https://a.example"})])
        one = index.stats()
        index.add_documents([Document("b", b)])
        two = index.stats()
        assert (one.documents, one.batches, two.documents, two.batches) == (1, 1, 2, 2)
        assert two.postings > one.postings > 0 and two.size_bytes > 0 and two.schema_version == SCHEMA_VERSION
        assert two.config["near"]["threshold"] == 0.6 and two.last_added_at is not None
        got = index.get("a")
        assert got is not None and got.text == a and got.meta == {"url": "https://a.example"}
        assert got.date == "2024-03-01" and got.source == "outlet-a"
        assert [(p.a, p.kind) for p in index.query(b, id="q")] == [("b", "exact"), ("a", "partial")]

        with pytest.raises(InputError, match="'nope'"):
            index.remove(["b", "nope"])
        assert len(index) == 2  # nothing removed

        assert index.remove(["b"]) == 1
        assert "b" not in index and "a" in index
        three = index.stats()
        assert (three.documents, three.postings, three.bands) == (1, one.postings, one.bands)
        conn = index._reader()
        assert conn.execute("SELECT count(*) FROM postings").fetchone()[0] == one.postings
        assert [(p.a, p.kind) for p in index.query(b, id="q")] == [("a", "partial")]
        index.add_documents([Document("b", b)])  # the id is free again
        assert len(index) == 2


@pytest.mark.usefixtures("shared_data")
def test_duplicate_ids_are_refused_whole(tmp_path: Path) -> None:
    a, b = (read_text(p) for p in SEED_PATHS)
    with Index.create(tmp_path / "i.twicetold") as index:
        index.add_documents([Document("x", a, origin="day1.jsonl:1")])
        stats = index.stats()
        with pytest.raises(InputError, match=r"duplicate id 'x'.*day2.jsonl:7.*already in the index.*day1.jsonl:1"):
            index.add_documents([Document("y", b, origin="day2.jsonl:1"), Document("x", b, origin="day2.jsonl:7")])
        with pytest.raises(InputError, match=r"duplicate id 'z'.*f:1.*f:2"):
            index.add_documents([Document("z", a, origin="f:1"), Document("z", b, origin="f:2")])
        after = index.stats()
        assert (after.documents, after.batches, after.postings) == (stats.documents, stats.batches, stats.postings)
        assert "y" not in index


def test_schema_and_path_errors(tmp_path: Path) -> None:
    path = tmp_path / "i.twicetold"
    Index.create(path).close()
    with sqlite3.connect(path) as conn:
        applied = [r[0] for r in conn.execute("SELECT name FROM _twicetold_migrations ORDER BY rowid")]
        assert applied == [name for name, _ in MIGRATIONS]
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(IndexSchemaError, match="schema version 99") as info:
        Index.open(path)
    assert info.value.hint is not None and "upgrade" in info.value.hint
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        config = json.loads(conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()[0])
        config["passages"]["a_future_setting"] = 1
        conn.execute("UPDATE meta SET value = ? WHERE key = 'config'", (json.dumps(config),))
    with pytest.raises(IndexSchemaError, match="a_future_setting"):
        Index.open(path)

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(IndexSchemaError, match="not a twicetold index"):
        Index.open(other)
    junk = tmp_path / "junk.twicetold"
    junk.write_bytes(os.urandom(5000))
    with pytest.raises(IndexSchemaError, match="not a twicetold index"):
        Index.open(junk)
    with pytest.raises(InputError, match="no index at"):
        Index.open(tmp_path / "missing.twicetold")
    with pytest.raises(OutputError, match="already exists"):
        Index.create(path)


def test_older_index_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.twicetold"
    with Index.create(path) as made:
        made.add_documents([Document("a", "one two three four five six", "s1"), Document("b", "seven eight", "s1"),
                            Document("c", "nine ten eleven", None)])
    with sqlite3.connect(path) as conn:  # take it back to what the first migration alone made
        conn.execute("DROP TABLE sources")
        conn.execute("DELETE FROM meta WHERE key = 'documents'")
        conn.execute("DELETE FROM _twicetold_migrations WHERE name != 'm001_initial'")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with Index.open(path) as index:
        conn = index._reader()
        assert [r[0] for r in conn.execute("SELECT name FROM _twicetold_migrations ORDER BY rowid")] == \
            [name for name, _ in MIGRATIONS]
        assert dict(conn.execute("SELECT source, documents FROM sources")) == {"s1": 2, "": 1}
        assert conn.execute("SELECT value FROM meta WHERE key = 'documents'").fetchone()[0] == "3"
        assert index.stats().schema_version == SCHEMA_VERSION
        assert [p.kind for p in index.query("Nine ten, eleven.")] == ["exact"]


def test_empty_and_wordless_documents(tmp_path: Path) -> None:
    with Index.create(tmp_path / "i.twicetold") as index:
        result = index.add_documents([Document("e1", ""), Document("e2", " ... "), Document("w", "one two")])
        assert result.added == 3 and result.batch == 1
        assert index.query("...") == []
        assert [(p.a, p.kind) for p in index.query("One, two!", id="q")] == [("q", "exact")]
        assert index.remove(["e1", "e2"]) == 2


# ---------------------------------------------------------------- command line


def run_main(args: list[str], capsys: pytest.CaptureFixture[str], stdin: str | None = None) -> tuple[int, str]:
    """Run the console entry point in-process: exit status (as ``main`` maps errors) and output."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(args)
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out + captured.err


@pytest.mark.usefixtures("shared_data")
def test_index_add_sketches_on_the_workers_asked_for(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``index add --workers 1`` sketches on one thread (it used to ignore the option) and
    builds the same index as on all cores; the thread count is restored afterwards. ``--keep``,
    which means nothing to an index, is not offered."""
    from twicetold import index as index_module

    threads_seen: list[int] = []
    real = index_module.featurize

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads_seen.append(numba.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(index_module, "featurize", spy)
    before = numba.get_num_threads()
    paths = {}
    for workers in ("1", "0"):
        paths[workers] = str(tmp_path / f"w{workers}.twicetold")
        code, out = run_main(["index", "add", paths[workers], str(SEEDS), "--workers", workers], capsys)
        assert code == 0, out
    all_cores = min(os.cpu_count() or 1, numba.config.NUMBA_NUM_THREADS)
    assert threads_seen == [1, all_cores] and numba.get_num_threads() == before
    rows = [sqlite3.connect(p).execute("SELECT id, signature, content_hash FROM documents ORDER BY doc").fetchall()
            for p in paths.values()]
    assert rows[0] == rows[1] and len(rows[0]) == len(SEED_PATHS)
    code, out = run_main(["index", "add", paths["1"], str(SEEDS), "--keep", "first"], capsys)
    assert code == 2 and "--keep" in out


@pytest.mark.usefixtures("shared_data")
def test_cli_index_and_query(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "news.twicetold")
    code, out = run_main(["index", "add", path, str(SEED_PATHS[0]), "--json"], capsys)
    assert code == 0, out
    assert json.loads(out)["added"] == 1
    code, out = run_main(["query", path, str(SEED_PATHS[1]), "--json"], capsys)
    assert code == 0, out
    result = json.loads(out)
    expected = scan([SEEDS]).pairs[0]
    assert [(p["a"], p["kind"]) for p in result["pairs"]] == [(SEED_PATHS[0].stem, "partial")]
    assert result["pairs"][0]["passages"][0]["a_start"] == expected.passages[0].a_start
    assert result["pairs"][0]["passages"][0]["b_start"] == expected.passages[0].b_start
    res = CliRunner().invoke(cli, ["query", path, "-", "--limit", "5"], input=read_text(SEED_PATHS[1]))
    assert res.exit_code == 0 and SEED_PATHS[0].stem in res.output, res.output
    code, out = run_main(["index", "stats", path, "--json"], capsys)
    assert code == 0 and json.loads(out)["documents"] == 1
    code, out = run_main(["index", "stats", path], capsys)
    assert code == 0 and "documents" in out
    code, out = run_main(["index", "add", path, str(SEED_PATHS[0])], capsys)
    assert code == 3 and "duplicate id" in out
    code, out = run_main(["index", "add", path, str(SEED_PATHS[1]), "--threshold", "0.9"], capsys)
    assert code == 2 and "threshold" in out
    code, out = run_main(["index", "remove", path, SEED_PATHS[0].stem], capsys)
    assert code == 0 and "removed 1" in out
    code, out = run_main(["query", str(tmp_path / "nope.twicetold"), str(SEED_PATHS[1])], capsys)
    assert code == 3 and "no index at" in out
    code, out = run_main(["query", path, str(tmp_path / "missing.txt")], capsys)
    assert code == 3 and "cannot be read" in out
    for args in (["index", "add"], ["index", "stats"], ["index", "remove"], ["query"]):
        help_text = CliRunner().invoke(cli, [*args, "--help"]).output
        assert "Example:" in help_text


# ---------------------------------------------------------------- a first add that fails (issue #15)


def gate_reading(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Make this process's ``add`` wait before it reads its input, as a first add reading a
    slow standard input does (stdin is spooled before the batch's transaction starts):
    ``started`` is set once the add got that far, and it goes on when ``go`` is set."""
    from twicetold import readers

    started, go = threading.Event(), threading.Event()
    real = readers.read_documents

    def gated(*args: Any, **kwargs: Any) -> Any:
        started.set()
        if not go.wait(120):
            raise RuntimeError("the test never let the add go on")
        return real(*args, **kwargs)

    monkeypatch.setattr(readers, "read_documents", gated)
    return started, go


def run_in_thread(args: list[str]) -> tuple[threading.Thread, list[int]]:
    """``main(args)`` in a thread; its exit status lands in the list."""
    codes: list[int] = []

    def target() -> None:
        try:
            main(args)
        except SystemExit as exc:
            codes.append(int(exc.code or 0))

    thread = threading.Thread(target=target)
    thread.start()
    return thread, codes


@pytest.mark.parametrize("same_ids", [True, False], ids=["duplicate-ids", "other-ids"])
def test_first_add_that_fails_never_removes_another_process_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  same_ids: bool) -> None:
    """Issue #15, item 2: ``(sleep 8; cat a.jsonl) | twicetold index add r.tt - &`` and then
    ``twicetold index add r.tt a.jsonl`` in another process. The second add commits first;
    the first one then fails on the duplicate ids. It used to unlink the index it had created,
    the other process's batch with it. Ordered by events, not by sleeping."""
    docs, _ = generate(CorpusSpec(n_docs=20, seed=4, mean_chars=600))
    theirs = write_jsonl(tmp_path / "a.jsonl", docs[:10])
    mine = theirs if same_ids else write_jsonl(tmp_path / "b.jsonl", docs[10:])
    path = tmp_path / "r.tt"
    started, go = gate_reading(monkeypatch)
    first, codes = run_in_thread(["index", "add", str(path), str(mine), "--json"])
    try:
        assert started.wait(120)  # the first add is under way: it found no index and made one
        second = subprocess.run([sys.executable, "-m", "twicetold", "index", "add", str(path), str(theirs), "--json"],
                                capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
    finally:
        go.set()
        first.join(timeout=300)
    assert codes == ([3] if same_ids else [0])
    with Index.open(path) as index:
        stats = index.stats()
        assert stats.batches == (1 if same_ids else 2)
        assert {d["id"] for d in docs[: 10 if same_ids else 20]} == {
            r[0] for r in index._reader().execute("SELECT id FROM documents")}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"a.jsonl", "b.jsonl", "r.tt"} - (
        {"b.jsonl"} if same_ids else set()))  # no temporary file left behind


def test_first_add_that_fails_leaves_no_index(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A first add that fails or is interrupted leaves no index (and no temporary file)."""
    path = tmp_path / "r.tt"
    dup = write_jsonl(tmp_path / "dup.jsonl", [{"id": "x", "text": "one two three"}, {"id": "x", "text": "four"}])
    code, out = run_main(["index", "add", str(path), str(dup)], capsys)
    assert code == 3 and "duplicate id" in out
    code, out = run_main(["index", "add", str(path), str(tmp_path / "missing.jsonl")], capsys)
    assert code == 3
    from twicetold import readers

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(readers, "read_documents", interrupted)
    code, out = run_main(["index", "add", str(path), str(dup)], capsys)
    assert code == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dup.jsonl"]


def test_add_or_create_in_the_library(tmp_path: Path) -> None:
    """``Index.add_or_create``: the first batch creates the index (and says so), later ones add;
    a failing add to an existing index leaves it as it was."""
    docs, _ = generate(CorpusSpec(n_docs=6, seed=2, mean_chars=400))
    path = tmp_path / "i.twicetold"
    index, result = Index.add_or_create(path, [write_jsonl(tmp_path / "a.jsonl", docs[:3])])
    with index:
        assert result.created and result.added == 3 and len(index) == 3
    index, result = Index.add_or_create(path, [write_jsonl(tmp_path / "b.jsonl", docs[3:])])
    with index:
        assert not result.created and result.batch == 2 and len(index) == 6
    with pytest.raises(InputError, match="duplicate id"):
        Index.add_or_create(path, [tmp_path / "a.jsonl"])
    with Index.open(path) as index:
        assert len(index) == 6 and index.stats().batches == 2


def test_index_file_follows_the_umask_like_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 15: the index file used to be made 0600 (a private temporary file renamed into
    place) while results follow the umask; both get the process's normal mode now."""
    from twicetold import write_results

    old = os.umask(0o027)
    try:
        Index.create(tmp_path / "made.twicetold").close()
        code, out = run_main(["index", "add", str(tmp_path / "cli.twicetold"), str(SEED_PATHS[0])], capsys)
        assert code == 0, out
        write_results(scan([SEED_PATHS[0]]), tmp_path / "results")
    finally:
        os.umask(old)
    modes = {name: stat.S_IMODE(os.stat(tmp_path / name).st_mode)
             for name in ("made.twicetold", "cli.twicetold", "results/run.json")}
    assert modes == dict.fromkeys(modes, 0o640)


# ---------------------------------------------------------------- a damaged index (issue #15, item 15)


def damage(source: Path, target: Path, how: str) -> Path:
    data = bytearray(source.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "garbage":  # the middle half overwritten, the first pages (schema, meta) intact
        rng = random.Random(15)
        start, end = len(data) // 4, 3 * len(data) // 4
        data[start:end] = rng.randbytes(end - start)
    elif how == "header":
        data[:100] = b"\xff" * 100
    target.write_bytes(bytes(data))
    return target


@pytest.fixture(scope="module")
def intact(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("intact")
    docs, _ = generate(CorpusSpec(n_docs=200, seed=1, mean_chars=1000))
    path = tmp / "i.twicetold"
    with Index.create(path) as index:  # closed: everything is in the one file
        index.add_documents([as_document(d) for d in docs])
    return path, docs


@pytest.mark.parametrize("how", ["truncated", "garbage", "header"])
def test_damaged_index_raises_a_clear_error(tmp_path: Path, intact: tuple[Path, list[dict[str, str]]],
                                            how: str) -> None:
    """Every operation on a damaged index works or raises a TwicetoldError that says what is
    wrong; none lets a raw sqlite3 error out."""
    source, docs = intact
    path = damage(source, tmp_path / f"{how}.twicetold", how)
    raised: list[TwicetoldError] = []
    try:
        index = Index.open(path)
    except TwicetoldError as exc:
        raised.append(exc)
    else:
        with index:
            for op in (lambda: len(index), lambda: docs[5]["id"] in index, lambda: index.get(docs[150]["id"]),
                       index.stats, lambda: index.query(docs[150]["text"]), lambda: index.query(docs[3]["text"]),
                       lambda: index.add_documents([Document("new", docs[7]["text"])]),
                       lambda: index.remove([docs[100]["id"]])):
                try:
                    op()
                except TwicetoldError as exc:
                    raised.append(exc)
    assert raised
    if how == "header":  # nothing says it was ever an index
        assert all(isinstance(e, IndexSchemaError) for e in raised)
    else:
        assert all(isinstance(e, IndexDamagedError) for e in raised), raised
        assert all("damaged" in e.message and e.hint for e in raised)


# ---------------------------------------------------------------- output-side failures (issue #15, item 7)

NEWS = Path(__file__).resolve().parents[1] / "examples" / "news"


def run_twicetold(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``python -m twicetold ARGS`` as a user runs it: exit status, and tracebacks as printed."""
    return subprocess.run([sys.executable, "-m", "twicetold", *args], capture_output=True, text=True,
                          timeout=600, **kwargs)


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "twicetold-tmp" in p.name) if folder.is_dir() else []


def refusal(folder: Path) -> str | None:
    """Why a new file cannot be made in ``folder`` (the OS's words), or None when it can."""
    probe = folder / f".twicetold-probe-{os.getpid()}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        return exc.strerror
    probe.unlink()
    return None


@pytest.mark.parametrize("where", ["proc", "sys", "read-only-folder", "parent-is-a-file", "missing-under-proc"])
def test_index_add_where_nothing_can_be_written_is_exit_status_4(tmp_path: Path, where: str) -> None:
    """``twicetold index add /proc/x.tt examples/news`` (and /sys, a read-only folder, a file
    where a folder should be) ended in a FileNotFoundError or PermissionError traceback with
    exit status 1. Now: exit status 4, the path, the OS's reason and a hint, nothing left."""
    folder = {"proc": Path("/proc"), "sys": Path("/sys"), "read-only-folder": tmp_path / "ro",
              "parent-is-a-file": tmp_path / "a-file", "missing-under-proc": Path("/proc/twicetold-nope")}[where]
    if where == "read-only-folder":
        folder.mkdir()
        folder.chmod(0o555)
    elif where == "parent-is-a-file":
        folder.write_text("not a folder")
    elif not Path("/proc/self").exists() or not Path("/sys/kernel").exists():
        pytest.skip("needs Linux's /proc and /sys")
    reason = {"parent-is-a-file": os.strerror(errno.ENOTDIR),
              "missing-under-proc": os.strerror(errno.ENOENT)}.get(where) or refusal(folder)
    try:
        if reason is None:
            pytest.skip(f"{folder} can be written here (as root, folder permissions do not apply)")
        path = folder / "x.tt"
        done = run_twicetold("index", "add", str(path), str(NEWS), "-q")
        assert done.returncode == 4, done.stderr
        assert "Traceback" not in done.stderr
        assert f"cannot write {path}: {reason}" in done.stderr, done.stderr
        assert "hint:" in done.stderr
        assert not path.exists() and temporaries(folder) == []
    finally:
        if where == "read-only-folder":
            folder.chmod(0o755)


def limit_file_size(limit: int) -> Callable[[], None]:
    """For ``preexec_fn``: files may grow to ``limit`` bytes only, writes past it fail with EFBIG
    (SIGXFSZ ignored), as on a disk that has filled up: a real failure inside SQLite."""
    import resource

    def limit_it() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_it


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE (POSIX)")
@pytest.mark.parametrize("existing", [False, True], ids=["new-index", "existing-index"])
def test_index_add_that_fills_the_disk_is_exit_status_4(tmp_path: Path, existing: bool) -> None:
    """A batch whose writes fail half-way (SQLite: "disk I/O error" at COMMIT) used to end in a
    sqlite3 traceback with exit status 1. Now: exit status 4 with the index path and a hint;
    a new index is not made, an existing one is unchanged, no temporary file is left."""
    docs, _ = generate(CorpusSpec(n_docs=300, seed=7, mean_chars=1500))
    big = write_jsonl(tmp_path / "big.jsonl", docs[5:])
    path = tmp_path / "i.tt"
    before = None
    if existing:
        with Index.create(path) as index:
            index.add_documents([as_document(d) for d in docs[:5]])
        before = path.read_bytes()
    done = run_twicetold("index", "add", str(path), str(big), "-q", preexec_fn=limit_file_size(150_000))
    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot write {path}" in done.stderr and "hint:" in done.stderr, done.stderr
    assert_unchanged(tmp_path, path, before, documents=5)


def assert_unchanged(folder: Path, path: Path, before: bytes | None, documents: int) -> None:
    """No temporary left; no index where there was none, else the same bytes and one batch."""
    assert temporaries(folder) == []
    if before is None:
        assert not path.exists()
    else:
        assert path.read_bytes() == before
        with Index.open(path) as index:
            assert len(index) == documents and index.stats().batches == 1


def disk_full_error(*args: Any, **kwargs: Any) -> Any:
    raise sqlite3.OperationalError("database or disk is full")


@pytest.mark.parametrize("where", ["temporary-file", "schema", "batch", "publish", "batch-existing"])
def test_index_add_on_a_full_disk_is_exit_status_4(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """ENOSPC (an OSError) or SQLite's "database or disk is full" at each step of an add:
    making the temporary index file, writing its schema, writing the batch, putting the new
    index in place, writing a batch to an existing index. Each one is exit status 4 with the
    index's path (never the temporary's), the reason and a hint; nothing is left behind and an
    existing index is unchanged."""
    from twicetold import index as index_module

    path = tmp_path / "i.tt"
    docs = write_jsonl(tmp_path / "docs.jsonl", [{"id": f"d{i}", "text": f"words of document {i} " * 20}
                                                 for i in range(10)])
    before = None
    if where == "batch-existing":
        with Index.create(path) as index:
            index.add_documents([Document("first", "the first document of the index")])
        before = path.read_bytes()
    enospc = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def failing(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:  # the index's temporaries only: nothing else fails
            if any("twicetold-tmp" in str(a) for a in args):
                raise enospc
            return real(*args, **kwargs)
        return call

    if where == "temporary-file":
        monkeypatch.setattr(os, "open", failing(os.open))
    elif where == "schema":
        monkeypatch.setattr(index_module, "_apply_migrations", disk_full_error)
    elif where == "publish":
        monkeypatch.setattr(os, "link", failing(os.link))
        monkeypatch.setattr(os, "replace", failing(os.replace))
    else:
        monkeypatch.setattr(Index, "_insert", disk_full_error)
    code, out = run_main(["index", "add", str(path), str(docs), "-q"], capsys)
    monkeypatch.undo()
    assert code == 4, out
    assert "Traceback" not in out
    assert f"cannot write {path}: " in out and "twicetold-tmp" not in out, out
    reason = os.strerror(errno.ENOSPC) if where in ("temporary-file", "publish") else "disk is full"
    assert reason in out and "hint:" in out, out
    assert_unchanged(tmp_path, path, before, documents=1)


def test_a_new_index_removes_what_a_killed_add_left(tmp_path: Path) -> None:
    """The temporary index of a first add carries its process id; one left by ``kill -9`` is
    removed by the next add or create of that index (a running process's is kept, another
    index's is not touched)."""
    path = tmp_path / "r.tt"
    # A first add reading standard input has made its temporary index and waits for input.
    child = subprocess.Popen([sys.executable, "-m", "twicetold", "index", "add", str(path), "-", "--format", "jsonl",
                              "-q"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not temporaries(tmp_path) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        child.kill()  # kill -9
        child.wait(timeout=60)
    left = temporaries(tmp_path)
    assert left and all(name.startswith(f".r.tt.twicetold-tmp-{child.pid}-") for name in left), left
    assert not path.exists()

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        alive = tmp_path / f".r.tt.twicetold-tmp-{sleeper.pid}-0123456789ab"  # a running add's: kept
        alive.write_bytes(b"")
        other = tmp_path / f".other.tt.twicetold-tmp-{child.pid}-0123456789ab"  # another index's
        other.write_bytes(b"")
        docs = write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": "one two three four five"}])
        done = run_twicetold("index", "add", str(path), str(docs), "-q")
        assert done.returncode == 0, done.stderr
        assert temporaries(tmp_path) == sorted([alive.name, other.name])
        # Index.create cleans up the same way.
        dead = tmp_path / f".made.tt.twicetold-tmp-{child.pid}-0123456789ab"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{dead}{suffix}").write_bytes(b"left by kill -9")
        Index.create(tmp_path / "made.tt").close()
        assert temporaries(tmp_path) == sorted([alive.name, other.name])
    finally:
        sleeper.kill()
        sleeper.wait(timeout=60)


def test_documents_pages_filter_and_count_in_one_read(tmp_path: Path) -> None:
    """The web app lists an index's documents through Index.documents (it read the SQLite file
    itself before): ids containing q, one source or none, pages in id order, and the total."""
    corpus = tmp_path / "docs.jsonl"
    rows = [{"id": f"doc-{i:02d}", "text": f"text number {i} with some words", "source": ["a", "b", None][i % 3],
             "date": "2026-01-02"} for i in range(12)]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with Index.create(tmp_path / "i.twicetold") as index:
        index.add([corpus])
        page, total = index.documents(limit=5, offset=5)
        assert total == 12 and [d["id"] for d in page] == [f"doc-{i:02d}" for i in range(5, 10)]
        assert page[0] == {"id": "doc-05", "source": None, "date": "2026-01-02", "length": len(rows[5]["text"])}
        assert index.documents("DOC-1")[1] == 2  # doc-10, doc-11: case-insensitive
        assert [d["id"] for d in index.documents(source="b")[0]] == ["doc-01", "doc-04", "doc-07", "doc-10"]
        assert index.documents(missing_source=True)[1] == 4 and index.documents(source="zzz") == ([], 0)
