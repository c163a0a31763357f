"""Arabic PDFs printed by Chromium: the recovered text is the report's, and so are the records."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from paths import SEED_IDS, requires_seeds, seed_text
from pdf_printing import needs_chromium, print_pdfs, report_html
from web_pages import report_text

from llm_extract.backends.rules.extractor import extract
from llm_extract.normalize import normalize
from llm_extract.report import Duplicate, Report
from llm_extract.sources.files import read_reports
from llm_extract.sources.pdf import is_visual_order, logical_line

# Reports with what trips a text layer up: marks stacked on letters (تُسجَّل), tanween on a
# lam-alef (أولاً), brackets (mirrored glyphs), Arabic-Indic digits, a dateline, lists.
REPORTS = (
    "month_116",
    "final_month_071",
    "unseen_month_081",
    "unseen_month_130",
    "item_raid_tell_hamis",
    "month_122",
)
SCAN = """<!doctype html><html><body><svg width="500" height="300">
<rect x="20" y="20" width="400" height="40" fill="#333"/>
<rect x="20" y="90" width="300" height="40" fill="#666"/></svg></body></html>"""


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    pages = {name: report_html(report_text(name), name) for name in REPORTS}
    # A long report in large type runs over several pages: paragraphs cross page breaks.
    pages["multipage"] = report_html(report_text("month_112"), "month_112").replace(
        "font-size: 14px", "font-size: 40px"
    )
    pages["scan"] = SCAN
    return print_pdfs(pages)


def _records(text: str) -> dict[str, Any]:
    extraction = extract(text, "r")[0].model_dump(mode="json", exclude={"report_id"})
    for category in ("convoys", "drills", "strikes", "arrests"):
        for record in extraction[category]:
            del record["evidence_start"], record["evidence_end"]
            record["evidence"] = normalize(record["evidence"])
    return extraction


@needs_chromium
@pytest.mark.parametrize("name", REPORTS)
def test_printed_report_reads_back_as_its_text(
    pdfs: dict[str, bytes], name: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdfs[name])
    (report,), errors = read_reports([str(path)])
    assert errors == []
    source = report_text(name)
    assert report.report_id == name and report.title == name
    assert normalize(report.text) == normalize(source)
    # one paragraph per line, as in the .txt (the rules extractor reads lines)
    assert len(report.text.splitlines()) == len([x for x in source.splitlines() if x.strip()])
    assert _records(report.text) == _records(source)


@needs_chromium
def test_paragraphs_that_cross_a_page_break(pdfs: dict[str, bytes]) -> None:
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(pdfs["multipage"])).pages) > 1
    (report,), _ = read_reports(["-"], stdin=io.BytesIO(pdfs["multipage"]))
    source = report_text("month_112")
    assert normalize(report.text) == normalize(source)
    assert _records(report.text) == _records(source)


@needs_chromium
def test_bad_pdfs_are_each_named_and_the_rest_still_read(
    pdfs: dict[str, bytes], tmp_path: Path
) -> None:
    from pypdf import PdfReader, PdfWriter

    good = tmp_path / "good.pdf"
    good.write_bytes(pdfs["month_116"])
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(pdfs["scan"])
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(pdfs["month_116"])))
    writer.encrypt(user_password="s3cret", owner_password="owner")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(pdfs["month_116"][:600])
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"%PDF-1.7\nthis is not a PDF at all\n%%EOF\n")
    paths = [good, scan, locked, cut, fake]
    reports, errors = read_reports([str(p) for p in paths])
    assert [r.report_id for r in reports] == ["good"]
    reasons = {error.path: error.reason for error in errors}
    assert reasons[str(scan)] == "no text layer; OCR is not supported"
    assert reasons[str(locked)] == "encrypted PDF that needs a password; skipped"
    assert reasons[str(cut)].startswith("broken PDF")
    assert reasons[str(fake)].startswith("broken PDF")
    assert len(errors) == 4


def test_visual_order_lines_come_back_in_logical_order() -> None:
    # As Chromium's text layer holds a line: reversed, digits left to right, brackets as drawn.
    visual = "(ﻦﻳﺮﺸﺗ ٢٨) ﺔﻛرﺎﺸﻤﺑ 25 ﺦﻳرﺎﺘﺑ ﺐﻳرﺪﺗ"
    assert is_visual_order(visual + " ﺔﻠﻴﻘﺜﻟا ﺔﻴﻌﻓﺪﻤﻟﺎﺑ")
    assert logical_line(visual, visual=True) == "تدريب بتاريخ 25 بمشاركة (٢٨ تشرين)"
    # a lam-alef carrying tanween maps its alef to NUL
    assert logical_line("-ً\x00ﻟوأ", visual=True) == "أولاً-"


def test_logical_order_text_layers_are_left_alone() -> None:
    text = "نفذت القوات تدريبا بالذخيرة الحية في قاعدة الشدادي"
    assert not is_visual_order(text)
    assert logical_line(text, visual=False) == text


@requires_seeds
@needs_chromium
@pytest.mark.parametrize("seed", SEED_IDS)
def test_the_real_reports_printed_and_as_web_pages(seed: str, tmp_path: Path) -> None:
    from web_pages import article_page

    text = seed_text(seed)
    (pdf,) = print_pdfs({seed: report_html(text, seed)}).values()
    (tmp_path / f"{seed}.pdf").write_bytes(pdf)
    (tmp_path / f"{seed}.html").write_text(
        article_page(text, "تقرير", published="2024-07-23"), encoding="utf-8"
    )
    # Read together, the PDF and the page are one report (the same text after normalisation).
    duplicates: list[Duplicate[Report]] = []
    (kept,), errors = read_reports([str(tmp_path)], duplicates=duplicates)
    assert errors == [] and [(d.item.path, d.kept.path) for d in duplicates] == [
        (str(tmp_path / f"{seed}.pdf"), kept.path)
    ]
    reports = [
        read_reports([str(tmp_path / f"{seed}.{suffix}")])[0][0] for suffix in ("html", "pdf")
    ]
    for report in reports:
        assert normalize(report.text) == normalize(text)
        assert _records(report.text) == _records(text)
