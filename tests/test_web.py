"""The web application without a browser (Starlette's TestClient, in-process): every page and
its JSON twin on real scans, the OpenAPI document, the one error shape for malformed
requests, uploads (size cap, binary, encodings), the index-backed "where was this copied
from?" query on the seeds, and ``twicetold serve --get``."""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from twicetold.cli import cli
from twicetold.errors import TwicetoldError
from twicetold.index import Index
from twicetold.web import DEFAULT_HOST, QUERY_ID, create_app, get, openapi

from .test_report import SEED_A, SEED_B, SEEDS, evil_corpus, scan_to, side_marks

# ---------------------------------------------------------------- fixtures


def local(app: Starlette) -> TestClient:
    """A client addressing the app as localhost (TestClient's default host, testserver, is not
    one the server was started for, so it is refused)."""
    return TestClient(app, base_url="http://localhost")




@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Path]:
    """An index holding seed A only: pasting seed B must find it."""
    path = tmp_path_factory.mktemp("index") / "seed-a.twicetold"
    with Index.create(path) as index:
        index.add([SEEDS / f"{SEED_A}.txt"])
    yield path


@pytest.fixture(scope="module")
def client(seed_results: Path, seed_index: Path) -> Iterator[TestClient]:
    with local(create_app(seed_results, seed_index)) as c:
        yield c


@pytest.fixture(scope="module")
def news(news_results: Path) -> Iterator[TestClient]:
    with local(create_app(news_results)) as c:
        yield c


def seed_text(name: str) -> str:
    return (SEEDS / f"{name}.txt").read_bytes().decode("utf-8")


def assert_error(response: Any, status: int) -> dict[str, Any]:
    """The one JSON error shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"ok", "status", "error", "errors"}
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list) and all(isinstance(e, str) for e in body["errors"])
    return body  # type: ignore[no-any-return]


# ---------------------------------------------------------------- pages and their JSON twins


SEED_PAGES = ["/", "/clusters", "/clusters/0", "/duplicates", "/sources", "/sources/(no source)", "/documents",
              f"/documents/{SEED_A}", f"/documents/{SEED_B}", "/pairs", "/pairs/0", "/query", "/api"]


@pytest.mark.parametrize("path", SEED_PAGES)
def test_every_page_and_its_json_twin_answer(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["x-content-type-options"] == "nosniff"
    # Follow the page's own JSON link.
    (href,) = re.findall(r'<a class="tt-twin" href="([^"]+)"', page.text)
    twin = html.unescape(href)
    assert urllib.parse.unquote(twin) == ("/.json" if path == "/" else path + ".json")
    data = client.get(twin)
    assert data.status_code == 200 and data.headers["content-type"] == "application/json"
    assert data.json()["ok"] is True
    assert client.get(path, params={"format": "json"}).json() == data.json()
    # Consistency: every document id and pair id of the JSON is on the page.
    body = json.dumps(data.json())
    for doc in (SEED_A, SEED_B):
        if doc in body:
            assert doc in page.text


def test_pair_page_highlights_the_shared_passage_at_the_scanned_offsets(client: TestClient) -> None:
    data = client.get("/pairs/0.json").json()
    assert (data["a"]["id"], data["b"]["id"]) == (SEED_A, SEED_B)
    (p,) = data["passages"]
    a, b = seed_text(SEED_A), seed_text(SEED_B)
    assert p["a_text"] == a[p["a_start"]:p["a_end"]] and p["b_text"] == b[p["b_start"]:p["b_end"]]
    assert p["a_text"].startswith("Separately, Syrian authorities say") and p["b_text"].endswith("very close range.")
    assert p["diff"] == {"equal": 96, "inserted": 1, "deleted": 0, "substituted": 0}
    (view,) = side_marks(client.get("/pairs/0").text)
    assert view["a"] == {0: p["a_text"]} and view["b"] == {0: p["b_text"]}


def test_document_page_shows_its_matches(client: TestClient) -> None:
    data = client.get(f"/documents/{SEED_B}.json").json()
    assert data["text"] == seed_text(SEED_B)
    (match,) = data["matches"]
    assert match["other"]["id"] == SEED_A and (match["start"], match["end"]) == (1197, 1691)
    marks = side_marks(client.get(f"/documents/{SEED_B}").text)
    assert marks[0]["d"] == {0: seed_text(SEED_B)[1197:1691]}


def test_news_pages_all_answer(news: TestClient) -> None:
    """Every cluster, near-duplicate cluster, source, document and pair of the example corpus
    (ids with slashes, dates, sources, exact, near and partial pairs) has a page and a twin."""
    paths = ["/", "/clusters?sort=first_date", "/duplicates?kind=near", "/sources?top=3",
             "/pairs?kind=partial&sort=jaccard", "/documents?sort=pairs&q=port",
             "/documents?source=harbor-times&size=1&page=2"]
    paths += [f"/clusters/{c['id']}" for c in news.get("/clusters.json?size=500").json()["clusters"]]
    paths += [f"/duplicates/{c['id']}" for c in news.get("/duplicates.json").json()["clusters"]]
    paths += [f"/sources/{s['source']}" for s in news.get("/sources.json").json()["sources"]]
    paths += [f"/documents/{d['id']}" for d in news.get("/documents.json").json()["documents"]]
    paths += [f"/pairs/{p['id']}" for p in news.get("/pairs.json").json()["pairs"]]
    assert len(paths) > 40
    for path in paths:
        page = news.get(path)
        assert page.status_code == 200, path
        base, _, query = path.partition("?")
        twin = news.get(base + ".json" + ("?" + query if query else "") if base != "/" else "/.json")
        assert twin.status_code == 200 and twin.json()["ok"] is True, path


def test_news_source_page_and_matrix(news: TestClient) -> None:
    wire = news.get("/sources/meridian-wire.json").json()
    partners = {r["source"]: r for r in wire["partners"]}
    assert partners["valley-courier"]["reused_by_them"] == 1  # the near copy
    assert partners["harbor-times"]["undirected"] == 1  # same day: no direction
    matrix = news.get("/sources.json").json()["matrix"]
    i, j = matrix["sources"].index("meridian-wire"), matrix["sources"].index("valley-courier")
    assert matrix["directed"][i][j] == 1
    doc = news.get("/documents/harbor-times/2026-03-04-port-strike.json").json()
    assert doc["document"]["url"].startswith("https://harbor-times.example/")
    assert [m["start"] for m in doc["matches"]][:2] == [181, 181]  # the paragraph shared with two outlets


def test_html_in_ids_texts_and_sources_is_escaped(tmp_path: Path) -> None:
    results = scan_to([evil_corpus(tmp_path)], tmp_path / "results")
    with local(create_app(results)) as c:
        for path in ["/", "/pairs/0", "/documents", "/sources", "/clusters/0", "/documents/<b>one</b>",
                     "/documents/two\"'&", "/sources/<i>Times</i>"]:
            page = c.get(path)
            assert page.status_code == 200, path
            assert "<script>alert" not in page.text and "<b>one</b>" not in page.text
            assert "<i>Times</i>" not in page.text
        assert c.get("/pairs/0.json").json()["a"]["id"] == "<b>one</b>"


# ---------------------------------------------------------------- the API document


def test_openapi_documents_every_json_endpoint(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "Error" in doc["components"]["schemas"]
    app: Starlette = client.app  # type: ignore[assignment]
    served = {r.path for r in app.routes if isinstance(r, Route)}
    documented = set(doc["paths"])
    for path in served:
        if path.endswith(".json"):
            assert path in documented, path
        elif ":path}" in path:  # detail pages take their .json suffix inside the id
            head = path.split("{")[0]
            assert any(p.startswith(head) and p.endswith("}.json") for p in documented), path
    assert "post" in doc["paths"]["/query.json"] and "413" in doc["paths"]["/query.json"]["post"]["responses"]
    api = client.get("/api")
    assert 'href="/openapi.json"' in api.text
    assert {e["path"] for e in client.get("/api.json").json()["endpoints"]} <= documented


def test_every_documented_get_endpoint_answers(news: TestClient) -> None:
    examples = {"/documents/{id}": "/documents/harbor-times/2026-03-04-port-strike", "{id}": "0",
                "{name}": "meridian-wire"}
    for path, ops in openapi()["paths"].items():
        if "get" not in ops:
            continue
        for k, v in examples.items():
            path = path.replace(k, v)
        answer = news.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json", path


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/pairs/999.json", 404),
    ("GET", "/pairs/-1.json", 404),
    ("GET", "/pairs/abc.json", 400),
    ("GET", "/clusters/77.json", 404),
    ("GET", "/duplicates/0.json", 404),
    ("GET", "/documents/nope.json", 404),
    ("GET", "/sources/nope.json", 404),
    ("GET", "/nope.json", 404),
    ("GET", "/static/nope.css?format=json", 404),
    ("GET", "/pairs.json?page=0", 400),
    ("GET", "/pairs.json?page=x", 400),
    ("GET", "/pairs.json?size=100000", 400),
    ("GET", "/pairs.json?sort=bogus", 400),
    ("GET", "/pairs.json?kind=fuzzy", 400),
    ("GET", "/clusters.json?sort=nope", 400),
    ("GET", "/pairs.json?format=xml", 400),
    ("GET", "/query.json?text=x&limit=0", 400),
    ("GET", "/query.json?text=x&limit=many", 400),
    ("GET", "/query.json?text=x&date=yesterday", 400),
    ("GET", "/query.json?text=%20%20", 400),
    ("POST", "/pairs/0.json", 405),
    ("DELETE", "/query.json", 405),
    ("PUT", "/.json", 405),
])
def test_malformed_requests_get_the_one_error_shape(client: TestClient, method: str, path: str, status: int) -> None:
    body = assert_error(client.request(method, path), status)
    if status == 405:
        assert "not allowed" in body["error"]
    html = client.request(method, path.replace(".json", "").replace("format=json", ""),
                          headers={"accept": "text/html"})
    assert html.status_code == status and html.headers["content-type"].startswith("text/html")
    assert f"Error {status}" in html.text


def test_no_results_folder_and_nothing_to_serve(seed_index: Path) -> None:
    with pytest.raises(TwicetoldError, match="nothing to serve"):
        create_app()
    with local(create_app(index_path=seed_index)) as c:
        assert_error(c.get("/pairs.json"), 404)
        assert "no results folder" in c.get("/pairs.json").json()["error"]
        docs = c.get("/documents.json").json()
        assert docs["from"] == "index" and [d["id"] for d in docs["documents"]] == [SEED_A]
        page = c.get(f"/documents/{SEED_A}.json").json()
        assert page["text"] == seed_text(SEED_A) and page["matches"] == []
        assert c.get("/").status_code == 200 and c.get("/.json").json()["index"]["documents"] == 1


# ---------------------------------------------------------------- "where was this copied from?"


def check_seed_match(data: dict[str, Any], query_text: str) -> None:
    (match,) = data["matches"]
    assert match["document"]["id"] == SEED_A and match["kind"] == "partial"
    (p,) = match["passages"]
    assert p["query_text"] == query_text[p["query_start"]:p["query_end"]]
    assert p["document_text"] == seed_text(SEED_A)[p["document_start"]:p["document_end"]]
    # The same passage scan finds between the two seeds.
    assert (p["document_start"], p["document_end"], p["query_start"], p["query_end"]) == (1894, 2387, 1197, 1691)


def test_query_finds_the_other_seed_every_way(client: TestClient) -> None:
    text = seed_text(SEED_B)
    raw = (SEEDS / f"{SEED_B}.txt").read_bytes()
    check_seed_match(client.post("/query.json", files={"file": (f"{SEED_B}.txt", raw, "text/plain")}).json(), text)
    check_seed_match(client.post("/query.json", json={"text": text, "limit": 5}).json(), text)
    check_seed_match(client.post("/query.json", content=raw, headers={"content-type": "text/plain"}).json(), text)
    check_seed_match(client.post("/query.json", data={"text": text}).json(), text)
    check_seed_match(client.get("/query.json", params={"text": text}).json(), text)
    # A browser's textarea sends CRLF line breaks; offsets count the LF the user pasted.
    check_seed_match(client.post("/query.json", data={"text": text.replace("\n", "\r\n")}).json(), text)
    page = client.post("/query", files={"file": ("b.txt", raw, "text/plain")})
    assert page.status_code == 200 and "1 document shares text" in page.text
    (view,) = side_marks(page.text)
    assert view["a"][0].startswith("Separately, Syrian") and view["b"][0].endswith("very close range.")
    assert QUERY_ID not in client.get("/query").text


def test_query_encodings_and_unrelated_text(client: TestClient) -> None:
    text = seed_text(SEED_B)
    cp1252 = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'").encode("cp1252")
    data = client.post("/query.json", files={"file": ("b.txt", cp1252, "text/plain")}).json()
    assert data["matches"][0]["document"]["id"] == SEED_A
    utf16 = client.post("/query.json", files={"file": ("b.txt", text.encode("utf-16"), "text/plain")}).json()
    assert utf16["matches"][0]["document"]["id"] == SEED_A
    none = client.post("/query.json", json={"text": "Nothing in common with any indexed article at all."}).json()
    assert none["matches"] == [] and none["query"]["length"] == 50


@pytest.mark.parametrize(("kwargs", "status", "words"), [
    ({"files": {"file": ("x.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "image/png")}}, 415, "PNG image"),
    ({"files": {"file": ("x.txt", b"abc\x00\x01\x02" * 100, "text/plain")}}, 415, "binary"),
    ({"files": {"file": ("x.pdf", b"%PDF-1.7\n...", "application/pdf")}}, 415, "PDF"),
    ({"content": b"\x00\x01\x02\x03" * 50, "headers": {"content-type": "text/plain"}}, 415, "binary"),
    ({"content": b"xyz", "headers": {"content-type": "application/octet-stream"}}, 415, "content type"),
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
    ({"json": {"txt": "typo"}}, 400, '"text" string'),
    ({"json": ["text"]}, 400, '"text" string'),
    ({"data": {"other": "field"}}, 400, "give a text"),
    ({"data": {"text": "   "}}, 400, "empty"),
    ({"content": b"--nope\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=zzz"}}, 400, ""),
])
def test_bad_uploads_get_clear_4xx(client: TestClient, kwargs: dict[str, Any], status: int, words: str) -> None:
    body = assert_error(client.post("/query.json", **kwargs), status)
    assert words in body["error"]


def test_huge_upload_is_refused_and_the_server_keeps_answering(seed_results: Path, seed_index: Path) -> None:
    with local(create_app(seed_results, seed_index, max_upload_bytes=4096)) as c:
        huge = b"word " * 200_000  # 1 MB
        body = assert_error(c.post("/query.json", files={"file": ("big.txt", huge, "text/plain")}), 413)
        assert "4,096 bytes" in body["error"]
        assert_error(c.post("/query.json", content=huge, headers={"content-type": "text/plain"}), 413)

        def chunks() -> Iterator[bytes]:  # no Content-Length at all: the cap holds while streaming
            for _ in range(100):
                yield b"x" * 1000

        assert_error(c.post("/query.json", content=chunks(), headers={"content-type": "text/plain"}), 413)
        assert_error(c.get("/query.json", params={"text": "y" * 5000}), 413)
        page = c.post("/query", files={"file": ("big.txt", huge, "text/plain")})
        assert page.status_code == 413 and "Error 413" in page.text
        assert c.get("/").status_code == 200
        text = seed_text(SEED_B)[:4000]
        assert c.post("/query.json", json={"text": text}).status_code == 200


def test_query_without_an_index_says_how_to_get_one(news: TestClient) -> None:
    body = assert_error(news.post("/query.json", json={"text": "some words"}), 400)
    assert "no index" in body["error"] and "twicetold serve --index" in body["errors"][0]
    assert "twicetold index add" in news.get("/query").text


# ---------------------------------------------------------------- serve --get and the command line


def test_serve_get(seed_results: Path, seed_index: Path) -> None:
    runner = CliRunner()
    home = runner.invoke(cli, ["serve", str(seed_results), "--get", "/"])
    assert home.exit_code == 0 and "<!DOCTYPE html>" in home.output and "twicetold" in home.output
    pair = runner.invoke(cli, ["serve", str(seed_results), "--get", "/pairs/0.json"])
    assert pair.exit_code == 0 and json.loads(pair.output)["b"]["id"] == SEED_B
    query = runner.invoke(cli, ["serve", "--index", str(seed_index), "--get",
                                "/query.json?text=" + re.sub(r"\s+", "+", seed_text(SEED_B)[1197:1691])])
    assert query.exit_code == 0, query.output
    assert json.loads(query.output)["matches"][0]["document"]["id"] == SEED_A
    missing = runner.invoke(cli, ["serve", str(seed_results), "--get", "/pairs/5.json"])
    assert missing.exit_code == 1 and json.loads(missing.output)["status"] == 404
    nothing = runner.invoke(cli, ["serve", "--get", "/"])
    assert nothing.exit_code == 2 and "give a results folder" in nothing.output


def test_serve_binds_to_localhost_by_default() -> None:
    assert DEFAULT_HOST == "127.0.0.1"
    options = {p.name: p for p in cli.commands["serve"].params}
    assert options["host"].default == "127.0.0.1"
    assert options["max_upload_mb"].default == 5.0


# ---------------------------------------------------------------- issue #15: host names, links, ids, damage


def asgi_get(app: Starlette, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[str, str], bytes]:
    """One GET through the app with exactly these headers (a Host header may be missing)."""
    import asyncio

    parsed = urllib.parse.urlsplit(path)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.0", "method": "GET", "scheme": "http",
             "path": urllib.parse.unquote(parsed.path), "raw_path": parsed.path.encode(), "root_path": "",
             "query_string": parsed.query.encode(), "headers": headers, "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 8765)}
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            answer["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return answer["status"], answer["headers"], answer["body"]


LOCAL_NAMES = ["localhost", "localhost:8765", "LocalHost:80", "127.0.0.1", "127.0.0.1:8765", "[::1]", "[::1]:8765",
               "localhost:"]
FOREIGN_NAMES = ["evil.example", "evil.example:8765", "localhost.evil.example", "127.0.0.1.nip.io:8765",
                 "evil.example#@localhost", "localhost:8765:80", "[::1", "::1", "localhost:x", "", "10.0.0.7:8765"]


def test_only_the_host_names_the_server_was_started_for_are_answered(seed_results: Path, seed_index: Path) -> None:
    """Item 14: a page on another site could read everything through DNS rebinding (its own
    name resolving to 127.0.0.1); requests naming another host now get a 400."""
    app = create_app(seed_results, seed_index)
    with TestClient(app) as c:
        for name in LOCAL_NAMES:
            assert c.get("/pairs/0.json", headers={"host": name}).status_code == 200, name
        for name in FOREIGN_NAMES:
            body = assert_error(c.get("/pairs/0.json", headers={"host": name}), 400)
            assert "host" in body["error"], name
            page = c.get("/pairs/0", headers={"host": name, "accept": "text/html"})
            assert page.status_code == 400 and page.headers["content-type"].startswith("text/html"), name
            assert "Error 400" in page.text and "Separately, Syrian" not in page.text
            assert page.headers["x-content-type-options"] == "nosniff"
        assert c.get("/", headers={"host": "testserver"}).status_code == 400  # TestClient's own default
    status, _, body = asgi_get(app, "/.json", [])  # no Host header at all
    assert status == 400 and json.loads(body)["status"] == 400
    status, _, _ = asgi_get(app, "/.json", [(b"host", b"localhost:8765"), (b"host", b"evil.example")])
    assert status == 200  # the first Host header counts, as uvicorn and Starlette read it
    # In-process requests (serve --get) keep working whatever host the app was made for.
    assert get(create_app(seed_results, host="news.example.org"), "/pairs/0.json")[0] == 200


@pytest.mark.parametrize(("host", "yes", "no"), [
    ("192.168.1.20", ["192.168.1.20:8765", "localhost:8765"], ["192.168.1.21:8765", "evil.example"]),
    ("Archive.Example.org", ["archive.example.org:8765", "ARCHIVE.example.ORG"], ["example.org", "evil.example"]),
    ("fe80::1", ["[fe80::1]:8765", "[::1]:8765"], ["fe80::1", "[fe80::2]:8765"]),
    ("[::1]", ["[::1]:8765", "localhost"], ["evil.example"]),
    ("0.0.0.0", ["evil.example", "192.168.1.20:8765", "localhost"], []),
    ("::", ["evil.example:8765", "[fe80::1]"], []),
])
def test_host_given_to_the_app_is_accepted(seed_results: Path, host: str, yes: list[str], no: list[str]) -> None:
    """The name given with --host is accepted too (any port); listening on every address
    (0.0.0.0, ::) accepts any name, the CLI's warning being the safeguard there."""
    with TestClient(create_app(seed_results, host=host)) as c:
        for name in yes:
            assert c.get("/.json", headers={"host": name}).status_code == 200, name
        for name in no:
            assert_error(c.get("/.json", headers={"host": name}), 400)


def test_serve_tells_the_app_its_host(seed_results: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``twicetold serve --host NAME`` makes the app that ``web.serve`` runs answer to NAME."""
    import uvicorn

    from twicetold import web

    ran: list[tuple[Any, str, int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: ran.append((app, host, port)))
    result = CliRunner().invoke(cli, ["serve", str(seed_results), "--host", "archive.lan", "--port", "9001"])
    assert result.exit_code == 0, result.output
    ((app, host, port),) = ran
    assert (host, port) == ("archive.lan", 9001)
    with TestClient(app) as c:
        assert c.get("/.json", headers={"host": "archive.lan:9001"}).status_code == 200
        assert c.get("/.json", headers={"host": "127.0.0.1:9001"}).status_code == 200
        assert_error(c.get("/.json", headers={"host": "evil.example:9001"}), 400)
    web.serve(create_app(seed_results), "0.0.0.0", 9002)
    with TestClient(ran[-1][0]) as c:
        assert c.get("/.json", headers={"host": "evil.example"}).status_code == 200


URLS = {
    "js": "javascript:alert(document.domain)", "js-case": "JaVaScRiPt:alert(1)", "js-space": " javascript:alert(1)",
    "js-tab": "java\tscript:alert(1)", "data": "data:text/html,<script>alert(1)</script>", "vb": "vbscript:msgbox(1)",
    "relative": "//evil.example/x", "https": "https://ok.example/a?b=1&c=2", "http": "HTTP://ok.example/",
}


def test_only_http_urls_become_links(tmp_path: Path) -> None:
    """Item 15: an input's url was an href whatever its scheme (javascript:, data:)."""
    from twicetold.web import http_href

    assert http_href(42) is None and http_href(["https://ok.example/"]) is None
    assert http_href("https://ok.example/\nx") is None and http_href("https://") is None
    rows = [{"id": k, "url": u, "text": f"Document {k} has a few words of its own to say here."}
            for k, u in URLS.items()]
    corpus = tmp_path / "urls.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    index = tmp_path / "urls.twicetold"
    with Index.create(index) as ix:
        ix.add([corpus])
    results = scan_to([corpus], tmp_path / "results")
    for app in (create_app(results), create_app(index_path=index)):
        with local(app) as c:
            for doc_id, url in URLS.items():
                page = c.get(f"/documents/{doc_id}")
                assert page.status_code == 200, doc_id
                hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]*)"', page.text)]
                outside = [h for h in hrefs if not (h.startswith("/") and not h.startswith("//"))
                           and not h.startswith(("#", "data:,"))]  # data:, is the empty favicon
                if doc_id in ("https", "http"):
                    assert outside == [url], doc_id
                else:
                    assert outside == [], (doc_id, outside)
                    assert html.escape(str(url), quote=False) in page.text  # shown as text
                assert c.get(f"/documents/{doc_id}.json").json()["document"]["url"] == url


WEIRD_IDS = ["a/../b", "b", "x/./y", "x/y", "%2F", "?q", "#h", "with space", "naïve/日本語", "..", ".", "..x", "q.json",
             "dir/", "../../etc/passwd"]
SHARED_PARAGRAPH = ("The harbour authority confirmed on Tuesday that the northern breakwater will be rebuilt over "
                    "three summers, closing the fishing quay to larger boats until the work is finished.")


def browse(app: Starlette, href: str, base: str = "http://localhost/") -> tuple[int, str]:
    """Follow a link as a browser would (relative to the page, dot segments removed), one
    request through the app decoded once, as uvicorn decodes it."""
    url = urllib.parse.urlsplit(urllib.parse.urljoin(base, html.unescape(href)))
    status, _, body = get(app, url.path + ("?" + url.query if url.query else ""))
    return status, body.decode("utf-8")


def links(page: str, prefix: str) -> dict[str, str]:
    """Link text -> href of the page's links under ``prefix``."""
    return {html.unescape(text): href for href, text in re.findall(rf'<a href="({prefix}[^"]*)">([^<]*)</a>', page)}


def test_every_id_round_trips_through_links_and_json_twins(tmp_path: Path) -> None:
    """Item 15: ids with ``..`` or ``/`` gave links the browser rewrites (``a/../b`` opened
    ``b``); every id and source name, followed from the pages' own links and JSON links, now
    opens its own page."""
    # A browser (and urljoin) rewrites the literal path: the test's resolver is browser-like.
    assert urllib.parse.urljoin("http://localhost/documents", "/documents/a/../b") == "http://localhost/documents/b"
    rows = [{"id": i, "source": i, "text": f"Item number {k} opens with words of its own, {i!r} and more. "
                                           + SHARED_PARAGRAPH}
            for k, i in enumerate(WEIRD_IDS)]
    corpus = tmp_path / "weird.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    index = tmp_path / "weird.twicetold"
    with Index.create(index) as ix:
        ix.add([corpus])
    results = scan_to([corpus], tmp_path / "results")
    for app in (create_app(results), create_app(index_path=index)):
        status, listing = browse(app, "/documents?size=100")
        assert status == 200
        found = links(listing, "/documents/")
        assert set(found) == set(WEIRD_IDS)
        for doc_id, href in found.items():
            status, page = browse(app, href)
            assert status == 200, (doc_id, href)
            assert re.search(r"<h1>(.*?)</h1>", page).group(1) == html.escape(doc_id), (doc_id, href)  # type: ignore[union-attr]
            (twin,) = re.findall(r'<a class="tt-twin" href="([^"]+)"', page)
            status, data = browse(app, twin, urllib.parse.urljoin("http://localhost/", html.unescape(href)))
            assert status == 200 and json.loads(data)["document"]["id"] == doc_id, (doc_id, twin)
            if app.state.twicetold.results is not None:  # the pairs link the other documents by the same rule
                for other, other_href in links(page, "/documents/").items():
                    assert found[other] == other_href
    app = create_app(results)
    status, listing = browse(app, "/sources")
    names = links(listing, "/sources/")
    assert set(names) == set(WEIRD_IDS)
    for name, href in names.items():
        status, page = browse(app, href + ("&" if "?" in href else "?") + "size=1")
        assert status == 200 and re.search(r"<h1>Source (.*?)</h1>", page) is not None, (name, href)
        assert html.escape(name) in page
        (twin,) = re.findall(r'<a class="tt-twin" href="([^"]+)"', page)
        status, data = browse(app, twin)
        assert status == 200 and json.loads(data)["source"]["source"] == name, (name, twin)
    # A pager keeps the encoded path: page 2 of a source's documents is that source's.
    index_app = create_app(index_path=index)
    status, first = browse(index_app, "/documents?size=2")
    (next_href,) = re.findall(r'<a href="([^"]+)" rel="next">', first)
    assert browse(index_app, next_href)[0] == 200


@pytest.fixture(scope="module")
def damaged_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """An index whose middle half was overwritten with garbage: it opens, its data pages do not read."""
    from twicetold.model import Document
    from twicetold.testing.synthetic import CorpusSpec, generate

    from .test_index import damage

    tmp = tmp_path_factory.mktemp("damaged")
    docs, _ = generate(CorpusSpec(n_docs=200, seed=1, mean_chars=1000))
    with Index.create(tmp / "intact.twicetold") as index:
        index.add_documents([Document(d["id"], d["text"], d.get("source"), d.get("date")) for d in docs])
    return damage(tmp / "intact.twicetold", tmp / "damaged.twicetold", "garbage"), docs


def test_damaged_index_answers_500_in_the_error_shape(damaged_index: tuple[Path, list[dict[str, str]]]) -> None:
    """Item 15: a damaged index answered some queries with a raw sqlite3 traceback."""
    path, docs = damaged_index
    app = create_app(index_path=path)
    with local(app) as c:  # raises what the app lets out, as a server would log it
        body = assert_error(c.get("/query.json", params={"text": docs[150]["text"]}), 500)
        assert "damaged" in body["error"] and len(body["errors"]) == 2  # the message and the hint
        page = c.post("/query", data={"text": docs[150]["text"]})
        assert page.status_code == 500 and "Error 500" in page.text and "damaged" in page.text
        answers = [c.get(f"/documents/{d['id']}.json") for d in docs[100:200:20]]
        assert {a.status_code for a in answers} <= {200, 500}
        for a in answers:
            if a.status_code == 500:
                assert "damaged" in assert_error(a, 500)["error"]
    status, _, raw = get(app, "/query.json?text=" + urllib.parse.quote(docs[150]["text"]))
    assert status == 500 and "damaged" in json.loads(raw)["error"]


def test_a_busy_index_is_503_in_the_error_shape(seed_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each library error carries its HTTP status: another process holding the index's lock
    is a 503 (try again), not a 500; the app answers it and lets nothing out."""
    from twicetold.errors import IndexBusyError
    from twicetold.index import Index as IndexClass

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise IndexBusyError("the index is busy: another process holds its write lock", "try again")

    monkeypatch.setattr(IndexClass, "query", busy)
    with local(create_app(index_path=seed_index)) as c:
        body = assert_error(c.get("/query.json", params={"text": "any text at all"}), 503)
        assert "busy" in body["error"] and body["errors"][-1] == "try again"


def test_every_error_class_lives_in_errors_and_has_a_status() -> None:
    import inspect

    from twicetold import errors, index

    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.TwicetoldError)]
    assert all(100 <= c.http_status < 600 and c.exit_code >= 1 for c in classes)
    assert index.IndexBusyError is errors.IndexBusyError and index.IndexSchemaError is errors.IndexSchemaError
