"""The review page: highlighting, text checks, gold statuses, and the page in headless Chromium."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape
from review_data import EXTRACTION_A, REPORT_A, make_result, write_run
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.evaluation.fields import compare_fields
from llm_extract.evaluation.gold import load_gold_file, load_gold_set
from llm_extract.jsonl import read_results
from llm_extract.reporting.view import ViewRecord, build_view, highlight, write_view
from llm_extract.results import ExtractionResult, PromptInfo, SourceInfo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)


class _Dom(HTMLParser):
    """Collects the attributes of <html>, <mark> and record rows of a dumped DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.root: dict[str, str | None] = {}
        self.marks: list[dict[str, str | None]] = []
        self.rows: list[dict[str, str | None]] = []
        self.sections: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.root = found
        elif tag == "mark":
            self.marks.append(found)
        elif tag == "tr" and "data-rid" in found:
            self.rows.append(found)
        elif tag == "section":
            self.sections.append(found)


def _classes(attrs: dict[str, str | None]) -> set[str]:
    return set((attrs.get("class") or "").split())


def _record(rid: str, start: int, end: int, kind: str = "pred") -> ViewRecord:
    return ViewRecord(rid, "drills", 0, kind, "unscored", [], "", [], start, end)


def test_highlight_nests_and_splits_crossing_spans() -> None:
    text = "abcdefghij"
    html = highlight(text, [_record("a", 0, 6), _record("b", 2, 4), _record("c", 5, 9)])
    dom = _Dom()
    dom.feed(html)
    assert html.count("<mark") == html.count("</mark>")
    assert [m["data-rid"] for m in dom.marks if "cont" not in _classes(m)] == ["a", "b", "c"]
    # "c" crosses "a": it is closed with "a" and reopened as a continuation.
    assert [m["data-rid"] for m in dom.marks if "cont" in _classes(m)] == ["c"]
    assert re.sub(r"</?mark[^>]*>", "", html) == text


def test_highlight_escapes_text() -> None:
    html = highlight("a <b> & c", [_record("x", 2, 5)])
    assert "&lt;b&gt;" in html
    assert "<b>" not in html


def test_missing_and_changed_text_turn_highlights_off(tmp_path: Path) -> None:
    jsonl, results = write_run(tmp_path)
    Path(results[0].source.path).write_text(REPORT_A + "تعديل لاحق.\n", encoding="utf-8")
    Path(results[1].source.path).unlink()
    shown = build_view(read_results(jsonl))
    assert shown[0].text_state == "changed"
    assert shown[0].n_highlighted == 0
    assert "changed" in (shown[0].text_message or "")
    assert shown[1].text_state == "missing"
    assert shown[1].n_pred == 3  # records are still listed
    page, _ = write_view(read_results(jsonl), tmp_path / "p.html")
    html = page.read_text(encoding="utf-8")
    assert "has changed since the extraction" in html
    assert "report text not found" in html


def test_reports_dir_option(tmp_path: Path) -> None:
    jsonl, _ = write_run(tmp_path)
    moved = tmp_path / "moved"
    shutil.move(str(tmp_path / "reports"), moved)
    assert build_view(read_results(jsonl))[0].text_state == "missing"
    shown = build_view(read_results(jsonl), reports_dirs=[tmp_path, moved])
    assert shown[0].text_state == "ok"
    assert shown[0].n_highlighted == shown[0].n_pred == 5


def _scored_run(tmp_path: Path) -> tuple[Path, Path]:
    """Prediction misses the arrest; gold lacks the airlift (so it is spurious)."""
    predicted = copy.deepcopy(EXTRACTION_A)
    predicted["arrests"] = []
    gold = copy.deepcopy(EXTRACTION_A)
    gold["convoys"] = gold["convoys"][:1]
    reports = tmp_path / "reports"
    reports.mkdir()
    result = make_result("r120", REPORT_A, predicted, reports)
    jsonl = tmp_path / "scored.jsonl"
    jsonl.write_text(result.model_dump_json() + "\n", encoding="utf-8")
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    (gold_dir / "r120.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    return jsonl, gold_dir


def test_gold_statuses(tmp_path: Path) -> None:
    jsonl, gold_dir = _scored_run(tmp_path)
    (report,) = build_view(read_results(jsonl), gold_dir=gold_dir)
    status = {(r.kind, r.category, r.status) for r in report.records}
    assert status == {
        ("pred", "convoys", "matched"),
        ("pred", "convoys", "spurious"),
        ("pred", "drills", "matched"),
        ("pred", "strikes", "matched"),
        ("gold", "arrests", "missed"),
    }
    missed = next(r for r in report.records if r.status == "missed")
    assert missed.start is not None  # outlined in the text


def _wrong_field_run(tmp_path: Path) -> tuple[Path, Path]:
    """The gold says the drill was not live fire and at another base; the model's record
    still matches it (same date, evidence and participants)."""
    jsonl, gold_dir = _scored_run(tmp_path)
    gold = json.loads((gold_dir / "r120.json").read_text(encoding="utf-8"))
    gold["drills"][0]["live_fire"] = False
    gold["drills"][0]["location"] = "قاعدة الشدادي"
    (gold_dir / "r120.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    return jsonl, gold_dir


class _Fields(HTMLParser):
    """The cells of each record's field table: ``(rid, field, verdict, column, dir, text)``."""

    def __init__(self) -> None:
        super().__init__()
        self.rid: str | None = None
        self.row: dict[str, str | None] = {}
        self.cell: dict[str, str | None] | None = None
        self.cells: list[tuple[str | None, str | None, str | None, str | None, str | None, str]]
        self.cells = []
        self.text = ""
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and "data-rid" in found:
            self.rid = found["data-rid"]
        elif tag == "tr" and "data-field" in found:
            self.row = found
        elif tag == "td" and self.row and found.get("class") in {"model", "gold"}:
            self.cell, self.text = found, ""
        elif tag == "pre":
            self.pre += 1

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.cells.append(
                (
                    self.rid,
                    self.row.get("data-field"),
                    self.row.get("data-verdict"),
                    self.cell.get("class"),
                    self.cell.get("dir"),
                    self.text,
                )
            )
            self.cell = None


def test_a_matched_record_with_wrong_fields_is_marked_and_shown_side_by_side(
    tmp_path: Path,
) -> None:
    """Issue 18: a record that matched a gold record whose fields differ is not "matched
    1.00": it is ``wrong``, names its wrong fields (the ones ``score`` counts), and its details
    show the model's and the gold's values side by side, right to left for Arabic."""
    jsonl, gold_dir = _wrong_field_run(tmp_path)
    (report,) = build_view(read_results(jsonl), gold_dir=gold_dir)
    drill = next(r for r in report.records if r.category == "drills")
    assert drill.status == "wrong"
    assert drill.wrong_fields == ["location", "live_fire"]
    rows = {f.name: f for f in drill.fields}
    assert (rows["live_fire"].model, rows["live_fire"].gold) == (["yes"], ["no"])
    assert rows["location"].verdict == "wrong"
    assert (rows["date"].verdict, rows["date"].model) == ("correct", ["2024-08-30"])
    # The metrics count exactly these fields wrong.
    gold = load_gold_file(gold_dir / "r120.json", REPORT_A)
    pred = read_results(jsonl)[0].extraction
    assert pred is not None
    tally = compare_fields(pred.drills[0], gold.drills[0], prefix="drills.")
    assert sorted(tally.wrong) == ["drills.live_fire", "drills.location"]

    page, _ = write_view(read_results(jsonl), tmp_path / "review.html", gold_dir=gold_dir)
    html = page.read_text(encoding="utf-8")
    assert "<pre" not in html  # no left-to-right JSON block
    assert "1 matched with wrong fields" in html
    cells = _Fields()
    cells.feed(html)
    mine = [c for c in cells.cells if c[0] == drill.rid]
    assert ("location", "wrong", "model", "auto", "قاعدة حقل العمر") in [c[1:] for c in mine]
    assert ("location", "wrong", "gold", "auto", "قاعدة الشدادي") in [c[1:] for c in mine]
    assert ("live_fire", "wrong", "gold", "auto", "no") in [c[1:] for c in mine]
    assert all(c[4] == "auto" for c in cells.cells)
    status = re.search(
        rf'<tr [^>]*data-rid="{drill.rid}".*?<td class="status">(.*?)</td>', html, re.S
    )
    assert status is not None and "2 wrong fields: location, live_fire" in status.group(1)


@needs_chromium
def test_wrong_fields_right_to_left_in_chromium(tmp_path: Path) -> None:
    """In the browser, the Arabic values of the details are laid out right to left and the
    Latin ones left to right; the wrong rows are marked."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    jsonl, gold_dir = _wrong_field_run(tmp_path)
    page_path, shown = write_view(read_results(jsonl), tmp_path / "review.html", gold_dir=gold_dir)
    drill = next(r for r in shown[0].records if r.category == "drills")
    assert CHROMIUM is not None
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            tab.goto(page_path.as_uri())
            tab.wait_for_selector("html[data-ready='1']")
            found = tab.evaluate(
                """(rid) => Array.from(document.querySelectorAll(
                    `tr[data-rid="${rid}"] table.fields tr[data-field]`)).map((row) => ({
                    field: row.dataset.field, verdict: row.dataset.verdict,
                    dirs: Array.from(row.querySelectorAll("bdi")).map(
                        (b) => [b.textContent, getComputedStyle(b).direction]),
                    open: row.closest("details").open}))""",
                drill.rid,
            )
        finally:
            browser.close()
    rows = {row["field"]: row for row in found}
    assert rows["location"]["dirs"] == [["قاعدة حقل العمر", "rtl"], ["قاعدة الشدادي", "rtl"]]
    assert rows["live_fire"]["dirs"] == [["yes", "ltr"], ["no", "ltr"]]
    assert rows["live_fire"]["verdict"] == "wrong" and rows["date"]["verdict"] == "correct"
    assert all(row["open"] for row in found)  # a wrong record shows its fields at once


def test_a_model_date_outside_the_period_is_kept_and_flagged_on_the_page(
    tmp_path: Path,
) -> None:
    """Issue 18: a model's full date in another year is not moved to the period's year; the
    result line keeps it and flags it, and the review page shows the flag."""
    predicted = copy.deepcopy(EXTRACTION_A)
    predicted["drills"][0]["date"] = "2019-08-30"
    reports = tmp_path / "reports"
    reports.mkdir()
    result = make_result("r120", REPORT_A, predicted, reports)
    assert result.extraction is not None
    assert str(result.extraction.drills[0].date) == "2019-08-30"
    flag = "drills[0].date: 2019-08-30 is outside the report's period 2024-08-23 – 2024-09-22"
    line = json.loads(result.model_dump_json())
    assert line["extraction"]["flags"] == [flag]
    jsonl = tmp_path / "out.jsonl"
    jsonl.write_text(result.model_dump_json() + "\n", encoding="utf-8")
    (shown,) = build_view(read_results(jsonl))
    assert shown.flags == [flag]
    page, _ = write_view(read_results(jsonl), tmp_path / "p.html")
    assert str(escape(f"Flag: {flag}")) in page.read_text(encoding="utf-8")


def _chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "chromium-profile"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1400,900",
        "--virtual-time-budget=3000",
        *extra,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


def _load_in_chromium(tmp_path: Path, page: Path, fragment: str = "") -> _Dom:
    done = _chromium(tmp_path, page.as_uri() + fragment, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Uncaught" not in done.stderr, done.stderr[-2000:]
    dom = _Dom()
    dom.feed(done.stdout)
    assert dom.root.get("data-ready") == "1", "page script did not finish"
    assert "data-errors" not in dom.root, dom.root.get("data-errors")
    return dom


def _screenshot(tmp_path: Path, page: Path, fragment: str = "") -> Path:
    shot = tmp_path / f"{page.stem}.png"
    done = _chromium(tmp_path, page.as_uri() + fragment, f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
    return shot


@needs_chromium
def test_page_in_chromium_with_gold(tmp_path: Path) -> None:
    jsonl, gold_dir = _scored_run(tmp_path)
    page, shown = write_view(read_results(jsonl), tmp_path / "review.html", gold_dir=gold_dir)
    html = page.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html  # self-contained
    dom = _load_in_chromium(tmp_path, page, "#r=0&rec=r0-strikes-0")
    pred = {m["data-rid"] for m in dom.marks if m.get("data-kind") == "pred"}
    assert len(pred) == shown[0].n_highlighted == 4
    assert {m["data-status"] for m in dom.marks} == {"matched", "spurious", "missed"}
    gold = [m for m in dom.marks if m.get("data-kind") == "gold"]
    assert [m["data-category"] for m in gold] == ["arrests"]
    # The link selected the strike: its highlight and its row are active.
    assert any("active" in _classes(m) for m in dom.marks if m["data-rid"] == "r0-strikes-0")
    assert any("active" in _classes(r) for r in dom.rows if r["data-rid"] == "r0-strikes-0")
    assert [s.get("hidden") for s in dom.sections] == [None]
    _screenshot(tmp_path, page, "#r=0&rec=r0-strikes-0")


@needs_chromium
def test_eval_gold_set_renders_every_record(tmp_path: Path) -> None:
    items = load_gold_set()  # the real reports too, when they are beside the checkout
    results = [
        ExtractionResult(
            report_id=item.report.report_id,
            source=SourceInfo(path=item.report.path, sha256=item.report.sha256),
            prompt=PromptInfo(name="gold", hash="-"),
            model="gold",
            status="ok",
            extraction=item.gold,
        )
        for item in items
    ]
    page, shown = write_view(results, tmp_path / "gold.html")
    records = sum(r.n_pred for r in shown)
    assert records > 50
    assert sum(r.n_highlighted for r in shown) == records
    dom = _load_in_chromium(tmp_path, page)
    starts = [m for m in dom.marks if "cont" not in _classes(m)]
    assert len(starts) == records
    assert len({m["data-rid"] for m in dom.marks}) == records
    # The first report is shown, the others are hidden until picked from the list.
    assert sum(s.get("hidden") is None for s in dom.sections) == 1


def test_cli_view(tmp_path: Path) -> None:
    jsonl, gold_dir = _scored_run(tmp_path)
    done = CliRunner().invoke(app, ["view", str(jsonl), "--gold", str(gold_dir)])
    assert done.exit_code == 0, done.output
    page = tmp_path / "scored_review.html"
    assert str(page) in done.output
    assert page.read_text(encoding="utf-8").count('data-kind="pred"') >= 4
    bad = CliRunner().invoke(app, ["view", str(jsonl), "--gold", str(tmp_path / "nope")])
    assert bad.exit_code == 2
    assert "nope" in bad.output


def test_cli_view_counts_in_the_singular(tmp_path: Path) -> None:
    jsonl, _ = _scored_run(tmp_path)
    first = jsonl.read_text(encoding="utf-8").splitlines()[0]
    one = tmp_path / "one.jsonl"
    one.write_text(first + "\n", encoding="utf-8")
    done = CliRunner().invoke(app, ["view", str(one)])
    assert done.exit_code == 0, done.output
    assert done.stderr.startswith("1 report, ")
    assert "1 reports" not in done.stderr
