"""The ``events`` and ``mentions`` tables, rebuilt from the current view by the linking.

Each event takes the most frequent date of its mentions (the earliest on a tie), the first
known place and governorate, the union of the actors, and lists every mention's counts in
``counts`` (JSON): counts that disagree are kept side by side (``counts_disagree``), never
averaged. The tables are rebuilt whenever the dataset changed since the last linking.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import sqlite_utils

from llm_extract.dataset.linking import THRESHOLD, TOLERANCE_DAYS, Mention, event_id, link
from llm_extract.dataset.schema import insert_rows, transaction
from llm_extract.dataset.store import state
from llm_extract.normalize import coalition_month_of

COUNT_FIELDS: tuple[str, ...] = ("count", "killed", "injured", "detained", "vehicles")
_COLUMNS = (
    "id, report_id, category, date, kind, place_id, location, governorate, actors, "
    "latitude, longitude, " + ", ".join(COUNT_FIELDS)
)


def _mention(row: dict[str, Any]) -> Mention:
    return Mention(
        record_id=row["id"],
        report_id=row["report_id"],
        category=row["category"],
        date=dt.date.fromisoformat(row["date"]) if row["date"] else None,
        place_id=row["place_id"],
        location=row["location"],
        governorate=row["governorate"],
        kind=row["kind"],
        actors=frozenset(json.loads(row["actors"] or "[]")),
        counts=tuple(row[name] for name in COUNT_FIELDS),
    )


def current_mentions(db: sqlite_utils.Database) -> tuple[list[Mention], list[dict[str, Any]]]:
    """The mentions of the current view, and their rows."""
    cursor = db.execute(f"SELECT {_COLUMNS} FROM current_records ORDER BY report_id, id")
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return [_mention(row) for row in rows], rows


def _event_row(members: list[dict[str, Any]], eid: str) -> dict[str, Any]:
    dates = Counter(m["date"] for m in members if m["date"])
    date = min(dates, key=lambda d: (-dates[d], d)) if dates else None
    first = next((m for m in members if m["place_id"]), None) or next(
        (m for m in members if m["location"]), members[0]
    )
    governorate = next((m["governorate"] for m in members if m["governorate"]), None)
    actors = sorted({a for m in members for a in json.loads(m["actors"] or "[]")})
    counts = [
        {"record_id": m["id"], "report_id": m["report_id"]}
        | {name: m[name] for name in COUNT_FIELDS if m[name] is not None}
        for m in members
    ]
    disagree = any(
        len({m[name] for m in members if m[name] is not None}) > 1 for name in COUNT_FIELDS
    )
    day = dt.date.fromisoformat(date) if date else None
    return {
        "id": eid,
        "category": members[0]["category"],
        "date": date,
        "month": date[:7] if date else None,
        "coalition_month": coalition_month_of(day) if day else None,
        "kind": next((m["kind"] for m in members if m["kind"]), None),
        "location": first["location"],
        "place_id": first["place_id"],
        "governorate": governorate,
        "latitude": first["latitude"],
        "longitude": first["longitude"],
        "actors": json.dumps(actors),
        "mentions": len(members),
        "reports": len({m["report_id"] for m in members}),
        "counts": json.dumps(counts, ensure_ascii=False),
        "counts_disagree": int(disagree),
    }


def link_store(
    db: sqlite_utils.Database,
    *,
    tolerance: int = TOLERANCE_DAYS,
    threshold: float = THRESHOLD,
) -> int:
    """Rebuild ``events`` and ``mentions`` from the current view; returns the events."""
    mentions, rows = current_mentions(db)
    linked = link(mentions, tolerance=tolerance, threshold=threshold)
    best: dict[int, float] = {}
    for (i, j), points in linked.scores.items():
        best[i] = max(best.get(i, points), points)
        best[j] = max(best.get(j, points), points)
    events: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for group in linked.groups:
        members = [rows[i] for i in group]
        eid = event_id(m["id"] for m in members)
        events.append(_event_row(members, eid))
        links.extend(
            {
                "record_id": rows[i]["id"],
                "event_id": eid,
                "report_id": rows[i]["report_id"],
                "score": best.get(i),
            }
            for i in group
        )
    with transaction(db):
        db.execute("DELETE FROM mentions")
        db.execute("DELETE FROM events")
        insert_rows(db, "events", events)
        insert_rows(db, "mentions", links)
        db.execute(
            "INSERT INTO state (key, value) VALUES ('linked', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [state(db, "changes") or "0"],
        )
    return len(events)


def ensure_linked(db: sqlite_utils.Database) -> None:
    """Link again when the dataset changed since the last linking."""
    if state(db, "linked") != (state(db, "changes") or "0"):
        link_store(db)
