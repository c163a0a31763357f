"""The per-class error report (``eval``/``score --errors``, ``llm_extract.evaluation.errors``)."""

from __future__ import annotations

from pathlib import Path

from eval_samples import answer, gold_items, result_line, write_gold_set
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.evaluation.errors import group_errors, record_errors, render_errors
from llm_extract.evaluation.runner import score_configuration
from llm_extract.results import ExtractionResult


def _scored(tmp_path: Path, answers: dict[str, dict[str, object] | None]) -> list[str]:
    items = gold_items(tmp_path / "set")
    results = [
        ExtractionResult.model_validate_json(result_line(rid, data))
        for rid, data in answers.items()
    ]
    configuration = score_configuration("m", "m", None, items, results)
    gold = {i.report.report_id: i.gold for i in items}
    return [f"{e.group}|{e.report_id}|{e.detail}" for e in record_errors(configuration, gold)]


def test_every_class_with_report_and_detail(tmp_path: Path) -> None:
    t1 = answer("t1")
    t1["convoys"][0]["vehicles"] = 40  # wrong headline number
    t1["drills"] = t1["drills"][:1]  # second drill missed
    t2 = answer("t2")
    t2["strikes"][0]["kind"] = "airstrike"  # same statement, another kind
    t3 = answer("t3")
    t3["arrests"] = [{"detained": 4, "evidence": "4 تدريبات"}]  # invented
    rows = _scored(tmp_path, {"t1": t1, "t2": t2, "t3": t3})
    assert sorted(rows) == sorted(
        [
            "convoys: wrong vehicles|t1|40 != 50",
            "drills: missed|t1|",
            "strikes: wrong kind|t2|airstrike != attack_on_base",
            "arrests: spurious|t3|",
        ]
    )


def test_a_report_without_prediction_misses_every_gold_record(tmp_path: Path) -> None:
    rows = _scored(tmp_path, {"t1": answer("t1"), "t2": None, "t3": answer("t3")})
    assert sorted(rows) == ["arrests: missed|t2|", "strikes: missed|t2|"]


def test_grouping_and_rendering_are_one_line_per_error(tmp_path: Path) -> None:
    t1 = answer("t1")
    t1["drills"] = []
    items = gold_items(tmp_path / "set")
    results = [ExtractionResult.model_validate_json(result_line("t1", t1))]
    configuration = score_configuration("m", "m", None, items, results, only_predicted=True)
    errors = record_errors(configuration, {i.report.report_id: i.gold for i in items})
    assert list(group_errors(errors)) == ["drills: missed"]
    lines = render_errors(errors)
    assert lines[0] == "drills: missed (2)"
    assert lines[1].startswith("  t1: ") and "حقل العمر" in lines[1]
    assert render_errors([]) == ["no error: every gold record matched, every key field agreed"]


def test_evidence_is_printed_without_control_characters() -> None:
    from llm_extract.evaluation.errors import RecordError

    line = render_errors([RecordError("drills", "missed", "r", "a\x1b[31mb\nc\u202ed")])[1]
    assert "\x1b" not in line and "\n" not in line and "\u202e" not in line
    assert line == "  r: a [31mb c d"


def test_cli_score_and_eval_errors(tmp_path: Path) -> None:
    gold_dir, reports_dir = write_gold_set(tmp_path / "set")
    t1 = answer("t1")
    t1["drills"] = t1["drills"][:1]
    predictions = tmp_path / "out.jsonl"
    predictions.write_text(result_line("t1", t1) + "\n", encoding="utf-8")
    where = ["--gold", str(gold_dir), "--reports", str(reports_dir)]
    result = CliRunner().invoke(app, ["score", str(predictions), *where, "--errors"])
    assert result.exit_code == 0, result.output
    assert "errors of gpt-4o-mini, by class:" in result.stdout
    assert "drills: missed (1)" in result.stdout
    assert "t1: تدريب ثان في قاعدة خراب الجير يوم 9 تموز" in result.stdout
    plain = CliRunner().invoke(app, ["score", str(predictions), *where])
    assert "by class" not in plain.stdout
    runs = ["--runs-dir", str(tmp_path / "runs"), "--no-html"]
    rules = CliRunner().invoke(app, ["eval", "--model", "rules", *where, *runs, "--errors"])
    assert rules.exit_code in (0, 1), rules.output
    assert "errors of rules, by class:" in rules.stdout
