"""Clusters: near-duplicate documents (connected components of exact and verified near pairs,
each with a canonical member chosen by a rule: ``earliest``, ``longest`` or ``first``), and
reused passages across the corpus (every occurrence of the same text, with its likely origin,
its boilerplate score and whether it is a shared quotation)."""

from __future__ import annotations

import dataclasses
import itertools
import mmap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from . import _kernels
from .config import KeepRule, PassageConfig
from .model import Occurrence, Pair, Passage, PassageCluster, TableRows
from .quotes import quote_spans


@dataclass(frozen=True)
class Components:
    """``label[i]``: the component of document ``i`` (its smallest member); ``canonical[i]``:
    the canonical member of that component (``i`` itself for a singleton)."""

    label: npt.NDArray[np.int64]
    canonical: npt.NDArray[np.int64]

    def groups(self) -> list[npt.NDArray[np.int64]]:
        """Members of each component of two or more documents, in input order."""
        labels, counts = np.unique(self.label, return_counts=True)
        members = np.flatnonzero(np.isin(self.label, labels[counts > 1]))  # input order
        order = members[np.argsort(self.label[members], kind="stable")]
        cuts = np.flatnonzero(np.diff(self.label[order])) + 1
        return np.split(order, cuts) if len(order) else []


def keep_order(rule: KeepRule, dates: Sequence[str | None], lengths: Sequence[int]) -> npt.NDArray[np.int64]:
    """Each document's rank under a keep rule: the canonical member of a cluster has the
    lowest. ``earliest``: the earliest date, documents without one last, then input order;
    ``longest``: the longest text, then input order; ``first``: input order.
    """
    n = len(lengths)
    if rule == "first":
        return np.arange(n, dtype=np.int64)
    if rule == "longest":
        order = np.lexsort((np.arange(n), -np.asarray(lengths, dtype=np.int64)))
    else:
        # Arrow's sort is stable: equal dates keep input order, documents without one go last.
        order = pc.array_sort_indices(pa.array(dates, pa.string()), null_placement="at_end").to_numpy()
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n, dtype=np.int64)
    return rank


def components(n: int, edges: npt.NDArray[np.int64], rank: npt.NDArray[np.int64]) -> Components:
    """Connected components of ``n`` documents joined by ``edges``, and their canonical members
    (the lowest ``rank`` of each component)."""
    label = _kernels.connected_components(n, edges.reshape(-1, 2).astype(np.int64))
    order = np.lexsort((rank, label))  # by component, then by rank
    first = _heads(label[order])
    canonical_of = np.empty(n, dtype=np.int64)
    canonical_of[label[order[first]]] = order[first]
    return Components(label, canonical_of[label])


# ---------------------------------------------------------------- passages across the corpus

@dataclass(frozen=True)
class CorpusInfo:
    """What passage clustering needs to know of the documents, by id."""

    sources: dict[str, str | None]
    dates: dict[str, str | None]  # sortable (see model.sort_key_date), None when missing
    raw_dates: dict[str, str | None]
    docs_per_source: dict[str | None, int]
    n_documents: int
    lengths: dict[str, int]  # characters, for each pair's coverage


@dataclass(frozen=True)
class PassageReport:
    """Pairs with their passages annotated (and boilerplate filtered), every occurrence, the
    passage clusters, and how many passages the boilerplate filter removed."""

    pairs: list[Pair]
    occurrences: Sequence[Occurrence]  # TableRows: columns, made objects on request
    clusters: Sequence[PassageCluster]
    boilerplate_removed: int


Piece = tuple[int, int] | str
"""A text: ``(offset, length)`` of its UTF-8 bytes in a buffer, or the string itself."""


@dataclass(frozen=True)
class KnownTexts:
    """What alignment already cut out of the texts, so that passage clustering need not read
    them again: the text of passage spans ``(document, start, end)``, most of them as UTF-8
    bytes in ``buffer``, and each document's quotation spans (``quotes.quote_spans``)."""

    spans: dict[tuple[str, int, int], Piece]
    quotes: dict[str, list[tuple[int, int]]]
    buffer: bytes | mmap.mmap = b""


_POSITION_BITS = 40  # an offset made corpus-wide: (document << 40) + offset
_OCCURRENCE_COLUMNS = [f.name for f in dataclasses.fields(Occurrence)]
_CLUSTER_COLUMNS = [f.name for f in dataclasses.fields(PassageCluster)]


def _heads(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Where each run of equal ``keys`` starts."""
    return np.concatenate([[True], keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, dtype=bool)


def _tails(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Where each run of equal ``keys`` ends."""
    return np.concatenate([keys[1:] != keys[:-1], [True]]) if len(keys) else np.zeros(0, dtype=bool)


def _codes(values: list[str | None]) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Each value's rank among the distinct values (sorted), -1 for None or empty; and those values."""
    distinct = sorted({v for v in values if v})
    rank = {v: k for k, v in enumerate(distinct)}
    return np.array([rank[v] if v else -1 for v in values], dtype=np.int64), distinct


def _named(codes: npt.NDArray[np.int64], values: list[str]) -> pa.Array:
    """``values[code]`` for each code as an Arrow column, null where the code is -1."""
    return pa.array([*values, None], pa.string()).take(np.where(codes < 0, len(values), codes))


class _Texts:
    """Texts as pieces of a buffer (``(offset, length)``) or strings, made an Arrow column by
    one compiled copy: the passage texts alignment wrote never become Python strings here."""

    def __init__(self, pieces: list[Piece], buffer: bytes | mmap.mmap) -> None:
        strings = [p.encode("utf-8") if isinstance(p, str) else b"" for p in pieces]
        self.extra = np.frombuffer(b"".join(strings), dtype=np.uint8)
        self.which = np.array([isinstance(p, str) for p in pieces], dtype=np.int64)
        lengths = np.array([len(b) for b in strings], dtype=np.int64)
        extra_at = np.cumsum(lengths) - lengths
        self.start = np.array([0 if isinstance(p, str) else p[0] for p in pieces], dtype=np.int64)
        self.length = np.array([0 if isinstance(p, str) else p[1] for p in pieces], dtype=np.int64)
        self.start[self.which == 1] = extra_at[self.which == 1]
        self.length[self.which == 1] = lengths[self.which == 1]
        self.buffer = np.frombuffer(buffer, dtype=np.uint8) if len(buffer) else np.zeros(0, dtype=np.uint8)

    def column(self, take: npt.NDArray[np.int64] | None = None) -> pa.LargeStringArray:
        """The texts (or those at ``take``) as an Arrow column."""
        pick = slice(None) if take is None else take
        offsets, data = _kernels.gather_bytes(self.buffer, self.extra, self.which[pick], self.start[pick],
                                              self.length[pick])
        return pa.LargeStringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data))


def _cluster_numbers(doc: npt.NDArray[np.int64], start: npt.NDArray[np.int64], end: npt.NDArray[np.int64],
                     label: npt.NDArray[np.int64], n_docs: int) -> npt.NDArray[np.int64]:
    """Each occurrence's cluster id, from its component ``label``. Stable ids: the clusters of
    most documents first, then by their first occurrence (document, start, end)."""
    _, component = np.unique(label, return_inverse=True)
    documents = np.bincount(np.unique(component * n_docs + doc) // n_docs)
    by_component = np.lexsort((end, start, doc, component))
    first = by_component[_heads(component[by_component])]
    order = np.lexsort((end[first], start[first], doc[first], -documents))
    number = np.empty(len(order), dtype=np.int64)
    number[order] = np.arange(len(order))
    return number[component]


def _merged(cluster: npt.NDArray[np.int64], doc: npt.NDArray[np.int64], start: npt.NDArray[np.int64],
            end: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], ...]:
    """A cluster's overlapping occurrences in one document merged into one span, distinct
    places kept apart: ``(cluster, doc, start, end)`` of each span, sorted so."""
    order = np.lexsort((end, start, doc, cluster))
    c, d, s, e = cluster[order], doc[order], start[order], end[order]
    # A span begins at a start past every end before it in its (cluster, document): one
    # running maximum over the whole table, each group lifted above the groups before it.
    group = np.cumsum(_heads(c) | _heads(d)) << _POSITION_BITS
    reach = np.maximum.accumulate(group + e)
    at = np.flatnonzero(np.concatenate([[True], group[1:] + s[1:] >= reach[:-1]])) if len(c) else np.arange(0)
    return c[at], d[at], s[at], np.maximum.reduceat(e, at) if len(at) else e[at]


@dataclass(frozen=True)
class _Quotations:
    """Every document's quotation spans (sorted, disjoint) in one table, positions made
    corpus-wide (``document << 40`` + offset) so that one sorted array serves every document."""

    begins: npt.NDArray[np.int64]
    length: npt.NDArray[np.int64]
    before: npt.NDArray[np.int64]  # quoted characters in the quotations before each

    @classmethod
    def of(cls, quotes: list[list[tuple[int, int]]]) -> _Quotations:
        flat = np.fromiter(itertools.chain.from_iterable(itertools.chain.from_iterable(quotes)), dtype=np.int64)
        owner = np.repeat(np.arange(len(quotes), dtype=np.int64), [len(qs) for qs in quotes])
        length = flat[1::2] - flat[0::2]
        return cls((owner << _POSITION_BITS) + flat[0::2], length, np.cumsum(length) - length)

    def quoted_before(self, x: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Quoted characters before each corpus-wide position ``x`` (whole quotations of
        earlier documents included: they cancel out between two positions of one document)."""
        if not len(self.begins):
            return np.zeros_like(x)
        k = np.searchsorted(self.begins, x, side="right") - 1  # the last quotation that begins at or before x
        last = np.maximum(k, 0)
        return np.where(k >= 0, self.before[last] + np.minimum(x - self.begins[last], self.length[last]), 0)

    def quoted(self, doc: npt.NDArray[np.int64], start: npt.NDArray[np.int64], end: npt.NDArray[np.int64],
               min_length: int) -> list[bool]:
        """Whether each span ``[start, end)`` of document ``doc`` is a quotation."""
        base = doc << _POSITION_BITS
        inside = self.quoted_before(base + end) - self.quoted_before(base + start)
        # A shared quote usually comes with its attribution ("..., the minister said"): it is
        # still a quote as long as what lies outside the marks is too short to be reuse itself.
        quoted: list[bool] = ((2 * inside >= end - start) & (end - start - inside < min_length)).tolist()
        return quoted


def _reuse_length(config: PassageConfig) -> int:
    """The fewest characters outside a quotation's marks that are reuse of their own: those
    that would pass the passage gate without help from rare words."""
    return int(max(config.min_length, config.min_evidence))


def _boilerplate_scores(of: npt.NDArray[np.int64], source: npt.NDArray[np.int64], carried: npt.NDArray[np.int64],
                        documents: npt.NDArray[np.int64], source_size: npt.NDArray[np.int64], n_documents: int,
                        min_docs: int) -> list[float]:
    """How much each passage cluster recurs as a template rather than as reuse, from 0 to 1.

    ``carried[k]`` documents of ``source[k]`` (which holds ``source_size[source[k]]``) carry
    cluster ``of[k]``, which has ``documents[of[k]]`` documents in all. Only documents with a
    known source count. The score is the largest share of one source's documents that carry
    the cluster (when at least ``min_docs`` of them do, and that source holds at least half of
    its documents: a template is one source's), or its share of the whole corpus when it also
    recurs within sources (two or more documents per source on average). A wire paragraph
    printed once by each of many outlets scores low; a footer on every article of one outlet
    scores 1.
    """
    n_clusters = len(documents)
    score = np.zeros(n_clusters)
    one_source = (carried >= min_docs) & (2 * carried >= documents[of])
    np.maximum.at(score, of[one_source], (carried / np.maximum(source_size[source], carried))[one_source])
    sourced = np.bincount(of, weights=carried, minlength=n_clusters)
    recurs = (sourced >= min_docs) & (sourced >= 2 * np.bincount(of, minlength=n_clusters))
    score = np.where(recurs, np.maximum(score, sourced / max(n_documents, 1)), score)
    return [round(x, 4) for x in score.tolist()]  # Python's rounding, as everywhere else


def _dates(of: npt.NDArray[np.int64], member: npt.NDArray[np.int64], date: npt.NDArray[np.int64],
           n_clusters: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per cluster, from its distinct documents (``member`` of cluster ``of``) and their date
    codes: the first and last date (-1 when none is dated), and the likely origin, the one
    document of the earliest date (-1 on a tie or without dates)."""
    dated = np.flatnonzero(date[member] >= 0)
    order = dated[np.lexsort((date[member[dated]], of[dated]))]
    c, d = of[order], date[member[order]]
    head, tail = _heads(c), _tails(c)
    alone = head & ~np.concatenate([(c[1:] == c[:-1]) & (d[1:] == d[:-1]), [False]]) if len(c) else head
    first, last, origin = (np.full(n_clusters, -1, dtype=np.int64) for _ in range(3))
    first[c[head]], last[c[tail]], origin[c[alone]] = d[head], d[tail], member[order[alone]]
    return first, last, origin


def passage_clusters(pairs: list[Pair], info: CorpusInfo, text_of: Callable[[str], str],
                     config: PassageConfig, known: KnownTexts | None = None) -> PassageReport:
    """Group every passage occurrence of every pair into passage clusters across the corpus.

    The two sides of a passage are one cluster; occurrences in one document join when they
    overlap by ``config.cluster_overlap`` of the shorter one, so A sharing P1 with B and P2
    with C does not glue P1 and P2 together unless they overlap in A. Each cluster gets its
    size, distinct sources, time span, likely origin (its one document of the earliest date)
    and boilerplate score; each pair gets its direction and whether it stays within one
    source. Texts come from ``known`` where it has them, else from ``text_of`` (each document
    read at most once). Occurrences are columns (document, start, end) and each step an
    array operation; Python makes only the objects reported.
    """
    # Documents are numbered in id order: comparing numbers compares ids.
    names = sorted({d for p in pairs for d in (p.a, p.b)})
    n_names = max(len(names), 1)
    number = {name: k for k, name in enumerate(names)}
    ends = np.array([(number[p.a], number[p.b]) for p in pairs], dtype=np.int64).reshape(-1, 2)
    sides = np.array([(number[p.a], x.a_start, x.a_end, number[p.b], x.b_start, x.b_end)
                      for p in pairs for x in p.passages], dtype=np.int64).reshape(-1, 3)
    doc, start, end = (np.ascontiguousarray(sides[:, k]) for k in range(3))  # 2i, 2i + 1: passage i's sides
    label = _kernels.passage_components(doc, start, end, np.lexsort((start, doc)), config.cluster_overlap)
    cluster = _cluster_numbers(doc, start, end, label, n_names)
    n_clusters = int(cluster.max()) + 1 if len(cluster) else 0
    span_cluster, span_doc, span_start, span_end = _merged(cluster, doc, start, end)

    # Per cluster, from its distinct documents: how many, their sources and dates.
    distinct = np.unique(span_cluster * n_names + span_doc)
    of, member = distinct // n_names, distinct % n_names
    documents = np.bincount(of, minlength=n_clusters)
    sources = [info.sources.get(name) for name in names]
    source, source_names = _codes(sources)
    n_codes = max(len(source_names), 1)
    sourced = source[member] >= 0
    keys, carried = np.unique(of[sourced] * n_codes + source[member[sourced]], return_counts=True)
    n_sources = np.bincount(keys // n_codes, minlength=n_clusters)
    source_size = np.array([info.docs_per_source.get(s, 0) for s in source_names], dtype=np.int64)
    scores = _boilerplate_scores(keys // n_codes, keys % n_codes, carried, documents, source_size,
                                 info.n_documents, config.boilerplate_min_docs)
    date, date_text = _codes([info.dates.get(name) for name in names])
    first_date, last_date, origin = _dates(of, member, date, n_clusters)
    dropped = [not config.keep_boilerplate and s >= config.boilerplate_share for s in scores]

    # Texts and quotations: those alignment cut out, else read (each document at most once).
    read: dict[int, str] = {}

    def text(k: int) -> str:
        if k not in read:
            read[k] = text_of(names[k])
        return read[k]

    occurring = np.zeros(len(names), dtype=bool)
    occurring[doc] = True
    quotations = _Quotations.of([[] if not occurring[k] else q if known and (q := known.quotes.get(name)) is not None
                                 else quote_spans(text(k)) for k, name in enumerate(names)])
    span_quoted = quotations.quoted(span_doc, span_start, span_end, _reuse_length(config))
    # The occurrences reported (the merged spans of the clusters kept) and the clusters, as
    # columns: a scan's writers take them as they are, and objects are made only on request.
    kept = np.flatnonzero(~np.array(dropped, dtype=bool)[span_cluster]) if n_clusters else np.arange(0)
    of_kept, doc_kept = span_cluster[kept], span_doc[kept]
    pieces = []
    for d, s, e in zip(doc_kept.tolist(), span_start[kept].tolist(), span_end[kept].tolist(), strict=True):
        piece = known.spans.get((names[d], s, e)) if known else None
        pieces.append(text(d)[s:e] if piece is None else piece)
    texts = _Texts(pieces, known.buffer if known else b"")
    text_column = texts.column()
    is_origin = doc_kept == origin[of_kept]
    by_name = pa.array(names, pa.string())
    occurrences = pa.table([
        of_kept, by_name.take(doc_kept), span_start[kept], span_end[kept], text_column,
        pa.array(sources, pa.string()).take(doc_kept),
        pa.array([info.raw_dates.get(name) for name in names], pa.string()).take(doc_kept),
        is_origin, np.array(span_quoted, dtype=bool)[kept], np.array(scores, dtype=np.float64)[of_kept],
    ], names=_OCCURRENCE_COLUMNS)
    # Each cluster kept, its text that of its origin's occurrence (else its first).
    ids, first = np.unique(of_kept, return_index=True)
    hits = np.flatnonzero(is_origin)
    rep = first.copy()
    hit_ids, hit_first = np.unique(of_kept[hits], return_index=True)
    rep[np.searchsorted(ids, hit_ids)] = hits[hit_first]
    clusters = pa.table([
        ids, np.diff(np.append(first, len(kept))), documents[ids], n_sources[ids], _named(first_date[ids], date_text),
        _named(last_date[ids], date_text), _named(origin[ids], names), np.array(scores, dtype=np.float64)[ids],
        texts.column(rep),
    ], names=_CLUSTER_COLUMNS)
    side_quoted = quotations.quoted(doc, start, end, _reuse_length(config))
    # Each pair's direction (dated earlier -> later; date codes sort as the dates do) and
    # whether it stays within one source (None when a source is unknown).
    da, db, sa, sb = date[ends[:, 0]], date[ends[:, 1]], source[ends[:, 0]], source[ends[:, 1]]
    forward = ((da >= 0) & (db >= 0) & (da < db)).tolist()
    same = [None if unknown else s for unknown, s in zip(((sa < 0) | (sb < 0)).tolist(), (sa == sb).tolist(),
                                                         strict=True)]
    annotated, removed = _annotated(pairs, forward, same, cluster.tolist(), side_quoted, scores, dropped,
                                    info.lengths)
    return PassageReport(annotated, TableRows(occurrences, Occurrence), TableRows(clusters, PassageCluster), removed)


def coverage(spans: list[tuple[int, int]], length: int) -> float:
    """The share of a document of ``length`` characters inside the union of ``spans``.

    >>> coverage([(0, 10), (5, 20), (30, 40)], 100)
    0.3
    """
    covered, reach = 0, 0
    for start, end in sorted(spans):
        start = max(start, reach)
        if end > start:
            covered += end - start
            reach = end
    return round(min(covered / length, 1.0), 4) if length > 0 else 0.0


def _annotated(pairs: list[Pair], forward: list[bool], same_source: list[bool | None], cluster: list[int],
               quoted: list[bool], scores: list[float], dropped: list[bool],
               lengths: dict[str, int]) -> tuple[list[Pair], int]:
    """The pairs with each passage's cluster, quotedness and boilerplate score, the passages
    of dropped (boilerplate) clusters left out, each pair's direction, whether it stays within
    one source and its coverage of each document (of the passages kept); and how many passages
    were left out. A partial pair left without passages goes."""
    out: list[Pair] = []
    removed = 0
    k = 0  # the passage's first side among the occurrences
    for p, ahead, same in zip(pairs, forward, same_source, strict=True):
        kept = []
        for x in p.passages:
            cid = cluster[k]
            both_quoted = quoted[k] and quoted[k + 1]
            k += 2
            if dropped[cid]:
                removed += 1
                continue
            # Built field by field: dataclasses.replace costs several times more, 30k times.
            kept.append(Passage(a_start=x.a_start, a_end=x.a_end, b_start=x.b_start, b_end=x.b_end,
                                length=x.length, score=x.score, cluster=cid, quoted=both_quoted,
                                boilerplate=scores[cid], evidence=x.evidence))
        if not kept and p.passages and p.kind == "partial":
            continue
        out.append(Pair(a=p.a, b=p.b, kind=p.kind, jaccard=p.jaccard, passages=kept, jaccard_exact=p.jaccard_exact,
                        direction="a->b" if ahead else "unknown", same_source=same,
                        coverage_a=coverage([(x.a_start, x.a_end) for x in kept], lengths.get(p.a, 0)),
                        coverage_b=coverage([(x.b_start, x.b_end) for x in kept], lengths.get(p.b, 0))))
    return out, removed
