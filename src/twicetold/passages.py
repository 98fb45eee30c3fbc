"""Alignment, the stage: candidate pairs in, pairs with their passages out.

Each candidate pair's two texts are aligned (``align.align``) in chunks of pairs run by the
executor (forked workers on this machine: alignment's Python glue holds the GIL); pairs of
two neighbours of a hub (a wire story, a formula: ``hubs``) are derived from their passages
with the hub instead, when those overlap. Workers read texts from the scan's text store and
write the texts of the passages they find to a shared buffer, which passage clustering reads.
Results come back in input order, so any number of workers gives the same pairs as one.
"""

from __future__ import annotations

import mmap
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from . import _kernels, hubs
from .align import AlignedText, align
from .candidates import ShingleCounts
from .cluster import Components, KnownTexts, Piece
from .config import PassageConfig, ScanConfig
from .corpus import Corpus
from .executor import Executor, Storage
from .model import Pair, Passage, Progress
from .pairs import ordered, pair_kind, scan_order
from .quotes import quote_spans
from .sketch import Features
from .store import TextStore


def pairs_to_align(comps: Components, candidates: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.int64]:
    """Each cluster member with its canonical member, plus candidate pairs across clusters
    (two members of one cluster are already represented through the canonical member)."""
    members = np.flatnonzero(comps.canonical != np.arange(n))
    within = np.stack([comps.canonical[members], members], axis=1)
    across = candidates[comps.label[candidates[:, 0]] != comps.label[candidates[:, 1]]]
    both = np.concatenate([np.sort(within, axis=1), across]).reshape(-1, 2)
    return np.unique(both, axis=0) if len(both) else both


PARALLEL_MIN_PAIRS = 2000  # fewer pairs are aligned where they are (starting workers costs more)
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
    """What the chunks of alignment work share (``Executor.map_chunks``): the settings, a
    shared buffer where each chunk of pairs writes the texts of its passages (in UTF-8, from
    ``regions[chunk]`` on: they go back to the parent as offsets, not as strings pickled
    through a pipe), and the texts, read from the store as they are needed."""

    config: PassageConfig
    texts: mmap.mmap
    regions: list[int]
    prepared: _Prepared


# What alignment gives back for a pair: its passages and, for passage clustering, the texts
# of their two sides and both documents' quotations (the workers hold the texts already).
# A text is ``(offset, length)`` in the shared buffer, or the string itself when its chunk's
# region ran out (passages that overlap on one side can hold more than the document).
PassageRow = tuple[int, int, int, int, int, float, float | None]  # Passage's fields: pickled far faster
Aligned = tuple[list[PassageRow], list[tuple[Piece, Piece]], list[tuple[int, int]], list[tuple[int, int]]]
NOTHING_ALIGNED: Aligned = ([], [], [], [])  # never changed: shared by every pair without passages


def _align_chunk(job: _AlignJob, numbered: tuple[int, list[tuple[int, int]]]) -> list[Aligned]:
    index, chunk = numbered
    cfg, buffer = job.config, job.texts
    at, room_end = job.regions[index], job.regions[index + 1]
    prepared = job.prepared.get
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


def _align_all(rows_ab: list[tuple[int, int]], run: _Run, texts: mmap.mmap, room: npt.NDArray[np.int64],
               report: Progress) -> Iterator[Aligned]:
    """What alignment found for each pair, in order, as the workers deliver it: the caller
    turns each into a pair while the workers go on. Passage texts go to ``texts``, each chunk
    of pairs writing them in a region of ``room`` bytes per pair."""
    cfg = run.config.passages
    chunks = _chunks(rows_ab, run.executor.workers)
    cuts = np.cumsum([0] + [len(chunk) for chunk in chunks])
    job = _AlignJob(cfg, texts, np.concatenate([[0], np.cumsum(room)])[cuts].tolist(),
                    _Prepared(run.storage.store, cfg.ngram, run.counts, cfg.anchors == "letters"))
    done = 0
    for result in run.executor.map_chunks(_align_chunk, job, list(enumerate(chunks)), run.storage,
                                          parallel=len(rows_ab) >= PARALLEL_MIN_PAIRS):
        yield from result
        done += len(result)
        report("align", done, len(rows_ab))


@dataclass(frozen=True)
class _Run:
    """What every round of the stage reads."""

    corpus: Corpus
    features: Features
    components: Components
    config: ScanConfig
    counts: ShingleCounts | None  # of the corpus's shingles, to weigh evidence
    executor: Executor
    storage: Storage


@dataclass(frozen=True)
class AlignedPairs:
    """What the stage gives back: the pairs to report (near-duplicate pairs with or without
    passages, partial pairs with them) in scan order, the passage texts and quotations found on
    the way (for passage clustering), and counts for run.json (``hubs``,
    ``pairs_derived_through_hubs``, ``pairs_aligned``)."""

    pairs: list[Pair]
    known: KnownTexts
    counts: dict[str, int]


def align_pairs(to_align: npt.NDArray[np.int64], corpus: Corpus, features: Features, comps: Components,
                cfg: ScanConfig, counts: ShingleCounts | None, executor: Executor, storage: Storage,
                report: Progress) -> AlignedPairs:
    """The pairs of ``to_align`` (rows of ``corpus``, from ``pairs_to_align``) with their passages.

    Pairs between neighbours of one hub (``hubs``) are derived from their passages with the
    hub rather than aligned, when those overlap; every other pair is aligned."""
    run = _Run(corpus, features, comps, cfg, counts, executor, storage)
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
    pairs, buffer = _align_round(first, run, report, known, hub_index, spokes, 0, total, None)
    aligned = len(first)
    derived_count = 0
    if derivable.any():
        cand = to_align[derivable]
        cvia = plan.via[derivable]
        texts: OrderedDict[int, str] = OrderedDict()

        def text_of(i: int) -> str:
            if i not in texts:
                texts[i] = storage.store.get(i)
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
            more, _ = _align_round(second, run, report, known, hub_index, None, aligned + derived_count, total,
                                   buffer)
            pairs.extend(more)
        aligned += len(second)
    report("align", total, total)
    pairs.sort(key=scan_order)
    if buffer is not None:
        known = KnownTexts(known.spans, known.quotes, buffer)
    return AlignedPairs(pairs, known, {"hubs": len(plan.hubs), "pairs_derived_through_hubs": derived_count,
                                       "pairs_aligned": aligned})


def _align_round(to_align: npt.NDArray[np.int64], run: _Run, report: Progress, known: KnownTexts,
                 hub_index: npt.NDArray[np.int64],
                 spokes: list[tuple[int, int, int, int, int, int, float, float | None]] | None,
                 done: int, total: int, earlier: mmap.mmap | None) -> tuple[list[Pair], mmap.mmap | None]:
    """Pairs aligned (unsorted), and the buffer their passage texts were written to. The texts
    go to ``known`` as pieces of that buffer or, when an ``earlier`` round's buffer is the one
    kept, as strings; quotations to ``known`` too. The passages of pairs with a hub
    (``hub_index[doc] >= 0``) go to ``spokes``, seen from the hub."""
    corpus, features, comps, cfg = run.corpus, run.features, run.components, run.config
    jac = _kernels.estimate_jaccard(features.signatures, to_align) if len(to_align) else np.empty(0)
    rows_ab = [ordered(i, j, corpus.records, corpus.order_dates) for i, j in to_align.tolist()]
    found: Iterator[Aligned] = (NOTHING_ALIGNED for _ in rows_ab)

    def progress(stage: str, k: int, _total: int | None) -> None:
        report(stage, done + k, total)

    buffer = None
    if cfg.passages.enabled and rows_ab:
        # Room for each pair's passage texts: as much as its two documents hold (a shared
        # mapping, written to by the forked workers; only what is written to is ever memory).
        sides = np.array(rows_ab, dtype=np.int64).reshape(-1, 2)
        room = run.storage.store.sizes()[sides].sum(axis=1)
        buffer = mmap.mmap(-1, max(int(room.sum()), 1))
        found = _align_all(rows_ab, run, buffer, room, progress)
        if earlier is not None:  # a second round: its texts are kept as strings
            own = buffer
            found = ((rows, [(_piece(own, x), _piece(own, y)) for x, y in pieces], qa, qb)
                     for rows, pieces, qa, qb in found)
    pairs: list[Pair] = []
    for k, ((a, b), (rows, pieces, quotes_a, quotes_b)) in enumerate(zip(rows_ab, found, strict=True)):
        passages = [Passage(*row[:6], evidence=row[6]) for row in rows]
        if spokes is not None and passages and (hub_index[a] >= 0 or hub_index[b] >= 0):
            hub, other, hub_first = (a, b, True) if hub_index[a] >= 0 else (b, a, False)
            for r in rows:
                hs, he, xs, xe = (r[0], r[1], r[2], r[3]) if hub_first else (r[2], r[3], r[0], r[1])
                spokes.append((int(hub_index[hub]), other, hs, he, xs, xe, r[5], r[6]))
        # One near-duplicate cluster: exact copies when their contents hash the same, else near.
        near = bool(comps.label[a] == comps.label[b])
        kind = pair_kind(near and bool((features.content[a] == features.content[b]).all()), near, bool(passages))
        if kind is None:
            continue
        exact_j = _exact_jaccard(features, a, b) if cfg.near.exact_jaccard else None
        id_a, id_b = corpus.records[a].id, corpus.records[b].id
        pairs.append(Pair(id_a, id_b, kind, round(float(jac[k]), 4), passages, exact_j))
        if passages:
            known.quotes[id_a], known.quotes[id_b] = quotes_a, quotes_b
            for x, (text_a, text_b) in zip(passages, pieces, strict=True):
                known.spans[id_a, x.a_start, x.a_end] = text_a
                known.spans[id_b, x.b_start, x.b_end] = text_b
    return pairs, buffer if earlier is None else earlier


def _exact_jaccard(features: Features, a: int, b: int) -> float:
    """The Jaccard of two documents' shingles (kept in text order with repeats: Jaccard is over
    the distinct ones), for ``--exact-jaccard``."""
    sa, sb = np.unique(features.shingle_set(a)), np.unique(features.shingle_set(b))
    return round(float(_kernels.exact_jaccard(sa, sb)), 4)


def _piece(buffer: mmap.mmap, piece: Piece) -> Piece:
    """A text of a second alignment round's buffer as a string."""
    if isinstance(piece, str):
        return piece
    return buffer[piece[0] : piece[0] + piece[1]].decode("utf-8")


def _derived_pairs(cand: npt.NDArray[np.int64], got: hubs.Derived, corpus: Corpus, features: Features,
                   cfg: ScanConfig) -> list[Pair]:
    """Pairs of the passages derived through hubs (``hubs.derive``): ``a`` the earlier by date,
    else the smaller id (``pairs.ordered``), passages in order of ``a``'s offsets; all ``partial``
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
        a, _ = ordered(x, y, records, corpus.order_dates)
        lo, hi = bounds[g], bounds[g + 1]
        if a == x:
            passages = [Passage(cols[0][t], cols[1][t], cols[2][t], cols[3][t], cols[4][t], cols[5][t],
                                evidence=evs[t]) for t in range(lo, hi)]
        else:
            passages = sorted((Passage(cols[2][t], cols[3][t], cols[0][t], cols[1][t], cols[4][t], cols[5][t],
                                       evidence=evs[t]) for t in range(lo, hi)),
                              key=lambda p: (p.a_start, p.b_start))
        b = y if a == x else x
        exact_j = _exact_jaccard(features, a, b) if cfg.near.exact_jaccard else None
        out.append(Pair(records[a].id, records[b].id, "partial", round(float(jac[g]), 4), passages, exact_j))
    return out
