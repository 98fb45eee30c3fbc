"""Clusters: near-duplicate documents (connected components of exact and verified near pairs,
each with a canonical member chosen by a rule: ``earliest``, ``longest`` or ``first``), and
reused passages across the corpus (every occurrence of the same text, with its likely origin,
its boilerplate score and whether it is a shared quotation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from . import _kernels
from .config import KeepRule, PassageConfig
from .model import Occurrence, Pair, Passage, PassageCluster
from .quotes import quote_spans, quoted_length


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
    first = np.concatenate([[True], np.diff(label[order]) != 0]) if n else np.empty(0, dtype=bool)
    canonical_of = np.empty(n, dtype=np.int64)
    canonical_of[label[order[first]]] = order[first]
    return Components(label, canonical_of[label])


# ---------------------------------------------------------------- passages across the corpus

@dataclass(frozen=True)
class CorpusInfo:
    """What passage clustering needs to know of the documents, by id."""

    sources: dict[str, str | None]
    dates: dict[str, str | None]  # sortable (see pipeline.sort_key_date), None when missing
    raw_dates: dict[str, str | None]
    docs_per_source: dict[str | None, int]
    n_documents: int


@dataclass(frozen=True)
class PassageReport:
    """Pairs with their passages annotated (and boilerplate filtered), every occurrence, the
    passage clusters, and how many passages the boilerplate filter removed."""

    pairs: list[Pair]
    occurrences: list[Occurrence]
    clusters: list[PassageCluster]
    boilerplate_removed: int


def _overlap_edges(occ: list[tuple[str, int, int]], share: float) -> list[tuple[int, int]]:
    """Occurrences in one document that overlap by ``share`` of the shorter one."""
    by_doc: dict[str, list[int]] = {}
    for i, (doc, _, _) in enumerate(occ):
        by_doc.setdefault(doc, []).append(i)
    edges = []
    for members in by_doc.values():
        members.sort(key=lambda i: occ[i][1])
        active: list[int] = []
        for i in members:
            _, s, e = occ[i]
            active = [j for j in active if occ[j][2] > s]
            for j in active:
                inter = min(e, occ[j][2]) - s
                if inter >= share * min(e - s, occ[j][2] - occ[j][1]):
                    edges.append((j, i))
            active.append(i)
    return edges


def boilerplate(docs: set[str], info: CorpusInfo, min_docs: int) -> float:
    """How much a passage recurs as a template rather than as reuse, from 0 to 1.

    Only documents with a known source count. The largest share of one source's documents
    that carry it (when at least ``min_docs`` of them do, and that source holds at least half
    of its documents: a template is one source's), or its share of the whole corpus when it
    also recurs within sources (two or more documents per source on average). A wire
    paragraph printed once by each of many
    outlets scores low; a footer on every article of one outlet scores 1.
    """
    per_source: dict[str, int] = {}
    for d in docs:
        src = info.sources.get(d)
        if src is not None:  # without a source, a template cannot be told from reuse
            per_source[src] = per_source.get(src, 0) + 1
    sourced = sum(per_source.values())
    score = 0.0
    for src, n in per_source.items():
        if n >= min_docs and 2 * n >= len(docs):
            score = max(score, n / max(info.docs_per_source.get(src, n), n))
    if sourced >= min_docs and sourced >= 2 * len(per_source):
        score = max(score, sourced / max(info.n_documents, 1))
    return round(score, 4)


@dataclass(frozen=True)
class KnownTexts:
    """What alignment already cut out of the texts, so that passage clustering need not read
    them again: the text of passage spans ``(document, start, end)`` and each document's
    quotation spans (``quotes.quote_spans``)."""

    spans: dict[tuple[str, int, int], str]
    quotes: dict[str, list[tuple[int, int]]]


def _is_quote(quotes: list[tuple[int, int]], s: int, e: int, min_length: int) -> bool:
    # A shared quote usually comes with its attribution ("..., the minister said"): it is
    # still a quote as long as what lies outside the marks is too short to be reuse itself.
    inside = quoted_length(quotes, s, e)
    return 2 * inside >= e - s and (e - s) - inside < min_length


def _spans_by_document(wanted: dict[str, dict[tuple[int, int], bool]], text_of: Callable[[str], str],
                       min_length: int, known: KnownTexts | None
                       ) -> dict[tuple[str, int, int], tuple[str | None, bool]]:
    """Every wanted span of every document: its text (when wanted) and whether it is a quote.
    A document's text is read at most once, and only when ``known`` lacks something."""
    found: dict[tuple[str, int, int], tuple[str | None, bool]] = {}
    for doc, spans in wanted.items():
        text = None
        quotes = known.quotes.get(doc) if known else None
        for (s, e), want_text in spans.items():
            piece = known.spans.get((doc, s, e)) if known and want_text else None
            if quotes is None or (want_text and piece is None):
                text = text if text is not None else text_of(doc)
                quotes = quotes if quotes is not None else quote_spans(text)
            if want_text and piece is None:
                assert text is not None
                piece = text[s:e]
            found[doc, s, e] = (piece, _is_quote(quotes, s, e, min_length))
    return found


def passage_clusters(pairs: list[Pair], info: CorpusInfo, text_of: Callable[[str], str],
                     config: PassageConfig, known: KnownTexts | None = None) -> PassageReport:
    """Group every passage occurrence of every pair into passage clusters across the corpus.

    The two sides of a passage are one cluster; occurrences in one document join when they
    overlap by ``config.cluster_overlap`` of the shorter one, so A sharing P1 with B and P2
    with C does not glue P1 and P2 together unless they overlap in A. Each cluster gets its
    size, distinct sources, time span, likely origin and boilerplate score; each pair gets
    its direction and whether it stays within one source. Texts come from ``known`` where
    it has them, else from ``text_of`` (each document read at most once).
    """
    occ: list[tuple[str, int, int]] = []
    for p in pairs:
        for x in p.passages:
            occ += [(p.a, x.a_start, x.a_end), (p.b, x.b_start, x.b_end)]
    n = len(occ)
    edges = [(2 * i, 2 * i + 1) for i in range(n // 2)] + _overlap_edges(occ, config.cluster_overlap)
    edge_array = np.array(edges, dtype=np.int64).reshape(-1, 2)
    label = _kernels.connected_components(n, edge_array) if n else np.empty(0, np.int64)
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(label.tolist()):
        groups.setdefault(lab, []).append(i)
    # Stable ids: biggest clusters first, then by where they first occur.
    ordered = sorted(groups.values(), key=lambda g: (-len({occ[i][0] for i in g}), min(occ[i] for i in g)))
    cluster_of = np.empty(n, dtype=np.int64)
    # Each cluster's documents, merged spans and origin; then every span's text and quotedness.
    wanted: dict[str, dict[tuple[int, int], bool]] = {}
    shapes = []
    for cid, members in enumerate(ordered):
        cluster_of[members] = cid
        docs = {occ[i][0] for i in members}
        spans = _merged_spans([occ[i] for i in members])
        dated = sorted((date, d) for d, _, _ in spans if (date := info.dates.get(d)))
        origin = dated[0][1] if dated and (len(dated) == 1 or dated[0][0] < dated[1][0]) else None
        for doc, s, e in spans:
            wanted.setdefault(doc, {})[(s, e)] = True
        shapes.append((docs, spans, origin))
    for doc, s, e in occ:
        wanted.setdefault(doc, {}).setdefault((s, e), False)
    found = _spans_by_document(wanted, text_of, config.min_length, known)

    def quoted(doc: str, s: int, e: int) -> bool:
        return found[doc, s, e][1]

    occurrences: list[Occurrence] = []
    clusters: list[PassageCluster] = []
    scores: list[float] = []
    for cid, (docs, spans, origin) in enumerate(shapes):
        score = boilerplate(docs, info, config.boilerplate_min_docs)
        scores.append(score)
        texts = [found[span][0] or "" for span in spans]
        for (doc, s, e), text in zip(spans, texts, strict=True):
            occurrences.append(Occurrence(cid, doc, s, e, text, info.sources.get(doc), info.raw_dates.get(doc),
                                          doc == origin, quoted(doc, s, e), score))
        rep = next((k for k, (d, _, _) in enumerate(spans) if d == origin), 0)
        when = sorted(date for d in docs if (date := info.dates.get(d)))
        n_sources = len({info.sources.get(d) for d in docs} - {None})
        clusters.append(PassageCluster(cid, len(spans), len(docs), n_sources, when[0] if when else None,
                                       when[-1] if when else None, origin, score, texts[rep]))
    out_pairs: list[Pair] = []
    removed = 0
    k = 0
    for p in pairs:
        kept = []
        for x in p.passages:
            cid = int(cluster_of[k])
            k += 2
            if scores[cid] >= config.boilerplate_share and not config.keep_boilerplate:
                removed += 1
                continue
            both_quoted = quoted(p.a, x.a_start, x.a_end) and quoted(p.b, x.b_start, x.b_end)
            # Built field by field: dataclasses.replace costs several times more, 30k times.
            kept.append(Passage(a_start=x.a_start, a_end=x.a_end, b_start=x.b_start, b_end=x.b_end,
                                length=x.length, score=x.score, cluster=cid, quoted=both_quoted,
                                boilerplate=scores[cid]))
        if not kept and p.passages and p.kind == "partial":
            continue
        da, db = info.dates.get(p.a), info.dates.get(p.b)
        direction = "a->b" if da and db and da < db else "unknown"
        sa, sb = info.sources.get(p.a), info.sources.get(p.b)
        out_pairs.append(Pair(a=p.a, b=p.b, kind=p.kind, jaccard=p.jaccard, passages=kept,
                              jaccard_exact=p.jaccard_exact, direction=direction,
                              same_source=None if sa is None or sb is None else sa == sb))
    if not config.keep_boilerplate:
        boiler = {c.id for c in clusters if c.boilerplate >= config.boilerplate_share}
        occurrences = [o for o in occurrences if o.cluster not in boiler]
        clusters = [c for c in clusters if c.id not in boiler]
    return PassageReport(out_pairs, occurrences, clusters, removed)


def _merged_spans(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Overlapping spans of one document merged into one; distinct places kept apart."""
    out: list[tuple[str, int, int]] = []
    for doc, s, e in sorted(spans):
        if out and out[-1][0] == doc and s < out[-1][2]:
            out[-1] = (doc, out[-1][1], max(out[-1][2], e))
        else:
            out.append((doc, s, e))
    return out
