"""The web application and the report in a real headless browser: Debian's Chromium driven by
Playwright, against uvicorn serving the app on 127.0.0.1 (a free port, a background thread).

Pages load without console errors; the seeds' pair page shows the shared passage highlighted
on both sides; the paste-a-text and upload forms, over an index of one seed, find the other;
the report opened from a file:// URL renders the highlight; a huge upload is refused by the
real server, which keeps answering. Without Chromium (or Playwright), or without the seeds
in ``../shared/``, the tests are skipped, unless ``CI=true``: then they fail. Screenshots go to
each test's ``tmp_path`` only (pytest keeps the last runs' folders, to be looked at).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from twicetold.index import Index
from twicetold.report import write_report
from twicetold.web import create_app

from .conftest import skip_or_fail
from .test_report import SEED_A, SEED_B, SEEDS, scan_to

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
UPLOAD_CAP = 256 * 1024


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, browser: Any) -> Iterator[dict[str, Any]]:
    """uvicorn serving the seeds' results and an index of seed A, in a background thread."""
    import uvicorn

    root = tmp_path_factory.mktemp("served")
    results = scan_to([SEEDS], root / "results")
    index = root / "seed-a.twicetold"
    with Index.create(index) as ix:
        ix.add([SEEDS / f"{SEED_A}.txt"])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(results, index, max_upload_bytes=UPLOAD_CAP),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "port": port, "results": results}
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that records console errors and uncaught exceptions."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


def shoot(page: Any, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot in the test's own ``tmp_path``."""
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(b"\x89PNG"), path
    return path


def passage(page: Any, scope: str, side: str) -> str:
    """The highlighted text of passage 0 on one side, as the browser renders it."""
    marks = page.locator(f'{scope} .tt-side[data-side="{side}"] .tt-text mark.tt-p[data-p="0"]')
    assert marks.count() > 0
    colour = marks.first.evaluate("m => getComputedStyle(m).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")  # visibly highlighted
    return "".join(marks.all_text_contents())


def seed(name: str) -> str:
    return (SEEDS / f"{name}.txt").read_bytes().decode("utf-8")


# ---------------------------------------------------------------- tests


def test_pages_load_without_console_errors(served: dict[str, Any], page: Any, tmp_path: Path) -> None:
    paths = ["/", "/clusters", "/clusters/0", "/duplicates", "/sources", "/sources/(no source)", "/documents",
             f"/documents/{SEED_A}", f"/documents/{SEED_B}", "/pairs", "/pairs/0", "/query", "/api", "/pairs/99"]
    for path in paths:
        response = page.goto(served["url"] + path)
        assert response.status == (404 if path == "/pairs/99" else 200), path
        assert page.title(), path
    # The one error the browser may log is the 404 itself.
    assert all("404" in e for e in page.errors) and len(page.errors) <= 1, page.errors
    page.goto(served["url"] + "/")
    shoot(page, tmp_path, "home.png")


def test_pair_page_shows_the_shared_passage_on_both_sides(served: dict[str, Any], page: Any,
                                                          tmp_path: Path) -> None:
    page.goto(served["url"] + "/pairs/0")
    a, b = passage(page, ".tt-pair", "a"), passage(page, ".tt-pair", "b")
    assert a == seed(SEED_A)[1894:2387] and b == seed(SEED_B)[1197:1691]
    assert a.startswith("Separately, Syrian authorities say") and b.endswith("fired at very close range.")
    # The one differing comma is marked on B's side.
    assert page.locator('.tt-side[data-side="b"] .tt-text .tt-ins').all_text_contents() == [","]
    # Clicking the passage on one side outlines it on both.
    page.locator('.tt-side[data-side="a"] mark.tt-p').first.click()
    assert page.locator('.tt-side[data-side="b"] mark.tt-active').count() > 0
    assert page.errors == []
    shoot(page, tmp_path, "pair.png")


def test_paste_form_finds_the_other_seed(served: dict[str, Any], page: Any, tmp_path: Path) -> None:
    page.goto(served["url"] + "/query")
    page.fill("textarea[name=text]", seed(SEED_B))
    page.click("#tt-submit")
    page.wait_for_selector("#tt-results")
    assert "1 document shares text" in page.inner_text("#tt-results")
    assert page.locator(f'a[href="/documents/{SEED_A}"]').count() > 0
    # Your text on the left (it sorts first), seed A on the right, both highlighted.
    assert passage(page, ".tt-pair", "a") == seed(SEED_B)[1197:1691]
    assert passage(page, ".tt-pair", "b") == seed(SEED_A)[1894:2387]
    assert page.errors == []
    shoot(page, tmp_path, "query.png")


def test_upload_form_finds_the_other_seed(served: dict[str, Any], page: Any) -> None:
    page.goto(served["url"] + "/query")
    page.set_input_files("input[type=file]", str(SEEDS / f"{SEED_B}.txt"))
    assert "bytes" in page.inner_text("#tt-file-info")
    page.click("#tt-submit")
    page.wait_for_selector("#tt-results")
    assert passage(page, ".tt-pair", "b") == seed(SEED_A)[1894:2387]
    assert page.errors == []


def test_binary_upload_gets_a_clear_error_page(served: dict[str, Any], page: Any, tmp_path: Path) -> None:
    picture = tmp_path / "photo.txt"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    page.goto(served["url"] + "/query")
    page.set_input_files("input[type=file]", str(picture))
    with page.expect_response(lambda r: r.url.endswith("/query")) as answer:
        page.click("#tt-submit")
    assert answer.value.status == 415
    assert "looks like a PNG image" in page.inner_text("h1")


def test_report_opened_from_a_file_renders_the_highlight(served: dict[str, Any], page: Any,
                                                         tmp_path: Path) -> None:
    report = write_report(served["results"], tmp_path / "report.html")
    page.goto(report.as_uri())
    assert page.title().startswith("twicetold report")
    a, b = passage(page, "#pair-0", "a"), passage(page, "#pair-0", "b")
    assert a == seed(SEED_A)[1894:2387] and b == seed(SEED_B)[1197:1691]
    assert page.locator("svg.tt-plot").count() >= 2
    assert page.errors == []
    page.goto(report.as_uri() + "#pairs")
    shoot(page, tmp_path, "report.png")


def _raw_post(port: int, headers: str, body_chunks: Iterator[bytes]) -> bytes:
    """POST over a bare socket, stopping to send once the server has answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(headers.encode("latin-1"))
        try:
            for chunk in body_chunks:
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed early: that is the point
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                more = s.recv(65536)
                if not more:
                    break
                data += more
        except ConnectionResetError:
            pass
    return data


def test_huge_upload_to_the_real_server(served: dict[str, Any]) -> None:
    port = served["port"]
    size = 8 * UPLOAD_CAP
    head = f"POST /query.json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\n"
    declared = _raw_post(port, f"{head}Content-Length: {size}\r\n\r\n", iter([b"x" * size]))
    assert declared.startswith(b"HTTP/1.1 413")

    def chunked() -> Iterator[bytes]:  # no Content-Length: the cap is enforced while reading
        for _ in range(size // 65536):
            yield b"10000\r\n" + b"y" * 65536 + b"\r\n"
        yield b"0\r\n\r\n"

    streamed = _raw_post(port, f"{head}Transfer-Encoding: chunked\r\n\r\n", chunked())
    assert streamed.startswith(b"HTTP/1.1 413")
    import urllib.request

    with urllib.request.urlopen(served["url"] + "/.json", timeout=10) as r:  # still answering
        assert r.status == 200
