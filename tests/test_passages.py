"""Passages across a corpus: clusters, origin, direction, boilerplate, shared quotations."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

import twicetold
from twicetold.cluster import CorpusInfo, KnownTexts, PassageReport, passage_clusters
from twicetold.config import PassageConfig
from twicetold.model import Occurrence, Pair, Passage, PassageCluster
from twicetold.quotes import MARKS, MAX_QUOTE, quote_spans, quoted_length

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
    from twicetold import plan

    seen = []

    def both_ways(pairs: list[Pair], info: CorpusInfo, text_of: Callable[[str], str], config: PassageConfig,
                  known: KnownTexts) -> PassageReport:
        seen.append((passage_clusters(pairs, info, text_of, config), passage_clusters(pairs, info, text_of, config,
                                                                                      known), known))
        return seen[-1][1]

    monkeypatch.setattr(plan, "passage_clusters", both_ways)
    result = twicetold.scan([corpus])
    (by_reading, from_alignment, known), = seen
    assert known.spans and known.quotes and any(o.quoted for o in result.occurrences)
    assert by_reading == from_alignment


# ------------------------------------------------- passage clustering against a plain reference

def plain_coverage(spans: list[tuple[int, int]], length: int) -> float:
    """The share of the characters inside any span, counted one by one."""
    covered = {i for start, end in spans for i in range(start, end) if 0 <= i < length}
    return round(len(covered) / length, 4) if length else 0.0


def reference_passage_clusters(pairs: list[Pair], info: CorpusInfo, texts: dict[str, str],
                               config: PassageConfig) -> PassageReport:
    """Passage clustering written plainly, cluster by cluster, from its definition (see
    ``cluster.passage_clusters``): what the array version must equal."""
    occ = [(d, s, e) for p in pairs for x in p.passages for d, s, e in ((p.a, x.a_start, x.a_end),
                                                                       (p.b, x.b_start, x.b_end))]
    parent = list(range(len(occ)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(occ)), 2):
        (di, si, ei), (dj, sj, ej) = occ[i], occ[j]
        sides = i // 2 == j // 2
        if sides or (di == dj and min(ei, ej) - max(si, sj) >= config.cluster_overlap * min(ei - si, ej - sj)):
            parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(occ)):
        groups.setdefault(root(i), []).append(i)
    ordered = sorted(groups.values(), key=lambda g: (-len({occ[i][0] for i in g}), min(occ[i] for i in g)))

    def quoted(doc: str, s: int, e: int) -> bool:
        inside = quoted_length(quote_spans(texts[doc]), s, e)
        return 2 * inside >= e - s and (e - s) - inside < max(config.min_length, config.min_evidence)

    cluster_of, scores, occurrences, clusters = {}, {}, [], []
    for cid, members in enumerate(ordered):
        cluster_of.update(dict.fromkeys(members, cid))
        docs = {occ[i][0] for i in members}
        spans: list[tuple[str, int, int]] = []
        for doc, s, e in sorted(occ[i] for i in members):
            if spans and spans[-1][0] == doc and s < spans[-1][2]:
                spans[-1] = (doc, spans[-1][1], max(spans[-1][2], e))
            else:
                spans.append((doc, s, e))
        dated = sorted((info.dates[d], d) for d in docs if info.dates[d])
        origin = dated[0][1] if dated and (len(dated) == 1 or dated[0][0] < dated[1][0]) else None
        per_source = Counter(info.sources[d] for d in docs if info.sources[d] is not None)
        score = 0.0
        for src, n in per_source.items():
            if n >= config.boilerplate_min_docs and 2 * n >= len(docs):
                score = max(score, n / max(info.docs_per_source.get(src, n), n))
        sourced = sum(per_source.values())
        if sourced >= config.boilerplate_min_docs and sourced >= 2 * len(per_source):
            score = max(score, sourced / info.n_documents)
        scores[cid] = score = round(score, 4)
        if score >= config.boilerplate_share and not config.keep_boilerplate:
            continue
        occurrences += [Occurrence(cid, d, s, e, texts[d][s:e], info.sources[d], info.raw_dates[d], d == origin,
                                   quoted(d, s, e), score) for d, s, e in spans]
        rep = next((k for k, (d, _, _) in enumerate(spans) if d == origin), 0)
        when = sorted(info.dates[d] or "" for d in docs if info.dates[d])
        clusters.append(PassageCluster(cid, len(spans), len(docs), len(per_source), when[0] if when else None,
                                       when[-1] if when else None, origin, score,
                                       texts[spans[rep][0]][spans[rep][1] : spans[rep][2]]))
    out, removed, k = [], 0, 0
    for p in pairs:
        kept = []
        for x in p.passages:
            cid, k = cluster_of[k], k + 2
            if scores[cid] >= config.boilerplate_share and not config.keep_boilerplate:
                removed += 1
                continue
            kept.append(replace(x, cluster=cid, boilerplate=scores[cid],
                                quoted=quoted(p.a, x.a_start, x.a_end) and quoted(p.b, x.b_start, x.b_end)))
        if kept or not p.passages or p.kind != "partial":
            da, db, sa, sb = info.dates[p.a], info.dates[p.b], info.sources[p.a], info.sources[p.b]
            out.append(replace(p, passages=kept, direction="a->b" if da and db and da < db else "unknown",
                               same_source=None if sa is None or sb is None else sa == sb,
                               coverage_a=plain_coverage([(x.a_start, x.a_end) for x in kept], info.lengths[p.a]),
                               coverage_b=plain_coverage([(x.b_start, x.b_end) for x in kept], info.lengths[p.b])))
    return PassageReport(out, occurrences, clusters, removed)


def random_passages(rng: random.Random, n_docs: int, n_pairs: int) -> tuple[list[Pair], CorpusInfo, dict[str, str]]:
    """Documents with quotations, some without a source or a date (dates tie often), and pairs
    whose passages overlap each other in many ways: whole, in part, nested, touching."""
    ids = [f"d{k:02d}" for k in rng.sample(range(100), n_docs)]

    def text() -> str:  # plain words, quotations (long and short, some unclosed) and paragraphs
        pieces = [rng.choice(["word " * rng.randrange(2, 8), "“" + "said " * rng.randrange(4, 40) + "” ",
                              "«" + "dit " * rng.randrange(1, 9), "\n\n"]) for _ in range(40)]
        return "".join(pieces)[:700]

    texts = {d: text() for d in ids}
    sources = {d: rng.choice(["east", "west", "north", None]) for d in ids}
    dates = {d: rng.choice(["2026-01-01", "2026-01-02", "2026-01-03", None]) for d in ids}
    pairs = []
    for _ in range(n_pairs):
        a, b = sorted(rng.sample(ids, 2))
        passages = []
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            sa, sb = rng.randrange(0, 500, 20), rng.randrange(0, 500, 20)
            la, lb = rng.randrange(20, 200, 10), rng.randrange(20, 200, 10)
            passages.append(Passage(sa, sa + la, sb, sb + lb, max(la, lb), 1.0))
        pairs.append(Pair(a, b, rng.choice(["partial", "partial", "near"]), 0.5, passages))
    per_source = Counter(sources.values())
    info = CorpusInfo(sources, dates, {d: f"raw {v}" if v else None for d, v in dates.items()},
                      {s: n + rng.randrange(3) for s, n in per_source.items()}, n_docs + 5,
                      {d: len(t) for d, t in texts.items()})
    return pairs, info, texts


@pytest.mark.parametrize("seed", range(40))
def test_passage_clusters_match_the_plain_reference(seed: int) -> None:
    rng = random.Random(seed)
    pairs, info, texts = random_passages(rng, rng.randrange(2, 14), rng.randrange(1, 25))
    config = PassageConfig(min_length=rng.choice([20, 70]), min_evidence=rng.choice([0.0, 50.0, 80.0]),
                           cluster_overlap=rng.choice([0.1, 0.5, 1.0]),
                           boilerplate_share=rng.choice([0.3, 0.5, 1.0]), boilerplate_min_docs=rng.choice([2, 3]),
                           keep_boilerplate=rng.random() < 0.3)
    assert passage_clusters(pairs, info, texts.__getitem__, config) == reference_passage_clusters(pairs, info, texts,
                                                                                                 config)


def test_origin_is_the_earliest_document_even_when_it_holds_the_passage_twice() -> None:
    """The earliest document carries the passage in two places (two spans of one cluster):
    it is still the one document of the earliest date, so it is the origin."""
    texts = {d: prose(random.Random(d), 80) for d in ("early", "late")}
    pairs = [Pair("early", "late", "partial", 0.1, [Passage(0, 100, 0, 100, 100, 1.0),
                                                      Passage(300, 400, 0, 100, 100, 1.0)])]
    info = CorpusInfo({"early": "a", "late": "b"}, {"early": "2026-01-01", "late": "2026-01-05"},
                      {"early": "2026-01-01", "late": "2026-01-05"}, {"a": 10, "b": 10}, 20,
                      {d: len(t) for d, t in texts.items()})
    report = passage_clusters(pairs, info, texts.__getitem__, PassageConfig())
    (cluster,) = report.clusters
    assert cluster.origin == "early" and cluster.size == 3 and cluster.documents == 2
    assert [o.document for o in report.occurrences if o.origin] == ["early", "early"]


def test_a_pairs_coverage_is_the_share_of_each_document_in_its_passages(
        seed_results: Path, seed_texts: tuple[str, str]) -> None:
    """The seeds share two paragraphs: each side's coverage is their share of that article; a
    story that reuses a whole text as its first third covers all of it and a third of itself."""
    (pair,) = [json.loads(line) for line in (seed_results / "pairs.jsonl").read_text().splitlines()]
    by_id = {"000_67ea10a8cc3b0884": seed_texts[0], "002_84e259149e4ad06a": seed_texts[1]}
    for side in ("a", "b"):
        spans = [(x[f"{side}_start"], x[f"{side}_end"]) for x in pair["passages"]]
        assert pair[f"coverage_{side}"] == plain_coverage(spans, len(by_id[pair[side]]))
        assert 0.05 < pair[f"coverage_{side}"] < 0.9
    rng = random.Random(7)
    source, rest = prose(rng, 300), prose(rng, 600)
    third = source + "\n\n" + rest  # the source reused as the first third of a longer story
    (passage,) = twicetold.align(source, third)
    assert twicetold.cluster.coverage([(passage.a_start, passage.a_end)], len(source)) > 0.99
    assert abs(twicetold.cluster.coverage([(passage.b_start, passage.b_end)], len(third)) - 1 / 3) < 0.02
