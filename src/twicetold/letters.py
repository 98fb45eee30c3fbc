"""OCR-robust alignment: reused passages found on letters, with spaces and punctuation gone.

OCR breaks words: "jeun e homm e", "DAME S", "newspa-\\nper", glued words, and misreads one
letter in ten. Word n-grams (``align``) then rarely survive, and passages come out in pieces
or not at all. Here each text becomes a *letter stream*: its letters and digits only,
case-folded, accents dropped (the tables of ``normalize``), each stream position mapped back
to its code point in the text. Split words, merged words and hyphenated line breaks vanish in
the stream; what is left are letter misreads, drops and insertions, and lost lines.

1. Anchors are letter k-grams (``K`` letters) that both streams share, at most
   ``align.MAX_OCCURRENCES`` times in one text (``_kernels.anchor_matches``).
2. Anchors on one diagonal that follow each other form runs (exact shared stretches); runs
   are chained co-linearly (``chain_runs``): a run follows another when it starts after it
   in both texts, within ``max_gap`` words' worth of letters, and the diagonal drift (letters
   inserted or dropped between them, a lost line) is paid for in the chain's score, so a
   run on a far diagonal (a chance k-gram) does not cut a passage in two.
3. Each chain is aligned letter by letter (``band_align``): Smith-Waterman in a band of
   ``BAND`` letters either side of the path through its runs, and ``MARGIN`` letters beyond
   its first and last run, so the passage's edges are found to the letter even where noise
   left no anchor near them. A matched letter scores +2, a misread one -1, a dropped or
   inserted one -2: misreads are OCR's commonest error (measured against -2 for them: a
   little more of the noisiest passages and of real reprints is found). An alignment
   starts at its first stretch of three matching letters and ends at its last. The score
   of a passage is the share of its letters, both sides counted, that the alignment
   matches in stretches of three or more: 1.0 for a verbatim copy (spacing, hyphenation,
   case and accents aside), about 0.93, 0.85 and 0.75 for OCR with 5, 10 and 15 % noise on
   both sides (``benchmarks/bench_ocr_align.py``). Single letters that happen to match do
   not count: between unrelated texts of one narrow vocabulary, alignments matched half
   their letters or more by chance (measured), which would have put chance at
   ``min_score``.
4. Passages of neighbouring chains are joined when the joined score holds; edges go back to
   the original texts through the position maps, onto grapheme cluster boundaries and over
   shared punctuation (``align._widen``); ``min_length`` and ``min_score`` gate as in
   ``align``, and so does ``min_evidence``, on the evidence ``align.evidence`` weighs by the
   rarity of the passage's words when the caller gives it (``align.align`` with
   ``PassageConfig(anchors="letters")`` does, from the corpus's shingle counts).

Costs per pair are a hash probe per k-gram and about ``2 * BAND + 1`` cells of dynamic
programming per letter of each chain; inside long runs (verbatim stretches) only the run's
diagonal is computed, and a chain inside a passage found already (a phrase repeated in it)
is not aligned again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit, uint64

from . import _kernels
from .align import DENSE_WEIGHT, MAX_OCCURRENCES, _widen, evidence
from .config import PassageConfig
from .model import Passage
from .normalize import DENSE_RANGES, SINGLE, WORD, code_points, tables

K = 8  # letters per anchor k-gram
LETTERS_PER_WORD = 6  # max_gap words are this many letters of gap between chained runs
LOOKBACK = 32  # runs looked back at when chaining one
DRIFT_COST = 0.5  # chain score lost per letter of diagonal drift between two runs
GAP_COST = 0.05  # and per letter of gap between them
BAND = 4  # letters either side of a chain's path that the alignment may stray
MARGIN = 48  # letters beyond a chain's first and last run that the alignment may reach
MATCH, MISMATCH, GAP = 2, -1, -2  # alignment scores of a matched, misread, dropped or inserted letter
MIN_CHAIN = 12  # letters a chain must anchor to be aligned (a lone chance k-gram is not)
MERGE_GAP_FACTOR = 2  # neighbouring passages this many max_gaps apart join, if the score holds

_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True)
def letter_stream(cps, classes, fold_start, fold_len, fold_data, k):  # type: ignore[no-untyped-def]
    """The letter stream of a text given as code points: its word code points folded
    (``normalize``'s tables: case-folded, diacritics dropped, digits to ASCII), everything
    else left out; code points beyond the tables are letters of their own, as in
    ``normalize``. Returns the letters, the code point each came from, and the hash of each
    ``k``-gram (one per start position, none when the stream is shorter than ``k``): a
    polynomial over the letters, rolled, then mixed (``_kernels.mix64``)."""
    n = cps.shape[0]
    limit = classes.shape[0]
    count = 0
    for i in range(n):
        c = cps[i]
        if c >= limit:
            count += 1
        elif classes[c] == WORD or classes[c] == SINGLE:
            count += fold_len[c]
    letters = np.empty(count, dtype=np.uint32)
    pos = np.empty(count, dtype=np.int32)
    m = 0
    for i in range(n):
        c = cps[i]
        if c >= limit:
            letters[m] = c
            pos[m] = i
            m += 1
        elif classes[c] == WORD or classes[c] == SINGLE:
            s = fold_start[c]
            for t in range(fold_len[c]):
                letters[m] = fold_data[s + t]
                pos[m] = i
                m += 1
    grams = np.empty(max(count - k + 1, 0), dtype=np.uint64)
    if count >= k:
        top = uint64(1)
        for _ in range(k - 1):
            top *= _HASH_MULT
        h = uint64(0)
        for t in range(k):
            h = h * _HASH_MULT + uint64(letters[t]) + uint64(1)
        grams[0] = _kernels.mix64(h)
        for t in range(1, count - k + 1):
            h = (h - (uint64(letters[t - 1]) + uint64(1)) * top) * _HASH_MULT + uint64(letters[t + k - 1]) + uint64(1)
            grams[t] = _kernels.mix64(h)
    return letters, pos, grams


@njit(cache=True, nogil=True)
def chain_runs(ia, ib, k, max_gap, lookback, drift_cost, gap_cost, min_letters):  # type: ignore[no-untyped-def]
    """Runs of anchors and their co-linear chains.

    ``ia``, ``ib``: the anchors (k-grams at ``ia[t]`` in A and ``ib[t]`` in B), sorted by
    ``ia`` then ``ib``. An anchor whose predecessor on its diagonal is an anchor too extends
    that one's run; a run is ``(start in A, start in B, letters)``.

    A run may follow an earlier one that it starts after in both texts, with at most
    ``max_gap`` letters between them on either side; it then adds the letters it does not
    share with it, less ``drift_cost`` per letter of drift between their diagonals and
    ``gap_cost`` per letter of gap. Each run takes the best of the ``lookback`` runs before it
    (or none). Chains are read back from their best-scoring run, best first, each run used
    once; a chain of fewer than ``min_letters`` points (a chance k-gram, or a branch off a
    better chain) is left out.

    Returns ``ri``, ``rj``, ``rl`` (the runs) and ``members``, ``bounds``: chain ``c``'s runs
    are ``members[bounds[c]:bounds[c + 1]]``, in text order.
    """
    m = ia.shape[0]
    ri = np.empty(m, dtype=np.int64)
    rj = np.empty(m, dtype=np.int64)
    rl = np.empty(m, dtype=np.int64)
    run_of = np.empty(m, dtype=np.int64)
    nr = 0
    prev_lo = prev_hi = cur_lo = 0
    for t in range(m):
        i, j = ia[t], ib[t]
        if t == 0 or ia[t - 1] != i:
            if t > 0 and ia[t - 1] == i - 1:
                prev_lo, prev_hi = cur_lo, t
            else:
                prev_lo, prev_hi = 0, 0
            cur_lo = t
        found = -1
        for s in range(prev_lo, prev_hi):
            if ib[s] == j - 1:
                found = s
                break
        if found >= 0:
            r = run_of[found]
            rl[r] += 1
        else:
            r = nr
            nr += 1
            ri[r], rj[r], rl[r] = i, j, k
        run_of[t] = r
    ri, rj, rl = ri[:nr], rj[:nr], rl[:nr]

    score = np.empty(nr, dtype=np.float64)
    pred = np.full(nr, -1, dtype=np.int64)
    for t in range(nr):
        score[t] = rl[t]
        for s in range(t - 1, max(t - lookback, 0) - 1, -1):
            if ri[s] >= ri[t] or rj[s] >= rj[t]:
                continue
            gi = ri[t] - ri[s] - rl[s]
            gj = rj[t] - rj[s] - rl[s]
            if gi > max_gap or gj > max_gap:
                continue
            gain = rl[t] - max(0, -gi, -gj)
            if gain <= 0:
                continue
            drift = abs((rj[t] - ri[t]) - (rj[s] - ri[s]))
            sc = score[s] + gain - drift_cost * drift - gap_cost * max(gi, gj, 0)
            if sc > score[t]:
                score[t] = sc
                pred[t] = s

    # Chains best first: the best-scoring run not yet used ends the next chain (no sort: a
    # sort took two seconds to compile). Runs scoring under min_letters can only end chains
    # that are left out, so the search stops there.
    used = np.zeros(nr, dtype=np.bool_)
    members = np.empty(nr, dtype=np.int64)
    bounds = np.zeros(nr + 1, dtype=np.int64)
    path = np.empty(nr, dtype=np.int64)
    n_chains = 0
    w = 0
    while True:
        t = -1
        for u in range(nr):
            if not used[u] and (t < 0 or score[u] > score[t]):
                t = u
        if t < 0 or score[t] < min_letters:
            break
        p = 0
        s = t
        while s >= 0 and not used[s]:
            used[s] = True
            path[p] = s
            p += 1
            s = pred[s]
        if score[t] - (score[s] if s >= 0 else 0.0) < min_letters:
            continue
        for q in range(p - 1, -1, -1):
            members[w] = path[q]
            w += 1
        n_chains += 1
        bounds[n_chains] = w
    return ri, rj, rl, members[:w].copy(), bounds[: n_chains + 1].copy()


@njit(cache=True, nogil=True)
def band_align(sa, sb, ri, rj, rl, members, bounds, margin, band):  # type: ignore[no-untyped-def]
    """The best local alignment of each chain: Smith-Waterman over the letters of ``sa`` and
    ``sb`` near the chain's path, a matched letter scoring ``MATCH``, a misread one
    ``MISMATCH``, one dropped or inserted ``GAP``.

    The path runs through the chain's runs (``chain_runs``), straight from the end of each to
    the start of the next, and on along the first and last run's diagonals for ``margin``
    rows (letters of A) beyond them; each row is aligned against the columns (letters of B)
    that the path crosses in it, widened by ``band`` either side. Inside a run, more than
    ``band`` letters from its ends, only the run's own diagonal is aligned: its letters are
    equal there, and the alignment has had ``band`` letters to reach it.

    Chains are taken in order (``chain_runs`` gives them best first); a chain whose runs all
    lie inside the alignment of one before it, on both sides (a phrase repeated inside a
    passage), is not aligned. Each cell carries where its alignment started and how many
    letters it matched in stretches of 3 or more (with the stretch it ends with), so no
    traceback is needed.

    Returns one row per chain: ``(a0, a1, b0, b1, matched)``: half-open spans in the
    streams, and how many letters of each the alignment matches in stretches of 3 or more;
    all zero when nothing scores above zero or the chain was not aligned. Ties go to the
    cell met first (rows in order, columns in order), and at a cell to the diagonal step,
    then the step down, then right.
    """
    na, nb = sa.shape[0], sb.shape[0]
    n_chains = bounds.shape[0] - 1
    out = np.zeros((n_chains, 5), dtype=np.int64)
    big = 1 << 40
    # Two rows of cells, the previous one from offset ``was``, the current one from ``now``
    # (swapped as offsets: swapping arrays counts references, a cost on every row). Per
    # cell: the score; the origin of the alignment ending there (row << 32 | column); what
    # it matched: letters in stretches of 3 or more << 3 | whether it had a stretch of 3
    # yet << 2 | the stretch of matches it ends with (3: 3 or more).
    h_row = np.zeros(2 * (nb + 1), dtype=np.int32)
    o_row = np.zeros(2 * (nb + 1), dtype=np.int64)
    m_row = np.zeros(2 * (nb + 1), dtype=np.int32)
    lo = np.empty(na, dtype=np.int64)  # each row's window, before widening by band
    hi = np.empty(na, dtype=np.int64)
    inner = np.empty(na, dtype=np.bool_)  # rows inside a run
    for c in range(n_chains):
        first = members[bounds[c]]
        last = members[bounds[c + 1] - 1]
        end_i = end_j = 0  # where the chain's runs end (its last run's end, in chains of chain_runs)
        for q in range(bounds[c], bounds[c + 1]):
            end_i = max(end_i, ri[members[q]] + rl[members[q]])
            end_j = max(end_j, rj[members[q]] + rl[members[q]])
        inside = False
        for e in range(c):  # a repeat inside a passage found already, on both sides
            if out[e, 0] <= ri[first] and end_i <= out[e, 1] and out[e, 2] <= rj[first] and end_j <= out[e, 3]:
                inside = True
        if inside:
            continue
        r0 = max(0, ri[first] - margin)
        r1 = min(na, end_i + margin)
        lo[: r1 - r0] = big
        hi[: r1 - r0] = -big
        inner[: r1 - r0] = False
        # The path: the first run's diagonal up to it, each run, the straight line from one
        # run's last cell to the next one's first, the last run's diagonal after it.
        d = rj[first] - ri[first]
        for r in range(r0, ri[first]):
            lo[r - r0] = min(lo[r - r0], r + d)
            hi[r - r0] = max(hi[r - r0], r + d)
        for q in range(bounds[c], bounds[c + 1]):
            u = members[q]
            d = rj[u] - ri[u]
            for r in range(ri[u], min(ri[u] + rl[u], r1)):
                lo[r - r0] = min(lo[r - r0], r + d)
                hi[r - r0] = max(hi[r - r0], r + d)
                if ri[u] + band <= r < ri[u] + rl[u] - band:
                    inner[r - r0] = True
            if q + 1 < bounds[c + 1]:
                v = members[q + 1]
                er, ec = ri[u] + rl[u] - 1, rj[u] + rl[u] - 1
                sr, sc = ri[v], rj[v]
                if sr > er:
                    for r in range(er, sr + 1):
                        x = ec + (sc - ec) * (r - er) // (sr - er)
                        y = ec + (sc - ec) * (r + 1 - er) // (sr - er) if r < sr else x
                        lo[r - r0] = min(lo[r - r0], min(x, y))
                        hi[r - r0] = max(hi[r - r0], max(x, y))
                else:  # the runs overlap in A: cover both diagonals over the overlap
                    for r in range(sr, er + 1):
                        x, y = r + d, r + sc - sr
                        lo[r - r0] = min(lo[r - r0], min(x, y))
                        hi[r - r0] = max(hi[r - r0], max(x, y))
        d = rj[last] - ri[last]
        for r in range(ri[last] + rl[last], r1):
            lo[r - r0] = min(lo[r - r0], r + d)
            hi[r - r0] = max(hi[r - r0], r + d)

        # Column ``col`` is at index ``col + 1`` of the row arrays; index 0 stands for the
        # column before the first. Cells of the previous row outside its window read as
        # score 0, so the loop needs no bounds checks: steps down or right from a 0 never
        # beat a diagonal one. An alignment starts at its first stretch of 3 matches and ends
        # at its last: before that stretch, the origin follows the start of the latest
        # stretch; the best cell is taken among those ending a stretch of 3 or more.
        best = 0
        b_o = b_i1 = b_j1 = b_m = 0
        plo = phi = 0
        was, now = 0, nb + 1
        for r in range(r0, r1):
            if inner[r - r0] and lo[r - r0] == hi[r - r0]:
                clo, chi = max(lo[r - r0], 0), min(lo[r - r0] + 1, nb)
            else:
                clo, chi = max(lo[r - r0] - band, 0), min(hi[r - r0] + band + 1, nb)
            clo = min(clo, nb)  # a path beyond the last column (in a margin): an empty row
            chi = max(chi, clo)
            for col in range(clo - 1, min(chi, plo)):
                h_row[was + col + 1] = 0
                m_row[was + col + 1] = 0
            for col in range(max(clo - 1, phi), chi):
                h_row[was + col + 1] = 0
                m_row[was + col + 1] = 0
            h_row[now + clo] = 0
            x = sa[r]
            for col in range(clo, chi):
                mm = m_row[was + col]
                h = h_row[was + col]
                o = o_row[was + col]
                if x == sb[col]:
                    h += MATCH
                    run = mm & 3
                    if run == 0 and not mm & 4:
                        o = (r << 32) | col
                    if run < 2:
                        mm += 1
                    elif run == 2:
                        mm = (mm | 4) + 1 + (3 << 3)  # a stretch of 3: its letters count, the start stays
                    else:
                        mm += 1 << 3
                else:
                    h += MISMATCH
                    mm &= ~3
                v = h_row[was + col + 1] + GAP
                if v > h:
                    h, o, mm = v, o_row[was + col + 1], m_row[was + col + 1] & ~3
                v = h_row[now + col] + GAP
                if v > h:
                    h, o, mm = v, o_row[now + col], m_row[now + col] & ~3
                if h <= 0:
                    h, mm = 0, 0
                h_row[now + col + 1] = h
                o_row[now + col + 1] = o
                m_row[now + col + 1] = mm
                if h > best and mm & 3 == 3:
                    best, b_o, b_i1, b_j1, b_m = h, o, r + 1, col + 1, mm
            was, now = now, was
            plo, phi = clo, chi
        if best > 0:
            i0, j0 = b_o >> 32, b_o & 0xFFFFFFFF
            out[c, 0], out[c, 1], out[c, 2], out[c, 3] = i0, b_i1, j0, b_j1
            out[c, 4] = b_m >> 3
    return out


@njit(cache=True, nogil=True)
def locate(ga, gb, sa, sb, k, max_occ, max_gap, lookback, drift_cost, gap_cost,  # type: ignore[no-untyped-def]
           min_letters, margin, band):
    """``anchor_matches``, ``chain_runs`` and ``band_align`` in one call (each call from
    Python costs microseconds): one row per chain, as ``band_align`` gives them."""
    ia, ib = _kernels.anchor_matches(ga, gb, max_occ)
    ri, rj, rl, members, bounds = chain_runs(ia, ib, k, max_gap, lookback, drift_cost, gap_cost, min_letters)
    return band_align(sa, sb, ri, rj, rl, members, bounds, margin, band)


@dataclass(frozen=True)
class LetterText:
    """A document prepared for letter alignment: its text, letter stream, the code point of
    each letter, the hashes of its ``k``-grams, and (for texts with Han or kana) the running
    count of dense letters (``align.DENSE_WEIGHT``), else None."""

    text: str
    letters: npt.NDArray[np.uint32]
    pos: npt.NDArray[np.int32]
    grams: npt.NDArray[np.uint64]
    dense: npt.NDArray[np.int32] | None
    k: int

    @classmethod
    def of(cls, text: str, k: int | None = None) -> LetterText:
        """Prepare ``text`` with anchors of ``k`` letters (``K`` when None)."""
        k = k or K
        t = tables()
        letters, pos, grams = letter_stream(code_points(text), t.classes, t.fold_start, t.fold_len, t.fold_data, k)
        dense = None
        if len(letters) and int(letters.max()) >= int(DENSE_RANGES[0, 0]):  # cheap test first
            hit = np.zeros(len(letters), dtype=bool)
            for lo, hi in DENSE_RANGES:
                hit |= (letters >= lo) & (letters <= hi)
            if hit.any():
                dense = np.zeros(len(letters) + 1, dtype=np.int32)
                np.cumsum(hit, out=dense[1:])
        return cls(text, letters, pos, grams, dense, k)


def _weighted(t: LetterText, i0: int, i1: int, c0: int, c1: int) -> int:
    """The characters of ``t.text[c0:c1]`` (letters ``i0:i1``) toward ``min_length``, a Han or
    kana letter counting ``DENSE_WEIGHT``."""
    if t.dense is None:
        return c1 - c0
    return c1 - c0 + (DENSE_WEIGHT - 1) * int(t.dense[i1] - t.dense[i0])


# How rare the words of a passage are: (text a, text b, a_start, a_end, b_start, b_end) -> [0, 1].
Rarity = Callable[["LetterText", "LetterText", int, int, int, int], float]


def align_letters(a: LetterText | str, b: LetterText | str, config: PassageConfig | None = None,
                  rarity: Rarity | None = None) -> list[Passage]:
    """Every reused passage between two texts, found on their letters, ordered by position in
    ``a``: the contract of ``align.align``, robust to OCR noise. ``rarity`` weighs each
    passage's evidence (``align.evidence``); without it the evidence is the aligned characters.

    >>> clean = "Le conseil fédéral a décidé hier de convoquer les chambres pour une session extraordinaire."
    >>> noisy = "Le conseil fé-\\ndéral a dé cidé hier de conv0quer les charnbres pour une sessionextraordinaire."
    >>> p = align_letters("Berne, 3 mai. " + clean, noisy)
    >>> len(p), p[0].a_start, p[0].b_start, p[0].b_end == len(noisy)
    (1, 14, 0, True)
    """
    cfg = config or PassageConfig()
    if isinstance(a, str):
        a = LetterText.of(a)
    if isinstance(b, str):
        b = LetterText.of(b, a.k)
    if a.k != b.k:
        raise ValueError(f"texts prepared with anchors of {a.k} and {b.k} letters cannot be aligned")
    if (len(a.text), a.text) > (len(b.text), b.text):
        # As in align: one order of the two texts, so that both orders give the same passages.
        return _align(b, a, cfg, swap=True, rarity=rarity)
    return _align(a, b, cfg, swap=False, rarity=rarity)


Span = tuple[int, int, int, int, int]  # a0, a1, b0, b1 (in the letter streams), letters matched in stretches


def _score(s: Span) -> float:
    """The share of an alignment's letters, both sides counted, matched in stretches."""
    return 2 * s[4] / max(1, (s[1] - s[0]) + (s[3] - s[2]))


def _join(spans: list[Span], gap: int, k: int, min_score: float) -> list[Span]:
    """Drop alignments mostly inside a stronger one on both sides (two chains of one passage
    find it twice), then join those that follow each other in both texts within ``gap``
    letters (or overlapping by at most ``k``), while the joined score holds (matched
    letters are summed less what they share). Only alignments of at least ``2 * k``
    matched letters join: a word that two texts share by chance a line before a passage
    is not part of it."""
    kept: list[Span] = []
    for s in sorted(spans, key=lambda s: -s[4]):
        a0, a1, b0, b1, _ = s
        half_a, half_b = (a1 - a0) // 2, (b1 - b0) // 2
        for t in kept:
            if min(a1, t[1]) - max(a0, t[0]) > half_a and min(b1, t[3]) - max(b0, t[2]) > half_b:
                break
        else:
            kept.append(s)
    kept.sort()
    out: list[Span] = []
    for s in kept:
        if out:
            c = out[-1]
            ga, gb = s[0] - c[1], s[2] - c[3]
            if -k <= ga <= gap and -k <= gb <= gap and min(c[4], s[4]) >= 2 * k:
                joined = (c[0], max(c[1], s[1]), c[2], max(c[3], s[3]), c[4] + s[4] - max(0, -ga, -gb))
                if _score(joined) >= min_score:
                    out[-1] = joined
                    continue
        out.append(s)
    return out


def _align(a: LetterText, b: LetterText, cfg: PassageConfig, swap: bool, rarity: Rarity | None) -> list[Passage]:
    """The passages of ``a`` and ``b``, with sides swapped when ``swap``, in order."""
    if len(a.grams) == 0 or len(b.grams) == 0:
        return []
    gap = cfg.max_gap * LETTERS_PER_WORD
    rows = locate(a.grams, b.grams, a.letters, b.letters, a.k, MAX_OCCURRENCES, gap, LOOKBACK, DRIFT_COST,
                  GAP_COST, MIN_CHAIN, MARGIN, BAND)
    spans = [(a0, a1, b0, b1, m) for a0, a1, b0, b1, m in rows.tolist() if a1 > a0]
    found: list[Passage] = []
    for s in _join(spans, MERGE_GAP_FACTOR * gap, a.k, cfg.min_score):
        score = _score(s)
        if score < cfg.min_score:
            continue
        a0, a1, b0, b1, _ = s
        ca0, ca1 = int(a.pos[a0]), int(a.pos[a1 - 1]) + 1
        cb0, cb1 = int(b.pos[b0]), int(b.pos[b1 - 1]) + 1
        aligned_chars = min(_weighted(a, a0, a1, ca0, ca1), _weighted(b, b0, b1, cb0, cb1)) * score
        if aligned_chars < cfg.min_length or evidence(aligned_chars, 1.0) < cfg.min_evidence:
            continue  # too short, or too short to pass even if every word were rare
        weight = evidence(aligned_chars, rarity(a, b, ca0, ca1, cb0, cb1) if rarity else 0.0)
        if weight < cfg.min_evidence:
            continue
        ca0, ca1, cb0, cb1 = _widen(a.text, ca0, ca1, b.text, cb0, cb1)
        if swap:
            ca0, ca1, cb0, cb1 = cb0, cb1, ca0, ca1
        found.append(Passage(ca0, ca1, cb0, cb1, max(ca1 - ca0, cb1 - cb0), round(min(score, 1.0), 4),
                             evidence=round(weight, 1)))
    found.sort(key=lambda p: (p.a_start, p.b_start))
    return found


__all__ = ["K", "LetterText", "align_letters", "band_align", "chain_runs", "letter_stream", "locate"]
