"""Issue 18, item 4: one report, counted once. The same report given twice (the same text, as
a ``.txt`` and as a page; one page under several spellings of its URL) is one report for
``extract`` (which says which one it kept), ``summary``, ``export`` and ``score``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from paths import EVALS, REPORTS_DIR
from typer.testing import CliRunner, Result
from web_pages import WebServer, article_page, html_answer, report_text

from llm_extract.cli import app
from llm_extract.jsonl import read_results
from llm_extract.report import Identity, canonical_url, one_per_report, text_key
from llm_extract.reporting.summary import summarize

PUBLISHED = "2024-05-20T10:00:00+03:00"  # inside month 116 (2024-04-23 – 2024-05-22)


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def web() -> Iterator[WebServer]:
    with WebServer() as server:
        server.routes["/news/report.html"] = html_answer(
            article_page(report_text("month_116"), "التحالف في شهره 116", published=PUBLISHED)
        )
        yield server


def test_canonical_url_spellings() -> None:
    base = "http://127.0.0.1:8000/news/report.html"
    for spelling in (
        base,
        base + "#frag",
        "HTTP://127.0.0.1:8000/news/report.html",
        "http://127.0.0.1:8000/news/./report.html",
        "http://127.0.0.1:8000/x/../news/report.html",
    ):
        assert canonical_url(spelling) == base, spelling
    assert canonical_url("https://Site.ORG:443/a?b=1&C=2#x") == "https://site.org/a?b=1&C=2"
    assert canonical_url("http://site.org:80") == "http://site.org/"
    assert canonical_url("http://site.org/a?b=1") != canonical_url("http://site.org/a?b=2")
    assert canonical_url("http://site.org:8080/a") == "http://site.org:8080/a"


def test_text_identity_ignores_line_breaks_and_spelling_variants() -> None:
    text = report_text("month_116")
    assert text_key(text) == text_key(text.strip() + "\n\n")
    assert text_key(text) == text_key(text.replace("\n", "\n\n"))
    assert text_key(text) != text_key(text + " وخبر آخر")


def test_one_per_report_keeps_the_first_and_names_the_rest() -> None:
    items = ["a", "b", "c", "d"]
    identity = {
        "a": Identity("t1", "http://h/x"),
        "b": Identity("t2", "http://h/x"),  # same URL, page changed since
        "c": Identity("t1"),  # same text as a
        "d": Identity("t3"),
    }
    kept, duplicates = one_per_report(items, identity.__getitem__)
    assert kept == ["a", "d"]
    assert [(d.item, d.kept, d.reason) for d in duplicates] == [
        ("b", "a", "same URL"),
        ("c", "a", "same text"),
    ]


def test_the_same_report_given_six_times_is_extracted_and_counted_once(
    web: WebServer, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(REPORTS_DIR / "month_116.txt", folder / "month_116.txt")
    shutil.copy(REPORTS_DIR / "month_120.txt", folder / "month_120.txt")
    url = web.url("/news/report.html")
    port = url.split(":")[2].split("/")[0]
    spellings = [
        url,
        url + "#frag",
        f"HTTP://127.0.0.1:{port}/news/report.html",
        web.url("/news/./report.html"),
    ]
    out = tmp_path / "all.jsonl"
    args = [*spellings, str(folder / "month_116.txt"), str(folder / "month_120.txt")]
    done = run("extract", *args, "--model", "rules", "-o", str(out))
    assert done.exit_code == 0, done.output
    skipped = [line for line in done.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 4
    for line in skipped:
        assert f"same report as {url}" in line and f"kept {url}" in line
    assert "(same URL)" in skipped[0] and "(same text)" in skipped[-1]
    assert "4 duplicates skipped" in done.stderr.splitlines()[-1]
    kept = read_results(out)
    assert [r.report_id for r in kept] == ["report", "month_120"]
    assert all(r.source.text_key for r in kept)

    # The figures are those of the two reports, each once.
    alone = tmp_path / "alone.jsonl"
    done = run(
        "extract", *map(str, sorted(folder.glob("*.txt"))), "--model", "rules", "-o", str(alone)
    )
    assert done.exit_code == 0, done.output

    def figures(path: Path) -> list[tuple[str, dict[str, int], int]]:
        rows = summarize(read_results(path)).rows
        return [(row.key, row.values, len(row.reports)) for row in rows]

    assert figures(out) == figures(alone)
    # Two months with one report each (the months between are gaps: no report, no figures).
    assert [n for _, _, n in figures(out) if n] == [1, 1]
    assert all(not any(values.values()) for _, values, n in figures(out) if not n)


def _lines(*files: Path) -> list[str]:
    return [line for file in files for line in file.read_text(encoding="utf-8").splitlines()]


def test_summary_export_and_score_count_a_report_once_and_say_so(
    web: WebServer, tmp_path: Path
) -> None:
    """Result files of separate runs put together: the page, its ``.txt`` and a copy of the
    ``.txt`` under another name are one report in every figure."""
    txt = tmp_path / "month_116.txt"
    shutil.copy(REPORTS_DIR / "month_116.txt", txt)
    copy = tmp_path / "copy_of_116.txt"
    shutil.copy(REPORTS_DIR / "month_116.txt", copy)
    other = tmp_path / "month_120.txt"
    shutil.copy(REPORTS_DIR / "month_120.txt", other)
    runs = []
    for source in (web.url("/news/report.html#top"), str(txt), str(copy), str(other)):
        file = tmp_path / f"run{len(runs)}.jsonl"
        done = run("extract", source, "--model", "rules", "-o", str(file))
        assert done.exit_code == 0, done.output
        runs.append(file)
    merged = tmp_path / "merged.jsonl"
    merged.write_text("\n".join(_lines(*runs)) + "\n", encoding="utf-8")
    single = tmp_path / "single.jsonl"
    single.write_text("\n".join(_lines(runs[1], runs[3])) + "\n", encoding="utf-8")

    note = "2 duplicate report(s) counted once: month_116 (same text as report), copy_of_116"
    shown, once = (
        run("summary", str(merged), "--no-chart"),
        run("summary", str(single), "--no-chart"),
    )
    assert shown.exit_code == once.exit_code == 0, shown.output
    assert shown.stdout == once.stdout  # the same table
    assert note in shown.stderr and "duplicate" not in once.stderr

    for name, results in (("m", merged), ("s", single)):
        done = run("export", str(results), "-f", "csv", "-t", "drills", "-o", str(tmp_path / name))
        assert done.exit_code == 0, done.output
    drills_m = (tmp_path / "m.csv").read_text(encoding="utf-8").splitlines()
    drills_s = (tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()
    assert len(drills_m) == len(drills_s) > 1
    assert (
        "2 duplicate report(s) counted once"
        in run("export", str(merged), "-o", str(tmp_path / "x")).stderr
    )

    scored = run("score", str(merged), "--evals-dir", str(EVALS), "--json")
    alone = run("score", str(single), "--evals-dir", str(EVALS), "--json")
    assert scored.stdout == alone.stdout  # month_116 is scored once, by its gold id
    assert "2 duplicate report(s) counted once: report (same text as month_116)" in scored.stderr
    summary = json.loads(scored.stdout)
    assert len(summary) == 1
