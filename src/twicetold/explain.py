"""Explain a pair: the passages with their differences marked and the parameters that admitted
them, or, for "why didn't these two match?", the stage that dropped the pair and why.

Every verdict is read from one run of the same stages ``scan`` uses (``plan.run_stages``), so
an explanation cannot disagree with the results.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import _kernels, diff
from .align import AlignedText, align
from .config import ScanConfig
from .errors import InputError
from .lsh import bands_for
from .model import Pair, Passage
from .pairs import ordered
from .plan import ScanState, run_stages


@dataclass(frozen=True)
class Verdict:
    """What one stage said of the pair: ``passed`` or not, and the figures behind it."""

    stage: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Difference:
    """One stretch of an aligned passage: ``equal``, ``replace``, ``delete`` (only in a) or
    ``insert`` (only in b), with the original text of each side."""

    op: str
    a: str
    b: str


@dataclass
class Explanation:
    """Why a pair was or was not reported: one verdict per stage in the order they run, the
    reported pair if any, and each passage's word-level differences."""

    a: str
    b: str
    reported: bool
    verdicts: list[Verdict]
    pair: Pair | None = None
    differences: list[list[Difference]] = field(default_factory=list)
    dropped_passages: list[tuple[Passage, str]] = field(default_factory=list)
    parameters: dict[str, object] = field(default_factory=dict)

    @property
    def dropped_at(self) -> str | None:
        """The stage that dropped the pair, None when it was reported. ``exact`` and ``near``
        are one way to be paired and passages the other, so the verdict that counts is the
        first failure on the passage path (read, candidates, align) or, inside a cluster,
        the pairing rule."""
        if self.reported:
            return None
        gates = ("read", "pairs", "candidates", "align")
        return next((v.stage for v in self.verdicts if v.stage in gates and not v.passed), "align")


def word_differences(a: str, b: str) -> list[Difference]:
    """Word-level differences between two passages (``diff``: the ones the report and the web
    app mark too), each stretch with its original text.

    >>> [(d.op, d.a, d.b) for d in word_differences("the army said on Monday", "the Army said Tuesday")]
    [('equal', 'the army said ', 'the Army said '), ('replace', 'on Monday', 'Tuesday')]
    """
    ta, tb = diff.tokens(a), diff.tokens(b)

    def span(t: list[diff.Token], text: str, i: int, j: int, last: bool) -> str:
        if i == j:
            return ""
        # Stretches run from a token's start to the next stretch's first token (or the end).
        end = len(text) if last else t[j].start if j < len(t) else t[j - 1].end
        return text[t[i].start : end]

    out = []
    ops = diff.opcodes(ta, tb)
    for k, (op, i1, i2, j1, j2) in enumerate(ops):
        last = k == len(ops) - 1
        out.append(Difference(op, span(ta, a, i1, i2, last), span(tb, b, j1, j2, last)))
    return out


def explain(inputs: Sequence[str | os.PathLike[str]], a: str, b: str, config: ScanConfig | None = None) -> Explanation:
    """Explain what a scan did with documents ``a`` and ``b`` of the corpus ``inputs``.

    Raises ``InputError`` when either id is not in the corpus (naming the input problems, if
    any, that mention it).
    """
    cfg = config or ScanConfig()
    with run_stages(inputs, cfg) as st:
        return _explain(st, a, b)


def _explain(st: ScanState, a_id: str, b_id: str) -> Explanation:
    cfg = st.config
    rows = []
    for doc_id in (a_id, b_id):
        row = st.index_of(doc_id)
        if row is None:
            mentioned = [p.message for p in st.problems if doc_id in p.where or doc_id in p.message]
            raise InputError(f"no document {doc_id!r} in the corpus" + (f" ({mentioned[0]})" if mentioned else ""),
                             "check the id (ids of a folder are paths without .txt)")
        rows.append(row)
    i, j = rows
    verdicts: list[Verdict] = []
    params = {"shingle_size": cfg.sketch.shingle_size, "num_perm": cfg.sketch.num_perm,
              "threshold": cfg.near.threshold, "bands_rows": bands_for(cfg.near, cfg.sketch.num_perm),
              **{k: getattr(cfg.passages, k) for k in (
                  "ngram", "max_df", "min_shared", "min_evidence", "min_length", "max_gap", "min_score",
                  "boilerplate_share", "keep_boilerplate")}}
    f = st.features
    words = (int(f.n_tokens[i]), int(f.n_tokens[j]))
    verdicts.append(Verdict("read", min(words) > 0, f"{words[0]} and {words[1]} words"))
    same_text = bool((f.content[i] == f.content[j]).all())
    jac = float(_kernels.estimate_jaccard(f.signatures, np.array([[i, j]]))[0])
    verdicts.append(Verdict("exact", same_text, "same text after normalization" if same_text else "texts differ"))
    verdicts.append(Verdict("near", bool(jac >= cfg.near.threshold),
                            f"estimated Jaccard {jac:.3f} vs threshold {cfg.near.threshold}"))
    comps = st.components
    same_cluster = bool(comps.label[i] == comps.label[j])
    if same_cluster:
        canon = st.corpus.records[int(comps.canonical[i])].id
        verdicts.append(Verdict("cluster", True, f"same near-duplicate cluster; canonical member {canon!r}"))
    reported = next((p for p in st.passages.pairs if {p.a, p.b} == {a_id, b_id}), None)
    if same_cluster and reported is None:
        verdicts.append(Verdict("pairs", False, "both are in one near-duplicate cluster: each member is paired "
                                                "with the canonical member only"))
    if cfg.passages.enabled:
        verdicts.append(_candidate_verdict(st, i, j))
    first, second = ordered(i, j, st.corpus.records, st.corpus.order_dates)  # the pair's a and b, as scan orders them
    ta, tb = st.text(first), st.text(second)
    dropped: list[tuple[Passage, str]] = []
    if cfg.passages.enabled:
        # What alignment finds with every filter off, and which filter let each passage go.
        loose = replace(cfg.passages, min_length=1, min_score=0.0, min_evidence=0.0)
        counts = st.candidates.counts
        raw = align(AlignedText.of(ta, cfg.passages.ngram, counts), AlignedText.of(tb, cfg.passages.ngram, counts),
                    loose)
        kept = {(x.a_start, x.b_start) for x in (reported.passages if reported else [])}
        for x in raw:
            if (x.a_start, x.b_start) in kept:
                continue
            aligned_chars = min(x.a_end - x.a_start, x.b_end - x.b_start) * x.score
            if x.score < cfg.passages.min_score:
                dropped.append((x, f"score {x.score:.2f} < min_score {cfg.passages.min_score}"))
            elif aligned_chars < cfg.passages.min_length:
                dropped.append((x, f"{aligned_chars:.0f} aligned characters < min_length {cfg.passages.min_length}"))
            elif x.evidence is not None and x.evidence < cfg.passages.min_evidence:
                dropped.append((x, f"evidence {x.evidence:.0f} < min_evidence {cfg.passages.min_evidence:g} "
                                   f"({aligned_chars:.0f} aligned characters, weighted by the rarity of its words)"))
            else:
                dropped.append((x, "boilerplate (recurs as a template; --keep-boilerplate keeps it)"))
        n_found = len(reported.passages) if reported else 0
        verdicts.append(Verdict("align", bool(n_found > 0 or same_cluster),
                                f"{n_found} passage(s) reported, {len(dropped)} below the filters"))
    differences = []
    if reported is not None:
        differences = [word_differences(ta[x.a_start : x.a_end], tb[x.b_start : x.b_end]) for x in reported.passages]
    return Explanation(a_id, b_id, reported is not None, verdicts, reported, differences, dropped, params)


def _candidate_verdict(st: ScanState, i: int, j: int) -> Verdict:
    """Whether the candidates stage paired the two (read from its pairs), and why: how many
    shingles they share and how many of those are rare enough to count, or letter grams."""
    f, cfg = st.features, st.config.passages
    pairs = st.candidates.pairs
    key = (min(i, j) << 32) | max(i, j)
    keys = (pairs[:, 0] << 32) | pairs[:, 1]
    at = int(np.searchsorted(keys, key))
    paired = at < len(keys) and int(keys[at]) == key
    shared = np.intersect1d(f.shingle_set(i), f.shingle_set(j))
    if len(shared) == 0:
        return Verdict("candidates", paired, "shared letter grams (anchors=letters)" if paired else "no shared shingle")
    # Document frequency of each shared shingle over the corpus, as the candidates stage
    # counts it (on the packed postings' 40 high bits).
    high = ~np.uint64(_kernels.DOC_MASK)
    flat, offsets = f.shingles.joined()
    keys_ = flat & high
    docs = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    hit = np.isin(keys_, shared & high)
    postings = np.unique(np.stack([keys_[hit], docs[hit].astype(np.uint64)], axis=1), axis=0)
    holders, df_of = np.unique(postings[:, 0], return_counts=True)
    df = df_of[np.searchsorted(holders, shared & high)]
    rare = int(np.count_nonzero(df <= cfg.max_df))
    why = (f"{len(shared)} shared shingles, {rare} in at most max_df={cfg.max_df} documents "
           f"(min_shared={cfg.min_shared})")
    if paired and rare < cfg.min_shared:
        why += "; paired on shared letter grams (anchors=letters)"
    return Verdict("candidates", paired, why)
