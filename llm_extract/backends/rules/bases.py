"""The bases an attack hit, with each one's count: a breakdown after the total ("12 علي
قاعده حقل العمر - 1 علي قسرك", "حقل العمر (4) وكونيكو (2)"), list lines ("حقل العمر: 11
هجوما"), or bases named together ("قاعدتا التنف وحقل العمر ... بواقع هجوم واحد علي كل
منهما")."""

from __future__ import annotations

import re
from typing import Any

from llm_extract.backends.rules.context import Ctx, Record
from llm_extract.backends.rules.lexicon import PLACE_RE
from llm_extract.backends.rules.numbers import NA, NB, QUANTITY, quantity
from llm_extract.backends.rules.places import find_facility
from llm_extract.backends.rules.segment import Span

#: Two or more bases named together: "قاعدتا التنف وحقل العمر", "قواعد قسرك والشدادي".
_BASES_RE = re.compile(
    rf"{NB}[بلو]?(?:ال)?(?:قاعدتا|قاعدتي|قاعدتين|قواعد)\s+(?!(?:ال|لل)?(?:تحالف|قوات){NA})"
    r"(?P<list>[^\s,]+(?:\s+(?!و)[^\s,]+)?(?:\s*,\s*[^\s,]+(?:\s+(?!و)[^\s,]+)?)*"
    r"\s+و[^\s,]+(?:\s+(?!(?:ل|في|علي|من|ب)\S*)[^\s,]+)?)"
)
_EACH_RE = re.compile(
    rf"بواقع\s+(?P<num>\S+(?:\s+(?:واحد|واحده))?)\s+(?:\S+\s+)?علي\s+كل\s+(?:منهما|منها|واحده){NA}"
)
_BREAKDOWN_RE = re.compile(
    rf"(?:(?<=[\sو(\-,:])|^)(?:{QUANTITY}\s+(?:هجمات\s+|هجوما\s+|استهدافات\s+|استهدافا\s+)?"
    r"(?:منها\s+)?"
    rf"|[لب]?(?P<dual>هجومان|هجومين|استهدافان|استهدافين)\s+|(?P<one>هجوم واحد|هجوما واحدا)\s+)"
    r"(?:علي|ضد|استهدفت|طالت|استهدفا)\s+"
)
_PLURAL_BASES_RE = re.compile(r"(?:ال)?(?:قواعد|مواقع)")
LABEL_COUNT_RE = re.compile(
    rf"(?:\(|[:–\-])\s*(?:{QUANTITY}(?:\s+(?:هجمات|هجوما|هجوم|استهدافات|استهدافا|استهداف|ضربات"
    r"|غارات))?|(?P<dual>هجومان|هجومين|استهدافان|استهدافين|غارتان|غارتين))\s*(?=\)|[,.;]|$|\s+و)"
)

Target = dict[str, Any]


def without_label_counts(text: str) -> str:
    """``text`` with the counts of a breakdown blanked ("حقل العمر (6 هجمات)" is one base's
    count, not the total), same length."""
    return LABEL_COUNT_RE.sub(lambda m: " " * len(m.group()), text)


def breakdown(ctx: Ctx, text: str, record: Record, span: Span, *, append: bool = False) -> bool:
    """Per-base counts ("12 علي قاعده حقل العمر - 1 علي قسرك", "هجومان علي ...") for
    ``record``; ``append`` adds them to those of earlier lines of a list."""
    targets = _counts_before(ctx, text, span) or _counts_after(ctx, text, span)
    if not targets:
        return False
    record["targets"] = [*record["targets"], *targets] if append else targets
    if len(record["targets"]) > 1:
        record.pop("location", None)
        record["governorate"] = None
        if record.get("count") is None:  # no total stated: the breakdown's sum
            record["count"] = sum(target["count"] for target in record["targets"])
    return True


def opens_with_breakdown(text: str) -> bool:
    """Whether ``text`` starts with a base's count ("12 علي حقل العمر", "حقل العمر: 11")."""
    if _BREAKDOWN_RE.match(text, 1 if text.startswith("و") else 0):  # "وهجومان علي ..."
        return True
    label = LABEL_COUNT_RE.search(text)
    if label is None:
        return False
    place = _place_ending_at(text, label.start())
    return place is not None and not text[: place[0]].strip(" -–•*")


def _counts_before(ctx: Ctx, text: str, span: Span) -> list[Target]:
    """ "12 علي قاعده حقل العمر", "هجومان علي قسرك": each count before its base."""
    targets: list[Target] = []
    for match in _BREAKDOWN_RE.finditer(text):
        if _PLURAL_BASES_RE.match(text, match.end()):
            continue  # "7 هجمات علي القواعد": the total, not one base's count
        place = _place_starting_at(text, match.end())
        count = _count_before(match)
        if place is None or count is None:
            continue
        targets.append({"name": ctx.clean(span, *place), "count": count})
    return targets


def _place_starting_at(text: str, start: int) -> tuple[int, int] | None:
    """The base, else the known place, named in the 60 characters from ``start``."""
    window_end = min(len(text), start + 60)
    place = find_facility(text, start, window_end)
    if place is None:
        known = PLACE_RE.match(text, start, window_end)
        place = (known.start(1), known.end(1)) if known is not None else None
    return place


def _count_before(match: re.Match[str]) -> int | None:
    """The count of a :data:`_BREAKDOWN_RE` match: a dual, "one", or a number."""
    if match.group("dual"):
        return 2
    if match.group("one"):
        return 1
    q = quantity(None, match.group("num"))
    return q.value if q is not None else None


def _counts_after(ctx: Ctx, text: str, span: Span) -> list[Target]:
    """ "حقل العمر: 11 هجوما" (a list line), "حقل العمر (4) وكونيكو (2)": each count after its
    base, behind a colon or a dash or in brackets."""
    targets: list[Target] = []
    for match in LABEL_COUNT_RE.finditer(text):
        place = _place_ending_at(text, match.start())
        if match.group("dual"):
            count: int | None = 2  # "قاعده الشدادي: هجومان"
        else:
            q = quantity(None, match.group("num"))
            count = q.value if q is not None else None
        if place is None or count is None:
            continue
        targets.append({"name": ctx.clean(span, *place), "count": count})
    return targets


def _place_ending_at(text: str, end: int) -> tuple[int, int] | None:
    """The base or known place whose name ends just before ``end``."""
    window = max(0, end - 50)
    while end > window and text[end - 1] == " ":
        end -= 1
    best: tuple[int, int] | None = None
    start = window
    while (found := find_facility(text, start, end)) is not None:
        if found[1] >= end:
            best = found
        start = found[0] + 1
    if best is None:
        for known in PLACE_RE.finditer(text, window, end):
            if known.end(1) == end:
                best = (known.start(1), end)
    return best


def bases_named_together(ctx: Ctx, text: str, record: Record, span: Span) -> bool:
    """Bases named together ("قاعدتا التنف وحقل العمر ... بواقع هجوم واحد علي كل منهما")
    as ``record``'s targets, each with the count "on each" when stated."""
    match = _BASES_RE.search(text)
    if match is None:
        return False
    names = _base_names(ctx, text, span, match.start("list"), match.end("list"))
    if len(names) < 2:
        return False
    each_count: int | None = None
    each = _EACH_RE.search(text)
    if each is not None:
        parsed = quantity(None, each.group("num"))
        each_count = parsed.value if parsed is not None else None
    record["targets"] = [{"name": name, "count": each_count} for name in names]
    return True


def _base_names(ctx: Ctx, text: str, span: Span, start: int, end: int) -> list[str]:
    """The names of a list of bases (``text[start:end]``, "التنف وحقل العمر"), each as a
    base ("قاعدتا التنف ..." names "قاعدة التنف")."""
    names: list[str] = []
    for part in re.finditer(r"[^,]+", text[start:end]):
        for piece in re.split(r"\s+و(?=\S)", part.group()):
            name = " ".join(piece.split())
            if not name:
                continue
            at = text.index(name, start + part.start())
            cleaned = ctx.clean(span, at, at + len(name))
            if cleaned is None:
                continue
            if not re.match(r"(?:حقل|معمل|مطار|قاعده|معسكر)\s", name):
                cleaned = "قاعدة " + cleaned  # "قاعدتا التنف ..." names "قاعدة التنف"
            names.append(cleaned)
    return names
