"""Hostile ids: a report id used as a file name never leads out of its folder.

``view --gold`` once followed ``report_id = "../outside/secret"`` to
``gold/../outside/secret.json`` and rendered it. Every place where an id or another value
from data becomes a file name goes through :func:`llm_extract.paths.child_path`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from review_data import EXTRACTION_A, REPORT_A, make_result
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.errors import InputError, UnsafeNameError
from llm_extract.evaluation.gold import find_report
from llm_extract.jsonl import read_results
from llm_extract.paths import child_path
from llm_extract.reporting.view import build_view

# A marker only the file outside the gold folder holds: it must never reach the page.
OUTSIDE_MARK = "OUTSIDE-GOLD-FILE-7c1d"


@pytest.mark.parametrize(
    "name", ["../x", "../../etc/passwd", "/etc/passwd", "a/b", "a\\b", "x\x00y", "", ".."]
)
def test_child_path_refuses_names_that_leave_the_folder(tmp_path: Path, name: str) -> None:
    suffix = "" if name == ".." else ".json"
    with pytest.raises(UnsafeNameError) as caught:
        child_path(tmp_path / "gold", name, suffix, what="report id")
    assert isinstance(caught.value, InputError)  # one-line error, exit 2, in every command
    assert "report id" in str(caught.value)


@pytest.mark.parametrize("name", ["r120", ".", "..", "...", "=1+1", "month 118", "عربي"])
def test_child_path_accepts_plain_names(tmp_path: Path, name: str) -> None:
    path = child_path(tmp_path, name, ".json")
    assert path.parent == tmp_path and path.name == f"{name}.json"


@given(st.text(max_size=30), st.sampled_from(["", ".json", ".txt"]))
def test_child_path_stays_inside_or_raises(name: str, suffix: str) -> None:
    folder = Path("/srv/gold")
    try:
        path = child_path(folder, name, suffix)
    except UnsafeNameError:
        return
    assert path.parent == folder
    assert path.name not in ("", ".", "..")
    assert Path(os.path.normpath(path)).parent == folder  # no ".." that resolves elsewhere


def _hostile_run(tmp_path: Path, report_id: str) -> tuple[Path, Path]:
    """A JSONL whose report id points outside the gold folder, at a valid gold file."""
    reports = tmp_path / "reports"
    reports.mkdir()
    result = make_result("r120", REPORT_A, EXTRACTION_A, reports)
    result.report_id = report_id
    jsonl = tmp_path / "hostile.jsonl"
    jsonl.write_text(result.model_dump_json() + "\n", encoding="utf-8")
    gold = tmp_path / "gold"
    gold.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = dict(EXTRACTION_A)
    secret["drills"] = [dict(EXTRACTION_A["drills"][0], scenario=OUTSIDE_MARK)]
    (outside / "secret.json").write_text(json.dumps(secret, ensure_ascii=False), "utf-8")
    return jsonl, gold


@pytest.mark.parametrize("form", ["relative", "absolute"])
def test_view_gold_refuses_an_id_that_leaves_the_gold_folder(tmp_path: Path, form: str) -> None:
    target = "../outside/secret" if form == "relative" else str(tmp_path / "outside" / "secret")
    jsonl, gold = _hostile_run(tmp_path, target)
    page = tmp_path / "page.html"
    done = CliRunner().invoke(app, ["view", str(jsonl), "--gold", str(gold), "-o", str(page)])
    assert done.exit_code == 2, done.output
    assert done.output.count("\n") == 1 and "Traceback" not in done.output
    assert "report id" in done.output and "path separator" in done.output
    assert not page.exists()
    with pytest.raises(UnsafeNameError):
        build_view(read_results(jsonl), gold_dir=gold)


def test_view_reports_folder_refuses_an_id_that_leaves_it(tmp_path: Path) -> None:
    jsonl, _ = _hostile_run(tmp_path, "../reports/r120")
    folder = tmp_path / "texts"
    folder.mkdir()
    done = CliRunner().invoke(app, ["view", str(jsonl), "--reports", str(folder)])
    assert done.exit_code == 2 and "report id" in done.output


def test_view_without_gold_still_shows_a_hostile_id_as_text(tmp_path: Path) -> None:
    """Without --gold or --reports the id names no file: the page shows it, escaped."""
    jsonl, _ = _hostile_run(tmp_path, "../outside/<b>secret</b>")
    page = tmp_path / "page.html"
    done = CliRunner().invoke(app, ["view", str(jsonl), "-o", str(page)])
    assert done.exit_code == 0, done.output
    html = page.read_text(encoding="utf-8")
    assert "../outside/&lt;b&gt;secret&lt;/b&gt;" in html and OUTSIDE_MARK not in html


def test_find_report_refuses_an_id_with_a_separator(tmp_path: Path) -> None:
    (tmp_path / "r1.txt").write_text("نص", encoding="utf-8")
    assert find_report("r1", [tmp_path]) == tmp_path / "r1.txt"
    with pytest.raises(UnsafeNameError):
        find_report("../r1", [tmp_path / "sub"])
