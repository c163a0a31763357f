"""Summary: per-month figures worked out by hand on a small synthetic run, and the chart."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from review_data import make_result, write_run
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.jsonl import read_results
from llm_extract.reporting.summary import plot_summary, report_figures, summarize
from llm_extract.results import ExtractionResult

NEWS = "خبر قصير: في الأول من تشرين الأول 2024 اعتقلت قوات التحالف 3 أشخاص قرب الشدادي.\n"
UNDATED = "خبر بلا تاريخ: قوات التحالف نقلت معدات إلى إحدى قواعدها دون ذكر أي موعد.\n"


def _run(tmp_path: Path) -> tuple[Path, list[ExtractionResult]]:
    jsonl, results = write_run(tmp_path)
    news = make_result(
        "news1",
        NEWS,
        {
            "arrests": [
                {
                    "date": "2024-10-01",
                    "actors": ["International Coalition"],
                    "detained": 3,
                    "evidence": "اعتقلت قوات التحالف 3 أشخاص قرب الشدادي",
                }
            ]
        },
        tmp_path / "reports",
    )
    undated = make_result(
        "news2",
        UNDATED,
        {"convoys": [{"mode": "ground", "evidence": "نقلت معدات إلى إحدى قواعدها"}]},
        tmp_path / "reports",
    )
    extra = [news, undated]
    with jsonl.open("a", encoding="utf-8") as handle:
        handle.writelines(r.model_dump_json() + "\n" for r in extra)
    return jsonl, [*results, *extra]


def test_figures_prefer_stated_totals(tmp_path: Path) -> None:
    _, results = _run(tmp_path)
    a, b = (r.extraction for r in results[:2])
    assert a is not None and b is not None
    assert report_figures(a) == {
        "trucks": 150,
        "cargo_flights": 5,
        "drills": 1,
        "attacks": 4,
        "airstrikes": 0,
        "operations": 1,
        "detainees": 2,
        "killed": 2,  # the SDF casualties of the attack
        "injured": 0,
    }
    # Month 121 states 6 drills: the stated total wins over the records.
    assert report_figures(b)["drills"] == 6
    assert report_figures(b)["airstrikes"] == 2


def test_per_coalition_month(tmp_path: Path) -> None:
    jsonl, _ = _run(tmp_path)
    summary = summarize(read_results(jsonl))
    assert [row.key for row in summary.rows] == ["120", "121"]
    first, second = summary.rows
    assert first.values == {
        "trucks": 150,
        "cargo_flights": 5,
        "drills": 1,
        "attacks": 4,
        "airstrikes": 0,
        "operations": 1,
        "detainees": 2,
        "killed": 2,
        "injured": 0,
    }
    assert second.values["killed"] == 6  # the militia casualties of the airstrikes
    # Month 121 (from 2024-09-23): the monthly report plus the news item of 1 October.
    assert second.reports == ["r121", "news1"]
    assert second.values["detainees"] == 4 + 3
    assert second.values["operations"] == 1 + 1
    assert second.values["drills"] == 6
    assert summary.failed == ["r-failed"]
    assert summary.undated == ["news2"]


def test_per_calendar_month(tmp_path: Path) -> None:
    jsonl, _ = _run(tmp_path)
    summary = summarize(read_results(jsonl), by="calendar")
    # Month 120 (23 Aug - 22 Sep) lies mostly in September, month 121 mostly in October.
    assert [row.key for row in summary.rows] == ["2024-09", "2024-10"]
    assert summary.rows[0].values["trucks"] == 150
    assert summary.rows[1].values["detainees"] == 7


def test_chart_is_a_png(tmp_path: Path) -> None:
    jsonl, _ = _run(tmp_path)
    chart = plot_summary(summarize(read_results(jsonl)), tmp_path / "charts" / "s.png")
    data = chart.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000


def test_cli_summary(tmp_path: Path) -> None:
    jsonl, _ = _run(tmp_path)
    done = CliRunner().invoke(app, ["summary", str(jsonl)])
    assert done.exit_code == 0, done.output
    assert "150" in done.output
    assert "Cargo flights" in done.output
    assert (tmp_path / "out_summary.png").read_bytes().startswith(b"\x89PNG")
    bad = CliRunner().invoke(app, ["summary", str(jsonl), "--by", "week"])
    assert bad.exit_code == 2


def _gapped(tmp_path: Path) -> Path:
    """Months 120 and 121 of the synthetic run, and the news item moved to 1 January 2025
    (coalition month 124): months 122 and 123 have no report."""
    jsonl, results = _run(tmp_path)
    lines = []
    for result in results:
        if result.report_id == "news1" and result.extraction is not None:
            arrest = result.extraction.arrests[0].model_copy(update={"date": dt.date(2025, 1, 1)})
            extraction = result.extraction.model_copy(update={"arrests": [arrest]})
            result = result.model_copy(update={"extraction": extraction})
        lines.append(result.model_dump_json())
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return jsonl


def test_months_with_no_report_are_gaps_not_zeros(tmp_path: Path) -> None:
    jsonl = _gapped(tmp_path)
    summary = summarize(read_results(jsonl))
    assert [(row.key, row.gap) for row in summary.rows] == [
        ("120", False),
        ("121", False),
        ("122", True),
        ("123", True),
        ("124", False),
    ]
    calendar = summarize(read_results(jsonl), by="calendar")
    assert [row.key for row in calendar.rows if row.gap] == ["2024-11", "2024-12"]
    done = CliRunner().invoke(app, ["summary", str(jsonl), "--no-chart"], env={"COLUMNS": ""})
    assert done.exit_code == 0, done.output
    row_122 = next(line for line in done.stdout.splitlines() if line.startswith("│ 122 "))
    assert "0" not in row_122.split("│", 2)[2]  # no zero: dashes
    assert "—" in row_122
    assert "Killed" in done.stdout and "Injured" in done.stdout
    as_json = CliRunner().invoke(app, ["summary", str(jsonl), "--no-chart", "--json"])
    months = {m["month"]: m for m in json.loads(as_json.stdout)["months"]}
    assert months["122"]["reports"] == 0 and months["122"]["trucks"] is None
    assert months["120"]["killed"] == 2
    chart = plot_summary(summary, tmp_path / "gaps.svg")
    assert "no report that month" in chart.read_text(encoding="utf-8")
