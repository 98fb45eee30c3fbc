"""Hubs: candidate pairs among documents that all carry one text (a wire story printed by
hundreds of outlets, a formula) aligned in linear work, not quadratic.

A document in many candidate pairs (``HUB_MIN_DEGREE`` or more) is crowded. Hubs are picked
among crowded documents greedily, the most crowded first; a document already in a hub's star
(the hub and its candidate neighbours) is not made a hub again. The scan aligns each hub with
each of its neighbours (the spokes: ordinary pairs), then derives the pairs between two
neighbours ``x``, ``y`` of one hub from their passages with it (``derive``): where x's and y's
passages cover overlapping regions of the hub, at least ``min_length`` characters, the pair
gets a passage made of the parts of x's and y's spans that correspond to that region. Pairs of
neighbours whose hub regions do not overlap are aligned directly, as every other pair is.

Mapping a hub region into a neighbour's span is exact where the passage is a verbatim copy
(the same length on both sides: an offset) and at the passage's own edges. Elsewhere (an
edited copy, cut inside) the position is mapped in proportion along the span and snapped
outward to a word edge, then to a grapheme cluster boundary: it may differ from what direct
alignment of the pair gives by a word or so.

What is lost against aligning every pair: text two neighbours share apart from the hub's
(another paragraph both reprinted, not carried by the hub) is not found for a derived pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .align import _cluster_end, _cluster_start

HUB_MIN_DEGREE = 100  # candidate pairs that make a document crowded (small corpora are untouched)

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class HubPlan:
    """Which candidate pairs to align and which to derive.

    ``hubs``: the hub documents. ``via[k]``: for pair ``k`` of the input, the hub (an index
    into ``hubs``) through which it may be derived, -1 for a pair to align directly (a spoke,
    a pair not inside one star, or any pair when there is no hub).
    """

    hubs: I64
    via: I64

    @property
    def derivable(self) -> npt.NDArray[np.bool_]:
        return self.via >= 0


def plan(pairs: I64, n: int, min_degree: int | None = None) -> HubPlan:
    """Hubs among ``n`` documents from candidate ``pairs`` (rows ``(i, j)``), see the module docstring."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    limit = HUB_MIN_DEGREE if min_degree is None else min_degree
    m = len(pairs)
    none = HubPlan(np.empty(0, np.int64), np.full(m, -1, np.int64))
    if m == 0:
        return none
    degree = np.bincount(pairs.ravel(), minlength=n)
    crowded = np.flatnonzero(degree >= limit)
    if len(crowded) == 0:
        return none
    # Adjacency lists (both directions), by document.
    src = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.argsort(src, kind="stable")
    dst = dst[order]
    starts = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])
    covered = np.zeros(n, dtype=bool)
    hubs: list[int] = []
    for d in crowded[np.lexsort((crowded, -degree[crowded]))].tolist():
        if covered[d]:
            continue
        hubs.append(d)
        covered[d] = True
        covered[dst[starts[d] : starts[d + 1]]] = True
    hub = np.array(hubs, dtype=np.int64)
    # Memberships: (hub index, neighbour), as keys hub * n + neighbour, sorted.
    sizes = starts[hub + 1] - starts[hub]
    owner = np.repeat(np.arange(len(hub), dtype=np.int64), sizes)
    member = np.concatenate([dst[starts[h] : starts[h + 1]] for h in hubs])
    keys = np.sort(owner * n + member)
    # Each pair's first hub whose star holds both ends (neither end the hub itself).
    first_doc = keys % n
    by_doc = np.argsort(first_doc, kind="stable")  # memberships by neighbour
    doc_starts = np.concatenate([[0], np.cumsum(np.bincount(first_doc, minlength=n))])
    count_x = doc_starts[pairs[:, 0] + 1] - doc_starts[pairs[:, 0]]
    k = np.repeat(np.arange(m, dtype=np.int64), count_x)
    within = np.arange(len(k)) - np.repeat(np.cumsum(count_x) - count_x, count_x)
    hub_of = keys[by_doc[doc_starts[pairs[k, 0]] + within]] // n
    probe = hub_of * n + pairs[k, 1]
    at = np.minimum(np.searchsorted(keys, probe), len(keys) - 1)
    hit = keys[at] == probe
    via = np.full(m, -1, dtype=np.int64)
    # the first hit per pair: hub indices ascend within a pair's run, write in reverse
    via[k[hit][::-1]] = hub_of[hit][::-1]
    return HubPlan(hub, via)


@dataclass(frozen=True)
class Spokes:
    """Passages of the spokes, one row each: the hub (index into ``HubPlan.hubs``), the
    neighbour document, the span on the hub ``[hub_start, hub_end)``, the span on the
    neighbour ``[start, end)``, the score and the evidence (NaN for none)."""

    hub: I64
    doc: I64
    hub_start: I64
    hub_end: I64
    start: I64
    end: I64
    score: npt.NDArray[np.float64]
    evidence: npt.NDArray[np.float64]

    @classmethod
    def of(cls, rows: list[tuple[int, int, int, int, int, int, float, float | None]]) -> Spokes:
        """From rows ``(hub, doc, hub_start, hub_end, start, end, score, evidence)``."""
        if not rows:
            e = np.empty(0, np.int64)
            return cls(e, e, e, e, e, e, np.empty(0), np.empty(0))
        cols = list(zip(*rows, strict=True))
        h, d, hs, he, s, e = (np.array(c, dtype=np.int64) for c in cols[:6])
        ev = np.array([np.nan if v is None else v for v in cols[7]], dtype=np.float64)
        return cls(h, d, hs, he, s, e, np.array(cols[6], dtype=np.float64), ev)


@dataclass(frozen=True)
class Derived:
    """Passages derived for pairs ``(x, y)``: ``pair`` indexes the pairs given to ``derive``;
    x's span ``[x_start, x_end)`` was reused as y's ``[y_start, y_end)``."""

    pair: I64
    x_start: I64
    x_end: I64
    y_start: I64
    y_end: I64
    score: npt.NDArray[np.float64]
    evidence: npt.NDArray[np.float64]


def _map(pos: I64, hs: I64, he: I64, s: I64, e: I64) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Hub positions ``pos`` inside ``[hs, he]`` mapped into spans ``[s, e)``; and whether each
    is exact (verbatim passage, or a passage edge)."""
    verbatim = (he - hs) == (e - s)
    edge = (pos == hs) | (pos == he)
    width = np.maximum(he - hs, 1)
    mapped = np.where(verbatim, s + (pos - hs), s + np.rint((pos - hs) * (e - s) / width).astype(np.int64))
    mapped = np.where(pos == hs, s, np.where(pos == he, e, mapped))
    return mapped, verbatim | edge


def snap_start(text: str, i: int) -> int:
    """A passage start moved to a word's first character: back to the start of the word it
    falls in, or forward over spaces to the next word; then onto a grapheme cluster boundary."""
    i = max(0, min(i, len(text)))
    if 0 < i < len(text) and text[i].isalnum():
        while i > 0 and text[i - 1].isalnum():
            i -= 1
    else:
        while i < len(text) and text[i].isspace():
            i += 1
    return _cluster_start(text, i)


def snap_end(text: str, i: int) -> int:
    """A passage end moved to a word's end: forward to the end of the word it falls in, or
    back over spaces; then onto a grapheme cluster boundary."""
    i = max(0, min(i, len(text)))
    if 0 < i < len(text) and text[i - 1].isalnum():
        while i < len(text) and text[i].isalnum():
            i += 1
    else:
        while i > 0 and text[i - 1].isspace():
            i -= 1
    return _cluster_end(text, i)


def derive(pairs: I64, via: I64, spokes: Spokes, n: int, min_length: int,
           text_of: Callable[[int], str], min_evidence: float = 0.0, min_score: float = 0.0) -> Derived:
    """Passages for pairs ``(x, y)`` (rows of ``pairs``) of neighbours of hub ``via`` from their
    spokes' passages: one for each passage of x and passage of y with the hub that overlap by
    ``min_length`` characters or more on the hub. ``text_of(doc)`` is read only to snap
    positions that are not exact (see the module docstring). Pairs without one get none.

    A derived passage passes the gates an aligned one does, or the pair is aligned: its score
    is what the two spokes' scores guarantee (each side's edits against the hub may both
    fall on words the other kept: ``score_x + score_y - 1``, the same for verbatim copies), at
    least ``min_score``; its aligned characters (the shorter side times that score) at least
    ``min_length``; and its evidence at least ``min_evidence``: each spoke passage's evidence
    in the share of it the overlap keeps on the hub, times the derived score over the
    spoke's, the lower of the two."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    key = spokes.hub * n + spokes.doc
    order = np.argsort(key, kind="stable")
    skey = key[order]

    def ranges(doc: I64) -> tuple[I64, I64]:
        k = via * n + doc
        lo = np.searchsorted(skey, k, side="left")
        return lo, np.searchsorted(skey, k, side="right") - lo

    lx, cx = ranges(pairs[:, 0])
    ly, cy = ranges(pairs[:, 1])
    combos = cx * cy
    k = np.repeat(np.arange(len(pairs), dtype=np.int64), combos)
    r = np.arange(len(k), dtype=np.int64) - np.repeat(np.cumsum(combos) - combos, combos)
    cyk = np.maximum(cy[k], 1)
    p = order[lx[k] + r // cyk]
    q = order[ly[k] + r % cyk]
    lo = np.maximum(spokes.hub_start[p], spokes.hub_start[q])
    hi = np.minimum(spokes.hub_end[p], spokes.hub_end[q])
    keep = hi - lo >= min_length
    k, p, q, lo, hi = k[keep], p[keep], q[keep], lo[keep], hi[keep]
    ends = []
    for s in (p, q):
        a, exact_a = _map(lo, spokes.hub_start[s], spokes.hub_end[s], spokes.start[s], spokes.end[s])
        b, exact_b = _map(hi, spokes.hub_start[s], spokes.hub_end[s], spokes.start[s], spokes.end[s])
        ends.append((a, exact_a, b, exact_b))
    docs = (pairs[k, 0], pairs[k, 1])
    for side, (a, exact_a, b, exact_b) in enumerate(ends):
        for j in np.flatnonzero(~exact_a | ~exact_b).tolist():
            text = text_of(int(docs[side][j]))
            if not exact_a[j]:
                a[j] = snap_start(text, int(a[j]))
            if not exact_b[j]:
                b[j] = snap_end(text, int(b[j]))
            b[j] = max(b[j], a[j])
    score = np.maximum(spokes.score[p] + spokes.score[q] - 1.0, 0.0)
    kept_p = (hi - lo) / np.maximum(spokes.hub_end[p] - spokes.hub_start[p], 1) * score / spokes.score[p]
    kept_q = (hi - lo) / np.maximum(spokes.hub_end[q] - spokes.hub_start[q], 1) * score / spokes.score[q]
    evidence = np.fmin(spokes.evidence[p] * kept_p, spokes.evidence[q] * kept_q)
    evidence = np.where(np.isnan(spokes.evidence[p]) | np.isnan(spokes.evidence[q]), np.nan, evidence)
    aligned = np.minimum(ends[0][2] - ends[0][0], ends[1][2] - ends[1][0]) * score
    ok = (score >= min_score) & (aligned >= min_length) & ~(evidence < min_evidence)  # no evidence: length decides
    return Derived(k[ok], ends[0][0][ok], ends[0][2][ok], ends[1][0][ok], ends[1][2][ok], score[ok], evidence[ok])
