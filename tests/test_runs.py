"""Saved runs: save, load, resolve by path, id, prefix or 'latest'; broken files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from eval_samples import answer, gold_items

from llm_extract.backends.base import ModelSettings
from llm_extract.errors import UsageError
from llm_extract.evaluation.runner import assemble_run, build_grid, grid_label, score_configuration
from llm_extract.evaluation.runs import Run, list_runs, load_run, new_run_id, resolve_run, save_run
from llm_extract.prompts import Prompt
from llm_extract.results import ExtractionResult, PromptInfo, SourceInfo
from llm_extract.schemas import ReportExtraction


def make_run(tmp_path: Path, drop: bool = False) -> Run:
    items = gold_items(tmp_path / "set")
    results = [
        ExtractionResult(
            report_id=i.report.report_id,
            source=SourceInfo(path=i.report.path, sha256=i.report.sha256),
            prompt=PromptInfo(name="guided", hash="h"),
            model="m",
            status="ok",
            extraction=ReportExtraction.model_validate(
                answer(i.report.report_id, drop_second_drill=drop),
                context={"source": i.report.text, "report_id": i.report.report_id},
            ),
        )
        for i in items
    ]
    configuration = score_configuration(
        "m", "m", PromptInfo(name="guided", hash="h"), items, results
    )
    return assemble_run(items, [configuration], {"models": ["m"], "drop": drop})


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    run = make_run(tmp_path, drop=True)
    path = save_run(run, tmp_path / "runs")
    assert path == tmp_path / "runs" / run.run_id / "run.json"
    loaded = load_run(path)
    assert loaded == run
    assert loaded.configurations[0].summary.micro["drills"].fn == 1
    assert loaded.configurations[0].predictions["t1"].extraction is not None
    assert set(loaded.gold) == {"t1", "t2", "t3"}
    assert loaded.git_revision is None or len(loaded.git_revision) >= 40


def test_resolve_by_id_prefix_latest(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = save_run(make_run(tmp_path / "a"), runs)
    second = save_run(make_run(tmp_path / "b", drop=True), runs)
    assert list_runs(runs) == [first, second]
    assert resolve_run(first.parent.name, runs) == first
    assert resolve_run(str(second.parent), runs) == second
    assert resolve_run("latest", runs) == list_runs(runs)[-1]
    with pytest.raises(UsageError, match="no such run"):
        resolve_run("zzz", runs)
    with pytest.raises(UsageError, match="no saved run"):
        resolve_run("latest", tmp_path / "empty")


def test_same_id_gets_a_new_folder(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    one = save_run(run, tmp_path / "runs")
    two = save_run(run.model_copy(update={"run_id": one.parent.name}), tmp_path / "runs")
    assert one != two and two.parent.name.endswith("-2")


def test_broken_run_file(tmp_path: Path) -> None:
    bad = tmp_path / "run.json"
    bad.write_text('{"run_id": 3}', encoding="utf-8")
    with pytest.raises(UsageError, match="not a saved run"):
        load_run(bad)
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(UsageError, match="invalid JSON"):
        load_run(bad)


def test_run_id_is_time_sortable() -> None:
    a = new_run_id({"x": 1}, dt.datetime(2024, 7, 1, 9, 0, 0))
    b = new_run_id({"x": 1}, dt.datetime(2024, 7, 1, 10, 0, 0))
    assert a.startswith("20240701-090000-") and a < b


def test_grid_labels_and_rules_once() -> None:
    prompts = [Prompt(name=n, description="", system="s", user="{{ text }}") for n in ("a", "b")]
    grid = build_grid(prompts, ["m1", "rules", "m1"], lambda p, m: ModelSettings(model=m))
    assert [c.label for c in grid] == ["a", "b", "rules"]
    assert grid[-1].prompt is None
    both = build_grid(prompts, ["m1", "m2"], lambda p, m: ModelSettings(model=m))
    assert [c.label for c in both] == ["a@m1", "b@m1", "a@m2", "b@m2"]
    assert grid_label("a", "m1", ["a"], ["m1", "m2"]) == "m1"
