"""The scan: reading → tokens → shingles and sketches → near duplicates → clusters →
candidate pairs → alignment → pairs. Chains the stages, times them and counts what each
one found or dropped.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import mmap
import multiprocessing as mp
import os
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc

from . import _kernels, _warmup, hubs, readers
from .align import AlignedText, align, decide_anchors
from .atomic import atomic_path, check_destination
from .candidates import Candidates, ShingleCounts, letter_gram_pairs, shared_shingle_pairs
from .cluster import Components, CorpusInfo, KnownTexts, PassageReport, Piece, components, keep_order, passage_clusters
from .config import PassageConfig, ScanConfig, SketchConfig
from .errors import TwicetoldError
from .lsh import NearPairs, bands_for, near_duplicates
from .model import Cluster, InputProblem, Occurrence, Pair, Passage, PassageCluster, sort_key_date
from .normalize import Layout
from .outputs import gc_paused, write_jsonl
from .pairs import KIND_RANK, first_is_a, scan_order
from .quotes import quote_spans
from .sketch import Features, Shingles, featurize
from .store import Spill, TextStore

LAYOUT_SAMPLE = 2_000  # documents whose layout decides anchors="auto"

Progress = Callable[[str, int, int | None], None]
"""Called as ``progress(stage, done, total)``; ``total`` is None while it is unknown."""


@dataclass
class DocumentRecord:
    """What the outputs say about one document (its text stays in the input)."""

    id: str
    source: str | None
    date: str | None
    length: int
    encoding: str
    warnings: list[str]
    meta: dict[str, Any]
    origin: str
    cluster: int | None = None


@dataclass
class ScanResult:
    """Everything a scan found: documents, pairs, clusters, and the run record (``run.json``)."""

    documents: list[DocumentRecord]
    pairs: list[Pair]
    clusters: list[Cluster]
    problems: list[InputProblem]
    run: dict[str, Any] = field(default_factory=dict)
    # Passage occurrences and clusters: ``model.TableRows`` after a scan (columns, made
    # objects when read), or any list of them.
    occurrences: Sequence[Occurrence] = field(default_factory=list)
    passage_clusters: Sequence[PassageCluster] = field(default_factory=list)

    def pair_counts(self) -> dict[str, int]:
        counts = Counter(p.kind for p in self.pairs)
        return {k: counts.get(k, 0) for k in KIND_RANK}


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


class _Corpus:
    """Per-document state the stages share, kept compact: texts go to the store, and
    features are computed a batch at a time.

    Batches of clean JSON Lines come sketched by the reader thread that parsed them
    (``sketch_block``, one thread per block: no barriers, and the cores stay busy with
    parsing and sketching alike). Other batches are sketched by one parallel kernel in a
    background thread (it releases the GIL) while the next batch is read; one batch at a
    time, so at most two batches are in memory and the parallel kernel is never entered
    from two threads at once.
    """

    def __init__(self, store: TextStore, spill: Spill, sketch: SketchConfig, keep_shingles: bool,
                 text_key: str) -> None:
        self.store = store
        self.spill = spill  # where the batches' shingles go beyond the memory budget
        self.text_key = text_key  # the JSON field that holds the text, for lines re-read in place
        self.sketch = sketch
        self.keep_shingles = keep_shingles
        self.records: list[DocumentRecord] = []
        self.order_dates: list[str | None] = []
        self._parts: list[Features] = []
        self._pending: Future[Features] | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="twicetold-sketch")

    def sketch_block(self, batch: readers.DocumentBatch) -> Features:
        """A batch's features on the calling thread alone (see the class docstring)."""
        return featurize(batch.texts, self.sketch, keep_shingles=self.keep_shingles, parallel=False)

    def add(self, batch: readers.DocumentBatch) -> None:
        self._collect()  # batches stay in order
        if isinstance(batch.prepared, Features):
            self._parts.append(self._kept(batch.prepared))
        else:
            # dedup needs only the sketches (~0.5 KB per document), not the shingles
            self._pending = self._worker.submit(featurize, batch.texts, self.sketch,
                                                keep_shingles=self.keep_shingles)
        if self.keep_shingles:  # texts are re-read only to align passages
            if batch.lines is not None:
                self.store.add_lines(*batch.lines, self.text_key)
            else:
                self.store.add_utf8(batch.texts)
        lengths = pc.utf8_length(batch.texts).to_pylist()
        for i, meta in enumerate(batch.meta()):
            self.records.append(DocumentRecord(batch.ids[i], batch.sources[i], batch.dates[i], lengths[i],
                                               batch.encodings[i], batch.warnings[i], meta, batch.origins[i]))
        keys = {d: sort_key_date(d) for d in set(batch.dates)}  # a news batch holds few distinct dates
        self.order_dates.extend(keys[d] for d in batch.dates)

    def _collect(self) -> None:
        if self._pending is not None:
            self._parts.append(self._kept(self._pending.result()))
            self._pending = None

    def _kept(self, features: Features) -> Features:
        """A batch's features with its shingles spilled to disk, once past the memory budget."""
        parts = tuple((self.spill.keep(flat), offsets) for flat, offsets in features.shingles.parts)
        return replace(features, shingles=Shingles(parts))

    def features(self) -> Features:
        """All batches' features, joined."""
        self._collect()
        self._worker.shutdown()
        features = Features.concat(self._parts, self.sketch.num_perm)
        self._parts = [features]
        return features

    def release_shingles(self) -> Features:
        """The features (joined by ``features``) without their shingles, which are let go."""
        assert len(self._parts) == 1
        features = replace(self._parts[0], shingles=Shingles(()))
        self._parts = [features]
        return features

    def __len__(self) -> int:
        return len(self.records)


def _with_letter_candidates(cands: Candidates, corpus: _Corpus, cfg: ScanConfig, spill: Spill) -> Candidates:
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


def _decide_anchors(cfg: ScanConfig, corpus: _Corpus, report: Progress) -> tuple[ScanConfig, Layout | None]:
    """``cfg`` with ``anchors="auto"`` decided on the layout of up to ``LAYOUT_SAMPLE`` of the
    corpus's documents, spread over it (``align.decide_anchors``)."""
    if not cfg.passages.enabled or cfg.passages.anchors != "auto":
        return cfg, None
    n = len(corpus)
    sample = np.unique(np.linspace(0, n - 1, min(n, LAYOUT_SAMPLE)).astype(np.int64))
    passages, seen = decide_anchors(cfg.passages, (corpus.store.get(int(i)) for i in sample))
    if passages.anchors == "letters":
        _warmup.warm_up(_warmup.needed(json_lines=False, passages=False, letters=True), cfg.n_workers, report)
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


def _near_stages(timer: _Timer, corpus: _Corpus, features: Features, usable: npt.NDArray[np.bool_],
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


def _ordered(i: int, j: int, corpus: _Corpus) -> tuple[int, int]:
    """Rows ``i`` and ``j`` as the pair's ``a`` and ``b`` (``pairs.first_is_a``)."""
    first = first_is_a(corpus.records[i].id, corpus.order_dates[i], corpus.records[j].id, corpus.order_dates[j])
    return (i, j) if first else (j, i)


def _return_free_memory() -> None:
    """Give memory that was freed back to the operating system. The shingles were allocated in
    pieces by the reader threads' malloc arenas, which keep freed memory for reuse: without
    this, letting the shingles go would not shrink the process (glibc only; elsewhere a no-op)."""
    with suppress(OSError, AttributeError, TypeError):  # no C library by that name, or no malloc_trim
        ctypes.CDLL(None).malloc_trim(0)


@dataclass
class PipelineState:
    """Everything one run of the pipeline computed, while its text store is still open:
    ``scan`` turns it into a :class:`ScanResult`, ``explain`` reads it to say why a pair
    was or was not reported."""

    config: ScanConfig
    corpus: _Corpus
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

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {r.id: i for i, r in enumerate(self.corpus.records)}

    def index_of(self, doc_id: str) -> int | None:
        """Row of a document id, None when no such document was read."""
        return self._rows.get(doc_id)

    def text(self, i: int) -> str:
        return self.corpus.store.get(i)


@contextmanager
def run_pipeline(inputs: Sequence[str | os.PathLike[str]], config: ScanConfig | None = None, *,
                 progress: Progress | None = None, keep_shingles: bool = True) -> Iterator[PipelineState]:
    """Run every stage; yield their state while the temporary text store is open.

    With ``keep_shingles=False`` the documents' shingles (8 bytes per word, the largest thing a
    scan holds) are let go once the candidate pairs are found, unless ``--exact-jaccard`` needs
    them later; the state then has none (``explain`` keeps them).
    """
    with gc_paused(), _stages(inputs, config, progress, keep_shingles) as state:
        yield state


def _reads_json_lines(inputs: Sequence[str | os.PathLike[str]], cfg: ScanConfig) -> bool:
    """Whether any input is JSON Lines (read and sketched by its own kernels)."""
    for i in inputs:
        try:
            if readers.detect_format(os.fspath(i), cfg.read) == "jsonl":
                return True
        except TwicetoldError:  # reading reports it
            continue
    return False


@contextmanager
def _stages(inputs: Sequence[str | os.PathLike[str]], config: ScanConfig | None,
            progress: Progress | None, keep_shingles: bool) -> Iterator[PipelineState]:
    cfg = config or ScanConfig()
    report = progress or (lambda stage, done, total: None)
    timer = _Timer(report)
    problems: list[InputProblem] = []
    started = time.time()
    spill = Spill(cfg.memory_budget, cfg.temp_dir)
    _warmup.warm_up(_warmup.needed(json_lines=_reads_json_lines(inputs, cfg), passages=cfg.passages.enabled,
                                   letters=cfg.passages.enabled and cfg.passages.anchors == "letters"),
                    cfg.n_workers, report)
    with _kernels.threads(cfg.n_workers), TextStore(cfg.temp_dir) as store:
        corpus = _Corpus(store, spill, cfg.sketch, keep_shingles=cfg.passages.enabled or cfg.near.exact_jaccard,
                         text_key=cfg.read.text_column)
        with timer.stage("read_and_sketch"):
            batches = readers.read_batches(inputs, cfg.read, problems, threads=cfg.n_workers,
                                           prepare=corpus.sketch_block)
            for _ in map(corpus.add, batches):  # no batch left in a variable: each holds its shingles
                report("read", len(corpus), None)
            features = corpus.features()
            if not len(corpus):
                raise readers.no_documents_error(inputs, problems)
            report("read", len(corpus), len(corpus))
        n = len(corpus)
        usable = features.n_tokens > 0
        cfg, layout = _decide_anchors(cfg, corpus, report)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="twicetold-near") as side:
            # Near duplicates and their clusters (serial code, mostly outside the GIL) run beside
            # the passage candidates' parallel kernels, on the cores those leave idle.
            near_job = side.submit(_near_stages, timer, corpus, features, usable, cfg)
            with timer.stage("candidates"):
                if cfg.passages.enabled:
                    cands = shared_shingle_pairs(features.shingles, cfg.passages.max_df, cfg.passages.min_shared,
                                                 spill.room(), cfg.sketch.shingle_size)
                    if cfg.passages.anchors == "letters":
                        cands = _with_letter_candidates(cands, corpus, cfg, spill)
                else:
                    cands = Candidates(np.empty((0, 2), np.int64), np.empty(0, np.int64), 0)
            exact, near, comps, clusters = near_job.result()
        if not keep_shingles and not cfg.near.exact_jaccard:
            features = corpus.release_shingles()  # alignment's forked workers then start smaller
            _return_free_memory()
        with timer.stage("align"):
            to_align = _pairs_to_align(comps, cands.pairs, n)
            pairs, known, align_counts = _align_pairs(to_align, comps, corpus, features, cfg, cands.counts,
                                                      report)
        with timer.stage("passage_clusters"):
            paired = np.unique(to_align).tolist()  # the documents of every pair, and a few more
            index = {corpus.records[i].id: i for i in paired}
            passages = passage_clusters(pairs, _corpus_info(corpus, paired), lambda d: store.get(index[d]),
                                        cfg.passages, known)
        run = {
            "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(),
            "bands_rows": list(bands_for(cfg.near, cfg.sketch.num_perm)),
            **({"anchors": cfg.passages.anchors} if cfg.passages.enabled else {}),
            **({"anchors_decided_on": str(layout)} if layout is not None else {}),
            "counts": {
                "documents": n,
                "documents_without_words": int(n - usable.sum()),
                "input_problems": dict(Counter(p.kind for p in problems)),
                "exact_pairs_linked": len(exact),
                "lsh_candidates": near.candidates,
                "near_pairs_verified": len(near.pairs),
                "near_candidates_decided_exactly": near.decided_exactly,
                "passage_candidates": len(cands.pairs),
                "frequent_shingles_ignored": cands.frequent_shingles,
                "bytes_spilled_to_disk": spill.spilled,
                "pair_candidates_to_align": len(to_align),
                **align_counts,
                "pairs": len(passages.pairs),
                "pairs_by_kind": dict(Counter(p.kind for p in passages.pairs)),
                "passages": sum(len(p.passages) for p in passages.pairs),
                "passages_boilerplate_removed": passages.boilerplate_removed,
                "passage_clusters": len(passages.clusters),
                "pairs_within_source": sum(p.same_source is True for p in passages.pairs),
                "pairs_across_sources": sum(p.same_source is False for p in passages.pairs),
                "clusters": len(clusters),
                "documents_in_clusters": sum(len(c.members) for c in clusters),
            },
            "timings": dict(timer.seconds, total=round(time.time() - started, 4)),
        }
        yield PipelineState(cfg, corpus, features, near, exact, comps, clusters, cands, to_align, passages,
                            problems, run)


def scan(inputs: Sequence[str | os.PathLike[str]], config: ScanConfig | None = None, *,
         progress: Progress | None = None) -> ScanResult:
    """Find exact and near-duplicate documents and reused passages in a corpus.

    ``inputs``: folders of ``.txt`` files, JSON Lines, CSV or Parquet files (compressed or
    not), or ``"-"`` for standard input. Returns a :class:`ScanResult`; ``outputs.write_results``
    writes it as a results folder.

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
    with run_pipeline(inputs, config, progress=progress, keep_shingles=False) as st:
        return ScanResult(st.corpus.records, st.passages.pairs, st.clusters, st.problems, st.run,
                          st.passages.occurrences, st.passages.clusters)


def _corpus_info(corpus: _Corpus, paired: list[int]) -> CorpusInfo:
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


def _clusters(comps: Components, corpus: _Corpus, features: Features) -> list[Cluster]:
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


def _pairs_to_align(comps: Components, candidates: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.int64]:
    """Each cluster member with its canonical member, plus candidate pairs across clusters
    (two members of one cluster are already represented through the canonical member)."""
    members = np.flatnonzero(comps.canonical != np.arange(n))
    within = np.stack([comps.canonical[members], members], axis=1)
    across = candidates[comps.label[candidates[:, 0]] != comps.label[candidates[:, 1]]]
    both = np.concatenate([np.sort(within, axis=1), across]).reshape(-1, 2)
    return np.unique(both, axis=0) if len(both) else both


# Alignment runs in forked worker processes when there is enough of it: its Python glue
# holds the GIL. Workers read texts from the text store's file; results come back in input
# order, so any number of workers gives the same pairs as one.
PARALLEL_MIN_PAIRS = 2000
ALIGN_CHUNK = 500  # pairs per chunk at most; chunks shrink toward the end (see _chunks)
ALIGN_MIN_CHUNK = 50
ALIGN_CACHE_CHARS = 20_000_000  # characters of prepared texts a worker keeps (~0.1 GB with their tokens)


class _Prepared:
    """The texts a worker aligned most recently, prepared (tokens, anchors), up to
    ``ALIGN_CACHE_CHARS`` characters: a document in many candidate pairs (a formula, a wire
    paragraph) is read and tokenized once, not once per pair. It lives as long as the worker
    (one per forked process), across its chunks of pairs."""

    def __init__(self, store: TextStore, ngram: int, counts: ShingleCounts | None, letters: bool) -> None:
        self.store, self.ngram, self.counts, self.letters = store, ngram, counts, letters
        self.texts: OrderedDict[int, AlignedText] = OrderedDict()
        self.chars = 0

    def get(self, i: int) -> AlignedText:
        if i in self.texts:
            self.texts.move_to_end(i)
            return self.texts[i]
        text = self.texts[i] = AlignedText.of(self.store.get(i), self.ngram, self.counts, letters=self.letters)
        self.chars += len(text.text)
        while self.chars > ALIGN_CACHE_CHARS and len(self.texts) > 1:
            self.chars -= len(self.texts.popitem(last=False)[1].text)
        return text


@dataclass(frozen=True)
class _AlignJob:
    """What the alignment workers share, set in the parent before they are forked: the
    settings, a shared buffer where each chunk of pairs writes the texts of its passages (in
    UTF-8, from ``regions[chunk]`` on: they go back to the parent as offsets, not as strings
    pickled through a pipe), and the texts, read from the store as they are needed."""

    config: PassageConfig
    texts: mmap.mmap
    regions: list[int]
    prepared: _Prepared


_align_job: _AlignJob | None = None


# What alignment gives back for a pair: its passages and, for passage clustering, the texts
# of their two sides and both documents' quotations (the workers hold the texts already).
# A text is ``(offset, length)`` in the shared buffer, or the string itself when its chunk's
# region ran out (passages that overlap on one side can hold more than the document).
PassageRow = tuple[int, int, int, int, int, float, float | None]  # Passage's fields: pickled far faster
Aligned = tuple[list[PassageRow], list[tuple[Piece, Piece]], list[tuple[int, int]], list[tuple[int, int]]]
NOTHING_ALIGNED: Aligned = ([], [], [], [])  # never changed: shared by every pair without passages


def _align_chunk(job: tuple[int, list[tuple[int, int]]]) -> list[Aligned]:
    assert _align_job is not None
    index, chunk = job
    cfg, buffer = _align_job.config, _align_job.texts
    at, room_end = _align_job.regions[index], _align_job.regions[index + 1]
    prepared = _align_job.prepared.get
    quotes: dict[int, list[tuple[int, int]]] = {}

    def put(text: str) -> Piece:
        nonlocal at
        data = text.encode("utf-8")  # no lone surrogates: the readers replace them
        if at + len(data) > room_end:
            return text
        buffer[at : at + len(data)] = data
        at += len(data)
        return (at - len(data), len(data))

    out: list[Aligned] = []
    for a, b in chunk:
        ta, tb = prepared(a), prepared(b)
        passages = align(ta, tb, cfg)
        if not passages:
            out.append(NOTHING_ALIGNED)
            continue
        for i, t in ((a, ta), (b, tb)):
            if i not in quotes:
                quotes[i] = quote_spans(t.text)
        texts = []
        for x in passages:
            side_a, side_b = ta.text[x.a_start : x.a_end], tb.text[x.b_start : x.b_end]
            piece = put(side_a)
            texts.append((piece, piece if side_b == side_a else put(side_b)))  # a verbatim copy: once
        rows = [(x.a_start, x.a_end, x.b_start, x.b_end, x.length, x.score, x.evidence) for x in passages]
        out.append((rows, texts, quotes[a], quotes[b]))
    return out


def _chunks(pairs: list[tuple[int, int]], workers: int) -> list[list[tuple[int, int]]]:
    """Chunks of pairs, big while much is left and smaller toward the end (a quarter of
    each worker's share of what remains), so that the workers finish together."""
    out = []
    k = 0
    while k < len(pairs):
        size = min(ALIGN_CHUNK, max(ALIGN_MIN_CHUNK, (len(pairs) - k) // (4 * workers)))
        out.append(pairs[k : k + size])
        k += size
    return out


def _align_all(ordered: list[tuple[int, int]], store: TextStore, cfg: PassageConfig, counts: ShingleCounts | None,
               workers: int, report: Progress, texts: mmap.mmap, room: npt.NDArray[np.int64]) -> Iterator[Aligned]:
    """What alignment found for each pair, in order, as the workers deliver it: the caller
    turns each into a pair while the workers go on. Passage texts go to ``texts``, each chunk
    of pairs writing them in a region of ``room`` bytes per pair."""
    global _align_job
    chunks = _chunks(ordered, workers)
    cuts = np.cumsum([0] + [len(chunk) for chunk in chunks])
    _align_job = _AlignJob(cfg, texts, np.concatenate([[0], np.cumsum(room)])[cuts].tolist(),
                           _Prepared(store, cfg.ngram, counts, cfg.anchors == "letters"))
    done = 0
    try:
        if workers > 1 and len(ordered) >= PARALLEL_MIN_PAIRS and "fork" in mp.get_all_start_methods():
            store.flush()
            with mp.get_context("fork").Pool(workers, initializer=_warmup.worker_signals) as pool:
                for result in pool.imap(_align_chunk, enumerate(chunks)):
                    yield from result
                    done += len(result)
                    report("align", done, len(ordered))
        else:
            for job in enumerate(chunks):
                yield from _align_chunk(job)
                done += len(job[1])
                report("align", done, len(ordered))
    finally:
        _align_job = None


def _align_pairs(to_align: npt.NDArray[np.int64], comps: Components, corpus: _Corpus,
                 features: Features, cfg: ScanConfig, counts: ShingleCounts | None, report: Progress
                 ) -> tuple[list[Pair], KnownTexts, dict[str, int]]:
    """The pairs to report (with their passages), the passage texts and quotations alignment
    found on the way, and counts for run.json (hubs, pairs derived through them, pairs aligned).

    Pairs between neighbours of one hub (``hubs``) are derived from their passages with the
    hub rather than aligned, when those overlap; every other pair is aligned."""
    n = len(corpus)
    known = KnownTexts({}, {})
    buffer: mmap.mmap | None = None
    plan = hubs.plan(np.empty((0, 2), np.int64), n)
    if cfg.passages.enabled and len(to_align):
        across = comps.label[to_align[:, 0]] != comps.label[to_align[:, 1]]
        rows = np.flatnonzero(across)
        sub = hubs.plan(to_align[rows], n)
        via = np.full(len(to_align), -1, dtype=np.int64)
        via[rows] = sub.via
        plan = hubs.HubPlan(sub.hubs, via)
    derivable = plan.derivable if len(plan.via) else np.zeros(len(to_align), dtype=bool)
    first = to_align[~derivable]
    hub_index = np.full(n, -1, dtype=np.int64)
    hub_index[plan.hubs] = np.arange(len(plan.hubs))
    spokes: list[tuple[int, int, int, int, int, int, float, float | None]] = []
    total = len(to_align)
    pairs, buffer = _aligned_pairs(first, comps, corpus, features, cfg, counts, report, known, hub_index, spokes,
                                   0, total, None)
    aligned = len(first)
    derived_count = 0
    if derivable.any():
        cand = to_align[derivable]
        cvia = plan.via[derivable]
        texts: OrderedDict[int, str] = OrderedDict()

        def text_of(i: int) -> str:
            if i not in texts:
                texts[i] = corpus.store.get(i)
                if len(texts) > 1000:
                    texts.popitem(last=False)
            return texts[i]

        got = hubs.derive(cand, cvia, hubs.Spokes.of(spokes), n, cfg.passages.min_length, text_of,
                          cfg.passages.min_evidence, cfg.passages.min_score)
        spokes.clear()
        made = _derived_pairs(cand, got, corpus, features, cfg)
        derived_count = len(made)
        pairs.extend(made)
        del made
        rest = np.ones(len(cand), dtype=bool)
        rest[got.pair] = False
        second = cand[rest]
        if len(second):
            more, _ = _aligned_pairs(second, comps, corpus, features, cfg, counts, report, known, hub_index, None,
                                     aligned + derived_count, total, buffer)
            pairs.extend(more)
        aligned += len(second)
    report("align", total, total)
    pairs.sort(key=scan_order)
    if buffer is not None:
        known = KnownTexts(known.spans, known.quotes, buffer)
    return pairs, known, {"hubs": len(plan.hubs), "pairs_derived_through_hubs": derived_count,
                          "pairs_aligned": aligned}


def _aligned_pairs(to_align: npt.NDArray[np.int64], comps: Components, corpus: _Corpus, features: Features,
                   cfg: ScanConfig, counts: ShingleCounts | None, report: Progress, known: KnownTexts,
                   hub_index: npt.NDArray[np.int64],
                   spokes: list[tuple[int, int, int, int, int, int, float, float | None]] | None,
                   done: int, total: int, earlier: mmap.mmap | None) -> tuple[list[Pair], mmap.mmap | None]:
    """Pairs aligned (unsorted), and the buffer their passage texts were written to. The texts
    go to ``known`` as pieces of that buffer or, when an ``earlier`` round's buffer is the one
    kept, as strings; quotations to ``known`` too. The passages of pairs with a hub
    (``hub_index[doc] >= 0``) go to ``spokes``, seen from the hub."""
    jac = _kernels.estimate_jaccard(features.signatures, to_align) if len(to_align) else np.empty(0)
    ordered = [_ordered(i, j, corpus) for i, j in to_align.tolist()]
    found: Iterator[Aligned] = (NOTHING_ALIGNED for _ in ordered)

    def progress(stage: str, k: int, _total: int | None) -> None:
        report(stage, done + k, total)

    buffer = None
    if cfg.passages.enabled and ordered:
        # Room for each pair's passage texts: as much as its two documents hold (a shared
        # mapping, written to by the forked workers; only what is written to is ever memory).
        sides = np.array(ordered, dtype=np.int64).reshape(-1, 2)
        room = corpus.store.sizes()[sides].sum(axis=1)
        buffer = mmap.mmap(-1, max(int(room.sum()), 1))
        found = _align_all(ordered, corpus.store, cfg.passages, counts, cfg.n_workers, progress, buffer, room)
        if earlier is not None:  # a second round: its texts are kept as strings
            own = buffer
            found = ((rows, [(_piece(own, x), _piece(own, y)) for x, y in pieces], qa, qb)
                     for rows, pieces, qa, qb in found)
    pairs: list[Pair] = []
    for k, ((a, b), (rows, pieces, quotes_a, quotes_b)) in enumerate(zip(ordered, found, strict=True)):
        passages = [Passage(*row[:6], evidence=row[6]) for row in rows]
        if spokes is not None and passages and (hub_index[a] >= 0 or hub_index[b] >= 0):
            hub, other, hub_first = (a, b, True) if hub_index[a] >= 0 else (b, a, False)
            for r in rows:
                hs, he, xs, xe = (r[0], r[1], r[2], r[3]) if hub_first else (r[2], r[3], r[0], r[1])
                spokes.append((int(hub_index[hub]), other, hs, he, xs, xe, r[5], r[6]))
        if comps.label[a] == comps.label[b]:
            kind = "exact" if (features.content[a] == features.content[b]).all() else "near"
        elif passages:
            kind = "partial"
        else:
            continue
        exact_j = None
        if cfg.near.exact_jaccard:
            # Shingles are kept in text order with repeats; Jaccard is over the distinct ones.
            sa, sb = np.unique(features.shingle_set(a)), np.unique(features.shingle_set(b))
            exact_j = round(float(_kernels.exact_jaccard(sa, sb)), 4)
        id_a, id_b = corpus.records[a].id, corpus.records[b].id
        pairs.append(Pair(id_a, id_b, kind, round(float(jac[k]), 4), passages, exact_j))
        if passages:
            known.quotes[id_a], known.quotes[id_b] = quotes_a, quotes_b
            for x, (text_a, text_b) in zip(passages, pieces, strict=True):
                known.spans[id_a, x.a_start, x.a_end] = text_a
                known.spans[id_b, x.b_start, x.b_end] = text_b
    return pairs, buffer if earlier is None else earlier


def _piece(buffer: mmap.mmap, piece: Piece) -> Piece:
    """A text of a second alignment round's buffer as a string."""
    if isinstance(piece, str):
        return piece
    return buffer[piece[0] : piece[0] + piece[1]].decode("utf-8")


def _derived_pairs(cand: npt.NDArray[np.int64], got: hubs.Derived, corpus: _Corpus, features: Features,
                   cfg: ScanConfig) -> list[Pair]:
    """Pairs of the passages derived through hubs (``hubs.derive``): ``a`` the earlier by date,
    else the smaller id (``_ordered``), passages in order of ``a``'s offsets; all ``partial``
    (pairs within a near-duplicate cluster are always aligned)."""
    if len(got.pair) == 0:
        return []
    order = np.lexsort((got.x_start, got.pair))
    k = got.pair[order]
    xs, xe, ys, ye = got.x_start[order], got.x_end[order], got.y_start[order], got.y_end[order]
    score, ev = np.round(got.score[order], 4), np.round(got.evidence[order], 1)
    heads = np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]]))
    bounds = np.append(heads, len(k)).tolist()
    which = k[heads]
    jac = _kernels.estimate_jaccard(features.signatures, cand[which])
    length = np.maximum(xe - xs, ye - ys)
    cols = [c.tolist() for c in (xs, xe, ys, ye, length, score)]
    evs = [None if v != v else v for v in ev.tolist()]
    records = corpus.records
    out: list[Pair] = []
    for g, (x, y) in enumerate(cand[which].tolist()):
        a, _ = _ordered(x, y, corpus)
        lo, hi = bounds[g], bounds[g + 1]
        if a == x:
            passages = [Passage(cols[0][t], cols[1][t], cols[2][t], cols[3][t], cols[4][t], cols[5][t],
                                evidence=evs[t]) for t in range(lo, hi)]
        else:
            passages = sorted((Passage(cols[2][t], cols[3][t], cols[0][t], cols[1][t], cols[4][t], cols[5][t],
                                       evidence=evs[t]) for t in range(lo, hi)),
                              key=lambda p: (p.a_start, p.b_start))
        b = y if a == x else x
        exact_j = None
        if cfg.near.exact_jaccard:
            sa, sb = np.unique(features.shingle_set(a)), np.unique(features.shingle_set(b))
            exact_j = round(float(_kernels.exact_jaccard(sa, sb)), 4)
        out.append(Pair(records[a].id, records[b].id, "partial", round(float(jac[g]), 4), passages, exact_j))
    return out


@dataclass
class DedupResult:
    """What ``dedup`` kept and removed: ``removed`` maps each removed id to the kept id."""

    kept: int
    removed: dict[str, str]
    scan: ScanResult


def dedup(input: str | os.PathLike[str], output: str | os.PathLike[str], config: ScanConfig | None = None,
          *, removed_path: str | os.PathLike[str] | None = None, force: bool = False,
          progress: Progress | None = None) -> DedupResult:
    """Write ``input`` without its near duplicates: one document per near-duplicate cluster,
    chosen by ``config.keep``, in the input's own format with all its columns and row order.

    The map of removed ids (``{"removed", "kept", "kind", "jaccard"}`` per line, JSON Lines) goes
    to ``removed_path``, by default ``OUTPUT.removed.jsonl``.
    """
    cfg = config or ScanConfig()
    cfg = replace(cfg, passages=replace(cfg.passages, enabled=False))
    removed_path = removed_path or f"{os.fspath(output)}.removed.jsonl"
    input_is_dir = input != "-" and Path(input).is_dir()
    check_destination(output, force, [input], is_dir=input_is_dir, holds="texts")
    check_destination(removed_path, force, [input], is_dir=False)
    result = scan([input], cfg, progress=progress)
    canonical_of = {m: c.canonical for c in result.clusters for m in c.members}
    by_member = {}  # each removed member's pair with its canonical member
    for p in result.pairs:
        if canonical_of.get(p.a) == p.b:
            by_member[p.a] = p
        elif canonical_of.get(p.b) == p.a:
            by_member[p.b] = p
    removed: dict[str, str] = {}
    rows = []
    for c in result.clusters:
        for m in c.members:
            if m != c.canonical:
                removed[m] = c.canonical
                pair = by_member.get(m)
                rows.append({"removed": m, "kept": c.canonical, "kind": pair.kind if pair else c.kind,
                             "jaccard": pair.jaccard if pair else None})
    keep = {d.id for d in result.documents} - removed.keys()
    with atomic_path(removed_path, force, is_dir=False, inputs=[input]) as tmp_map, \
            atomic_path(output, force, is_dir=input_is_dir, inputs=[input], holds="texts") as tmp_out:
        write_jsonl(tmp_map, rows)
        kept = readers.copy_filtered(input, tmp_out, keep, cfg.read, threads=cfg.n_workers)
    return DedupResult(kept, removed, result)
