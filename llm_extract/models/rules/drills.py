"""Drills: dated items ("14 حزيران، أجرت ... تدريبات ...") or a total given without items."""

from __future__ import annotations

import datetime as dt
import re

from llm_extract.models.rules.context import (
    Ctx,
    Item,
    Record,
    absorb_header,
    is_list_header,
    split_items,
)
from llm_extract.models.rules.lexicon import actors_in
from llm_extract.models.rules.numbers import NA, NB, QUANTITY, quantity
from llm_extract.models.rules.places import find_governorate, find_location
from llm_extract.schemas import Actor

CUE_RE = re.compile(r"تدريب|مناور|تمرين|تمارين")
_TOTAL_RE = re.compile(
    rf"{NB}{QUANTITY}\s+(?:تدريبات|تدريبا|تدريب|مناورات|مناوره|تمرينات|تمارين|تمرينا){NA}"
)
_TOTAL_DUAL_RE = re.compile(rf"{NB}(?:تدريبين|مناورتين|تمرينين){NA}")
_OTHER_CUE_RE = re.compile(
    r"شاحن|اليات|طايرات شحن|اعتقل|داهم|انزال|القبض|هجوم|هجمات|استهدف|غاره|غارات|قصف|اسقط"
)
_ACTION_RE = re.compile(r"اجرت|اجري|نفذت|نفذ|اجراء|تنفيذ|ناجمه|ناتجه|تجري|اقامت")
_LIVE_RE = re.compile(r"الذخيره الحيه|بالذخيره الحيه|رمايات حيه|الرمايات الحيه|بالرصاص الحي")
_PARTICIPANTS = (Actor.INTERNATIONAL_COALITION, Actor.US_FORCES, Actor.SDF, Actor.ASAYISH)
_WEAPON_RE = re.compile(
    rf"{NB}(?:[وب]|بال|وبال|لل)?(?P<w>(?:ال)?(?:مضادات الطيران|مدافع الثقيله|المدافع الثقيله"
    r"|اسلحه الثقيله|الاسلحه الثقيله|الاسلحه المتوسطه|الطايرات الحربيه|قذيفتين حارقتين(?: \S+)?"
    r"|قذايف (?:حارقه|فوسفوريه|صاروخيه|هاون)(?: \S+)?|المدفعيه الثقيله|المدفعيه|راجمات الصواريخ"
    r"|الرشاشات الثقيله|الدبابات|المدرعات|المروحيات|طايرات مسيره|الطيران المروحي))"
    rf"{NA}"
)
_NOT_WEAPON_BEFORE_RE = re.compile(r"(?:تحليق|اسناد|قبل|سماء|اجواء)\s+\S*\s*$")
_SCENARIO_RE = re.compile(
    r"(?:تحاكي|يحاكي|لمحاكاه|محاكاه)\s+(?P<s>.+?)"
    r"(?=,|\s+(?:من قبل|لرفع|تعزيزا|بهدف|في|وذلك)\s|$)"
    r"|(?P<t>(?:ضرب|استهداف) اهداف(?: وهميه)?)"
)


def extract(ctx: Ctx, first_date: dt.date | None) -> tuple[list[Record], int | None]:
    """Drill records and the stated total of drills."""
    records: list[Record] = []
    stated: int | None = None
    header_actors: list[Actor] = []
    aggregate: Record | None = None
    last_line = -1
    list_line = -2  # line of the last header or item of an announced list of drills
    for sentence in ctx.sentences:
        text = sentence.span.text
        if CUE_RE.search(text) is None:
            # Items under "N تدريبات ... كالآتي:" need not repeat the word: a dated line
            # right after the header or another item, about nothing else, is a drill.
            listed = (
                sentence.line - list_line == 1
                and sentence.dates
                and sentence.span.start == ctx.doc.lines[sentence.line].start
                and _OTHER_CUE_RE.search(text) is None
            )
            if not listed:
                continue
        header, items = split_items(ctx, sentence)
        lead = header.text if header is not None else (text if not sentence.dates else "")
        total = _total(lead)
        if total is not None:
            stated = total
            header_actors = actors_in(lead, _PARTICIPANTS)
            if is_list_header(text) or sentence.colon:
                list_line = sentence.line
            elif not sentence.dates:
                aggregate = {
                    "count": total,
                    "participants": header_actors,
                    "evidence": ctx.evidence(sentence.span),
                }
                live = _LIVE_RE.search(text)
                if live:
                    aggregate["live_fire"] = True
            if not sentence.dates:
                continue
        elif header is not None and items:
            items = absorb_header(header, items, ctx, keep=False)
        for item in items:
            if item.date is None:
                if records and sentence.line == last_line:
                    _enrich(ctx, records[-1], item)
                    continue
                if _ACTION_RE.search(item.span.text) is None:
                    continue
            date = item.date
            if date is None and ctx.dates.period is None:
                date = first_date
            records.append(_record(ctx, item, date, header_actors))
            if sentence.line - list_line == 1:
                list_line = sentence.line
            last_line = sentence.line
    if not records and aggregate is not None:
        records.append(aggregate)
    return records, stated


def _total(text: str) -> int | None:
    match = _TOTAL_RE.search(text)
    if match is not None:
        q = quantity(match.group("pre"), match.group("num"))
        return q.value if q is not None else None
    if _TOTAL_DUAL_RE.search(text):
        return 2
    return None


def _record(ctx: Ctx, item: Item, date: dt.date | None, header_actors: list[Actor]) -> Record:
    text = item.span.text
    record: Record = {"date": date}
    where = find_location(text)
    location_norm = text[where[0] : where[1]] if where else None
    if where is not None:
        record["location"] = ctx.clean(item.span, *where)
    record["governorate"] = find_governorate(text, location_norm)
    participants = actors_in(text, _PARTICIPANTS)
    for actor in header_actors:
        if actor not in participants:
            participants.append(actor)
    record["participants"] = participants
    record["weapons"] = []
    record["evidence"] = ctx.evidence(item.span)
    _enrich(ctx, record, item)
    return record


def _enrich(ctx: Ctx, record: Record, item: Item) -> None:
    """Add live fire, weapons and scenario found in ``item`` to ``record``."""
    text = item.span.text
    if _LIVE_RE.search(text):
        record["live_fire"] = True
    weapons: list[str] = record.setdefault("weapons", [])
    for match in _WEAPON_RE.finditer(text):
        if _NOT_WEAPON_BEFORE_RE.search(text[: match.start()]):
            continue
        weapon = ctx.clean(item.span, match.start("w"), match.end("w"))
        if weapon and weapon not in weapons:
            weapons.append(weapon)
    if record.get("scenario") is None:
        scenario = _SCENARIO_RE.search(text)
        if scenario is not None:
            group = "s" if scenario.group("s") else "t"
            record["scenario"] = ctx.clean(item.span, scenario.start(group), scenario.end(group))
