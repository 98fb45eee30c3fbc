"""The local web application: browse a results folder, ask an index where a text came from.

``create_app(results_dir, index_path)`` returns a Starlette application with server-rendered
Jinja2 pages. Every page has a JSON twin with the same content (``/pairs/3`` and
``/pairs/3.json``, or ``?format=json``), and ``/openapi.json`` documents every JSON endpoint;
the endpoint table below builds both the routes and that document, so they cannot drift.

One handler renders every error, as ``{"ok": false, "status", "error", "errors"}`` for JSON
requests and as an HTML page otherwise: unknown ids are 404, bad parameters 400, uploads
over the cap 413, binary uploads 415, other methods 405, the library's errors (a damaged
index) 500. A request whose Host header names a host the server was not started for is
refused with 400 (DNS rebinding). Document and source ids are percent-encoded whole in links
(:func:`item_url`), so every id, ``a/../b`` included, opens its own page.

Uploads are read as a stream and cut off at ``max_upload_bytes`` whatever the client's
``Content-Length`` says, so a huge upload costs at most that much memory and the server keeps
answering. :func:`get` sends one request through the application in-process (for
``twicetold serve --get PATH``), without a port or an HTTP client library.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import time
import traceback
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__
from .errors import TwicetoldError
from .model import Pair
from .report import (
    FULL_TEXT_CHARS,
    NO_SOURCE,
    PASSAGE_COLOURS,
    STATIC,
    Mark,
    PairView,
    Results,
    TextLoader,
    date_key,
    doc_summary,
    document_marks,
    environment,
    origin_and_reuser,
    pair_rank,
    pair_summary,
    pair_view,
    passage_cluster_view,
    render_text,
    size_histogram,
    source_label,
    source_matrix,
    source_stats,
    summary,
    svg_bar_chart,
    svg_spread,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_UPLOAD = 5 * 1024 * 1024
QUERY_ID = "(your text)"  # the pasted text's id in pairs: no indexed document is likely to have it
MAX_PAGE_SIZE = 500
QUERY_VIEWS = 10  # matches shown side by side on the query page; the rest are listed
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy",
     b"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; script-src 'self'; "
     b"frame-ancestors 'none'"),
]


# ---------------------------------------------------------------- errors


class WebError(Exception):
    """An error with an HTTP status, a sentence for the user and optional details."""

    def __init__(self, status: int, message: str, errors: list[str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or [message]
        self.headers = headers


def not_found(what: str) -> WebError:
    return WebError(404, f"{what} not found")


def wants_json(request: Request) -> bool:
    """JSON for ``*.json`` paths, ``?format=json``, JSON request bodies and clients that ask
    for JSON but not HTML; HTML otherwise."""
    if request.query_params.get("format") == "json" or request.url.path.endswith(".json"):
        return True
    if request.query_params.get("format") == "html":
        return False
    ctype = request.headers.get("content-type", "")
    accept = request.headers.get("accept", "")
    return ctype.startswith("application/json") or ("application/json" in accept and "text/html" not in accept)


async def handle_error(request: Request, exc: Exception) -> Response:
    """Render every error: the one JSON shape for JSON requests, an HTML page otherwise."""
    headers: dict[str, str] | None = None
    if isinstance(exc, WebError):
        status, message, errors, headers = exc.status, exc.message, exc.errors, exc.headers
    elif isinstance(exc, HTTPException):
        status, headers = exc.status_code, dict(exc.headers or {})
        message = {404: "Not found", 405: "Method not allowed"}.get(status, str(exc.detail))
        if status == 405 and headers.get("allow"):
            message = f"Method {request.method} not allowed here; use {headers['allow']}"
        errors = [message] if str(exc.detail) in (message, "Not Found", "Method Not Allowed") \
            else [message, str(exc.detail)]
    elif isinstance(exc, TwicetoldError):  # the library's own words: a damaged (500) or busy (503) index...
        status, message = exc.http_status, exc.message
        errors = [exc.message, *([exc.hint] if exc.hint else [])]
    else:
        status, message = 500, "Internal server error"
        errors = [f"{type(exc).__name__}: {exc}"]
        traceback.print_exception(exc)
    payload = {"ok": False, "status": status, "error": message, "errors": errors}
    if wants_json(request):
        return JSONResponse(payload, status_code=status, headers=headers)
    state: AppState | None = getattr(request.app.state, "twicetold", None)
    env = state.env if state is not None else environment()
    body = env.get_template("error.html").render(payload=payload, title=f"Error {status}", state=state,
                                                 request=request, json_url=None)
    return HTMLResponse(body, status_code=status, headers=headers)


# ---------------------------------------------------------------- application state


@dataclass
class AppState:
    """What the pages read: the results folder and/or index, texts, templates, and caches."""

    results: Results | None
    index: Any  # twicetold.index.Index or None
    index_path: str | None
    texts: TextLoader
    env: Environment
    max_upload_bytes: int
    hosts: frozenset[str] | None = frozenset()  # host names requests may name; None: any
    cache: dict[str, Any] = field(default_factory=dict)

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        """A value computed once per application (results folders do not change while served)."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def need_results(self) -> Results:
        if self.results is None:
            raise WebError(404, "this server has no results folder",
                           ["start it with: twicetold serve OUTDIR (a folder written by twicetold scan)"])
        return self.results


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.twicetold
    return state


# ---------------------------------------------------------------- parameters


def int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    """An integer query parameter within ``[lo, hi]``, or a 400 naming it."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise WebError(400, f"{name} must be an integer", [f"{name}={raw!r} is not an integer"]) from None
    if not lo <= value <= hi:
        raise WebError(400, f"{name} must be between {lo} and {hi}", [f"{name}={value} is out of range"])
    return value


def choice_param(request: Request, name: str, choices: tuple[str, ...]) -> str:
    """A query parameter from a fixed set (the first is the default), or a 400 listing the set."""
    raw = request.query_params.get(name) or choices[0]
    if raw not in choices:
        raise WebError(400, f"{name} must be one of: {', '.join(choices)}", [f"{name}={raw!r} is not allowed"])
    return raw


def page_params(request: Request, default_size: int = 50) -> tuple[int, int]:
    return int_param(request, "page", 1, 1, 10**9), int_param(request, "size", default_size, 1, MAX_PAGE_SIZE)


def paginate(rows: list[Any], page: int, size: int) -> dict[str, Any]:
    """A page of ``rows`` with the figures a pager needs."""
    pages = max(1, -(-len(rows) // size))
    return {"total": len(rows), "page": page, "size": size, "pages": pages,
            "rows": rows[(page - 1) * size: page * size]}


def resolve_id(request: Request, raw: str, exists: Callable[[str], bool], prefix: str | None = None) -> str:
    """The id in a detail path, without a ``.json`` suffix that asks for the JSON twin (unless
    an id really ends in ``.json`` and its stem does not exist).

    With ``prefix`` (the page's path before the id), an id no path can carry comes as
    ``?id=`` after an empty one (see :func:`item_url`), and the page's own path, encoded as
    its links encode it, is kept for its JSON twin and pager links.
    """
    key = raw
    if prefix is not None and raw in ("", ".json") and "id" in request.query_params:
        key = request.query_params["id"]
    elif raw.endswith(".json"):
        if exists(raw[:-5]) or not exists(raw):
            key = raw[:-5]
        else:
            request.scope["twicetold.html"] = True  # the id is "x.json" itself: HTML unless format=json
    if prefix is not None:
        request.scope["twicetold.path"] = item_path(prefix, key)
    return key


def _dot_segment(key: str) -> bool:
    # A path segment "", "." or ".." is dropped or climbs one level in every browser, however
    # it is encoded (URL parsers read %2E as a dot there).
    return key in ("", ".", "..")


def item_path(prefix: str, key: str) -> str:
    """The path part of :func:`item_url`."""
    return f"{prefix}/" if _dot_segment(key) else f"{prefix}/{urllib.parse.quote(key, safe='')}"


def item_url(prefix: str, key: str) -> str:
    """The page of a document or source: its id percent-encoded whole, slashes included, so a
    browser cannot rewrite it (``a/../b`` would open ``b``); ids a path cannot hold go in ``?id=``."""
    path = item_path(prefix, key)
    return path + "?id=" + urllib.parse.quote(key, safe="") if _dot_segment(key) else path


HTTP_URL = re.compile(r"https?://[^\x00-\x20\x7f]+", re.IGNORECASE)


def http_href(value: object) -> str | None:
    """``value`` if it is an absolute http(s) URL, to link to; None for anything else
    (``javascript:``, ``data:``, relative URLs, control characters), which is shown as text."""
    return value if isinstance(value, str) and HTTP_URL.fullmatch(value) else None


def int_id(raw: str, what: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise WebError(400, f"{what} id must be an integer", [f"{raw!r} is not an integer"]) from None


# ---------------------------------------------------------------- pages


@dataclass
class Page:
    """A page: ``data`` is the JSON twin; the template gets it as ``data`` plus ``extra``."""

    template: str
    title: str
    data: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def page_path(request: Request) -> str:
    """The current page's path, encoded as the links to it are (``request.url.path`` is decoded:
    an id's ``%2F`` would come back as a slash)."""
    path: str | None = request.scope.get("twicetold.path")
    return path if path is not None else urllib.parse.quote(request.url.path, safe="/")


def url_with(request: Request, **params: Any) -> str:
    """The current URL with some query parameters replaced."""
    query = dict(request.query_params)
    query.update({k: str(v) for k, v in params.items() if v is not None})
    return page_path(request) + "?" + urllib.parse.urlencode(query)


def json_twin(request: Request) -> str:
    """The URL of the JSON twin of the current page."""
    path = page_path(request)
    path = "/.json" if path == "/" else path + ".json"
    query = request.url.query
    return path + ("?" + query if query else "")


def home(request: Request) -> Page:
    """Summary of the results folder and/or index."""
    state = state_of(request)
    data: dict[str, Any] = {"results": None, "index": None}
    extra: dict[str, Any] = {"plots": {}}
    if state.results is not None:
        res = state.results
        data["results"] = state.cached("summary", lambda: summary(res))
        if res.passage_clusters:
            extra["plots"]["passage_sizes"] = state.cached("plot_p", lambda: svg_bar_chart(
                size_histogram(int(c.get("size", 0)) for c in res.passage_clusters or []),
                title="Passage clusters by number of occurrences", xlabel="occurrences", ylabel="clusters"))
        if res.clusters:
            extra["plots"]["duplicate_sizes"] = state.cached("plot_d", lambda: svg_bar_chart(
                size_histogram(int(c.get("size", 0)) for c in res.clusters),
                title="Near-duplicate clusters by number of documents", xlabel="documents", ylabel="clusters"))
    if state.index is not None:
        data["index"] = state.index.stats().to_dict()
    return Page("home.html", "twicetold", data, extra)


CLUSTER_SORTS = ("size", "documents", "sources", "first_date", "last_date", "id")


def clusters_page(request: Request) -> Page:
    """Passage clusters: the same passage across the corpus."""
    res = state_of(request).need_results()
    page, size = page_params(request)
    sort = choice_param(request, "sort", CLUSTER_SORTS)
    q = (request.query_params.get("q") or "").casefold()
    rows = list(res.passage_clusters or [])
    if q:
        rows = [c for c in rows if q in str(c.get("text", "")).casefold()]
    if sort in ("first_date", "last_date"):
        rows.sort(key=lambda c: (c.get(sort) or "\uffff", int(c["id"])))
    elif sort == "id":
        rows.sort(key=lambda c: int(c["id"]))
    else:
        rows.sort(key=lambda c: (-int(c.get(sort) or 0), int(c["id"])))
    p = paginate(rows, page, size)
    data = {"available": res.passage_clusters is not None, "sort": sort, "q": q or None,
            **{k: v for k, v in p.items() if k != "rows"}, "clusters": p["rows"]}
    return Page("clusters.html", "Passage clusters", data)


def cluster_page(request: Request) -> Page:
    """One passage cluster: its occurrences, spread over time and outlets, and pairs."""
    res = state_of(request).need_results()
    cid = int_id(resolve_id(request, request.path_params["id"], lambda s: s.isdigit()), "cluster")
    if cid not in res.cluster_by_id:
        raise not_found(f"passage cluster {cid}")
    view = passage_cluster_view(res, cid)
    pairs = [pair_summary(res.pairs[i], res) for i in view["pairs"][:200]]
    data = {"cluster": view["cluster"], "occurrences": view["occurrences"], "pairs": pairs,
            "pairs_total": len(view["pairs"])}
    return Page("cluster.html", f"Passage cluster {cid}", data, {"spread": svg_spread(view["occurrences"])})


def duplicates_page(request: Request) -> Page:
    """Near-duplicate document clusters (exact copies included)."""
    res = state_of(request).need_results()
    page, size = page_params(request)
    kind = choice_param(request, "kind", ("all", "exact", "near"))
    rows = [c for c in res.clusters if kind == "all" or c.get("kind") == kind]
    rows.sort(key=lambda c: (-int(c.get("size", 0)), int(c["id"])))
    p = paginate(rows, page, size)
    data = {"kind": kind, **{k: v for k, v in p.items() if k != "rows"}, "clusters": p["rows"]}
    return Page("duplicates.html", "Near-duplicate clusters", data)


def duplicate_page(request: Request) -> Page:
    """One near-duplicate cluster: its members and the pairs among them."""
    res = state_of(request).need_results()
    cid = int_id(resolve_id(request, request.path_params["id"], lambda s: s.isdigit()), "cluster")
    c = res.duplicate_by_id.get(cid)
    if c is None:
        raise not_found(f"near-duplicate cluster {cid}")
    members = set(c["members"])
    pairs = sorted({i for m in members for i in res.pairs_of_doc.get(m, [])
                    if res.pairs[i]["a"] in members and res.pairs[i]["b"] in members})
    data = {"cluster": c, "members": [{**doc_summary(m, res), "canonical": m == c["canonical"]} for m in c["members"]],
            "pairs": [pair_summary(res.pairs[i], res) for i in pairs]}
    return Page("duplicate.html", f"Near-duplicate cluster {cid}", data)


def sources_page(request: Request) -> Page:
    """Per-source statistics and the source-by-source matrix (who reuses whom)."""
    state = state_of(request)
    res = state.need_results()
    top = int_param(request, "top", 25, 1, 200)
    stats = state.cached("sources", lambda: source_stats(res))
    data = {"sources": stats, "matrix": state.cached(f"matrix{top}", lambda: source_matrix(res, top))}
    return Page("sources.html", "Sources", data)


def source_page(request: Request) -> Page:
    """One source: its figures, the sources it reuses and is reused by, documents and pairs."""
    state = state_of(request)
    res = state.need_results()
    name = resolve_id(request, request.path_params["name"], lambda s: s in res.docs_of_source, "/sources")
    stats = {r["source"]: r for r in state.cached("sources", lambda: source_stats(res))}
    if name not in stats:
        raise not_found(f"source {name!r}")
    page, size = page_params(request)
    src = {d["id"]: source_label(d.get("source")) for d in res.documents}
    partners: dict[str, Counter[str]] = {}
    pair_ids: set[int] = set()
    for doc in res.docs_of_source.get(name, []):
        for i in res.pairs_of_doc.get(doc, []):
            p = res.pairs[i]
            pair_ids.add(i)
            d = origin_and_reuser(p)
            other = p["b"] if p["a"] == doc else p["a"]
            c = partners.setdefault(src.get(other, NO_SOURCE), Counter())
            if d is None:
                c["undirected"] += 1
            elif d[0] == doc:
                c["reused_by_them"] += 1
            else:
                c["reused_from_them"] += 1
    docs = paginate([{**doc_summary(d, res), "pairs": len(res.pairs_of_doc.get(d, []))}
                     for d in res.docs_of_source.get(name, [])], page, size)
    top_pairs = sorted((res.pairs[i] for i in pair_ids), key=pair_rank)[:100]
    data = {"source": stats[name],
            "partners": sorted(({"source": s, **{k: c.get(k, 0) for k in
                                                 ("reused_from_them", "reused_by_them", "undirected")}}
                                for s, c in partners.items()), key=lambda r: -sum(v for v in r.values()
                                                                                  if isinstance(v, int))),
            "documents": docs["rows"], **{f"documents_{k}": v for k, v in docs.items() if k != "rows"},
            "pairs": [pair_summary(p, res) for p in top_pairs], "pairs_total": len(pair_ids)}
    return Page("source.html", f"Source {name}", data)


DOC_SORTS = ("id", "pairs", "length", "date")


def documents_page(request: Request) -> Page:
    """Documents, with how many pairs each is in; filter by id (``q``) or ``source``."""
    state = state_of(request)
    page, size = page_params(request)
    sort = choice_param(request, "sort", DOC_SORTS)
    q = request.query_params.get("q") or None
    source = request.query_params.get("source") or None
    if state.results is None and state.index is not None:
        found, total = state.index.documents(q, None if source == NO_SOURCE else source,
                                             missing_source=source == NO_SOURCE, offset=(page - 1) * size, limit=size)
        rows = [{**d, "pairs": None} for d in found]
        data = {"from": "index", "sort": "id", "q": q, "source": source, "total": total, "page": page, "size": size,
                "pages": max(1, -(-total // size)), "documents": rows}
        return Page("documents.html", "Documents", data)
    res = state.need_results()
    docs = res.documents
    if q:
        docs = [d for d in docs if q.casefold() in d["id"].casefold()]
    if source:
        docs = [d for d in docs if source_label(d.get("source")) == source]
    rows = [{**doc_summary(d["id"], res), "pairs": len(res.pairs_of_doc.get(d["id"], []))} for d in docs]
    if sort == "pairs":
        rows.sort(key=lambda r: (-r["pairs"], r["id"]))
    elif sort == "length":
        rows.sort(key=lambda r: (-(r["length"] or 0), r["id"]))
    elif sort == "date":
        rows.sort(key=lambda r: (date_key(r["date"]) or "\uffff", r["id"]))
    p = paginate(rows, page, size)
    data = {"from": "results", "sort": sort, "q": q, "source": source,
            **{k: v for k, v in p.items() if k != "rows"}, "documents": p["rows"]}
    return Page("documents.html", "Documents", data)


def document_page(request: Request) -> Page:
    """One document: its text with every passage it shares highlighted, and the pairs."""
    state = state_of(request)
    res = state.results

    def exists(i: str) -> bool:
        return (res is not None and i in res.doc_by_id) or (state.index is not None and i in state.index)

    doc_id = resolve_id(request, request.path_params["id"], exists, "/documents")
    if res is not None and doc_id in res.doc_by_id:
        text = state.texts.get(doc_id)
        marks, rows = document_marks(res, doc_id)
        record = res.doc_by_id[doc_id]
        pairs = [pair_summary(res.pairs[i], res) for i in sorted(res.pairs_of_doc.get(doc_id, []),
                                                                 key=lambda i: pair_rank(res.pairs[i]))]
    elif state.index is not None and doc_id in state.index:
        doc = state.index.get(doc_id)
        text = doc.text
        record = {"id": doc.id, "source": doc.source, "date": doc.date, "length": len(doc.text),
                  "encoding": doc.encoding, "warnings": doc.warnings, "origin": doc.origin, **doc.meta}
        found = [p for p in state.index.query(doc.text, id=doc.id, date=doc.date, limit=200)
                 if p.a != p.b]
        marks, rows, pairs = index_matches(doc.id, found, state)
    else:
        raise not_found(f"document {doc_id!r}")
    html = None
    if text is not None:
        window = None if len(text) <= FULL_TEXT_CHARS else 2000
        html = render_text(text, marks, window=window, side="d")
    data = {"document": record, "text": text, "text_available": text is not None,
            "text_problem": None if text is not None else (state.texts.problem or "the text is unavailable"),
            "matches": rows, "pairs": pairs}
    return Page("document.html", f"Document {doc_id}", data, {"text_html": html})


def index_matches(doc_id: str, pairs: list[Pair],
                  state: AppState) -> tuple[list[Mark], list[dict[str, Any]], list[dict[str, Any]]]:
    """Marks and rows of an indexed document's matches found by querying the index with it."""
    marks: list[Mark] = []
    rows: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    for k, p in enumerate(pairs):
        mine, theirs = ("a", "b") if p.a == doc_id else ("b", "a")
        other = getattr(p, theirs)
        meta = index_doc_summary(state, other)
        for x in p.passages:
            s, e = getattr(x, f"{mine}_start"), getattr(x, f"{mine}_end")
            marks.append(Mark(s, e, "passage", k))
            rows.append({"pair": None, "other": meta, "kind": p.kind, "start": s, "end": e,
                         "other_start": getattr(x, f"{theirs}_start"), "other_end": getattr(x, f"{theirs}_end"),
                         "length": x.length, "score": x.score, "cluster": None, "quoted": None,
                         "colour": k % PASSAGE_COLOURS})
        summaries.append({"id": None, "a": index_doc_summary(state, p.a), "b": index_doc_summary(state, p.b),
                          "kind": p.kind, "jaccard": p.jaccard, "direction": "unknown", "same_source": None,
                          "n_passages": len(p.passages), "reused_chars": sum(x.length for x in p.passages)})
    rows.sort(key=lambda r: (r["start"], r["end"]))
    return marks, rows, summaries


def index_doc_summary(state: AppState, doc_id: str) -> dict[str, Any]:
    """``doc_summary`` for a document that may only be in the index."""
    if state.results is not None and doc_id in state.results.doc_by_id:
        return doc_summary(doc_id, state.results)
    doc = state.index.get(doc_id) if state.index is not None else None
    if doc is None:
        return {"id": doc_id, "source": None, "date": None, "length": None}
    return {"id": doc.id, "source": doc.source, "date": doc.date, "length": len(doc.text)}


PAIR_SORTS = ("length", "jaccard", "id")


def pairs_page(request: Request) -> Page:
    """Pairs of documents that share text, largest first."""
    res = state_of(request).need_results()
    page, size = page_params(request)
    sort = choice_param(request, "sort", PAIR_SORTS)
    kind = choice_param(request, "kind", ("all", "exact", "near", "partial"))
    rows = [p for p in res.pairs if kind == "all" or p["kind"] == kind]
    if sort == "length":
        rows = sorted(rows, key=pair_rank)
    elif sort == "jaccard":
        rows = sorted(rows, key=lambda p: (-float(p.get("jaccard") or 0), p["id"]))
    p = paginate(rows, page, size)
    data = {"sort": sort, "kind": kind, **{k: v for k, v in p.items() if k != "rows"},
            "pairs": [pair_summary(x, res) for x in p["rows"]]}
    return Page("pairs.html", "Pairs", data)


def pair_page(request: Request) -> Page:
    """One pair side by side: both texts, passages highlighted, differences marked."""
    state = state_of(request)
    res = state.need_results()
    n = int_id(resolve_id(request, request.path_params["id"], lambda s: s.isdigit()), "pair")
    if not 0 <= n < len(res.pairs):
        raise not_found(f"pair {n}")
    p = res.pairs[n]
    texts = state.texts.get_many([p["a"], p["b"]])
    view = pair_view(p, texts, res, max_passages=500)
    problem = None if len(texts) == 2 else (state.texts.problem or "the full texts are unavailable")
    data = {**view.data, "text_problem": problem}
    return Page("pair.html", f"Pair {n}", data, {"view": view})


# ---------------------------------------------------------------- "where was this copied from?"


class QueryInput:
    """What a query request carried: the text, where it came from, and options."""

    def __init__(self, text: str, origin: str, limit: int, date: str | None) -> None:
        self.text, self.origin, self.limit, self.date = text, origin, limit, date


def _limit(raw: Any) -> int:
    if raw is None or raw == "":
        return 20
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise WebError(400, "limit must be an integer", [f"limit={raw!r} is not an integer"]) from None
    if not 1 <= value <= 100:
        raise WebError(400, "limit must be between 1 and 100", [f"limit={value} is out of range"])
    return value


def _date(raw: Any) -> str | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or date_key(raw) is None:
        raise WebError(400, "date must be an ISO 8601 date such as 2026-03-04", [f"date={raw!r} is not a date"])
    return raw


def decode_upload(data: bytes, name: str) -> str:
    """Bytes of an uploaded text as ``scan`` decodes ``.txt`` files, or 415 for binary data."""
    from .readers import decode_bytes

    head = data[:8192]
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    magic = next((kind for sig, kind in ((b"%PDF", "a PDF"), (b"PK\x03\x04", "a ZIP or office document"),
                                         (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
                                         (b"GIF8", "a GIF image"), (b"\x1f\x8b", "a gzip archive"))
                  if head.startswith(sig)), None)
    if magic is not None or (b"\x00" in head and not utf16):
        what = magic or "binary data"
        raise WebError(415, f"{name} looks like {what}, not text",
                       ["upload a plain-text file (UTF-8 or another text encoding), or paste the text"])
    text, _, _ = decode_bytes(data)
    bad = sum(1 for c in text[:20000] if c == "\ufffd" or (c < " " and c not in "\t\n\r\f\v"))
    if text and bad > 0.1 * min(len(text), 20000):
        raise WebError(415, f"{name} does not decode as text", ["upload a plain-text file, or paste the text"])
    return text


async def read_capped(request: Request, cap: int) -> bytes:
    """The request body, read as a stream and cut off past ``cap`` bytes (413), whatever the
    client's ``Content-Length`` says (a larger declared length is refused before reading)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > cap:
                raise WebError(413, f"the upload is larger than the limit of {cap:,} bytes",
                               [f"Content-Length {int(declared):,} > {cap:,}"])
        except ValueError:
            raise WebError(400, "Content-Length is not a number") from None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise WebError(413, f"the upload is larger than the limit of {cap:,} bytes",
                           [f"more than {cap:,} bytes received"])
    return bytes(body)


async def query_input(request: Request, cap: int) -> QueryInput | None:
    """The text and options of a query: GET ``?text=``; POST as a form (``text`` field or
    ``file`` upload), JSON (``{"text": ...}``) or a ``text/plain`` body. None: show the form."""
    if request.method == "GET":
        text = request.query_params.get("text")
        if text is None:
            return None
        if len(text.encode("utf-8")) > cap:
            raise WebError(413, f"the text is larger than the limit of {cap:,} bytes")
        return QueryInput(text, "query string", _limit(request.query_params.get("limit")),
                          _date(request.query_params.get("date")))
    body = await read_capped(request, cap)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise WebError(400, "the request body is not valid JSON", [str(e)]) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise WebError(400, 'the JSON body must be an object with a "text" string',
                           ['expected {"text": "...", "limit": 20, "date": "2026-03-04"}'])
        return QueryInput(obj["text"], "JSON body", _limit(obj.get("limit")), _date(obj.get("date")))
    if ctype == "text/plain" or ctype == "":
        return QueryInput(decode_upload(body, "the request body"), "text body",
                          _limit(request.query_params.get("limit")), _date(request.query_params.get("date")))
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        form = await Request(request.scope, replay).form(max_files=1, max_fields=10, max_part_size=cap)
        try:
            upload = form.get("file")
            field = form.get("text")
            if isinstance(upload, UploadFile) and upload.filename:
                data = await upload.read()
                if data:
                    return QueryInput(decode_upload(data, upload.filename), f"file {upload.filename}",
                                      _limit(form.get("limit")), _date(form.get("date")))
            if not isinstance(field, str):
                raise WebError(400, "give a text to look for: the text field or a file",
                               ["the form has neither a non-empty file nor a text field"])
            # Browsers send a textarea's line breaks as CRLF whatever was pasted (HTML's form
            # encoding): undo that, so offsets count the line breaks the user pasted.
            return QueryInput(field.replace("\r\n", "\n"), "form", _limit(form.get("limit")), _date(form.get("date")))
        finally:
            await form.close()
    raise WebError(415, f"unsupported content type {ctype!r}",
                   ["send multipart/form-data, application/x-www-form-urlencoded, application/json or text/plain"])


async def query_page(request: Request) -> Page:
    """Paste or upload a text; the index says which documents it shares text with."""
    state = state_of(request)
    given = await query_input(request, state.max_upload_bytes)
    base = {"index": state.index_path, "max_upload_bytes": state.max_upload_bytes}
    if given is None:
        return Page("query.html", "Where was this copied from?", {**base, "query": None, "matches": None})
    if state.index is None:
        raise WebError(400, "this server has no index to look the text up in",
                       ["start it with: twicetold serve --index INDEX (built by twicetold index add)"])
    if not given.text.strip():
        raise WebError(400, "the text is empty", ["paste a text or choose a non-empty file"])
    started = time.perf_counter()
    pairs: list[Pair] = await run_in_threadpool(state.index.query, given.text, id=QUERY_ID, date=given.date,
                                                limit=given.limit)
    elapsed = (time.perf_counter() - started) * 1000
    views, matches = await run_in_threadpool(query_views, state, given, pairs)
    data = {**base, "query": {"id": QUERY_ID, "length": len(given.text), "from": given.origin, "date": given.date,
                              "limit": given.limit},
            "elapsed_ms": round(elapsed, 1), "matches": matches}
    return Page("query.html", "Where was this copied from?", data, {"views": views})


def query_views(state: AppState, given: QueryInput, pairs: list[Pair]) -> tuple[list[PairView], list[dict[str, Any]]]:
    """The matches of a query as JSON rows (offsets in the query and in the document) and,
    for the first ``QUERY_VIEWS``, side-by-side views."""
    views: list[PairView] = []
    matches: list[dict[str, Any]] = []
    for k, p in enumerate(pairs):
        q_side, d_side = ("a", "b") if p.a == QUERY_ID else ("b", "a")
        doc_id = getattr(p, d_side)
        meta = index_doc_summary(state, doc_id)
        passages = []
        doc_text = None
        if k < QUERY_VIEWS:
            doc = state.index.get(doc_id)
            doc_text = doc.text if doc is not None else None
        for x in p.passages:
            qs, qe = getattr(x, f"{q_side}_start"), getattr(x, f"{q_side}_end")
            ds, de = getattr(x, f"{d_side}_start"), getattr(x, f"{d_side}_end")
            passages.append({"query_start": qs, "query_end": qe, "document_start": ds, "document_end": de,
                             "length": x.length, "score": x.score, "query_text": given.text[qs:qe],
                             "document_text": doc_text[ds:de] if doc_text is not None else None})
        matches.append({"document": meta, "kind": p.kind, "jaccard": p.jaccard, "jaccard_exact": p.jaccard_exact,
                        "query_is_earlier": q_side == "a", "passages": passages})
        if doc_text is not None:
            row = {"a": p.a, "b": p.b, "kind": p.kind, "jaccard": p.jaccard, "direction": "unknown",
                   "same_source": None, "id": None,
                   "passages": [{"a_start": x.a_start, "a_end": x.a_end, "b_start": x.b_start, "b_end": x.b_end,
                                 "length": x.length, "score": x.score} for x in p.passages]}
            view = pair_view(row, {QUERY_ID: given.text, doc_id: doc_text}, None, anchor_prefix=f"m{k}-",
                             a_label="Your text" if q_side == "a" else None,
                             b_label="Your text" if q_side == "b" else None)
            view.data[d_side].update(meta)
            view.data[q_side].update({"length": len(given.text), "date": given.date})
            views.append(view)
    return views, matches


# ---------------------------------------------------------------- the API document


@dataclass(frozen=True)
class Endpoint:
    """A page and its JSON twin: builds the routes and the OpenAPI entry."""

    path: str  # as in OpenAPI, e.g. "/pairs/{id}"
    view: Callable[[Request], Any]
    summary: str
    params: tuple[tuple[str, str, str], ...] = ()  # (name, "query"|"path", description)
    methods: tuple[str, ...] = ("GET",)
    detail: bool = False  # the last path segment is an id (it may hold slashes)


PAGING = (("page", "query", "page number, from 1"), ("size", "query", f"rows per page, 1 to {MAX_PAGE_SIZE}"))
ENDPOINTS = [
    Endpoint("/", home, "Summary of the results folder and the index"),
    Endpoint("/clusters", clusters_page, "Passage clusters (the same passage across documents)",
             (*PAGING, ("sort", "query", "one of " + ", ".join(CLUSTER_SORTS)),
              ("q", "query", "only clusters whose text contains this"))),
    Endpoint("/clusters/{id}", cluster_page, "One passage cluster: occurrences, spread, pairs",
             (("id", "path", "passage cluster id"),), detail=True),
    Endpoint("/duplicates", duplicates_page, "Near-duplicate document clusters",
             (*PAGING, ("kind", "query", "all, exact or near"))),
    Endpoint("/duplicates/{id}", duplicate_page, "One near-duplicate cluster: members and pairs",
             (("id", "path", "near-duplicate cluster id"),), detail=True),
    Endpoint("/sources", sources_page, "Per-source statistics and the source-by-source matrix",
             (("top", "query", "sources in the matrix, 1 to 200"),)),
    Endpoint("/sources/{name}", source_page, "One source: figures, partner sources, documents, pairs",
             (("name", "path", f"source name ({NO_SOURCE} for documents without one)"), *PAGING), detail=True),
    Endpoint("/documents", documents_page, "Documents and how many pairs each is in",
             (*PAGING, ("sort", "query", "one of " + ", ".join(DOC_SORTS)),
              ("q", "query", "only ids containing this"), ("source", "query", "only documents of this source"))),
    Endpoint("/documents/{id}", document_page, "One document: text with its shared passages, and its pairs",
             (("id", "path", "document id (may contain slashes)"),), detail=True),
    Endpoint("/pairs", pairs_page, "Pairs of documents that share text",
             (*PAGING, ("sort", "query", "one of " + ", ".join(PAIR_SORTS)),
              ("kind", "query", "all, exact, near or partial"))),
    Endpoint("/pairs/{id}", pair_page, "One pair side by side: passages with offsets, texts and word differences",
             (("id", "path", "pair id: its row number in pairs.jsonl"),), detail=True),
    Endpoint("/query", query_page, "Where was this text copied from? Query the index with a text",
             (("text", "query", "the text (GET); POST sends it as a form, JSON or text/plain body"),
              ("limit", "query", "most matches, 1 to 100 (default 20)"),
              ("date", "query", "the text's date (ISO 8601), to tell which side is earlier")),
             methods=("GET", "POST")),
]


def openapi(app_title: str = "twicetold") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every JSON endpoint."""
    error_ref = {"$ref": "#/components/schemas/Error"}
    paths: dict[str, Any] = {}
    for ep in ENDPOINTS:
        json_path = "/.json" if ep.path == "/" else ep.path + ".json"
        ops: dict[str, Any] = {}
        for method in ep.methods:
            op: dict[str, Any] = {
                "summary": ep.summary,
                "description": (inspect.getdoc(ep.view) or "") + f"\n\nHTML page: `{ep.path}`; the same data as JSON "
                               f"at `{json_path}` or `{ep.path}?format=json`.",
                "operationId": f"{method.lower()}_{ep.view.__name__}",
                "parameters": [{"name": n, "in": where, "required": where == "path", "description": d,
                                "schema": {"type": "string"}} for n, where, d in ep.params
                               if method == "GET" or where == "path"],
                "responses": {
                    "200": {"description": "the page's data", "content": {"application/json": {
                        "schema": {"type": "object", "properties": {"ok": {"const": True}}}}}},
                    **{code: {"description": what, "content": {"application/json": {"schema": error_ref}}}
                       for code, what in (("400", "bad parameter"), ("404", "unknown id or path"),
                                          ("405", "method not allowed"))},
                },
            }
            if method == "POST":
                props: dict[str, Any] = {
                    "text": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                    "date": {"type": "string"}}
                op["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": {"type": "object", "properties": props, "required": ["text"]}},
                    "multipart/form-data": {"schema": {"type": "object", "properties": {
                        **props, "file": {"type": "string", "format": "binary"}}}},
                    "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": props}},
                    "text/plain": {"schema": {"type": "string"}}}}
                op["responses"]["413"] = {"description": "upload over the size limit",
                                          "content": {"application/json": {"schema": error_ref}}}
                op["responses"]["415"] = {"description": "binary upload or unsupported content type",
                                          "content": {"application/json": {"schema": error_ref}}}
            ops[method.lower()] = op
        paths[json_path] = ops
    paths["/api.json"] = {"get": {"summary": "The JSON endpoints, as listed on the API page", "operationId": "get_api",
                                  "responses": {"200": {"description": "the endpoints", "content": {
                                      "application/json": {"schema": {"type": "object"}}}}}}}
    paths["/openapi.json"] = {"get": {"summary": "This document", "operationId": "get_openapi",
                                      "responses": {"200": {"description": "OpenAPI 3.1", "content": {
                                          "application/json": {"schema": {"type": "object"}}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": app_title, "version": __version__,
                 "description": "The HTTP API of twicetold serve. Every HTML page has this JSON twin. Offsets are "
                                "Python string indices (Unicode code points) into the texts, half-open [start, end)."},
        "paths": paths,
        "components": {"schemas": {"Error": {
            "type": "object", "required": ["ok", "status", "error", "errors"],
            "properties": {"ok": {"const": False}, "status": {"type": "integer"}, "error": {"type": "string"},
                           "errors": {"type": "array", "items": {"type": "string"}}}}}},
    }


def api_page(request: Request) -> Page:
    """The list of JSON endpoints and a link to the OpenAPI document."""
    rows = [{"path": "/.json" if ep.path == "/" else ep.path + ".json", "html": ep.path, "methods": list(ep.methods),
             "summary": ep.summary, "params": [{"name": n, "in": w, "description": d} for n, w, d in ep.params]}
            for ep in ENDPOINTS]
    return Page("api.html", "API", {"openapi": "/openapi.json", "endpoints": rows})


# ---------------------------------------------------------------- wiring


def render(request: Request, page: Page) -> Response:
    """A page as JSON (its data) or as HTML (its template)."""
    as_json = wants_json(request) and not request.scope.get("twicetold.html")
    if as_json or request.query_params.get("format") == "json":
        return Response(orjson.dumps({"ok": True, **page.data}, option=orjson.OPT_NON_STR_KEYS),
                        media_type="application/json")
    state = state_of(request)
    body = state.env.get_template(page.template).render(
        data=page.data, title=page.title, request=request, state=state, json_url=json_twin(request),
        url_with=lambda **kw: url_with(request, **kw), **page.extra)
    return HTMLResponse(body)


def _endpoint(view: Callable[[Request], Any]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        fmt = request.query_params.get("format")
        if fmt not in (None, "json", "html"):
            raise WebError(400, "format must be json or html", [f"format={fmt!r} is not allowed"])
        page = await view(request) if inspect.iscoroutinefunction(view) else await run_in_threadpool(view, request)
        return render(request, page)

    endpoint.__name__ = view.__name__
    endpoint.__doc__ = view.__doc__
    return endpoint


def routes() -> list[BaseRoute]:
    """Every page at its path and at its JSON twin, the API pages and the static files."""
    out: list[BaseRoute] = []
    for ep in ENDPOINTS:
        handler = _endpoint(ep.view)
        methods = list(ep.methods)
        if ep.detail:
            head, _, param = ep.path.rpartition("/")
            out.append(Route(f"{head}/{{{param.strip('{}')}:path}}", handler, methods=methods))
        else:
            out.append(Route(ep.path, handler, methods=methods))
            out.append(Route("/.json" if ep.path == "/" else ep.path + ".json", handler, methods=methods))
    api = _endpoint(api_page)
    out += [Route("/api", api), Route("/api.json", api),
            Route("/openapi.json", lambda request: JSONResponse(openapi())),
            Mount("/static", StaticFiles(directory=STATIC), name="static")]
    return out


class SecurityHeaders:
    """Adds ``nosniff``, a strict Content-Security-Policy and no-referrer to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
ALL_ADDRESSES = ("0.0.0.0", "::", "[::]", "")
HOST_HEADER = re.compile(r"(\[[0-9a-f:.]+\]|[^\[\]:@/\\?#\s]+)(?::[0-9]*)?")


def allowed_hosts(host: str) -> frozenset[str] | None:
    """The host names requests may give to a server listening on ``host`` (lower case, IPv6
    in brackets): the local ones and ``host``; None (any) when it listens on every address."""
    name = host.strip().lower()
    if name in ALL_ADDRESSES:
        return None
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    return LOCAL_NAMES | {name}


def host_name(header: str) -> str | None:
    """The host name of a Host header without its port; None when it is malformed."""
    match = HOST_HEADER.fullmatch(header.lower())
    return match.group(1) if match else None


class HostCheck:
    """Refuses (400) requests whose Host header names a host the server was not started for:
    otherwise a page on another site whose name is made to resolve to this machine (DNS
    rebinding) could read everything served, with the browser's blessing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: AppState | None = scope["app"].state.twicetold if scope["type"] == "http" else None
        if state is not None and state.hosts is not None:
            header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
            if header is None or host_name(header) not in state.hosts:
                error = WebError(400, "this server does not answer to that host name",
                                 [f"Host: {header!r}" if header is not None else "the request has no Host header",
                                  "to reach it by another name, start it with twicetold serve --host NAME"])
                response = await handle_error(Request(scope, receive), error)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(results_dir: str | os.PathLike[str] | None = None, index_path: str | os.PathLike[str] | None = None,
               max_upload_bytes: int = DEFAULT_MAX_UPLOAD, *, host: str = DEFAULT_HOST) -> Starlette:
    """The web application over a results folder, an index, or both.

    ``results_dir``: a folder written by ``twicetold scan`` (clusters, sources, documents, pairs).
    ``index_path``: an index built by ``twicetold index add`` (the paste-a-text form; documents
    too when there is no results folder). ``max_upload_bytes``: the largest request body
    accepted. ``host``: the address it is served at; requests naming another host than it,
    ``localhost``, ``127.0.0.1`` or ``[::1]`` are refused (any is accepted for ``0.0.0.0`` or
    ``::``); :func:`serve` adds the host it listens on. Raises
    :class:`~twicetold.errors.TwicetoldError` when neither is given or one cannot be opened.

    >>> app = create_app("results")  # doctest: +SKIP
    >>> get(app, "/pairs/0.json")[0]  # doctest: +SKIP
    200
    """
    if results_dir is None and index_path is None:
        raise TwicetoldError("nothing to serve: give a results folder, an index, or both",
                             "twicetold serve OUTDIR, or twicetold serve --index INDEX")
    if max_upload_bytes < 1:
        raise TwicetoldError(f"the upload limit must be positive, got {max_upload_bytes}")
    results = Results.load(results_dir) if results_dir is not None else None
    index = None
    if index_path is not None:
        from .index import Index

        index = Index.open(index_path)
    state = AppState(results, index, os.fspath(index_path) if index_path is not None else None,
                     TextLoader(results, index), environment(), max_upload_bytes, allowed_hosts(host))
    state.env.globals.update(version=__version__, http_href=http_href,
                             doc_url=lambda i: item_url("/documents", i), source_url=lambda n: item_url("/sources", n))
    # TwicetoldError has its own entry: the one for Exception answers, then re-raises (server logs).
    handlers: dict[Any, Any] = {HTTPException: handle_error, WebError: handle_error, TwicetoldError: handle_error,
                                Exception: handle_error}
    app = Starlette(routes=routes(), exception_handlers=handlers,
                    middleware=[Middleware(SecurityHeaders), Middleware(HostCheck)])
    app.state.twicetold = state
    return app


def get(app: ASGIApp, path: str) -> tuple[int, dict[str, str], bytes]:
    """Send one GET request through ``app`` in-process: ``(status, headers, body)``."""
    parsed = urllib.parse.urlsplit(path if path.startswith("/") else "/" + path)
    scope: Scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": urllib.parse.unquote(parsed.path), "raw_path": parsed.path.encode(), "root_path": "",
        "query_string": parsed.query.encode(), "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 0), "server": ("localhost", 80),
    }
    status = 500
    headers: dict[str, str] = {}
    body = bytearray()
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # a disconnect never comes: the request is complete
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.update({k.decode("latin-1"): v.decode("latin-1") for k, v in message.get("headers", [])})
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return status, headers, bytes(body)


def serve(app: Starlette, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Run ``app`` with uvicorn until interrupted; it answers to ``host`` too."""
    import uvicorn

    state: AppState = app.state.twicetold
    more = allowed_hosts(host)
    state.hosts = None if more is None or state.hosts is None else state.hosts | more

    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)


def describe(app: Starlette) -> str:
    """One line saying what ``app`` serves (for the ``serve`` command's banner)."""
    state: AppState = app.state.twicetold
    parts = []
    if state.results is not None:
        parts.append(f"results folder {state.results.path} ({len(state.results.documents):,} documents, "
                     f"{len(state.results.pairs):,} pairs)")
    if state.index is not None:
        parts.append(f"index {state.index_path} ({len(state.index):,} documents)")
    return " and ".join(parts)


__all__ = ["DEFAULT_HOST", "DEFAULT_MAX_UPLOAD", "DEFAULT_PORT", "ENDPOINTS", "WebError", "allowed_hosts", "create_app",
           "describe", "get", "openapi", "serve"]
