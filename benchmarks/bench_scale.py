"""Full ``twicetold scan`` and ``twicetold dedup`` at scale, on generated news-like articles.

    python benchmarks/bench_scale.py                          # scan 100,000 articles (~400 MB)
    python benchmarks/bench_scale.py --docs 2000              # quick
    python benchmarks/bench_scale.py --realistic              # chance overlaps as in news (Zipf, stock phrases)
    python benchmarks/bench_scale.py --dedup --docs 1000000   # dedup 1,000,000 articles (~4 GB)

**scan** (default): ``twicetold scan CORPUS -o RESULTS`` with default settings (near duplicates
and passages), once with ``--workers 1`` pinned to one CPU (``sched_setaffinity``: the reader
and sketch threads would otherwise still share the other cores, so "one worker" would not be
one core) and once with the default (all cores), each in its own process: wall time of the
command (process start, imports and writing the results folder included), peak resident memory
of that process, the per-stage timings of its ``run.json``, throughput in MB/s and MB/s per
core, and the scaling ratio (one worker's time over all cores'; with ``--repeat``, the settings
take turns, round by round, and each round's ratio is printed too). Then the passage accuracy on
the planted partial copies: character recall, precision and F1 of the passages found in each
planted (source, copy) pair against the planted spans (``twicetold.testing.evaluation.char_overlap``,
both sides, micro-averaged), how many planted passages are reported as one passage (not
fragmented, not merged with another planted block), and how many pairs were reported between
documents that share no planted text.

**dedup** (``--dedup``): ``twicetold dedup CORPUS -o OUT`` with default settings (all cores):
wall time, peak memory, MB/s per core, and how many removed documents are planted copies.

The corpus (``twicetold.testing.synthetic``, seed ``--seed``) is generated on demand under ``--out``
(default ``.bench/scale-DOCS-sSEED``, ignored by git), compressed with zstd (``--compress``, or
by itself when the disk has less than three times its size free). Results go to
``results.json`` there. Peak memory is read with ``wait4`` on the command's process, started
from a small stdlib-only helper so that nothing of this script's own memory is counted.
Compile time is not counted: the kernels are compiled into Numba's disk cache by an untimed
scan of a small corpus first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / ".bench"
BYTES_PER_DOC = 4200  # about, in JSON Lines, at the generator's default mean of 4,000 characters
WARMUP_DOCS = 500


# --------------------------------------------------------------------------------------------
# Measuring a command: run from a fresh helper process that imports only the standard library.


def measure_child(cmd: Sequence[str]) -> dict[str, Any]:
    """Run ``cmd``; its wall time, exit status and peak resident memory (``wait4``)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return {"wall_seconds": wall, "peak_rss_mb": usage.ru_maxrss * scale / 2**20, "returncode": proc.returncode,
            "user_seconds": usage.ru_utime, "system_seconds": usage.ru_stime}


def measure(cmd: Sequence[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """``measure_child`` in a helper process, so the peak is the command's own."""
    helper = [sys.executable, "-S", "-c",
              "import json, sys; sys.path.insert(0, sys.argv[1]); import bench_scale as b; "
              "print(json.dumps(b.measure_child(sys.argv[2:])))",
              str(Path(__file__).resolve().parent), *cmd]
    proc = subprocess.run(helper, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {cmd} failed:\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["returncode"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with status {result['returncode']}")
    return result


def twicetold_cmd() -> list[str]:
    return [sys.executable, "-m", "twicetold"]


# --------------------------------------------------------------------------------------------
# Corpus


def ensure_corpus(out: Path, n_docs: int, seed: int, compress: bool | None, realistic: bool = False) -> Path:
    """The corpus under ``out`` (generated when missing), plain or ``.zst``."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("corpus.jsonl", "corpus.jsonl.zst"):
        path = out / name
        if path.exists() and (out / f"{name}.truth.json").exists():
            return path
    if compress is None:
        free = shutil.disk_usage(out).free
        compress = free < 3 * n_docs * BYTES_PER_DOC
        if compress:
            print(f"only {free / 1e9:.1f} GB free: writing the corpus compressed", file=sys.stderr)
    path = out / ("corpus.jsonl.zst" if compress else "corpus.jsonl")
    print(f"generating {n_docs:,} documents (seed {seed}) into {path} ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "twicetold.testing.synthetic", "--docs", str(n_docs), "--seed", str(seed),
                    "-o", str(path), *(["--realistic"] if realistic else [])], check=True)
    print(f"  done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return path


def text_megabytes(path: Path) -> float:
    """Size of the corpus as JSON Lines, in MB (1e6 bytes): uncompressed, even when stored as .zst."""
    if path.suffix != ".zst":
        return path.stat().st_size / 1e6
    import zstandard

    total = 0
    with open(path, "rb") as f, zstandard.ZstdDecompressor().stream_reader(f) as r:
        while chunk := r.read(1 << 24):
            total += len(chunk)
    return total / 1e6


def warm_up(out: Path, corpus: Path, env: dict[str, str] | None) -> float:
    """Compile the kernels into Numba's disk cache: an untimed scan of the first documents."""
    small = out / "warmup.jsonl"
    if not small.exists():
        import io

        opener = open
        if corpus.suffix == ".zst":
            import zstandard

            def opener(p: Any, *_: Any, **__: Any) -> Any:  # type: ignore[misc]
                return io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(open(p, "rb")), encoding="utf-8")

        with opener(corpus, encoding="utf-8") as f, open(small, "w", encoding="utf-8") as g:
            for k, line in enumerate(f):
                if k == WARMUP_DOCS:
                    break
                g.write(line)
    t0 = time.perf_counter()
    subprocess.run([*twicetold_cmd(), "scan", str(small), "-o", str(out / "warmup-results"), "--force", "-q"],
                   check=True, env=env)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------------------------
# Passage accuracy


def passage_accuracy(results: Path, corpus: Path) -> dict[str, Any]:
    """Found passages against the planted partial copies (see the module docstring)."""
    from twicetold.testing.evaluation import Overlap, char_overlap
    from twicetold.testing.synthetic import load_truth

    truth = load_truth(corpus)
    planted = [p for p in truth.passages if p.kind == "partial"]
    related = truth.related_pairs()
    # Reported passages per unordered pair, as (copy-side span, source-side span) once oriented.
    found: dict[frozenset[str], list[dict[str, Any]]] = {}
    kinds: dict[frozenset[str], str] = {}
    with open(results / "pairs.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            key = frozenset((row["a"], row["b"]))
            kinds[key] = row["kind"]
            found[key] = [{**x, "_a": row["a"]} for x in row["passages"]]

    def spans(key: frozenset[str], doc: str) -> list[tuple[int, int]]:
        return [(x["a_start"], x["a_end"]) if x["_a"] == doc else (x["b_start"], x["b_end"])
                for x in found.get(key, [])]

    by_pair: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for p in planted:
        by_pair[(p.source_id, p.copy_id)].append(p)
    copy_side = source_side = Overlap(0, 0, 0)
    pairs_found = 0
    one = fragmented = merged = missed = 0
    for (src, cp), blocks in by_pair.items():
        key = frozenset((src, cp))
        pairs_found += bool(found.get(key))
        copy_found, source_found = spans(key, cp), spans(key, src)
        copy_side = copy_side + char_overlap([(p.copy_start, p.copy_end) for p in blocks], copy_found)
        source_side = source_side + char_overlap([(p.source_start, p.source_end) for p in blocks], source_found)
        for p in blocks:
            hits = [k for k, (s, e) in enumerate(copy_found) if s < p.copy_end and e > p.copy_start
                    and source_found[k][0] < p.source_end and source_found[k][1] > p.source_start]
            if not hits:
                missed += 1
            elif len(hits) > 1:
                fragmented += 1
            else:
                s, e = copy_found[hits[0]]
                others = any(q is not p and s < q.copy_end and e > q.copy_start for q in blocks)
                merged += others
                one += not others
    both = copy_side + source_side
    unrelated = [k for k in found if tuple(sorted(k)) not in related]
    return {
        "planted_passages": len(planted),
        "planted_pairs": len(by_pair),
        "planted_pairs_found": pairs_found,
        "char_recall": both.recall, "char_precision": both.precision, "char_f1": both.f1,
        "copy_side_f1": copy_side.f1, "source_side_f1": source_side.f1,
        "as_one_passage": one, "fragmented": fragmented, "merged_with_another_block": merged, "missed": missed,
        "reported_pairs": len(found),
        "reported_pairs_unrelated": len(unrelated),
        "reported_pairs_unrelated_by_kind": {k: sum(kinds[u] == k for u in unrelated)
                                             for k in sorted({kinds[u] for u in unrelated})},
    }


# --------------------------------------------------------------------------------------------
# The runs


def on_cpus(cpus: int, cmd: list[str]) -> list[str]:
    """``cmd`` run on the first ``cpus`` CPUs only (the affinity survives ``exec``)."""
    if not hasattr(os, "sched_setaffinity"):
        return cmd
    first = sorted(os.sched_getaffinity(0))[:cpus]
    pin = ("import os, sys; os.sched_setaffinity(0, set(map(int, sys.argv[1].split(','))));"
           " os.execv(sys.argv[2], sys.argv[2:])")
    return [sys.executable, "-S", "-c", pin, ",".join(map(str, first)), *cmd]


def run_scan(corpus: Path, out: Path, workers: int | None, env: dict[str, str] | None) -> dict[str, Any]:
    results = out / ("results" if workers is None else f"results-w{workers}")
    cmd = [*twicetold_cmd(), "scan", str(corpus), "-o", str(results), "--force", "-q"]
    if workers is not None:
        cmd = on_cpus(workers, [*cmd, "--workers", str(workers)])
    run = measure(cmd, env)
    record = json.loads((results / "run.json").read_text(encoding="utf-8"))
    run.update(timings=record.get("timings", {}), counts=record.get("counts", {}), results=str(results))
    return run


def frozen_twicetold(args: argparse.Namespace, out: Path) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    """A copy of twicetold taken now, and the environment that runs it (see bench_near)."""
    if args.no_snapshot:
        return None, None
    from bench_near import child_env, snapshot_twicetold

    snapshot = snapshot_twicetold(out / "twicetold-src")
    return snapshot, child_env(snapshot)


def prepare(args: argparse.Namespace, out: Path) -> tuple[Path, float, int, dict[str, Any] | None,
                                                         dict[str, str] | None, float]:
    """What every report starts from: the corpus and its size in MB, the CPUs, the frozen
    copy of twicetold with its environment, and the (untimed) compile time of the warm-up."""
    corpus = ensure_corpus(out, args.docs, args.seed, args.compress, args.realistic)
    snapshot, env = frozen_twicetold(args, out)
    return (corpus, text_megabytes(corpus), os.cpu_count() or 1, snapshot, env,
            warm_up(out, corpus, env))


def scan_report(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    corpus, mb, cpus, snapshot, env, compile_seconds = prepare(args, out)
    load_before = os.getloadavg()
    modes = [("all cores", None)] + ([] if args.no_scaling else [("1 worker", 1)])
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in modes}
    # Rounds of one run per setting, not all runs of one setting and then the other: this
    # machine's speed drifts by 10-20 % over minutes, which would land on one side only.
    for k in range(args.repeat):
        for label, workers in modes:
            print(f"  scan, {label}, run {k + 1}/{args.repeat} ...", file=sys.stderr, flush=True)
            r = run_scan(corpus, out, workers, env)
            print(f"    {r['wall_seconds']:.1f} s, {r['peak_rss_mb']:,.0f} MB peak", file=sys.stderr, flush=True)
            runs[label].append(r)
    load_after = os.getloadavg()
    rows = []
    for label, rs in runs.items():
        median = sorted(rs, key=lambda r: r["wall_seconds"])[len(rs) // 2]
        cores = 1 if label == "1 worker" else cpus
        rows.append({"run": label, "cores": cores, "docs": args.docs, "mb": mb,
                     "wall_seconds": median["wall_seconds"], "wall_all": [round(r["wall_seconds"], 2) for r in rs],
                     "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
                     "cpu_seconds": median["user_seconds"] + median["system_seconds"],
                     "mb_per_s": mb / median["wall_seconds"], "mb_per_s_per_core": mb / median["wall_seconds"] / cores,
                     "timings": median["timings"], "counts": median["counts"], "results": median["results"]})
    same = None
    if len(runs) == 2:
        same = all((Path(runs["all cores"][-1]["results"]) / name).read_bytes()
                   == (Path(runs["1 worker"][-1]["results"]) / name).read_bytes()
                   for name in ("pairs.jsonl", "clusters.jsonl"))
    accuracy = passage_accuracy(Path(rows[0]["results"]), corpus)

    lines = [f"twicetold scan, default settings (near duplicates + passages), {args.docs:,} generated articles "
             f"({mb:,.0f} MB of JSON Lines, seed {args.seed}), {cpus} CPUs; median of {args.repeat}",
             f"machine load average (1 min) before/after: {load_before[0]:.1f} / {load_after[0]:.1f}; "
             f"kernels compiled beforehand by an untimed warm-up scan ({compile_seconds:.1f} s)"]
    if snapshot is not None:
        lines.append(f"twicetold: copy of {snapshot['source']} taken at the start (git {snapshot['git']}, "
                     f"sources sha256 {snapshot['sha256']})")
    lines.append("")
    header = (f"{'run':<10} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>11} {'MB/s':>7} {'MB/s/core':>9}  "
              "stages (s, run.json)")
    lines += [header, "-" * 100]
    for r in rows:
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["timings"].items())
        lines.append(f"{r['run']:<10} {r['wall_seconds']:>8.1f} {r['cpu_seconds']:>8.1f} {r['peak_rss_mb']:>11,.0f} "
                     f"{r['mb_per_s']:>7.2f} {r['mb_per_s_per_core']:>9.2f}  {stages}")
    if len(rows) == 2:
        inner = rows[1]["timings"].get("total", 0) / max(rows[0]["timings"].get("total", 0), 1e-9)
        rounds = [one["wall_seconds"] / all_["wall_seconds"]
                  for all_, one in zip(runs["all cores"], runs["1 worker"], strict=True)]
        lines.append(f"scaling: {rows[1]['wall_seconds'] / rows[0]['wall_seconds']:.2f}x faster on {cpus} cores "
                     f"than on 1 worker pinned to one CPU (wall, medians; each round: "
                     f"{', '.join(f'{x:.2f}x' for x in rounds)}; {inner:.2f}x by run.json totals, without process "
                     f"start and writing results); same pairs and clusters: {same}")
    c = rows[0]["counts"]
    lines.append("counts: " + ", ".join(f"{k} {v}" for k, v in c.items() if not isinstance(v, dict)))
    a = accuracy
    lines += ["", f"passages, against {a['planted_passages']:,} planted partial-copy passages in "
              f"{a['planted_pairs']:,} (source, copy) pairs:",
              f"  pairs found {a['planted_pairs_found']:,}/{a['planted_pairs']:,}; character recall "
              f"{a['char_recall']:.3f}, precision {a['char_precision']:.3f}, F1 {a['char_f1']:.3f} "
              f"(copy side F1 {a['copy_side_f1']:.3f}, source side {a['source_side_f1']:.3f})",
              f"  reported as one passage {a['as_one_passage']:,} "
              f"({a['as_one_passage'] / max(1, a['planted_passages']):.1%}), "
              f"fragmented {a['fragmented']:,}, merged with another planted block {a['merged_with_another_block']:,}, "
              f"missed {a['missed']:,}",
              f"  reported pairs {a['reported_pairs']:,}, of which between documents sharing no planted text "
              f"{a['reported_pairs_unrelated']:,} {a['reported_pairs_unrelated_by_kind']}"]
    text = "\n".join(lines)
    print(text)
    return {"scan": rows, "same_results_1_vs_all": same, "passages": accuracy, "compile_seconds": compile_seconds,
            "twicetold": snapshot,
            "load_average": [load_before, load_after], "table": text}


def dedup_report(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    from twicetold.testing.synthetic import load_truth

    corpus, mb, cpus, snapshot, env, compile_seconds = prepare(args, out)
    target = out / ("dedup.jsonl.zst" if corpus.suffix == ".zst" else "dedup.jsonl")
    load_before = os.getloadavg()
    print("  dedup ...", file=sys.stderr, flush=True)
    run = measure([*twicetold_cmd(), "dedup", str(corpus), "-o", str(target), "--force", "-q"], env)
    load_after = os.getloadavg()
    with open(f"{target}.removed.jsonl", encoding="utf-8") as f:
        removed = [json.loads(line) for line in f if line.strip()]
    truth = load_truth(corpus)
    copies = {b for _, b in truth.exact_pairs} | {b for _, b, _ in truth.near_pairs}
    planted_removed = sum(r["removed"] in copies for r in removed)
    exact_removed = sum(r["removed"] in {b for _, b in truth.exact_pairs} for r in removed)
    result = {"docs": args.docs, "mb": mb, "cores": cpus, **run, "mb_per_s": mb / run["wall_seconds"],
              "mb_per_s_per_core": mb / run["wall_seconds"] / cpus, "removed": len(removed),
              "removed_planted_copies": planted_removed, "exact_copies": len(truth.exact_pairs),
              "exact_copies_removed": exact_removed, "near_copies": len(truth.near_pairs)}
    text = "\n".join([
        f"twicetold dedup, default settings, {args.docs:,} generated articles ({mb:,.0f} MB of JSON Lines, "
        f"{'zstd' if corpus.suffix == '.zst' else 'plain'}), {cpus} CPUs",
        f"machine load average (1 min) before/after: {load_before[0]:.1f} / {load_after[0]:.1f}; "
        f"kernels compiled beforehand ({compile_seconds:.1f} s, untimed)",
        f"wall {run['wall_seconds']:.1f} s, CPU {run['user_seconds'] + run['system_seconds']:.1f} s, "
        f"peak RSS {run['peak_rss_mb']:,.0f} MB, {result['mb_per_s']:.2f} MB/s, "
        f"{result['mb_per_s_per_core']:.2f} MB/s per core",
        f"removed {len(removed):,} documents, {planted_removed:,} of them planted copies; exact copies removed "
        f"{exact_removed:,}/{len(truth.exact_pairs):,}; near copies planted {len(truth.near_pairs):,} "
        f"(true Jaccard 0.3-0.9, threshold 0.6)",
    ])
    print(text)
    return {"dedup": result, "compile_seconds": compile_seconds, "twicetold": snapshot,
            "load_average": [load_before, load_after], "table": text}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=None,
                        help="articles to generate (default 100000; 1000000 with --dedup)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--dedup", action="store_true", help="time `twicetold dedup` instead of `scan`")
    parser.add_argument("--realistic", action="store_true",
                        help="articles that share word 5-grams by chance as news does (a Zipf vocabulary and "
                             "stock phrases: python -m twicetold.testing.synthetic --realistic)")
    parser.add_argument("--repeat", type=int, default=1, help="scan runs per setting; the median is reported")
    parser.add_argument("--no-scaling", action="store_true", help="skip the one-worker scan")
    parser.add_argument("--compress", action=argparse.BooleanOptionalAction, default=None,
                        help="write the corpus as .jsonl.zst (default: only when the disk is short)")
    parser.add_argument("--no-snapshot", action="store_true",
                        help="run the installed twicetold as it is, not a copy taken at the start")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the corpus, results and results.json (default .bench/scale-DOCS-sSEED)")
    args = parser.parse_args(argv)
    if args.docs is None:
        args.docs = 1_000_000 if args.dedup else 100_000
    out = args.out or BENCH / f"scale-{args.docs}-s{args.seed}{'-real' if args.realistic else ''}"
    report = dedup_report(args, out) if args.dedup else scan_report(args, out)
    out.mkdir(parents=True, exist_ok=True)
    name = "results-dedup.json" if args.dedup else "results-scan.json"
    (out / name).write_text(json.dumps({"args": {k: str(v) if isinstance(v, Path) else v
                                                  for k, v in vars(args).items()}, **report}, indent=2) + "\n",
                            encoding="utf-8")
    print(f"\nresults: {out / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
