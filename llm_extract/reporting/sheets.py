"""Writing tables so that no cell is ever a formula: CSV, XLSX and Parquet.

Every text cell of an export comes from data (report ids and file names, model answers,
notes, evidence, places, joined lists) and may be hostile: ``=HYPERLINK("http://evil/","x")``
or ``=1+1`` must reach the analyst as text, never as a live formula.

- **CSV** (no types, so a spreadsheet guesses): control characters (NUL, ESC...; not tab,
  newline or CR) are dropped; a text cell that starts with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return gets a leading single quote ``'``, the rule of
  OWASP's CSV injection guidance; fields are quoted by the CSV writer (CRLF line ends, RFC
  4180), so a separator, a quote or a line break inside a value cannot start a new cell. A
  text cell that is a plain decimal number (``-12``, ``+3.5``) is left as it is: it is a
  number, not a formula. Numeric columns are never touched (a negative longitude stays a
  number).
- **XLSX**: every text cell is written as a string cell (openpyxl ``data_type`` ``"s"``),
  never a formula, with its value unchanged; numbers, dates and booleans keep their types.
  Characters that XML 1.0 cannot hold (control characters) become U+FFFD. A cell longer
  than Excel's limit (32,767 characters) is cut there, and each cut cell is named to the
  ``warn`` callback (sheet, row, column).
- **Parquet**: typed string columns, values verbatim (no reader evaluates them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_ESCAPE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# What openpyxl refuses in a cell (XML 1.0 has no place for these control characters).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_REPLACEMENT = "\ufffd"
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: The most characters an Excel cell holds.
XLSX_MAX_CELL = 32_767


def csv_cell(text: str) -> str:
    """``text`` made inert for a CSV cell (see the module doc): ``'=1+1`` for ``=1+1``."""
    text = _CONTROLS.sub("", text)
    if text.startswith(CSV_TRIGGERS) and _PLAIN_NUMBER.fullmatch(text) is None:
        return CSV_ESCAPE + text
    return text


def xlsx_text(text: str) -> str:
    """``text`` as an XLSX string cell can hold it (control characters become U+FFFD)."""
    return _ILLEGAL_XML.sub(_REPLACEMENT, text)


def _is_text_column(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)
    )


def _map_text(frame: pd.DataFrame, convert: Any) -> pd.DataFrame:
    """A copy of ``frame`` with ``convert`` applied to every ``str`` cell of its text columns
    and to the column names."""
    out = frame.copy()
    for column in out.columns:
        if _is_text_column(out[column]):
            out[column] = out[column].map(lambda v: convert(v) if isinstance(v, str) else v)
    out.columns = [convert(str(c)) for c in out.columns]
    return out


def _cut_long_cells(
    frame: pd.DataFrame, sheet: str, path: Path, warn: Callable[[str], None] | None
) -> None:
    """Cut every text cell of ``frame`` to :data:`XLSX_MAX_CELL` characters, in place, naming
    each cut cell to ``warn``."""
    reports = frame["report_id"].tolist() if "report_id" in frame else None
    for number, column in enumerate(frame.columns):
        if not _is_text_column(frame[column]):
            continue
        for position, value in enumerate(frame[column].tolist()):
            if isinstance(value, str) and len(value) > XLSX_MAX_CELL:
                frame.iat[position, number] = value[:XLSX_MAX_CELL]
                if warn is not None:
                    report = f" (report {reports[position]})" if reports is not None else ""
                    warn(
                        f"{path}: sheet {sheet}, row {position + 2}, column {column}{report}: "
                        f"{len(value):,} characters cut to {XLSX_MAX_CELL:,}, the most an "
                        "Excel cell holds"
                    )


def write_csv(frame: pd.DataFrame, path: Path, *, bom: bool = True) -> None:
    """``frame`` as UTF-8 CSV with every text cell neutralised (:func:`csv_cell`).

    ``bom``: the file starts with a UTF-8 byte order mark, without which Excel on Windows
    reads the file in the machine's code page and garbles the Arabic.

    Lines end in CRLF (RFC 4180), which also makes the writer quote every field holding a
    CR or an LF: with LF endings a lone CR inside a value was written bare, and a reader
    took it for the end of the row, so the rest of the value became a new cell of its own.
    """
    encoding = "utf-8-sig" if bom else "utf-8"
    _map_text(frame, csv_cell).to_csv(path, index=False, encoding=encoding, lineterminator="\r\n")


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as Parquet: typed columns, text verbatim."""
    frame.to_parquet(path, index=False, engine="pyarrow")


def write_xlsx(
    frames: Mapping[str, pd.DataFrame],
    path: Path,
    warn: Callable[[str], None] | None = None,
    named: Path | None = None,
) -> None:
    """One workbook, one sheet per frame; no cell is a formula, none longer than Excel takes
    (see the module doc). ``named``: the file the warnings name (default ``path``)."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, frame in frames.items():
            text = _map_text(frame, xlsx_text)
            _cut_long_cells(text, sheet, named or path, warn)
            text.to_excel(writer, sheet_name=sheet, index=False)
        for worksheet in writer.book.worksheets:
            for row in worksheet.iter_rows():
                for cell in row:
                    # openpyxl reads any string that starts with "=" as a formula; every
                    # value written here is data, so such a cell is made a string again.
                    if cell.data_type == "f":
                        cell.data_type = "s"
