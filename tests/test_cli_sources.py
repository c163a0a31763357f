"""``extract``, ``view`` and ``export`` on web pages, saved pages and PDFs, end to end: a
loopback news site, the loopback OpenAI-protocol server, and Chromium-printed PDFs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openai_server import OpenAIServer, Reply
from pdf_printing import needs_chromium, print_pdfs, report_html
from typer.testing import CliRunner, Result
from web_pages import Answer, WebServer, article_page, html_answer, navigation_page, report_text

from llm_extract.cli import app
from llm_extract.report import sha256_text
from llm_extract.results import ExtractionResult

PUBLISHED = "2024-05-23T10:00:00+03:00"
# A short item written for these tests: its dates are relative to the day it was published
# (Saturday 4 January 2025) or have no year.
ITEM = (
    'دير الزور: نفذت قوات التحالف الدولي أمس الجمعة، بمشاركة "قسد"، عملية إنزال جوي على منزل '
    "في بلدة الطيانة بريف دير الزور الشرقي، واعتقلت ثلاثة أشخاص يشتبه بانتمائهم لتنظيم "
    '"د ا ع ش". وكانت القوات ذاتها قد أجرت تدريبا بالذخيرة الحية في حقل العمر يوم الأحد '
    "الماضي، بينما وصلت في 28 كانون الأول قافلة من 40 شاحنة إلى قاعدة الشدادي."
)
ITEM_ANSWER: dict[str, Any] = {
    "coalition_month": None,
    "convoys": [
        {
            "mode": "ground",
            "vehicles": 40,
            "date_text": "28 كانون الأول",
            "dates": ["2025-12-28"],
            "destinations": ["قاعدة الشدادي"],
            "evidence": "وصلت في 28 كانون الأول قافلة من 40 شاحنة",
        }
    ],
    "drills": [
        {
            "date_text": "يوم الأحد الماضي",
            "date": None,
            "location": "حقل العمر",
            "live_fire": True,
            "evidence": "أجرت تدريبا بالذخيرة الحية في حقل العمر",
        }
    ],
    "arrests": [
        {
            "date_text": "أمس الجمعة",
            "date": "2023-05-05",  # a model's guess: code replaces it
            "location": "الطيانة",
            "detained": 3,
            "evidence": "عملية إنزال جوي على منزل في بلدة الطيانة",
        }
    ],
}


@pytest.fixture
def web() -> Iterator[WebServer]:
    with WebServer() as server:
        server.routes["/report.html"] = html_answer(
            article_page(report_text("month_116"), "التحالف في شهره 116", published=PUBLISHED)
        )
        server.routes["/item.html"] = html_answer(
            article_page(ITEM, "إنزال جوي في الطيانة", published="2025-01-04T09:30:00+03:00")
        )
        server.routes["/undated.html"] = html_answer(article_page(ITEM, "إنزال جوي في الطيانة"))
        server.routes["/loop"] = Answer(302, headers={"Location": "/loop"})
        server.routes["/logo.png"] = Answer(
            200, b"\x89PNG\r\n\x1a\n\0\0", {"Content-Type": "image/png"}
        )
        server.routes["/archive.html"] = html_answer(navigation_page())
        yield server


@pytest.fixture
def model(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> OpenAIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-0000")
    openai_server.default = Reply(ITEM_ANSWER)
    return openai_server


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def results(path: Path) -> list[ExtractionResult]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ExtractionResult.model_validate_json(line) for line in lines]


def extraction(result: ExtractionResult) -> dict[str, Any]:
    assert result.status == "ok" and result.extraction is not None
    return result.extraction.model_dump(mode="json", exclude={"report_id"})


def test_web_page_gives_the_records_of_its_txt(web: WebServer, tmp_path: Path) -> None:
    txt = tmp_path / "month_116.txt"
    txt.write_text(report_text("month_116"), encoding="utf-8")
    done = run("extract", web.url("/report.html"), "--model", "rules", "-o", str(tmp_path / "w"))
    assert done.exit_code == 0, done.output
    again = run("extract", str(txt), "--model", "rules", "-o", str(tmp_path / "t"))
    assert again.exit_code == 0, again.output
    (page,), (text,) = results(tmp_path / "w"), results(tmp_path / "t")
    assert extraction(page) == extraction(text)
    assert page.source.url == web.url("/report.html")
    assert page.source.title == "التحالف في شهره 116"
    assert page.source.published == dt.datetime.fromisoformat(PUBLISHED)
    assert page.source.fetched_at is not None
    # the page's main text is the report's text (less the file's final newline)
    assert page.source.sha256 == sha256_text(report_text("month_116").strip())


def test_one_page_prints_its_result_with_the_source(web: WebServer) -> None:
    done = run("extract", web.url("/report.html"), "--model", "rules")
    assert done.exit_code == 0, done.output
    source = json.loads(done.stdout)["source"]
    assert source["url"] == web.url("/report.html")
    assert source["published"] == "2024-05-23T10:00:00+03:00"


def test_bad_inputs_named_and_skipped_exit_1(web: WebServer, tmp_path: Path) -> None:
    bad = ["/missing.html", "/loop", "/logo.png", "/archive.html"]
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nnot really\n")
    out = tmp_path / "out.jsonl"
    args = [web.url("/report.html"), *map(web.url, bad), str(broken)]
    done = run("extract", *args, "--model", "rules", "-o", str(out))
    assert done.exit_code == 1
    skipped = [line for line in done.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 5
    for name in [*map(web.url, bad), str(broken)]:
        assert sum(name + ":" in line for line in skipped) == 1, name
    assert [r.report_id for r in results(out)] == ["report"]
    nothing = run("extract", *map(web.url, bad), "--model", "rules")
    assert nothing.exit_code == 2
    assert "none of the inputs could be read" in nothing.stderr


def test_relative_dates_resolved_from_the_publication_date(
    web: WebServer, model: OpenAIServer, tmp_path: Path
) -> None:
    # Two runs: in one, the same text twice is one report (the second is skipped).
    by_id = {}
    for page in ("/item.html", "/undated.html"):
        out = tmp_path / f"{page.strip('/')}.jsonl"
        done = run("extract", web.url(page), "-o", str(out))
        assert done.exit_code == 0, done.output
        by_id |= {r.report_id: r for r in results(out)}
    dated, undated = by_id["item"], by_id["undated"]
    assert dated.extraction is not None and undated.extraction is not None
    assert dated.extraction.arrests[0].date == dt.date(2025, 1, 3)  # أمس الجمعة
    assert dated.extraction.drills[0].date == dt.date(2024, 12, 29)  # يوم الأحد الماضي
    assert dated.extraction.convoys[0].dates == [dt.date(2024, 12, 28)]  # 28 كانون الأول
    # no publication date: relative dates stay null, the model's guess is not kept
    assert undated.source.published is None
    assert undated.extraction.arrests[0].date is None
    assert undated.extraction.drills[0].date is None


def test_the_offline_extractor_dates_a_yearless_item_from_its_page(
    web: WebServer, tmp_path: Path
) -> None:
    by_id = {}
    for page in ("/item.html", "/undated.html"):  # one run each: the same text is one report
        out = tmp_path / f"{page.strip('/')}.jsonl"
        done = run("extract", web.url(page), "--model", "rules", "-o", str(out))
        assert done.exit_code == 0, done.output
        by_id |= {r.report_id: r for r in results(out)}
    dated, undated = by_id["item"].extraction, by_id["undated"].extraction
    assert dated is not None and undated is not None
    assert by_id["item"].source.published is not None
    assert [a.date for a in dated.arrests] == [dt.date(2025, 1, 3)]  # أمس الجمعة

    def dates(extraction: Any) -> set[dt.date | None]:
        found: set[dt.date | None] = {r.date for r in [*extraction.drills, *extraction.arrests]}
        return found | {d for c in extraction.convoys for d in c.dates}

    # Every date is a full ISO date: yesterday, last Sunday, and 28 December of the year
    # before publication. (The offline extractor reads the convoy, told verb-first after
    # "بينما", as a drill: its date is right all the same.)
    assert dates(dated) == {dt.date(2025, 1, 3), dt.date(2024, 12, 29), dt.date(2024, 12, 28)}
    # The same text with no publication date: no date is guessed.
    assert dates(undated) == {None}


def test_resume_skips_an_unchanged_page_and_reruns_a_changed_one(
    web: WebServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    pages = [web.url("/report.html"), web.url("/item.html")]
    assert run("extract", *pages, "--model", "rules", "-o", str(out)).exit_code == 0
    same = run("extract", *pages, "--model", "rules", "-o", str(out), "--resume")
    assert same.exit_code == 0, same.output
    assert "resume: 2 report(s) already done" in same.stderr
    web.routes["/item.html"] = html_answer(
        article_page(
            ITEM + "\nوأضافت المصادر أن الطريق أعيد فتحه.", "إنزال", published="2025-01-04"
        )
    )
    changed = run("extract", *pages, "--model", "rules", "-o", str(out), "--resume")
    assert changed.exit_code == 0, changed.output
    assert "resume: 1 report(s) already done" in changed.stderr
    ids = [r.report_id for r in results(out)]
    assert sorted(ids[:2]) == ["item", "report"] and ids[2:] == ["item"]  # the new line wins


def test_view_shows_the_text_of_a_page(web: WebServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert (
        run("extract", web.url("/report.html"), "--model", "rules", "-o", str(out)).exit_code == 0
    )
    page = tmp_path / "review.html"
    done = run("view", str(out), "-o", str(page))
    assert done.exit_code == 0, done.output
    assert "without usable text" not in done.stderr
    (result,) = results(out)
    assert result.extraction is not None
    records = sum(
        len(result.extraction.records(c)) for c in ("convoys", "drills", "strikes", "arrests")
    )
    assert f"{records} records, {records} highlighted" in done.stderr


def test_export_carries_the_source(web: WebServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert (
        run("extract", web.url("/report.html"), "--model", "rules", "-o", str(out)).exit_code == 0
    )
    csv = tmp_path / "events.csv"
    done = run("export", str(out), "--format", "csv", "--table", "events", "-o", str(csv))
    assert done.exit_code == 0, done.output
    events = pd.read_csv(csv)
    assert set(events["source"]) == {web.url("/report.html")}
    assert set(events["source_published"]) == {PUBLISHED}
    assert set(events["source_title"]) == {"التحالف في شهره 116"}


@needs_chromium
def test_printed_pdf_gives_the_records_of_its_txt(web: WebServer, tmp_path: Path) -> None:
    (pdf,) = print_pdfs({"r": report_html(report_text("month_120"), "month_120")}).values()
    local = tmp_path / "month_120.pdf"
    local.write_bytes(pdf)
    web.routes["/month_120.pdf"] = Answer(200, pdf, {"Content-Type": "application/pdf"})
    txt = tmp_path / "month_120.txt"
    txt.write_text(report_text("month_120"), encoding="utf-8")
    for name, source in [
        ("pdf", str(local)),
        ("web", web.url("/month_120.pdf")),
        ("txt", str(txt)),
    ]:
        done = run("extract", source, "--model", "rules", "-o", str(tmp_path / name))
        assert done.exit_code == 0, done.output
    (from_pdf,), (from_web,), (from_txt,) = (results(tmp_path / n) for n in ("pdf", "web", "txt"))

    def records(result: ExtractionResult) -> dict[str, Any]:
        data = extraction(result)
        for category in ("convoys", "drills", "strikes", "arrests"):
            for record in data[category]:
                for key in ("evidence", "evidence_start", "evidence_end"):
                    del record[key]
        return data

    assert records(from_pdf) == records(from_txt) == records(from_web)
    assert from_pdf.source.title == "month_120"
