"""Web pages as reports: main text and metadata, and a fetcher that behaves, against a real
server on 127.0.0.1 serving pages written for the project."""

from __future__ import annotations

import datetime as dt
import gc
import io
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from trafilatura.meta import reset_caches
from web_pages import (
    Answer,
    WebServer,
    article_page,
    html_answer,
    navigation_page,
    report_text,
)

from llm_extract.errors import InputError
from llm_extract.normalize import normalize
from llm_extract.report import Duplicate, Report, sha256_text
from llm_extract.sources.files import read_reports, stream_reports
from llm_extract.sources.texts import default_text_store, stored_text
from llm_extract.sources.web import USER_AGENT, FetchSettings, fetch_urls
from llm_extract.sources.webcache import WebCache

PUBLISHED = "2024-05-23T10:00:00+03:00"
FAST = FetchSettings(timeout_s=0.5, attempts=3, backoff_s=0.01, max_wait_s=0.05)


@pytest.fixture
def web() -> Iterator[WebServer]:
    with WebServer() as server:
        page = article_page(report_text("month_116"), "التحالف في شهره 116", published=PUBLISHED)
        server.routes["/report.html"] = html_answer(page)
        server.routes["/moved"] = Answer(301, headers={"Location": "/report.html"})
        server.routes["/loop-a"] = Answer(302, headers={"Location": "/loop-b"})
        server.routes["/loop-b"] = Answer(302, headers={"Location": "/loop-a"})
        server.routes["/error"] = Answer(500, b"oops")
        server.routes["/slow.html"] = Answer(200, page.encode(), {"Content-Type": "text/html"}, 3)
        server.routes["/logo.png"] = Answer(
            200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, {"Content-Type": "image/png"}
        )
        server.routes["/archive.html"] = html_answer(navigation_page())
        yield server


def fetch_one(url: str, settings: FetchSettings = FAST) -> object:
    (result,) = fetch_urls([url], settings)
    return result


def test_page_main_text_and_metadata(web: WebServer) -> None:
    (report,), errors = read_reports([web.url("/report.html")], fetch=FAST)
    assert errors == []
    assert report.text == report_text("month_116").strip()  # no menu, sidebar, comment...
    assert report.report_id == "report"
    assert report.url == web.url("/report.html") and report.path == web.url("/report.html")
    assert report.title == "التحالف في شهره 116"
    assert report.published == dt.datetime.fromisoformat(PUBLISHED)
    assert report.fetched_at is not None and report.fetched_at.tzinfo is not None
    assert stored_text(report.sha256) == report.text  # kept for the review page
    assert web.seen[0].headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("llm-extract/")


def test_date_only_in_json_ld(web: WebServer) -> None:
    only_ld = article_page(
        report_text("item_drill_shaddadi"), "تدريب", published="2023-11-02", meta_date=False
    )
    web.routes["/ld-only.html"] = html_answer(only_ld)
    (report,), errors = read_reports([web.url("/ld-only.html")], fetch=FAST)
    assert errors == []
    assert "article:published_time" not in only_ld
    assert report.published == dt.date(2023, 11, 2)


def test_redirects_are_followed_and_the_final_url_kept(web: WebServer) -> None:
    (report,), errors = read_reports([web.url("/moved")], fetch=FAST)
    assert errors == []
    assert report.url == web.url("/report.html")
    assert report.path == web.url("/moved") and report.report_id == "moved"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/loop-a", "too many redirects (more than 5)"),
        ("/missing.html", "HTTP 404 Not Found"),
        ("/error", "HTTP 500 (after 3 attempts)"),
        ("/slow.html", "timed out (0.5 s per attempt) (after 3 attempts)"),
        ("/logo.png", "content type image/png is not a web page, text or PDF; skipped"),
    ],
)
def test_bad_pages_each_named(web: WebServer, path: str, reason: str) -> None:
    result = fetch_one(web.url(path))
    assert isinstance(result, InputError)
    assert (result.path, result.reason) == (web.url(path), reason)


def test_retries_back_off_on_429_and_5xx_then_succeed(web: WebServer) -> None:
    page = web.routes["/report.html"]
    assert isinstance(page, Answer)
    script = iter([Answer(429, headers={"Retry-After": "0"}), Answer(503), page])
    web.routes["/flaky.html"] = lambda server, headers: next(script)
    (report,), errors = read_reports([web.url("/flaky.html")], fetch=FAST)
    assert errors == [] and report.text == report_text("month_116").strip()
    assert web.hits["/flaky.html"] == 3


def test_a_404_is_not_retried(web: WebServer) -> None:
    fetch_one(web.url("/missing.html"))
    assert web.hits["/missing.html"] == 1


def test_size_limit_by_content_length_and_while_streaming(web: WebServer) -> None:
    huge = b"<html><body><p>" + "تقرير ".encode() * 200_000 + b"</p></body></html>"
    web.routes["/huge.html"] = Answer(200, huge, {"Content-Type": "text/html"})
    web.routes["/huge-chunked.html"] = Answer(
        200, huge, {"Content-Type": "text/html"}, chunked=True
    )
    settings = FetchSettings(max_bytes=500_000, backoff_s=0.01)
    first, second = fetch_urls([web.url("/huge.html"), web.url("/huge-chunked.html")], settings)
    assert isinstance(first, InputError) and isinstance(second, InputError)
    assert first.reason == f"{len(huge):,} bytes, larger than the limit of 500,000 bytes"
    assert second.reason.startswith("more than ") and "larger than the limit" in second.reason


def test_page_without_main_text(web: WebServer) -> None:
    reports, errors = read_reports([web.url("/archive.html")], fetch=FAST)
    assert reports == []
    (error,) = errors
    assert error.path == web.url("/archive.html")
    assert error.reason.startswith("no ")


def test_at_most_n_requests_in_flight_per_host(web: WebServer) -> None:
    page = web.routes["/report.html"]
    assert isinstance(page, Answer)
    for n in range(6):
        web.routes[f"/p{n}.html"] = Answer(page.status, page.body, page.headers, delay_s=0.2)
    urls = [web.url(f"/p{n}.html") for n in range(6)]
    results = fetch_urls(urls, FetchSettings(per_host=2, use_cache=False))
    assert all(not isinstance(r, InputError) for r in results)
    assert web.max_in_flight == 2


def test_cache_revalidates_with_etag_and_fetches_nothing_new(web: WebServer) -> None:
    body = article_page(report_text("month_120"), "120", published="2024-09-23").encode()

    def etag_page(server: WebServer, headers: dict[str, str]) -> Answer:
        if headers.get("if-none-match") == '"v1"':
            return Answer(304, headers={"ETag": '"v1"'})
        return Answer(200, body, {"Content-Type": "text/html", "ETag": '"v1"'})

    web.routes["/etag.html"] = etag_page
    first = read_reports([web.url("/etag.html")], fetch=FAST)[0][0]
    second = read_reports([web.url("/etag.html")], fetch=FAST)[0][0]
    assert first.text == second.text == report_text("month_120").strip()
    assert web.bodies_sent("/etag.html") == 1  # the second run got 304 Not Modified
    assert web.seen[-1].headers["if-none-match"] == '"v1"'


def test_cache_revalidates_with_last_modified(web: WebServer) -> None:
    stamp = "Wed, 21 Oct 2024 07:28:00 GMT"
    body = article_page(report_text("month_120"), "120").encode()

    def dated_page(server: WebServer, headers: dict[str, str]) -> Answer:
        if headers.get("if-modified-since") == stamp:
            return Answer(304)
        return Answer(200, body, {"Content-Type": "text/html", "Last-Modified": stamp})

    web.routes["/dated.html"] = dated_page
    fetch_urls([web.url("/dated.html")], FAST)
    (again,) = fetch_urls([web.url("/dated.html")], FAST)
    assert not isinstance(again, InputError) and again.from_cache and again.body == body


def test_the_cache_never_stores_a_url_in_clear(web: WebServer, tmp_path: Path) -> None:
    url = web.url("/report.html") + "?api_key=CANARY-9d8e7f"
    cache = WebCache(tmp_path / "web")
    fetch_urls([url], FAST, cache)
    files = list((tmp_path / "web").iterdir())
    assert len(files) == 2
    assert not any(b"CANARY-9d8e7f" in f.read_bytes() for f in files)


def test_credentials_in_urls_never_reach_a_message_or_a_report(web: WebServer) -> None:
    secret_url = (
        web.url("/missing.html").replace("http://", "http://user:CANARY-pw@") + "?token=t0k"
    )
    good = web.url("/report.html") + "?access_token=CANARY-tok"
    reports, errors = read_reports([secret_url, good], fetch=FAST)
    (report,) = reports
    (error,) = errors
    assert "CANARY" not in str(error) and "t0k" not in str(error)
    assert "CANARY" not in f"{report.path} {report.url} {report.report_id}"
    assert error.reason == "HTTP 404 Not Found"


def test_saved_html_file_and_stdin(tmp_path: Path) -> None:
    page = article_page(
        report_text("month_097"),
        "الشهر 97",
        published="2022-10-23",
        canonical="https://news.example.org/reports/97?session=CANARY-s",
    )
    saved = tmp_path / "month_097.html"
    saved.write_text(page, encoding="utf-8")
    (report,), errors = read_reports([str(saved)])
    assert errors == []
    assert normalize(report.text) == normalize(report_text("month_097"))
    assert report.published == dt.date(2022, 10, 23)
    assert report.url is not None and report.url.startswith("https://news.example.org/reports/97")
    assert "CANARY" not in report.url
    piped, _ = read_reports(["-"], stdin=io.BytesIO(page.encode("utf-8")))
    assert piped[0].report_id == "stdin" and piped[0].text == report.text
    assert piped[0].sha256 == sha256_text(report.text)


def test_files_of_urls_and_folders(web: WebServer, tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "a.txt").write_text(report_text("month_088"), encoding="utf-8")
    (folder / "links.urls").write_text(
        f"# pages to fetch\n{web.url('/report.html')}\n\n{web.url('/moved')}  # same page\n"
        "ftp://example.org/x.html\nnot a url\n",
        encoding="utf-8",
    )
    (folder / "notes.md").write_text("ignored", encoding="utf-8")
    duplicates: list[Duplicate[Report]] = []
    reports, errors = read_reports([str(folder)], fetch=FAST, duplicates=duplicates)
    assert [r.report_id for r in reports] == ["a", "report"]
    # "/moved" is the same page: read, then left out as the same report (its URL after the
    # redirect, and its text).
    assert [(d.item.path, d.kept.path, d.reason) for d in duplicates] == [
        (web.url("/moved"), web.url("/report.html"), "same URL")
    ]
    assert [e.path for e in errors] == [f"{folder / 'links.urls'}:5", f"{folder / 'links.urls'}:6"]
    assert all(e.reason.startswith("not an http:// or https:// URL") for e in errors)


def test_a_txt_file_of_urls_gets_a_hint(tmp_path: Path) -> None:
    listed = tmp_path / "links.txt"
    listed.write_text("https://example.org/a.html\nhttps://example.org/b.html\n", encoding="utf-8")
    _, (error,) = read_reports([str(listed)])
    assert error.reason == "lists URLs, not a report; name the file *.urls to fetch them"


def test_a_url_with_a_terminal_escape_is_named_without_it() -> None:
    _, (error,) = read_reports(["http://user:pw@example.org/a\x1b[31m.html?token=t0k"])
    assert "\x1b" not in str(error) and "pw" not in str(error) and "t0k" not in str(error)
    assert error.reason == "not a valid URL (white space or control characters)"


def long_report(number: int) -> str:
    """A monthly report's size (about 40,000 characters), distinct for each ``number``."""
    base = report_text("month_116")
    parts = [f"الجزء {number}-{part} من التقرير.\n{base}" for part in range(28)]
    return "\n".join(parts)


def test_fetched_pages_wait_for_their_turn_on_disk_not_in_memory(
    web: WebServer, tmp_path: Path
) -> None:
    """A long ``.urls`` list is fetched before the run, and a run holds no page's text
    until its turn (each went to the text store as it came): memory stays flat in the
    number of pages, and each report read at its turn is the page's full text."""
    count = 30
    texts = {}
    for n in range(count):
        texts[n] = long_report(n)
        server_path = f"/long-{n}.html"
        web.routes[server_path] = html_answer(article_page(texts[n], f"تقرير {n}"))
    listed = tmp_path / "pages.urls"
    listed.write_text("".join(f"{web.url(f'/long-{n}.html')}\n" for n in range(count)))
    list(stream_reports([web.url("/report.html")], fetch=FAST))  # the modules it imports
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        stream = stream_reports([str(listed)], fetch=FAST)
        reset_caches()  # trafilatura's bounded caches (1,024 strings each), not pages
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    page_bytes = sum(len(text) for text in texts.values()) * 2  # Arabic: 2 bytes a character
    assert held < page_bytes / 10, (held, page_bytes)
    reports = list(stream)
    assert not stream.errors
    assert [r.report_id for r in reports] == [f"long-{n}" for n in range(count)]
    for n, report in enumerate(reports):
        assert normalize(texts[n]) in normalize(report.text)  # the whole text, at its turn
        assert report.sha256 == sha256_text(report.text)
        assert stored_text(report.sha256) == report.text
    # the same reports as a stream that keeps no text on disk holds them in memory
    held_in_memory = list(stream_reports([str(listed)], fetch=FAST, keep_texts=False))
    unstamped = [replace(r, fetched_at=None) for r in reports]
    assert [replace(r, fetched_at=None) for r in held_in_memory] == unstamped


def test_a_page_whose_stored_text_is_gone_is_named_and_the_run_goes_on(
    web: WebServer, tmp_path: Path
) -> None:
    """The text store emptied between the fetch and a page's turn (a cache clean-up): that
    page is an input error naming its URL; the others are read."""
    web.routes["/other.html"] = html_answer(article_page(report_text("month_088"), "تقرير"))
    listed = tmp_path / "pages.urls"
    listed.write_text(f"{web.url('/report.html')}\n{web.url('/other.html')}\n")
    stream = stream_reports([str(listed)], fetch=FAST)
    (gone,) = [
        path
        for path in default_text_store().glob("*.txt")
        if normalize(report_text("month_116"))[:200] in normalize(path.read_text("utf-8"))
    ]
    gone.unlink()
    reports = list(stream)
    assert [r.report_id for r in reports] == ["other"]
    (error,) = stream.errors
    assert error.path == web.url("/report.html")
    assert "removed from the text store" in error.reason
