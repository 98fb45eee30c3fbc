"""Passage accuracy on a generated corpus with planted partial copies, per edit level.

    python benchmarks/bench_passages.py --docs 3000 --seed 5 [--ocr [--ocr-rate 0.10]] [--realistic] [--anchors letters]

Plants paragraph blocks from one document into another (moved, split by inserted sentences,
edited at 0/2/5/10% of words), with --ocr half of them as old newspaper OCR gives them back
(``twicetold.testing.synthetic``): set in lines of a 34-48 character column, about a fifth of
them ending in a hyphenated word ("newspa-\\nper"), with --ocr-rate errors per character
(default 0.02) shared out as 70 % misread, dropped, spurious or swapped letters, 15 % split
words ("jeun e homme"), 10 % merged words, 4.5 % punctuation and 0.5 % lost lines. With
--realistic, unrelated documents share word 5-grams by chance as news articles do (a Zipf
vocabulary and stock phrases). Scans with the defaults, and prints per edit level: character
recall/precision/F1 of the found passages against the planted spans (both sides, summed per
pair) and the share of planted passages reported in more than one piece. The corpus is
generated into .bench/ (ignored by git).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import twicetold
from twicetold.testing.evaluation import Overlap, char_overlap, spans_on
from twicetold.testing.synthetic import NEWS_STOCK_PHRASES, CorpusSpec, PlantedPassage, write_corpus

OUT = Path(__file__).resolve().parents[1] / ".bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--ocr", action="store_true", help="character noise on half of the plantings")
    parser.add_argument("--ocr-rate", type=float, default=0.02,
                        help="with --ocr, errors per character (default 0.02; real OCR: 0.05-0.15)")
    parser.add_argument("--anchors", choices=["auto", "words", "letters"], default="auto",
                        help="what alignment anchors on (auto: letters for text laid out as OCR'd print)")
    parser.add_argument("--realistic", action="store_true",
                        help="chance overlaps as in news: a Zipf vocabulary and stock phrases")
    args = parser.parse_args()
    spec = CorpusSpec(n_docs=args.docs, seed=args.seed, mean_chars=3000, exact_rate=0.0, near_rate=0.0,
                      partial_rate=0.3, edit_rates=(0.0, 0.02, 0.05, 0.1), ocr_noise=args.ocr,
                      ocr_rate=args.ocr_rate if args.ocr else 0.01,
                      lexicon="zipf" if args.realistic else "grouped",
                      stock_phrases=NEWS_STOCK_PHRASES if args.realistic else 0.0)
    OUT.mkdir(exist_ok=True)
    path = OUT / (f"passages-{args.docs}-{args.seed}{f'-ocr{args.ocr_rate:g}' if args.ocr else ''}"
                  f"{'-real' if args.realistic else ''}.jsonl")
    truth = write_corpus(spec, path)
    result = twicetold.scan([path], twicetold.ScanConfig(passages=twicetold.PassageConfig(anchors=args.anchors)))

    groups: dict[tuple[str, str], list[PlantedPassage]] = defaultdict(list)
    for p in truth.passages:
        groups[(p.source_id, p.copy_id)].append(p)
    empty = char_overlap([], [])
    copy_side: dict[tuple[float, bool], Overlap] = defaultdict(lambda: empty)
    source_side: dict[tuple[float, bool], Overlap] = defaultdict(lambda: empty)
    for (src, cp), planted in groups.items():
        key = (planted[0].edit_rate, planted[0].ocr_rate > 0)
        copy_side[key] += char_overlap([(p.copy_start, p.copy_end) for p in planted], spans_on(result, cp, src))
        source_side[key] += char_overlap([(p.source_start, p.source_end) for p in planted],
                                         spans_on(result, src, cp))
    count: dict[tuple[float, bool], int] = defaultdict(int)
    pieces: dict[tuple[float, bool], int] = defaultdict(int)
    for p in truth.passages:
        key = (p.edit_rate, p.ocr_rate > 0)
        found = [s for s in spans_on(result, p.copy_id, p.source_id)
                 if min(s[1], p.copy_end) - max(s[0], p.copy_start) > 0]
        count[key] += 1
        pieces[key] += len(found) > 1
    print(f"{args.docs} documents, {len(truth.passages)} planted passages, scan {result.run['timings']['total']:.1f} s")
    print(f"{'edits':>6} {'ocr':>4} {'n':>5} {'copy R':>7} {'copy P':>7} {'copy F1':>8} {'src F1':>7} {'split':>6}")
    for key in sorted(count):
        c, s = copy_side[key], source_side[key]
        print(f"{key[0]:>6.2f} {'yes' if key[1] else 'no':>4} {count[key]:>5} {c.recall:>7.3f} {c.precision:>7.3f} "
              f"{c.f1:>8.3f} {s.f1:>7.3f} {pieces[key] / count[key]:>6.3f}")


if __name__ == "__main__":
    main()
