"""Hostile PDFs: each is read within its memory and time budget, and a failure is that
input's error, never the run's (issue 19, items 1 and 16).

The PDFs are built byte by byte (tests/crafted_pdfs.py): a font's ``/W`` range of two
billion characters, a Flate bomb, thousands of pages, an encrypted file with ``/P 0``. The
fuzz test feeds mutated PDFs to the reader under a memory cap of its own (the child's
``RLIMIT_AS``): a regression fails here instead of taking the machine down.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from crafted_pdfs import (
    arabic_pdf,
    build_pdf,
    encrypted_pdf,
    flate_bomb_pdf,
    text_pdf,
    widths_bomb_pdf,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import REPORTS_DIR
from typer.testing import CliRunner
from web_pages import report_text

from llm_extract.cli import app
from llm_extract.errors import InputError
from llm_extract.jsonl import read_results
from llm_extract.sources.files import read_reports
from llm_extract.sources.pdf import read_pdf
from llm_extract.sources.pdf_process import PdfLimits, read_pdf_bounded

#: A small cap: the bombs reach it in about a second.
CAPPED = PdfLimits(memory_mb=256, timeout_s=30)


def paragraphs(report_id: str) -> list[str]:
    return [line for line in report_text(report_id).splitlines() if line.strip()]


def words(text: str) -> str:
    return " ".join(text.split())


def test_a_good_pdf_reads_back_in_the_child() -> None:
    data = arabic_pdf(paragraphs("month_116"), title="الشهر 116")
    document = read_pdf_bounded(data, "good.pdf")
    assert words(document.text) == words(report_text("month_116"))
    assert document.title == "الشهر 116"


def test_the_child_answers_in_utf8_whatever_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONIOENCODING", "ascii")  # the child inherits it
    document = read_pdf_bounded(arabic_pdf(paragraphs("item_drill_shaddadi")), "ascii.pdf")
    assert words(document.text) == words(report_text("item_drill_shaddadi"))


def test_a_widths_range_of_two_billion_is_an_input_error_within_the_cap() -> None:
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        read_pdf_bounded(widths_bomb_pdf(), "widths.pdf", limits=CAPPED)
    assert caught.value.path == "widths.pdf"
    assert "needs more than 256 MB of memory" in caught.value.reason
    assert time.monotonic() - started < 20


def test_a_flate_bomb_is_an_input_error_within_the_cap() -> None:
    data = flate_bomb_pdf(320)
    assert len(data) < 1_000_000
    with pytest.raises(InputError, match="needs more than 256 MB of memory"):
        read_pdf_bounded(data, "flate.pdf", limits=CAPPED)


def test_a_3000_page_pdf_stops_at_the_page_limit_at_once() -> None:
    data = text_pdf(3000)
    started = time.monotonic()
    with pytest.raises(InputError, match=r"more than 40 pages, the limit"):
        read_pdf_bounded(data, "long.pdf", limits=PdfLimits(max_pages=40))
    assert time.monotonic() - started < 10  # 40 pages laid out, not 3000


def test_the_character_limit_stops_the_layout_early() -> None:
    data = text_pdf(100, ["x" * 80] * 50)  # 4000 characters a page
    with pytest.raises(InputError, match=r"more than 10000 characters by page 3"):
        read_pdf_bounded(data, "chars.pdf", max_chars=10_000)


def test_a_pdf_past_its_deadline_is_killed() -> None:
    data = text_pdf(3000, ["y" * 80] * 50)
    started = time.monotonic()
    with pytest.raises(InputError, match=r"took longer than 1 s"):
        read_pdf_bounded(data, "slow.pdf", limits=PdfLimits(max_pages=100_000, timeout_s=1))
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("permissions", [0, -3904, -1])
def test_an_encrypted_pdf_with_any_permissions_is_read(permissions: int) -> None:
    # /P 0 made pdfminer fail with a struct.error; permissions are advisory.
    document = read_pdf_bounded(encrypted_pdf(permissions), "locked.pdf")
    assert document.text == "Hello from a small PDF."


def test_broken_pdfs_are_named_errors() -> None:
    truncated = arabic_pdf(paragraphs("month_116"))[:300]
    with pytest.raises(InputError) as caught:
        read_pdf_bounded(truncated, "cut.pdf")
    assert caught.value.path == "cut.pdf"


def test_fontbbox_remarks_stay_quiet(caplog: pytest.LogCaptureFixture) -> None:
    # A font descriptor without a FontBBox, as Chromium writes for its Type 3 fonts.
    font = (
        b"<< /Type /Font /Subtype /TrueType /BaseFont /Naskh /FirstChar 32 /LastChar 126 "
        b"/Widths [%s] "
        b"/FontDescriptor << /Type /FontDescriptor /FontName /Naskh /Flags 32 >> >>"
    ) % b" ".join([b"500"] * 95)
    data = text_pdf(1, ["quiet"], font=font)
    with caplog.at_level(logging.WARNING):
        assert read_pdf(data, "quiet.pdf").text == "quiet"
    assert not [r for r in caplog.records if "FontBBox" in r.getMessage()]


def test_the_good_report_beside_a_bomb_is_extracted_and_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "bomb.pdf").write_bytes(widths_bomb_pdf())
    (folder / "month_116.txt").write_bytes((REPORTS_DIR / "month_116.txt").read_bytes())
    (folder / "month_120.pdf").write_bytes(arabic_pdf(paragraphs("month_120")))
    output = tmp_path / "out.jsonl"
    monkeypatch.setenv("LLM_EXTRACT_PDF_MEMORY_MB", "256")
    result = CliRunner().invoke(app, ["extract", str(folder), "-o", str(output), "-m", "rules"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    assert f"skipped: {folder / 'bomb.pdf'}: reading the PDF needs more than 256 MB" in (
        result.stderr
    )
    lines = read_results(output)
    assert sorted((r.report_id, r.status) for r in lines) == [
        ("month_116", "ok"),
        ("month_120", "ok"),
    ]


def test_the_page_limit_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(text_pdf(300))
    monkeypatch.setenv("LLM_EXTRACT_PDF_MAX_PAGES", "5")
    result = CliRunner().invoke(app, ["extract", str(path), "-m", "rules"])
    assert result.exit_code == 2
    assert "more than 5 pages, the limit (LLM_EXTRACT_PDF_MAX_PAGES)" in result.stderr


# --- fuzzing --------------------------------------------------------------------------------

SEEDS = (
    arabic_pdf(paragraphs("item_drill_shaddadi")),
    text_pdf(3, ["fuzz me", "(nested) text"]),
    encrypted_pdf(0),
)
#: What the fuzzing of issue 19 found: huge ranges, counts and numbers, deep nesting.
HOSTILE = st.sampled_from(
    [
        b"/W [0 999999999 500]",
        b"/Count 999999999",
        b"/Length 999999999",
        b"[" * 2000,
        b"<<" * 2000,
        b"/Filter /FlateDecode",
        b"/DecodeParms << /Predictor 15 /Columns 99999999 >>",
        b"9" * 400,
        b"-0",
        b"stream\n",
        b"endobj",
        b"R R R",
        b"1 0 R",
    ]
)


@st.composite
def mutated_pdfs(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 40)))
        junk = draw(HOSTILE | st.binary(max_size=24))
        data = data[:start] + junk + data[end:]
    return data


FUZZ_LIMITS = PdfLimits(max_pages=50, timeout_s=10, memory_mb=256)


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI never flakes on a new one
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=mutated_pdfs())
def test_fuzzed_pdfs_end_as_text_or_a_named_error_within_the_cap(data: bytes) -> None:
    started = time.monotonic()
    try:
        document = read_pdf_bounded(data, "fuzz.pdf", max_chars=100_000, limits=FUZZ_LIMITS)
    except InputError as exc:
        assert exc.path == "fuzz.pdf" and exc.reason
    else:
        assert isinstance(document.text, str)
    assert time.monotonic() - started < FUZZ_LIMITS.timeout_s + 5


@pytest.mark.parametrize(
    "data",
    [
        widths_bomb_pdf(),
        build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] >>"]),
        build_pdf([b"<< /Type /Catalog /Pages 1 0 R >>"]),  # a page tree that is its root
        b"%PDF-1.7\n" + b"[" * 100_000,
    ],
    ids=["widths", "pages-loop", "root-loop", "nesting"],
)
def test_corpus_of_crafted_pdfs_within_the_cap(data: bytes) -> None:
    with pytest.raises(InputError):
        read_pdf_bounded(data, "crafted.pdf", limits=FUZZ_LIMITS)


def test_a_pdf_from_stdin_is_bounded_too() -> None:
    import io

    reports, errors = read_reports(
        ["-"], stdin=io.BytesIO(widths_bomb_pdf()), pdf=PdfLimits(memory_mb=256)
    )
    assert reports == []
    assert [e.path for e in errors] == ["-"]
    assert "needs more than 256 MB" in errors[0].reason
