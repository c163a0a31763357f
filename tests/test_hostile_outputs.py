"""Outputs that said one thing and did another, and inputs that stopped a page or a command:

- ``summary --chart x.svg`` wrote PNG bytes: the suffix now names the format (png, svg,
  pdf), any other is a usage error before anything is read or written;
- ``export -o existing_dir`` wrote beside the folder: the files now go into it;
- a crafted ``#r=...&rec=...`` fragment stopped the review page's script: checked in
  headless Chromium (Playwright driving the system browser) with hostile fragments;
- ``batch collect`` reported ``choices: []`` as "list index out of range": each line now
  gets a clear reason.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_data import write_run
from typer.testing import CliRunner, Result

from llm_extract.backends.base import ExtractionRequest, ModelSettings
from llm_extract.cli import app
from llm_extract.jsonl import read_results
from llm_extract.report import Report
from llm_extract.reporting.export import TABLES
from llm_extract.reporting.view import write_view
from llm_extract.results import PromptInfo
from llm_extract.run.batch import prepare_batch, write_batch

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


# --- summary --chart: the suffix names the format -----------------------------------------------

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf", "SVG"])
def test_chart_is_written_in_the_format_its_suffix_names(tmp_path: Path, suffix: str) -> None:
    jsonl, _ = write_run(tmp_path)
    chart = tmp_path / f"chart.{suffix}"
    done = run("summary", str(jsonl), "--chart", str(chart))
    assert done.exit_code == 0, done.output
    data = chart.read_bytes()
    fmt = suffix.lower()
    if fmt == "svg":
        assert b"<svg" in data[:2000] and not data.startswith(MAGIC["png"])
    else:
        assert data.startswith(MAGIC[fmt])


@pytest.mark.parametrize("name", ["chart.gif", "chart.jpeg", "chart", "chart.jsonl"])
def test_chart_with_another_suffix_is_a_usage_error(tmp_path: Path, name: str) -> None:
    jsonl, _ = write_run(tmp_path)
    chart = tmp_path / name
    done = run("summary", str(jsonl), "--chart", str(chart))
    assert done.exit_code == 2
    assert done.output.count("\n") == 1 and ".png, .svg, .pdf" in done.output
    assert not chart.exists()


def test_chart_suffix_is_checked_before_the_input_is_read(tmp_path: Path) -> None:
    done = run("summary", str(tmp_path / "missing.jsonl"), "--chart", str(tmp_path / "c.bmp"))
    assert done.exit_code == 2 and "c.bmp" in done.output


# --- export -o an existing folder: the files go into it -------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "tables", "expected"),
    [
        ("xlsx", [], ["out.xlsx"]),
        ("csv", ["events"], ["out_events.csv"]),
        ("parquet", ["drills"], ["out_drills.parquet"]),
        ("csv", [], [f"out_{t}.csv" for t in TABLES]),
    ],
)
def test_export_into_an_existing_folder(
    tmp_path: Path, fmt: str, tables: list[str], expected: list[str]
) -> None:
    jsonl, _ = write_run(tmp_path)
    folder = tmp_path / "exports"
    folder.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    options = [arg for table in tables for arg in ("--table", table)]
    done = run("export", str(jsonl), "--format", fmt, "-o", str(folder), *options)
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing beside the folder
    for name in expected:
        assert str(folder / name) in done.output


# --- the review page: a hostile fragment stops nothing ------------------------------------------

HOSTILE_FRAGMENTS = [
    "#r=0&rec=%",  # decodeURIComponent throws URIError
    '#r=0&rec=a"],x[y',  # breaks a CSS attribute selector
    "#r=0&rec=%22%5D%2Cmark%5Bx",  # the same, percent-encoded
    "#r=%E0%A4%A&rec=r0-drills-0",  # malformed UTF-8 escape
    "#__proto__=x&constructor=y&r=1",
    "#r=99999&rec=r0-drills-0",
    "#r=<img src=x onerror=alert(1)>",
    "#r=1&rec=r1-strikes-0'%20onmouseover='alert(1)",
    "#&&&==&r==&rec",
    "#r=0&rec=" + "x" * 5000,
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@needs_chromium
def test_hostile_fragments_leave_the_review_page_working(tmp_path: Path, browser: Any) -> None:
    jsonl, _ = write_run(tmp_path)
    page_file, shown = write_view(read_results(jsonl), tmp_path / "review.html")
    assert len(shown) == 3
    for fragment in ["#r=1&rec=r1-strikes-0", *HOSTILE_FRAGMENTS]:
        page = browser.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc, found=problems: found.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda message, found=problems: (
                found.append(f"console.{message.type}: {message.text}")
                if message.type in ("error", "warning")
                else None
            ),
        )
        page.on("dialog", lambda dialog, found=problems: found.append(f"dialog: {dialog.message}"))
        try:
            page.goto(page_file.as_uri() + fragment)
            page.wait_for_selector("html[data-ready='1']", timeout=10_000)
            assert problems == [], (fragment, problems)
            assert page.get_attribute("html", "data-errors") is None, fragment
            assert page.locator("section.report:not([hidden])").count() == 1, fragment
            # The page still works: pick the third report, then one of its records.
            page.click("li[data-report='2'] button")
            assert page.locator("#report-2").is_visible(), fragment
            page.click("li[data-report='0'] button")
            row = page.locator("#report-0 tr.rec").first
            row.click()
            assert "active" in (row.get_attribute("class") or ""), fragment
            rid = row.get_attribute("data-rid")
            assert page.evaluate("window.location.hash") == f"#r=0&rec={rid}", fragment
            assert problems == [], (fragment, problems)
        finally:
            page.close()


@needs_chromium
def test_a_valid_fragment_still_selects_its_record(tmp_path: Path, browser: Any) -> None:
    jsonl, _ = write_run(tmp_path)
    page_file, _ = write_view(read_results(jsonl), tmp_path / "review.html")
    page = browser.new_page()
    try:
        page.goto(page_file.as_uri() + "#r=1&rec=r1-strikes-0")
        page.wait_for_selector("html[data-ready='1']")
        assert page.locator("#report-1").is_visible()
        row = page.locator("#report-1 tr[data-rid='r1-strikes-0']")
        assert "active" in (row.get_attribute("class") or "")
        marks = page.locator("#report-1 mark[data-rid='r1-strikes-0']")
        assert marks.count() >= 1 and "active" in (marks.first.get_attribute("class") or "")
    finally:
        page.close()


# --- batch collect: a clear reason per line ----------------------------------------------


def _manifest(tmp_path: Path, ids: list[str]) -> Path:
    settings = ModelSettings(model="gpt-4o-mini")
    info = PromptInfo(name="p", hash="h")
    text = "للشهر 120 على التوالي، أدخل التحالف الدولي نحو 75 شاحنة إلى قاعدة الشدادي."
    requests = [ExtractionRequest(Report(i, text, f"{i}.txt"), [], settings, info) for i in ids]
    prepared = prepare_batch(requests, {i: {"model": "m"} for i in ids}, dict.fromkeys(ids, "k"))
    write_batch(prepared, tmp_path / "req.jsonl")
    return tmp_path / "req.jsonl"


def _line(custom_id: str, body: Any) -> str:
    return json.dumps(
        {"custom_id": custom_id, "response": {"status_code": 200, "body": body}, "error": None}
    )


BAD_BODIES = {
    "empty": ({"choices": []}, "no choices"),
    "not_object": ({"choices": ["text"]}, "not an object"),
    "no_message": ({"choices": [{"index": 0, "finish_reason": "stop"}]}, "has no message"),
    "nothing": (
        {"choices": [{"message": {"role": "assistant", "content": None}}]},
        "neither content nor tool calls",
    ),
    "refused": (
        {"choices": [{"message": {"role": "assistant", "content": None, "refusal": "no"}}]},
        "the model refused: no",
    ),
}


def test_collect_names_the_reason_of_each_unusable_completion(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, sorted(BAD_BODIES))
    results = tmp_path / "results.jsonl"
    results.write_text(
        "\n".join(_line(i, body) for i, (body, _) in BAD_BODIES.items()) + "\n", encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    done = run("batch", "collect", str(results), "-m", str(manifest), "-o", str(out), "--no-cache")
    assert done.exit_code == 1
    assert "list index out of range" not in done.output and "Traceback" not in done.output
    got = {r.report_id: r for r in read_results(out)}
    assert set(got) == set(BAD_BODIES)
    for custom_id, (_, reason) in BAD_BODIES.items():
        result = got[custom_id]
        assert result.status == "failed" and result.error is not None
        assert reason in result.error.message, (custom_id, result.error.message)
        assert any(custom_id in line and reason in line for line in done.output.splitlines())
    assert got["refused"].error is not None and got["refused"].error.kind == "refusal"
