"""Generate news-like corpora with planted reuse whose truth is known.

The generator writes articles that read like wire copy (datelines, quotations, paragraphs of
sentences over a Zipf-distributed vocabulary of pseudo-words mixed with real English function
words) and plants reuse between them, recording the truth:

- **exact copies**: byte-identical text under another id, another source, a later date;
- **near copies**: word edits (substitute, insert, delete) at a rate chosen so that the true
  Jaccard similarity of word 5-shingles (``shingles``) spans ``CorpusSpec.near_jaccard``;
- **partial copies**: blocks of paragraphs of an earlier article copied into an unrelated one,
  edited at a rate from ``CorpusSpec.edit_rates`` (optionally with OCR noise as in old
  newspapers: lines with hyphenated ends, misread letters, split and merged words, lost
  lines), placed anywhere (the very first and last character included), possibly in another
  order than in the source (moved), possibly split by an inserted sentence;
- optionally a **spread** passage (one wire paragraph in many documents from many sources)
  and per-source **boilerplate** (a footer every document of a source carries).

Every document a copy is taken from is used once, and the content of every other document is
drawn afresh, so the recorded truth is complete: two documents that it does not relate share
text only by chance. How much by chance is a choice: by default (``lexicon="grouped"``, no
stock phrases, the corpora of earlier versions) hardly at all (of 2,000 articles, 4 unrelated
pairs in 2 million share a word 5-gram, none an 8-word run); with ``lexicon="zipf"`` and
``stock_phrases=NEWS_STOCK_PHRASES`` about as much as news articles (2.8 % of unrelated pairs
share a 5-gram, 0.24 % three or more, up to a whole stock phrase of 8 words: "did not respond
to a request for comment").

``wire_groups`` makes another kind of corpus: groups of documents from different outlets that
each carry one group's wire paragraph, lightly edited, in otherwise unrelated articles.

Example::

    >>> from twicetold.testing.synthetic import CorpusSpec, generate
    >>> docs, truth = generate(CorpusSpec(n_docs=200, seed=1))
    >>> sorted(docs[0])
    ['date', 'id', 'source', 'text']

From the shell: ``python -m twicetold.testing.synthetic --docs 100000 --seed 1 -o corpus.jsonl.zst``
writes the corpus and ``corpus.jsonl.zst.truth.json`` beside it.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import io
import itertools
import json
import os
import random
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "NEWS_STOCK_PHRASES",
    "CorpusSpec",
    "PlantedPassage",
    "Truth",
    "generate",
    "iter_generate",
    "iter_wire_groups",
    "load_truth",
    "main",
    "shingles",
    "true_jaccard",
    "wire_groups",
    "write_corpus",
    "write_wire_groups",
]

TRUTH_FORMAT = "twicetold-synthetic-truth"
TRUTH_VERSION = 1

# Common English words, most frequent first (their rank sets their Zipf weight).
_FUNCTION_TEXT = """
the of and to a in that is was for it on with as he said at by his be from have has are an
not they this had but were which who their will been its or would she her after about more
also one there two we up than when new out into last over all year other could people some
them what no can first so only if time because years while government since our most against
before many where three like any those then may should country told being such both during
between under week him officials you just made now state through my city do percent did
including day well still even four police former according five next back get off around
another end take group part make went high much made say says go way own how these very long
minister president national public later found local news security part support report
military party month months called due among until across several might come set including
added without whether less left early each show million billion far asked help work since
here plan held least second told late known little however use few area must near never does
same because major since despite within meanwhile already yet statement spokesman spokeswoman
per cent along though behind once again why whose toward towards upon nearly almost likely
recent recently today yesterday tomorrow morning evening night saturday sunday monday tuesday
wednesday thursday friday officials workers residents members leaders council court case told
news agency reported reports official public private company companies market prices price
house family families children women men school schools water power health service services
said officials department region regional international foreign economic political military
capital central northern southern eastern western coast border river road roads office
"""
_FUNCTION_WORDS = tuple(dict.fromkeys(_FUNCTION_TEXT.split()))

_CITIES = (
    "LONDON", "PARIS", "NAIROBI", "LAGOS", "CAIRO", "BEIRUT", "ISTANBUL", "BERLIN", "MADRID",
    "ROME", "WARSAW", "KYIV", "MOSCOW", "TOKYO", "SEOUL", "MANILA", "JAKARTA", "SYDNEY",
    "MUMBAI", "KARACHI", "DHAKA", "LIMA", "BOGOTA", "MEXICO CITY", "TORONTO", "CHICAGO",
    "WASHINGTON", "NEW YORK", "BRUSSELS", "GENEVA", "JOHANNESBURG", "ACCRA", "AMMAN", "DOHA",
)
_AGENCIES = ("Wire", "Meridian", "Newsline", "Atlas", "Northstar", "Continental")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
_OUTLET_PREFIXES = (
    "Harbor", "Valley", "Northern", "Capital", "Coastal", "Metro", "Prairie", "Lakeside", "Summit",
    "River", "Bay", "Highland", "Granite", "Cedar", "Union", "Evening", "Morning", "Frontier",
    "Midland", "Pacific",
)
_OUTLET_SUFFIXES = (
    "Times", "Courier", "Herald", "Gazette", "Post", "Tribune", "Observer", "Ledger", "Chronicle",
    "Dispatch", "Record", "Sentinel", "Journal", "Monitor", "Review", "Examiner", "Bulletin",
    "Star", "Independent", "Express",
)
_FOOTERS = (
    "Subscribe to the {name} newsletter for the day's top stories, delivered every morning. "
    "Copyright {name}. All rights reserved.",
    "Read more local reporting at {name} online. Have a news tip? Write to the {name} newsroom.",
    "This article appeared in the print edition of {name}. Follow {name} for live updates.",
)
# OCR-like confusions: what a scanner reads for a letter.
_OCR_CONFUSIONS = {
    "e": "c", "c": "e", "l": "1", "i": "l", "o": "0", "a": "o", "u": "n", "n": "u", "h": "b",
    "b": "h", "t": "f", "f": "t", "m": "n", "s": "5", "g": "q", "r": "v",
}
# ... and the confusions of one letter with two and back ("rn" read for "m").
_OCR_MULTI = {"m": "rn", "rn": "m", "d": "cl", "cl": "d", "h": "li", "li": "h", "u": "ii", "w": "vv", "vv": "w"}
# OCR of a newspaper column (see _ocr): calibrated on impresso's OCR of two Swiss French
# newspapers of 1900 (shared/data/impresso_passim_1900): lines of 39 characters on average
# (median 43; 10-90 %: 19-50), 22 % of them ending in a hyphen.
_OCR_WIDTH = (34, 48)
_OCR_HYPHEN = 0.7  # of the line ends where a word can be cut: ~22 % of all lines (see the tests)
# Shares of the error budget: characters, split words, merged words, punctuation, lost lines.
_OCR_SHARES = (0.70, 0.15, 0.10, 0.045, 0.005)
_OCR_MARKS = ".,'*;:"
# Stock phrases: the formulas of news prose that make unrelated articles share word 5-grams by
# chance ("said in a statement on Monday", "according to the ministry of health"). Each
# template expands over its slots; _stock_phrase_pool keeps a few hundred of 4 to 8 words.
_STOCK_TEMPLATES = (
    "said in a statement on {day}", "said in a statement that the", "told reporters on {day} that",
    "told reporters at a news conference", "said at a news conference on {day}",
    "a spokesman for the {body} said", "a spokeswoman for the {body} said",
    "according to a statement from the {body}", "according to the {body}",
    "according to figures released by the {body}", "the {body} said in a statement",
    "said on {day} that it would", "in an interview with the news agency",
    "speaking on condition of anonymity", "who spoke on condition of anonymity because",
    "did not respond to a request for comment", "could not be reached for comment",
    "declined to comment on the matter", "it was not immediately clear whether",
    "officials said on {day}", "at the end of the {period}", "earlier this {period} officials said",
    "for the first time since {year}", "in the first half of {year}", "in the {ordinal} quarter of {year}",
    "over the past {number} years", "by the end of the {period}", "at the beginning of the {period}",
    "at least {number} people were killed", "more than {number} people have been",
    "rose {number} percent from a year earlier", "fell {number} percent in the {ordinal} quarter",
    "the highest level since {year}", "up from {number} percent a year ago", "the ministry of {field} said",
    "the head of the {body}", "the prime minister said on {day}", "the president of the {body}",
    "the {body} said on {day}", "a member of the {body}", "as part of an effort to",
    "in the wake of the", "amid growing concerns over the", "in response to a question about",
    "during a visit to the region", "was taken to hospital on {day}", "an investigation is under way",
    "has been in office since {year}", "one of the largest in the country", "the rest of the world",
    "is expected to be announced {when}", "will be held {when}", "the decision was made after",
    "in the capital on {day}", "in the {direction} of the country",
)
_STOCK_SLOTS = {
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "body": ("government", "police", "ministry", "central bank", "army", "electoral commission",
             "health ministry", "interior ministry", "company", "city council", "supreme court", "opposition"),
    "period": ("week", "month", "year"),
    "year": ("2008", "2010", "2015", "2019", "2020"),
    "number": ("two", "three", "five", "ten", "20", "100"),
    "field": ("health", "finance", "defence", "education", "energy", "interior"),
    "ordinal": ("first", "second", "third", "fourth"),
    "when": ("next week", "next month", "later this year"),
    "direction": ("north", "south", "east", "west"),
}
_STOCK_POOL = 300
_STOCK_WORDS = (4, 8)

_ONSETS = (
    "", "", "b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l", "m",
    "n", "p", "pl", "pr", "qu", "r", "s", "sh", "sk", "sl", "st", "t", "th", "tr", "v", "w", "z",
)
_NUCLEI = ("a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "ou", "io", "y")
_CODAS = ("", "", "", "n", "r", "l", "s", "t", "m", "nd", "rt", "st", "ck", "ng", "x", "sh")

_WORD_RE = re.compile(r"\w+")
_AFFIX_RE = re.compile(r"^(\W*)(.*?)(\W*)$", re.S)

# Token forms: bit 0 capitalises, bits 1-2 pick the suffix (none, comma, full stop).
_CAP, _COMMA, _STOP = 1, 2, 4
_N_FORMS = 6
# Realistic chance overlaps (see CorpusSpec.stock_phrases): the share of sentences carrying a
# stock phrase, with the "zipf" lexicon, at which 2.8 % of unrelated pairs of 4,000-character
# articles share a word 5-gram and 0.24 % three or more. An estimate for news, which is more
# formulaic than other prose: on real English web prose of that length (the PAN 2013 source
# documents, shared/data) 0.4 % of unrelated pairs share a 5-gram, 0.02 % three or more.
NEWS_STOCK_PHRASES = 0.02
_LEXICONS = ("grouped", "zipf")
# Roles in the plan of a corpus.
_BACKGROUND, _EXACT, _NEAR, _PARTIAL, _SPREAD = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class CorpusSpec:
    """What to generate; every corpus is a pure function of its spec.

    Rates are shares of ``n_docs``: ``exact_rate`` exact copies, ``near_rate`` near copies
    (true 5-shingle Jaccard drawn uniformly in ``near_jaccard``), ``partial_rate`` documents
    that carry one to ``max_blocks`` paragraph blocks of an earlier document, each planting
    edited at a word-edit rate drawn from ``edit_rates``; a block is at least
    ``min_passage_chars`` long (in the source) unless its source is shorter. With ``ocr_noise``,
    half of the plantings come out as a newspaper's OCR gives them back: set in lines of a
    column (about a fifth of the line ends inside a hyphenated word), with ``ocr_rate`` errors
    per character, of which 70 % misread, dropped, spurious or swapped letters, 15 % split
    words, 10 % merged words, 4.5 % punctuation and 0.5 % lost lines (see ``_ocr``).
    ``moved_rate``: share of multi-block plantings whose blocks appear in another
    order than in the source; ``split_rate``: share of blocks split by an inserted sentence;
    ``same_source_rate``: share of partial copies published by the source's own outlet.

    ``spread_passages`` wire paragraphs (default none) each appear in ``spread_docs``
    documents from ``spread_sources`` outlets, edited at ``spread_edit_rate``; the earliest is
    the origin. ``boilerplate_sources`` outlets (default none) end every document with a footer.

    ``mean_chars`` is the mean document length in characters (log-normal spread; an article
    has at least four sentences, so a ``mean_chars`` under about 600 comes out longer);
    documents have 4 to 10 paragraphs and dates from ``start_date`` over ``days`` days. ``vocab_size`` pseudo-words
    (from ``vocab_seed``, so corpora of different seeds share a language) make the content.
    ``lexicon`` is their law: ``"grouped"`` (the default, as in earlier versions: function
    words 43 % of tokens, content words 51 %, each group its own flat-topped Zipf law, so
    "the" is 2.6 % of tokens) or ``"zipf"`` (one Zipf law, exponent 1, over the ~50,000
    function and content words ranked together: "the" 6.5 %, as in English). A share
    ``stock_phrases`` of sentences (default none) carries one of 300 stock phrases of 4 to 8
    words ("said in a statement on Monday"), themselves drawn by a Zipf law, so that unrelated
    articles share word 5-grams by chance as news articles do; ``NEWS_STOCK_PHRASES`` (with
    ``lexicon="zipf"``) is the realistic setting.
    ``window``: how many recent documents a copy may be taken from (bounds memory).
    """

    n_docs: int
    seed: int = 0
    mean_chars: int = 4000
    exact_rate: float = 0.02
    near_rate: float = 0.05
    partial_rate: float = 0.05
    edit_rates: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1)
    ocr_noise: bool = False
    ocr_rate: float = 0.01
    near_jaccard: tuple[float, float] = (0.3, 0.9)
    max_blocks: int = 3
    min_passage_chars: int = 150
    moved_rate: float = 0.4
    split_rate: float = 0.25
    same_source_rate: float = 0.0
    spread_passages: int = 0
    spread_docs: int = 50
    spread_sources: int = 20
    spread_edit_rate: float = 0.0
    boilerplate_sources: int = 0
    n_sources: int = 40
    start_date: str = "2024-01-01"
    days: int = 365
    vocab_size: int = 50_000
    vocab_seed: int = 0
    lexicon: str = "grouped"
    stock_phrases: float = 0.0
    window: int = 2000
    id_prefix: str = "doc-"

    def __post_init__(self) -> None:
        # Tuples may arrive as lists (from JSON): normalise them, the dataclass stays hashable.
        object.__setattr__(self, "edit_rates", tuple(float(r) for r in self.edit_rates))
        object.__setattr__(self, "near_jaccard", tuple(float(j) for j in self.near_jaccard))

        def check(cond: bool, message: str) -> None:
            if not cond:
                raise ValueError(message)

        check(self.n_docs >= 0, f"n_docs must be >= 0, got {self.n_docs}")
        check(self.mean_chars >= 200, f"mean_chars must be >= 200, got {self.mean_chars}")
        for name in ("exact_rate", "near_rate", "partial_rate", "moved_rate", "split_rate",
                     "same_source_rate"):
            value = getattr(self, name)
            check(0.0 <= value <= 1.0, f"{name} must be in [0, 1], got {value}")
        copies = self.exact_rate + self.near_rate + self.partial_rate
        check(copies <= 0.9, f"exact_rate + near_rate + partial_rate must be <= 0.9, got {copies:g}"
              " (copies need earlier documents to copy from)")
        check(len(self.edit_rates) > 0 and all(0.0 <= r <= 0.5 for r in self.edit_rates),
              f"edit_rates must be a non-empty list of rates in [0, 0.5], got {self.edit_rates}")
        lo, hi = self.near_jaccard
        check(0.0 < lo <= hi < 1.0, f"near_jaccard must satisfy 0 < low <= high < 1, got {self.near_jaccard}")
        check(0.0 <= self.ocr_rate <= 0.2, f"ocr_rate must be in [0, 0.2], got {self.ocr_rate}")
        check(0.0 <= self.spread_edit_rate <= 0.5,
              f"spread_edit_rate must be in [0, 0.5], got {self.spread_edit_rate}")
        check(self.max_blocks >= 1, f"max_blocks must be >= 1, got {self.max_blocks}")
        check(self.min_passage_chars >= 0, f"min_passage_chars must be >= 0, got {self.min_passage_chars}")
        pool = len(_OUTLET_PREFIXES) * len(_OUTLET_SUFFIXES)
        check(2 <= self.n_sources <= pool, f"n_sources must be in [2, {pool}], got {self.n_sources}")
        check(0 <= self.boilerplate_sources <= self.n_sources - 2,
              f"boilerplate_sources must be in [0, n_sources - 2], got {self.boilerplate_sources}"
              " (exact and near copies need two outlets without a footer)")
        if self.spread_passages:
            check(self.spread_docs >= 2, f"spread_docs must be >= 2, got {self.spread_docs}")
            check(1 <= self.spread_sources <= self.n_sources,
                  f"spread_sources must be in [1, n_sources], got {self.spread_sources}")
            need = self.spread_passages * self.spread_docs
            check(need <= self.n_docs // 2,
                  f"spread_passages * spread_docs = {need} needs n_docs >= {2 * need}, got {self.n_docs}")
        check(self.days >= 1, f"days must be >= 1, got {self.days}")
        date.fromisoformat(self.start_date)
        check(1000 <= self.vocab_size <= 1_000_000,
              f"vocab_size must be in [1000, 1e6], got {self.vocab_size}")
        check(self.lexicon in _LEXICONS, f"lexicon must be one of {', '.join(_LEXICONS)}, got {self.lexicon!r}")
        check(0.0 <= self.stock_phrases <= 1.0, f"stock_phrases must be in [0, 1], got {self.stock_phrases}")
        check(self.window >= 1, f"window must be >= 1, got {self.window}")

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain JSON-ready data (``CorpusSpec.from_dict`` reads it back)."""
        d = asdict(self)
        d["edit_rates"] = list(self.edit_rates)
        d["near_jaccard"] = list(self.near_jaccard)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorpusSpec:
        """Rebuild a spec from ``to_dict`` output (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class PlantedPassage:
    """A block of text copied from one document into another, with its exact spans.

    ``source_text[source_start:source_end]`` was copied as ``copy_text[copy_start:copy_end]``
    (Python string indices, half-open). A block is one or more consecutive paragraphs of the
    source, copied in their order; a span covers the paragraphs' text (edits and OCR noise
    included), not the ``"\\n\\n"`` around them. ``edit_rate`` is the word-edit rate applied,
    ``ocr_rate`` the OCR error rate per character (0: none; see ``CorpusSpec``). ``inserted``
    lists copy-side spans of sentences inserted into the block (each with one following space,
    and noisy like the block): cutting them out of the copy span gives back the edited copied
    text. ``moved``: the planting's blocks appear in another order in the copy than in the
    source. ``group`` numbers the planting (the blocks copied together from one source into
    one copy; ``-1 - k`` for the k-th spread passage). ``kind``: ``partial`` or ``spread`` (a
    wire paragraph planted in many documents; then ``source_id`` is the origin).
    """

    source_id: str
    copy_id: str
    source_start: int
    source_end: int
    copy_start: int
    copy_end: int
    edit_rate: float
    ocr_rate: float = 0.0
    inserted: tuple[tuple[int, int], ...] = ()
    moved: bool = False
    group: int = 0
    kind: str = "partial"


@dataclass
class Truth:
    """What was planted in a generated corpus.

    ``exact_pairs``: (original, copy). ``near_pairs``: (original, copy, true Jaccard of word
    5-shingles of the lower-cased texts, see ``true_jaccard``). ``passages``: planted passages.
    ``spread``: one list per spread passage of its occurrences ``(doc_id, start, end)``, the
    origin first. ``boilerplate``: outlet -> footer text every one of its documents ends with.
    """

    exact_pairs: list[tuple[str, str]] = field(default_factory=list)
    near_pairs: list[tuple[str, str, float]] = field(default_factory=list)
    passages: list[PlantedPassage] = field(default_factory=list)
    spread: list[list[tuple[str, int, int]]] = field(default_factory=list)
    boilerplate: dict[str, str] = field(default_factory=dict)
    spec: dict[str, Any] | None = None

    def related_pairs(self) -> set[tuple[str, str]]:
        """Every pair of documents (sorted ids) that shares planted text.

        Exact and near copies share text by nature, so a passage finder that pairs them is
        right; two occurrences of one spread passage are related too.
        """
        pairs: set[tuple[str, str]] = set()

        def add(a: str, b: str) -> None:
            pairs.add((a, b) if a <= b else (b, a))

        for a, b in self.exact_pairs:
            add(a, b)
        for a, b, _ in self.near_pairs:
            add(a, b)
        for p in self.passages:
            add(p.source_id, p.copy_id)
        for occurrences in self.spread:
            ids = [doc_id for doc_id, _, _ in occurrences]
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    add(a, b)
        return pairs

    def planted_ids(self) -> set[str]:
        """Ids of every document that takes part in planted reuse (as original or copy)."""
        return {doc_id for pair in self.related_pairs() for doc_id in pair}

    def to_dict(self) -> dict[str, Any]:
        """The truth as plain JSON-ready data."""
        return {
            "format": TRUTH_FORMAT,
            "version": TRUTH_VERSION,
            "spec": self.spec,
            "exact_pairs": [list(p) for p in self.exact_pairs],
            "near_pairs": [list(p) for p in self.near_pairs],
            "passages": [
                {**asdict(p), "inserted": [list(s) for s in p.inserted]} for p in self.passages
            ],
            "spread": [[list(o) for o in occ] for occ in self.spread],
            "boilerplate": self.boilerplate,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Truth:
        """Read ``to_dict`` output back."""
        if data.get("format") != TRUTH_FORMAT:
            raise ValueError(f"not a twicetold synthetic truth file (format {data.get('format')!r})")
        passages = []
        for p in data["passages"]:
            p = dict(p)
            p["inserted"] = tuple((int(a), int(b)) for a, b in p.get("inserted", ()))
            passages.append(PlantedPassage(**p))
        return cls(
            exact_pairs=[(a, b) for a, b in data["exact_pairs"]],
            near_pairs=[(a, b, float(j)) for a, b, j in data["near_pairs"]],
            passages=passages,
            spread=[[(d, int(s), int(e)) for d, s, e in occ] for occ in data.get("spread", [])],
            boilerplate=dict(data.get("boilerplate", {})),
            spec=data.get("spec"),
        )

    def save(self, path: str | Path) -> None:
        """Write the truth as JSON (atomically: a temporary file renamed into place)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".twicetold-tmp")
        tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    """Word ``n``-shingles of the lower-cased text, words being ``re.findall(r"\\w+", ...)``.

    A text shorter than ``n`` words is one shingle (empty text: none).
    """
    tokens = _WORD_RE.findall(text.lower())
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return set(zip(*(tokens[i:] for i in range(n)), strict=False))


def true_jaccard(a: str, b: str, n: int = 5) -> float:
    """Exact Jaccard similarity of the word ``n``-shingle sets of two texts (see ``shingles``)."""
    sa, sb = shingles(a, n), shingles(b, n)
    if not sa and not sb:
        return 1.0
    inter = len(sa & sb)
    return inter / (len(sa) + len(sb) - inter)


# --------------------------------------------------------------------------------------------
# Vocabulary


class _Lexicon:
    """The language of the corpora: words, their Zipf weights and rendered token forms."""

    def __init__(self, vocab_size: int, vocab_seed: int, law: str = "grouped") -> None:
        rng = np.random.default_rng([vocab_seed, 7919])
        function = list(dict.fromkeys(_FUNCTION_WORDS))
        taken = set(function)
        content = _pseudo_words(rng, vocab_size, taken)
        taken.update(content)
        names = [w.capitalize() for w in _pseudo_words(rng, max(500, vocab_size // 12), taken)]
        numbers = [str(k) for k in range(1, 101)] + [str(y) for y in range(1990, 2031)]
        weights: list[npt.NDArray[np.float64]] = []
        if law == "zipf":
            # One Zipf-Mandelbrot law over the ranked words, function words first: frequency
            # ~ 1 / (rank + 0.3), which puts "the" at ~6.5 %, "of" at ~3.7 %, "and" at ~2.6 %
            # (the Brown corpus: 6.9, 3.6, 2.9 %) and function words at ~half of all tokens.
            # Names and numbers keep shares of their own.
            ranks = np.arange(1, len(function) + len(content) + 1, dtype=np.float64)
            w = 1.0 / (ranks + _ZIPF_Q) ** _ZIPF_S
            weights.append((1.0 - _NAME_SHARE - _NUMBER_SHARE) * w / w.sum())
            groups = [(names, _NAME_SHARE), (numbers, _NUMBER_SHARE)]
        else:
            # "grouped", the law of earlier versions: each group its own Zipf-Mandelbrot law
            # (s = 1, offset 2.7) and share. Flat at the top ("the" at 2.6 %).
            groups = [(function, 0.43), (content, 0.51), (names, _NAME_SHARE), (numbers, _NUMBER_SHARE)]
        for group, share in groups:
            ranks = np.arange(1, len(group) + 1, dtype=np.float64)
            w = 1.0 / (ranks + 2.7)  # Zipf-Mandelbrot, s = 1
            weights.append(share * w / w.sum())
        words = function + content + names + numbers
        # Stock phrases are made of words appended with no weight: never drawn one by one, so
        # they are in the tables (to be rendered) without changing the law above.
        phrase_words: dict[str, int] = {}
        self.phrases: list[npt.NDArray[np.int64]] = []
        for phrase in _stock_phrase_pool(vocab_seed):
            ids = [phrase_words.setdefault(w, len(words) + len(phrase_words)) for w in phrase]
            self.phrases.append(np.asarray(ids, dtype=np.int64))
        words = words + list(phrase_words)
        weights.append(np.zeros(len(phrase_words)))
        # Phrases are drawn by a Zipf law of their own: a few are everywhere ("said in a
        # statement on Monday"), most are occasional.
        phrase_w = 1.0 / np.arange(1, len(self.phrases) + 1, dtype=np.float64)
        self.phrase_cdf: list[float] = np.cumsum(phrase_w / phrase_w.sum()).tolist()
        p = np.concatenate(weights)
        self.words = words
        self.n = len(words)
        self.cdf = np.cumsum(p)
        self.cdf /= self.cdf[-1]
        # A guide table: bucket b of [0, 1) starts its search at the first word whose
        # cumulative weight exceeds b / size, so that sampling costs about one lookup.
        self.guide = np.searchsorted(self.cdf, np.arange(_GUIDE) / _GUIDE, side="right")
        self.names = names
        name_w = 1.0 / (np.arange(1, len(names) + 1) + 2.7)
        self.name_cdf: list[float] = np.cumsum(name_w / name_w.sum()).tolist()
        # Rendered forms, indexed by form * n + word (see _CAP, _COMMA, _STOP).
        caps = [w[:1].upper() + w[1:] for w in words]
        self.table: list[str] = (
            words + caps
            + [w + "," for w in words] + [w + "," for w in caps]
            + [w + "." for w in words] + [w + "." for w in caps]
        )
        # Pieces for the vectorised article maker, copied byte by byte out of one UTF-8
        # buffer: a token is its word (capitalised or not) and a tail: its suffix (none, comma,
        # full stop, closing quote), the separator (space, paragraph break, none) and an
        # opening quote when the next sentence is a quotation.
        tails = [suf + sep + opening for suf in ("", ",", ".", ",”") for sep in (" ", "\n\n", "")
                 for opening in ("", "“")]
        encoded = [w.encode("utf-8") for w in words + caps + tails]
        self.piece_len = np.fromiter((len(b) for b in encoded), np.int64, len(encoded))
        self.piece_start = np.cumsum(self.piece_len) - self.piece_len
        self.piece_bytes = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        self.tail_base = 2 * self.n
        self.said, self.minister = words.index("said"), words.index("minister")
        self.name_offset = len(function) + len(content)
        self.name_cdf_array = np.asarray(self.name_cdf)
        mean_len = float((p * np.fromiter((len(w) for w in words), np.float64, self.n)).sum())
        # Characters per token: the word, one space, and the share of commas and full stops.
        self.chars_per_token = mean_len + 1.0 + _COMMA_P + 1.0 / _MEAN_SENTENCE

    def sample(self, rng: np.random.Generator, k: int) -> npt.NDArray[np.int64]:
        """``k`` word indices drawn from the Zipf mixture.

        The same as ``np.searchsorted(cdf, u, side="right")``, in a few times less time.
        """
        u = rng.random(k)
        idx = self.guide[(u * _GUIDE).astype(np.int64)]
        todo = np.flatnonzero(self.cdf[idx] <= u)
        while todo.size:
            idx[todo] += 1
            todo = todo[self.cdf[idx[todo]] <= u[todo]]
        return np.minimum(idx, self.n - 1).astype(np.int64)

    def name(self, r: random.Random) -> str:
        """A person's surname, drawn with Zipf weights (some people are quoted often)."""
        return self.names[min(bisect.bisect_right(self.name_cdf, r.random()), len(self.names) - 1)]

    def phrase(self, u: float) -> npt.NDArray[np.int64]:
        """The stock phrase (word indices) at the quantile ``u`` of the phrases' Zipf law."""
        k = min(bisect.bisect_right(self.phrase_cdf, u), len(self.phrases) - 1)
        return self.phrases[k]


_GUIDE = 1 << 20
_ZIPF_S, _ZIPF_Q = 1.0, 0.3
_NAME_SHARE, _NUMBER_SHARE = 0.045, 0.015
_COMMA_P = 0.06
_SENTENCE_LEN = (6, 28)
_MEAN_SENTENCE = (_SENTENCE_LEN[0] + _SENTENCE_LEN[1]) / 2
_QUOTE_P = 0.06


@lru_cache(maxsize=4)
def _stock_phrase_pool(vocab_seed: int) -> tuple[tuple[str, ...], ...]:
    """A few hundred stock phrases of 4 to 8 words, most common first (the rank sets the weight).

    Every template expands over its slots; the templates take turns (in an order of their
    own per ``vocab_seed``), each giving its next variant, so the commonest phrases are one
    variant of every template and the tail is the other variants.
    """
    rng = random.Random(vocab_seed * 1_000_003 + 17)
    variants: list[list[tuple[str, ...]]] = []
    for template in _STOCK_TEMPLATES:
        names = re.findall(r"{(\w+)}", template)
        expanded = []
        for values in itertools.product(*(_STOCK_SLOTS[n] for n in names)):
            words = tuple(template.format(**dict(zip(names, values, strict=True))).split())
            if _STOCK_WORDS[0] <= len(words) <= _STOCK_WORDS[1]:
                expanded.append(words)
        rng.shuffle(expanded)
        variants.append(expanded)
    rng.shuffle(variants)
    pool: list[tuple[str, ...]] = []
    for turn in itertools.count():
        row = [v[turn] for v in variants if turn < len(v)]
        if not row or len(pool) >= _STOCK_POOL:
            break
        pool.extend(row)
    return tuple(pool[:_STOCK_POOL])


def _pseudo_words(rng: np.random.Generator, k: int, taken: set[str]) -> list[str]:
    """``k`` distinct pronounceable pseudo-words, shorter ones first (frequent words are short)."""
    out: list[str] = []
    seen = set(taken)
    while len(out) < k:
        m = 2 * (k - len(out)) + 64
        n_syl = rng.choice(np.array([1, 2, 3, 4]), size=m, p=[0.2, 0.42, 0.3, 0.08])
        on = rng.integers(0, len(_ONSETS), size=(m, 4))
        nu = rng.integers(0, len(_NUCLEI), size=(m, 4))
        co = rng.integers(0, len(_CODAS), size=(m, 4))
        for j in range(m):
            w = "".join(
                _ONSETS[on[j, s]] + _NUCLEI[nu[j, s]] + _CODAS[co[j, s]] for s in range(n_syl[j])
            )
            if len(w) >= 2 and w not in seen:
                seen.add(w)
                out.append(w)
                if len(out) == k:
                    break
    noise = rng.normal(0.0, 1.5, size=k)
    order = np.argsort(np.fromiter((len(w) for w in out), np.float64, k) + noise, kind="stable")
    return [out[i] for i in order]


def _article_batch(
    lex: _Lexicon, rng: np.random.Generator, lengths: npt.NDArray[np.float64], stock: float = 0.0
) -> list[str]:
    """Article bodies of about ``lengths`` characters each, made with array operations.

    Each article is whole sentences (6 to 28 words, at least 4 sentences) in 4 to 10
    paragraphs; sentences are capitalised, end with a full stop, carry commas, and some are
    quotations (“Words words,” said minister Name. / Name Name said.); a share ``stock`` of
    them carry a stock phrase. A sentence stream is drawn for the whole batch and cut into
    articles at the sentence end nearest each target.
    """
    lo, hi = _SENTENCE_LEN
    n_docs = len(lengths)
    targets = np.maximum(np.rint(lengths / lex.chars_per_token).astype(np.int64), lo)
    min_sent = 4
    sent_len = rng.integers(lo, hi + 1, size=int(targets.sum()) // lo + min_sent * n_docs + 16)
    sent_end = np.cumsum(sent_len)
    last = np.searchsorted(sent_end, np.cumsum(targets))  # each article's last sentence
    step = np.arange(n_docs) * min_sent + (min_sent - 1)
    last = np.maximum.accumulate(last - step) + step  # at least min_sent sentences each
    n_sent = int(last[-1]) + 1
    sent_end = sent_end[:n_sent]
    sent_len = sent_len[:n_sent]
    sent_start = sent_end - sent_len
    n_tok = int(sent_end[-1])
    doc_of_sent = np.searchsorted(last, np.arange(n_sent))
    first_sent = np.concatenate(([0], last[:-1] + 1))
    # Paragraph breaks: the P - 1 sentence ends with the smallest random keys of each article.
    n_par = np.minimum(rng.integers(4, 11, size=n_docs), last - first_sent + 1)
    keys = rng.random(n_sent)
    keys[last] = 2.0
    order = np.lexsort((keys, doc_of_sent))
    rank = np.arange(n_sent) - first_sent[doc_of_sent[order]]
    par_end = order[rank < (n_par - 1)[doc_of_sent[order]]]

    words = lex.sample(rng, n_tok)
    cap = np.zeros(n_tok, dtype=np.int64)
    cap[sent_start] = 1
    suffix = (rng.random(n_tok) < _COMMA_P).astype(np.int64)
    suffix[sent_end - 1] = 2
    sep = np.zeros(n_tok, dtype=np.int64)
    sep[sent_end[par_end] - 1] = 1
    sep[sent_end[last] - 1] = 2
    opening = np.zeros(n_tok, dtype=np.int64)  # the next token opens a quotation
    is_quoted = (sent_len >= 8) & (rng.random(n_sent) < _QUOTE_P)
    is_quoted[first_sent] = False  # an opening quote is carried by the token before it
    quoted = np.flatnonzero(is_quoted)
    if quoted.size:
        s, e = sent_start[quoted], sent_end[quoted]
        opening[s - 1] = 1
        suffix[e - 4] = 3
        suffix[e - 3] = suffix[e - 2] = 0
        names = lex.name_offset + np.minimum(
            np.searchsorted(lex.name_cdf_array, rng.random((2, quoted.size)), side="right"),
            len(lex.names) - 1,
        )
        said_first = rng.random(quoted.size) < 0.5  # said minister Name. / Name Name said.
        words[e - 3] = np.where(said_first, lex.said, names[0])
        words[e - 2] = np.where(said_first, lex.minister, names[1])
        words[e - 1] = np.where(said_first, names[1], lex.said)
    if stock > 0:  # drawn last, so that a corpus without stock phrases is the one of earlier versions
        _place_phrases(lex, rng, stock, words, suffix, sent_start, sent_len, is_quoted)
    pieces = np.empty((n_tok, 2), dtype=np.int64)
    pieces[:, 0] = words + cap * lex.n
    pieces[:, 1] = lex.tail_base + (suffix * 3 + sep) * 2 + opening
    flat = pieces.ravel()
    plen = lex.piece_len[flat]
    out_end = np.cumsum(plen)
    bounds = [0, *out_end[2 * sent_end[last] - 1].tolist()]
    # The byte index to copy for every output byte: consecutive within a piece, jumping at
    # each piece's start, so a cumulative sum of ones and jumps (empty pieces left out).
    keep = plen > 0
    plen, start = plen[keep], lex.piece_start[flat[keep]]
    out_end = np.cumsum(plen)
    step = np.ones(int(out_end[-1]), dtype=np.int64)
    step[0] = start[0]
    step[out_end[:-1]] = start[1:] - (start[:-1] + plen[:-1] - 1)
    data = lex.piece_bytes[np.cumsum(step)].tobytes()
    return [data[a:b].decode("utf-8") for a, b in itertools.pairwise(bounds)]


def _place_phrases(
    lex: _Lexicon, rng: np.random.Generator, stock: float, words: npt.NDArray[np.int64],
    suffix: npt.NDArray[np.int64], sent_start: npt.NDArray[np.int64], sent_len: npt.NDArray[np.int64],
    is_quoted: npt.NDArray[np.bool_],
) -> None:
    """Write a stock phrase over the words of a share ``stock`` of the sentences, in place.

    A phrase lies anywhere in its sentence but clear of a quotation's closing words and
    attribution (the last four), and carries no comma inside (a comma may follow it).
    """
    chosen = np.flatnonzero(rng.random(len(sent_len)) < stock)
    which = rng.random(chosen.size).tolist()
    where = rng.random(chosen.size).tolist()
    room = (sent_len - 4 * is_quoted)[chosen].tolist()
    for s, u, v, free in zip(chosen.tolist(), which, where, room, strict=True):
        ids = lex.phrase(u)
        m = len(ids)
        if m > free:
            continue
        a = int(sent_start[s]) + int(v * (free - m + 1))
        words[a : a + m] = ids
        inside = suffix[a : a + m - 1]
        inside[inside == 1] = 0


@lru_cache(maxsize=4)
def _lexicon(vocab_size: int, vocab_seed: int, law: str = "grouped") -> _Lexicon:
    return _Lexicon(vocab_size, vocab_seed, law)


@lru_cache(maxsize=1)
def _outlet_pool() -> list[tuple[str, str]]:
    """(slug, display name) of every outlet, in a fixed shuffled order."""
    rng = np.random.default_rng(20240101)
    names = [f"{p} {s}" for p in _OUTLET_PREFIXES for s in _OUTLET_SUFFIXES]
    return [(n.lower().replace(" ", "-"), n) for n in (names[i] for i in rng.permutation(len(names)))]


# --------------------------------------------------------------------------------------------
# Text making and editing


def _ocr(text: str, rate: float, rng: np.random.Generator, counts: dict[str, int] | None = None) -> str:
    """A paragraph as a newspaper's OCR gives it back: laid out in lines, with errors.

    The paragraph is first set in a column (``_layout``): lines of 34 to 48 characters, ended
    by a line feed, about a fifth of them inside a hyphenated word ("newspa-\\nper"). Then
    ``rate`` is the number of errors per character (binomial), shared out (``_OCR_SHARES``) in
    proportions plausible for 19th- and 20th-century newspaper OCR, where most errors fall
    inside words and word segmentation (split and merged words) makes up about a quarter:

    - 70 % characters: misread (``_OCR_CONFUSIONS``, also "rn" for "m", "cl" for "d" and
      back), dropped, spurious (a doubled letter, a speck read as a mark) or swapped letters;
    - 15 % split words ("jeune homme" -> "jeun e homme"): a space inside a word;
    - 10 % merged words: a space lost;
    - 4.5 % punctuation: a spurious mark after a word, or a comma, colon or semicolon lost;
    - 0.5 % lost lines: a line (sometimes two) the scanner missed, 34 to 96 characters gone.

    A lost line counts as one error, so the share of characters changed is a little over
    ``rate``. The text never begins or ends with white space, and gets no empty line, so a
    paragraph stays one paragraph. ``counts`` (when given) gets the errors made, by kind.
    """
    if rate <= 0 or not text:
        return text
    lines = _layout(text, rng)
    n = sum(len(line) + 1 for line in lines) - 1
    k = int(rng.binomial(n, rate))
    n_char, n_split, n_merge, n_punct, n_line = rng.multinomial(k, _OCR_SHARES).tolist()
    lost = 0
    for _ in range(n_line):
        span = min(1 + int(rng.random() < 0.3), len(lines) - 2)  # two lines are always left
        if span < 1:
            break
        j = int(rng.integers(0, len(lines) - span + 1))
        del lines[j : j + span]
        lost += 1
    s = "\n".join(lines)
    eligible = {
        "char": [i for i, c in enumerate(s) if c.isalnum()],
        "split": [i for i in range(1, len(s)) if s[i - 1].isalpha() and s[i].isalpha()],
        "merge": [i for i, c in enumerate(s) if c == " "],
        "punct": [i for i in range(len(s)) if s[i].isalnum() and (i + 1 == len(s) or not s[i + 1].isalnum())],
    }
    ops: dict[int, str] = {}
    for kind, want in (("char", n_char), ("split", n_split), ("merge", n_merge), ("punct", n_punct)):
        where = eligible[kind]
        if want and where:
            for j in rng.choice(len(where), size=min(want, len(where)), replace=False).tolist():
                ops.setdefault(where[j], kind)
    draws = rng.random((len(ops), 2)).tolist()
    letters = rng.integers(0, 26, size=len(ops)).tolist()
    chars = list(s)
    done = {"char": 0, "split": 0, "merge": 0, "punct": 0, "line": lost}
    # Right to left, so that an edit does not shift the positions still to visit.
    for (p, kind), (u, v), letter in zip(sorted(ops.items(), reverse=True), draws, letters, strict=True):
        if kind == "split":
            chars.insert(p, " ")
        elif kind == "merge":
            del chars[p]
        elif kind == "punct":
            if p + 1 < len(chars) and chars[p + 1] in ",;:" and u < 0.3:
                del chars[p + 1]
            else:
                chars.insert(p + 1, _OCR_MARKS[int(v * len(_OCR_MARKS))])
        elif not _ocr_char(chars, p, u, v, letter):
            continue
        done[kind] += 1
    if counts is not None:
        for kind, m in done.items():
            counts[kind] = counts.get(kind, 0) + m
    return "".join(chars)


def _ocr_char(chars: list[str], p: int, u: float, v: float, letter: int) -> bool:
    """One character error at ``p`` (a letter or digit), in place: whether one was made.

    Misread (55 %: a confusion of ``_OCR_CONFUSIONS`` or ``_OCR_MULTI``, else another
    letter), dropped (25 %, not a word of one letter), spurious (15 %: the letter doubled or
    a speck read as a mark) or swapped with the next letter (5 %).
    """
    c = chars[p]
    if u < 0.55:
        low = c.lower()
        pair = low + chars[p + 1].lower() if p + 1 < len(chars) else ""
        if pair in _OCR_MULTI and v < 0.5:
            chars[p : p + 2] = [_OCR_MULTI[pair]]
            return True
        sub = _OCR_MULTI.get(low) if v < 0.25 else None
        sub = sub or _OCR_CONFUSIONS.get(low) or chr(ord("a") + letter)
        if sub == low:
            sub = "e" if low != "e" else "a"
        chars[p] = sub[:1].upper() + sub[1:] if c.isupper() and sub[:1].isalpha() else sub
    elif u < 0.8:
        left = p > 0 and chars[p - 1].isalnum()
        right = p + 1 < len(chars) and chars[p + 1].isalnum()
        if not (left or right):
            return False
        del chars[p]
    elif u < 0.95:
        chars.insert(p + 1, c if v < 0.6 else ".,'"[int((v - 0.6) / 0.4 * 3)])
    else:
        if not (p + 1 < len(chars) and chars[p + 1].isalpha() and chars[p + 1] != c):
            return False
        chars[p], chars[p + 1] = chars[p + 1], c
    return True


def _layout(text: str, rng: np.random.Generator) -> list[str]:
    """A paragraph set in a newspaper column: its lines, a word carried over hyphenated at times.

    The width (``_OCR_WIDTH``) is drawn per paragraph; a word that does not fit is hyphenated
    (with probability ``_OCR_HYPHEN``, when at least two letters fit and two are left) or
    goes to the next line whole.
    """
    width = int(rng.integers(_OCR_WIDTH[0], _OCR_WIDTH[1] + 1))
    words = text.split(" ")
    draws = rng.random(len(words)).tolist()
    lines: list[str] = []
    line = ""
    for word, u in zip(words, draws, strict=True):
        if not line:
            line = word
            continue
        if len(line) + 1 + len(word) <= width:
            line += " " + word
            continue
        room = width - len(line) - 2  # the head of the word after a space, then "-"
        cut = min(room, len(word.rstrip(".,;:”")) - 2)  # two letters at least on the next line
        while cut >= 2 and not (word[cut - 1].isalpha() and word[cut].isalpha()):
            cut -= 1
        if u < _OCR_HYPHEN and cut >= 2 and word[:cut].isalpha():
            lines.append(line + " " + word[:cut] + "-")
            line = word[cut:]
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


@dataclass(slots=True)
class _Src:
    """A recent document that a copy may be taken from."""

    id: str
    text: str
    outlet: int
    day: int
    n_body: int  # paragraphs before the footer (all of them when the outlet has none)


@dataclass(slots=True)
class _Story:
    """A spread passage in progress."""

    origin: str
    day: int
    text: str
    outlets: list[int]
    count: int
    occurrences: list[tuple[str, int, int]]


class _Maker:
    """Generates one corpus, document by document, filling a Truth as it goes."""

    def __init__(self, spec: CorpusSpec, truth: Truth) -> None:
        self.spec = spec
        self.truth = truth
        self.lex = _lexicon(spec.vocab_size, spec.vocab_seed, spec.lexicon)
        plan_seq, text_seq = np.random.SeedSequence(spec.seed).spawn(2)
        # NumPy draws in bulk (words, edit positions); Python's generator draws the many
        # single decisions, where a NumPy call would cost more than the number is worth.
        self.rng = np.random.default_rng(text_seq)
        self.r = random.Random(int.from_bytes(text_seq.generate_state(4).tobytes(), "little"))
        self.articles: list[str] = []
        self.batch = max(8, min(200, 400_000 // spec.mean_chars))
        self.roles, self.story_of = _plan(spec, np.random.default_rng(plan_seq))
        pool = _outlet_pool()[: spec.n_sources]
        self.outlet_slugs = [slug for slug, _ in pool]
        w = 1.0 / np.arange(1, spec.n_sources + 1, dtype=np.float64) ** 0.6
        self.outlet_cdf: list[float] = np.cumsum(w / w.sum()).tolist()
        self.footers = {
            k: _FOOTERS[k % len(_FOOTERS)].format(name=pool[k][1])
            for k in range(spec.boilerplate_sources)
        }
        for k, text in self.footers.items():
            truth.boilerplate[self.outlet_slugs[k]] = text
        self.start = date.fromisoformat(spec.start_date).toordinal()
        self.width = max(6, len(str(max(spec.n_docs - 1, 0))))
        self.win_plain: list[_Src] = []  # outlets without a footer
        self.win_footer: list[_Src] = []
        self.stories: dict[int, _Story] = {}
        self.groups = 0
        self._iso: dict[int, str] = {}

    # -- small helpers -----------------------------------------------------------------------

    def iso(self, day: int) -> str:
        s = self._iso.get(day)
        if s is None:
            s = self._iso[day] = date.fromordinal(self.start + day).isoformat()
        return s

    def outlet(self, exclude: int = -1, footer_ok: bool = True) -> int:
        """An outlet drawn by size, other than ``exclude`` (and with no footer unless allowed)."""
        while True:
            k = bisect.bisect_right(self.outlet_cdf, self.r.random())
            k = min(k, self.spec.n_sources - 1)
            if k != exclude and (footer_ok or k not in self.footers):
                return k

    def dateline(self, day: int) -> str:
        d = date.fromordinal(self.start + day)
        city = self.r.choice(_CITIES)
        agency = self.r.choice(_AGENCIES)
        return f"{city}, {_MONTHS[d.month - 1]} {d.day} ({agency}) -"

    def tokens(self, n_tokens: int) -> tuple[list[str], list[int]]:
        """``n_tokens`` rendered tokens forming whole sentences, and each sentence's end index.

        For the small pieces of fresh text that plantings need (an inserted sentence, a wire
        paragraph); whole articles come from ``_article_batch``, which renders the same way.

        Sentences have 6 to 28 words (the last one 4 or more), start with a capital and end
        with a full stop; some are quotations: “Words words,” said minister Name. A share
        ``CorpusSpec.stock_phrases`` of them carry a stock phrase.
        """
        r, lex = self.r, self.lex
        lo, hi = _SENTENCE_LEN
        n_tokens = max(n_tokens, lo)
        table, n = lex.table, lex.n
        words = lex.sample(self.rng, n_tokens).tolist()
        commas = np.where(self.rng.random(n_tokens) < _COMMA_P, _COMMA, 0).tolist()
        tokens = [table[c * n + w] for c, w in zip(commas, words, strict=True)]
        ends: list[int] = []
        stock = self.spec.stock_phrases
        s = 0
        while s < n_tokens:
            e = s + lo + int(r.random() * (hi - lo + 1))
            if e > n_tokens - 4:
                e = n_tokens
            ends.append(e)
            if stock > 0 and r.random() < stock:  # the same placement as _place_phrases
                ids = lex.phrase(r.random()).tolist()
                free = e - s - 4  # clear of a quotation's closing words, should this be one
                if len(ids) <= free:
                    a = s + int(r.random() * (free - len(ids) + 1))
                    words[a : a + len(ids)] = ids
                    for j in range(a, a + len(ids) - 1):
                        commas[j] = 0
                    tokens[a : a + len(ids)] = [table[commas[j] * n + words[j]] for j in range(a, a + len(ids))]
            tokens[s] = table[(commas[s] | _CAP) * n + words[s]]
            tokens[e - 1] = table[_STOP * n + words[e - 1]]
            if e - s >= 8 and r.random() < _QUOTE_P:
                tokens[s] = "“" + tokens[s]
                tokens[e - 4] = tokens[e - 4].rstrip(",") + ",”"
                name = lex.name(r)
                if r.random() < 0.5:
                    tokens[e - 3], tokens[e - 2], tokens[e - 1] = "said", "minister", name + "."
                else:
                    tokens[e - 3], tokens[e - 2], tokens[e - 1] = lex.name(r), name, "said."
            s = e
        return tokens, ends

    def sentence(self) -> list[str]:
        """One fresh sentence, as tokens."""
        return self.tokens(self.r.randint(*_SENTENCE_LEN))[0]

    def edit(self, tokens: list[str], rate: float) -> list[str]:
        """About ``rate * len(tokens)`` word edits: substitute (50%), delete (25%), insert (25%).

        A substitution keeps the token's punctuation and capitalisation; deletions only take
        plain lower-case words and insertions only follow them, so sentences stay sentences.
        A token holding a paragraph break (``"end.\\n\\nStart"``) is left alone.
        """
        n = len(tokens)
        # round(rate * n), up or down at random: the realised rate is the nominal one.
        k = int(rate * n + self.r.random()) if rate > 0 else 0
        if not k:
            return list(tokens)
        rng, lex = self.rng, self.lex
        positions = np.sort(rng.choice(n, size=min(k, n), replace=False)).tolist()
        ops = rng.random(len(positions)).tolist()
        # Two fresh words per edit at most (a substitution that drew the same word redraws).
        fresh = [lex.words[i] for i in lex.sample(rng, 2 * len(positions)).tolist()]
        out: list[str] = []
        f = prev = 0
        for i, op in zip(positions, ops, strict=True):
            out.extend(tokens[prev:i])
            prev = i + 1
            tok = tokens[i]
            if op >= 0.75 and tok.isalnum():  # insert a word after this one
                out.append(tok)
                out.append(fresh[f])
                f += 1
            elif 0.5 <= op < 0.75 and tok.isalnum() and not tok[0].isupper():  # delete
                continue
            else:  # substitute
                m = _AFFIX_RE.match(tok)
                pre, core, suf = m.groups() if m else ("", tok, "")
                if not core or "\n" in core:
                    out.append(tok)
                    continue
                word = fresh[f]
                f += 1
                if word.lower() == core.lower():
                    word = fresh[f]
                    f += 1
                if core[0].isupper():
                    word = word[:1].upper() + word[1:]
                out.append(pre + word + suf)
        out.extend(tokens[prev:])
        return out

    def new_id(self, i: int) -> str:
        return f"{self.spec.id_prefix}{i:0{self.width}d}"

    def later_day(self, base: int, source_day: int) -> int:
        """A date after the source's: at least one day later, and not before ``base``."""
        return max(base, source_day + 1 + self.r.randrange(3))

    def remember(self, src: _Src) -> None:
        win = self.win_footer if src.outlet in self.footers else self.win_plain
        win.append(src)
        if len(win) > self.spec.window:
            del win[0]

    def take(self, footer_ok: bool) -> _Src | None:
        """Take (and retire: each document is copied once) a random recent document."""
        n_plain, n_footer = len(self.win_plain), (len(self.win_footer) if footer_ok else 0)
        if n_plain + n_footer == 0:
            return None
        k = self.r.randrange(n_plain + n_footer)
        win = self.win_plain if k < n_plain else self.win_footer
        k = k if k < n_plain else k - n_plain
        src = win[k]
        del win[k]
        return src

    def finish(self, doc_id: str, outlet: int, day: int, text: str) -> dict[str, Any]:
        footer = self.footers.get(outlet)
        if footer is not None:
            text = text + "\n\n" + footer
        return {"id": doc_id, "text": text, "source": self.outlet_slugs[outlet], "date": self.iso(day)}

    # -- documents by role ---------------------------------------------------------------------

    def article(self) -> str:
        """A fresh article body (no dateline), from a batch made with array operations."""
        if not self.articles:
            sigma, mean = 0.35, self.spec.mean_chars
            lengths = mean * np.exp(self.rng.normal(-sigma * sigma / 2, sigma, size=self.batch))
            self.articles = _article_batch(self.lex, self.rng, np.clip(lengths, 0.3 * mean, 3 * mean),
                                           self.spec.stock_phrases)
            self.articles.reverse()
        return self.articles.pop()

    def background(self, doc_id: str, day: int) -> dict[str, Any]:
        outlet = self.outlet()
        text = self.article()
        if self.r.random() < 0.5:
            text = self.dateline(day) + " " + text
        self.remember(_Src(doc_id, text, outlet, day, text.count("\n\n") + 1))
        return self.finish(doc_id, outlet, day, text)

    def exact(self, doc_id: str, day: int, src: _Src) -> dict[str, Any]:
        outlet = self.outlet(exclude=src.outlet, footer_ok=False)
        self.truth.exact_pairs.append((src.id, doc_id))
        return self.finish(doc_id, outlet, self.later_day(day, src.day), src.text)

    def near(self, doc_id: str, day: int, src: _Src) -> dict[str, Any]:
        lo, hi = self.spec.near_jaccard
        target = self.r.uniform(lo, hi)
        # With edits at rate r, a shingle survives with probability s = (1 - r)^5 and the
        # Jaccard is about s / (2 - s): invert for r.
        survive = 2 * target / (1 + target)
        rate = 1.0 - survive ** (1 / 5)
        text = " ".join(self.edit(src.text.split(" "), rate))
        outlet = self.outlet(exclude=src.outlet, footer_ok=False)
        self.truth.near_pairs.append((src.id, doc_id, round(true_jaccard(src.text, text), 6)))
        return self.finish(doc_id, outlet, self.later_day(day, src.day), text)

    def block(self, paras: Sequence[str], rate: float, ocr_rate: float) -> tuple[str, list[tuple[int, int]]]:
        """Copy paragraphs: word edits, character noise, maybe a sentence inserted.

        Returns the block's text and the spans (relative to it) of inserted sentences.
        """
        r = self.r
        out = [_ocr(" ".join(self.edit(p.split(" "), rate)), ocr_rate, self.rng) for p in paras]
        inserted: list[tuple[int, int]] = []
        if r.random() < self.spec.split_rate:
            j = r.randrange(len(out))
            toks = out[j].split(" ")
            cuts = [b for b in range(1, len(toks)) if toks[b - 1].endswith((".", ".”"))]
            if cuts:
                b = cuts[r.randrange(len(cuts))]
                new = _ocr(" ".join(self.sentence()), ocr_rate, self.rng)  # noisy like its block
                head = " ".join(toks[:b])
                out[j] = head + " " + new + " " + " ".join(toks[b:])
                start = sum(len(p) + 2 for p in out[:j]) + len(head) + 1
                inserted.append((start, start + len(new) + 1))
        return "\n\n".join(out), inserted

    def partial(self, doc_id: str, day: int, src: _Src) -> dict[str, Any]:
        r, spec = self.r, self.spec
        paras = src.text.split("\n\n")[: src.n_body]
        offsets = np.cumsum([0] + [len(p) + 2 for p in paras]).tolist()
        # Blocks of one or two consecutive paragraphs (more when they are short of
        # min_passage_chars), at least one paragraph apart in the source, so that two blocks
        # can never read as one passage.
        want = r.randrange(1, spec.max_blocks + 1)
        taken = [False] * len(paras)
        blocks: list[tuple[int, int]] = []
        for a in r.sample(range(len(paras)), len(paras)):
            b = min(a + (2 if r.random() < 0.3 else 1), len(paras))
            while b < len(paras) and offsets[b] - 2 - offsets[a] < spec.min_passage_chars:
                b += 1
            if offsets[b] - 2 - offsets[a] < spec.min_passage_chars:
                continue
            if any(taken[max(a - 1, 0):min(b + 1, len(paras))]):
                continue
            for j in range(a, b):
                taken[j] = True
            blocks.append((a, b))
            if len(blocks) == want:
                break
        if not blocks:  # a short source: copy all of it
            blocks.append((0, len(paras)))
        blocks.sort()
        rate = float(spec.edit_rates[r.randrange(len(spec.edit_rates))])
        ocr_rate = spec.ocr_rate if spec.ocr_noise and r.random() < 0.5 else 0.0
        copied = [self.block(paras[a:b], rate, ocr_rate) for a, b in blocks]

        order = list(range(len(blocks)))
        moved = len(blocks) > 1 and r.random() < spec.moved_rate
        if moved:
            order = r.sample(range(len(blocks)), len(blocks))
            if order == sorted(order):
                order.reverse()
        outlet = src.outlet if r.random() < spec.same_source_rate else self.outlet(exclude=src.outlet)
        host = self.article().split("\n\n")
        # Gaps between host paragraphs; the first and the last are favoured so that passages
        # at the very start and end of documents are common.
        gaps = []
        for _ in blocks:
            u = r.random()
            gaps.append(0 if u < 0.15 else len(host) if u < 0.3 else r.randrange(0, len(host) + 1))
        gaps.sort()
        if gaps[0] > 0 and r.random() < 0.5:
            host[0] = self.dateline(day) + " " + host[0]
        at_gap: dict[int, list[int]] = {}
        for g, k in zip(gaps, order, strict=True):
            at_gap.setdefault(g, []).append(k)

        units: list[str] = []
        spans: dict[int, int] = {}
        pos = 0
        for g in range(len(host) + 1):
            for k in at_gap.get(g, []):
                spans[k] = pos
                units.append(copied[k][0])
                pos += len(copied[k][0]) + 2
            if g < len(host):
                units.append(host[g])
                pos += len(host[g]) + 2
        text = "\n\n".join(units)
        group = self.groups
        self.groups += 1
        for k, (a, b) in enumerate(blocks):
            block_text, inserted = copied[k]
            start = spans[k]
            self.truth.passages.append(PlantedPassage(
                source_id=src.id, copy_id=doc_id,
                source_start=offsets[a], source_end=offsets[b] - 2,
                copy_start=start, copy_end=start + len(block_text),
                edit_rate=rate, ocr_rate=ocr_rate,
                inserted=tuple((start + s, start + e) for s, e in inserted),
                moved=moved, group=group,
            ))
        return self.finish(doc_id, outlet, self.later_day(day, src.day), text)

    def spread(self, doc_id: str, day: int, story_index: int) -> dict[str, Any]:
        r, spec = self.r, self.spec
        story = self.stories.get(story_index)
        if story is None:  # the origin: the earliest document of the story
            outlets = r.sample(range(spec.n_sources), spec.spread_sources)
            n_tokens = round(spec.mean_chars / 7 / self.lex.chars_per_token)  # one paragraph
            story = _Story(doc_id, day, " ".join(self.tokens(n_tokens)[0]), outlets, 0, [])
            self.stories[story_index] = story
            self.truth.spread.append(story.occurrences)
            passage = story.text
            day_out = day
        else:
            passage = " ".join(self.edit(story.text.split(" "), spec.spread_edit_rate))
            day_out = max(day, story.day + 1)
        outlet = story.outlets[story.count % len(story.outlets)]
        story.count += 1
        host = self.article().split("\n\n")
        g = r.randrange(0, len(host) + 1)
        text = self.plant_spread(story, doc_id, host, g, passage, spec.spread_edit_rate, story_index)
        return self.finish(doc_id, outlet, day_out, text)

    def plant_spread(self, story: _Story, doc_id: str, host: list[str], at: int, passage: str, rate: float,
                     number: int) -> str:
        """``host``'s paragraphs with ``passage`` put before paragraph ``at``; the occurrence
        is recorded in ``story`` and, for a copy, in the truth (spread story ``number``)."""
        start = sum(len(par) + 2 for par in host[:at])
        story.occurrences.append((doc_id, start, start + len(passage)))
        if story.origin != doc_id:
            first = story.occurrences[0]
            self.truth.passages.append(PlantedPassage(
                source_id=story.origin, copy_id=doc_id, source_start=first[1], source_end=first[2],
                copy_start=start, copy_end=start + len(passage), edit_rate=rate,
                group=-1 - number, kind="spread",
            ))
        return "\n\n".join([*host[:at], passage, *host[at:]])

    def wire(self, n_groups: int, size: int, words: tuple[int, int], max_edit: float) -> Iterator[dict[str, Any]]:
        """Wire groups (see ``iter_wire_groups``): every document is one group's wire paragraph,
        edited a little, in a fresh article; the groups' documents are mixed in id order."""
        r, spec = self.r, self.spec
        group_of = self.rng.permutation(np.repeat(np.arange(n_groups), size)).tolist()
        stories: dict[int, _Story] = {}
        number: dict[int, int] = {}  # group -> its place in truth.spread (order of first appearance)
        for i, g in enumerate(group_of):
            doc_id = self.new_id(i)
            day = (i * spec.days) // spec.n_docs
            story = stories.get(g)
            if story is None:  # the origin, the first of its group in id (so date) order
                text = " ".join(self.tokens(r.randint(*words))[0])
                story = _Story(doc_id, day, text, r.sample(range(spec.n_sources), size), 0, [])
                stories[g] = story
                number[g] = len(self.truth.spread)
                self.truth.spread.append(story.occurrences)
                passage, rate, day_out = text, 0.0, day
            else:
                rate = round(r.uniform(0.0, max_edit), 4)
                passage = " ".join(self.edit(story.text.split(" "), rate))
                day_out = max(day, story.day + 1)
            outlet = story.outlets[story.count]  # a group's documents are from distinct outlets
            story.count += 1
            host = self.article().split("\n\n")
            at = r.randrange(0, len(host) + 1)
            if at > 0 and r.random() < 0.5:
                host[0] = self.dateline(day_out) + " " + host[0]
            text = self.plant_spread(story, doc_id, host, at, passage, rate, number[g])
            yield self.finish(doc_id, outlet, day_out, text)

    def run(self) -> Iterator[dict[str, Any]]:
        n = self.spec.n_docs
        days = self.spec.days
        roles = self.roles
        for i in range(n):
            doc_id = self.new_id(i)
            day = (i * days) // n
            role = int(roles[i])
            src: _Src | None = None
            if role in (_EXACT, _NEAR):
                src = self.take(footer_ok=False)
            elif role == _PARTIAL:
                src = self.take(footer_ok=True)
            if role == _SPREAD:
                yield self.spread(doc_id, day, self.story_of[i])
            elif src is None:
                yield self.background(doc_id, day)
            elif role == _EXACT:
                yield self.exact(doc_id, day, src)
            elif role == _NEAR:
                yield self.near(doc_id, day, src)
            else:
                yield self.partial(doc_id, day, src)


def _plan(spec: CorpusSpec, rng: np.random.Generator) -> tuple[npt.NDArray[np.int8], dict[int, int]]:
    """The role of every position (background, exact, near, partial, spread) up front."""
    n = spec.n_docs
    u = rng.random(n)
    e, ne, p = spec.exact_rate, spec.near_rate, spec.partial_rate
    roles = np.full(n, _BACKGROUND, dtype=np.int8)
    roles[u < e + ne + p] = _PARTIAL
    roles[u < e + ne] = _NEAR
    roles[u < e] = _EXACT
    story_of: dict[int, int] = {}
    if spec.spread_passages:
        # Each story's documents lie within a stretch of the corpus (a news cycle), not all over it.
        stretch = min(n, spec.spread_docs * 8)
        for s in range(spec.spread_passages):
            first = int(rng.integers(0, n - stretch + 1))
            free = [j for j in range(first, first + stretch) if j not in story_of]
            if len(free) < spec.spread_docs:
                free = [j for j in range(n) if j not in story_of]
            chosen = rng.choice(len(free), size=spec.spread_docs, replace=False)
            for j in chosen.tolist():
                story_of[free[j]] = s
                roles[free[j]] = _SPREAD
    return roles, story_of


# --------------------------------------------------------------------------------------------
# Public API


def iter_generate(spec: CorpusSpec, truth: Truth | None = None) -> Iterator[dict[str, Any]]:
    """Yield the corpus's documents one by one, in id order, with bounded memory.

    Each document is a dict ``{"id", "text", "source", "date"}`` (date ISO ``YYYY-MM-DD``).
    Pass a ``Truth`` to have it filled as documents are made; it is complete once the iterator
    is exhausted (a copy's record is added when the copy is yielded, after its original).
    """
    if truth is None:
        truth = Truth()
    truth.spec = spec.to_dict()
    return _Maker(spec, truth).run()


def generate(spec: CorpusSpec) -> tuple[list[dict[str, Any]], Truth]:
    """Make the whole corpus in memory: its documents (see ``iter_generate``) and its truth.

    Example::

        >>> docs, truth = generate(CorpusSpec(n_docs=500, seed=3))
        >>> len(docs), len(truth.exact_pairs) > 0
        (500, True)
    """
    truth = Truth()
    docs = list(iter_generate(spec, truth))
    return docs, truth


def _open_text_writer(path: Path) -> IO[str]:
    """A text writer that compresses by extension: ``.gz`` (gzip), ``.zst`` (zstandard)."""
    name = path.name
    if name.endswith(".twicetold-tmp"):
        name = name[: -len(".twicetold-tmp")]
    if name.endswith(".gz"):
        return gzip.open(path, "wt", encoding="utf-8", compresslevel=1)
    if name.endswith(".zst"):
        import zstandard

        raw = open(path, "wb")  # noqa: SIM115 (closed through the wrapper)
        writer = zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=True)
        return io.TextIOWrapper(writer, encoding="utf-8")
    return open(path, "w", encoding="utf-8")


def truth_path(corpus_path: str | Path) -> Path:
    """Where ``write_corpus`` puts the truth of a corpus: the corpus path + ``.truth.json``."""
    corpus_path = Path(corpus_path)
    return corpus_path.with_name(corpus_path.name + ".truth.json")


def _write_jsonl(docs: Iterator[dict[str, Any]], path: Path) -> None:
    """Write documents as JSON Lines to a temporary name, renamed into place when complete."""
    tmp = path.with_name(path.name + ".twicetold-tmp")
    try:
        with _open_text_writer(tmp) as f:
            batch: list[str] = []
            for doc in docs:
                batch.append(json.dumps(doc, ensure_ascii=False))
                if len(batch) >= 1000:
                    f.write("\n".join(batch) + "\n")
                    batch.clear()
            if batch:
                f.write("\n".join(batch) + "\n")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_corpus(spec: CorpusSpec, path: str | Path) -> Truth:
    """Stream the corpus to ``path`` as JSON Lines and its truth to ``path + ".truth.json"``.

    The corpus is compressed when the name ends in ``.gz`` or ``.zst``. Both files are written
    to temporary names and renamed into place, so a failed run leaves no half-written corpus.
    Memory stays bounded whatever ``n_docs`` (documents are not held; the truth is).
    """
    path = Path(path)
    truth = Truth()
    _write_jsonl(iter_generate(spec, truth), path)
    truth.save(truth_path(path))
    return truth


def iter_wire_groups(
    n_groups: int,
    group_size: int,
    seed: int = 0,
    truth: Truth | None = None,
    *,
    words: tuple[int, int] = (60, 120),
    max_edit_rate: float = 0.02,
    mean_chars: int = 3000,
    days: int = 30,
    stock_phrases: float = NEWS_STOCK_PHRASES,
    lexicon: str = "zipf",
    id_prefix: str = "doc-",
) -> Iterator[dict[str, Any]]:
    """Yield a corpus of wire groups: ``n_groups * group_size`` documents, in groups.

    Each group's documents carry one wire paragraph (``words`` words, drawn per group), each
    from a different outlet, edited per outlet at a word-edit rate drawn uniformly in
    ``[0, max_edit_rate]`` (the group's first document, its origin, unedited), placed between
    the paragraphs of an otherwise fresh article (``mean_chars`` characters on average) that
    shares nothing else by design (stock phrases aside, at the share ``stock_phrases``). The
    groups' documents are mixed in id order; dates run over ``days`` days, each copy at least
    a day after its origin.

    The truth (``truth``, filled as documents are made) records each group as a spread
    passage: ``truth.spread[k]`` lists its occurrences ``(doc_id, start, end)``, the origin
    first, and ``truth.passages`` holds one ``PlantedPassage`` (kind ``spread``, group
    ``-1 - k``, its edit rate) per copy. The groups are numbered in order of first appearance.

    Example::

        >>> docs, truth = wire_groups(3, 4, seed=1)
        >>> len(docs), [len(occ) for occ in truth.spread]
        (12, [4, 4, 4])
    """
    pool = len(_OUTLET_PREFIXES) * len(_OUTLET_SUFFIXES)
    if n_groups < 1 or not 2 <= group_size <= pool:
        raise ValueError(f"need n_groups >= 1 and group_size in [2, {pool}], got {n_groups}, {group_size}")
    if not 1 <= words[0] <= words[1]:
        raise ValueError(f"words must satisfy 1 <= low <= high, got {words}")
    if not 0.0 <= max_edit_rate <= 0.5:
        raise ValueError(f"max_edit_rate must be in [0, 0.5], got {max_edit_rate}")
    spec = CorpusSpec(
        n_docs=n_groups * group_size, seed=seed, mean_chars=mean_chars, exact_rate=0.0, near_rate=0.0,
        partial_rate=0.0, n_sources=max(40, group_size), days=days, stock_phrases=stock_phrases,
        lexicon=lexicon, id_prefix=id_prefix,
    )
    if truth is None:
        truth = Truth()
    truth.spec = {**spec.to_dict(), "wire_groups": n_groups, "group_size": group_size,
                  "wire_words": list(words), "max_edit_rate": max_edit_rate}
    return _Maker(spec, truth).wire(n_groups, group_size, (int(words[0]), int(words[1])), max_edit_rate)


def wire_groups(n_groups: int, group_size: int, seed: int = 0, **options: Any) -> tuple[list[dict[str, Any]], Truth]:
    """A wire-groups corpus in memory, and its truth (see ``iter_wire_groups``)."""
    truth = Truth()
    docs = list(iter_wire_groups(n_groups, group_size, seed, truth, **options))
    return docs, truth


def write_wire_groups(path: str | Path, n_groups: int, group_size: int, seed: int = 0, **options: Any) -> Truth:
    """Stream a wire-groups corpus (``iter_wire_groups``) to ``path``, its truth beside it."""
    path = Path(path)
    truth = Truth()
    _write_jsonl(iter_wire_groups(n_groups, group_size, seed, truth, **options), path)
    truth.save(truth_path(path))
    return truth


def load_truth(path: str | Path) -> Truth:
    """Read a truth file; ``path`` is the truth JSON or the corpus it belongs to."""
    path = Path(path)
    if not path.name.endswith(".truth.json"):
        path = truth_path(path)
    return Truth.from_dict(json.loads(path.read_text(encoding="utf-8")))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m twicetold.testing.synthetic --docs N --seed S -o corpus.jsonl``."""
    parser = argparse.ArgumentParser(
        prog="python -m twicetold.testing.synthetic",
        description="Generate a news-like corpus with planted reuse (JSON Lines) and its truth "
        "(OUTPUT.truth.json).",
        epilog="Example: python -m twicetold.testing.synthetic --docs 100000 --seed 1 -o news.jsonl.zst; "
        "wire groups: --wire-groups 80 --group-size 250 -o wire.jsonl",
    )
    parser.add_argument("--docs", type=int, help="number of documents (required unless --wire-groups)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("-o", "--output", required=True,
                        help="output file (.jsonl, .jsonl.gz or .jsonl.zst)")
    parser.add_argument("--mean-chars", type=int, default=None,
                        help="mean document length (default 4000; 3000 with --wire-groups)")
    parser.add_argument("--exact-rate", type=float, default=0.02, help="share of exact copies")
    parser.add_argument("--near-rate", type=float, default=0.05, help="share of near copies")
    parser.add_argument("--partial-rate", type=float, default=0.05,
                        help="share of documents carrying copied paragraphs")
    parser.add_argument("--edit-rates", default="0,0.02,0.05,0.1",
                        help="word-edit rates of copied paragraphs, comma-separated")
    parser.add_argument("--ocr-noise", action="store_true",
                        help="OCR noise (column layout, hyphenated line ends, misread letters, split and "
                        "merged words, lost lines) on half of the partial copies")
    parser.add_argument("--ocr-rate", type=float, default=0.01,
                        help="with --ocr-noise, errors per character (default 0.01; at most 0.2)")
    parser.add_argument("--realistic", action="store_true",
                        help=f"realistic chance overlaps: --lexicon zipf --stock-phrases {NEWS_STOCK_PHRASES:g} "
                        "(the default with --wire-groups)")
    parser.add_argument("--stock-phrases", type=float, default=None,
                        help="share of sentences carrying a stock phrase (default 0, none; "
                        f"{NEWS_STOCK_PHRASES:g} with --realistic)")
    parser.add_argument("--lexicon", choices=_LEXICONS, default=None,
                        help="word law: grouped (default) or zipf (one Zipf law, with --realistic)")
    parser.add_argument("--spread-passages", type=int, default=0,
                        help="wire paragraphs spread over --spread-docs documents each")
    parser.add_argument("--spread-docs", type=int, default=50)
    parser.add_argument("--spread-sources", type=int, default=20)
    parser.add_argument("--boilerplate-sources", type=int, default=0,
                        help="outlets whose every document ends with a footer")
    parser.add_argument("--same-source-rate", type=float, default=0.0,
                        help="share of partial copies published by the source's own outlet")
    parser.add_argument("--wire-groups", type=int, default=0,
                        help="instead: this many groups of --group-size documents sharing a wire paragraph")
    parser.add_argument("--group-size", type=int, default=250, help="documents per wire group (default 250)")
    args = parser.parse_args(argv)
    realistic = args.realistic or bool(args.wire_groups)
    stock = args.stock_phrases if args.stock_phrases is not None else NEWS_STOCK_PHRASES if realistic else 0.0
    lexicon = args.lexicon or ("zipf" if realistic else "grouped")
    t0 = time.perf_counter()
    try:
        if args.wire_groups:
            truth = write_wire_groups(
                args.output, args.wire_groups, args.group_size, args.seed,
                mean_chars=args.mean_chars or 3000, stock_phrases=stock, lexicon=lexicon,
            )
            n_docs = args.wire_groups * args.group_size
        else:
            if args.docs is None:
                parser.error("--docs is required (unless --wire-groups)")
            spec = CorpusSpec(
                n_docs=args.docs, seed=args.seed, mean_chars=args.mean_chars or 4000,
                exact_rate=args.exact_rate, near_rate=args.near_rate, partial_rate=args.partial_rate,
                edit_rates=tuple(float(x) for x in args.edit_rates.split(",") if x.strip()),
                ocr_noise=args.ocr_noise, ocr_rate=args.ocr_rate, spread_passages=args.spread_passages,
                spread_docs=args.spread_docs, spread_sources=args.spread_sources,
                boilerplate_sources=args.boilerplate_sources, same_source_rate=args.same_source_rate,
                stock_phrases=stock, lexicon=lexicon,
            )
            truth = write_corpus(spec, args.output)
            n_docs = args.docs
    except ValueError as exc:
        parser.error(str(exc))
    dt = time.perf_counter() - t0
    size = Path(args.output).stat().st_size
    print(
        f"wrote {n_docs} documents ({size / 1e6:.1f} MB) to {args.output} in {dt:.1f} s; "
        f"{len(truth.exact_pairs)} exact, {len(truth.near_pairs)} near copies, "
        f"{len(truth.passages)} planted passages ({len(truth.spread)} spread); truth in {truth_path(args.output)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
