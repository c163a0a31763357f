"""Where a passage happens: the most specific place named, and its governorate."""

from __future__ import annotations

import re
from functools import lru_cache

from llm_extract.backends.rules.lexicon import (
    FACILITY,
    GOVERNORATE_RE,
    PLACE_RE,
    SETTLEMENT,
    governorate_of,
)
from llm_extract.backends.rules.numbers import NA, NB
from llm_extract.schemas import Governorate

#: Words that end a place name ("قريه كلش التابعه لناحيه الصور").
_STOP = (
    r"(?:التابعه|التابع|الواقع|الواقعه|بريف|ريف|في|شمال|جنوب|شرق|غرب|شمالي|جنوبي|شرقي|غربي"
    r"|قرب|عند|ضمن|من|الي|علي|مع|و|او|حيث|بعد|خلال|بالقرب|داخل|الامريكيه|الاميركيه"
    r"|العسكريه|للغاز|النفطي|المنطقه|بالتزامن|بمشاركه|التحالف|للتحالف|الدولي|بقذايف|بصواريخ"
    # vague quantities are no names: "قري عده", "بلدات عديده"
    r"|عده|عديده|متفرقه|مجاوره|اخري)"
)
# Words that take a second word to make a name: "تل بيدر", "عين عيسي".
_COMPOUND = r"(?:تل|عين|دير|ابو|ام|خربه|راس|بير|جبل|سد|حي|حقل|معمل|غاز|ال\s*\d+)"
_WORD = rf"(?!{_STOP}{NA})[^\s,.;:()]+"
_FACILITY_RE = re.compile(
    rf"{NB}[بلو]?(?P<head>{FACILITY})\s+(?:{FACILITY}\s+)?(?:{_COMPOUND}\s+)?{_WORD}"
    rf"|{NB}[بلو]?(?P<head2>منطقه)\s+ال\s*\d+\s+\S+"
)
_SETTLEMENT_RE = re.compile(
    rf"{NB}[بلو]?(?P<head>{SETTLEMENT})\s+(?P<name>(?:{_COMPOUND}\s+)?{_WORD})"
)
#: A zone or sector named by a number or a side: "المنطقه 55", "القطاع الشرقي".
_ZONE_RE = re.compile(
    rf"{NB}(?:و?[بل]|و)?(?P<z>(?:ال)?(?:منطقه|قطاع)\s+(?:ال)?(?:\d+|(?:شرقي|غربي|شمالي|جنوبي|اوسط))){NA}"
)
_GENERIC_NAME_RE = re.compile(r"(?:قواعد|القاعده|قاعده|المنطقه|منطقه|العسكريه)$")


def find_facility(text: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    for match in _FACILITY_RE.finditer(text, start, len(text) if end is None else end):
        name = match.group()
        if _GENERIC_NAME_RE.search(name):
            continue
        head = match.group("head") or match.group("head2")
        begin = match.start("head") if match.group("head") else match.start("head2")
        # "قاعده حقل كونيكو" is named by its field: drop the leading "قاعده".
        inner = re.match(r"(?:ال)?قاعده\s+(?=حقل|معمل|مطار)", text[begin : match.end()])
        if head and inner:
            begin += inner.end()
        end = match.end()
        # A known place of several words ("قاعده خراب الجير") is named in full.
        known = PLACE_RE.search(text, begin, end + 30)
        if known is not None and known.start(1) < end < known.end(1):
            end = known.end(1)
        return begin, end
    return None


#: Settlement words in the plural or dual: the passage names several places.
_SEVERAL_RE = re.compile(r"(?:بلدات|قري|بلدتي|قريتي|مدينتي|بلدتين|قريتين)$")


def _settlement_span(settlement: re.Match[str]) -> tuple[int, int] | None:
    """The name of a village or town ("مخيم الهول", "بادية السخنة" keep their head word);
    ``None`` for several ("قري الصبحه وجديد بكاره": two places of one rank, no one place)."""
    head = settlement.group("head")
    if _SEVERAL_RE.match(head):
        return None
    if head in ("مخيم", "باديه"):
        return settlement.start("head"), settlement.end("name")
    return settlement.start("name"), settlement.end("name")


@lru_cache(maxsize=1024)  # pure, and asked of the same clauses again
def find_location(text: str, *, governorate_fallback: bool = False) -> tuple[int, int] | None:
    """Span of the most specific place named in ``text``: a base/field, else a known place,
    else a village or town, else (when asked) a governorate."""
    facility = find_facility(text)
    zone = _ZONE_RE.search(text)
    if zone is not None and (facility is None or zone.start("z") < facility[0]):
        return zone.start("z"), zone.end("z")  # "المنطقه 55 المحيطه بقاعده التنف"
    if facility is not None:
        return facility
    settlement = _SETTLEMENT_RE.search(text)
    if settlement is not None:  # a village or town is more specific than a known place
        return _settlement_span(settlement)
    known = PLACE_RE.search(text)
    if known is not None:
        start = known.start(1)
        # Keep the facility word in front of a known place: "قاعده التنف".
        before = re.search(rf"(?:{FACILITY})\s+(?:ال)?$", text[:start])
        if before is not None:
            start = before.start()
        return start, known.end(1)
    if governorate_fallback:
        gov = GOVERNORATE_RE.search(text)
        if gov is not None:
            return gov.start(1), gov.end(1)
    return None


def find_governorate(text: str, location: str | None = None) -> Governorate | None:
    """The governorate of the passage: of its known place, else the one named outright."""
    if location:
        known = PLACE_RE.search(location)
        if known is not None:
            gov = governorate_of(known.group(1))
            if gov is not None:
                return gov
    match = GOVERNORATE_RE.search(text)
    if match is not None:
        return governorate_of(match.group(1))
    known = PLACE_RE.search(text)
    if known is not None:
        return governorate_of(known.group(1))
    return None
