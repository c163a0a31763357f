"""Issue 18, item 3: a report read from a web page with a publication date gives exactly the
records of its ``.txt``. Every report of ``evals/reports`` (and the real reports, where they
are beside the checkout) is served as a news page by the loopback web server, with a JSON-LD
``datePublished`` inside the report's period (a monthly report: the last day of its coalition
month; a short item: the day it reports), read back with the fetcher and extracted offline.
The publication date only anchors relative words ("اليوم", "أمس"); where the report writes its
dates, they win."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from paths import HAVE_SEEDS, REPORTS_DIR, SEED_IDS, SEEDS
from rules_helpers import HEAD_125, run
from web_pages import WebServer, article_page, html_answer

from llm_extract.backends.rules import extract
from llm_extract.normalize import coalition_period
from llm_extract.schemas import CATEGORIES, ReportExtraction
from llm_extract.sources.files import read_reports
from llm_extract.sources.web import FetchSettings

FAST = FetchSettings(timeout_s=2.0, attempts=2, backoff_s=0.01, max_wait_s=0.05)


def _report_files() -> list[Path]:
    """The project's reports, less the test splits (no rule-based run ever reads those:
    a failure here would show their records to whoever writes the rules)."""
    splits = tomllib.loads((REPORTS_DIR.parent / "splits.toml").read_text(encoding="utf-8"))
    unseen = {*splits.get("wide_test", []), *splits.get("holdout", [])}
    files = sorted(f for f in REPORTS_DIR.glob("*.txt") if f.stem not in unseen)
    if HAVE_SEEDS:
        files += [SEEDS / f"{seed}.txt" for seed in SEED_IDS]
    return files


def _records(extraction: ReportExtraction) -> dict[str, list[dict[str, Any]]]:
    """The records without their offsets (a page's text is the ``.txt`` stripped)."""
    return {
        category: [
            record.model_dump(mode="json", exclude={"evidence_start", "evidence_end"})
            for record in extraction.records(category)
        ]
        for category in CATEGORIES
    }


def _published(extraction: ReportExtraction) -> dt.date | None:
    """A publication day inside the report's period: the last day of a monthly report's
    coalition month, else the first day a short item reports (None for an item that reports
    no day: its page has no publication date)."""
    if extraction.coalition_month is not None:
        return coalition_period(extraction.coalition_month).end
    days: list[dt.date] = [
        day
        for category in CATEGORIES
        for record in extraction.records(category)
        for day in [getattr(record, "date", None), *getattr(record, "dates", [])]
        if isinstance(day, dt.date)
    ]
    return min(days) if days else None


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[WebServer, dict[str, ReportExtraction], set[str]]]:
    from_txt: dict[str, ReportExtraction] = {}
    dated: set[str] = set()
    with WebServer() as server:
        for file in _report_files():
            text = file.read_text(encoding="utf-8")
            extraction, dropped = extract(text, file.stem)
            assert dropped == []
            from_txt[file.stem] = extraction
            day = _published(extraction)
            published = None if day is None else f"{day.isoformat()}T09:00:00+03:00"
            if published is not None:
                dated.add(file.stem)
            page = article_page(text, f"تقرير {file.stem}", published=published, meta_date=False)
            server.routes[f"/reports/{file.stem}.html"] = html_answer(page)
        yield server, from_txt, dated


def test_every_report_as_a_page_gives_the_records_of_its_txt(
    site: tuple[WebServer, dict[str, ReportExtraction], set[str]],
) -> None:
    server, from_txt, dated = site
    assert len(dated) > len(from_txt) // 2  # most pages carry a publication date
    urls = [server.url(f"/reports/{name}.html") for name in from_txt]
    reports, errors = read_reports(urls, fetch=FAST, keep_texts=False)
    assert errors == [] and len(reports) == len(from_txt)
    different: list[str] = []
    for report in reports:
        # the JSON-LD date was read where the page has one
        assert (report.published is not None) == (report.report_id in dated)
        extraction, dropped = extract(report.text, report.report_id, report.published)
        assert dropped == []
        if _records(extraction) != _records(from_txt[report.report_id]):
            different.append(report.report_id)
    assert different == []


def test_a_written_date_wins_over_today_in_the_same_sentence() -> None:
    """ "1 تموز، نفذت ... اليوم، تدريبات": one drill on 1 July, not a second one on the day of
    publication (own words)."""
    text = (
        HEAD_125 + "وفي 1 شباط، نفذت قوات التحالف الدولي وقسد اليوم، تدريبات مشتركة بالذخيرة الحية "
        "في قاعدة الشدادي.\n"
    )
    published = dt.date(2025, 2, 20)
    extraction, dropped = extract(text, "t", published)
    assert dropped == []
    assert [d.date for d in extraction.drills] == [dt.date(2025, 2, 1)]
    assert _records(extraction) == _records(run(text))


def test_a_short_item_counts_its_relative_words_from_its_dateline() -> None:
    """The dateline is the day the item was written: "أمس" is the day before, read from a
    ``.txt`` (no publication date) or from a page published later (own words)."""
    text = (
        "الحسكة – 5 آذار 2024: قالت مصادر محلية إن قوات التحالف الدولي نفذت أمس إنزالاً "
        "جوياً في قرية الصور بريف دير الزور، واعتقلت شخصين.\n"
    )
    from_txt = run(text)
    from_page, _ = extract(text, "t", dt.date(2024, 3, 9))
    assert [a.date for a in from_txt.arrests] == [dt.date(2024, 3, 4)]
    assert _records(from_page) == _records(from_txt)
