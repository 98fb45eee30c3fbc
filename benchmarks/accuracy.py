"""Accuracy on the shared labelled data: the figures the README reports.

    python benchmarks/accuracy.py            # seeds, Clough & Stevenson, PAN 2013 no-obfuscation
    python benchmarks/accuracy.py --anchors letters --min-evidence 70   # other passage settings

Reads the project's shared/ folder (beside the repository, see ``evaluation.shared_folder``);
writes nothing.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import twicetold
from twicetold.config import PassageConfig, ScanConfig
from twicetold.testing.evaluation import (
    char_overlap,
    clough_pairing,
    pan_ceiling,
    pan_gold,
    pan_score,
    shared_folder,
    spans_on,
)

SHARED = shared_folder(Path(__file__).resolve().parents[1])
CONFIG = ScanConfig()  # set from the command line


def seeds() -> dict[str, float]:
    folder = SHARED / "seeds"
    result = twicetold.scan([folder], CONFIG)
    out: dict[str, float] = {"pairs": len(result.pairs), "passages": sum(len(p.passages) for p in result.pairs)}
    if result.pairs:
        pair = result.pairs[0]
        for side, doc, other in (("a", pair.a, pair.b), ("b", pair.b, pair.a)):
            with open(folder / f"{doc}.txt", encoding="utf-8", newline="") as f:
                text = f.read()
            start = text.index("Separately, Syrian authorities")
            end = text.index("fired at very close range.") + len("fired at very close range.")
            out[f"char_f1_{side}"] = round(char_overlap([(start, end)], spans_on(result, doc, other)).f1, 4)
    return out


def clough() -> dict[str, str]:
    data = SHARED / "data" / "clough_stevenson"
    counts = clough_pairing(twicetold.scan([data / "corpus-20090418"], CONFIG), data)
    return {k: f"{hit}/{total}" for k, (hit, total) in counts.items()}


def pan() -> dict[str, float]:
    data = SHARED / "data" / "pan13_noobf_public"
    t0 = time.perf_counter()
    result = twicetold.scan([data], CONFIG)
    seconds = time.perf_counter() - t0
    score = pan_score(result, pan_gold(data))
    plain = pan_ceiling(data)
    return {"pairs_found": score.pairs_found, "pairs": score.pairs, "char_recall": round(score.overlap.recall, 4),
            "char_precision": round(score.overlap.precision, 4), "char_f1": round(score.overlap.f1, 4),
            "seconds": round(seconds, 2), "plain_matcher_recall": round(plain.recall, 4),
            "plain_matcher_precision": round(plain.precision, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--anchors", choices=["auto", "words", "letters"], default=PassageConfig.anchors)
    parser.add_argument("--min-evidence", type=float, default=PassageConfig.min_evidence)
    args = parser.parse_args()
    global CONFIG
    CONFIG = ScanConfig(passages=PassageConfig(anchors=args.anchors, min_evidence=args.min_evidence))
    twicetold.scan([SHARED / "seeds"])  # compile the kernels before timing
    report = {"seeds": seeds(), "clough_stevenson": clough(), "pan13_noobf": pan()}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for name, figures in report.items():
        print(f"{name:18} " + "  ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
