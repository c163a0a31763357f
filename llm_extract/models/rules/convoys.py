"""Convoys: trucks and vehicles brought in by land, cargo planes and helicopters by air.

One ``ground`` record per sentence that counts trucks/vehicles, one ``air`` record per
sentence that counts cargo aircraft landing (drones, warplanes and flyovers are not airlifts).
"""

from __future__ import annotations

import datetime as dt
import re

from llm_extract.models.rules.context import Ctx, Record, Sentence
from llm_extract.models.rules.dates import day_list
from llm_extract.models.rules.lexicon import GOVERNORATE_RE, PLACE_RE
from llm_extract.models.rules.numbers import NA, NB, QUANTITY, quantity

_GROUND_NOUN = r"(?:شاحنه|شاحنات|اليه|اليات|عربه|عربات|مدرعه|مدرعات|صهريج|صهاريج|ناقله|ناقلات)"
GROUND_RE = re.compile(rf"{NB}{QUANTITY}\s+{_GROUND_NOUN}{NA}")
GROUND_DUAL_RE = re.compile(rf"{NB}(?:شاحنتين|شاحنتان|اليتين|عربتين|مدرعتين|صهريجين)")
_AIR_NOUN = r"(?:طايرات|طايره|مروحيات|مروحيه|حوامات|طوافات)"
AIR_RE = re.compile(rf"{NB}{QUANTITY}\s+{_AIR_NOUN}{NA}")
AIR_DUAL_RE = re.compile(rf"{NB}(?:طايرتي|طايرتين|طايرتان|مروحيتين|مروحيتي)(?:\s+شحن)?{NA}")
_AIR_CUE_RE = re.compile(r"شحن|هبوط|هبطت|حطت|هبط|عبر الجو|جوا|جسر جوي|تعزيزات")
_AIR_EXCLUDE_RE = re.compile(r"مسير|استطلاع|حربي|اسقط|اسقاط")
_BATCH_RE = re.compile(
    rf"{NB}(?:علي|ضمن|في|ب)?\s*{QUANTITY}\s+(?:دفعات|دفعه|قوافل|قافله|ارتال|رتلا|رتل){NA}"
)
_BATCH_DUAL_RE = re.compile(rf"{NB}[بعلي ]*(?:دفعتين|قافلتين|رتلين){NA}")
_ORIGIN_RE = re.compile(
    r"(?:دخلت|دخل|دخول|قادمه|قادمين|قادما|اتيه|وصلت|وصول)\s+(?:\S+\s+){0,4}?من\s+"
    r"(?P<o>.+?)(?=\s+(?:علي|عبر|الي|نحو|باتجاه|بتاريخ|بتواريخ|في|وتوجهت|توجهت|تحمل)\s|,|$)"
)
_CROSSING_RE = re.compile(r"عبر\s+(?P<o>معبر\s+\S+(?:\s+\S+)?)(?=\s|,|$)")
_CARGO_RE = re.compile(
    r"(?:تحمل علي متنها|تحمل|محمله ب|تقل|تنقل|محمله)\s+(?P<c>.+?)"
    r"(?=,|\s+(?:دخلت|الي|وتوجهت|توجهت|تابعه|عبر|باتجاه|ضمن|بتاريخ)\s|$)"
)
_CARGO_SPLIT_RE = re.compile(r"\s*,\s*|\s+بالاضافه\s+ل|\s+اضافه\s+ال|\s+و(?=\S)")
_DEST_CUE_RE = re.compile(rf"{NB}(?:الي|نحو|باتجاه|ضمن|توجهت|وتوجهت|متجهه|في){NA}")


def extract(ctx: Ctx, first_date: dt.date | None) -> list[Record]:
    records: list[Record] = []
    for sentence in ctx.sentences:
        text = sentence.span.text
        ground = GROUND_RE.search(text)
        if ground is not None and not _is_drill_or_strike(text):
            records.append(_ground(ctx, sentence, ground, first_date))
        elif GROUND_DUAL_RE.search(text) and re.search(r"دخل|وصل|قافله|رتل", text):
            dual = GROUND_DUAL_RE.search(text)
            assert dual is not None
            records.append(_ground(ctx, sentence, dual, first_date, value=2))
        air = AIR_RE.search(text) or AIR_DUAL_RE.search(text)
        if air is not None and _AIR_CUE_RE.search(text) and not _AIR_EXCLUDE_RE.search(text):
            records.append(_air(ctx, sentence, air))
    return records


def _is_drill_or_strike(text: str) -> bool:
    return re.search(r"تدريب|مناور|استهدف|هجوم|قصف", text) is not None


def _ground(
    ctx: Ctx,
    sentence: Sentence,
    match: re.Match[str],
    first_date: dt.date | None,
    value: int | None = None,
) -> Record:
    text = sentence.span.text
    record: Record = {"mode": "ground"}
    if value is None:
        q = quantity(match.group("pre"), match.group("num"), text[match.end() :])
        if q is not None:
            record.update(vehicles=q.value, approximate=q.approximate, at_least=q.at_least)
    else:
        record["vehicles"] = value
    batch = _BATCH_RE.search(text)
    if batch is not None:
        bq = quantity(None, batch.group("num"))
        if bq is not None:
            record["batches"] = bq.value
    elif _BATCH_DUAL_RE.search(text):
        record["batches"] = 2
    dates = day_list(text, ctx.dates)
    if not dates and first_date is not None and ctx.dates.period is None:
        dates = [first_date]  # a short item's dateline date
    record["dates"] = dates
    origin_end = 0
    origin = _ORIGIN_RE.search(text) or _CROSSING_RE.search(text)
    if origin is not None:
        record["origin"] = ctx.clean(sentence.span, origin.start("o"), origin.end("o"))
        origin_end = origin.end("o")
    record["destinations"] = _destinations(ctx, sentence, origin_end)
    record["cargo"] = _cargo(ctx, sentence)
    record["evidence"] = ctx.evidence(sentence.span)
    return record


def _air(ctx: Ctx, sentence: Sentence, match: re.Match[str]) -> Record:
    text = sentence.span.text
    record: Record = {"mode": "air"}
    if "num" in match.groupdict():
        q = quantity(match.group("pre"), match.group("num"), text[match.end() :])
        if q is not None:
            record.update(vehicles=q.value, approximate=q.approximate, at_least=q.at_least)
    else:
        record["vehicles"] = 2
    dates = [found.date for found in sentence.dates]
    record["dates"] = dates
    record["destinations"] = _destinations(ctx, sentence, match.end())
    record["cargo"] = _cargo(ctx, sentence)
    record["evidence"] = ctx.evidence(sentence.span)
    return record


def _destinations(ctx: Ctx, sentence: Sentence, after: int) -> list[str]:
    text = sentence.span.text
    cue = _DEST_CUE_RE.search(text, after)
    if cue is None:
        return []
    names: list[tuple[int, int]] = []
    for pattern in (PLACE_RE, GOVERNORATE_RE):
        for match in pattern.finditer(text, cue.start()):
            if not any(s <= match.start() < e for s, e in names):
                names.append((match.start(1), match.end(1)))
    out: list[str] = []
    for start, end in sorted(names):
        name = ctx.clean(sentence.span, start, end)
        if name and name not in out:
            out.append(name)
    return out


def _cargo(ctx: Ctx, sentence: Sentence) -> list[str]:
    text = sentence.span.text
    match = _CARGO_RE.search(text)
    if match is None:
        return []
    start = match.start("c")
    pieces: list[tuple[int, int]] = []
    cursor = start
    for sep in _CARGO_SPLIT_RE.finditer(text, start, match.end("c")):
        nxt = text[sep.end() : sep.end() + 14].split(" ")[0].rstrip(",.;:")
        if sep.group().strip() == "و" and nxt.endswith("يه"):
            continue  # "معدات عسكريه ولوجستيه": an adjective, not a new item
        pieces.append((cursor, sep.start()))
        cursor = sep.end()
    pieces.append((cursor, match.end("c")))
    out: list[str] = []
    for s, e in pieces:
        item = ctx.clean(sentence.span, s, e)
        if item:
            out.append(item)
    return out
