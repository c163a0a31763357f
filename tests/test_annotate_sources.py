"""The annotation app on reports that came from saved news pages and from URLs, whose source
carries a title and a publication date (a time or a day): every answer of the API is JSON
with ISO 8601 dates (it once failed with "datetime is not JSON serializable"), and such a
report is corrected and saved as gold like any other."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from annotate_app import PAGES, Files, RunningApp, decide_all, draft_body, make_page_files
from typer.testing import CliRunner
from web_pages import WebServer, article_page, html_answer, report_text

from llm_extract.cli import app as cli_app
from llm_extract.evaluation.gold import load_gold_file
from llm_extract.results import SourceInfo


@pytest.fixture
def pages(tmp_path: Path) -> Files:
    return make_page_files(tmp_path)


def test_reports_from_dated_pages_open_and_save(pages: Files) -> None:
    with RunningApp(pages) as app:
        listing = app.client.get("/api/reports")
        assert listing.status_code == 200
        assert {r["report_id"] for r in listing.json()["reports"]} == set(PAGES)
        for report_id, (title, published) in PAGES.items():
            answer = app.client.get(f"/api/reports/{report_id}")
            assert answer.status_code == 200, answer.text
            payload = answer.json()
            assert payload["source"]["title"] == title
            # ISO 8601, and the same value the results file holds
            assert payload["source"]["published"] == published
            assert SourceInfo.model_validate(payload["source"]).published is not None
            assert payload["read_only"] is False and payload["text"]

        payload = app.report("item_convoy_walid")
        saved = app.put("item_convoy_walid", decide_all(draft_body(payload)))
        assert saved.status_code == 200, saved.text
        assert saved.json()["source"]["published"] == "2024-05-30"
        done = app.done("item_convoy_walid", saved.json()["draft"]["version"])
        assert done.status_code == 200, done.text
        assert done.json()["report"]["status"] == "done"
    gold_path = pages.gold / "item_convoy_walid.json"
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    assert gold["annotation"]["source"]["published"] == "2024-05-30"
    assert gold["annotation"]["source"]["title"] == PAGES["item_convoy_walid"][0]
    assert load_gold_file(gold_path, None).convoys


@pytest.fixture
def web() -> Iterator[WebServer]:
    with WebServer() as server:
        page = article_page(report_text("month_116"), "التحالف", published="2024-05-23T10:00:00Z")
        server.routes["/month_116.html"] = html_answer(page)
        yield server


def test_a_report_fetched_from_a_url_opens(web: WebServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    done = CliRunner().invoke(
        cli_app, ["extract", web.url("/month_116.html"), "--model", "rules", "-o", str(out)]
    )
    assert done.exit_code == 0, done.output
    files = Files(out=out, reports=tmp_path / "reports", gold=tmp_path / "gold")
    with RunningApp(files) as app:
        (entry,) = app.client.get("/api/reports").json()["reports"]
        answer = app.client.get(f"/api/reports/{entry['report_id']}")
        assert answer.status_code == 200, answer.text
        source = answer.json()["source"]
        assert source["url"] == web.url("/month_116.html")
        assert source["published"] == "2024-05-23T10:00:00Z"
        assert dt.datetime.fromisoformat(source["fetched_at"]).tzinfo is not None
