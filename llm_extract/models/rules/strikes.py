"""Strikes: attacks on coalition bases (with a per-base breakdown), coalition airstrikes,
drones shot down, shelling."""

from __future__ import annotations

import datetime as dt
import re

from llm_extract.models.rules import drills
from llm_extract.models.rules.casualties import casualties
from llm_extract.models.rules.context import (
    Ctx,
    Item,
    Record,
    Sentence,
    absorb_header,
    split_items,
)
from llm_extract.models.rules.lexicon import FACILITY, actors_in
from llm_extract.models.rules.numbers import NA, NB, QUANTITY, quantity
from llm_extract.models.rules.places import _facility, find_governorate, find_location
from llm_extract.schemas import Actor

_SHOOTDOWN_RE = re.compile(r"(?:اسقط|اسقاط|اسقطت|اسقطوا)\s+(?:\S+\s+){0,5}?(?:طايره|مسيره|درون)")
_AIR_RE = re.compile(
    r"غاره|غارات|ضربه جويه|ضربات جويه|قصف جوي|القصف الجوي|قصفا جويا|ضربات صاروخيه جويه"
    r"|الطيران الحربي (?:\S+ ){0,3}?(?:قصف|استهدف)"
)
_ATTACK_RE = re.compile(
    r"هجوم|هجمات|هجوما|استهداف|استهدف|قصف|قذايف|قذيفه|صواريخ|صاروخ|مسيرات|مسيره|اعتداء"
)
_BASE_RE = re.compile(rf"{NB}[بلو]?(?:{FACILITY}|قواعد){NA}")
_SHELL_RE = re.compile(r"قصف مدفعي|قصفا مدفعيا|بالمدفعيه|قصف صاروخي|قذايف مدفعيه|قذايف صاروخيه")
_COUNT_RE = re.compile(
    rf"{NB}{QUANTITY}\s+(?:هجوما|هجمات|هجوم|استهدافا|استهدافات|جولات|جوله|غارات|غاره"
    rf"|ضربات|ضربه|عمليات قصف){NA}"
)
_DUAL_RE = re.compile(rf"{NB}(?:هجومين|غارتين|ضربتين|جولتين|استهدافين){NA}")
_SINGULAR_RE = re.compile(rf"{NB}[بلو]?(?:هجوم|هجوما|غاره|ضربه|استهداف|طايره|مسيره)(?:\s|$)")
_BREAKDOWN_RE = re.compile(
    rf"{NB}{QUANTITY}\s+(?:هجمات\s+|هجوما\s+|استهدافات\s+|استهدافا\s+)?(?:علي|ضد|استهدفت)\s+"
)
_COALITION = (Actor.US_FORCES, Actor.INTERNATIONAL_COALITION)
_HOSTILE = (
    Actor.ISLAMIC_RESISTANCE_IN_IRAQ,
    Actor.IRAN_BACKED_MILITIAS,
    Actor.ISIS,
    Actor.SYRIAN_GOVERNMENT,
)


def extract(ctx: Ctx, first_date: dt.date | None) -> tuple[list[Record], dict[str, int]]:
    """Strike records and the stated totals of attacks and airstrikes."""
    records: list[Record] = []
    totals: dict[str, int] = {}
    last_line = -2
    for sentence in ctx.sentences:
        text = sentence.span.text
        if drills.CUE_RE.search(text):
            continue
        if (
            records
            and records[-1]["kind"] == "attack_on_base"
            and _breakdown(ctx, sentence.span.text, records[-1], sentence)
        ):
            continue
        header, items = split_items(ctx, sentence)
        items = absorb_header(header, items, ctx, keep=False)
        for item in items:
            record = _classify(ctx, item)
            if record is None:
                if records and sentence.line - last_line <= 1:
                    _add_casualties(records[-1], item.span.text)
                continue
            date = item.date
            if date is None and ctx.dates.period is None:
                date = first_date
            record["date"] = date
            if record.pop("_stated", False):
                key = "attacks" if record["kind"] == "attack_on_base" else "airstrikes"
                if record["kind"] in ("attack_on_base", "airstrike"):
                    totals.setdefault(key, record["count"])
            records.append(record)
            last_line = sentence.line
    return records, totals


def _classify(ctx: Ctx, item: Item) -> Record | None:
    text = item.span.text
    kind: str
    attacker: Actor | None
    if _SHOOTDOWN_RE.search(text):
        kind = "drone_shootdown"
        verb = _SHOOTDOWN_RE.search(text)
        assert verb is not None
        found = actors_in(text[verb.start() : verb.start() + 60]) or actors_in(text)
        attacker = found[0] if found else None
    elif _AIR_RE.search(text):
        found = actors_in(text, _COALITION)
        if not found:
            return None
        kind, attacker = "airstrike", found[0]
    elif _ATTACK_RE.search(text) and _BASE_RE.search(text):
        hostile = actors_in(text, _HOSTILE)
        if actors_in(text[:40], _COALITION) and not hostile:
            return None  # the coalition acting near its own base: not an attack on it
        kind, attacker = "attack_on_base", (hostile[0] if hostile else None)
    elif _SHELL_RE.search(text):
        found = actors_in(text)
        kind, attacker = "shelling", (found[0] if found else None)
    else:
        return None
    record: Record = {"kind": kind, "attacker": attacker, "targets": []}
    count = _COUNT_RE.search(text)
    if count is not None:
        q = quantity(count.group("pre"), count.group("num"))
        record["count"] = q.value if q is not None else None
        record["_stated"] = q is not None and q.value > 1
    elif _DUAL_RE.search(text):
        record["count"] = 2
    elif _SINGULAR_RE.search(text):
        record["count"] = 1
    if kind == "attack_on_base":
        target = _facility(text)
        if target is not None and record.get("count") in (None, 1):
            name = ctx.clean(item.span, *target)
            if name:
                record["targets"].append({"name": name, "count": None})
    else:
        where = find_location(text, governorate_fallback=True)
        if where is not None:
            record["location"] = ctx.clean(item.span, *where)
    location_norm = None
    if record.get("location"):
        where = find_location(text, governorate_fallback=True)
        location_norm = text[where[0] : where[1]] if where else None
    record["governorate"] = find_governorate(text, location_norm)
    record["casualties"] = casualties(text, lambda s, e: ctx.clean(item.span, s, e))
    record["evidence"] = ctx.evidence(item.span)
    return record


def _breakdown(ctx: Ctx, text: str, record: Record, sentence: Sentence) -> bool:
    """Per-base counts ("12 علي قاعده حقل العمر - 1 علي قاعده الشدادي") for ``record``."""
    matches = list(_BREAKDOWN_RE.finditer(text))
    if not matches:
        return False
    targets = []
    for match in matches:
        place = _facility(text, match.end(), match.end() + 60)
        q = quantity(None, match.group("num"))
        if place is None or q is None:
            continue
        targets.append({"name": ctx.clean(sentence.span, *place), "count": q.value})
    if not targets:
        return False
    record["targets"] = targets
    return True


def _add_casualties(record: Record, text: str) -> None:
    if not record.get("casualties"):
        record["casualties"] = casualties(text)
