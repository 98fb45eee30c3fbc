"""Scoring against labelled data: the figures the README reports and the tests assert.

- Clough & Stevenson (2011): which answers are paired with their own source, by category.
- PAN 2013 text alignment: character-overlap recall and precision of found passages against
  the gold passages on the suspicious side, micro-averaged over the listed pairs.
- Any span truth (seeds, generated corpora): character F1 of found against true spans.

The labelled data and the seeds live in the project's ``shared/`` folder, beside the
repository (``shared_folder`` finds it, also from a clone made elsewhere).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..model import ScanResult

Span = tuple[int, int]


def shared_folder(repo: Path) -> Path:
    """The ``shared/`` folder (seeds, labelled data) of the repository at ``repo``: the one
    ``TWICETOLD_SHARED`` names, else the one beside ``repo``, else the one beside the
    repository ``repo`` was cloned from when that is a local path (CI tests a clone made in a
    temporary folder). Returns the folder beside ``repo`` when none exists, so that what is
    missing is named there."""
    beside = repo.parent / "shared"
    candidates = [Path(os.environ["TWICETOLD_SHARED"])] if os.environ.get("TWICETOLD_SHARED") else []
    candidates.append(beside)
    origin = subprocess.run(["git", "-C", str(repo), "config", "--get", "remote.origin.url"],
                            capture_output=True, text=True, check=False).stdout.strip()
    if origin and "://" not in origin and ":" not in origin.split("/")[0]:  # a path, not a URL
        candidates.append(Path(origin).resolve().parent / "shared")
    return next((c for c in candidates if c.is_dir()), beside)


def union_length(spans: Iterable[Span]) -> int:
    """Characters covered by the union of half-open spans."""
    total, end = 0, -1
    for s, e in sorted(spans):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


def overlap_length(a: Iterable[Span], b: Iterable[Span]) -> int:
    """Characters covered by both unions."""
    ua, ub = union(a), union(b)
    i = j = total = 0
    while i < len(ua) and j < len(ub):
        total += max(0, min(ua[i][1], ub[j][1]) - max(ua[i][0], ub[j][0]))
        if ua[i][1] < ub[j][1]:
            i += 1
        else:
            j += 1
    return total


def union(spans: Iterable[Span]) -> list[Span]:
    """The spans merged where they overlap or touch, sorted; empty ones dropped."""
    out: list[Span] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        elif e > s:
            out.append((s, e))
    return out


@dataclass(frozen=True)
class Overlap:
    """Character-overlap recall, precision and F1 (micro: summed over all items)."""

    overlap: int
    true: int
    found: int

    @property
    def recall(self) -> float:
        return self.overlap / self.true if self.true else 1.0

    @property
    def precision(self) -> float:
        return self.overlap / self.found if self.found else 1.0

    @property
    def f1(self) -> float:
        r, p = self.recall, self.precision
        return 2 * r * p / (r + p) if r + p else 0.0

    def __add__(self, other: Overlap) -> Overlap:
        return Overlap(self.overlap + other.overlap, self.true + other.true, self.found + other.found)


def char_overlap(true: Iterable[Span], found: Iterable[Span]) -> Overlap:
    t, f = list(true), list(found)
    return Overlap(overlap_length(t, f), union_length(t), union_length(f))


def paired(result: ScanResult) -> set[frozenset[str]]:
    """Document pairs reported as sharing text: the pairs, plus every two members of a
    near-duplicate cluster (members are paired with the canonical member only)."""
    out = {frozenset((p.a, p.b)) for p in result.pairs}
    for c in result.clusters:
        out.update(frozenset((x, y)) for x in c.members for y in c.members if x != y)
    return out


def spans_on(result: ScanResult, doc: str, other: str) -> list[Span]:
    """Passages of the pair (doc, other), as spans in ``doc``."""
    spans: list[Span] = []
    for p in result.pairs:
        if p.a == doc and p.b == other:
            spans += [(x.a_start, x.a_end) for x in p.passages]
        elif p.b == doc and p.a == other:
            spans += [(x.b_start, x.b_end) for x in p.passages]
    return spans


def clough_pairing(result: ScanResult, data: Path) -> dict[str, tuple[int, int]]:
    """For each category, (answers paired with their own source, answers)."""
    found = paired(result)
    hit: Counter[str] = Counter()
    total: Counter[str] = Counter()
    with open(data / "file_list.csv", newline="") as f:
        for row in csv.DictReader(f):
            answer, source = row["file"].removesuffix(".txt"), row["source_file"].removesuffix(".txt")
            total[row["category"]] += 1
            hit[row["category"]] += frozenset((answer, source)) in found
    return {k: (hit[k], total[k]) for k in ("cut", "light", "heavy", "non")}


@dataclass(frozen=True)
class PanScore:
    pairs: int
    pairs_found: int
    overlap: Overlap


def pan_gold(data: Path) -> dict[tuple[str, str], list[Span]]:
    """Gold passages on the suspicious side per (suspicious id, source id), clipped to the text."""
    gold: dict[tuple[str, str], list[Span]] = {}
    for line in (data / "pairs").read_text().split("\n"):
        if not line.strip():
            continue
        susp, src = line.split()
        xml = (data / "annotations" / f"{susp[:-4]}-{src[:-4]}.xml").read_text()
        size = len((data / "susp" / susp).read_text(encoding="utf-8", errors="replace"))
        spans = []
        for m in re.finditer(r'this_length="(\d+)" this_offset="(\d+)"', xml):
            length, offset = int(m.group(1)), int(m.group(2))
            if offset < size:
                spans.append((offset, min(size, offset + length)))
        gold[(f"susp/{susp[:-4]}", f"src/{src[:-4]}")] = spans
    return gold


def pan_score(result: ScanResult, gold: dict[tuple[str, str], list[Span]]) -> PanScore:
    found_pairs = paired(result)
    total = Overlap(0, 0, 0)
    hits = 0
    for (susp, src), spans in gold.items():
        hits += frozenset((susp, src)) in found_pairs
        total = total + char_overlap(spans, spans_on(result, susp, src))
    return PanScore(len(gold), hits, total)


def shared_word_runs(a: str, b: str, min_words: int = 8) -> list[Span]:
    """A plain matcher, the yardstick for what offsets allow: spans of ``a`` covered by runs of
    at least ``min_words`` identical consecutive lower-cased words shared with ``b``."""
    words_a = [(m.group().lower(), m.start(), m.end()) for m in re.finditer(r"\w+", a)]
    words_b = [m.group().lower() for m in re.finditer(r"\w+", b)]
    grams = {tuple(words_b[i : i + min_words]) for i in range(len(words_b) - min_words + 1)}
    covered = [False] * len(words_a)
    for i in range(len(words_a) - min_words + 1):
        if tuple(w for w, _, _ in words_a[i : i + min_words]) in grams:
            covered[i : i + min_words] = [True] * min_words
    spans: list[Span] = []
    for k, hit in enumerate(covered):
        if hit:
            s, e = words_a[k][1], words_a[k][2]
            if spans and k > 0 and covered[k - 1]:
                spans[-1] = (spans[-1][0], e)
            else:
                spans.append((s, e))
    return spans


def pan_ceiling(data: Path, min_words: int = 8) -> Overlap:
    """What the plain shared-word-run matcher scores against PAN's gold (suspicious side)."""
    total = Overlap(0, 0, 0)
    for (susp, src), spans in pan_gold(data).items():
        a = (data / f"{susp}.txt").read_text(encoding="utf-8", errors="replace")
        b = (data / f"{src}.txt").read_text(encoding="utf-8", errors="replace")
        total = total + char_overlap(spans, shared_word_runs(a, b, min_words))
    return total
