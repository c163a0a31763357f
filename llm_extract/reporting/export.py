"""Flat tables of extracted records, and an ACLED-style events table, as CSV/Parquet/XLSX.

Category tables (``convoys``, ``drills``, ``strikes``, ``arrests``) hold one row per record;
list fields are joined with " | ". Place names stay as written (``location``) and the
gazetteer adds ``location_en``, ``latitude`` and ``longitude`` when it knows the place (empty
otherwise: nothing is guessed).

The ``events`` table follows ACLED's layout, one row per event:

=====================  ==========================================  ============================
record                 event_type                                  sub_event_type
=====================  ==========================================  ============================
strike attack_on_base  Explosions/Remote violence                  Shelling/artillery/missile
                                                                   attack
strike shelling        Explosions/Remote violence                  Shelling/artillery/missile
                                                                   attack
strike airstrike       Explosions/Remote violence                  Air/drone strike
strike drone_shootdown Strategic developments                      Disrupted weapons use
strike other           Strategic developments                      Other
arrest                 Strategic developments                      Arrests
convoy                 Strategic developments                      Other
drill                  Strategic developments                      Other
=====================  ==========================================  ============================

A convoy with several listed dates gives one row per date (one per batch). A strike with a
per-base breakdown gives one row per base; the report does not split casualties by base,
so those rows leave ``fatalities`` empty and say the total in ``notes``. Otherwise
``fatalities`` is the sum of the numbers killed (0 when none is given). ``admin1`` is the
record's governorate, or the gazetteer's for a known place.

No text cell of any format is ever a formula: see :mod:`llm_extract.reporting.sheets`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from llm_extract.errors import InputError, UsageError
from llm_extract.outputs import SNIFFERS, Sniffer, atomic_write, refuse_foreign
from llm_extract.reporting.gazetteer import Gazetteer, Place, default_gazetteer
from llm_extract.reporting.sheets import write_csv, write_parquet, write_xlsx
from llm_extract.results import ExtractionResult, one_result_per_report
from llm_extract.schemas import (
    CATEGORIES,
    Actor,
    Arrest,
    Convoy,
    Drill,
    Governorate,
    Grounded,
    ReportExtraction,
    Strike,
    StrikeKind,
)

TABLES: tuple[str, ...] = (*CATEGORIES, "events")
FORMATS: tuple[str, ...] = ("csv", "parquet", "xlsx")
LIST_SEPARATOR = " | "

EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "event_date",
    "event_type",
    "sub_event_type",
    "actor1",
    "actor2",
    "admin1",
    "location",
    "latitude",
    "longitude",
    "fatalities",
    "notes",
    "source",
    "source_report_id",
    "category",
    "record",
    "location_ar",
    "date_text",
    "source_url",
    "source_title",
    "source_published",
)
_COMMON = ("report_id", "coalition_month", "period_start", "period_end", "record")
_PLACE = ("location", "location_en", "governorate", "latitude", "longitude")
_GROUNDING = ("evidence", "evidence_start", "evidence_end")
_SOURCE = ("source_url", "source_title", "source_published")
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "convoys": (
        *_COMMON,
        "mode",
        "vehicles",
        "approximate",
        "at_least",
        "batches",
        "date_text",
        "dates",
        "first_date",
        "origin",
        "destinations",
        "cargo",
        *_GROUNDING,
        *_SOURCE,
    ),
    "drills": (
        *_COMMON,
        "date",
        "date_text",
        *_PLACE,
        "participants",
        "live_fire",
        "weapons",
        "scenario",
        "count",
        *_GROUNDING,
        *_SOURCE,
    ),
    "strikes": (
        *_COMMON,
        "date",
        "date_text",
        "kind",
        "attacker",
        "targets",
        *_PLACE,
        "count",
        "killed",
        "injured",
        "casualties",
        *_GROUNDING,
        *_SOURCE,
    ),
    "arrests": (
        *_COMMON,
        "date",
        "date_text",
        *_PLACE,
        "actors",
        "coalition_role",
        "operations",
        "detained",
        "killed",
        "affiliation",
        "notes",
        *_GROUNDING,
        *_SOURCE,
    ),
    "events": EVENT_COLUMNS,
}
_INT_COLUMNS = frozenset(
    {
        "coalition_month",
        "record",
        "vehicles",
        "batches",
        "count",
        "killed",
        "injured",
        "operations",
        "detained",
        "evidence_start",
        "evidence_end",
        "fatalities",
    }
)
_FLOAT_COLUMNS = frozenset({"latitude", "longitude"})

STRATEGIC = "Strategic developments"
REMOTE = "Explosions/Remote violence"
STRIKE_EVENT_TYPES: dict[StrikeKind, tuple[str, str]] = {
    StrikeKind.ATTACK_ON_BASE: (REMOTE, "Shelling/artillery/missile attack"),
    StrikeKind.SHELLING: (REMOTE, "Shelling/artillery/missile attack"),
    StrikeKind.AIRSTRIKE: (REMOTE, "Air/drone strike"),
    StrikeKind.DRONE_SHOOTDOWN: (STRATEGIC, "Disrupted weapons use"),
    StrikeKind.OTHER: (STRATEGIC, "Other"),
}

Row = dict[str, Any]


def _join(items: Iterable[object]) -> str:
    return LIST_SEPARATOR.join(str(item) for item in items)


def _value(item: object) -> str | None:
    return None if item is None else str(item)


def _place_columns(name: str | None, governorate: Governorate | None, gaz: Gazetteer) -> Row:
    place = gaz.lookup(name)
    return {
        "location": name,
        "location_en": place.name_en if place else None,
        "governorate": _admin1(governorate, place),
        "latitude": place.lat if place else None,
        "longitude": place.lon if place else None,
    }


def _admin1(governorate: Governorate | None, place: Place | None) -> str | None:
    if governorate is not None:
        return governorate.value
    if place is not None and place.governorate is not None:
        return place.governorate.value
    return None


def source_columns(result: ExtractionResult) -> Row:
    """Where the report came from: the page's URL, title and publication date."""
    published = result.source.published
    return {
        "source_url": result.source.url,
        "source_title": result.source.title,
        "source_published": published.isoformat() if published is not None else None,
    }


def source_name(result: ExtractionResult) -> str:
    """ACLED's ``source``: the report's URL, else its title, else its file."""
    return result.source.url or result.source.title or result.source.path


def _common(result: ExtractionResult, extraction: ReportExtraction, index: int) -> Row:
    period = extraction.period
    return {
        "report_id": result.report_id,
        "coalition_month": extraction.coalition_month,
        "period_start": period.start if period else None,
        "period_end": period.end if period else None,
        "record": index,
    }


def _grounding(record: Grounded) -> Row:
    return {
        "evidence": record.evidence,
        "evidence_start": record.evidence_start,
        "evidence_end": record.evidence_end,
    }


def _killed(strike: Strike) -> int:
    return sum(c.killed or 0 for c in strike.casualties)


def _injured(strike: Strike) -> int | None:
    known = [c.injured for c in strike.casualties if c.injured is not None]
    return sum(known) if known else None


def _casualties_text(strike: Strike) -> str:
    parts = []
    for c in strike.casualties:
        bits = [f"killed {c.killed}" if c.killed is not None else "",
                f"injured {c.injured}" if c.injured is not None else "",
                c.note or ""]  # fmt: skip
        hedge = " (at least)" if c.at_least else " (about)" if c.approximate else ""
        parts.append(f"{c.party.value}: {', '.join(b for b in bits if b)}{hedge}")
    return _join(parts)


def _targets_text(strike: Strike) -> str:
    return _join(f"{t.name}: {t.count}" if t.count is not None else t.name for t in strike.targets)


def _convoy_row(convoy: Convoy, gaz: Gazetteer) -> Row:
    return {
        "mode": convoy.mode.value,
        "vehicles": convoy.vehicles,
        "approximate": convoy.approximate,
        "at_least": convoy.at_least,
        "batches": convoy.batches,
        "date_text": convoy.date_text,
        "dates": _join(d.isoformat() for d in convoy.dates),
        "first_date": convoy.dates[0] if convoy.dates else None,
        "origin": convoy.origin,
        "destinations": _join(convoy.destinations),
        "cargo": _join(convoy.cargo),
    }


def _drill_row(drill: Drill, gaz: Gazetteer) -> Row:
    return {
        "date": drill.date,
        "date_text": drill.date_text,
        **_place_columns(drill.location, drill.governorate, gaz),
        "participants": _join(a.value for a in drill.participants),
        "live_fire": drill.live_fire,
        "weapons": _join(drill.weapons),
        "scenario": drill.scenario,
        "count": drill.count,
    }


def _strike_row(strike: Strike, gaz: Gazetteer) -> Row:
    return {
        "date": strike.date,
        "date_text": strike.date_text,
        "kind": strike.kind.value,
        "attacker": _value(strike.attacker and strike.attacker.value),
        "targets": _targets_text(strike),
        **_place_columns(strike.location, strike.governorate, gaz),
        "count": strike.count,
        "killed": _killed(strike),
        "injured": _injured(strike),
        "casualties": _casualties_text(strike),
    }


def _arrest_row(arrest: Arrest, gaz: Gazetteer) -> Row:
    return {
        "date": arrest.date,
        "date_text": arrest.date_text,
        **_place_columns(arrest.location, arrest.governorate, gaz),
        "actors": _join(a.value for a in arrest.actors),
        "coalition_role": _value(arrest.coalition_role and arrest.coalition_role.value),
        "operations": arrest.operations,
        "detained": arrest.detained,
        "killed": arrest.killed,
        "affiliation": _value(arrest.affiliation and arrest.affiliation.value),
        "notes": arrest.notes,
    }


_ROW_BUILDERS: dict[str, Callable[[Any, Gazetteer], Row]] = {
    "convoys": _convoy_row,
    "drills": _drill_row,
    "strikes": _strike_row,
    "arrests": _arrest_row,
}


def _ok(results: Iterable[ExtractionResult]) -> list[tuple[ExtractionResult, ReportExtraction]]:
    """The successful results, one per report (a duplicate line counts once:
    :func:`llm_extract.results.one_result_per_report`)."""
    kept, _ = one_result_per_report(results)
    return [(r, r.extraction) for r in kept if r.status == "ok" and r.extraction is not None]


def category_rows(
    results: Iterable[ExtractionResult], category: str, gaz: Gazetteer | None = None
) -> list[Row]:
    """One row per record of ``category`` over the successful results."""
    gazetteer = gaz or default_gazetteer()
    build = _ROW_BUILDERS[category]
    rows: list[Row] = []
    for result, extraction in _ok(results):
        for index, record in enumerate(extraction.records(category)):
            rows.append(
                {
                    **_common(result, extraction, index),
                    **build(record, gazetteer),
                    **_grounding(record),
                    **source_columns(result),
                }
            )
    return rows


# --- events (ACLED layout) ------------------------------------------------------------------


def _event(
    result: ExtractionResult,
    category: str,
    index: int,
    *,
    event_type: tuple[str, str],
    date: dt.date | None,
    actor1: Actor | None,
    actor2: Actor | None,
    place_name: str | None,
    governorate: Governorate | None,
    fatalities: int | None,
    notes: str,
    gaz: Gazetteer,
    part: int | None = None,
) -> Row:
    place = gaz.lookup(place_name)
    suffix = f"-{part + 1}" if part is not None else ""
    records = result.extraction.records(category) if result.extraction else []
    date_text = getattr(records[index], "date_text", None) if index < len(records) else None
    period = result.extraction.period if result.extraction else None
    if date is None and period is not None:
        notes += f"; undated in the report (period {period.start} to {period.end})"
    return {
        "event_id": f"{result.report_id}-{category}-{index + 1}{suffix}",
        "event_date": date,
        "event_type": event_type[0],
        "sub_event_type": event_type[1],
        "actor1": actor1.value if actor1 else None,
        "actor2": actor2.value if actor2 else None,
        "admin1": _admin1(governorate, place),
        "location": place.name_en if place else place_name,
        "latitude": place.lat if place else None,
        "longitude": place.lon if place else None,
        "fatalities": fatalities,
        "notes": notes,
        "source": source_name(result),
        "source_report_id": result.report_id,
        "category": category,
        "record": index,
        "location_ar": place_name,
        "date_text": date_text,
        **source_columns(result),
    }


def _hedged(number: int | None, approximate: bool, at_least: bool) -> str:
    if number is None:
        return "an unstated number of"
    return f"{'at least ' if at_least else 'about ' if approximate else ''}{number}"


def _convoy_events(
    result: ExtractionResult, index: int, convoy: Convoy, gaz: Gazetteer
) -> list[Row]:
    unit = "trucks/vehicles" if convoy.mode.value == "ground" else "aircraft"
    number = _hedged(convoy.vehicles, convoy.approximate, convoy.at_least)
    what = f"{convoy.mode.value} reinforcements: {number} {unit}"
    if convoy.batches is not None:
        what += f" in {convoy.batches} batches"
    if convoy.destinations:
        what += f"; to {', '.join(convoy.destinations)}"
    if convoy.origin:
        what += f"; from {convoy.origin}"
    dates: list[dt.date | None] = list(convoy.dates) or [None]
    rows = []
    for part, date in enumerate(dates):
        note = what if len(dates) == 1 else f"{what} (batch date {part + 1} of {len(dates)})"
        rows.append(
            _event(
                result,
                "convoys",
                index,
                event_type=(STRATEGIC, "Other"),
                date=date,
                actor1=Actor.INTERNATIONAL_COALITION,
                actor2=None,
                place_name=None,
                governorate=None,
                fatalities=0,
                notes=note,
                gaz=gaz,
                part=part if len(dates) > 1 else None,
            )
        )
    return rows


def _drill_events(result: ExtractionResult, index: int, drill: Drill, gaz: Gazetteer) -> list[Row]:
    actors = list(drill.participants)
    note = "military drill" if drill.count == 1 else f"{drill.count} military drills"
    if drill.live_fire:
        note += " with live ammunition"
    if drill.scenario:
        note += f"; scenario: {drill.scenario}"
    return [
        _event(
            result,
            "drills",
            index,
            event_type=(STRATEGIC, "Other"),
            date=drill.date,
            actor1=actors[0] if actors else None,
            actor2=actors[1] if len(actors) > 1 else None,
            place_name=drill.location,
            governorate=drill.governorate,
            fatalities=0,
            notes=note,
            gaz=gaz,
        )
    ]


def _strike_events(
    result: ExtractionResult, index: int, strike: Strike, gaz: Gazetteer
) -> list[Row]:
    event_type = STRIKE_EVENT_TYPES[strike.kind]
    target_actor = (
        Actor.INTERNATIONAL_COALITION if strike.kind is StrikeKind.ATTACK_ON_BASE else None
    )
    killed = _killed(strike)
    note = strike.kind.value.replace("_", " ")
    if strike.count is not None:
        note += f", {strike.count} in total"
    casualties = _casualties_text(strike)
    common: dict[str, Any] = {
        "event_type": event_type,
        "date": strike.date,
        "actor1": strike.attacker,
        "actor2": target_actor,
        "governorate": strike.governorate,
        "gaz": gaz,
    }
    if len(strike.targets) <= 1:
        place = strike.targets[0].name if strike.targets else strike.location
        full = f"{note}; casualties: {casualties}" if casualties else note
        return [
            _event(
                result,
                "strikes",
                index,
                place_name=place or strike.location,
                fatalities=killed,
                notes=full,
                **common,
            )
        ]
    rows = []
    for part, target in enumerate(strike.targets):
        on_base = f"{target.count} on this base" if target.count is not None else "on this base"
        text = f"{note}; {on_base}"
        if casualties:
            text += f"; casualties for all bases together (not split by base): {casualties}"
        rows.append(
            _event(
                result,
                "strikes",
                index,
                place_name=target.name,
                fatalities=None,
                notes=text,
                part=part,
                **common,
            )
        )
    return rows


def _arrest_events(
    result: ExtractionResult, index: int, arrest: Arrest, gaz: Gazetteer
) -> list[Row]:
    bits = ["raid/arrest operation" if arrest.operations in (None, 1) else
            f"{arrest.operations} raid/arrest operations"]  # fmt: skip
    if arrest.coalition_role is not None:
        bits.append(f"coalition role: {arrest.coalition_role.value}")
    if arrest.detained is not None:
        bits.append(f"{arrest.detained} detained")
    if arrest.notes:
        bits.append(arrest.notes)
    return [
        _event(
            result,
            "arrests",
            index,
            event_type=(STRATEGIC, "Arrests"),
            date=arrest.date,
            actor1=arrest.actors[0] if arrest.actors else None,
            actor2=arrest.affiliation,
            place_name=arrest.location,
            governorate=arrest.governorate,
            fatalities=arrest.killed or 0,
            notes="; ".join(bits),
            gaz=gaz,
        )
    ]


_EVENT_BUILDERS: dict[str, Callable[[ExtractionResult, int, Any, Gazetteer], list[Row]]] = {
    "convoys": _convoy_events,
    "drills": _drill_events,
    "strikes": _strike_events,
    "arrests": _arrest_events,
}


def event_rows(results: Iterable[ExtractionResult], gaz: Gazetteer | None = None) -> list[Row]:
    """ACLED-style rows, one per event, over the successful results."""
    gazetteer = gaz or default_gazetteer()
    rows: list[Row] = []
    for result, extraction in _ok(results):
        for category in CATEGORIES:
            for index, record in enumerate(extraction.records(category)):
                rows.extend(_EVENT_BUILDERS[category](result, index, record, gazetteer))
    return rows


# --- frames and files -----------------------------------------------------------------------


def build_table(
    results: Sequence[ExtractionResult], table: str, gaz: Gazetteer | None = None
) -> pd.DataFrame:
    """The DataFrame of one table (a category, or ``events``), columns in a fixed order."""
    if table not in TABLES:
        raise UsageError(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    rows = event_rows(results, gaz) if table == "events" else category_rows(results, table, gaz)
    columns = list(TABLE_COLUMNS[table])
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column in columns:
        if column in _INT_COLUMNS:
            frame[column] = frame[column].astype("Int64")
        elif column in _FLOAT_COLUMNS:
            frame[column] = frame[column].astype("float64")
    return frame


def output_paths(
    base: Path, fmt: str, tables: Sequence[str], *, stem: str = "export"
) -> dict[str, Path]:
    """Where each table goes.

    ``base`` an existing folder: the files go into it, named after ``stem``
    (``<stem>.xlsx``, or ``<stem>_<table>.<fmt>`` for csv and parquet, even for one table).
    Otherwise one file for one table (or the xlsx workbook): ``base`` itself, given the
    format's suffix when it has none; several csv/parquet tables:
    ``<base stem>_<table>.<fmt>`` beside ``base``, or in ``base`` when it has no suffix.
    """
    if base.is_dir():
        if fmt == "xlsx":
            return dict.fromkeys(tables, base / f"{stem}.{fmt}")
        return {table: base / f"{stem}_{table}.{fmt}" for table in tables}
    if fmt == "xlsx" or len(tables) == 1:
        path = base if base.suffix else base.with_suffix(f".{fmt}")
        return dict.fromkeys(tables, path)
    folder = base.parent if base.suffix else base
    prefix = base.stem if base.suffix else stem
    return {table: folder / f"{prefix}_{table}.{fmt}" for table in tables}


def _csv_table(head: bytes) -> bool:
    """A CSV file this module wrote: its first line is the header of one of the tables."""
    first = head.removeprefix(b"\xef\xbb\xbf").split(b"\r\n", 1)[0].split(b"\n", 1)[0]
    headers = {",".join(columns).encode("utf-8") for columns in TABLE_COLUMNS.values()}
    return first in headers


def _sniffer(fmt: str) -> Sniffer:
    return _csv_table if fmt == "csv" else SNIFFERS[fmt]


def export_tables(
    results: Sequence[ExtractionResult],
    fmt: str,
    out: str | Path,
    tables: Sequence[str] = TABLES,
    gaz: Gazetteer | None = None,
    *,
    stem: str = "export",
    warn: Callable[[str], None] | None = None,
    force: bool = False,
    bom: bool = True,
) -> dict[str, Path]:
    """Write ``tables`` in ``fmt`` under ``out``; returns the path of each table. ``warn``
    hears of every xlsx cell cut to Excel's limit. Each file is written whole or not at all
    (:mod:`llm_extract.outputs`), and an existing file that is not a table of this format
    is not replaced unless ``force``.

    ``bom``: CSV files start with a UTF-8 byte order mark (for Excel; see
    :func:`~llm_extract.reporting.sheets.write_csv`).

    xlsx: one workbook, one sheet per table. csv/parquet: one file per table
    (``<stem>_<table>.<ext>``) unless a single table is asked for. ``out`` an existing folder:
    the files are written into it (see :func:`output_paths`). No text cell is ever written as
    a formula (see :mod:`llm_extract.reporting.sheets`).
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    for table in tables:
        if table not in TABLES:
            raise UsageError(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    paths = output_paths(Path(out), fmt, tables, stem=stem)
    for path in set(paths.values()):
        refuse_foreign(path, f"a {fmt} table", _sniffer(fmt), force=force)
    frames = {table: build_table(results, table, gaz) for table in tables}
    for path in set(paths.values()):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(path, f"cannot create folder ({exc.strerror or exc})") from exc
    try:
        if fmt == "xlsx":
            target = next(iter(paths.values()))
            atomic_write(target, lambda temporary: write_xlsx(frames, temporary, warn, target))
        else:
            write = functools.partial(write_csv, bom=bom) if fmt == "csv" else write_parquet
            for table, frame in frames.items():
                atomic_write(paths[table], functools.partial(write, frame))
    except OSError as exc:
        raise InputError(exc.filename or out, f"cannot write ({exc.strerror or exc})") from exc
    return paths
