"""The HTML report of a results folder, and the views it shares with the web application.

``write_report(OUTDIR)`` turns a ``twicetold scan`` results folder into ONE self-contained
HTML file (CSS, JavaScript and SVG plots inline, nothing fetched from the network): summary
figures, the largest passage clusters with their spread over time and outlets, per-source
statistics and a source-by-source matrix (who reuses whom), and side-by-side views of the
largest pairs with the reused passages highlighted on both sides and the word-level
differences inside them marked.

The building blocks are public because ``web.py`` renders the same views:

- :class:`Results` loads a results folder (tolerating folders written before the passage
  tables existed); :class:`TextLoader` re-reads document texts from the run's inputs, since
  the folder holds offsets, not texts.
- :func:`diff_marks` (on ``diff``'s word differences, the ones ``explain`` shows too) and
  :func:`render_text` turn offsets into highlighted, escaped HTML. All offsets are Python
  string indices (code points) and are sliced on the server, so the browser never has to
  convert them.
- :func:`svg_bar_chart` and :func:`svg_spread` draw the plots as inline SVG.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import os
import threading
import urllib.parse
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader
from markupsafe import Markup, escape

from . import diff
from .atomic import atomic_path, check_destination
from .config import ReadConfig
from .errors import InputError, OutputError, TwicetoldError
from .model import InputProblem, sort_key_date

NO_SOURCE = "(no source)"
PASSAGE_COLOURS = 6  # passages cycle through this many highlight colours (CSS tt-c0..tt-c5)
MAX_DIFF_TOKENS = 20_000  # longer passages are shown highlighted but not diffed (difflib is quadratic at worst)
FULL_TEXT_CHARS = 200_000  # web pages show whole texts up to this length, windows around passages beyond
STATIC = Path(__file__).with_name("static")


# ---------------------------------------------------------------- reading a results folder


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSON Lines file, one dict per non-blank line."""
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                yield orjson.loads(line)


def date_key(value: str | None) -> str | None:
    """A date as a sortable UTC ISO string (``model.sort_key_date``), None when unreadable."""
    return sort_key_date(value) if isinstance(value, str) else None


@dataclass
class Results:
    """A ``twicetold scan`` results folder, loaded into memory.

    ``pairs`` keep their row order: a pair's id is its row number in ``pairs.jsonl``.
    ``passages`` (occurrences) and ``passage_clusters`` are ``None`` for folders written
    before those tables existed. Pairs without ``direction``/``same_source`` (older folders)
    get them from the documents' dates and sources.
    """

    path: Path
    run: dict[str, Any]
    documents: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    clusters: list[dict[str, Any]]
    passages: list[dict[str, Any]] | None = None
    passage_clusters: list[dict[str, Any]] | None = None
    doc_by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    pairs_of_doc: dict[str, list[int]] = field(default_factory=dict)
    occurrences_of_cluster: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    occurrences_of_doc: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pairs_of_cluster: dict[int, list[int]] = field(default_factory=dict)
    cluster_by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    duplicate_by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    docs_of_source: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Results:
        """Load the results folder at ``path``; raise :class:`InputError` if it is not one."""
        folder = check_results_dir(path)
        run = orjson.loads((folder / "run.json").read_bytes())
        documents = list(read_jsonl(folder / "documents.jsonl"))
        doc_by_id = {d["id"]: d for d in documents}
        pairs = [complete_pair(p, doc_by_id) for p in read_jsonl(folder / "pairs.jsonl")]
        clusters = list(read_jsonl(folder / "clusters.jsonl")) if (folder / "clusters.jsonl").exists() else []
        passages = list(read_jsonl(folder / "passages.jsonl")) if (folder / "passages.jsonl").exists() else None
        pcs = (list(read_jsonl(folder / "passage_clusters.jsonl"))
               if (folder / "passage_clusters.jsonl").exists() else None)
        res = cls(folder, run, documents, pairs, clusters, passages, pcs, doc_by_id)
        res._build_lookups()
        return res

    def _build_lookups(self) -> None:
        for i, p in enumerate(self.pairs):
            p["id"] = i
            self.pairs_of_doc.setdefault(p["a"], []).append(i)
            self.pairs_of_doc.setdefault(p["b"], []).append(i)
            for x in p["passages"]:
                if x.get("cluster") is not None:
                    ids = self.pairs_of_cluster.setdefault(int(x["cluster"]), [])
                    if not ids or ids[-1] != i:
                        ids.append(i)
        for o in self.passages or []:
            self.occurrences_of_cluster.setdefault(int(o["cluster"]), []).append(o)
            self.occurrences_of_doc.setdefault(o["document"], []).append(o)
        self.cluster_by_id = {int(c["id"]): c for c in self.passage_clusters or []}
        self.duplicate_by_id = {int(c["id"]): c for c in self.clusters}
        for d in self.documents:
            self.docs_of_source.setdefault(source_label(d.get("source")), []).append(d["id"])

    @property
    def title(self) -> str:
        return self.path.name

    def passage_text(self, doc: str, start: int, end: int) -> str | None:
        """The text of ``doc[start:end]`` from the passage occurrences, when one covers it."""
        for o in self.occurrences_of_doc.get(doc, ()):
            if o["start"] <= start and end <= o["end"] and isinstance(o.get("text"), str):
                return str(o["text"][start - o["start"]:end - o["start"]])
        return None


def check_results_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as a results folder, or :class:`InputError` saying what is missing."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(f"no results folder at {folder}", "write one with: twicetold scan CORPUS -o OUTDIR")
    missing = [n for n in ("run.json", "documents.jsonl", "pairs.jsonl") if not (folder / n).is_file()]
    if missing:
        raise InputError(f"{folder} is not a twicetold results folder (missing {', '.join(missing)})",
                         "give the folder written by: twicetold scan CORPUS -o OUTDIR")
    return folder


def complete_pair(p: dict[str, Any], docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Fill ``direction`` and ``same_source`` of a pair row from older folders (from the
    documents' dates and sources, as ``scan`` computes them)."""
    da, db = docs.get(p["a"], {}), docs.get(p["b"], {})
    if "direction" not in p:
        ka, kb = date_key(da.get("date")), date_key(db.get("date"))
        p["direction"] = "a->b" if ka and kb and ka < kb else ("b->a" if ka and kb and kb < ka else "unknown")
    if "same_source" not in p:
        sa, sb = da.get("source"), db.get("source")
        p["same_source"] = None if sa is None or sb is None else sa == sb
    p.setdefault("passages", [])
    return p


def source_label(source: Any) -> str:
    """A source for display and grouping: documents without one share ``(no source)``."""
    return str(source) if source not in (None, "") else NO_SOURCE


def pair_length(p: dict[str, Any]) -> int:
    """Characters of reuse in a pair: the sum of its passages' lengths."""
    return sum(int(x.get("length", 0)) for x in p["passages"])


def pair_rank(p: dict[str, Any]) -> tuple[int, float, int]:
    """Sort key putting the largest pairs first: most reused characters, then Jaccard, then row."""
    return (-pair_length(p), -float(p.get("jaccard") or 0.0), int(p.get("id", 0)))


# ---------------------------------------------------------------- document texts


class TextLoader:
    """Texts of the documents of a results folder, re-read from the run's inputs.

    The results folder stores offsets only. Texts come, in order of preference, from a cache
    (bounded by ``cache_chars``), from an index holding the document (``index.get``), from the
    document's own file when it was one ``.txt`` file, or from one streamed pass over the
    run's inputs, read with the run's read options so offsets mean the same. A text whose
    length differs from the recorded one (the input changed since the scan) is refused, and
    ``problem`` says why texts are missing.
    """

    def __init__(self, results: Results | None, index: Any = None, cache_chars: int = 50_000_000) -> None:
        self.results = results
        self.index = index
        self.cache_chars = cache_chars
        self.problem: str | None = None
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cached_chars = 0
        self._lock = threading.Lock()
        self._config: ReadConfig | None = None
        if results is not None:
            read = results.run.get("parameters", {}).get("read", {})
            names = {f.name for f in dataclasses.fields(ReadConfig)}
            try:
                self._config = ReadConfig(**{k: v for k, v in read.items() if k in names})
            except TwicetoldError as e:
                self.problem = f"the run's read options are unusable: {e.message}"

    def get(self, doc_id: str) -> str | None:
        """The text of one document, or None when it cannot be had."""
        return self.get_many([doc_id]).get(doc_id)

    def get_many(self, ids: Iterable[str]) -> dict[str, str]:
        """Texts of the documents in ``ids`` that can be had (missing ones are left out)."""
        wanted = list(dict.fromkeys(ids))
        out: dict[str, str] = {}
        with self._lock:
            for i in wanted:
                if i in self._cache:
                    self._cache.move_to_end(i)
                    out[i] = self._cache[i]
        missing = [i for i in wanted if i not in out]
        if missing and self.results is not None and self._config is not None:
            direct = [i for i in missing if self._single_file(i) is not None]
            for i in direct:
                text = self._read_single(i)
                if text is not None:
                    out[i] = text
            missing = [i for i in missing if i not in out]
            if missing:
                out.update(self._stream(set(missing)))
                missing = [i for i in missing if i not in out]
        if missing and self.index is not None:
            for i in missing:
                doc = self.index.get(i)
                if doc is not None:
                    out[i] = doc.text
        with self._lock:
            for i, text in out.items():
                self._remember(i, text)
        return out

    def _expected_length(self, doc_id: str) -> int | None:
        doc = self.results.doc_by_id.get(doc_id) if self.results is not None else None
        return int(doc["length"]) if doc is not None and doc.get("length") is not None else None

    def _accept(self, doc_id: str, text: str) -> bool:
        expected = self._expected_length(doc_id)
        if expected is not None and len(text) != expected:
            self.problem = (f"the text of {doc_id} has {len(text):,} characters, the scan recorded {expected:,}: "
                            "the input changed since the scan, so its offsets no longer apply")
            return False
        return True

    def _single_file(self, doc_id: str) -> str | None:
        """The path of the ``.txt`` file that is this document alone, if it is one."""
        doc = self.results.doc_by_id.get(doc_id) if self.results is not None else None
        origin = doc.get("origin") if doc else None
        if not isinstance(origin, str) or ".txt" not in os.path.basename(origin):
            return None
        for candidate in self._candidates(origin):
            if os.path.isfile(candidate):
                return candidate
        return None

    def _candidates(self, path: str) -> list[str]:
        """A path as recorded, then relative to the results folder's parent (scans run from there)."""
        out = [path]
        if self.results is not None and not os.path.isabs(path):
            out.append(os.fspath(self.results.path.parent / path))
        return out

    def _read_single(self, doc_id: str) -> str | None:
        from .readers import read_documents

        path = self._single_file(doc_id)
        assert path is not None and self._config is not None
        try:
            docs = list(read_documents([path], self._config, []))
        except (TwicetoldError, OSError):
            return None
        if len(docs) == 1 and self._accept(doc_id, docs[0].text):
            return docs[0].text
        return None

    def _stream(self, wanted: set[str]) -> dict[str, str]:
        """One pass over the run's inputs, keeping the wanted texts (and caching others while room)."""
        from .readers import read_documents

        assert self.results is not None and self._config is not None
        inputs: list[str] = []
        for path in self.results.run.get("inputs", []):
            found = next((c for c in self._candidates(str(path)) if os.path.exists(c)), None)
            if found is None and path != "-":
                self.problem = f"the scan's input {path} is not there any more: full texts are unavailable"
                return {}
            if path == "-" or found is None:
                self.problem = "the scan read standard input: full texts are unavailable"
                return {}
            inputs.append(found)
        if not inputs:
            self.problem = "run.json lists no inputs: full texts are unavailable"
            return {}
        out: dict[str, str] = {}
        problems: list[InputProblem] = []
        try:
            for doc in read_documents(inputs, self._config, problems):
                if doc.id in wanted:
                    if self._accept(doc.id, doc.text):
                        out[doc.id] = doc.text
                    if len(out) == len(wanted):
                        break
                elif self._cached_chars + len(doc.text) <= self.cache_chars // 2:
                    with self._lock:  # warm the cache: the next page likely needs a neighbour
                        self._remember(doc.id, doc.text)
        except (TwicetoldError, OSError) as e:
            self.problem = f"the scan's inputs could not be read again ({e}): full texts are unavailable"
        return out

    def _remember(self, doc_id: str, text: str) -> None:
        if doc_id in self._cache or len(text) > self.cache_chars:
            return
        self._cache[doc_id] = text
        self._cached_chars += len(text)
        while self._cached_chars > self.cache_chars and self._cache:
            _, old = self._cache.popitem(last=False)
            self._cached_chars -= len(old)


# ---------------------------------------------------------------- differences and highlighting


@dataclass(slots=True, frozen=True)
class Mark:
    """A span to decorate in a text: ``kind`` is ``passage`` (with its ``index``), ``del``,
    ``ins`` or ``sub`` (a word-level difference); a zero-length mark is a point where the
    other side has text this one lacks."""

    start: int
    end: int
    kind: str
    index: int = 0


def diff_marks(a_text: str, b_text: str, a_offset: int = 0,
               b_offset: int = 0) -> tuple[list[Mark], list[Mark], dict[str, int]] | None:
    """Word-level differences between two passage texts, as marks on each side (shifted by the
    passages' offsets in their documents), with counts of tokens equal, inserted, deleted and
    substituted. None when a side has more than ``MAX_DIFF_TOKENS`` tokens."""
    ta, tb = diff.tokens(a_text), diff.tokens(b_text)
    if len(ta) > MAX_DIFF_TOKENS or len(tb) > MAX_DIFF_TOKENS:
        return None
    ops = diff.opcodes(ta, tb)
    am: list[Mark] = []
    bm: list[Mark] = []
    counts = {"equal": 0, "inserted": 0, "deleted": 0, "substituted": 0}

    def span(tokens: list[diff.Token], i: int, j: int, offset: int, at_end: int) -> tuple[int, int]:
        if i == j:  # an empty side: a point before token i (or at the end)
            pos = tokens[i].start if i < len(tokens) else at_end
            return offset + pos, offset + pos
        return offset + tokens[i].start, offset + tokens[j - 1].end

    for op, i1, i2, j1, j2 in ops:
        if op == "equal":
            counts["equal"] += i2 - i1
            continue
        sa, ea = span(ta, i1, i2, a_offset, len(a_text))
        sb, eb = span(tb, j1, j2, b_offset, len(b_text))
        if op == "replace":
            counts["substituted"] += max(i2 - i1, j2 - j1)
            am.append(Mark(sa, ea, "sub"))
            bm.append(Mark(sb, eb, "sub"))
        elif op == "delete":
            counts["deleted"] += i2 - i1
            am.append(Mark(sa, ea, "del"))
            bm.append(Mark(sb, eb, "gap"))
        else:
            counts["inserted"] += j2 - j1
            am.append(Mark(sa, ea, "gap"))
            bm.append(Mark(sb, eb, "ins"))
    return am, bm, counts


DIFF_TITLES = {"del": "only on this side", "ins": "only on this side", "sub": "changed",
               "gap": "the other side has text here"}


def render_text(text: str, marks: Sequence[Mark], *, window: int | None = None, side: str = "a",
                anchor_prefix: str = "") -> Markup:
    """``text`` as escaped HTML with passages wrapped in ``<mark>`` and differences in ``<span>``.

    Offsets are code points, sliced here on the server. With ``window``, only the text within
    ``window`` characters of a passage is shown, and the rest is summarized as
    ``… N characters …``. Each passage's first segment carries ``id="{anchor_prefix}{side}-p{i}"``.
    """
    n = len(text)
    passages = [m for m in marks if m.kind == "passage" and m.end > m.start]
    diffs = [m for m in marks if m.kind in ("del", "ins", "sub") and m.end > m.start]
    gaps = sorted({min(max(m.start, 0), n) for m in marks if m.kind == "gap"})
    if window is None:
        visible = [(0, n)]
    else:
        visible = _windows(text, [(m.start, m.end) for m in passages], window)
    bounds = {0, n}
    for m in passages + diffs:
        bounds.update((min(max(m.start, 0), n), min(max(m.end, 0), n)))
    for lo, hi in visible:
        bounds.update((lo, hi))
    bounds.update(gaps)
    cuts = sorted(bounds)
    parts: list[str] = []
    anchored: set[int] = set()
    gap_set = set(gaps)
    shown_until = 0
    for lo, hi in visible:
        if lo > shown_until:
            parts.append(f'<span class="tt-elided">… {lo - shown_until:,} characters …</span>')
        for k in range(len(cuts) - 1):
            s, e = cuts[k], cuts[k + 1]
            if s < lo or e > hi:
                continue
            if s in gap_set:
                parts.append(f'<span class="tt-gap" title="{DIFF_TITLES["gap"]}"></span>')
            covering = [m.index for m in passages if m.start <= s and e <= m.end]
            diff = next((m.kind for m in diffs if m.start <= s and e <= m.end), None)
            chunk = str(escape(text[s:e]))
            if diff is not None:
                chunk = f'<span class="tt-{diff}" title="{DIFF_TITLES[diff]}">{chunk}</span>'
            if covering:
                i = covering[0]
                ident = ""
                if i not in anchored:
                    anchored.add(i)
                    ident = f' id="{escape(anchor_prefix)}{side}-p{i}"'
                extra = " tt-overlap" if len(covering) > 1 else ""
                chunk = (f'<mark class="tt-p tt-c{i % PASSAGE_COLOURS}{extra}" data-p="{i}"{ident}>'
                         f"{chunk}</mark>")
            parts.append(chunk)
        if hi in gap_set and hi == n:
            parts.append(f'<span class="tt-gap" title="{DIFF_TITLES["gap"]}"></span>')
        shown_until = hi
    if shown_until < n:
        parts.append(f'<span class="tt-elided">… {n - shown_until:,} characters …</span>')
    return Markup("".join(parts))


def _windows(text: str, spans: list[tuple[int, int]], window: int) -> list[tuple[int, int]]:
    """Merged ranges within ``window`` characters of the spans, widened to word boundaries."""
    n = len(text)
    ranges = []
    for s, e in sorted(spans):
        lo, hi = max(0, s - window), min(n, e + window)
        while lo > 0 and not text[lo - 1].isspace() and s - lo < window + 40:
            lo -= 1
        while hi < n and not text[hi].isspace() and hi - e < window + 40:
            hi += 1
        ranges.append((lo, hi))
    merged: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


# ---------------------------------------------------------------- pair views


def doc_summary(doc_id: str, results: Results | None) -> dict[str, Any]:
    """The fields of a document shown beside its id on every page."""
    d = results.doc_by_id.get(doc_id, {}) if results is not None else {}
    return {"id": doc_id, "source": d.get("source"), "date": d.get("date"), "length": d.get("length")}


def pair_summary(p: dict[str, Any], results: Results | None) -> dict[str, Any]:
    """One pair as a row of a list: ids, sources, kind, Jaccard, direction, passage figures."""
    return {
        "id": p.get("id"), "a": doc_summary(p["a"], results), "b": doc_summary(p["b"], results),
        "kind": p["kind"], "jaccard": p.get("jaccard"), "jaccard_exact": p.get("jaccard_exact"),
        "direction": p.get("direction", "unknown"), "same_source": p.get("same_source"),
        "n_passages": len(p["passages"]), "reused_chars": pair_length(p),
        "max_score": max((float(x.get("score", 0)) for x in p["passages"]), default=None),
    }


@dataclass
class PairView:
    """A pair ready to show: its JSON-able ``data`` and the HTML of both sides."""

    data: dict[str, Any]
    a_html: Markup | None
    b_html: Markup | None
    passage_rows: list[dict[str, Any]]


def pair_view(p: dict[str, Any], texts: dict[str, str], results: Results | None, *, window: int | None = None,
              max_passages: int | None = None, anchor_prefix: str = "",
              a_label: str | None = None, b_label: str | None = None) -> PairView:
    """Side-by-side view of a pair: both texts (when available) with the passages highlighted
    and the differences marked, plus per-passage rows of the two passage texts, diffed.

    ``texts`` maps document ids to texts; a missing text falls back to the passage texts
    recorded in the results folder's ``passages`` table.
    """
    ta, tb = texts.get(p["a"]), texts.get(p["b"])
    passages = p["passages"] if max_passages is None else p["passages"][:max_passages]
    a_marks: list[Mark] = []
    b_marks: list[Mark] = []
    rows: list[dict[str, Any]] = []
    out_passages: list[dict[str, Any]] = []
    for i, x in enumerate(passages):
        a_s, a_e, b_s, b_e = int(x["a_start"]), int(x["a_end"]), int(x["b_start"]), int(x["b_end"])
        a_text = ta[a_s:a_e] if ta is not None else (results.passage_text(p["a"], a_s, a_e) if results else None)
        b_text = tb[b_s:b_e] if tb is not None else (results.passage_text(p["b"], b_s, b_e) if results else None)
        a_marks.append(Mark(a_s, a_e, "passage", i))
        b_marks.append(Mark(b_s, b_e, "passage", i))
        counts = None
        row: dict[str, Any] = {"index": i, "passage": x, "a_html": None, "b_html": None}
        if a_text is not None and b_text is not None:
            d = diff_marks(a_text, b_text, a_s, b_s)
            if d is not None:
                am, bm, counts = d
                a_marks += am
                b_marks += bm
                local_a = [Mark(m.start - a_s, m.end - a_s, m.kind) for m in am]
                local_b = [Mark(m.start - b_s, m.end - b_s, m.kind) for m in bm]
                row["a_html"] = render_text(a_text, local_a, side="a", anchor_prefix=f"{anchor_prefix}row{i}-")
                row["b_html"] = render_text(b_text, local_b, side="b", anchor_prefix=f"{anchor_prefix}row{i}-")
        if row["a_html"] is None and a_text is not None:
            row["a_html"] = escape(a_text)
        if row["b_html"] is None and b_text is not None:
            row["b_html"] = escape(b_text)
        row["diff"] = counts
        rows.append(row)
        out_passages.append({**x, "index": i, "a_text": a_text, "b_text": b_text, "diff": counts})

    def side(text: str | None, marks: list[Mark], name: str) -> Markup | None:
        if text is None:
            return None
        w = window if window is not None else (None if len(text) <= FULL_TEXT_CHARS else 2000)
        return render_text(text, marks, window=w, side=name, anchor_prefix=anchor_prefix)

    data = {**pair_summary(p, results), "passages": out_passages,
            "passages_shown": len(passages), "passages_total": len(p["passages"]),
            "texts_available": {"a": ta is not None, "b": tb is not None}}
    if a_label is not None:
        data["a"]["label"] = a_label
    if b_label is not None:
        data["b"]["label"] = b_label
    return PairView(data, side(ta, a_marks, "a"), side(tb, b_marks, "b"), rows)


# ---------------------------------------------------------------- statistics


def summary(results: Results) -> dict[str, Any]:
    """Headline figures of a results folder."""
    run = results.run
    kinds = Counter(p["kind"] for p in results.pairs)
    sources = {d.get("source") for d in results.documents} - {None, ""}
    n_passages = sum(len(p["passages"]) for p in results.pairs)
    return {
        "folder": str(results.path),
        "documents": len(results.documents),
        "dated_documents": sum(1 for d in results.documents if date_key(d.get("date"))),
        "sources": len(sources),
        "pairs": len(results.pairs),
        "pairs_by_kind": {k: kinds.get(k, 0) for k in ("exact", "near", "partial")},
        "pairs_directed": sum(1 for p in results.pairs if p.get("direction") in ("a->b", "b->a")),
        "passages": n_passages,
        "reused_chars": sum(pair_length(p) for p in results.pairs),
        "quoted_passages": sum(1 for p in results.pairs for x in p["passages"] if x.get("quoted")),
        "near_duplicate_clusters": len(results.clusters),
        "documents_in_near_duplicate_clusters": sum(int(c.get("size", 0)) for c in results.clusters),
        "passage_clusters": None if results.passage_clusters is None else len(results.passage_clusters),
        "passage_occurrences": None if results.passages is None else len(results.passages),
        "inputs": run.get("inputs", []),
        "input_problems": len(run.get("problems", [])) + int(run.get("problems_not_listed", 0) or 0),
        "versions": run.get("versions", {}),
        "parameters": run.get("parameters", {}),
        "started": run.get("started"),
        "seconds": (run.get("timings") or {}).get("total"),
    }


def origin_and_reuser(p: dict[str, Any]) -> tuple[str, str] | None:
    """``(earlier, later)`` document ids of a pair whose direction is known, else None."""
    if p.get("direction") == "a->b":
        return p["a"], p["b"]
    if p.get("direction") == "b->a":
        return p["b"], p["a"]
    return None


def source_stats(results: Results) -> list[dict[str, Any]]:
    """Per-source figures, most documents first: documents, documents sharing text, pairs
    within the source and with others, pairs where the source was earlier (reused by others)
    or later (reusing others), characters it reused, passage clusters it is the origin of."""
    stats: dict[str, dict[str, Any]] = {}

    def row(name: str) -> dict[str, Any]:
        if name not in stats:
            stats[name] = {"source": name, "documents": 0, "documents_sharing": 0, "pairs": 0,
                           "pairs_same_source": 0, "reused_by_others": 0, "reusing_others": 0,
                           "reused_chars": 0, "passage_clusters_originated": 0, "first_date": None,
                           "last_date": None}
        return stats[name]

    for d in results.documents:
        r = row(source_label(d.get("source")))
        r["documents"] += 1
        if d["id"] in results.pairs_of_doc:
            r["documents_sharing"] += 1
        k = date_key(d.get("date"))
        if k:
            r["first_date"] = min(r["first_date"] or k, k)
            r["last_date"] = max(r["last_date"] or k, k)
    src = {d["id"]: source_label(d.get("source")) for d in results.documents}
    for p in results.pairs:
        sa, sb = src.get(p["a"], NO_SOURCE), src.get(p["b"], NO_SOURCE)
        for s in {sa, sb}:
            row(s)["pairs"] += 1
        if sa == sb and sa != NO_SOURCE:
            row(sa)["pairs_same_source"] += 1
        direction = origin_and_reuser(p)
        if direction is not None and sa != sb:
            row(src.get(direction[0], NO_SOURCE))["reused_by_others"] += 1
            later = row(src.get(direction[1], NO_SOURCE))
            later["reusing_others"] += 1
            later["reused_chars"] += pair_length(p)
    for c in results.passage_clusters or []:
        if c.get("origin"):
            row(src.get(c["origin"], NO_SOURCE))["passage_clusters_originated"] += 1
    return sorted(stats.values(), key=lambda r: (-r["documents"], r["source"]))


def source_matrix(results: Results, top: int = 25) -> dict[str, Any]:
    """Who reuses whom: pair counts by the source of the earlier document (rows) and of the
    later one (columns) for pairs with a direction, and by unordered source pair
    (``undirected``, symmetric) for pairs without one. Limited to the ``top`` sources most
    often in pairs; the rest are summed in ``other`` when there are more."""
    src = {d["id"]: source_label(d.get("source")) for d in results.documents}
    involvement: Counter[str] = Counter()
    for p in results.pairs:
        involvement[src.get(p["a"], NO_SOURCE)] += 1
        involvement[src.get(p["b"], NO_SOURCE)] += 1
    names = [s for s, _ in involvement.most_common(top)]
    other = len(involvement) > top
    labels = names + (["(other sources)"] if other else [])
    pos = {s: i for i, s in enumerate(names)}
    n = len(labels)
    directed = [[0] * n for _ in range(n)]
    undirected = [[0] * n for _ in range(n)]
    for p in results.pairs:
        d = origin_and_reuser(p)
        x, y = d if d is not None else (p["a"], p["b"])
        i, j = pos.get(src.get(x, NO_SOURCE), n - 1), pos.get(src.get(y, NO_SOURCE), n - 1)
        if d is not None:
            directed[i][j] += 1
        else:
            undirected[i][j] += 1
            if i != j:
                undirected[j][i] += 1
    peak = max([v for r in directed for v in r] + [v for r in undirected for v in r] + [1])
    return {"sources": labels, "directed": directed, "undirected": undirected, "max": peak,
            "shown": len(names), "sources_total": len(involvement)}


SIZE_BINS = [(2, 2), (3, 3), (4, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, 499), (500, None)]


def size_histogram(sizes: Iterable[int]) -> list[tuple[str, int]]:
    """Counts of clusters by size, in bins that widen with size (2, 3, 4, 5–9, 10–19, ...)."""
    counts = [0] * len(SIZE_BINS)
    for s in sizes:
        for k, (lo, hi) in enumerate(SIZE_BINS):
            if s >= lo and (hi is None or s <= hi):
                counts[k] += 1
                break
    labels = [f"{lo}" if lo == hi else (f"{lo}+" if hi is None else f"{lo}–{hi}") for lo, hi in SIZE_BINS]
    # Trailing empty bins say nothing.
    last = max([k for k, c in enumerate(counts) if c] + [3])
    return list(zip(labels[:last + 1], counts[:last + 1], strict=True))


def passage_cluster_view(results: Results, cid: int) -> dict[str, Any]:
    """A passage cluster with its occurrences (earliest first) for pages and the report."""
    c = results.cluster_by_id[cid]
    occ = sorted(results.occurrences_of_cluster.get(cid, []),
                 key=lambda o: (date_key(o.get("date")) or "\uffff", o["document"], o["start"]))
    return {"cluster": c, "occurrences": occ, "pairs": results.pairs_of_cluster.get(cid, [])}


# ---------------------------------------------------------------- SVG plots


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(
        f'<svg class="tt-plot" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">' + "".join(body) + "</svg>")


def svg_bar_chart(bars: Sequence[tuple[str, int]], *, title: str, xlabel: str, ylabel: str,
                  width: int = 560, height: int = 230) -> Markup:
    """A bar chart as inline SVG: one bar per ``(label, count)``, the count above each bar."""
    left, right, top, bottom = 48, 12, 40, 44
    pw, ph = width - left - right, height - top - bottom
    peak = max([c for _, c in bars] + [1])
    body = [f'<text x="{width / 2:.0f}" y="16" class="tt-plot-title" text-anchor="middle">{escape(title)}</text>',
            f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" class="tt-axis"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" class="tt-axis"/>',
            f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="tt-tick">{peak:,}</text>',
            f'<text x="{left - 6}" y="{top + ph}" text-anchor="end" class="tt-tick">0</text>',
            f'<text x="{left + pw / 2:.0f}" y="{height - 6}" text-anchor="middle" class="tt-label">'
            f"{escape(xlabel)}</text>",
            f'<text x="12" y="{top + ph / 2:.0f}" text-anchor="middle" class="tt-label" '
            f'transform="rotate(-90 12 {top + ph / 2:.0f})">{escape(ylabel)}</text>']
    slot = pw / max(len(bars), 4)  # a few bars stay narrow
    for k, (label, count) in enumerate(bars):
        h = ph * count / peak
        x = left + k * slot + slot * 0.15
        body.append(f'<rect x="{x:.1f}" y="{top + ph - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                    f'class="tt-bar"><title>{escape(label)}: {count:,}</title></rect>')
        if count:
            body.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + ph - h - 3:.1f}" text-anchor="middle" '
                        f'class="tt-tick">{count:,}</text>')
        body.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + ph + 14}" text-anchor="middle" '
                    f'class="tt-tick">{escape(label)}</text>')
    return _svg(width, height, body, title)


def _parse_day(value: Any) -> dt.datetime | None:
    k = date_key(value) if isinstance(value, str) else None
    return dt.datetime.fromisoformat(k) if k else None


def svg_spread(occurrences: Sequence[dict[str, Any]], *, width: int = 640, max_rows: int = 30) -> Markup:
    """A passage cluster's spread over time and outlets: one row per source (per document when
    there are no sources), one dot per occurrence at its date; the origin is ringed. Undated
    occurrences sit in a column of their own at the right."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for o in occurrences:
        key = o.get("source") or o["document"]
        rows.setdefault(str(key), []).append(o)
    names = sorted(rows, key=lambda r: (min((date_key(o.get("date")) or "\uffff") for o in rows[r]), r))
    hidden = max(0, len(names) - max_rows)
    names = names[:max_rows]
    dates = [d for o in occurrences if (d := _parse_day(o.get("date"))) is not None]
    undated = any(_parse_day(o.get("date")) is None for o in occurrences)
    left, right, top, row_h = 170, 20 + (60 if undated else 0), 24, 22
    height = top + row_h * len(names) + 40 + (14 if hidden else 0)
    pw = width - left - right
    lo, hi = (min(dates), max(dates)) if dates else (None, None)
    span = (hi - lo).total_seconds() if lo is not None and hi is not None else 0.0
    body = [f'<text x="{left}" y="14" class="tt-plot-title">Spread over time and outlets</text>']
    axis_y = top + row_h * len(names) + 4
    body.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + pw}" y2="{axis_y}" class="tt-axis"/>')
    if lo is not None and hi is not None:
        body.append(f'<text x="{left}" y="{axis_y + 16}" class="tt-tick">{lo.date().isoformat()}</text>')
        if span:
            body.append(f'<text x="{left + pw}" y="{axis_y + 16}" text-anchor="end" class="tt-tick">'
                        f"{hi.date().isoformat()}</text>")
    if undated:
        body.append(f'<text x="{width - 50}" y="{axis_y + 16}" text-anchor="middle" class="tt-tick">undated</text>')
    for r, name in enumerate(names):
        y = top + r * row_h + row_h / 2
        short = name if len(name) <= 26 else name[:25] + "…"
        body.append(f'<text x="{left - 8}" y="{y + 4:.0f}" text-anchor="end" class="tt-tick">'
                    f"<title>{escape(name)}</title>{escape(short)}</text>")
        body.append(f'<line x1="{left}" y1="{y:.0f}" x2="{left + pw}" y2="{y:.0f}" class="tt-grid"/>')
        for k, o in enumerate(rows[name]):
            d = _parse_day(o.get("date"))
            x: float
            if d is None:
                x = width - 50 + (k % 5) * 6 - 12
            elif lo is None or not span:
                x = left + pw / 2
            else:
                x = left + pw * (d - lo).total_seconds() / span
            cls = "tt-dot tt-origin" if o.get("origin") else "tt-dot"
            tip = f"{o['document']} [{o['start']}:{o['end']}] {o.get('date') or 'undated'}"
            if o.get("origin"):
                tip += " (likely origin)"
            body.append(f'<circle cx="{x:.1f}" cy="{y:.0f}" r="{6 if o.get("origin") else 4.5}" class="{cls}">'
                        f"<title>{escape(tip)}</title></circle>")
    if hidden:
        body.append(f'<text x="{left}" y="{height - 4}" class="tt-tick">and {hidden:,} more outlets</text>')
    return _svg(width, height, body, "spread of a passage over time and outlets")


# ---------------------------------------------------------------- templates and the report


def environment() -> Environment:
    """The Jinja2 environment of the report and the web pages (autoescaping everything)."""
    env = Environment(loader=PackageLoader("twicetold", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda v: "–" if v is None else (f"{v:,}" if isinstance(v, int) else f"{v:,.4g}")
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * float(v):.0f}%"
    env.filters["day"] = lambda v: (v or "")[:10]
    env.globals.update(doc_url=doc_url, pair_url=lambda i: f"/pairs/{i}", cluster_url=lambda i: f"/clusters/{i}",
                       duplicate_url=lambda i: f"/duplicates/{i}", source_url=source_url)
    return env


def doc_url(doc_id: str) -> str:
    """The web page of a document (ids may hold slashes; everything else is percent-encoded)."""
    return "/documents/" + urllib.parse.quote(doc_id, safe="/")


def source_url(name: str) -> str:
    """The web page of a source."""
    return "/sources/" + urllib.parse.quote(name, safe="")


def static_text(name: str) -> str:
    """A file of ``static/`` (CSS, JavaScript), to inline into the report."""
    return (STATIC / name).read_text(encoding="utf-8")


def _is_report(path: Path) -> bool:
    """``path`` is a report twicetold wrote (its generator tag is near the top)."""
    try:
        with open(path, "rb") as f:
            return b'<meta name="generator" content="twicetold' in f.read(4096)
    except OSError:
        return False


def write_report(results_dir: str | os.PathLike[str], output_html: str | os.PathLike[str] | None = None, *,
                 max_pairs: int = 100, max_clusters: int = 50, max_sources: int = 25, context: int = 300) -> Path:
    """Write the HTML report of a results folder; return its path.

    One self-contained file (no network): summary figures, cluster size histograms, the
    ``max_clusters`` largest passage clusters with their spread over time and outlets,
    per-source statistics and a source-by-source matrix of the ``max_sources`` sources most
    often in pairs, and the ``max_pairs`` largest pairs side by side (``context`` characters
    around each passage), passages highlighted and word differences marked. Texts are re-read
    from the scan's inputs; when they are gone, the passage texts recorded in the folder are
    shown instead. Default output: ``results_dir/report.html``, replaced atomically.

    >>> write_report("results")  # doctest: +SKIP
    PosixPath('results/report.html')
    """
    if max_pairs < 0 or max_clusters < 0 or max_sources < 1 or context < 0:
        raise InputError("max_pairs, max_clusters and context must be >= 0, max_sources >= 1")
    results = Results.load(results_dir)
    out = Path(output_html) if output_html is not None else results.path / "report.html"
    # The report's inputs (the scan's inputs, the tables it is made from) are never written over,
    # and an existing file is replaced only when it is a twicetold report.
    inputs: list[str | os.PathLike[str]] = [i for i in results.run.get("inputs", []) if isinstance(i, str)]
    inputs += [p for p in results.path.iterdir() if p.suffix != ".html"]
    if out.is_dir():
        raise OutputError(f"{out} is a folder", "give a file name for the report, e.g. report.html")
    check_destination(out, True, inputs, is_dir=False)
    if out.exists() and not _is_report(out):
        raise OutputError(f"{out} exists and is not a twicetold report: it is not replaced",
                          "give another file name for the report")
    html_text = render_report(results, max_pairs=max_pairs, max_clusters=max_clusters,
                              max_sources=max_sources, context=context)
    with atomic_path(out, True, is_dir=False, inputs=inputs) as tmp:
        tmp.write_text(html_text, encoding="utf-8")
    return out


def render_report(results: Results, *, max_pairs: int = 100, max_clusters: int = 50, max_sources: int = 25,
                  context: int = 300) -> str:
    """The report of ``results`` as an HTML string (see :func:`write_report`)."""
    top_pairs = heapq.nsmallest(max_pairs, results.pairs, key=pair_rank)
    loader = TextLoader(results)
    texts = loader.get_many(d for p in top_pairs for d in (p["a"], p["b"])) if top_pairs else {}
    views = [pair_view(p, texts, results, window=context, max_passages=50, anchor_prefix=f"pair{p['id']}-")
             for p in top_pairs]
    pcs = sorted(results.passage_clusters or [], key=lambda c: (-int(c.get("size", 0)), int(c["id"])))[:max_clusters]
    cluster_views = [passage_cluster_view(results, int(c["id"])) for c in pcs]
    spreads = {int(c["id"]): svg_spread(results.occurrences_of_cluster.get(int(c["id"]), []))
               for c in pcs[:10]}
    plots = {}
    if results.passage_clusters:
        plots["passage_sizes"] = svg_bar_chart(
            size_histogram(int(c.get("size", 0)) for c in results.passage_clusters),
            title="Passage clusters by number of occurrences", xlabel="occurrences", ylabel="clusters")
    if results.clusters:
        plots["duplicate_sizes"] = svg_bar_chart(
            size_histogram(int(c.get("size", 0)) for c in results.clusters),
            title="Near-duplicate clusters by number of documents", xlabel="documents", ylabel="clusters")
    env = environment()
    return env.get_template("report.html").render(
        title=f"twicetold report: {results.title}", summary=summary(results), plots=plots,
        clusters=cluster_views, spreads=spreads, sources=source_stats(results)[:200],
        matrix=source_matrix(results, max_sources), pairs=views, pairs_total=len(results.pairs),
        text_problem=loader.problem if top_pairs and len(texts) < len({d for p in top_pairs for d in (p["a"], p["b"])})
        else None,
        css=Markup(static_text("twicetold.css")), js=Markup(static_text("twicetold.js")),
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))


def _pairs_for_doc(results: Results, doc_id: str) -> list[dict[str, Any]]:
    """The pairs a document is in, largest first."""
    return sorted((results.pairs[i] for i in results.pairs_of_doc.get(doc_id, [])), key=pair_rank)


def document_marks(results: Results, doc_id: str, limit: int = 200) -> tuple[list[Mark], list[dict[str, Any]]]:
    """Passages of every pair a document is in, as marks on its text (one colour per pair) and
    as rows naming the other document and the offsets on both sides."""
    marks: list[Mark] = []
    rows: list[dict[str, Any]] = []
    for k, p in enumerate(_pairs_for_doc(results, doc_id)[:limit]):
        mine = "a" if p["a"] == doc_id else "b"
        theirs = "b" if mine == "a" else "a"
        for x in p["passages"]:
            marks.append(Mark(int(x[f"{mine}_start"]), int(x[f"{mine}_end"]), "passage", k))
            rows.append({"pair": p["id"], "other": doc_summary(p[theirs], results), "kind": p["kind"],
                         "start": x[f"{mine}_start"], "end": x[f"{mine}_end"],
                         "other_start": x[f"{theirs}_start"], "other_end": x[f"{theirs}_end"],
                         "length": x.get("length"), "score": x.get("score"), "cluster": x.get("cluster"),
                         "quoted": x.get("quoted"), "colour": k % PASSAGE_COLOURS})
    rows.sort(key=lambda r: (r["start"], r["end"]))
    return marks, rows
