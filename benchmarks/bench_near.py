"""Near-duplicate documents, side by side: twicetold, datasketch and rensa on one corpus.

    python benchmarks/bench_near.py                       # 20,000 articles, 3 runs per tool
    python benchmarks/bench_near.py --docs 2000 --repeat 1
    python benchmarks/bench_near.py --tools twicetold,rensa --peer-docs 5000

The task is the same for every tool: word 5-gram shingles of the lower-cased text, 128 hash
values, LSH for Jaccard >= 0.5, and the pairs whose estimated Jaccard is >= 0.5. The timed span
is the same too: from the corpus file (JSON Lines) to the list of pairs (reading, tokenizing,
shingling, sketching, LSH, verification).

- **twicetold** runs through its library with its defaults (all cores):
  ``scan([path], ScanConfig(near=NearConfig(threshold=0.5), passages=PassageConfig(enabled=False)))``;
  its pairs are the ``exact`` and ``near`` ones. **twicetold-1w** is the same with ``workers=1``,
  pinned to one CPU. **twicetold-scan** is a whole default scan (passages too): the documents'
  shingles are then at hand, and candidates near the threshold are decided on their exact
  Jaccard instead of the estimate (its time includes finding and aligning passages).
- **datasketch** and **rensa** run as their users run them, in one Python process, with the
  tokenizer their documentation shows (``text.lower().split()``, shingles
  ``" ".join(words[i:i + 5])``): ``MinHash(num_perm=128)`` + ``update_batch`` +
  ``MinHashLSH(threshold=0.5, num_perm=128)``; ``RMinHash(num_perm=128, seed=42)`` + ``update``
  + ``RMinHashLSH(threshold=0.5, num_perm=128, num_bands=32)`` (the README's loop).
  **rensa-batch** uses rensa's batch API instead (``RMinHash.from_token_sets``,
  ``insert_pairs``, ``query_all``). Every peer inserts all documents, queries each one and keeps
  the candidates whose own estimated Jaccard is >= 0.5.

Each run is a fresh subprocess, so its peak memory (``ru_maxrss``, imports included) is its own
and its wall time covers the timed span only; each tool runs ``--repeat`` times and the median
time is reported. twicetold's Numba kernels are compiled and cached on disk on first use: an
untimed warm-up run on a tiny corpus comes first, and each twicetold process also scans the tiny
corpus once, untimed, before the timed scan (loading the cached kernels; reported separately).

Accuracy against the planted truth: positives are the exact copies and the near copies whose
true Jaccard of word 5-shingles (``twicetold.testing.synthetic.true_jaccard``) is >= 0.5. Recall is the
share of positives found; a pair counts as found when it is reported, or, for twicetold, when
both documents are in one near-duplicate cluster (twicetold pairs each member with the
canonical member only). Precision is the share of reported pairs whose true Jaccard, computed
from the texts, is >= 0.5 (twicetold: member-canonical pairs as reported).

The corpus and the results JSON go to ``--out`` (default ``.bench/near-DOCS-sSEED``, ignored by
git); the corpus is generated there from the seed when missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / ".bench"
TOOLS = ("twicetold", "twicetold-1w", "twicetold-scan", "datasketch", "rensa", "rensa-batch")
PEERS = ("datasketch", "rensa", "rensa-batch")
THRESHOLD = 0.5
NUM_PERM = 128
SHINGLE = 5
SEED = 42  # the peers' hash seed (the value their docs use)
WARMUP_DOCS = 500  # enough to hold exact and near copies, so every kernel runs
BUCKETS = (("0.3-0.5", 0.0, 0.5), ("0.5-0.7", 0.5, 0.7), ("0.7-0.9", 0.7, 2.0))


# --------------------------------------------------------------------------------------------
# The tools, each run inside its own child process.


def read_jsonl(path: str) -> tuple[list[str], list[str]]:
    """Ids and texts of a JSON Lines corpus, the way a user reads one (``json.loads``)."""
    ids: list[str] = []
    texts: list[str] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                ids.append(row["id"])
                texts.append(row["text"])
    return ids, texts


def peer_shingles(text: str) -> set[str]:
    """The tokenizer MinHash libraries' docs show: lower-case, split on white space, join
    ``SHINGLE`` consecutive words (a text shorter than that is one shingle)."""
    words = text.lower().split()
    if len(words) < SHINGLE:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def run_datasketch(path: str) -> dict[str, Any]:
    from datasketch import MinHash, MinHashLSH

    ids, texts = read_jsonl(path)
    sketches = []
    for text in texts:
        m = MinHash(num_perm=NUM_PERM)
        m.update_batch([s.encode("utf-8") for s in peer_shingles(text)])
        sketches.append(m)
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    pairs = lsh_pairs(lsh, sketches, ids)
    return {"pairs": pairs, "params": {"bands_rows": [lsh.b, lsh.r]}}


def lsh_pairs(lsh: Any, sketches: list[Any], ids: list[str]) -> list[tuple[str, str]]:
    """The peers' documented usage: insert every sketch, query each, keep the candidates
    whose estimated Jaccard reaches the threshold (datasketch and rensa share this API)."""
    for i, m in enumerate(sketches):
        lsh.insert(i, m)
    pairs = []
    for i, m in enumerate(sketches):
        for j in lsh.query(m):
            if j > i and m.jaccard(sketches[j]) >= THRESHOLD:
                pairs.append((ids[i], ids[j]))
    return pairs


def rensa_bands() -> int:
    """rensa needs the number of bands, which must divide ``num_perm``: the divisor whose
    S-curve best fits the threshold (the criterion datasketch uses to choose its own)."""
    import numpy as np

    grid = np.linspace(0.0, 1.0, 1001)
    below, above = grid <= THRESHOLD, grid >= THRESHOLD
    best, best_err = 1, float("inf")
    for b in (d for d in range(1, NUM_PERM + 1) if NUM_PERM % d == 0):
        r = NUM_PERM // b
        hit = 1 - (1 - grid**r) ** b
        err = float(np.trapezoid(hit[below], grid[below]) + np.trapezoid(1 - hit[above], grid[above]))
        if err < best_err:
            best, best_err = b, err
    return best


def run_rensa(path: str, bands: int) -> dict[str, Any]:
    from rensa import RMinHash, RMinHashLSH

    ids, texts = read_jsonl(path)
    sketches = []
    for text in texts:
        m = RMinHash(num_perm=NUM_PERM, seed=SEED)
        m.update(list(peer_shingles(text)))
        sketches.append(m)
    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=bands)
    pairs = lsh_pairs(lsh, sketches, ids)
    return {"pairs": pairs, "params": {"bands_rows": [bands, NUM_PERM // bands]}}


def run_rensa_batch(path: str, bands: int) -> dict[str, Any]:
    from rensa import RMinHash, RMinHashLSH

    ids, texts = read_jsonl(path)
    sketches = RMinHash.from_token_sets([list(peer_shingles(t)) for t in texts], num_perm=NUM_PERM, seed=SEED)
    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=bands)
    lsh.insert_pairs(enumerate(sketches))
    pairs = []
    for i, candidates in enumerate(lsh.query_all(sketches)):
        m = sketches[i]
        for j in candidates:
            if j > i and m.jaccard(sketches[j]) >= THRESHOLD:
                pairs.append((ids[i], ids[j]))
    return {"pairs": pairs, "params": {"bands_rows": [bands, NUM_PERM // bands]}}


def twicetold_config(workers: int, passages: bool = False) -> Any:
    from twicetold import NearConfig, PassageConfig, ScanConfig

    return ScanConfig(near=NearConfig(threshold=THRESHOLD), passages=PassageConfig(enabled=passages), workers=workers)


def run_twicetold(path: str, workers: int, warmup: str | None, passages: bool = False) -> tuple[dict[str, Any], float]:
    """Scan ``path``; first, untimed, scan ``warmup`` to load the cached kernels. With
    ``passages`` (``twicetold-scan``: a whole default scan, passages too) the shingles are at
    hand, and candidates near the threshold are decided on their exact Jaccard."""
    import twicetold

    cfg = twicetold_config(workers, passages)
    assert cfg.sketch.shingle_size == SHINGLE and cfg.sketch.num_perm == NUM_PERM, cfg.sketch
    load = 0.0
    if warmup:
        t0 = time.perf_counter()
        twicetold.scan([warmup], cfg)
        load = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = twicetold.scan([path], cfg)
    pairs = [(p.a, p.b) for p in result.pairs if p.kind in ("exact", "near")]
    seconds = time.perf_counter() - t0
    out = {
        "pairs": pairs,
        "groups": [list(c.members) for c in result.clusters],
        "params": {"bands_rows": result.run["bands_rows"], "workers": cfg.n_workers},
        "stage_seconds": result.run["timings"],
        "kernel_load_seconds": round(load, 3),
        "twicetold_file": twicetold.__file__,
    }
    return out, seconds


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (2**20 bytes).

    ``VmHWM`` where Linux has it: ``ru_maxrss`` there carries over the parent's peak across
    the fork and exec that started this process (the parent holds the corpus for grading),
    while ``VmHWM`` belongs to this process's own address space.
    """
    import resource

    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 2**20


def child(tool: str, path: str, warmup: str | None) -> dict[str, Any]:
    """Run one tool once; the wall time covers the timed span only. ``twicetold-1w`` runs on
    one CPU (its reader and sketch threads would otherwise still share the others)."""
    if tool == "twicetold-1w" and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if tool.startswith("twicetold"):
        out, seconds = run_twicetold(path, 1 if tool == "twicetold-1w" else 0, warmup, tool == "twicetold-scan")
    else:
        bands = rensa_bands()
        if tool == "datasketch":
            import datasketch  # noqa: F401  (imports are not part of the timed span)
        else:
            import rensa  # noqa: F401
        t0 = time.perf_counter()
        if tool == "datasketch":
            out = run_datasketch(path)
        elif tool == "rensa":
            out = run_rensa(path, bands)
        elif tool == "rensa-batch":
            out = run_rensa_batch(path, bands)
        else:
            raise SystemExit(f"unknown tool {tool!r}")
        seconds = time.perf_counter() - t0
    return {"tool": tool, "seconds": seconds, "peak_rss_mb": peak_rss_mb(), **out}


def snapshot_twicetold(dest: Path) -> dict[str, Any]:
    """Copy the twicetold package being benchmarked to ``dest/twicetold`` (unless an identical
    copy is there, whose Numba cache is then kept), so that every run of a benchmark uses the
    same code even while the working tree changes. Children put ``dest`` first on PYTHONPATH.
    """
    import twicetold

    package = Path(twicetold.__file__).resolve().parent

    def digest(root: Path) -> str:
        h = hashlib.sha256()
        for f in sorted(root.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
        return h.hexdigest()[:16]

    want = digest(package)
    target = dest / "twicetold"
    if not (target.exists() and digest(target) == want):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__"))
    git = subprocess.run(["git", "-C", str(package), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return {"path": str(dest), "source": str(package), "sha256": want,
            "git": git.stdout.strip() if git.returncode == 0 else None}


def child_env(snapshot: dict[str, Any] | None) -> dict[str, str] | None:
    """The environment of a child process: the snapshot first on PYTHONPATH."""
    if snapshot is None:
        return None
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (snapshot["path"], env.get("PYTHONPATH")) if p)
    return env


def spawn(tool: str, path: Path, warmup: Path | None, snapshot: dict[str, Any] | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", tool, "--corpus", str(path)]
    if warmup is not None:
        cmd += ["--warmup", str(warmup)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(snapshot))
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# Corpus and truth


def ensure_corpus(path: Path, n_docs: int, seed: int) -> None:
    """Generate the corpus (and its truth beside it) unless it is already there."""
    from twicetold.testing.synthetic import CorpusSpec, truth_path, write_corpus

    if path.exists() and truth_path(path).exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print(f"generating {n_docs:,} documents (seed {seed}) into {path} ...", file=sys.stderr, flush=True)
    write_corpus(CorpusSpec(n_docs=n_docs, seed=seed), path)
    print(f"  done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)


def write_prefix(src: Path, dst: Path, n: int) -> None:
    """The first ``n`` documents of ``src`` (for the slow peers)."""
    if dst.exists():
        return
    tmp = dst.with_name(dst.name + ".twicetold-tmp")
    with open(src, encoding="utf-8") as f, open(tmp, "w", encoding="utf-8") as g:
        for k, line in enumerate(f):
            if k == n:
                break
            g.write(line)
    os.replace(tmp, dst)


class Grader:
    """Recall and precision of reported pairs against the planted exact and near copies."""

    def __init__(self, corpus: Path) -> None:
        from twicetold.testing.synthetic import load_truth

        truth = load_truth(corpus)
        self.texts = dict(zip(*read_jsonl(str(corpus)), strict=True))
        self._jaccard: dict[frozenset[str], float] = {}
        # (pair, bucket) for every planted copy; the near copies' true Jaccard from the texts.
        self.planted: list[tuple[frozenset[str], str]] = []
        for a, b in truth.exact_pairs:
            self.planted.append((frozenset((a, b)), "exact"))
            self._jaccard[frozenset((a, b))] = 1.0
        for a, b, _ in truth.near_pairs:
            j = self.jaccard(a, b)
            self.planted.append((frozenset((a, b)), next(name for name, lo, hi in BUCKETS if lo <= j < hi)))
        self.n_docs = len(self.texts)

    def jaccard(self, a: str, b: str) -> float:
        from twicetold.testing.synthetic import true_jaccard

        key = frozenset((a, b))
        if key not in self._jaccard:
            self._jaccard[key] = true_jaccard(self.texts[a], self.texts[b], SHINGLE)
        return self._jaccard[key]

    def grade(self, pairs: Iterable[Sequence[str]], groups: Iterable[Sequence[str]] = (),
              docs: set[str] | None = None) -> dict[str, Any]:
        """Score a tool's output; ``docs``: the ids it was given (a prefix), default all."""
        reported = {frozenset(p) for p in pairs}
        cluster_of = {m: k for k, members in enumerate(groups) for m in members}
        planted = [(p, b) for p, b in self.planted if docs is None or p <= docs]

        def found(p: frozenset[str]) -> bool:
            a, b = tuple(p)
            return p in reported or (a in cluster_of and cluster_of.get(a) == cluster_of.get(b))

        positives = [p for p, b in planted if b != "0.3-0.5"]
        hits = sum(found(p) for p in positives)
        good = sum(self.jaccard(*tuple(p)) >= THRESHOLD for p in reported)
        by_bucket = {}
        for name in ("0.3-0.5", "0.5-0.7", "0.7-0.9", "exact"):
            members = [p for p, b in planted if b == name]
            by_bucket[name] = {"found": sum(found(p) for p in members), "planted": len(members)}
        return {
            "positives": len(positives), "positives_found": hits,
            "recall": hits / len(positives) if positives else 1.0,
            "reported": len(reported), "reported_true": good,
            "precision": good / len(reported) if reported else 1.0,
            "by_bucket": by_bucket,
        }


# --------------------------------------------------------------------------------------------
# The comparison


def fmt_ratio(value: float) -> str:
    return f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=20_000, help="documents in the corpus (default 20000)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the median time is reported")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, from {', '.join(TOOLS)}")
    parser.add_argument("--peer-docs", type=int, default=None,
                        help="run datasketch and rensa on the first N documents only (default: all)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the corpus and results.json (default .bench/near-DOCS-sSEED)")
    parser.add_argument("--no-snapshot", action="store_true",
                        help="run the installed twicetold as it is, not a copy taken at the start (the working "
                        "tree may change during the runs)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.child, args.corpus, args.warmup)))
        return 0

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = sorted(set(tools) - set(TOOLS))
    if unknown:
        parser.error(f"unknown tools {unknown}; choose from {', '.join(TOOLS)}")
    out = args.out or BENCH / f"near-{args.docs}-s{args.seed}"
    corpus = out / "corpus.jsonl"
    ensure_corpus(corpus, args.docs, args.seed)
    warmup = out / "warmup.jsonl"
    write_prefix(corpus, warmup, WARMUP_DOCS)
    peer_corpus = corpus
    if args.peer_docs and args.peer_docs < args.docs:
        peer_corpus = out / f"corpus.first{args.peer_docs}.jsonl"
        write_prefix(corpus, peer_corpus, args.peer_docs)

    grader = Grader(corpus)
    compile_seconds = None
    snapshot = None if args.no_snapshot else snapshot_twicetold(out / "twicetold-src")
    if any(t.startswith("twicetold") for t in tools):
        t0 = time.perf_counter()
        spawn("twicetold", warmup, None, snapshot)  # compiles the kernels into the disk cache (untimed)
        compile_seconds = time.perf_counter() - t0

    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    for tool in tools:
        path = peer_corpus if tool in PEERS else corpus
        runs = []
        for k in range(args.repeat):
            run = spawn(tool, path, warmup if tool.startswith("twicetold") else None, snapshot)
            if snapshot is not None and "twicetold_file" in run:
                assert run["twicetold_file"].startswith(snapshot["path"]), run["twicetold_file"]
            print(f"  {tool:<13} run {k + 1}/{args.repeat}: {run['seconds']:8.2f} s, "
                  f"{run['peak_rss_mb']:7.0f} MB peak, {len(run['pairs']):,} pairs", file=sys.stderr, flush=True)
            runs.append(run)
        last = runs[-1]
        ids = None if path == corpus else set(read_jsonl(str(path))[0])
        n_docs = grader.n_docs if ids is None else len(ids)
        size_mb = path.stat().st_size / 1e6
        seconds = statistics.median(r["seconds"] for r in runs)
        signature = [sorted(map(sorted, r["pairs"])) for r in runs]
        row = {
            "tool": tool, "docs": n_docs, "mb": size_mb, "seconds": seconds,
            "seconds_all": [round(r["seconds"], 3) for r in runs],
            "docs_per_s": n_docs / seconds, "mb_per_s": size_mb / seconds,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "same_pairs_every_run": all(s == signature[0] for s in signature),
            "params": last.get("params", {}),
            **grader.grade(last["pairs"], last.get("groups", ()), ids),
        }
        for key in ("stage_seconds", "kernel_load_seconds"):
            if key in last:
                row[key] = last[key]
        row["_pairs"] = signature[0]
        rows.append(row)

    report(rows, args, compile_seconds, out, (load_before, os.getloadavg()), snapshot)
    return 0


def report(rows: list[dict[str, Any]], args: argparse.Namespace, compile_seconds: float | None, out: Path,
           load: tuple[tuple[float, ...], tuple[float, ...]], snapshot: dict[str, Any] | None) -> None:
    by_tool = {r["tool"]: r for r in rows}
    cpus = os.cpu_count()
    lines = [
        f"near-duplicate task: word {SHINGLE}-shingles, {NUM_PERM} hashes, LSH for Jaccard >= {THRESHOLD}, "
        f"pairs with estimated Jaccard >= {THRESHOLD}; corpus seed {args.seed}, {args.repeat} runs per tool "
        f"(median), {cpus} CPUs, Python {platform.python_version()}",
        f"machine load average (1 min) before/after the runs: {load[0][0]:.1f} / {load[1][0]:.1f} "
        "(other work on the machine slows every tool, multi-threaded ones most)",
    ]
    if snapshot is not None:
        lines.append(f"twicetold: copy of {snapshot['source']} taken at the start (git {snapshot['git']}, "
                     f"sources sha256 {snapshot['sha256']})")
    if compile_seconds is not None:
        loads = [r["kernel_load_seconds"] for r in rows if "kernel_load_seconds" in r]
        lines.append(f"twicetold warm-up (untimed): first run on {WARMUP_DOCS} docs {compile_seconds:.1f} s "
                     f"(kernels compiled into the disk cache); each timed process first scans those "
                     f"{WARMUP_DOCS} docs untimed to load the cached kernels ({max(loads, default=0):.1f} s at most)")
    lines.append("")
    header = (f"{'tool':<13} {'docs':>7} {'MB':>7} {'seconds':>8} {'docs/s':>8} {'MB/s':>7} {'peak RSS MB':>11} "
              f"{'recall':>14} {'precision':>14}")
    lines += [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['tool']:<13} {r['docs']:>7,} {r['mb']:>7.1f} {r['seconds']:>8.2f} {r['docs_per_s']:>8,.0f} "
            f"{r['mb_per_s']:>7.2f} {r['peak_rss_mb']:>11,.0f} "
            f"{r['recall']:>6.3f} {r['positives_found']:>3}/{r['positives']:<4} "
            f"{r['precision']:>6.3f} {r['reported_true']:>3}/{r['reported']:<4}".rstrip())
    lines.append("")
    peers = [r for r in rows if r["tool"] in PEERS]
    for mine in ("twicetold", "twicetold-1w"):
        if mine in by_tool and peers:
            t = by_tool[mine]
            ratios = ", ".join(f"{fmt_ratio(t['mb_per_s'] / p['mb_per_s'])} {p['tool']}" for p in peers)
            lines.append(f"{mine} throughput (MB/s) over peer: {ratios}")
    if "twicetold" in by_tool and "twicetold-1w" in by_tool:
        a, b = by_tool["twicetold"], by_tool["twicetold-1w"]
        lines.append(f"twicetold all cores vs one worker: {b['seconds'] / a['seconds']:.2f}x faster; "
                     f"same pairs: {a['_pairs'] == b['_pairs']}")
    lines.append("same pairs in every run: " + ", ".join(f"{r['tool']} {r['same_pairs_every_run']}" for r in rows))
    lines.append("")
    lines.append("near-copy recall by true Jaccard (found/planted; 0.3-0.5 lies below the threshold, "
                 "so finding it is not required):")
    buckets = ("0.3-0.5", "0.5-0.7", "0.7-0.9", "exact")
    lines.append(f"{'tool':<13} " + " ".join(f"{b:>16}" for b in buckets))
    for r in rows:
        cells = []
        for b in buckets:
            c = r["by_bucket"][b]
            share = c["found"] / c["planted"] if c["planted"] else float("nan")
            cells.append(f"{share:>6.3f} {c['found']:>4}/{c['planted']:<4}")
        lines.append(f"{r['tool']:<13} " + " ".join(f"{c:>16}" for c in cells))
    lines.append("")
    lines.append("LSH bands x rows: " + ", ".join(f"{r['tool']} {r['params'].get('bands_rows')}" for r in rows))
    for r in rows:
        if "stage_seconds" in r:
            stages = ", ".join(f"{k} {v:.2f}" for k, v in r["stage_seconds"].items())
            lines.append(f"{r['tool']} stages (last run, s): {stages}")
    text = "\n".join(lines)
    print(text)
    out.mkdir(parents=True, exist_ok=True)
    results = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                        if k not in ("child", "corpus", "warmup")},
               "cpus": cpus, "compile_seconds": compile_seconds, "load_average": load, "twicetold": snapshot,
               "rows": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows], "table": text}
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults: {out / 'results.json'}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
