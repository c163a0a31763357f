"""Hostile web pages, against the loopback server: compression bombs stop at the body limit
with little memory, a page that drips is cut at the deadline, pages are read as they arrive,
the page cache keeps to its size, and each odd page is named for what it is (issue 19,
items 2, 5, 6 and 16)."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from crafted_pdfs import arabic_pdf, widths_bomb_pdf
from web_pages import Answer, WebServer, article_page, html_answer, report_text

from llm_extract.errors import InputError
from llm_extract.report import Duplicate, Report, sha256_text
from llm_extract.sources.decoding import BodyDecoder, DecodingError, TooLarge
from llm_extract.sources.files import read_reports
from llm_extract.sources.pdf_process import PdfLimits
from llm_extract.sources.web import Fetched, FetchSettings, fetch_each, fetch_urls
from llm_extract.sources.webcache import CachedPage, WebCache

FAST = FetchSettings(timeout_s=2, attempts=1, backoff_s=0.01, max_wait_s=0.05)
LIMIT = 1_000_000


def zeros_gzip(megabytes: int) -> bytes:
    """``megabytes`` MB of zeros, gzip-compressed a megabyte at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(megabytes)]
    parts.append(compressor.flush())
    return b"".join(parts)


@pytest.fixture(scope="module")
def bombs() -> dict[str, tuple[bytes, str]]:
    inner = zeros_gzip(200)
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = raw.compress(bytes(50 * 1024 * 1024)) + raw.flush()
    return {
        "gzip-gzip": (gzip.compress(inner, 9), "gzip, gzip"),
        "gzip": (inner, "gzip"),
        "deflate": (zlib.compress(bytes(50 * 1024 * 1024), 9), "deflate"),
        "raw-deflate": (deflated, "deflate"),
    }


@pytest.fixture
def web() -> Iterator[WebServer]:
    with WebServer() as server:
        yield server


def page_of(report_id: str) -> str:
    return article_page(report_text(report_id), f"تقرير {report_id}")


# --- item 2: compression bombs ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["gzip-gzip", "gzip", "deflate", "raw-deflate"])
def test_a_compression_bomb_stops_at_the_body_limit_with_little_memory(
    web: WebServer, bombs: dict[str, tuple[bytes, str]], name: str
) -> None:
    body, encoding = bombs[name]
    assert len(body) < 300_000
    web.routes["/bomb.html"] = Answer(
        200, body, {"Content-Type": "text/html", "Content-Encoding": encoding}
    )
    settings = FetchSettings(timeout_s=5, attempts=1, max_bytes=LIMIT, use_cache=False)
    tracemalloc.start()
    try:
        (result,) = fetch_urls([web.url("/bomb.html")], settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(result, InputError)
    assert result.reason == "larger than the limit of 1,000,000 bytes once decoded"
    assert peak < 20_000_000  # the whole bomb is 50 to 200 MB


def test_the_double_gzip_bomb_of_the_issue_is_under_two_kilobytes(
    bombs: dict[str, tuple[bytes, str]],
) -> None:
    body, _ = bombs["gzip-gzip"]
    assert len(body) < 2048  # 200 MB once decoded twice
    decoder = BodyDecoder("gzip, gzip", LIMIT)
    with pytest.raises(TooLarge):
        decoder.feed(body)
    assert decoder.size <= LIMIT + 64 * 1024


def test_encoded_pages_are_read(web: WebServer) -> None:
    page = page_of("month_116").encode("utf-8")
    two_members = gzip.compress(page[:500]) + gzip.compress(page[500:])
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    web.routes["/gz.html"] = Answer(
        200, gzip.compress(gzip.compress(page)), {**_HTML, "Content-Encoding": "gzip, gzip"}
    )
    web.routes["/members.html"] = Answer(200, two_members, {**_HTML, "Content-Encoding": "gzip"})
    web.routes["/deflate.html"] = Answer(
        200, raw.compress(page) + raw.flush(), {**_HTML, "Content-Encoding": "deflate"}
    )
    web.routes["/chunked.html"] = Answer(
        200, gzip.compress(page), {**_HTML, "Content-Encoding": "gzip"}, chunked=True
    )
    urls = [web.url(p) for p in ("/gz.html", "/members.html", "/deflate.html", "/chunked.html")]
    results = fetch_urls(urls, FAST)
    assert [r.body if isinstance(r, Fetched) else r for r in results] == [page] * 4
    assert web.seen[0].headers["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    ("encoding", "body", "reason"),
    [
        ("br", b"\x1b\x00", "content encoding 'br' is not supported"),
        ("gzip", b"not gzip at all", "corrupt gzip data"),
        ("gzip", gzip.compress(b"<html>" * 1000)[:-20], "gzip data cut off before its end"),
    ],
)
def test_bad_encodings_are_named(web: WebServer, encoding: str, body: bytes, reason: str) -> None:
    web.routes["/odd.html"] = Answer(200, body, {**_HTML, "Content-Encoding": encoding})
    (result,) = fetch_urls([web.url("/odd.html")], FAST)
    assert isinstance(result, InputError)
    assert result.reason.startswith(f"cannot decode the page: {reason}")


def test_the_decoder_hands_on_pieces_and_counts_them() -> None:
    data = bytes(range(256)) * 4000
    decoder = BodyDecoder("gzip", len(data))
    encoded = gzip.compress(data)
    pieces = [p for i in range(0, len(encoded), 100) for p in decoder.feed(encoded[i : i + 100])]
    out = b"".join([*pieces, *decoder.finish()])
    assert out == data and decoder.size == len(data)
    with pytest.raises(TooLarge):
        BodyDecoder("gzip", len(data) - 1).feed(encoded)
    wrapped = zlib.compress(data)
    byte_by_byte = BodyDecoder("deflate", len(data))  # the zlib header split across reads
    pieces = [p for i in range(len(wrapped)) for p in byte_by_byte.feed(wrapped[i : i + 1])]
    assert b"".join([*pieces, *byte_by_byte.finish()]) == data
    with pytest.raises(DecodingError, match="not supported"):
        BodyDecoder("compress", 10)
    assert BodyDecoder("identity", 10).feed(b"abc") == [b"abc"]


# --- item 5: a deadline per URL --------------------------------------------------------------


def test_a_page_that_drips_is_cut_at_the_deadline(web: WebServer) -> None:
    body = page_of("month_116").encode("utf-8")
    web.routes["/drip.html"] = Answer(200, body, _HTML, drip_s=0.05)
    settings = FetchSettings(timeout_s=1, deadline_s=1, attempts=3, backoff_s=0.01)
    started = time.monotonic()
    (result,) = fetch_urls([web.url("/drip.html")], settings)
    elapsed = time.monotonic() - started
    assert isinstance(result, InputError)
    assert result.reason == "not fetched within the deadline of 1 s (--fetch-deadline)"
    assert elapsed < 3  # not 20 s per byte-starved attempt, nor a retry


def test_the_deadline_is_an_option(web: WebServer, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from llm_extract.cli import app

    web.routes["/drip.html"] = Answer(200, page_of("month_116").encode(), _HTML, drip_s=0.05)
    result = CliRunner().invoke(
        app, ["extract", web.url("/drip.html"), "-m", "rules", "--fetch-deadline", "0.5"]
    )
    assert result.exit_code == 2
    assert "not fetched within the deadline of 0.5 s (--fetch-deadline)" in result.stderr


# --- item 6: pages read as they arrive; a bounded cache --------------------------------------


def test_pages_are_handled_as_they_arrive_with_few_bodies_held(web: WebServer) -> None:
    for n in range(12):
        web.routes[f"/p{n}.html"] = html_answer(page_of("month_116"))
    settings = FetchSettings(timeout_s=5, attempts=1, concurrency=2, per_host=2, use_cache=False)
    lock = threading.Lock()
    handled: list[int] = []
    started_then: list[int] = []

    def handle(page: Fetched) -> int:
        with lock:
            started_then.append(len(web.seen))
            handled.append(len(page.body))
        time.sleep(0.02)
        return len(page.body)

    urls = [web.url(f"/p{n}.html") for n in range(12)]
    results = asyncio.run(fetch_each(urls, handle, settings))
    assert results == handled[:1] * 12
    # When the k-th page is handled, at most k + 2 (the concurrency) have been asked for.
    for k, asked in enumerate(started_then):
        assert asked <= k + 2, started_then


def test_read_reports_keeps_reports_not_pages(web: WebServer) -> None:
    web.routes["/a.html"] = html_answer(page_of("month_116"))
    web.routes["/bomb.pdf"] = Answer(200, widths_bomb_pdf(), {"Content-Type": "application/pdf"})
    web.routes["/c.html"] = html_answer(page_of("month_120"))
    reports, errors = read_reports(
        [web.url("/a.html"), web.url("/bomb.pdf"), web.url("/c.html")],
        fetch=FAST,
        pdf=PdfLimits(memory_mb=256),
    )
    assert [r.report_id for r in reports] == ["a", "c"]
    assert [e.path for e in errors] == [web.url("/bomb.pdf")]
    assert "needs more than 256 MB" in errors[0].reason


def _page(size: int) -> CachedPage:
    import datetime as dt

    return CachedPage("https://example.org/", "text/html", b"x" * size, dt.datetime.now(dt.UTC))


def test_the_web_cache_evicts_the_least_recently_used(tmp_path: Path) -> None:
    cache = WebCache(tmp_path / "web", max_bytes=3000)
    cache.put("u1", _page(800))
    cache.put("u2", _page(800))
    assert cache.get("u1") is not None  # u1 used after u2
    cache.put("u3", _page(800))  # about 3300 bytes with the metadata: one must go
    assert cache.get("u2") is None
    assert cache.get("u1") is not None and cache.get("u3") is not None
    assert cache.size() <= 3000
    cache.put("huge", _page(5000))  # larger than the whole cache: not kept
    assert cache.get("huge") is None and cache.get("u3") is not None


def test_the_cache_size_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from llm_extract.cli._fetch import fetch_settings
    from llm_extract.settings import load_settings

    monkeypatch.setenv("LLM_EXTRACT_WEB_CACHE_MAX_MB", "7")
    assert fetch_settings(load_settings()).cache_max_bytes == 7 * 1024 * 1024


# --- item 16: each odd page named for what it is ---------------------------------------------

_HTML = {"Content-Type": "text/html; charset=utf-8"}


def test_utf16_pages_and_files_are_read(web: WebServer, tmp_path: Path) -> None:
    page = page_of("month_116").replace('<meta charset="utf-8">', "")
    web.routes["/bom.html"] = Answer(200, page.encode("utf-16"), {"Content-Type": "text/html"})
    web.routes["/declared.html"] = Answer(
        200, page.encode("utf-16-le"), {"Content-Type": "text/html; charset=UTF-16LE"}
    )
    web.routes["/mislabelled.html"] = Answer(
        200, page.encode("utf-8"), {"Content-Type": "text/html; charset=utf-16"}
    )
    saved = tmp_path / "saved.html"
    saved.write_bytes(page.encode("utf-16"))
    urls = [web.url(p) for p in ("/bom.html", "/declared.html", "/mislabelled.html")]
    same: list[Duplicate[Report]] = []
    reports, errors = read_reports([*urls, str(saved)], fetch=FAST, duplicates=same)
    assert errors == []
    # Each decodes to the report's text, so the last three are the first one again.
    assert [r.text for r in reports] == [report_text("month_116").strip()]
    # (a duplicate is kept without its text, its sha256 says which text it was)
    assert [d.item.sha256 for d in same] == [sha256_text(report_text("month_116").strip())] * 3
    assert [d.item.text for d in same] == [""] * 3


def test_a_pdf_served_as_html_is_read_as_a_pdf(web: WebServer, tmp_path: Path) -> None:
    lines = [line for line in report_text("month_120").splitlines() if line.strip()]
    pdf = arabic_pdf(lines)
    web.routes["/report.html"] = Answer(200, pdf, {"Content-Type": "text/html"})
    saved = tmp_path / "named.html"
    saved.write_bytes(pdf)
    same: list[Duplicate[Report]] = []
    reports, errors = read_reports(
        [web.url("/report.html"), str(saved)], fetch=FAST, duplicates=same
    )
    assert errors == []
    assert [" ".join(r.text.split()) for r in reports] == [
        " ".join(report_text("month_120").split())
    ]
    # the saved copy is the same report (a duplicate keeps its sha256, not its text)
    assert [(d.item.path, d.item.sha256, d.item.text) for d in same] == [
        (str(saved), reports[0].sha256, "")
    ]


def test_a_304_without_a_cached_copy_says_so(web: WebServer) -> None:
    web.routes["/odd.html"] = Answer(304, headers={"ETag": '"x"'})
    (result,) = fetch_urls([web.url("/odd.html")], FAST)
    assert isinstance(result, InputError)
    assert result.reason == "server answered 304 Not Modified but no cached copy exists"


def test_html_served_as_plain_text_is_read_as_html(web: WebServer, tmp_path: Path) -> None:
    page = page_of("month_116").encode("utf-8")
    web.routes["/page.txt"] = Answer(200, page, {"Content-Type": "text/plain; charset=utf-8"})
    plain = "\n".join(["تقرير قصير", "<b> ليس وسما </b> في نص عادي"])
    web.routes["/plain.txt"] = Answer(200, plain.encode(), {"Content-Type": "text/plain"})
    reports, errors = read_reports([web.url("/page.txt"), web.url("/plain.txt")], fetch=FAST)
    assert errors == []
    assert reports[0].text == report_text("month_116").strip()  # no tag, no menu
    assert reports[1].text == plain  # text that merely holds a tag stays as it is


def test_html_nested_too_deep_says_so(tmp_path: Path) -> None:
    page = page_of("month_116")
    deep = page.replace("<main>", "<div>" * 300 + "<main>").replace(
        "</main>", "</main>" + "</div>" * 300
    )
    path = tmp_path / "deep.html"
    path.write_text(deep, encoding="utf-8")
    shallow = tmp_path / "shallow.html"
    shallow.write_text(
        page.replace("<main>", "<div>" * 200 + "<main>").replace(
            "</main>", "</main>" + "</div>" * 200
        ),
        encoding="utf-8",
    )
    reports, errors = read_reports([str(path), str(shallow)])
    assert [r.report_id for r in reports] == ["shallow"]
    assert errors[0].reason.startswith("HTML nested 255 or more elements deep")
