"""Wire groups: many outlets printing one wire paragraph, and what ``twicetold scan`` makes of it.

    python benchmarks/bench_wire.py --groups 8 --size 250                 # 2,000 documents
    python benchmarks/bench_wire.py --groups 80 --size 250 --timeout 180  # 20,000 documents

Generates ``--groups`` x ``--size`` documents (``twicetold.testing.synthetic.write_wire_groups``,
seed ``--seed``) into ``.bench/wire-GROUPS-SIZE-sSEED/`` (ignored by git), unless already there:
the documents of a group, each from another outlet, carry the group's wire paragraph (60-120
words, edited at 0-2 % of its words per outlet) in otherwise unrelated articles of ~3,000
characters that share word 5-grams only by chance, as news articles do (stock phrases, a Zipf
vocabulary). A group of 250 is a wire story printed by 250 outlets: C(250, 2) = 31,125 pairs.

Then runs ``python -m twicetold scan CORPUS -o OUT --force -q`` in a child process and reports
its wall time and peak resident memory (``wait4`` on the child, from a small stdlib-only helper
so that none of this script's own memory is counted), the stage timings and counts of its
``run.json``, and the pairs it found against the truth:

- within groups: how many of each group's C(size, 2) pairs are reported, as a row of
  ``pairs.jsonl`` or with both documents in one near-duplicate cluster of ``clusters.jsonl``
  (min, median and mean recall over the groups, and all pairs together);
- across groups: pairs reported between documents of different groups (none is planted).

With ``--timeout SECONDS`` a scan still running then is killed (its process group) and the
progress it had drawn is printed (the scan then runs without ``-q``, its progress bar drawn to
``scan.log``). Numba's kernels are compiled first by an untimed scan of the first documents
(``--no-warmup`` to skip). Results go to ``results.json`` in the corpus folder.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / ".bench"
WARMUP_DOCS = 300

# --------------------------------------------------------------------------------------------
# Measuring the scan: run from a fresh helper process that imports only the standard library.


def measure_child(cmd: Sequence[str], timeout: float | None, log: str | None) -> dict[str, Any]:
    """Run ``cmd`` (standard error to ``log``); its wall time, exit status and peak memory.

    Killed, with its whole process group (forked workers included), once ``timeout`` seconds
    have passed. ``wait4`` gives the child's own resource use, its reaped workers' included.
    """
    err = open(log, "wb") if log else None  # noqa: SIM115 (closed below)
    env = dict(os.environ)
    if log:  # draw the progress bar into the log (rich draws none when it is not a terminal)
        env.update(TTY_INTERACTIVE="1", TTY_COMPATIBLE="1", NO_COLOR="1", COLUMNS="120")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err or subprocess.DEVNULL, env=env,
                            start_new_session=True)
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if timeout is not None and time.perf_counter() - t0 > timeout and not killed:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    if err:
        err.close()
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return {"wall_seconds": wall, "peak_rss_mb": usage.ru_maxrss * scale / 2**20,
            "returncode": os.waitstatus_to_exitcode(status), "timed_out": killed,
            "user_seconds": usage.ru_utime, "system_seconds": usage.ru_stime}


def measure(cmd: Sequence[str], timeout: float | None, log: Path | None) -> dict[str, Any]:
    """``measure_child`` in a helper process, so the peak is the command's own."""
    helper = [sys.executable, "-S", "-c",
              "import json, sys; sys.path.insert(0, sys.argv[1]); import bench_wire as b; "
              "t = None if sys.argv[2] == '-' else float(sys.argv[2]); "
              "print(json.dumps(b.measure_child(sys.argv[4:], t, None if sys.argv[3] == '-' else sys.argv[3])))",
              str(Path(__file__).resolve().parent), "-" if timeout is None else str(timeout),
              "-" if log is None else str(log), *cmd]
    proc = subprocess.run(helper, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {cmd} failed:\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def last_progress(log: Path) -> list[str]:
    """The progress bar's lines as last drawn in ``log``: one per stage, with its counts."""
    raw = log.read_text(encoding="utf-8", errors="replace")
    lines = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", raw.replace("\r", "\n")).split("\n")
    latest: dict[str, str] = {}
    for line in lines:
        line = re.sub(r"[━─╸╺]+", " ", line).strip()
        m = re.match(r"([a-z][a-z ]+?)\s{2,}(.*)", line)
        if m:
            latest[m.group(1)] = " ".join(m.group(2).split())
    return [f"{stage}: {rest}" for stage, rest in latest.items()]


def twicetold_cmd() -> list[str]:
    return [sys.executable, "-m", "twicetold"]


# --------------------------------------------------------------------------------------------
# Corpus and scoring


def ensure_corpus(out: Path, groups: int, size: int, seed: int) -> Path:
    """The corpus under ``out``, generated when missing."""
    from twicetold.testing.synthetic import truth_path, write_wire_groups

    path = out / "corpus.jsonl"
    if path.exists() and truth_path(path).exists():
        return path
    out.mkdir(parents=True, exist_ok=True)
    print(f"generating {groups} groups x {size} documents (seed {seed}) into {path} ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    write_wire_groups(path, groups, size, seed)
    print(f"  done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return path


def warm_up(out: Path, corpus: Path) -> None:
    """Compile the kernels into Numba's disk cache: an untimed scan of the first documents."""
    small = out / "warmup.jsonl"
    if not small.exists():
        with open(corpus, encoding="utf-8") as f, open(small, "w", encoding="utf-8") as g:
            for k, line in enumerate(f):
                if k == WARMUP_DOCS:
                    break
                g.write(line)
    subprocess.run([*twicetold_cmd(), "scan", str(small), "-o", str(out / "warmup-results"), "--force", "-q"],
                   check=True)


def score(results: Path, corpus: Path) -> dict[str, Any]:
    """Reported pairs against the groups of the truth (see the module docstring)."""
    from twicetold.testing.synthetic import load_truth

    truth = load_truth(corpus)
    group = {doc: k for k, occurrences in enumerate(truth.spread) for doc, _, _ in occurrences}
    sizes = [len(occurrences) for occurrences in truth.spread]
    reported: set[tuple[str, str]] = set()
    with open(results / "pairs.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            reported.add((min(row["a"], row["b"]), max(row["a"], row["b"])))
    in_clusters = 0
    with open(results / "clusters.jsonl", encoding="utf-8") as f:
        for line in f:
            members = sorted(json.loads(line)["members"])
            in_clusters += len(members)
            reported.update((a, b) for i, a in enumerate(members) for b in members[i + 1:])
    within: dict[int, int] = defaultdict(int)
    across = 0
    for a, b in reported:
        if group[a] == group[b]:
            within[group[a]] += 1
        else:
            across += 1
    recalls = [within[k] / math.comb(n, 2) for k, n in enumerate(sizes)]
    planted = sum(math.comb(n, 2) for n in sizes)
    return {"groups": len(sizes), "group_pairs": planted, "group_pairs_found": sum(within.values()),
            "recall": sum(within.values()) / planted, "recall_min": min(recalls),
            "recall_median": statistics.median(recalls), "recall_mean": statistics.fmean(recalls),
            "groups_complete": sum(r == 1.0 for r in recalls), "pairs_across_groups": across,
            "documents_in_near_duplicate_clusters": in_clusters}


# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=80, help="wire groups (default 80)")
    parser.add_argument("--size", type=int, default=250, help="documents per group (default 250)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=None,
                        help="kill the scan after this many seconds and show how far it got")
    parser.add_argument("--no-warmup", action="store_true", help="do not compile the kernels first")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the corpus and results (default .bench/wire-GROUPS-SIZE-sSEED)")
    args = parser.parse_args(argv)
    out = args.out or BENCH / f"wire-{args.groups}-{args.size}-s{args.seed}"
    corpus = ensure_corpus(out, args.groups, args.size, args.seed)
    n_docs = args.groups * args.size
    if not args.no_warmup:
        warm_up(out, corpus)
    results = out / "results"
    log = out / "scan.log" if args.timeout is not None else None
    cmd = [*twicetold_cmd(), "scan", str(corpus), "-o", str(results), "--force"] + ([] if log else ["-q"])
    print(f"scanning {n_docs:,} documents ({corpus.stat().st_size / 1e6:.0f} MB): {' '.join(cmd[1:])}",
          file=sys.stderr, flush=True)
    run = measure(cmd, args.timeout, log)
    summary: dict[str, Any] = {"groups": args.groups, "size": args.size, "seed": args.seed, "documents": n_docs,
                               "scan": run}
    print(f"\n{args.groups} groups x {args.size} documents = {n_docs:,} documents, "
          f"{args.groups * math.comb(args.size, 2):,} planted pairs")
    print(f"{'wall':>10} {'peak RSS':>10} {'user':>9} {'sys':>8}")
    print(f"{run['wall_seconds']:>9.1f}s {run['peak_rss_mb']:>8.0f}MB {run['user_seconds']:>8.1f}s "
          f"{run['system_seconds']:>7.1f}s")
    if run["timed_out"] or run["returncode"] != 0:
        what = f"killed after {args.timeout:g} s" if run["timed_out"] else f"exited with status {run['returncode']}"
        print(f"\nthe scan {what}; its progress as last drawn:")
        progress = last_progress(log) if log and log.exists() else []
        for line in progress or ["(none drawn yet)" if log else "(none: run with --timeout to log it)"]:
            print(f"  {line}")
        summary["progress"] = progress
    else:
        record = json.loads((results / "run.json").read_text(encoding="utf-8"))
        counts = {k: record["counts"][k] for k in ("passage_candidates", "hubs", "pairs_derived_through_hubs",
                                                      "pairs_aligned", "pairs")
                  if k in record["counts"]}
        found = score(results, corpus)
        summary.update(run_json_timings=record["timings"], run_json_counts=counts, pairs=found)
        print("stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in record["timings"].items()))
        print("counts: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        print(f"\n{'group pairs':>12} {'found':>9} {'recall':>7} {'min':>6} {'median':>7} {'mean':>6} "
              f"{'complete':>9} {'across groups':>14}")
        print(f"{found['group_pairs']:>12,} {found['group_pairs_found']:>9,} {found['recall']:>7.3f} "
              f"{found['recall_min']:>6.3f} {found['recall_median']:>7.3f} {found['recall_mean']:>6.3f} "
              f"{found['groups_complete']:>4}/{found['groups']:<4} {found['pairs_across_groups']:>14,}")
    (out / "results.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
