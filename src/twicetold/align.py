"""Alignment: for a pair of documents, every reused passage with offsets in both.

Anchors are word n-grams (``PassageConfig.ngram`` words) found in both texts. Anchors that
advance together in both texts, with at most ``max_gap`` unanchored words between them, form
one passage, so a changed word or comma never splits it; anchors on other diagonals start
other passages, so paragraphs moved or repeated are found too. Each passage is then mapped
from tokens to characters and widened over punctuation that both texts share at its edges
(a closing full stop or quotation mark). Edges fall on grapheme cluster boundaries, so a
passage never takes half of an emoji sequence or a letter without its accents.

The score of a passage is the share of its words, counted on both sides, that lie under a
shared n-gram: 1.0 for a verbatim copy; about ``1 - rate`` for one with a share ``rate`` of
its words substituted.

A passage is kept on its evidence, not on its length alone (``evidence``): its aligned
characters (the shorter side's span times the score), weighted up to ``1 + RARITY_WEIGHT``
times by how rare its shared shingles are in the corpus. A short passage of rare words is
reuse; a formula of common words ("font part à leurs amis et connaissances de la perte
cruelle") needs more length to count. ``PassageConfig.min_length`` stays a floor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import regex

from . import _kernels
from .candidates import ShingleCounts
from .config import PassageConfig
from .model import Passage
from .normalize import OcrSigns, Tokens, dense_counts, ocr_signs, tokenize

if TYPE_CHECKING:
    from .letters import LetterText

MAX_OCCURRENCES = 8  # an anchor repeated more often inside one text is not an anchor
MAX_ACTIVE_CHAINS = 64
MERGE_GAP_FACTOR = 2  # consecutive passages closer than this many max_gaps are one, if the score holds
TRIM_GAP = 2  # words between a lone edge anchor and the rest of its passage that get it trimmed
EDGE_PUNCTUATION = 3  # shared punctuation characters (grapheme clusters) a passage may grow by at each edge
EXTEND_DROP = 3  # edge extension stops once mismatches outnumber matches by this much
EXTEND_MIN_GAIN = 2  # and keeps only stretches with at least this many more matches than mismatches
# A Han or kana character counts as this many characters toward --min-length: the same
# sentence is 49 characters in Chinese and 216 in English, so a length gate in characters
# alone dropped whole reused sentences of Chinese or Japanese.
DENSE_WEIGHT = 3
# Aligned characters weigh up to this much more when every shared shingle is found in two
# documents of the corpus only (rarity 1), and no more when they are in half of it (rarity 0):
# measured on the French OCR reprints (benchmarks/bench_impresso.py), a larger weight finds
# more of the small clusters' reuse and fewer of the death-notice formulas that passim
# chains into its clusters, a smaller one the other way round.
RARITY_WEIGHT = 0.25


@dataclass
class AlignedText:
    """A document prepared for alignment: its text, tokens, anchor n-grams, and the running
    count of its Han and kana tokens (``normalize.dense_counts``); with corpus ``counts``, its
    shingles (``counts.shingle_size`` words, as sketched) and each one's rarity, made on first
    use (``weights``): most texts in a pair share nothing long enough to need them; for
    alignment on letters, its letter stream (``letters.LetterText``)."""

    text: str
    tokens: Tokens
    anchors: npt.NDArray[np.uint64]
    dense: npt.NDArray[np.int32]
    counts: ShingleCounts | None = None
    letters: LetterText | None = None
    _weights: tuple[list[int], list[float]] | None = None
    _weight_arrays: tuple[npt.NDArray[np.uint64], npt.NDArray[np.float64]] | None = None

    def weights(self) -> tuple[list[int], list[float]] | None:
        """The text's shingles and their rarity (None without corpus counts or shingles)."""
        if self._weights is None and (arrays := self.weight_arrays()) is not None:
            self._weights = (arrays[0].tolist(), arrays[1].tolist())
        return self._weights

    def weight_arrays(self) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.float64]] | None:
        """``weights`` as arrays, for compiled code (``letters.shared_rarity``)."""
        if self._weight_arrays is None and self.counts is not None and len(self.tokens) >= self.counts.shingle_size:
            shingles = _kernels.shingles(self.tokens.hashes, self.counts.shingle_size)
            self._weight_arrays = (shingles, self.counts.rarity(shingles))
        return self._weight_arrays

    @classmethod
    def of(cls, text: str, ngram: int, counts: ShingleCounts | None = None, *, letters: bool = False
           ) -> AlignedText:
        """``text`` prepared: with ``counts`` to weigh evidence, with ``letters`` to align on letters."""
        tokens = tokenize(text)
        anchors = _kernels.shingles(tokens.hashes, ngram)
        dense = dense_counts(text, tokens.starts)
        stream = None
        if letters:
            from .letters import LetterText  # letters builds on this module

            stream = LetterText.of(text)
        return cls(text, tokens, anchors, dense, counts, stream)


_GRAPHEME = regex.compile(r"\X")


def _boundary_after(text: str, i: int) -> int:
    """The first grapheme cluster boundary after ``text[i]``, for ``0 <= i < len(text)``."""
    end: int = _GRAPHEME.match(text, i).end()
    return end


def _at_boundary(text: str, i: int) -> bool:
    """Whether a grapheme cluster boundary lies before ``text[i]``. ``regex``'s ``\\X`` reads
    the text before where it starts (regional indicator pairs, emoji ZWJ sequences), so the
    cluster it matches from ``i - 1`` ends at the first true boundary after ``i - 1``."""
    if i <= 0 or i >= len(text):
        return True
    x, y = text[i - 1], text[i]
    if x < "\x80" and y < "\x80":  # two ASCII characters are always split, but CR LF
        return not (x == "\r" and y == "\n")
    return _boundary_after(text, i - 1) == i


def _cluster_end(text: str, i: int) -> int:
    """The first grapheme cluster boundary at or after ``i``."""
    if _at_boundary(text, i):
        return max(0, min(i, len(text)))
    return _boundary_after(text, i - 1)


def _cluster_start(text: str, i: int) -> int:
    """The last grapheme cluster boundary at or before ``i``: clusters are found from a
    little way back, further back while none ends in reach (a long run of marks)."""
    if _at_boundary(text, i):
        return max(0, min(i, len(text)))
    reach = 16
    while True:
        start = max(0, i - reach)
        best = 0 if start == 0 else -1
        for m in _GRAPHEME.finditer(text, start):
            if m.end() > i:
                break
            best = m.end()
        if best >= 0:
            return best
        reach *= 4


def _is_punctuation(cluster: str) -> bool:
    return not any(c.isspace() or c.isalnum() for c in cluster)


def _widen(a: str, a0: int, a1: int, b: str, b0: int, b1: int) -> tuple[int, int, int, int]:
    """Put both spans' edges on grapheme cluster boundaries, then grow them over identical
    punctuation clusters at their edges.

    Token edges move outward: a cluster that straddles one holds a character of a matched
    word (a Thai vowel sign, a skin tone after a letter, an Arabic number sign before digits),
    and cutting inward would drop part of what matched. Punctuation is taken a whole
    cluster at a time, and only when the cluster is the same in both texts: a full stop
    followed by a combining mark in one text and not the other is not shared, and the edge
    stays before it rather than splitting it. Only the clusters at the edges are looked at.
    """
    if _simple_edges(a, a0, a1) and _simple_edges(b, b0, b1):
        return _widen_simple(a, a0, a1, b, b0, b1)
    return _widen_clusters(a, a0, a1, b, b0, b1)


def _widen_clusters(a: str, a0: int, a1: int, b: str, b0: int, b1: int) -> tuple[int, int, int, int]:
    """``_widen`` a grapheme cluster at a time."""
    a0, b0 = _cluster_start(a, a0), _cluster_start(b, b0)
    a1, b1 = _cluster_end(a, a1), _cluster_end(b, b1)
    for _ in range(EDGE_PUNCTUATION):
        if a1 >= len(a) or b1 >= len(b):
            break
        ea, eb = _cluster_end(a, a1 + 1), _cluster_end(b, b1 + 1)
        if a[a1:ea] != b[b1:eb] or not _is_punctuation(a[a1:ea]):
            break
        a1, b1 = ea, eb
    for _ in range(EDGE_PUNCTUATION):
        if a0 <= 0 or b0 <= 0:
            break
        sa, sb = _cluster_start(a, a0 - 1), _cluster_start(b, b0 - 1)
        if a[sa:a0] != b[sb:b0] or not _is_punctuation(a[sa:a0]):
            break
        a0, b0 = sa, sb
    return a0, a1, b0, b1


def _simple_edges(text: str, start: int, end: int) -> bool:
    """Whether every character ``_widen`` may look at around a span is below U+0300 (ASCII,
    Latin-1, Latin Extended: the common case, accented European text included): none of those
    extends or joins a grapheme cluster, so each is a cluster of its own (but CR LF, which is
    space and never taken)."""
    reach = EDGE_PUNCTUATION + 1
    return max(text[max(0, start - reach) : start + 1], default=" ") < "\u0300" \
        and max(text[max(0, end - 1) : end + reach], default=" ") < "\u0300"


def _widen_simple(a: str, a0: int, a1: int, b: str, b0: int, b1: int) -> tuple[int, int, int, int]:
    """``_widen`` where every character it looks at is a cluster of its own."""
    for _ in range(EDGE_PUNCTUATION):
        if a1 < len(a) and b1 < len(b) and a[a1] == b[b1] and not a[a1].isspace() and not a[a1].isalnum():
            a1 += 1
            b1 += 1
        else:
            break
    for _ in range(EDGE_PUNCTUATION):
        if a0 > 0 and b0 > 0 and a[a0 - 1] == b[b0 - 1] and not a[a0 - 1].isspace() \
                and not a[a0 - 1].isalnum():
            a0 -= 1
            b0 -= 1
        else:
            break
    return a0, a1, b0, b1


def merge_segments(segments: list[list[int]], n: int, cfg: PassageConfig) -> list[list[int]]:
    """Join chains that follow each other in both texts with a moderate gap (a rewritten
    sentence), when the joined passage still scores at least ``min_score``.

    Rows are ``[a0, a1, b0, b1, cov_a, cov_b]`` in tokens. Only chains of at least two
    anchors take part: a lone n-gram is not evidence enough to stretch a passage. (Plain
    Python: a pair has few chains, and compiling this took five seconds of a first run.)
    """
    limit = MERGE_GAP_FACTOR * cfg.max_gap + n
    solid = sorted((s for s in segments if s[4] > n), key=lambda s: (s[0], s[2]))
    merged: list[list[int]] = []
    for seg in solid:
        if merged:
            cur = merged[-1]
            ga, gb = seg[0] - cur[1], seg[2] - cur[3]
            if -n <= ga <= limit and -n <= gb <= limit:
                a0, a1, b0, b1 = cur[0], max(cur[1], seg[1]), cur[2], max(cur[3], seg[3])
                cov_a, cov_b = cur[4] + seg[4] - max(0, -ga), cur[5] + seg[5] - max(0, -gb)
                if (cov_a + cov_b) / ((a1 - a0) + (b1 - b0)) >= cfg.min_score:
                    merged[-1] = [a0, a1, b0, b1, cov_a, cov_b]
                    continue
        merged.append(list(seg))
    return merged


def _overlap(s0: int, s1: int, t0: int, t1: int) -> int:
    return max(0, min(s1, t1) - max(s0, t0))


def _rarity(a: AlignedText, b: AlignedText, a0: int, a1: int, b0: int, b1: int) -> float:
    """The mean rarity of the shingles a passage's two spans (tokens ``[a0, a1)``, ``[b0, b1)``)
    share, 0 without corpus counts or without a shared shingle (a span shorter than one)."""
    mine, theirs = a.weights(), b.weights()
    if mine is None or theirs is None:
        return 0.0
    (sa, ra), (sb, _) = mine, theirs
    shared = set(sb[b0 : max(b0, b1 - len(b.tokens) + len(sb))])
    values = [r for s, r in zip(sa[a0 : max(a0, a1 - len(a.tokens) + len(sa))], ra[a0:], strict=False) if s in shared]
    return sum(values) / len(values) if values else 0.0


def evidence(aligned_chars: float, rarity: float) -> float:
    """A passage's evidence of reuse, in characters: its aligned characters weighted by the
    rarity of its shared shingles (``RARITY_WEIGHT``); compared with ``min_evidence``."""
    return aligned_chars * (1.0 + RARITY_WEIGHT * rarity)


def align(a: AlignedText | str, b: AlignedText | str, config: PassageConfig | None = None) -> list[Passage]:
    """Every reused passage between two texts, ordered by position in ``a``.

    >>> shared = "The port of Arden was closed on Monday after dockworkers walked out over pay and pensions."
    >>> p = align("Breaking. " + shared, shared + " More soon.")
    >>> len(p), p[0].a_start, p[0].b_start, p[0].score
    (1, 10, 0, 1.0)
    """
    cfg = config or PassageConfig()
    if cfg.anchors == "auto":
        cfg = decide_anchors(cfg, [t if isinstance(t, str) else t.text for t in (a, b)])[0]
    n = cfg.ngram
    letters = cfg.anchors == "letters"
    if isinstance(a, str) or (letters and a.letters is None):
        a = AlignedText.of(a if isinstance(a, str) else a.text, n, letters=letters)
    if isinstance(b, str) or (letters and b.letters is None):
        b = AlignedText.of(b if isinstance(b, str) else b.text, n, letters=letters)
    if letters:
        return _align_letters(a, b, cfg)
    if (len(a.text), a.text) > (len(b.text), b.text):
        # Chaining and the choice between overlapping passages look at one side first: the
        # two texts are always aligned in one order, so that both orders give the same
        # passages, sides swapped (a scan puts the earlier document first, a query the query).
        swapped = [Passage(p.b_start, p.b_end, p.a_start, p.a_end, p.length, p.score, evidence=p.evidence)
                   for p in _align(b, a, cfg)]
        return sorted(swapped, key=lambda p: (p.a_start, p.b_start))
    return _align(a, b, cfg)


def decide_anchors(config: PassageConfig, texts: Iterable[str]) -> tuple[PassageConfig, OcrSigns | None]:
    """``config`` with ``anchors="auto"`` decided on ``texts``: ``letters`` when they are laid
    out as OCR'd print or read with OCR's errors (``normalize.ocr_signs``), else ``words``; and
    the signs it was decided on (None when ``config`` did not say ``auto``)."""
    if config.anchors != "auto":
        return config, None
    seen = ocr_signs(texts)
    return replace(config, anchors="letters" if seen.looks_like_ocr else "words"), seen


def _align_letters(a: AlignedText, b: AlignedText, cfg: PassageConfig) -> list[Passage]:
    """``align`` on letters (``letters.align_letters``), each passage's evidence weighed by the
    rarity of the words its two spans share, as on words."""
    from .letters import align_letters, shared_rarity

    assert a.letters is not None and b.letters is not None
    prepared = {id(a.letters): a, id(b.letters): b}

    def rarity(x: LetterText, y: LetterText, x0: int, x1: int, y0: int, y1: int) -> float:
        # _rarity over the tokens inside the spans, compiled: in Python, a quarter of a pair's time.
        tx, ty = prepared[id(x)], prepared[id(y)]
        wx, wy = tx.weight_arrays(), ty.weight_arrays()
        if wx is None or wy is None or tx.counts is None:
            return 0.0
        return float(shared_rarity(wx[0], wx[1], tx.tokens.starts, tx.tokens.ends, x0, x1, wy[0], ty.tokens.starts,
                                   ty.tokens.ends, y0, y1, tx.counts.shingle_size))

    return align_letters(a.letters, b.letters, cfg, rarity if a.counts is not None else None)


def _align(a: AlignedText, b: AlignedText, cfg: PassageConfig) -> list[Passage]:
    n = cfg.ngram
    if len(a.anchors) == 0 or len(b.anchors) == 0:
        return []
    ia, ib = _kernels.anchor_matches(a.anchors, b.anchors, MAX_OCCURRENCES)
    if len(ia) == 0:
        return []
    label, n_chains = _kernels.chain_anchors(ia, ib, n, cfg.max_gap, MAX_ACTIVE_CHAINS)
    segments = _kernels.chain_segments(ia, ib, label, n_chains, n, TRIM_GAP)
    na, nb = len(a.tokens), len(b.tokens)
    found: list[tuple[int, Passage]] = []
    for a0, a1, b0, b1, cov_a, cov_b in merge_segments(segments.tolist(), n, cfg):
        a1, b1 = min(a1, na), min(b1, nb)
        cov_a, cov_b = min(cov_a, a1 - a0), min(cov_b, b1 - b0)
        left, right = _kernels.extend_edges(a.tokens.hashes, b.tokens.hashes, a0, a1, b0, b1, EXTEND_DROP,
                                            EXTEND_MIN_GAIN)
        # Extended words count as half aligned: the matches among them do, the edits do not.
        a0, b0, a1, b1 = a0 - left, b0 - left, a1 + right, b1 + right
        cov_a, cov_b = cov_a + (left + right + 1) // 2, cov_b + (left + right + 1) // 2
        score = (cov_a + cov_b) / ((a1 - a0) + (b1 - b0))
        if score < cfg.min_score:
            continue
        ca0, ca1 = int(a.tokens.starts[a0]), int(a.tokens.ends[a1 - 1])
        cb0, cb1 = int(b.tokens.starts[b0]), int(b.tokens.ends[b1 - 1])
        # Length is judged on the aligned characters, so a few shared phrases spread over a
        # long stretch do not pass for a passage; a Han or kana character counts DENSE_WEIGHT.
        long_a = ca1 - ca0 + (DENSE_WEIGHT - 1) * int(a.dense[a1] - a.dense[a0])
        long_b = cb1 - cb0 + (DENSE_WEIGHT - 1) * int(b.dense[b1] - b.dense[b0])
        aligned_chars = min(long_a, long_b) * score
        if aligned_chars < cfg.min_length or evidence(aligned_chars, 1.0) < cfg.min_evidence:
            continue  # too short, or too short to pass even if every word were rare
        weight = evidence(aligned_chars, _rarity(a, b, a0, a1, b0, b1))
        if weight < cfg.min_evidence:
            continue
        ca0, ca1, cb0, cb1 = _widen(a.text, ca0, ca1, b.text, cb0, cb1)
        found.append((cov_a + cov_b, Passage(ca0, ca1, cb0, cb1, max(ca1 - ca0, cb1 - cb0), round(score, 4),
                                             evidence=round(weight, 1))))
    # A chain on a neighbouring diagonal can shadow a passage (a phrase repeated inside it):
    # keep a passage only if it is not mostly inside a stronger one on both sides.
    found.sort(key=lambda t: -t[0])
    kept: list[Passage] = []
    for _, p in found:
        if not any(
            _overlap(p.a_start, p.a_end, q.a_start, q.a_end) > (p.a_end - p.a_start) // 2
            and _overlap(p.b_start, p.b_end, q.b_start, q.b_end) > (p.b_end - p.b_start) // 2
            for q in kept
        ):
            kept.append(p)
    kept.sort(key=lambda p: (p.a_start, p.b_start))
    return kept
