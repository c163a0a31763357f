"""Scoring part of the gold set is honest: ``score`` scores the reports that have a prediction
and lists the others apart; paired comparisons use only the reports both sides have and say
how many; ``--reports`` adds to the ``source.path`` fallback; results record an absolute
``source.path``, so ``view`` works from any folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_samples import REPORTS, answer, result_line, write_gold_set
from review_data import make_result
from typer.testing import CliRunner, Result

from llm_extract.cli import app
from llm_extract.evaluation.compare import compare
from llm_extract.evaluation.metrics import (
    CategoryMatch,
    Counts,
    FieldCounts,
    ReportScore,
    ReportStatus,
)
from llm_extract.evaluation.runs import load_run
from llm_extract.jsonl import read_results
from llm_extract.schemas import CATEGORIES
from llm_extract.sources.texts import TEXT_OK, report_text


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def gold_set(tmp_path: Path) -> tuple[Path, Path]:
    return write_gold_set(tmp_path / "set")


def write_output(path: Path, ids: list[str]) -> Path:
    path.write_text("".join(result_line(i, answer(i)) + "\n" for i in ids), encoding="utf-8")
    return path


def test_score_of_part_of_the_gold_set_scores_that_part(
    gold_set: tuple[Path, Path], tmp_path: Path
) -> None:
    # Before: t2 and t3 counted as failed extractions, every gold record of theirs missed,
    # F1 well under 1 and exit 1, for an output that is right on the one report it covers.
    gold, reports = gold_set
    out = write_output(tmp_path / "out.jsonl", ["t1"])
    result = invoke("score", str(out), "--gold", str(gold), "--reports", str(reports), "--json")
    assert result.exit_code == 0, result.output
    assert (
        "note: gpt-4o-mini: 2 of 3 gold reports have no prediction, not scored: t2, t3"
        in result.stderr
    )
    assert "failed" not in result.stderr
    summary = json.loads(result.stdout)["gpt-4o-mini"]
    assert summary["reports"] == 1 and summary["no_prediction"] == ["t2", "t3"]
    assert summary["micro"]["overall"]["f1"] == 1.0
    assert summary["failure_rate"] == 0.0


def test_score_with_no_prediction_for_the_gold_set_is_an_input_error(
    gold_set: tuple[Path, Path], tmp_path: Path
) -> None:
    gold, reports = gold_set
    out = tmp_path / "out.jsonl"
    line = json.loads(result_line("t1", answer("t1")))
    line["report_id"] = "elsewhere"
    out.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    result = invoke("score", str(out), "--gold", str(gold), "--reports", str(reports))
    assert result.exit_code == 2
    assert "no prediction for any report of the gold set" in result.stderr


def score(report_id: str, status: ReportStatus = "ok", drills: int = 1) -> ReportScore:
    """One report's score: ``drills`` gold drills, all found (or, not "ok", all missed)."""
    found = drills if status == "ok" else 0
    return ReportScore(
        report_id=report_id,
        status=status,
        counts={
            c: Counts(tp=found, fn=drills - found) if c == "drills" else Counts()
            for c in CATEGORIES
        },
        matches={c: CategoryMatch() for c in CATEGORIES},
        fields=FieldCounts(),
    )


def test_a_comparison_pairs_only_the_reports_both_sides_have() -> None:
    # A ran r0-r3, B r2-r5 (eval scores a report a side never ran as "missing", F1 0): before,
    # r0, r1, r4 and r5 counted as wins for the side that had them.
    a = [score(f"r{i}", "ok" if i < 4 else "missing") for i in range(6)]
    b = [score(f"r{i}", "ok" if i >= 2 else "missing") for i in range(6)]
    result = compare("A", a, "B", b)
    assert (result.paired, result.only_a, result.only_b) == (2, ["r0", "r1"], ["r4", "r5"])
    drills = result.diff("drills")
    assert set(drills.per_report) == {"r2", "r3"}
    assert (drills.wins, drills.ties, drills.losses) == (0, 2, 0)
    assert result.verdict == (
        "A and B score the same on every report "
        "(2 reports both have; left out: 2 only A has, 2 only B has)"
    )
    # a failed extraction is a prediction: it is compared
    assert compare("A", [score("r0")], "B", [score("r0", "failed")]).paired == 1


def test_eval_compare_of_two_runs_over_different_reports_says_how_many(
    gold_set: tuple[Path, Path], tmp_path: Path
) -> None:
    gold, reports = gold_set
    runs = tmp_path / "runs"
    common = ["--gold", str(gold), "--reports", str(reports), "--save", "--runs-dir", str(runs)]
    for name, ids in (("a", ["t1", "t2"]), ("b", ["t2", "t3"])):
        saved = invoke("score", str(write_output(tmp_path / f"{name}.jsonl", ids)), *common)
        assert saved.exit_code == 0, saved.output
    first, second = sorted(p.parent.name for p in runs.glob("*/run.json"))
    assert load_run(first, runs).configurations[0].no_prediction in (["t3"], ["t1"])
    result = invoke("eval", "compare", first, second, "--runs-dir", str(runs))
    assert result.exit_code == 0, result.output
    verdicts = [line for line in result.stdout.splitlines() if line.startswith("verdict: ")]
    assert len(verdicts) == 1
    assert (
        "(1 report both have; left out: 1 only A:gpt-4o-mini has, 1 only B:gpt-4o-mini has)"
        in (verdicts[0])
    )


def test_reports_folders_add_to_the_source_path(tmp_path: Path) -> None:
    # The text is where source.path says; --reports names a folder without it. Before, the
    # folders replaced source.path and the text was "not found".
    runs = tmp_path / "run"
    runs.mkdir()
    (result,) = [make_result("r120", "تقرير تجريبي قصير عن قافلة وصلت.\n", None, runs)]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    text, state, _ = report_text(result, [elsewhere])
    assert state == TEXT_OK and text is not None


def test_results_record_an_absolute_source_path_and_view_works_from_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    (work / "reports").mkdir(parents=True)
    (work / "reports" / "t1.txt").write_text(REPORTS["t1"], encoding="utf-8")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(work)
    done = invoke("extract", "reports/t1.txt", "-o", "../out/res.jsonl", "--model", "rules")
    assert done.exit_code == 0, done.output
    (result,) = read_results(tmp_path / "out" / "res.jsonl")
    assert result.source.path == str(work / "reports" / "t1.txt")
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    shown = invoke("view", str(tmp_path / "out" / "res.jsonl"))
    assert shown.exit_code == 0, shown.output
    assert "without usable text" not in shown.stderr
