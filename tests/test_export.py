"""Export: every table in csv, parquet and xlsx, read back with pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from review_data import write_run
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.errors import InputError, UsageError
from llm_extract.jsonl import read_results
from llm_extract.reporting.export import (
    EVENT_COLUMNS,
    TABLE_COLUMNS,
    TABLES,
    build_table,
    export_tables,
)

# Rows of the synthetic run (review_data): failed reports are skipped.
EXPECTED_ROWS = {
    "convoys": 2,
    "drills": 2,
    "strikes": 2,
    "arrests": 2,
    # 3 batch dates + 1 airlift, 2 drills, 2 bases + 1 airstrike, 2 arrests
    "events": 11,
}


def _read(path: Path, fmt: str, table: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path)
    if fmt == "parquet":
        return pd.read_parquet(path, engine="pyarrow")
    return pd.read_excel(path, sheet_name=table, engine="openpyxl")


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_every_table_reads_back(tmp_path: Path, fmt: str) -> None:
    jsonl, _ = write_run(tmp_path)
    results = read_results(jsonl)
    paths = export_tables(results, fmt, tmp_path / "exp" / f"run.{fmt}")
    assert set(paths) == set(TABLES)
    for table, path in paths.items():
        frame = _read(path, fmt, table)
        assert list(frame.columns) == list(TABLE_COLUMNS[table]), table
        assert len(frame) == EXPECTED_ROWS[table], table


def test_events_layout_and_per_base_rows(tmp_path: Path) -> None:
    jsonl, _ = write_run(tmp_path)
    path = export_tables(read_results(jsonl), "parquet", tmp_path / "events.parquet", ["events"])
    events = pd.read_parquet(path["events"])
    assert list(events.columns)[:14] == list(EVENT_COLUMNS)[:14]
    bases = events[events["event_id"].str.startswith("r120-strikes-1-")]
    assert list(bases["location"]) == ["Conoco gas field", "al-Shaddadi"]
    assert list(bases["admin1"]) == ["Deir ez-Zor", "Hasakah"]
    assert set(bases["sub_event_type"]) == {"Shelling/artillery/missile attack"}
    assert bases["fatalities"].isna().all()  # not split by base by the report
    assert all("killed 2" in note for note in bases["notes"])
    airstrike = events[events["event_id"] == "r121-strikes-1"].iloc[0]
    assert airstrike["sub_event_type"] == "Air/drone strike"
    assert airstrike["fatalities"] == 6
    assert airstrike["latitude"] == pytest.approx(34.45)
    arrests = events[events["category"] == "arrests"]
    assert set(arrests["sub_event_type"]) == {"Arrests"}
    unknown = arrests[arrests["source_report_id"] == "r121"].iloc[0]
    assert unknown["location"] == "قرية كلش"  # not in the gazetteer: kept, no coordinates
    assert pd.isna(unknown["latitude"])
    convoy_dates = events[events["category"] == "convoys"]["event_date"].dropna()
    assert [str(d) for d in convoy_dates] == ["2024-08-25", "2024-08-28", "2024-09-02"]


def test_category_table_values(tmp_path: Path) -> None:
    jsonl, _ = write_run(tmp_path)
    results = read_results(jsonl)
    strikes = build_table(results, "strikes")
    first = strikes.iloc[0]
    assert first["targets"] == "حقل كونيكو: 3 | قاعدة الشدادي: 1"
    assert first["killed"] == 2
    assert first["count"] == 4
    drills = build_table(results, "drills")
    assert drills.iloc[0]["location_en"] == "al-Omar oil field"
    assert drills.iloc[0]["participants"] == "International Coalition | SDF"
    text = Path(results[0].source.path).read_text(encoding="utf-8")
    start, end = int(first["evidence_start"]), int(first["evidence_end"])
    assert text[start:end] == first["evidence"]


def test_bad_table_and_format(tmp_path: Path) -> None:
    jsonl, _ = write_run(tmp_path)
    results = read_results(jsonl)
    with pytest.raises(UsageError):
        build_table(results, "battles")
    with pytest.raises(UsageError):
        export_tables(results, "json", tmp_path / "x.json")


def test_broken_line_names_file_and_line(tmp_path: Path) -> None:
    jsonl, _ = write_run(tmp_path)
    lines = jsonl.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(1, '{"report_id": "x"}\n')
    jsonl.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=r"out\.jsonl: line 2"):
        read_results(jsonl)


def test_cli_export(tmp_path: Path) -> None:
    jsonl, _ = write_run(tmp_path)
    target = tmp_path / "events.csv"
    runner = CliRunner()
    done = runner.invoke(app, ["export", str(jsonl), "--format", "csv", "--table", "events",
                               "-o", str(target)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert len(pd.read_csv(target)) == EXPECTED_ROWS["events"]
    workbook = runner.invoke(app, ["export", str(jsonl), "--format", "xlsx"])
    assert workbook.exit_code == 0, workbook.output
    sheets = pd.read_excel(tmp_path / "out.xlsx", sheet_name=None, engine="openpyxl")
    assert list(sheets) == list(TABLES)
    bad = runner.invoke(app, ["export", str(tmp_path / "missing.jsonl")])
    assert bad.exit_code == 2
    assert "missing.jsonl" in bad.output


def test_csv_starts_with_a_bom_for_excel_unless_told_not_to(tmp_path: Path) -> None:
    jsonl, _ = write_run(tmp_path)
    with_bom = CliRunner().invoke(
        app, ["export", str(jsonl), "-t", "convoys", "-o", str(tmp_path / "a.csv")]
    )
    assert with_bom.exit_code == 0, with_bom.output
    data = (tmp_path / "a.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfreport_id,")
    assert not data.decode("utf-8-sig").isascii()  # the Arabic evidence, as UTF-8
    plain = CliRunner().invoke(
        app, ["export", str(jsonl), "-t", "convoys", "-o", str(tmp_path / "b.csv"), "--no-bom"]
    )
    assert plain.exit_code == 0, plain.output
    assert (tmp_path / "b.csv").read_bytes() == data[3:]
