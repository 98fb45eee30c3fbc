"""The plan of a scan: reading → tokens → shingles and sketches → near duplicates → clusters →
candidate pairs → alignment → passage clusters, stage after stage over plain data (document
records, feature arrays, row pairs, pairs), each stage's counts and drops gathered for
``run.json`` and ``explain``. *How* the stages run (threads, worker processes, where texts
and spilled arrays live) is the executor's (``executor``): the plan is the same on any.

Documents are rows numbered in input order, whatever the batching, so any executor and any
number of workers give the same results.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _kernels, _warmup, readers
from .align import decide_anchors
from .candidates import Candidates, letter_gram_pairs, shared_shingle_pairs
from .cluster import Components, CorpusInfo, PassageReport, components, keep_order, passage_clusters
from .config import ScanConfig
from .corpus import Corpus
from .errors import TwicetoldError
from .executor import Executor, LocalExecutor, Storage
from .lsh import NearPairs, bands_for, near_duplicates
from .model import Cluster, InputProblem, Progress, ScanResult
from .normalize import OcrSigns
from .passages import align_pairs, pairs_to_align
from .sketch import Features
from .store import Spill

SIGNS_SAMPLE = 2_000  # documents whose signs of OCR decide anchors="auto"


class _Timer:
    """Seconds per stage for run.json; stages without a count of their own show on the
    progress display as a bar that completes when they end. Stages may run side by side
    (near duplicates and clusters beside candidates), so the sum can exceed the total."""

    COUNTED = ("read_and_sketch", "align")  # these report their own progress

    def __init__(self, report: Progress) -> None:
        self.seconds: dict[str, float] = {}
        self.report = report

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        if name not in self.COUNTED:
            self.report(name, 0, 1)
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - t0, 4)
            if name not in self.COUNTED:
                self.report(name, 1, 1)


def _with_letter_candidates(cands: Candidates, corpus: Corpus, cfg: ScanConfig, spill: Spill) -> Candidates:
    """``cands`` and the pairs of documents sharing letter grams (``candidates.letter_gram_pairs``)."""
    letters = letter_gram_pairs(corpus.store.get, len(corpus), cfg.passages.max_df, spill.keep, spill.room())
    if not len(letters.pairs):
        return cands
    pairs = np.unique(np.concatenate([cands.pairs, letters.pairs]), axis=0)
    shared = np.zeros(len(pairs), np.int64)  # rare word shingles shared: none for pairs found on letters only
    if len(cands.pairs):
        shared[np.searchsorted((pairs[:, 0] << 32) | pairs[:, 1], (cands.pairs[:, 0] << 32) | cands.pairs[:, 1])] \
            = cands.shared
    return replace(cands, pairs=pairs, shared=shared)


def _decide_anchors(cfg: ScanConfig, corpus: Corpus, executor: Executor, report: Progress
                    ) -> tuple[ScanConfig, OcrSigns | None]:
    """``cfg`` with ``anchors="auto"`` decided on the signs of OCR in up to ``SIGNS_SAMPLE`` of the
    corpus's documents, spread over it (``align.decide_anchors``)."""
    if not cfg.passages.enabled or cfg.passages.anchors != "auto":
        return cfg, None
    n = len(corpus)
    sample = np.unique(np.linspace(0, n - 1, min(n, SIGNS_SAMPLE)).astype(np.int64))
    passages, seen = decide_anchors(cfg.passages, (corpus.store.get(int(i)) for i in sample))
    if passages.anchors == "letters":
        executor.warm_up(_warmup.needed(json_lines=False, passages=False, letters=True), report)
    return replace(cfg, passages=passages), seen


def _exact_edges(content: npt.NDArray[np.uint64], usable: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Each document with the same content hash as an earlier one, linked to the first."""
    idx = np.flatnonzero(usable)
    order = idx[np.lexsort((idx, content[idx, 1], content[idx, 0]))]
    c = content[order]
    same = np.all(c[1:] == c[:-1], axis=1)
    run_start = np.maximum.accumulate(np.where(np.concatenate([[True], ~same]), np.arange(len(order)), 0))
    dup = np.flatnonzero(np.concatenate([[False], same]))
    return np.stack([order[run_start[dup]], order[dup]], axis=1).astype(np.int64)


def _near_stages(timer: _Timer, corpus: Corpus, features: Features, usable: npt.NDArray[np.bool_],
                 cfg: ScanConfig) -> tuple[npt.NDArray[np.int64], NearPairs, Components, list[Cluster]]:
    """Exact and near-duplicate pairs, and the clusters they make."""
    with timer.stage("near_duplicates"):
        exact = _exact_edges(features.content, usable)
        near = near_duplicates(features.signatures, cfg.near, usable,
                               features.shingle_set if corpus.keep_shingles else None)
    with timer.stage("clusters"):
        rank = keep_order(cfg.keep, corpus.order_dates, [r.length for r in corpus.records])
        comps = components(len(corpus), np.concatenate([exact, near.pairs]), rank)
        clusters = _clusters(comps, corpus, features)
    return exact, near, comps, clusters


@dataclass
class ScanState:
    """Everything one run of the plan computed, while the executor's storage is still open:
    ``scan`` turns it into a :class:`ScanResult`, ``explain`` reads it to say why a pair
    was or was not reported."""

    config: ScanConfig  # as run: anchors="auto" decided
    corpus: Corpus
    features: Features
    near: NearPairs
    exact: npt.NDArray[np.int64]
    components: Components
    clusters: list[Cluster]
    candidates: Candidates
    aligned: npt.NDArray[np.int64]
    passages: PassageReport
    problems: list[InputProblem]
    run: dict[str, Any]
    storage: Storage

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {r.id: i for i, r in enumerate(self.corpus.records)}

    def index_of(self, doc_id: str) -> int | None:
        """Row of a document id, None when no such document was read."""
        return self._rows.get(doc_id)

    def text(self, i: int) -> str:
        return self.storage.store.get(i)


def local_executor(cfg: ScanConfig) -> LocalExecutor:
    """The executor a scan runs on unless told otherwise: this machine, as ``cfg`` sets it."""
    return LocalExecutor(cfg.n_workers, cfg.memory_budget, cfg.temp_dir)


@contextmanager
def run_stages(inputs: Sequence[str | os.PathLike[str]], config: ScanConfig | None = None, *,
               executor: Executor | None = None, progress: Progress | None = None,
               keep_shingles: bool = True) -> Iterator[ScanState]:
    """Run every stage on ``executor`` (default: ``local_executor``); yield their state while
    the executor's storage is open.

    With ``keep_shingles=False`` the documents' shingles (8 bytes per word, the largest thing a
    scan holds) are let go once the candidate pairs are found, unless ``--exact-jaccard`` needs
    them later; the state then has none (``explain`` keeps them).
    """
    cfg = config or ScanConfig()
    executor = executor or local_executor(cfg)
    report = progress or (lambda stage, done, total: None)
    timer = _Timer(report)
    problems: list[InputProblem] = []
    started = time.time()
    # Compile before any storage is open: a warm-up stopped by a signal then leaves no text store behind.
    executor.warm_up(_warmup.needed(json_lines=_reads_json_lines(inputs, cfg), passages=cfg.passages.enabled,
                                    letters=cfg.passages.enabled and cfg.passages.anchors == "letters"), report)
    with executor.session() as storage:
        corpus = Corpus(storage.store, storage.spill, cfg.sketch,
                        keep_shingles=cfg.passages.enabled or cfg.near.exact_jaccard, text_key=cfg.read.text_column)
        with timer.stage("read_and_sketch"):
            features = _read(inputs, cfg, corpus, problems, report)
        n = len(corpus)
        usable = features.n_tokens > 0
        cfg, signs = _decide_anchors(cfg, corpus, executor, report)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="twicetold-near") as side:
            # Near duplicates and their clusters (serial code, mostly outside the GIL) run beside
            # the passage candidates' parallel kernels, on the cores those leave idle.
            near_job = side.submit(_near_stages, timer, corpus, features, usable, cfg)
            with timer.stage("candidates"):
                cands = _candidates(features, corpus, cfg, storage)
            exact, near, comps, clusters = near_job.result()
        if not keep_shingles and not cfg.near.exact_jaccard:
            features = corpus.release_shingles()  # alignment's forked workers then start smaller
            executor.release_memory()
        with timer.stage("align"):
            to_align = pairs_to_align(comps, cands.pairs, n)
            aligned = align_pairs(to_align, corpus, features, comps, cfg, cands.counts, executor, storage, report)
        with timer.stage("passage_clusters"):
            paired = np.unique(to_align).tolist()  # the documents of every pair, and a few more
            index = {corpus.records[i].id: i for i in paired}
            passages = passage_clusters(aligned.pairs, _corpus_info(corpus, paired),
                                        lambda d: storage.store.get(index[d]), cfg.passages, aligned.known)
        counts = {
            "documents": n,
            "documents_without_words": int(n - usable.sum()),
            "input_problems": dict(Counter(p.kind for p in problems)),
            "exact_pairs_linked": len(exact),
            "lsh_candidates": near.candidates,
            "near_pairs_verified": len(near.pairs),
            "near_candidates_decided_exactly": near.decided_exactly,
            "passage_candidates": len(cands.pairs),
            "frequent_shingles_ignored": cands.frequent_shingles,
            "bytes_spilled_to_disk": storage.spill.spilled,
            "pair_candidates_to_align": len(to_align),
            **aligned.counts,
            "pairs": len(passages.pairs),
            "pairs_by_kind": dict(Counter(p.kind for p in passages.pairs)),
            "passages": sum(len(p.passages) for p in passages.pairs),
            "passages_boilerplate_removed": passages.boilerplate_removed,
            "passage_clusters": len(passages.clusters),
            "pairs_within_source": sum(p.same_source is True for p in passages.pairs),
            "pairs_across_sources": sum(p.same_source is False for p in passages.pairs),
            "clusters": len(clusters),
            "documents_in_clusters": sum(len(c.members) for c in clusters),
        }
        run = {
            "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(),
            "bands_rows": list(bands_for(cfg.near, cfg.sketch.num_perm)),
            **({"anchors": cfg.passages.anchors} if cfg.passages.enabled else {}),
            **({"anchors_decided_on": str(signs)} if signs is not None else {}),
            "counts": counts,
            "timings": dict(timer.seconds, total=round(time.time() - started, 4)),
        }
        yield ScanState(cfg, corpus, features, near, exact, comps, clusters, cands, to_align, passages,
                        problems, run, storage)


def _reads_json_lines(inputs: Sequence[str | os.PathLike[str]], cfg: ScanConfig) -> bool:
    """Whether any input is JSON Lines (read and sketched by its own kernels)."""
    for i in inputs:
        try:
            if readers.detect_format(os.fspath(i), cfg.read) == "jsonl":
                return True
        except TwicetoldError:  # reading reports it
            continue
    return False


def _read(inputs: Sequence[str | os.PathLike[str]], cfg: ScanConfig, corpus: Corpus, problems: list[InputProblem],
          report: Progress) -> Features:
    """Every document of ``inputs`` into ``corpus``; their features. What could not be read
    goes to ``problems``; nothing read at all is an error that says what was found."""
    batches = readers.read_batches(inputs, cfg.read, problems, threads=cfg.n_workers, prepare=corpus.sketch_block)
    for _ in map(corpus.add, batches):  # no batch left in a variable: each holds its shingles
        report("read", len(corpus), None)
    features = corpus.features()
    if not len(corpus):
        raise readers.no_documents_error(inputs, problems)
    report("read", len(corpus), len(corpus))
    return features


def _candidates(features: Features, corpus: Corpus, cfg: ScanConfig, storage: Storage) -> Candidates:
    """Candidate pairs for passages: documents sharing rare shingles, and, on letters, letter grams."""
    if not cfg.passages.enabled:
        return Candidates(np.empty((0, 2), np.int64), np.empty(0, np.int64), 0)
    cands = shared_shingle_pairs(features.shingles, cfg.passages.max_df, cfg.passages.min_shared,
                                 storage.spill.room(), cfg.sketch.shingle_size)
    if cfg.passages.anchors == "letters":
        cands = _with_letter_candidates(cands, corpus, cfg, storage.spill)
    return cands


def scan(inputs: Sequence[str | os.PathLike[str]], config: ScanConfig | None = None, *,
         progress: Progress | None = None, executor: Executor | None = None) -> ScanResult:
    """Find exact and near-duplicate documents and reused passages in a corpus.

    ``inputs``: folders of ``.txt`` files, JSON Lines, CSV or Parquet files (compressed or
    not), or ``"-"`` for standard input. Returns a :class:`ScanResult`; ``outputs.write_results``
    writes it as a results folder. ``executor`` says how the stages run (default: on this
    machine, as ``config`` sets workers, memory budget and temporary folder).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> wire = "Dockworkers at the port of Arden walked out on Monday, halting container traffic."
    >>> _ = (d / "a.txt").write_text(wire + " Talks resume Friday, the union said, after the employers' "
    ...                               "latest offer was rejected by a show of hands at the gate.")
    >>> _ = (d / "b.txt").write_text("Markets in brief. Grain futures rose for a third day. " + wire)
    >>> result = scan([d])
    >>> [(p.a, p.b, p.kind, len(p.passages)) for p in result.pairs]
    [('a', 'b', 'partial', 1)]
    """
    with run_stages(inputs, config, executor=executor, progress=progress, keep_shingles=False) as st:
        return ScanResult(st.corpus.records, st.passages.pairs, st.clusters, st.problems, st.run,
                          st.passages.occurrences, st.passages.clusters)


def _corpus_info(corpus: Corpus, paired: list[int]) -> CorpusInfo:
    """What passage clustering needs: of the ``paired`` documents (those of every pair), and
    the counts of the whole corpus."""
    records = corpus.records
    return CorpusInfo(
        sources={records[i].id: records[i].source for i in paired},
        dates={records[i].id: corpus.order_dates[i] for i in paired},
        raw_dates={records[i].id: records[i].date for i in paired},
        docs_per_source=dict(Counter(r.source for r in records)),
        n_documents=len(records),
        lengths={records[i].id: records[i].length for i in paired},
    )


def _clusters(comps: Components, corpus: Corpus, features: Features) -> list[Cluster]:
    """Clusters of two or more documents, numbered by canonical id, each with its kind and
    the lowest estimated Jaccard of a member to the canonical member (one kernel call)."""
    members = np.flatnonzero(comps.canonical != np.arange(len(comps.canonical)))
    canon = comps.canonical[members]
    jac = _kernels.estimate_jaccard(features.signatures, np.stack([canon, members], axis=1)) if len(members) \
        else np.empty(0)
    same = (features.content[members] == features.content[canon]).all(axis=1)
    lowest: dict[int, float] = {}
    mixed: set[int] = set()
    for c, j, s in zip(canon.tolist(), jac.tolist(), same.tolist(), strict=True):
        lowest[c] = min(lowest.get(c, 1.0), j)
        if not s:
            mixed.add(c)
    out = []
    groups = sorted(comps.groups(), key=lambda g: corpus.records[int(comps.canonical[g[0]])].id)
    for cid, group in enumerate(groups):
        c = int(comps.canonical[group[0]])
        for m in group:
            corpus.records[int(m)].cluster = cid
        out.append(Cluster(cid, corpus.records[c].id, [corpus.records[int(m)].id for m in group],
                           "near" if c in mixed else "exact", round(lowest[c], 4)))
    return out
