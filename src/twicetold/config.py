"""One frozen configuration dataclass per stage, validated on construction.

``ScanConfig`` bundles them; ``ScanConfig.to_dict()`` is what ``run.json`` records.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .errors import ConfigError

KeepRule = Literal["earliest", "longest", "first"]
Anchors = Literal["auto", "words", "letters"]


def _check(cond: bool, message: str, hint: str | None = None) -> None:
    if not cond:
        raise ConfigError(message, hint)


@dataclass(frozen=True)
class ReadConfig:
    """How inputs are read.

    ``format`` forces a format (``txt``, ``jsonl``, ``csv``, ``parquet``) where the file name
    does not say it (standard input, odd extensions). ``max_chars``: longer documents are
    truncated for matching, with a warning naming them.
    """

    id_column: str = "id"
    text_column: str = "text"
    date_column: str = "date"
    source_column: str = "source"
    format: str | None = None
    max_chars: int = 10_000_000
    strict: bool = False

    def __post_init__(self) -> None:
        _check(
            self.format in (None, "txt", "jsonl", "csv", "tsv", "parquet"),
            f"unknown input format {self.format!r}",
            "use one of: txt, jsonl, csv, tsv, parquet",
        )
        _check(self.max_chars > 0, f"max_chars must be positive, got {self.max_chars}")


@dataclass(frozen=True)
class SketchConfig:
    """MinHash sketches over word shingles (one-permutation hashing with densification).

    ``seed`` fixes every hash function, so signatures stay comparable across runs and versions.
    """

    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1

    def __post_init__(self) -> None:
        _check(1 <= self.shingle_size <= 32, f"shingle_size must be 1..32, got {self.shingle_size}")
        _check(
            self.num_perm >= 8 and self.num_perm & (self.num_perm - 1) == 0,
            f"num_perm must be a power of two >= 8, got {self.num_perm}",
            "try 64, 128 or 256",
        )


@dataclass(frozen=True)
class NearConfig:
    """Near-duplicate documents: LSH banding for ``threshold``, every candidate verified.

    ``bands``/``rows`` are chosen from the threshold when not given (see ``lsh.optimal_bands``).
    """

    threshold: float = 0.6
    bands: int | None = None
    rows: int | None = None
    exact_jaccard: bool = False

    def __post_init__(self) -> None:
        _check(0.0 < self.threshold <= 1.0, f"threshold must be in (0, 1], got {self.threshold}")
        _check(
            (self.bands is None) == (self.rows is None),
            "give both bands and rows, or neither",
        )


@dataclass(frozen=True)
class PassageConfig:
    """Reused passages.

    - ``anchors``: what alignment anchors on: ``words`` (word n-grams, for text typed or
      published digitally), ``letters`` (letter k-grams over the letters alone, then a
      character-level alignment: for OCR'd text, whose split and merged words and misread
      letters break word n-grams; documents sharing letter grams are then candidate pairs
      too; see ``letters``) or ``auto``: letters when the corpus is laid out as OCR'd print
      (lines that break inside hyphenated words) or read with OCR's errors (many words
      seen once), see ``normalize.ocr_signs``; else words.
    - ``ngram``: words per anchor n-gram inside an alignment (small, to survive edits).
    - ``max_df``: a shingle (``SketchConfig.shingle_size`` words) found in more than this many
      documents is ignored as boilerplate when looking for candidate pairs; the default still
      finds a paragraph printed by a couple of hundred outlets.
    - ``min_shared``: distinct rare shingles two documents must share to be aligned.
    - ``min_evidence``: least evidence of reuse a passage must carry to be reported: its aligned
      characters (the shorter side's span times the score, so scattered common phrases do not
      add up to a passage) weighted by the rarity of its shared shingles in the corpus
      (``align.evidence``): a short passage of rare words passes, a formula of common words
      needs more length.
    - ``min_length``: a floor: shortest passage reported, in aligned characters, whatever its
      evidence.
    - ``max_gap``: most words without a shared n-gram inside one passage (edits, OCR noise).
    - ``min_score``: lowest share of aligned words for a passage to be reported.
    - ``cluster_overlap``: two occurrences in one document join one passage cluster when they
      overlap by this share of the shorter one.
    - ``boilerplate_share``, ``boilerplate_min_docs``: a passage cluster is boilerplate when it
      occurs in at least ``boilerplate_min_docs`` documents that make up this share of one
      source's documents (or of the corpus, when it also recurs within sources); such
      passages are left out unless ``keep_boilerplate``.
    """

    anchors: Anchors = "auto"
    ngram: int = 3
    max_df: int = 250
    min_shared: int = 2
    min_evidence: float = 80.0
    min_length: int = 25
    max_gap: int = 12
    min_score: float = 0.5
    cluster_overlap: float = 0.5
    boilerplate_share: float = 0.5
    boilerplate_min_docs: int = 3
    keep_boilerplate: bool = False
    enabled: bool = True

    def __post_init__(self) -> None:
        _check(self.anchors in ("auto", "words", "letters"), f"unknown anchors {self.anchors!r}",
               "use auto, words or letters")
        _check(1 <= self.ngram <= 16, f"passage ngram must be 1..16, got {self.ngram}")
        _check(self.max_df >= 2, f"max_df must be at least 2, got {self.max_df}")
        _check(self.min_shared >= 1, f"min_shared must be positive, got {self.min_shared}")
        _check(self.min_length >= 1, f"min_length must be positive, got {self.min_length}")
        _check(self.min_evidence >= 0, f"min_evidence must be >= 0, got {self.min_evidence}")
        _check(self.max_gap >= 0, f"max_gap must be >= 0, got {self.max_gap}")
        _check(0.0 <= self.min_score <= 1.0, f"min_score must be in [0, 1], got {self.min_score}")
        _check(0.0 < self.cluster_overlap <= 1.0, f"cluster_overlap must be in (0, 1], got {self.cluster_overlap}")
        _check(0.0 < self.boilerplate_share <= 1.0,
               f"boilerplate_share must be in (0, 1], got {self.boilerplate_share}")
        _check(self.boilerplate_min_docs >= 2, f"boilerplate_min_docs must be >= 2, got {self.boilerplate_min_docs}")


@dataclass(frozen=True)
class ScanConfig:
    """Everything a scan needs. ``workers=0`` means all cores.

    ``memory_budget_mb``: the shingles kept for passage candidates are held in memory up to
    this many megabytes, and beyond it spill to temporary files; the candidate search's
    postings are made in passes within what is left (see ``candidates.shared_postings``); 0
    means a quarter of this machine's memory. ``temp_dir``: where temporary files go (the text
    store, spilled shingles); None means the system's temporary folder.
    """

    read: ReadConfig = field(default_factory=ReadConfig)
    sketch: SketchConfig = field(default_factory=SketchConfig)
    near: NearConfig = field(default_factory=NearConfig)
    passages: PassageConfig = field(default_factory=PassageConfig)
    keep: KeepRule = "earliest"
    workers: int = 0
    memory_budget_mb: int = 0
    temp_dir: str | None = None

    def __post_init__(self) -> None:
        _check(self.keep in ("earliest", "longest", "first"), f"unknown keep rule {self.keep!r}",
               "use earliest, longest or first")
        _check(self.workers >= 0, f"workers must be >= 0, got {self.workers}")
        _check(self.memory_budget_mb >= 0, f"memory budget must be >= 0 MB, got {self.memory_budget_mb}")
        _check(self.temp_dir is None or os.path.isdir(self.temp_dir),
               f"the temporary folder {self.temp_dir} does not exist", "create it, or choose another")

    @property
    def n_workers(self) -> int:
        return self.workers or (os.cpu_count() or 1)

    @property
    def memory_budget(self) -> int:
        """The memory budget of intermediate arrays, in bytes."""
        if self.memory_budget_mb:
            return self.memory_budget_mb * 2**20
        try:
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
        except (ValueError, OSError, AttributeError):  # no sysconf (Windows): a quarter of 8 GB
            return 2 * 2**30

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
