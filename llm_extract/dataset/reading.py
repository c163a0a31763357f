"""Reading the dataset: the month-by-month series of events (each counted once), the
ACLED-style events table with each event's mentions, sources and provenance, and the places
the gazetteer lacks.

Both read the ``events`` table (linked again first when the dataset changed). Every text cell
of an export is written through :mod:`llm_extract.reporting.sheets`, so no cell is a formula.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlite_utils

from llm_extract.dataset.events import ensure_linked
from llm_extract.errors import InputError, UsageError
from llm_extract.normalize import coalition_month_of
from llm_extract.reporting.export import FORMATS, STRATEGIC, STRIKE_EVENT_TYPES
from llm_extract.reporting.sheets import write_csv, write_parquet, write_xlsx
from llm_extract.schemas import CATEGORIES, StrikeKind

EXPORT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "event_date",
    "event_type",
    "sub_event_type",
    "category",
    "kind",
    "actor1",
    "actor2",
    "admin1",
    "admin1_derived",
    "location",
    "location_ar",
    "latitude",
    "longitude",
    "geo_derived",
    "fatalities",
    "mentions",
    "reports",
    "sources",
    "counts",
    "counts_disagree",
    "values_from",
    "provenance",
)


def _rows(
    db: sqlite_utils.Database, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


_MENTIONS = """
SELECT mentions.event_id, records.id AS record_id, records.category, records.report_id,
       records.governorate_derived, records.coordinates_derived, records.location, records.place_en,
       records.killed, records.run_id, records.correction_id,
       reports.name, reports.url, reports.title, reports.coalition_month,
       runs.prompt_name, runs.model
FROM mentions
JOIN records ON records.id = mentions.record_id
JOIN reports ON reports.id = records.report_id
LEFT JOIN runs ON runs.id = records.run_id
ORDER BY mentions.event_id, reports.name, records.id
"""


def _origin(m: dict[str, Any]) -> str:
    if m["correction_id"]:
        return f"{m['name']}: correction {m['correction_id']}"
    return f"{m['name']}: run {m['run_id']} (prompt {m['prompt_name']}, model {m['model']})"


def _mentions_by_event(db: sqlite_utils.Database) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _rows(db, _MENTIONS):
        grouped[row["event_id"]].append(row)
    return grouped


def _event_type(category: str, kind: str | None) -> tuple[str, str]:
    if category == "strikes" and kind:
        return STRIKE_EVENT_TYPES[StrikeKind(kind)]
    if category == "arrests":
        return STRATEGIC, "Arrests"
    return STRATEGIC, "Other"


def export_rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """One row per event (see :data:`EXPORT_COLUMNS`)."""
    ensure_linked(db)
    mentions = _mentions_by_event(db)
    rows: list[dict[str, Any]] = []
    for event in _rows(db, "SELECT * FROM events ORDER BY date, category, id"):
        members = mentions.get(event["id"], [])
        first = next((m for m in members if m["location"] == event["location"]), members[0])
        actors = json.loads(event["actors"] or "[]")
        killed = [m["killed"] for m in members if m["killed"] is not None]
        event_type = _event_type(event["category"], event["kind"])
        counts = json.loads(event["counts"] or "[]")
        names = {m["record_id"]: m["name"] for m in members}
        rows.append(
            {
                "event_id": event["id"],
                "event_date": event["date"],
                "event_type": event_type[0],
                "sub_event_type": event_type[1],
                "category": event["category"],
                "kind": event["kind"],
                "actor1": actors[0] if actors else None,
                "actor2": actors[1] if len(actors) > 1 else None,
                "admin1": event["governorate"],
                "admin1_derived": bool(first["governorate_derived"]),
                "location": first["place_en"] or event["location"],
                "location_ar": event["location"],
                "latitude": event["latitude"],
                "longitude": event["longitude"],
                "geo_derived": bool(first["coordinates_derived"]),
                "fatalities": max(killed) if killed else None,
                "mentions": event["mentions"],
                "reports": event["reports"],
                "sources": " | ".join(
                    dict.fromkeys(m["url"] or m["title"] or m["name"] for m in members)
                ),
                "counts": " | ".join(
                    f"{names.get(c['record_id'], '?')}: "
                    + ", ".join(
                        f"{k}={v}" for k, v in c.items() if k not in ("record_id", "report_id")
                    )
                    for c in counts
                    if len(c) > 2
                ),
                "counts_disagree": bool(event["counts_disagree"]),
                "values_from": _origin(first),
                "provenance": " | ".join(_origin(m) for m in members),
            }
        )
    return rows


def export_events(db: sqlite_utils.Database, fmt: str, out: str | Path) -> Path:
    """Write the events table as ``fmt`` (csv, parquet, xlsx) to ``out``; returns the path."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    path = Path(out)
    if not path.suffix:
        path = path.with_suffix(f".{fmt}")
    frame = pd.DataFrame.from_records(export_rows(db), columns=list(EXPORT_COLUMNS))
    for column in ("fatalities", "mentions", "reports"):
        frame[column] = frame[column].astype("Int64")
    for column in ("latitude", "longitude"):
        frame[column] = frame[column].astype("float64")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            write_csv(frame, path)
        elif fmt == "parquet":
            write_parquet(frame, path)
        else:
            write_xlsx({"events": frame}, path)
    except OSError as exc:
        raise InputError(path, f"cannot write ({exc.strerror or exc})") from exc
    return path


@dataclass
class SeriesRow:
    month: str
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    mentions: int = 0


def month_series(db: sqlite_utils.Database, by: str = "coalition") -> list[SeriesRow]:
    """Events per month and category, each event once. An event is in the month of its date
    (coalition month, or calendar month with ``by="calendar"``); an undated event (a total
    the report states) in its report's coalition month, when known."""
    if by not in ("coalition", "calendar"):
        raise UsageError(f"by must be coalition or calendar (got {by!r})")
    ensure_linked(db)
    sql = """
    SELECT events.id, events.category, events.date, events.mentions,
           (SELECT MIN(reports.coalition_month) FROM mentions JOIN reports
            ON reports.id = mentions.report_id WHERE mentions.event_id = events.id) AS month
    FROM events
    """
    series: dict[str, SeriesRow] = {}
    for row in _rows(db, sql):
        label = _label(row["date"], row["month"], by)
        if label is None:
            label = "undated"
        entry = series.setdefault(label, SeriesRow(label))
        entry.events[row["category"]] += 1
        entry.mentions += row["mentions"]
    return [series[k] for k in sorted(series)]


def _label(date: str | None, report_month: int | None, by: str) -> str | None:
    if date is not None:
        day = dt.date.fromisoformat(date)
        return day.strftime("%Y-%m") if by == "calendar" else f"month {coalition_month_of(day):03d}"
    if report_month is not None and by == "coalition":
        return f"month {report_month:03d}"
    return None


def unknown_places(db: sqlite_utils.Database) -> list[tuple[str, int]]:
    """Places named in the current records that the gazetteer does not know, with how many
    records name them, most named first."""
    return [
        (row["location"], row["n"])
        for row in _rows(
            db,
            "SELECT location, COUNT(*) AS n FROM current_records "
            "WHERE location IS NOT NULL AND place_id IS NULL "
            "GROUP BY location ORDER BY n DESC, location",
        )
    ]
