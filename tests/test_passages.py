"""Passages across a corpus: clusters, origin, direction, boilerplate, shared quotations."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import twicetold
from twicetold.cluster import CorpusInfo, KnownTexts, PassageReport, passage_clusters
from twicetold.config import PassageConfig
from twicetold.model import Pair
from twicetold.quotes import MARKS, MAX_QUOTE, quote_spans

from .test_align import prose

WIRE = ("The regional water authority said on Tuesday that reservoirs across the valley had fallen "
        "to their lowest level in forty years and that rationing would begin next month in nine districts.")
FOOTER = ("Copyright Valley Courier. All rights reserved. This material may not be published, broadcast, "
          "rewritten or redistributed without written permission from the newsroom.")
FOLLOW_UP = ("The inquiry into the collapse of the Marsh Lane footbridge heard that inspectors had flagged "
             "corroded bolts two years before the structure failed during the spring flood.")
QUOTE = ("“We will not let the farms of this valley dry out while the cities keep filling their pools,” "
         "the agriculture minister told reporters outside parliament.")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(42)
    rows = []
    # 50 documents from 20 dated sources carry the wire paragraph (the first is dated earliest).
    for i in range(50):
        source = f"outlet-{i % 20:02d}"
        day = 1 + i // 20
        text = prose(rng, 60) + "\n\n" + WIRE + "\n\n" + prose(rng, 60)
        if i % 10 == 3:  # five outlets also quote the minister
            text += "\n\n" + QUOTE
        rows.append({"id": f"wire-{i:02d}", "source": source, "date": f"2026-03-{day:02d}T{i % 20:02d}:00:00",
                     "text": text})
    # Outlets publish other stories too.
    for i in range(20 * 8):
        rows.append({"id": f"other-{i:03d}", "source": f"outlet-{i % 20:02d}", "date": f"2026-02-{1 + i % 28:02d}",
                     "text": prose(rng, 90)})
    # One source with a footer on every article, and a paragraph repeated in two follow-ups.
    for i in range(10):
        text = prose(rng, 120)
        if i in (0, 4, 7):
            text = FOLLOW_UP + "\n\n" + text
        rows.append({"id": f"courier-{i}", "source": "valley-courier", "date": f"2026-04-{i + 1:02d}",
                     "text": text + "\n\n" + FOOTER})
    path = tmp_path_factory.mktemp("passages") / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def result(corpus: Path) -> twicetold.ScanResult:
    return twicetold.scan([corpus])


def test_wire_paragraph_is_one_cluster_of_fifty_with_the_earliest_as_origin(result: twicetold.ScanResult) -> None:
    wire = [c for c in result.passage_clusters if WIRE[:40] in c.text]
    assert len(wire) == 1
    cluster = wire[0]
    assert (cluster.size, cluster.documents, cluster.sources) == (50, 50, 20)
    assert cluster.origin == "wire-00"
    assert cluster.first_date is not None and cluster.first_date.startswith("2026-03-01")
    origins = [o for o in result.occurrences if o.cluster == cluster.id and o.origin]
    assert [o.document for o in origins] == ["wire-00"]
    assert cluster.boilerplate < 0.5
    directed = [p for p in result.pairs if p.a == "wire-00"]
    assert directed and all(p.direction == "a->b" for p in directed)


def test_footer_on_every_article_of_a_source_is_boilerplate(result: twicetold.ScanResult) -> None:
    assert not any(FOOTER[:30] in o.text for o in result.occurrences)
    assert result.run["counts"]["passages_boilerplate_removed"] > 0


def test_paragraph_repeated_in_follow_ups_is_same_source_reuse(result: twicetold.ScanResult) -> None:
    follow = [c for c in result.passage_clusters if FOLLOW_UP[:40] in c.text]
    assert len(follow) == 1 and follow[0].documents == 3
    pairs = [p for p in result.pairs if p.a.startswith("courier") and p.b.startswith("courier")]
    assert len(pairs) == 3 and all(p.same_source is True for p in pairs)
    sources = {d.id: d.source for d in result.documents}
    assert all(p.same_source == (sources[p.a] == sources[p.b]) for p in result.pairs)
    assert any(p.same_source is False for p in result.pairs)


def test_shared_quotation_is_marked_quoted(result: twicetold.ScanResult) -> None:
    quoted = [x for p in result.pairs for x in p.passages if x.quoted]
    assert quoted, "the minister's quote shared by five outlets is not marked"
    wire_passages = [x for p in result.pairs for x in p.passages if x.cluster == 0]
    assert wire_passages and not any(x.quoted for x in wire_passages)


def test_keep_boilerplate_keeps_the_footer(corpus: Path) -> None:
    cfg = twicetold.ScanConfig(passages=twicetold.PassageConfig(keep_boilerplate=True))
    result = twicetold.scan([corpus], cfg)
    footer = [c for c in result.passage_clusters if FOOTER[:30] in c.text]
    assert len(footer) == 1 and footer[0].boilerplate == 1.0


@pytest.mark.parametrize(("text", "inside"), [
    ("He said “we will rebuild” today.", "“we will rebuild”"),
    ('He said "we will rebuild" today.', '"we will rebuild"'),
    ("Il a dit « nous reconstruirons » hier.", "« nous reconstruirons »"),
    ("وقال «سنعيد البناء» اليوم", "«سنعيد البناء»"),
])
def test_quotation_marks_straight_typographic_and_arabic(text: str, inside: str) -> None:
    start = text.index(inside)
    assert quote_spans(text) == [(start, start + len(inside))]


def test_quotation_does_not_run_over_a_blank_line() -> None:
    text = "He said “we will rebuild\n\nThe next paragraph” ends here."
    assert quote_spans(text) == []


def test_quote_spans_agree_with_a_regular_expression() -> None:
    """The find-based scan against the plain reference: a regular expression whose body runs
    to the closing mark over single line breaks but not over a blank line, on random texts
    made of marks, letters and every kind of whitespace."""
    body = r"[^{close}\n]*(?:\n(?![ \t\r]*\n)[^{close}\n]*)*"
    reference = re.compile("|".join(f"{re.escape(o)}{body.format(close=re.escape(c))}{re.escape(c)}"
                                    for o, c in MARKS.items()))
    rng = random.Random(3)
    alphabet = ["a", " ", "\n", "\t", "\r", *MARKS, *MARKS.values()]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        expected = [m.span() for m in reference.finditer(text) if m.end() - m.start() <= MAX_QUOTE]
        assert quote_spans(text) == expected, repr(text)
    long_quote = "“" + "a" * MAX_QUOTE + "” then “short”"
    assert quote_spans(long_quote) == [(MAX_QUOTE + 8, MAX_QUOTE + 15)]


def test_passage_texts_from_alignment_equal_texts_read_again(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Passage clustering takes the passage texts and quotations that alignment cut out
    (``KnownTexts``); without them it reads the texts itself: the same report either way."""
    from twicetold import pipeline

    seen = []

    def both_ways(pairs: list[Pair], info: CorpusInfo, text_of: Callable[[str], str], config: PassageConfig,
                  known: KnownTexts) -> PassageReport:
        seen.append((passage_clusters(pairs, info, text_of, config), passage_clusters(pairs, info, text_of, config,
                                                                                      known), known))
        return seen[-1][1]

    monkeypatch.setattr(pipeline, "passage_clusters", both_ways)
    result = twicetold.scan([corpus])
    (by_reading, from_alignment, known), = seen
    assert known.spans and known.quotes and any(o.quoted for o in result.occurrences)
    assert by_reading == from_alignment
