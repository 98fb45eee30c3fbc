"""Real OCR reprints: twicetold against a naive shared-5-gram matcher on passim's clusters.

    python benchmarks/bench_impresso.py                  # default settings
    python benchmarks/bench_impresso.py -- --min-length 40   # any scan options after --

The data (``../shared/data/impresso_passim_1900/``, silver labels) is passim's output on two
Swiss French newspapers of 1900, Journal de Genève (JDG) and Gazette de Lausanne (GDL): each
line a reused passage of OCR'd text with its passim cluster. Each passage becomes one document
(source: its paper, date: its issue); identical (article, begin, end) lines are read once.

Positives are the pairs of documents of one passim cluster from the two papers (passim aligned
only JDG x GDL pairs). A pair counts as reported when it is a row of ``pairs`` or its two
documents are members of one near-duplicate cluster. Reported are:

- pair recall, overall and on clusters of at most 20 passages (larger ones are mostly formulas
  and recurring ads chained together by passim);
- how many reported pairs lie outside passim's clusters, and how many of those across the two
  papers (passim's silver labels miss some true reuse, and passim never paired two passages of
  one paper, so these are upper bounds on false pairs, to be kept in view, not error counts);
- the same for a naive matcher: two documents sharing at least 3 lower-cased word 5-grams;
- twicetold's time per stage, from ``run.json``.

Results go to ``.bench/impresso/`` (ignored by git).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "impresso_passim_1900" / "out.json"
OUT = REPO / ".bench" / "impresso"
SMALL = 20

Pair = tuple[str, str]


def documents(folder: Path = DATA) -> list[dict[str, object]]:
    """One document per passage, in file order; ``cluster`` and ``size`` are passim's."""
    seen, docs = set(), []
    for part in sorted(folder.glob("part-*.json")):
        for line in part.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            key = (row["id"], row["begin"], row["end"])
            if key in seen:
                continue
            seen.add(key)
            docs.append({"id": f"{row['id']}@{row['begin']}-{row['end']}", "text": row["text"],
                         "source": row["series"], "date": row["date"], "cluster": row["cluster"],
                         "size": row["size"]})
    return docs


def norm(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def positives(docs: list[dict[str, object]]) -> tuple[set[Pair], set[Pair]]:
    """Cross-paper pairs of one passim cluster: all of them, and those of clusters of at most 20."""
    by_cluster: dict[object, list[dict[str, object]]] = defaultdict(list)
    for d in docs:
        by_cluster[d["cluster"]].append(d)
    every, small = set(), set()
    for members in by_cluster.values():
        for x, y in itertools.combinations(members, 2):
            if x["source"] != y["source"]:
                p = norm(str(x["id"]), str(y["id"]))
                every.add(p)
                if int(str(x["size"])) <= SMALL:
                    small.add(p)
    return every, small


def naive_pairs(docs: list[dict[str, object]], n: int = 5, shared: int = 3) -> set[Pair]:
    """Pairs of documents sharing at least ``shared`` distinct lower-cased word ``n``-grams."""
    postings: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for k, d in enumerate(docs):
        words = re.findall(r"\w+", str(d["text"]).lower())
        for gram in {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}:
            postings[gram].append(k)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for ks in postings.values():
        for i, j in itertools.combinations(ks, 2):
            counts[i, j] += 1
    return {norm(str(docs[i]["id"]), str(docs[j]["id"])) for (i, j), c in counts.items() if c >= shared}


def reported_pairs(results: Path) -> set[Pair]:
    """A scan's pair rows and its near-duplicate clusters' member pairs."""
    out = set()
    for line in (results / "pairs.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        out.add(norm(row["a"], row["b"]))
    for line in (results / "clusters.jsonl").read_text(encoding="utf-8").splitlines():
        for a, b in itertools.combinations(json.loads(line)["members"], 2):
            out.add(norm(a, b))
    return out


def score(found: set[Pair], every: set[Pair], small: set[Pair], source: dict[str, object],
          cluster: dict[str, object]) -> dict[str, object]:
    outside = {(a, b) for a, b in found if cluster[a] != cluster[b]}
    cross = sum(1 for a, b in outside if source[a] != source[b])
    return {"recall": round(len(found & every) / len(every), 3),
            "recall_small": round(len(found & small) / len(small), 3),
            "found": len(found & every), "positives": len(every), "found_small": len(found & small),
            "positives_small": len(small), "pairs": len(found), "outside_clusters": len(outside),
            "cross_paper_outside_clusters": cross}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-naive", action="store_true", help="skip the naive matcher")
    parser.add_argument("scan_options", nargs="*", help="options passed to twicetold scan (after --)")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"{DATA} not found: the labelled data live beside the repository, in ../shared/", file=sys.stderr)
        return 2
    docs = documents()
    OUT.mkdir(parents=True, exist_ok=True)
    corpus = OUT / "corpus.jsonl"
    with open(corpus, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({k: d[k] for k in ("id", "text", "source", "date")}, ensure_ascii=False) + "\n")
    every, small = positives(docs)
    source = {str(d["id"]): d["source"] for d in docs}
    cluster = {str(d["id"]): d["cluster"] for d in docs}
    results = OUT / "results"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "twicetold", "scan", str(corpus), "-o", str(results), "--force", "-q",
                    *args.scan_options], check=True)
    wall = time.perf_counter() - t0
    run = json.loads((results / "run.json").read_text(encoding="utf-8"))
    rows = {"twicetold": score(reported_pairs(results), every, small, source, cluster)}
    if not args.no_naive:
        rows["naive 5-grams (>= 3 shared)"] = score(naive_pairs(docs), every, small, source, cluster)
    print(f"impresso 1900 (JDG x GDL), {len(docs):,} documents (one per passim passage); "
          f"{len(every):,} cross-paper same-cluster pairs, {len(small):,} in clusters of at most {SMALL}")
    print(f"twicetold scan {' '.join(args.scan_options) or '(default settings)'}: {wall:.1f} s wall; stages "
          + ", ".join(f"{k} {v:.1f}" for k, v in run["timings"].items()) + f"; candidate pairs "
          f"{run['counts'].get('passage_candidates', 0):,}")
    print(f"\n{'matcher':<30} {'recall':>7} {'<=20':>7} {'pairs':>9} {'outside':>9} {'of them across papers':>22}")
    for name, r in rows.items():
        print(f"{name:<30} {r['recall']:>7} {r['recall_small']:>7} {r['pairs']:>9,} {r['outside_clusters']:>9,} "
              f"{r['cross_paper_outside_clusters']:>22,}")
    (OUT / "results.json").write_text(json.dumps({"scan_options": args.scan_options, "wall_seconds": wall,
                                                  "timings": run["timings"], "counts": run["counts"], "rows": rows},
                                                 indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
