"""OCR-noisy reuse: the word aligner (``align.align``) against the letter aligner
(``letters.align_letters``), on planted passages and on real OCR reprints.

    python benchmarks/bench_ocr_align.py [--pairs 300] [--real 2000] [--seed 7] [--both] [--min-length 70]

1. Planted passages. Article text comes from ``twicetold.testing.synthetic``; each pair is a
   source document A (about 1 KB) and a copy B: unrelated text, a passage of A (250 to 900
   characters, from a sentence start to a sentence end), unrelated text. B is then put
   through ``ocr_noise`` below at a rate of 0.05, 0.10 and 0.15 (with ``--both``, A too, at
   the same rate): lines wrapped at newspaper column width with hyphenated breaks, lost
   lines, misread, dropped and inserted characters, split and merged words. Printed per
   rate: character recall, precision and F1 on the copy side (B) against the planted span,
   micro over the pairs, and microseconds per pair (texts given as strings, so the time
   includes preparing them), for each aligner.
2. Real OCR: passim's passages of two French newspapers of 1900 (Journal de Genève, Gazette
   de Lausanne; ``../shared/data/impresso_passim_1900/``). Samples of pairs of the two papers
   from one passim cluster of at most 20 passages (``small``: mostly one text reprinted),
   from one larger cluster (``large``: mostly formulas, death notices and ads, that passim
   chained together; many pairs share no passage), and from different clusters
   (``false``: false alarms, an upper bound, passim's silver clusters miss some true reuse).
   Printed per aligner, with ``PassageConfig()`` and with ``min_length=40``: the share of the
   pairs of each sample where a passage is found, and microseconds per pair.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from twicetold.align import AlignedText, align
from twicetold.config import PassageConfig
from twicetold.letters import LetterText, align_letters
from twicetold.model import Passage
from twicetold.testing.evaluation import union
from twicetold.testing.synthetic import CorpusSpec, generate

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "impresso_passim_1900" / "out.json"
RATES = (0.05, 0.10, 0.15)
SMALL = 20  # passim clusters of at most this many passages are mostly one text reprinted
Aligner = Callable[[Any, Any, PassageConfig], list[Passage]]
ALIGNERS: dict[str, Aligner] = {"words": align, "letters": align_letters}

# Misreads of old newspaper OCR: a letter for a look-alike (one or two characters).
CONFUSIONS = {
    "e": ["c", "é", "o", "a"], "c": ["e", "o"], "a": ["o", "e", "à"], "o": ["0", "a", "c"],
    "i": ["l", "1", "t", "î"], "l": ["i", "1", "t", "I"], "t": ["f", "l", "i"], "f": ["t", "s"],
    "s": ["f", "8", "a"], "n": ["u", "ri", "h"], "u": ["n", "ii", "v"], "m": ["rn", "ni", "in"],
    "r": ["t", "i"], "h": ["b", "li", "k"], "b": ["h", "l"], "d": ["cl", "a"], "g": ["q", "y"],
    "é": ["e", "ê", "è"], "è": ["e", "é"], "v": ["y", "u"], "y": ["v"], "q": ["g"], "p": ["n"],
    "w": ["vv"], "k": ["h"], "1": ["l", "i"], "0": ["o"],
}
INSERTED = "'.,-;:^ilr"  # specks read as marks, stray letters


@dataclass(frozen=True)
class Noisy:
    """A text after ``ocr_noise``, with ``where[i]``: the position in it of the original
    text's character ``i`` (or, for a lost character, of the next one kept)."""

    text: str
    where: npt.NDArray[np.int64]


def _where(src: Sequence[int], n: int) -> npt.NDArray[np.int64]:
    where = np.full(n + 1, -1, dtype=np.int64)
    where[n] = len(src)
    for p, s in enumerate(src):
        if s >= 0 and where[s] < 0:
            where[s] = p
    for i in range(n - 1, -1, -1):
        if where[i] < 0:
            where[i] = where[i + 1]
    return where


def _layout(text: str, rate: float, rng: random.Random) -> tuple[list[str], list[int]]:
    """Lines of a newspaper column (30 to 45 characters), a word at a line's end often cut
    with a hyphen ("newspa-\\nper"), and now and then (``rate / 5`` of the lines) a line lost.
    Returns the characters and, for each, its index in ``text`` (-1 for added ones)."""
    out: list[str] = []
    src: list[int] = []
    line: list[tuple[str, int]] = []
    width = rng.randint(30, 45)

    def end_line(sep: str) -> None:
        nonlocal line
        if rng.random() >= rate / 5:
            for ch, i in line:
                out.append(ch)
                src.append(i)
        out.append(sep)
        src.append(-1)
        line = []

    for m in re.finditer(r"\S+|\s+", text):
        tok, at = m.group(), m.start()
        if tok.isspace():
            if "\n" in tok or len(line) >= width:
                end_line("\n")
            else:
                line.append((" ", at))
            continue
        room = width - len(line)
        if len(tok) > room and len(tok) >= 6 and room >= 3 and rng.random() < 0.6:
            cut = min(room - 1, len(tok) - 2)
            line.extend((c, at + t) for t, c in enumerate(tok[:cut]))
            line.append(("-", -1))
            end_line("\n")
            line.extend((c, at + cut + t) for t, c in enumerate(tok[cut:]))
        else:
            if len(tok) > room and line:
                # The space before the word ends the line instead.
                if line[-1][0] == " ":
                    line.pop()
                end_line("\n")
            line.extend((c, at + t) for t, c in enumerate(tok))
    if line:
        end_line("")
    return out, src


def ocr_noise(text: str, rate: float, seed: int) -> Noisy:
    """``text`` as a poor OCR of a newspaper column would read it, with about ``rate`` of its
    letters in error: of the errors, half misread letters (look-alikes, ``CONFUSIONS``),
    15 % dropped letters, 10 % inserted marks or letters, 15 % words split by a space
    ("homm e") and 10 % words merged (a space lost); plus the layout of ``_layout``."""
    rng = random.Random(seed)
    chars, src0 = _layout(text, rate, rng)
    letters = sum(c.isalnum() for c in chars) or 1
    spaces = sum(c.isspace() for c in chars) or 1
    p_sub, p_drop, p_ins, p_split = 0.5 * rate, 0.15 * rate, 0.10 * rate, 0.15 * rate
    p_merge = min(0.9, 0.10 * rate * letters / spaces)
    out: list[str] = []
    src: list[int] = []
    for k, c in enumerate(chars):
        s = src0[k]
        if c.isspace():
            if c == " " and rng.random() < p_merge:
                continue
            out.append(c)
            src.append(s)
            continue
        if not c.isalnum():
            out.append(c)
            src.append(s)
            continue
        u = rng.random()
        if u < p_drop:
            continue
        if u < p_drop + p_sub:
            low = c.lower()
            sub = rng.choice(CONFUSIONS.get(low, ["e", "i", "n"]))
            if c.isupper():
                sub = sub.upper()
            out.extend(sub)
            src.extend([s] + [-1] * (len(sub) - 1))
        else:
            out.append(c)
            src.append(s)
        u = rng.random()
        if u < p_ins:
            out.append(rng.choice(INSERTED))
            src.append(-1)
        elif u < p_ins + p_split and k + 1 < len(chars) and chars[k + 1].isalpha():
            out.append(" ")
            src.append(-1)
    return Noisy("".join(out), _where(src, len(text)))


@dataclass(frozen=True)
class Planted:
    a: str
    b: str
    copy: tuple[int, int]  # the planted span in b


def _sentence_span(text: str, rng: random.Random, lo: int, hi: int) -> tuple[int, int]:
    """A span of ``text`` from a sentence start to a sentence end, about ``lo`` to ``hi`` long."""
    starts = [0] + [m.end() for m in re.finditer(r"[.”]\s+", text)]
    ends = [m.start() + 1 for m in re.finditer(r"[.”](\s|$)", text)]
    want = rng.randint(lo, hi)
    s = rng.choice([x for x in starts if x < max(1, len(text) - lo)] or [0])
    e = min((x for x in ends if x - s >= want), default=len(text))
    return s, e


def planted_pairs(n: int, seed: int) -> list[tuple[str, str, int, int]]:
    """``n`` clean pairs: (A, B, span of the passage in B) before any noise is added."""
    docs, _ = generate(CorpusSpec(n_docs=3 * n + 10, seed=seed, mean_chars=1100, exact_rate=0.0, near_rate=0.0,
                                  partial_rate=0.0))
    texts = [d["text"] for d in docs]
    rng = random.Random(seed)
    out = []
    for t in range(n):
        a, other, more = texts[3 * t], texts[3 * t + 1], texts[3 * t + 2]
        s, e = _sentence_span(a, rng, 250, 900)
        head = other[: other.find(". ", rng.randint(0, 500)) + 2] if rng.random() < 0.8 else ""
        tail = more[: more.find(". ", rng.randint(0, 500)) + 1] if rng.random() < 0.8 else ""
        head = head if head.strip() else ""
        sep_a, sep_b = ("\n\n" if head else ""), ("\n\n" if tail else "")
        b = head + sep_a + a[s:e] + sep_b + tail
        out.append((a, b, len(head + sep_a), len(head + sep_a) + e - s))
    return out


def noisy_pairs(clean: list[tuple[str, str, int, int]], rate: float, both: bool) -> list[Planted]:
    out = []
    for t, (a, b, s, e) in enumerate(clean):
        nb = ocr_noise(b, rate, 1000 * t + 1)
        na = ocr_noise(a, rate, 1000 * t + 2).text if both else a
        out.append(Planted(na, nb.text, (int(nb.where[s]), int(nb.where[e]))))
    return out


def score_planted(pairs: list[Planted], fn: Aligner, cfg: PassageConfig) -> tuple[float, float, float, float, float]:
    """Copy-side recall, precision, F1 (micro), share of passages found in more than one
    piece, and microseconds per pair."""
    found = [fn(p.a, p.b, cfg) for p in pairs]
    us = time_pairs([(p.a, p.b) for p in pairs], fn, cfg)
    hit = true = got = pieces = 0
    for p, passages in zip(pairs, found, strict=True):
        spans = union([(q.b_start, q.b_end) for q in passages])
        s, e = p.copy
        true += e - s
        got += sum(y - x for x, y in spans)
        hit += sum(max(0, min(y, e) - max(x, s)) for x, y in spans)
        pieces += sum(min(y, e) > max(x, s) for x, y in spans) > 1
    r = hit / true if true else 0.0
    pr = hit / got if got else 0.0
    f1 = 2 * r * pr / (r + pr) if r + pr else 0.0
    return r, pr, f1, pieces / len(pairs), us


def real_pairs(n: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    """Pairs of the two papers (``n`` of each kind at most): from one passim cluster of at
    most ``SMALL`` passages, from one larger cluster (mostly formulas, such as death notices,
    that passim chained together), and from different clusters."""
    seen, docs = set(), []
    for part in sorted(REAL.glob("part-*.json")):
        for line in part.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            key = (row["id"], row["begin"], row["end"])
            if key not in seen:
                seen.add(key)
                docs.append(row)
    by_cluster: dict[int, list[dict[str, object]]] = {}
    for d in docs:
        by_cluster.setdefault(int(d["cluster"]), []).append(d)
    rng = random.Random(seed)
    kinds: dict[str, list[tuple[str, str]]] = {"small": [], "large": []}
    for members in by_cluster.values():
        kind = "small" if len(members) <= SMALL else "large"
        kinds[kind].extend((str(x["text"]), str(y["text"])) for x in members for y in members
                           if x["series"] == "JDG" and y["series"] == "GDL")
    for pairs in kinds.values():
        rng.shuffle(pairs)
        del pairs[n:]
    jdg = [d for d in docs if d["series"] == "JDG"]
    gdl = [d for d in docs if d["series"] == "GDL"]
    diff: list[tuple[str, str]] = []
    while len(diff) < n:
        x, y = rng.choice(jdg), rng.choice(gdl)
        if x["cluster"] != y["cluster"]:
            diff.append((str(x["text"]), str(y["text"])))
    kinds["different"] = diff
    return kinds


def with_min_length(cfg: PassageConfig, min_length: int) -> PassageConfig:
    """``cfg`` with ``min_length``: where the configuration also gates on ``min_evidence`` (the
    aligned characters weighted by the rarity of shared shingles; without corpus counts, the
    aligned characters), that is the same gate, and set to the same value."""
    if hasattr(cfg, "min_evidence"):
        return dataclasses.replace(cfg, min_length=min_length, min_evidence=float(min_length))
    return dataclasses.replace(cfg, min_length=min_length)


def hit_rate(pairs: Sequence[tuple[str, str]], fn: Aligner, cfg: PassageConfig) -> float:
    """Share of pairs with a passage found."""
    return sum(bool(fn(a, b, cfg)) for a, b in pairs) / len(pairs)


def time_pairs(pairs: Sequence[tuple[Any, Any]], fn: Aligner, cfg: PassageConfig, repeat: int = 3) -> float:
    """Microseconds of CPU per pair (this process's CPU time: the least affected by other work
    on the machine), the best of ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for a, b in pairs:
            fn(a, b, cfg)
        best = min(best, time.process_time() - t0)
    return best / len(pairs) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=300, help="planted pairs per noise rate")
    parser.add_argument("--real", type=int, default=2000, help="real pairs of each kind (0: skip)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--both", action="store_true", help="noise on both sides, not only the copy")
    parser.add_argument("--min-length", type=int, default=None,
                        help="planted passages: gate at this many aligned characters (default: PassageConfig())")
    args = parser.parse_args()
    cfg = PassageConfig()
    planted_cfg = cfg if args.min_length is None else with_min_length(cfg, args.min_length)
    gates = {k: getattr(cfg, k) for k in ("min_length", "min_evidence", "min_score", "max_gap") if hasattr(cfg, k)}
    print("PassageConfig():", ", ".join(f"{k}={v}" for k, v in gates.items()))
    for fn in ALIGNERS.values():  # compile (or load) the kernels before timing
        fn("warm up the kernels of this aligner once", "warm up the kernels of this aligner once", cfg)

    clean = planted_pairs(args.pairs, args.seed)
    side = "both sides" if args.both else "copy side only"
    gate = "" if args.min_length is None else f", min_length={args.min_length}"
    print(f"planted passages: {args.pairs} pairs per rate, noise on {side}{gate}; copy-side characters")
    print(f"{'rate':>5} {'aligner':>8} {'recall':>7} {'prec':>7} {'F1':>7} {'split':>6} {'us/pair':>8}")
    for rate in RATES:
        pairs = noisy_pairs(clean, rate, args.both)
        for name, fn in ALIGNERS.items():
            r, p, f1, split, us = score_planted(pairs, fn, planted_cfg)
            print(f"{rate:>5.2f} {name:>8} {r:>7.3f} {p:>7.3f} {f1:>7.3f} {split:>6.3f} {us:>8.0f}")

    if args.real and REAL.is_dir():
        kinds = real_pairs(args.real, args.seed)
        counts = ", ".join(f"{len(v)} {k}" for k, v in kinds.items())
        print(f"\nreal OCR (impresso 1900, JDG x GDL), pairs: {counts}; share with a passage found;")
        print("us/pair on texts given as strings, and prepared (AlignedText / LetterText, as a scan caches them)")
        print(f"{'config':>16} {'aligner':>8} {'small':>7} {'large':>7} {'false':>7} {'us/pair':>8} {'prepared':>8}")
        every = [pair for pairs in kinds.values() for pair in pairs]
        prepared: dict[str, list[tuple[Any, Any]]] = {
            "words": [(AlignedText.of(a, cfg.ngram), AlignedText.of(b, cfg.ngram)) for a, b in every],
            "letters": [(LetterText.of(a), LetterText.of(b)) for a, b in every],
        }
        for label, c in (("PassageConfig()", cfg), ("min_length=40", with_min_length(cfg, 40))):
            for name, fn in ALIGNERS.items():
                shares = [hit_rate(pairs, fn, c) for pairs in kinds.values()]
                us, us_prepared = time_pairs(every, fn, c), time_pairs(prepared[name], fn, c)
                print(f"{label:>16} {name:>8} {shares[0]:>7.3f} {shares[1]:>7.3f} {shares[2]:>7.3f} {us:>8.0f} "
                      f"{us_prepared:>8.0f}")
    elif args.real:
        print(f"\nreal OCR skipped: {REAL} not found")


if __name__ == "__main__":
    main()
