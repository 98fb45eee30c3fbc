"""Index build speed and query latency on generated news-like articles.

    python benchmarks/bench_index.py                 # 100,000 articles (a while: build once, then --reuse)
    python benchmarks/bench_index.py --docs 2000     # quick

Builds an index of ``--docs`` generated articles (``twicetold.testing.synthetic``, about 4 KB each,
with planted exact, near and partial copies) in batches of ``--batch`` under ``.bench/``
(ignored by git), then times ``Index.query`` on ``--queries`` fresh articles of the same
language, half of them carrying one or two paragraphs taken from an indexed article. Prints
p50/p90/p99 latency, the share of planted sources found, build speed and index size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

from twicetold.index import Index
from twicetold.model import Document
from twicetold.testing.synthetic import CorpusSpec, iter_generate

BENCH = Path(__file__).resolve().parents[1] / ".bench"


def build(path: Path, n_docs: int, batch: int, seed: int) -> dict[str, float]:
    """Index ``n_docs`` generated articles, ``batch`` per add (one transaction each)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    t0 = time.perf_counter()
    with Index.create(path) as index:
        docs: list[Document] = []
        for d in iter_generate(CorpusSpec(n_docs=n_docs, seed=seed)):
            docs.append(Document(d["id"], d["text"], d["source"], d["date"]))
            if len(docs) == batch:
                index.add_documents(docs, inputs=["synthetic"])
                docs = []
                print(f"  indexed {len(index):,} documents, {time.perf_counter() - t0:.0f} s", flush=True)
        if docs:
            index.add_documents(docs, inputs=["synthetic"])
    seconds = time.perf_counter() - t0
    return {"build_seconds": round(seconds, 1), "docs_per_second": round(n_docs / seconds, 1)}


def queries(index: Index, n: int, n_docs: int, seed: int) -> list[tuple[str, str | None]]:
    """Fresh ~4 KB articles; every other one carries paragraphs of a random indexed article
    (returned with that article's id, else None)."""
    rng = random.Random(seed)
    spec = CorpusSpec(n_docs=n, seed=seed + 1000, exact_rate=0, near_rate=0, partial_rate=0, id_prefix="q-")
    out: list[tuple[str, str | None]] = []
    width = max(6, len(str(max(n_docs - 1, 0))))
    for k, d in enumerate(iter_generate(spec)):
        paras = d["text"].split("\n\n")
        if k % 2:
            source_id = f"doc-{rng.randrange(n_docs):0{width}d}"
            source = index.get(source_id)
            assert source is not None, source_id
            theirs = source.text.split("\n\n")
            start = rng.randrange(len(theirs))
            taken = theirs[start:start + rng.choice((1, 2))]
            at = rng.randrange(len(paras) + 1)
            paras[at:at] = taken
            out.append(("\n\n".join(paras), source_id))
        else:
            out.append(("\n\n".join(paras), None))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000, help="articles to index (default 100000)")
    parser.add_argument("--queries", type=int, default=400, help="query articles (default 400)")
    parser.add_argument("--batch", type=int, default=10_000, help="documents per add (default 10000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="query the index left by an earlier run, if any")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    BENCH.mkdir(exist_ok=True)
    path = BENCH / f"index-{args.docs}-s{args.seed}.twicetold"
    report: dict[str, object] = {"docs": args.docs}
    if not (args.reuse and path.exists()):
        print(f"building {path} ({args.docs:,} articles, batches of {args.batch:,})", flush=True)
        report.update(build(path, args.docs, args.batch, args.seed))
    with Index.open(path) as index:
        stats = index.stats()
        work = queries(index, args.queries, args.docs, args.seed)
        for text, _ in work[:5]:  # compile the kernels and warm the page cache first
            index.query(text)
        latencies: list[float] = []
        found = planted = 0
        sizes = []
        for text, source in work:
            t0 = time.perf_counter()
            pairs = index.query(text)
            latencies.append((time.perf_counter() - t0) * 1000)
            sizes.append(len(text))
            if source is not None:
                planted += 1
                found += any(source in (p.a, p.b) for p in pairs)
    report.update({
        "index_bytes": stats.size_bytes,
        "index_mb": round(stats.size_bytes / 2**20, 1),
        "postings": stats.postings,
        "queries": len(latencies),
        "query_chars_mean": round(statistics.mean(sizes)),
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p90_ms": round(percentile(latencies, 0.9), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "mean_ms": round(statistics.mean(latencies), 2),
        "planted_sources_found": f"{found}/{planted}",
        "cpus": os.cpu_count(),
    })
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:>22}: {value:,}" if isinstance(value, int | float) else f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
