"""The HTML report: built from real scans (the seeds, the example news corpus), checked for
the shared passage highlighted on both sides at exactly the scanned offsets, the word-level
differences, escaping, self-containment, the caps that keep big runs openable, the
source-by-source matrix, and folders whose inputs or passage tables are gone."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from twicetold.cli import cli
from twicetold.errors import InputError
from twicetold.report import (
    Mark,
    Results,
    diff_marks,
    render_text,
    size_histogram,
    source_matrix,
    source_stats,
    svg_bar_chart,
    svg_spread,
    write_report,
)

from .conftest import REPO, SEEDS, scan_to

NEWS = REPO / "examples" / "news.jsonl"
SEED_A, SEED_B = "000_67ea10a8cc3b0884", "002_84e259149e4ad06a"
VOID = {"br", "img", "input", "meta", "link", "hr", "col", "source", "wbr"}


# ---------------------------------------------------------------- helpers shared with test_web


class SideMarks(HTMLParser):
    """Collects, per pair view and per side, the text inside highlighted passages
    (``<mark class="tt-p" data-p=N>`` inside ``.tt-side[data-side] .tt-text``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.pairs: list[dict[str, dict[int, str]]] = []

    def _find(self, pred: Any) -> dict[str, str] | None:
        return next((a for _, a in reversed(self.stack) if pred(a)), None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        a = {k: v or "" for k, v in attrs}
        if "tt-pair" in a.get("class", "").split():
            self.pairs.append({"a": {}, "b": {}, "d": {}})
        self.stack.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        mark = self._find(lambda a: "tt-p" in a.get("class", "").split() and "data-p" in a)
        side = self._find(lambda a: "data-side" in a)
        text = self._find(lambda a: "tt-text" in a.get("class", "").split())
        if mark is None or side is None or text is None:
            return
        if not self.pairs:
            self.pairs.append({"a": {}, "b": {}, "d": {}})
        marks = self.pairs[-1].setdefault(side["data-side"], {})
        p = int(mark["data-p"])
        marks[p] = marks.get(p, "") + data


def side_marks(html: str) -> list[dict[str, dict[int, str]]]:
    """Per pair view: ``{"a": {passage: text}, "b": {...}}`` of the highlighted passages."""
    parser = SideMarks()
    parser.feed(html)
    return parser.pairs


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


SHARED = ("The council voted on Tuesday to close the <script>alert('x')</script> old bridge to lorries "
          "after engineers found cracks in two of its main supports, & the repairs will take a year "
          "and cost about four million pounds according to the town's own estimate.")


def evil_corpus(folder: Path) -> Path:
    """Two documents sharing a passage full of HTML, from sources with HTML in their names."""
    return write_jsonl(folder / "evil.jsonl", [
        {"id": "<b>one</b>", "source": "<i>Times</i>", "date": "2026-01-01",
         "text": "Opening words about the weather in the valley. " + SHARED + " Closing words."},
        {"id": "two\"'&", "source": "Ledger & Co", "date": "2026-01-02",
         "text": "A different opening about the market square. " + SHARED.replace("four", "five") + " The end."},
    ])


# ---------------------------------------------------------------- fixtures




def seed_pair(results: Path) -> dict[str, Any]:
    (pair,) = [json.loads(line) for line in (results / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    return pair  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the seeds


def test_report_highlights_the_seeds_shared_passage_on_both_sides(seed_results: Path, seed_texts: tuple[str, str],
                                                                  tmp_path: Path,
                                                                  seed_passage: dict[str, tuple[int, int]]) -> None:
    out = write_report(seed_results, tmp_path / "report.html")
    html = out.read_text(encoding="utf-8")
    assert SEED_A in html and SEED_B in html
    pair = seed_pair(seed_results)
    (p,) = pair["passages"]
    text_a, text_b = seed_texts
    assert [(p["a_start"], p["a_end"]), (p["b_start"], p["b_end"])] == list(seed_passage.values())
    expected_a, expected_b = text_a[p["a_start"]:p["a_end"]], text_b[p["b_start"]:p["b_end"]]
    (view,) = side_marks(html)
    # The highlighted text on each side is exactly the passage at the scanned offsets.
    assert view["a"] == {0: expected_a}
    assert view["b"] == {0: expected_b}


def test_report_marks_the_one_differing_comma(seed_results: Path, tmp_path: Path) -> None:
    html = write_report(seed_results, tmp_path / "r.html").read_text(encoding="utf-8")
    # B has "SANA," where A has "SANA": one insertion on B's side, a gap mark on A's side.
    assert html.count('<span class="tt-ins" title="only on this side">,</span>') == 2  # full text + passage row
    assert 'class="tt-gap"' in html
    assert "0 changed, 0 only A, 1 only B" in html


def test_report_is_self_contained(seed_results: Path, tmp_path: Path) -> None:
    html = write_report(seed_results, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script src" not in html and 'rel="stylesheet"' not in html
    assert "src=\"http" not in html and "url(http" not in html and "@import" not in html
    assert "<style>" in html and "<svg" in html and ".tt-p" in html


def test_default_report_path_and_cli(seed_results: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(seed_results, folder)
    assert write_report(folder) == folder / "report.html"
    result = CliRunner().invoke(cli, ["report", str(folder), "-o", str(tmp_path / "cli.html"), "--max-pairs", "5"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    missing = CliRunner().invoke(cli, ["report", str(tmp_path / "nope")])
    assert isinstance(missing.exception, InputError)
    assert (cli.commands["report"].help or "").strip().splitlines()[-1].strip().startswith("Example: twicetold report")


@pytest.mark.usefixtures("shared_data")
def test_inputs_gone_falls_back_to_recorded_passage_texts(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    results = scan_to([corpus], tmp_path / "results")
    shutil.rmtree(corpus)
    html = write_report(results, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "is not there any more: full texts are unavailable" in html
    assert "The full text is unavailable" in html
    assert side_marks(html) == [{"a": {}, "b": {}, "d": {}}]  # no full text to highlight in...
    # ...but the passage rows still show both passage texts (recorded in passages.jsonl), diffed.
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r'<td class="tt-ptext">(.*?)</td>', html, re.S)]
    assert len(cells) == 2 and all("Separately, Syrian authorities say" in c for c in cells)
    assert '<span class="tt-ins" title="only on this side">,</span>' in html


def test_older_folder_without_passage_tables_still_reports(seed_results: Path, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    shutil.copytree(seed_results, folder)
    for name in ("passages", "passage_clusters"):
        for ext in ("jsonl", "parquet"):
            (folder / f"{name}.{ext}").unlink(missing_ok=True)
    rows = [json.loads(line) for line in (folder / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    for r in rows:
        r.pop("direction", None)
        r.pop("same_source", None)
    write_jsonl(folder / "pairs.jsonl", rows)
    html = write_report(folder, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "no passage clusters" in html
    (view,) = side_marks(html)
    assert view["a"][0].startswith("Separately, Syrian") and view["b"][0].endswith("fired at very close range.")
    assert Results.load(folder).pairs[0]["direction"] == "unknown"


# ---------------------------------------------------------------- sources, caps, escaping


def test_source_matrix_is_direction_aware(news_results: Path) -> None:
    res = Results.load(news_results)
    m = source_matrix(res)
    pos = {s: i for i, s in enumerate(m["sources"])}
    wire, courier, harbor = pos["meridian-wire"], pos["valley-courier"], pos["harbor-times"]
    # The wire story (March 4) was republished by the Valley Courier (March 5): wire -> courier.
    assert m["directed"][wire][courier] == 1 and m["directed"][courier][wire] == 0
    # The wire and the Harbor Times printed on the same day: no direction, counted both ways.
    assert m["undirected"][wire][harbor] == m["undirected"][harbor][wire] == 1
    assert m["directed"][harbor][harbor] == 1  # the Harbor Times reusing itself
    stats = {r["source"]: r for r in source_stats(res)}
    assert stats["meridian-wire"]["reused_by_others"] == 3 and stats["meridian-wire"]["reusing_others"] == 0
    assert stats["harbor-times"]["pairs_same_source"] == 1
    assert sum(r["documents"] for r in stats.values()) == 14


def test_report_on_news_has_matrix_plots_and_largest_pairs_first(news_results: Path, tmp_path: Path) -> None:
    html = write_report(news_results, tmp_path / "r.html", max_pairs=2).read_text(encoding="utf-8")
    assert "Who reuses whom" in html and "tt-matrix" in html
    assert html.count('class="tt-pair"') == 2  # capped
    assert "The 2 largest of 8 pairs" in html
    # The largest pair: the near-duplicate wire story, 1,535 characters.
    first = html.index('class="tt-pair"')
    assert "valley-courier/2026-03-05-dockworkers-walkout" in html[first:first + 3000]
    for svg in html.split("<svg")[1:]:
        ET.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")  # well-formed
    assert "Spread over time and outlets" in html


def test_report_escapes_everything(tmp_path: Path) -> None:
    results = scan_to([evil_corpus(tmp_path)], tmp_path / "results")
    html = write_report(results, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<b>one</b>" not in html and "<i>Times</i>" not in html
    assert "&lt;script&gt;alert(" in html and "&lt;b&gt;one&lt;/b&gt;" in html
    (view,) = side_marks(html)
    assert "<script>alert('x')</script>" in view["a"][0]  # the highlight round-trips the raw text
    assert 'class="tt-sub"' in html  # four -> five


# ---------------------------------------------------------------- building blocks


def test_diff_marks_and_render_text_use_code_point_offsets() -> None:
    a = "🙂 Officials said the bridge would reopen, engineers said."
    b = "x Officials said the bridge will reopen engineers said."
    am, bm, counts = diff_marks(a[2:], b[2:], 2, 2) or ([], [], {})
    assert counts == {"equal": 8, "inserted": 0, "deleted": 1, "substituted": 1}
    assert [(a[m.start:m.end], m.kind) for m in am] == [("would", "sub"), (",", "del")]
    assert [(b[m.start:m.end], m.kind) for m in bm] == [("will", "sub"), ("", "gap")]
    html = render_text(a, [Mark(2, len(a), "passage", 0), *am])
    assert html.startswith("🙂 <mark") and '<span class="tt-sub" title="changed">would</span>' in html
    assert render_text("<&>", [Mark(0, 3, "passage", 0)]).count("&lt;&amp;&gt;") == 1


def test_render_text_windows_long_texts() -> None:
    text = "word " * 2000
    html = render_text(text, [Mark(5000, 5020, "passage", 0)], window=50)
    assert html.count("characters …") == 2 and len(html) < 1000


def test_plots_are_well_formed_svg() -> None:
    bars = size_histogram([2, 2, 3, 7, 12, 600])
    assert bars[:4] == [("2", 2), ("3", 1), ("4", 0), ("5–9", 1)] and bars[-1] == ("500+", 1)
    ET.fromstring(str(svg_bar_chart(bars, title="t <&>", xlabel="x", ylabel="y")))
    occ = [{"document": "d1", "start": 0, "end": 5, "source": "s<1>", "date": "2026-01-01", "origin": True},
           {"document": "d2", "start": 3, "end": 9, "source": "s2", "date": "2026-01-03T10:00:00Z"},
           {"document": "d3", "start": 3, "end": 9, "source": None, "date": None}]
    svg = str(svg_spread(occ))
    ET.fromstring(svg)
    assert "tt-origin" in svg and "undated" in svg and "s&lt;1&gt;" in svg
