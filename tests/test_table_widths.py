"""Every table of the tool fits the terminal: at 80, 100 and 150 columns no line is wider
than the terminal and no number is cut to ``0.…``; columns are dropped by rank (the overall
F1 last) and named; a pipe (no terminal, no COLUMNS) gets every column; ``--json`` has them
all."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from paths import HAVE_SEEDS, SEED_IDS
from typer.testing import CliRunner, Result

from llm_extract.cli import app
from llm_extract.schemas import CATEGORIES

WIDTHS = (80, 100, 150)
ALL_RESULTS_COLUMNS = ("overall F1", "macro F1", "failures", "cost", "tokens", "wrong fields")


def invoke(*args: str, columns: int | None) -> Result:
    env = {"COLUMNS": str(columns)} if columns else {"COLUMNS": ""}
    return CliRunner(env=env).invoke(app, list(args))


def assert_fits(output: str, columns: int) -> None:
    table_lines = [line for line in output.splitlines() if set(line) & set("┃│┏┡└━─")]
    assert table_lines
    for line in table_lines:
        assert len(line.rstrip()) <= columns, f"{len(line)} > {columns}: {line!r}"
    assert "…" not in output  # nothing cut short


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runs")
    for _ in range(2):
        done = invoke(
            "eval", "--model", "rules", "--no-html", "--runs-dir", str(folder), columns=80
        )
        assert done.exit_code == 0, done.output
    return folder


@pytest.mark.parametrize("columns", WIDTHS)
def test_eval_tables_fit(tmp_path: Path, columns: int) -> None:
    done = invoke(
        "eval", "--model", "rules", "--no-html", "--runs-dir", str(tmp_path), columns=columns
    )
    assert done.exit_code == 0, done.output
    assert_fits(done.stdout, columns)
    first = done.stdout.split("rules: per category")[0]
    assert re.search(r"┃ +(overall )?F1 ┃", first)  # the overall F1 (its header shortened or not)
    shown = [c for c in CATEGORIES if f" {c} " in done.stdout.split("rules: per category")[0]]
    assert shown == list(CATEGORIES)  # the F1 of every category stays, even at 80
    if columns < 150:
        words = " ".join(done.stdout.split())  # the note wraps at the width too
        assert "not shown at this width:" in words
        assert "--json has every column" in words


def test_eval_to_a_pipe_has_every_column(tmp_path: Path) -> None:
    done = invoke(
        "eval", "--model", "rules", "--no-html", "--runs-dir", str(tmp_path), columns=None
    )
    assert done.exit_code == 0, done.output
    assert all(name in done.stdout for name in ALL_RESULTS_COLUMNS)
    assert "not shown" not in done.stdout and "…" not in done.stdout


def test_eval_json(tmp_path: Path) -> None:
    done = invoke(
        "eval", "--model", "rules", "--no-html", "--runs-dir", str(tmp_path), "--json", columns=80
    )
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    assert payload["rules"]["micro"]["overall"]["f1"] is not None
    assert "total_tokens" in payload["rules"]


@pytest.mark.parametrize("columns", WIDTHS)
def test_score_tables_fit(tmp_path: Path, columns: int) -> None:
    out = tmp_path / "out.jsonl"
    reports = Path(__file__).resolve().parents[1] / "evals" / "reports"
    made = CliRunner().invoke(app, ["extract", str(reports), "-o", str(out), "--model", "rules"])
    assert made.exit_code == 0, made.output
    done = invoke("score", str(out), columns=columns)
    assert done.exit_code in (0, 1), done.output
    assert_fits(done.stdout, columns)
    assert " F1 " in done.stdout


@pytest.mark.parametrize("columns", WIDTHS)
def test_eval_compare_fits_and_has_json(runs: Path, columns: int) -> None:
    ids = sorted(p.name for p in runs.iterdir() if p.is_dir())
    done = invoke("eval", "compare", ids[0], ids[1], "--runs-dir", str(runs), columns=columns)
    assert done.exit_code == 0, done.output
    assert_fits(done.stdout, columns)
    assert "overall F1 per report" in done.stdout
    as_json = invoke(
        "eval", "compare", ids[0], ids[1], "--runs-dir", str(runs), "--json", columns=columns
    )
    payload = json.loads(as_json.stdout)
    assert set(payload) == {"A", "B", "comparisons"}
    assert payload["A"]["configurations"]["rules"]["report_f1"]


@pytest.mark.parametrize("columns", WIDTHS)
def test_summary_fits_and_has_json(tmp_path: Path, columns: int) -> None:
    out = tmp_path / "out.jsonl"
    reports = Path(__file__).resolve().parents[1] / "evals" / "reports"
    made = CliRunner().invoke(app, ["extract", str(reports), "-o", str(out), "--model", "rules"])
    assert made.exit_code == 0, made.output
    done = invoke("summary", str(out), "--no-chart", columns=columns)
    assert done.exit_code == 0, done.output
    assert_fits(done.stdout, columns)
    assert "Reports" in done.stdout
    payload = json.loads(invoke("summary", str(out), "--no-chart", "--json", columns=80).stdout)
    assert payload["months"] and "trucks" in payload["total"]


def test_rules_scored_on_reports_its_authors_read_is_marked(tmp_path: Path) -> None:
    # The dev and spent reports were read by the rules' authors; the wide_* reports were not.
    evals = Path(__file__).resolve().parents[1] / "evals"
    splits = tomllib.loads((evals / "splits.toml").read_text(encoding="utf-8"))
    absent = set() if HAVE_SEEDS else set(SEED_IDS)
    total = len({p.stem for p in (evals / "gold").glob("*.json")} - absent)
    n = len({*splits["dev"], *splits["spent"]} - absent)
    assert 0 < n < total
    done = invoke("eval", "--model", "rules", "--runs-dir", str(tmp_path / "html"), columns=150)
    assert done.exit_code == 0, done.output
    assert "rules (seen)" in done.stdout
    page = next((tmp_path / "html").glob("*/report.html")).read_text(encoding="utf-8")
    assert f"(seen: {n}/{total} reports)" in page
    note = " ".join(done.stdout.split())
    assert f"{n} of the {total} scored reports were read while it was written" in note
    payload = json.loads(
        invoke(
            "eval", "--model", "rules", "--no-html", "--runs-dir", str(tmp_path), "--json",
            columns=80,
        ).stdout
    )  # fmt: skip
    assert payload["rules"]["seen_by_author"] == n
    assert payload["rules"]["reports"] == total
    run = json.loads(next(tmp_path.glob("2*/run.json")).read_text(encoding="utf-8"))
    assert len(run["configurations"][0]["seen"]) == n


def test_a_gold_set_without_splits_marks_nothing(tmp_path: Path) -> None:
    evals = tmp_path / "evals"
    (evals / "gold").mkdir(parents=True)
    (evals / "reports").mkdir()
    project = Path(__file__).resolve().parents[1] / "evals"
    for name in ("month_116", "month_120"):
        gold = (project / "gold" / f"{name}.json").read_text(encoding="utf-8")
        (evals / "gold" / f"{name}.json").write_text(gold, encoding="utf-8")
        text = (project / "reports" / f"{name}.txt").read_text(encoding="utf-8")
        (evals / "reports" / f"{name}.txt").write_text(text, encoding="utf-8")
    done = invoke("eval", "--model", "rules", "--no-html", "--evals-dir", str(evals), columns=150)
    assert done.exit_code == 0, done.output
    assert "(seen)" not in done.stdout and "rules" in done.stdout
