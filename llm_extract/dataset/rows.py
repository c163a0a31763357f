"""One extracted record as one row of ``records``: the fields the linking and the reading
need as columns, every field as JSON, the evidence (as written and normalised for search), and
the facts the gazetteer adds where the text names only the place.

A governorate or coordinates taken from the gazetteer (not from the text) are marked
``governorate_derived`` / ``coordinates_derived``; a place the gazetteer does not know keeps
``place_id`` empty (``db places --unknown`` lists them).
"""

from __future__ import annotations

import hashlib
import weakref
from typing import Any

import orjson

from llm_extract.normalize import normalize
from llm_extract.reporting.gazetteer import Gazetteer, Place
from llm_extract.schemas import Arrest, Convoy, Drill, Grounded, Strike

Row = dict[str, Any]


def record_id(origin: str, report_id: str, category: str, index: int) -> str:
    """A record's id: where it came from (a run or a correction), its report, its place."""
    key = f"{origin}\n{report_id}\n{category}\n{index}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def _actors(record: Grounded) -> list[str]:
    if isinstance(record, Drill):
        return sorted(a.value for a in record.participants)
    if isinstance(record, Strike):
        return [record.attacker.value] if record.attacker else []
    if isinstance(record, Arrest):
        return sorted(a.value for a in record.actors)
    return []


def _place_name(record: Grounded) -> str | None:
    if isinstance(record, Convoy):
        return record.destinations[0] if record.destinations else record.origin
    if isinstance(record, Strike) and not record.location and record.targets:
        return record.targets[0].name
    location: str | None = getattr(record, "location", None)
    return location


def _killed(record: Grounded) -> int | None:
    if isinstance(record, Strike):
        numbers = [c.killed for c in record.casualties if c.killed is not None]
        return sum(numbers) if numbers else None
    if isinstance(record, Arrest):
        return record.killed
    return None


def _injured(record: Grounded) -> int | None:
    if isinstance(record, Strike):
        numbers = [c.injured for c in record.casualties if c.injured is not None]
        return sum(numbers) if numbers else None
    return None


_PLACES: weakref.WeakKeyDictionary[Gazetteer, dict[str, Place | None]] = weakref.WeakKeyDictionary()


def _lookup(gaz: Gazetteer, name: str | None) -> Place | None:
    """``gaz.lookup(name)``, remembered (a dataset names the same few hundred places)."""
    if not name:
        return None
    known = _PLACES.setdefault(gaz, {})
    if name not in known:
        if len(known) > 100_000:
            known.clear()
        known[name] = gaz.lookup(name)
    return known[name]


def record_row(record: Grounded, category: str, index: int, gaz: Gazetteer) -> Row:
    """The columns of one record (without its ids: see :func:`record_id`)."""
    if isinstance(record, Convoy):
        dates = sorted(record.dates)
        first = dates[0].isoformat() if dates else None
        last = dates[-1].isoformat() if dates else None
        kind: str | None = record.mode.value
    else:
        day = getattr(record, "date", None)
        first = last = day.isoformat() if day is not None else None
        kind = record.kind.value if isinstance(record, Strike) else None
    name = _place_name(record)
    place = _lookup(gaz, name)
    written = getattr(record, "governorate", None)
    governorate = written.value if written is not None else None
    derived_gov = False
    if governorate is None and place is not None and place.governorate is not None:
        governorate, derived_gov = place.governorate.value, True
    return {
        "category": category,
        "idx": index,
        "date": first,
        "date_last": last,
        "date_text": getattr(record, "date_text", None),
        "kind": kind,
        "location": name,
        "place_id": place.id if place else None,
        "place_en": place.name_en if place else None,
        "governorate": governorate,
        "governorate_derived": int(derived_gov),
        "latitude": place.lat if place else None,
        "longitude": place.lon if place else None,
        "coordinates_derived": int(place is not None),
        "actors": orjson.dumps(_actors(record)).decode(),
        "count": getattr(record, "count", None) if not isinstance(record, Convoy) else None,
        "killed": _killed(record),
        "injured": _injured(record),
        "detained": record.detained if isinstance(record, Arrest) else None,
        "vehicles": record.vehicles if isinstance(record, Convoy) else None,
        "fields": record.model_dump_json(),
        "evidence": record.evidence,
        "evidence_norm": normalize(record.evidence),
        "evidence_start": record.evidence_start,
        "evidence_end": record.evidence_end,
    }
