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

Costs per pair are one merge of the two texts' k-grams, sorted once per text
(``LetterText.sorted_grams``), and about ``2 * BAND + 1`` cells of dynamic programming per
letter of each chain, each cell a score and a step, the alignment read back from its best
cell; inside long runs (verbatim stretches) only the run's diagonal is computed, and a chain
inside a passage found already (a phrase repeated in it) is not aligned again. Steps 1 to 4
and the gates but rarity are one compiled call (``pair_spans``); Python sees only the
passages that may pass, to weigh their words' rarity (``shared_rarity``) and widen them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
from numba import njit, uint64

from . import _kernels
from .align import DENSE_WEIGHT, MAX_OCCURRENCES, RARITY_WEIGHT, _widen, evidence
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
def sampled_grams(cps, bounds, classes, fold_start, fold_len, fold_data, k, sample):  # type: ignore[no-untyped-def]
    """The ``k``-gram hashes of ``letter_stream`` of each text that are multiples of
    ``sample``, for many texts in one call (``candidates.letter_gram_pairs``): text ``d`` is
    ``cps[bounds[d]:bounds[d + 1]]``. Returns the grams of every text, in order, and where
    each text's start (``len(bounds)`` offsets). One call per part of the corpus: a call per
    text, with its arrays, cost more than the grams."""
    n = bounds.shape[0] - 1
    limit = classes.shape[0]
    offsets = np.zeros(n + 1, dtype=np.int64)
    out = np.empty(max(16, cps.shape[0] // max(sample, 1) + 16), dtype=np.uint64)
    window = np.zeros(k, dtype=np.uint64)  # the last k letters, + 1 each, in a ring
    top = uint64(1)
    for _ in range(k - 1):
        top *= _HASH_MULT
    w = 0
    for d in range(n):
        h = uint64(0)
        seen = 0
        for i in range(bounds[d], bounds[d + 1]):
            c = cps[i]
            if c >= limit:
                s, length = -1, 1
            elif classes[c] == WORD or classes[c] == SINGLE:
                s, length = fold_start[c], fold_len[c]
            else:
                continue
            for t in range(length):
                letter = uint64(c) if s < 0 else uint64(fold_data[s + t])
                if seen >= k:
                    h -= window[seen % k] * top
                h = h * _HASH_MULT + letter + uint64(1)
                window[seen % k] = letter + uint64(1)
                seen += 1
                if seen >= k:
                    g = _kernels.mix64(h)
                    if g % uint64(sample) == 0:
                        if w == out.shape[0]:
                            grown = np.empty(2 * w, dtype=np.uint64)
                            grown[:w] = out
                            out = grown
                        out[w] = g
                        w += 1
        offsets[d + 1] = w
    return out[:w].copy(), offsets


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


_NONE, _DIAG_MATCH, _DIAG_MISREAD, _DOWN, _RIGHT = 0, 1, 2, 3, 4  # how band_align reached a cell


@njit(cache=True, nogil=True)
def _trace(steps, at, clo_of, chi_of, r0, i, j):  # type: ignore[no-untyped-def]
    """The alignment ending at cell ``(i, j)`` of ``band_align``, read back along its steps to
    where it starts (a cell scoring 0, or the edge of the band): ``(a0, a1, b0, b1,
    matched)``. It starts at its first stretch of 3 or more matches and matches the letters
    of every such stretch; cells are ``steps[at[r - r0] + col - clo_of[r - r0]]``."""
    a1, b1 = i + 1, j + 1
    a0 = b0 = 0
    matched = stretch = 0
    while True:
        step = _NONE
        if i >= r0 and clo_of[i - r0] <= j < chi_of[i - r0]:
            step = steps[at[i - r0] + j - clo_of[i - r0]]
        if step == _DIAG_MATCH:
            stretch += 1
            i -= 1
            j -= 1
            continue
        if stretch >= 3:  # a stretch ends (read backwards): it counts, and it may be the first
            matched += stretch
            a0, b0 = i + 1, j + 1
        stretch = 0
        if step == _DIAG_MISREAD:
            i -= 1
            j -= 1
        elif step == _DOWN:
            i -= 1
        elif step == _RIGHT:
            j -= 1
        else:
            return a0, a1, b0, b1, matched


@njit(cache=True, nogil=True)
def _fill(sa, sb, h_row, steps, clo_of, chi_of, at, r0, r1, nb):  # type: ignore[no-untyped-def]
    """``band_align``'s cells of one chain, rows ``r0:r1`` (columns ``clo_of``, ``chi_of``):
    each cell's step into ``steps``; returns the best score and its cell. A function of its
    own: inside ``band_align``, where ``steps`` may be reallocated, every store to it reloaded
    the array and cost as much as the rest of the cell."""
    # Column ``col`` is at index ``col + 1`` of the row arrays; index 0 stands for the
    # column before the first. Cells of the previous row outside its window read as
    # score 0, so the loop needs no bounds checks: steps down or right from a 0 never
    # beat a diagonal one. The best cell is taken among those ending a stretch of 3 or
    # more. The left and diagonal cells are carried in registers, and each choice is
    # written so that it compiles to a select, not a branch: match or not is a coin toss.
    best = 0
    b_i = b_j = 0
    plo = phi = 0
    was, now = 0, nb + 1
    for r in range(r0, r1):
        clo, chi = clo_of[r - r0], chi_of[r - r0]
        for col in range(clo - 1, min(chi, plo)):
            h_row[was + col + 1] = 0
        for col in range(max(clo - 1, phi), chi):
            h_row[was + col + 1] = 0
        x = sa[r]
        # Unsigned indices: with signed ones every access tested for a negative index.
        base = np.uint64(at[r - r0] - clo)  # may wrap: base + col is in range
        up_at, out_at = np.uint64(was + 1), np.uint64(now + 1)
        left = 0
        diag = h_row[was + clo]
        for col in range(np.uint64(clo), np.uint64(chi)):
            up = h_row[up_at + col]
            # A match (eq 1): the score up, the stretch one longer (at most 3); a misread: down,
            # no stretch. In arithmetic: written as a choice, it compiled to a branch.
            eq = np.int64(x == sb[col])
            run = diag & 3
            h = diag + (MISMATCH << 2) - run + eq * (((MATCH - MISMATCH) << 2) + run + 1 - ((run + 1) >> 2))
            step = _DIAG_MISREAD - eq
            v = (up & ~3) + (GAP << 2)  # a step down or right ends any stretch: compared on scores alone
            take = v > h
            h = v if take else h
            step = _DOWN if take else step
            v = (left & ~3) + (GAP << 2)
            take = v > h
            h = v if take else h
            step = _RIGHT if take else step
            dead = h < 4  # a score of 0 or less: nothing aligned ends here
            h = 0 if dead else h
            step = _NONE if dead else step
            h_row[out_at + col] = h
            steps[base + col] = step
            if h >> 2 > best and h & 3 == 3:
                best, b_i, b_j = h >> 2, r, np.int64(col)
            left = h
            diag = up
        was, now = now, was
        plo, phi = clo, chi
    return best, b_i, b_j


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
    passage), is not aligned. Each cell keeps its score, the stretch of matches it ends with
    and the step it came by; where the best alignment starts and how many letters it matches
    in stretches of 3 or more are read back along its steps (``_trace``): carrying them in
    every cell took three times as long as the scores.

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
    # cell: its score << 2 | the stretch of matches it ends with (3: 3 or more).
    h_row = np.zeros(2 * (nb + 1), dtype=np.int64)
    lo = np.empty(na, dtype=np.int64)  # each row's window, before widening by band
    hi = np.empty(na, dtype=np.int64)
    inner = np.empty(na, dtype=np.bool_)  # rows inside a run
    clo_of = np.empty(na, dtype=np.int64)  # each row's columns, as aligned
    chi_of = np.empty(na, dtype=np.int64)
    at = np.empty(na + 1, dtype=np.int64)  # where each row's steps start in ``steps``
    steps = np.empty(64, dtype=np.uint8)
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

        # Each row's columns, and where its steps go.
        at[0] = 0
        for r in range(r0, r1):
            if inner[r - r0] and lo[r - r0] == hi[r - r0]:
                clo, chi = max(lo[r - r0], 0), min(lo[r - r0] + 1, nb)
            else:
                clo, chi = max(lo[r - r0] - band, 0), min(hi[r - r0] + band + 1, nb)
            clo = min(clo, nb)  # a path beyond the last column (in a margin): an empty row
            chi = max(chi, clo)
            clo_of[r - r0], chi_of[r - r0] = clo, chi
            at[r - r0 + 1] = at[r - r0] + chi - clo
        if at[r1 - r0] > steps.shape[0]:
            steps = np.empty(2 * at[r1 - r0], dtype=np.uint8)

        best, b_i, b_j = _fill(sa, sb, h_row, steps, clo_of, chi_of, at, r0, r1, nb)
        if best > 0:
            out[c, 0], out[c, 1], out[c, 2], out[c, 3], out[c, 4] = _trace(steps, at, clo_of, chi_of, r0, b_i, b_j)
    return out


@njit(cache=True, nogil=True)
def locate(ga, gb, sa, sb, k, max_occ, max_gap, lookback, drift_cost, gap_cost,  # type: ignore[no-untyped-def]
           min_letters, margin, band):
    """``anchor_matches``, ``chain_runs`` and ``band_align`` in one call (each call from
    Python costs microseconds): one row per chain, as ``band_align`` gives them."""
    ia, ib = _kernels.anchor_matches(ga, gb, max_occ)
    ri, rj, rl, members, bounds = chain_runs(ia, ib, k, max_gap, lookback, drift_cost, gap_cost, min_letters)
    return band_align(sa, sb, ri, rj, rl, members, bounds, margin, band)


@njit(cache=True, nogil=True)
def sorted_matches(ka, va, kb, vb, max_occ):  # type: ignore[no-untyped-def]
    """``_kernels.anchor_matches`` on grams sorted once per text: ``ka`` are A's gram hashes
    sorted, ``va`` the position of each (ascending among equal hashes), ``kb``, ``vb``
    B's. One merge of the two sorted lists finds the shared grams (a hash table of B built
    for every pair cost a third of the pair's time); a gram more than ``max_occ`` times in B
    gives nothing. Returns ``(ia, ib)`` sorted by ``ia`` then ``ib``: a counting sort on
    ``ia`` (each position of A holds one gram), each gram's positions in B put in order
    (at most ``max_occ``, by insertion)."""
    n1, n2 = ka.shape[0], kb.shape[0]
    na = n1
    count = np.zeros(na + 1, dtype=np.int64)
    groups = np.empty((min(n1, n2), 4), dtype=np.int64)  # runs of one shared hash: A from, to, B from, to
    n_groups = 0
    p = q = 0
    while p < n1 and q < n2:
        x, y = ka[p], kb[q]
        if x < y:
            p += 1
        elif y < x:
            q += 1
        else:
            p1, q1 = p + 1, q + 1
            while p1 < n1 and ka[p1] == x:
                p1 += 1
            while q1 < n2 and kb[q1] == x:
                q1 += 1
            if q1 - q <= max_occ:
                groups[n_groups, 0], groups[n_groups, 1], groups[n_groups, 2], groups[n_groups, 3] = p, p1, q, q1
                n_groups += 1
                for t in range(p, p1):
                    count[va[t] + 1] = q1 - q
            p, q = p1, q1
    for i in range(na):
        count[i + 1] += count[i]
    ia = np.empty(count[na], dtype=np.int64)
    ib = np.empty(count[na], dtype=np.int64)
    for g in range(n_groups):
        q, q1 = groups[g, 2], groups[g, 3]
        for t in range(groups[g, 0], groups[g, 1]):
            w = count[va[t]]
            for u in range(q, q1):
                ia[w + u - q] = va[t]
                j = vb[u]
                x = w + u - q
                while x > w and ib[x - 1] > j:
                    ib[x] = ib[x - 1]
                    x -= 1
                ib[x] = j
    return ia, ib


@njit(cache=True, nogil=True)
def _span_score(a0, a1, b0, b1, m):  # type: ignore[no-untyped-def]
    """``_score`` of a span."""
    return 2 * m / max(1, (a1 - a0) + (b1 - b0))


@njit(cache=True, nogil=True)
def _insert(table, n, row, by_position):  # type: ignore[no-untyped-def]
    """``row`` into the sorted ``table[:n]``, after its equals: by position (``_row_after``), or
    by matched letters, most first."""
    t = n
    while t > 0 and (_row_after(table[t - 1], row) if by_position else table[t - 1, 4] < row[4]):
        table[t] = table[t - 1]
        t -= 1
    table[t] = row


@njit(cache=True, nogil=True)
def join_spans(rows, gap, k, min_score):  # type: ignore[no-untyped-def]
    """The passages of ``band_align``'s rows ``(a0, a1, b0, b1, matched)`` (those with
    ``a1 > a0``). Rows mostly inside a stronger one (more letters matched) on both sides are
    dropped (two chains of one passage find it twice); the rest, in order, are joined when
    they follow each other in both texts within ``gap`` letters (or overlap by at most
    ``k``), while the joined score holds (``min_score``; matched letters are summed less what
    they share). Only rows of at least ``2 * k`` matched letters join: a word that two texts
    share by chance a line before a passage is not part of it. (Insertion sorts, stable: a
    pair has a few rows, and ``np.sort`` took seconds to compile.)"""
    n = 0
    spans = np.empty((rows.shape[0], 5), dtype=np.int64)
    for c in range(rows.shape[0]):
        if rows[c, 1] > rows[c, 0]:
            _insert(spans, n, rows[c], False)
            n += 1
    kept = np.empty((n, 5), dtype=np.int64)
    n_kept = 0
    for c in range(n):
        a0, a1, b0, b1 = spans[c, 0], spans[c, 1], spans[c, 2], spans[c, 3]
        half_a, half_b = (a1 - a0) // 2, (b1 - b0) // 2
        inside = False
        for t in range(n_kept):
            if min(a1, kept[t, 1]) - max(a0, kept[t, 0]) > half_a \
                    and min(b1, kept[t, 3]) - max(b0, kept[t, 2]) > half_b:
                inside = True
                break
        if inside:
            continue
        _insert(kept, n_kept, spans[c], True)
        n_kept += 1
    out = np.empty((n_kept, 5), dtype=np.int64)
    w = 0
    for c in range(n_kept):
        s = kept[c]
        if w > 0:
            ga, gb = s[0] - out[w - 1, 1], s[2] - out[w - 1, 3]
            if -k <= ga <= gap and -k <= gb <= gap and min(out[w - 1, 4], s[4]) >= 2 * k:
                a1, b1 = max(out[w - 1, 1], s[1]), max(out[w - 1, 3], s[3])
                m = out[w - 1, 4] + s[4] - max(0, -ga, -gb)
                if _span_score(out[w - 1, 0], a1, out[w - 1, 2], b1, m) >= min_score:
                    out[w - 1, 1], out[w - 1, 3], out[w - 1, 4] = a1, b1, m
                    continue
        out[w] = s
        w += 1
    return out[:w]


@njit(cache=True, nogil=True, inline="always")
def _row_after(x, y):  # type: ignore[no-untyped-def]
    """Whether row ``x`` sorts after row ``y`` (as tuples)."""
    for t in range(x.shape[0]):
        if x[t] != y[t]:
            return x[t] > y[t]
    return False


@njit(cache=True, nogil=True)
def _weighted_span(pos, dense, dense_weight, i0, i1):  # type: ignore[no-untyped-def]
    """``_weighted`` of letters ``i0:i1`` (``dense`` empty for a text without Han or kana)."""
    c = pos[i1 - 1] + 1 - pos[i0]
    if dense.shape[0] > 0:
        c += (dense_weight - 1) * (dense[i1] - dense[i0])
    return c


@njit(cache=True, nogil=True)
def pair_spans(ka, va, kb, vb, sa, sb, pa, pb, da, db, k, max_occ, max_gap, lookback,  # type: ignore[no-untyped-def]
               drift_cost, gap_cost, min_letters, margin, band, join_gap, min_score, min_length, min_evidence,
               max_weight, dense_weight):
    """Everything of a pair's alignment but the rarity of its passages' words and their edges
    in the texts, in one call: anchors (``sorted_matches``), chains (``chain_runs``), their
    alignments (``band_align``), joined (``join_spans``), and the passages that pass
    ``min_score``, ``min_length`` and ``min_evidence`` at the largest weight any rarity can give
    (``max_weight``): rows ``(a0, a1, b0, b1, matched)`` in the letter streams, in order.
    ``pa``, ``pb``: each letter's code point; ``da``, ``db``: running counts of dense letters,
    or empty."""
    ia, ib = sorted_matches(ka, va, kb, vb, max_occ)
    ri, rj, rl, members, bounds = chain_runs(ia, ib, k, max_gap, lookback, drift_cost, gap_cost, min_letters)
    if bounds.shape[0] < 2:
        return np.empty((0, 5), dtype=np.int64)
    rows = band_align(sa, sb, ri, rj, rl, members, bounds, margin, band)
    joined = join_spans(rows, join_gap, k, min_score)
    keep = np.zeros(joined.shape[0], dtype=np.bool_)
    for c in range(joined.shape[0]):
        a0, a1, b0, b1, m = joined[c, 0], joined[c, 1], joined[c, 2], joined[c, 3], joined[c, 4]
        score = _span_score(a0, a1, b0, b1, m)
        if score < min_score:
            continue
        aligned = min(_weighted_span(pa, da, dense_weight, a0, a1), _weighted_span(pb, db, dense_weight, b0, b1)) \
            * score
        keep[c] = aligned >= min_length and aligned * max_weight >= min_evidence
    return joined[keep]


@njit(cache=True, nogil=True, inline="always")
def _first_above(values, x, right):  # type: ignore[no-untyped-def]
    """``np.searchsorted(values, x, side="right" if right else "left")``."""
    lo, hi = 0, values.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] < x or (right and values[mid] == x):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def shared_rarity(sa, ra, starts_a, ends_a, ca0, ca1, sb, starts_b, ends_b, cb0, cb1, size):  # type: ignore[no-untyped-def]
    """``align._rarity`` for a passage given in characters (``[ca0, ca1)`` of A, ``[cb0, cb1)``
    of B), in compiled code: the mean rarity ``ra`` of A's shingles ``sa`` (of ``size`` words)
    that lie wholly inside the tokens wholly inside its span (``starts_a``, ``ends_a``) and
    are among B's shingles inside its span; 0 without one. B's go into a small hash set."""
    a0, a1 = _first_above(starts_a, ca0, False), _first_above(ends_a, ca1, True)
    b0, b1 = _first_above(starts_b, cb0, False), _first_above(ends_b, cb1, True)
    b1 = min(max(b0, b1 - size + 1), sb.shape[0])
    a1 = min(max(a0, a1 - size + 1), sa.shape[0])
    if b1 <= b0 or a1 <= a0:
        return 0.0
    bits = 1
    while (1 << bits) < 2 * (b1 - b0):
        bits += 1
    shift = np.uint64(64 - bits)
    keys = np.empty(1 << bits, dtype=np.uint64)
    used = np.zeros(1 << bits, dtype=np.bool_)
    for t in range(b0, b1):
        slot = np.int64((sb[t] * _HASH_MULT) >> shift)
        while used[slot] and keys[slot] != sb[t]:
            slot = (slot + 1) & ((1 << bits) - 1)
        used[slot] = True
        keys[slot] = sb[t]
    total = 0.0
    n = 0
    for t in range(a0, a1):
        slot = np.int64((sa[t] * _HASH_MULT) >> shift)
        while used[slot] and keys[slot] != sa[t]:
            slot = (slot + 1) & ((1 << bits) - 1)
        if used[slot]:
            total += ra[t]
            n += 1
    return total / n if n else 0.0


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

    @cached_property
    def sorted_grams(self) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int32]]:
        """The gram hashes sorted, and the position of each: what ``sorted_matches`` merges,
        made once per text rather than once per pair. (Not a stable sort, twice as fast:
        ``sorted_matches`` puts the positions of a repeated gram in order itself.)"""
        order = np.argsort(self.grams)
        return self.grams[order], order.astype(np.int32)


_NO_DENSE = np.zeros(0, dtype=np.int32)


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


def _align(a: LetterText, b: LetterText, cfg: PassageConfig, swap: bool, rarity: Rarity | None) -> list[Passage]:
    """The passages of ``a`` and ``b``, with sides swapped when ``swap``, in order."""
    if len(a.grams) == 0 or len(b.grams) == 0:
        return []
    gap = cfg.max_gap * LETTERS_PER_WORD
    (ka, va), (kb, vb) = a.sorted_grams, b.sorted_grams
    rows = pair_spans(ka, va, kb, vb, a.letters, b.letters, a.pos, b.pos,
                      _NO_DENSE if a.dense is None else a.dense, _NO_DENSE if b.dense is None else b.dense,
                      a.k, MAX_OCCURRENCES, gap, LOOKBACK, DRIFT_COST, GAP_COST, MIN_CHAIN, MARGIN, BAND,
                      MERGE_GAP_FACTOR * gap, cfg.min_score, cfg.min_length, cfg.min_evidence,
                      1.0 + RARITY_WEIGHT * 1.0, DENSE_WEIGHT)
    if len(rows) == 0:
        return []
    found: list[Passage] = []
    for s in rows.tolist():
        # pair_spans kept the spans that pass every gate but rarity: the same figures again.
        score = _score(s)
        a0, a1, b0, b1, _ = s
        ca0, ca1 = int(a.pos[a0]), int(a.pos[a1 - 1]) + 1
        cb0, cb1 = int(b.pos[b0]), int(b.pos[b1 - 1]) + 1
        aligned_chars = min(_weighted(a, a0, a1, ca0, ca1), _weighted(b, b0, b1, cb0, cb1)) * score
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


__all__ = ["K", "LetterText", "align_letters", "band_align", "chain_runs", "join_spans", "letter_stream", "locate",
           "pair_spans", "sampled_grams", "shared_rarity", "sorted_matches"]
