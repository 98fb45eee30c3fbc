"""Normalization and tokenization that keep every token's span in the original text.

Text is never rewritten: each code point is looked up in precomputed tables that say
whether it belongs to a word and what it folds to (NFKC, case folding, diacritics and
Arabic harakat removed, digits of every script to ASCII). A token is a maximal run of word
code points; scripts written without spaces (Han, kana, Thai...) give one token per
character, so word n-grams over them are character n-grams. Punctuation and whitespace
separate tokens and never reach a hash, which is what folds them.

Tokens are returned as arrays: a 64-bit hash of the folded token, and its ``[start, end)``
offsets in code points into the text exactly as read.

>>> t = tokenize("Hello, ＷＯＲＬＤ!")
>>> [("Hello, ＷＯＲＬＤ!")[s:e] for s, e in zip(t.starts, t.ends)]
['Hello', 'ＷＯＲＬＤ']
>>> bool(t.hashes[1] == tokenize("world").hashes[0])
True
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import regex

from . import _kernels

# Tables cover the first four planes (everything in use, CJK extensions G and H included);
# code points above are treated as word characters that fold to themselves.
TABLE_LIMIT = 0x40000

SEPARATOR, WORD, SINGLE, IGNORABLE = 0, 1, 2, 3

# Scripts written without spaces between words: one token per character. By script, from the
# Unicode data of the regex package (newer than Python's own): hand-listed code point ranges
# missed planes added later (CJK extension G, U+30000, glued into one token).
_SINGLE_SCRIPTS = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Myanmar}\p{Khmer}]")
_WORD_CHAR = regex.compile(r"[\p{L}\p{N}\p{M}]")

# Scripts where one character carries about a word: Han ideographs and kana. A passage's
# length is judged in Latin-equivalent characters (see align.DENSE_WEIGHT).
DENSE_RANGES = np.array([
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK extensions B and beyond
], dtype=np.uint32)


def dense_counts(text: str, starts: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """Running count of the tokens starting at ``starts`` that are Han or kana characters:
    element ``k`` counts tokens ``0..k-1`` (so ``len(starts) + 1`` elements)."""
    out = np.zeros(len(starts) + 1, dtype=np.int32)
    if not len(starts) or text.isascii():
        return out
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if codes.max() < DENSE_RANGES[0, 0]:  # accented Latin, Cyrillic...: no Han or kana
        return out
    first = codes[starts]
    dense = np.zeros(len(first), dtype=bool)
    for lo, hi in DENSE_RANGES:
        dense |= (first >= lo) & (first <= hi)
    np.cumsum(dense, out=out[1:])
    return out


# Combining marks that are diacritics (dropped when folding) rather than vowel signs of
# abugidas (kept: removing them would merge unrelated Devanagari or Bengali words).
_DIACRITIC_RANGES = (
    (0x0300, 0x036F),  # combining diacritics (Latin, Greek, Cyrillic)
    (0x0483, 0x0489),  # Cyrillic combining marks
    (0x0591, 0x05C7),  # Hebrew points
    (0x0610, 0x061A),  # Arabic signs
    (0x064B, 0x065F),  # Arabic harakat
    (0x0670, 0x0670),  # Arabic superscript alef
    (0x06D6, 0x06ED),  # Arabic Quranic marks
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)

_IGNORABLE_CHARS = {0x200C, 0x200D, 0x00AD, 0x0640}  # ZWNJ, ZWJ, soft hyphen, Arabic tatweel


def _in(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _is_word_char(ch: str) -> bool:
    return _WORD_CHAR.match(ch) is not None


def fold_char(cp: int) -> tuple[int, str]:
    """Class and folded form of one code point (the plain-Python definition of the tables)."""
    if cp in _IGNORABLE_CHARS or _in(cp, _DIACRITIC_RANGES):
        return IGNORABLE, ""
    ch = chr(cp)
    # NFKC may turn a symbol into letters (e.g. "½" -> "1⁄2", "™" -> "TM"): those are words.
    if not _is_word_char(ch) and not any(_is_word_char(c) for c in unicodedata.normalize("NFKC", ch)):
        return SEPARATOR, ""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", ch).casefold())
    out = []
    for c in folded:
        o = ord(c)
        if not _is_word_char(c) or o in _IGNORABLE_CHARS or _in(o, _DIACRITIC_RANGES):
            continue
        d = unicodedata.decimal(c, None)
        out.append(str(d) if d is not None else c)
    text = unicodedata.normalize("NFC", "".join(out))
    if not text:
        return IGNORABLE, ""
    return (SINGLE if _SINGLE_SCRIPTS.match(ch) else WORD), text


@dataclass(frozen=True)
class FoldTables:
    """Per-code-point class and fold, as arrays the compiled tokenizer reads."""

    classes: npt.NDArray[np.uint8]
    fold_start: npt.NDArray[np.int32]
    fold_len: npt.NDArray[np.uint8]
    fold_data: npt.NDArray[np.uint32]


# Bump when fold_char changes: cached tables of an older definition are then ignored.
TABLES_VERSION = 2


def _cache_path() -> Path:
    base = os.environ.get("TWICETOLD_CACHE") or os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    name = f"fold-v{TABLES_VERSION}-unicode{unicodedata.unidata_version}.npz"
    return Path(base).expanduser() / "twicetold" / name


@functools.cache
def tables() -> FoldTables:
    """The fold tables, from the on-disk cache when present (building them takes ~2 s)."""
    path = _cache_path()
    try:
        with np.load(path) as z:
            return FoldTables(z["classes"], z["fold_start"], z["fold_len"], z["fold_data"])
    except (OSError, KeyError, ValueError):
        pass
    built = build_tables()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, classes=built.classes, fold_start=built.fold_start,
                     fold_len=built.fold_len, fold_data=built.fold_data)
        os.replace(tmp, path)
    except OSError:
        pass  # no writable cache: build again next time
    return built


# Unified ideographs that fold to themselves (compatibility ideographs and radicals do not).
_PLAIN_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x2F7FF), (0x30000, 0x3FFFF))


def _quick_classes() -> dict[int, tuple[int, str]]:
    """What ``fold_char`` answers for the code points that make most of the tables, found by
    runs of one regular expression instead of one call each (the tables build in a third of
    the time): unassigned code points separate, plain unified ideographs are tokens of their
    own. ``tests/test_normalize.py`` checks the two agree."""
    text = "".join(map(chr, range(TABLE_LIMIT)))
    quick: dict[int, tuple[int, str]] = {}
    for m in regex.finditer(r"\p{Cn}+", text):
        for cp in range(m.start(), m.end()):
            if not 0xD800 <= cp <= 0xDFFF and not _in(cp, _DIACRITIC_RANGES):  # whole blocks are marks
                quick[cp] = (SEPARATOR, "")
    for lo, hi in _PLAIN_HAN:
        for m in regex.finditer(r"\p{Han}+", text, pos=lo, endpos=min(hi + 1, TABLE_LIMIT)):
            for cp in range(m.start(), m.end()):
                quick[cp] = (SINGLE, chr(cp))
    return quick


def build_tables() -> FoldTables:
    """Build the fold tables for code points below ``TABLE_LIMIT`` from ``fold_char``."""
    classes = np.zeros(TABLE_LIMIT, dtype=np.uint8)
    fold_start = np.zeros(TABLE_LIMIT, dtype=np.int32)
    fold_len = np.zeros(TABLE_LIMIT, dtype=np.uint8)
    data: list[int] = []
    quick = _quick_classes()
    for cp in range(TABLE_LIMIT):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        known = quick.get(cp)
        cls, text = known if known is not None else fold_char(cp)
        classes[cp] = cls
        fold_start[cp] = len(data)
        fold_len[cp] = len(text)
        data.extend(ord(c) for c in text)
    return FoldTables(classes, fold_start, fold_len, np.asarray(data, dtype=np.uint32))


@dataclass(frozen=True)
class Tokens:
    """Tokens of one text: folded-token hashes and ``[start, end)`` code-point offsets."""

    hashes: npt.NDArray[np.uint64]
    starts: npt.NDArray[np.int32]
    ends: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.hashes)


def code_points(text: str) -> npt.NDArray[np.uint32]:
    """The text as an array of code points: index ``i`` is ``text[i]``."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def tokenize(text: str) -> Tokens:
    """Split ``text`` into normalized word tokens with their offsets in ``text``."""
    t = tables()
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    h, s, e = _kernels.tokenize(data, t.classes, t.fold_start, t.fold_len, t.fold_data)
    return Tokens(h, s, e)


def folded_tokens(text: str) -> list[tuple[str, int, int]]:
    """Plain-Python reference tokenizer: ``(folded token, start, end)`` per token.

    Slow; used by tests to check the compiled path, and handy to see what a text becomes.
    """
    out: list[tuple[str, int, int]] = []
    cur: list[str] = []
    start = end = -1
    for i, ch in enumerate(text):
        cls, f = fold_char(ord(ch)) if ord(ch) < TABLE_LIMIT else (WORD, ch)
        if cls == WORD or (cls == IGNORABLE and cur):
            if not cur and cls == WORD:
                start = i
            if cls == WORD or cur:
                cur.append(f)
                end = i + 1
        elif cls == SINGLE:
            if cur:
                out.append(("".join(cur), start, end))
                cur = []
            out.append((f, i, i + 1))
        elif cls == IGNORABLE and out and out[-1][2] == i and not cur:
            tok, s, _ = out[-1]
            out[-1] = (tok, s, i + 1)  # a mark after a single-character token belongs to it
        elif cls == SEPARATOR and cur:
            out.append(("".join(cur), start, end))
            cur = []
    if cur:
        out.append(("".join(cur), start, end))
    return out


def token_hash(folded: str) -> int:
    """Hash of one folded token, as the compiled tokenizer computes it."""
    return int(_kernels.hash_codepoints(code_points(folded)))


# Signs that a corpus is OCR'd print, which word n-grams break on (``ocr_signs``):
# - a line break inside a word hyphenated across lines ("newspa-\nper"): print set in
#   columns, as OCR gives it back (about one line end in five on the French archive); text
#   typed or published digitally breaks lines, if at all, between words;
# - where the lines were joined, misread letters: words of three letters or more seen only
#   once make 4-6 % of 300,000 words of clean news or essays (17 % in a corpus of 3,500 words,
#   hence the minimum), 14 % at 3 % OCR errors per character and 28 % at 10 % (measured on
#   PAN's essays and the generator's OCR noise). Scripts written without spaces, whose
#   "words" are whole phrases, are not counted.
_HYPHENATED_BREAK = re.compile(r"[^\W\d_][-\u00ac\u00ad\u2010]\r?\n[^\W\d_]")
_SPACED_WORD = regex.compile(r"[\p{L}--[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Myanmar}\p{Khmer}"
                             r"\p{Hangul}]]{3,}", regex.V1)
_LETTERS = re.compile(r"[^\W\d_]{3,}")  # the same where none of them occurs: re is 3x faster here
_UNSPACED = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u2e80-\u9fff\uac00-\ud7af"
                       "\uf900-\ufaff\U00020000-\U0003ffff]")
OCR_BREAK_SHARE = 0.01  # of line breaks; measured: French OCR 0.21, generated OCR 0.015+, clean text < 0.001
OCR_MIN_BREAKS = 3
OCR_ONCE_SHARE = 0.15  # of words seen once
OCR_MIN_WORDS = 50_000
SIGNS_TEXT_CHARS = 20_000  # of each text: the layout shows in its first pages
SIGNS_CHARS = 1_500_000  # in all: about 250,000 words, a tenth of a second


@dataclass(frozen=True)
class OcrSigns:
    """What a sample of texts says about OCR: ``hyphenated_breaks`` of its ``line_breaks`` fall
    inside a word, and ``once`` of its ``words`` (three letters or more, case folded) occur only
    once in it. It looks like OCR'd print (``looks_like_ocr``) when its lines break inside words
    at least ``OCR_BREAK_SHARE`` of the time (and ``OCR_MIN_BREAKS`` times), or when at least
    ``OCR_ONCE_SHARE`` of ``OCR_MIN_WORDS`` words or more are seen once.

    >>> ocr_signs(["The dock-\\nworkers walked out on Mon-\\nday, halting con-\\ntainer traffic."]).looks_like_ocr
    True
    >>> ocr_signs(["The dockworkers walked out.\\nTalks resume on Monday."]).looks_like_ocr
    False
    """

    line_breaks: int
    hyphenated_breaks: int
    words: int = 0
    once: int = 0

    @property
    def looks_like_ocr(self) -> bool:
        columns = OCR_MIN_BREAKS <= self.hyphenated_breaks >= OCR_BREAK_SHARE * self.line_breaks
        misread = self.words >= OCR_MIN_WORDS and self.once >= OCR_ONCE_SHARE * self.words
        return columns or misread

    def __str__(self) -> str:
        def share(k: int, n: int) -> str:
            return f"{k / n if n else 0.0:.1%}"

        return (f"{self.hyphenated_breaks:,} of {self.line_breaks:,} line breaks inside hyphenated words "
                f"({share(self.hyphenated_breaks, self.line_breaks)}); {self.once:,} of {self.words:,} words "
                f"seen once ({share(self.once, self.words)})")


def ocr_signs(texts: Iterable[str]) -> OcrSigns:
    """The signs of OCR in ``texts`` (the first ``SIGNS_TEXT_CHARS`` of each, ``SIGNS_CHARS`` in
    all), see :class:`OcrSigns`."""
    breaks = hyphenated = chars = 0
    words: list[str] = []
    for text in texts:
        head = text[:SIGNS_TEXT_CHARS]
        breaks += head.count("\n")
        if "-\n" in head or "-\r\n" in head or "\u00ac" in head or "\u00ad" in head or "\u2010" in head:
            hyphenated += len(_HYPHENATED_BREAK.findall(head))
        folded = head.casefold()
        words.extend((_SPACED_WORD if _UNSPACED.search(folded) else _LETTERS).findall(folded))
        chars += len(head)
        if chars >= SIGNS_CHARS:
            break
    once = sum(1 for k in Counter(words).values() if k == 1)  # a word seen once is one of the words
    return OcrSigns(breaks, hyphenated, len(words), once)
