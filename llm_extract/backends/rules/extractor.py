"""Report text -> validated :class:`ReportExtraction`, by patterns alone.

The categories read the report one after the other, in the order of :data:`PIPELINE`; each
gets the spans the categories before it claimed and returns a :class:`Found` (its records,
its stated totals, the spans it claims). Nothing else passes between them.

The records are built as plain data and validated with the same code as an LLM's answer
(``ReportExtraction.model_validate`` with the report as context), so grounding, the period,
the years of dates and the consistency flags are derived in one place. A record whose
evidence would not ground is dropped, never kept unchecked.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from llm_extract.backends.rules import arrests, convoys, drills, strikes
from llm_extract.backends.rules.context import Claims, Ctx, Step
from llm_extract.backends.rules.dates import DateContext
from llm_extract.backends.rules.numbers import NA, NB, NUMBER, ORDINAL, parse_number, parse_ordinal
from llm_extract.backends.rules.segment import Doc
from llm_extract.backends.salvage import salvage_data
from llm_extract.normalize import coalition_period
from llm_extract.results import DroppedRecord
from llm_extract.schemas import Arrest, Convoy, Drill, ReportExtraction, Strike

#: The categories in the order they read a report.
#:
#: - Convoys first: they claim nothing and heed no claim (counted trucks and cargo aircraft
#:   are no other category's words), so their place in the order changes nothing.
#: - Drills before strikes and arrests: a drill that simulated an attack or an air landing
#:   ("- 9 اذار: صد هجوم علي القاعده") is neither, so drills claim the items they read and
#:   strikes and arrests leave those spans alone.
#: - Strikes, then arrests: neither claims anything, so their order between them changes
#:   nothing.
PIPELINE: tuple[tuple[str, Step], ...] = (
    (Convoy.category, convoys.extract),
    (Drill.category, drills.extract),
    (Strike.category, strikes.extract),
    (Arrest.category, arrests.extract),
)

_MONTH_RES = (
    re.compile(
        rf"{NB}[لفو]?(?:ل)?(?:ال)?شهر(?:ه|ها)?\s+(?:ال\s*)?(?P<n>\d+|{ORDINAL})\s+"
        r"(?:علي التوالي|تواليا|من\s+(?:تدخل|عمليات|وجود|عمر))"
    ),
    re.compile(rf"{NB}(?:للشهر|شهره|شهرها)\s+(?:ال\s*)?(?P<n>\d+|{ORDINAL}){NA}"),
)
_WORDS_MONTH_RE = re.compile(rf"{NB}للشهر\s+(?P<n>{NUMBER})\s+علي التوالي")
_LATE_MONTH_RES = (
    re.compile(rf"{NB}[لفو]?(?:ل)?الشهر\s+(?P<n>{ORDINAL})"),
    re.compile(
        rf"{NB}[لفو]?(?:ل)?الشهر\s+(?:ال\s*|رقم\s+)?(?P<n>\d{{2,3}})"
        r"(?=\s*[,.:;)]|\s*$|\s+(?:من|منذ|لتدخل|علي|في|لوجود|لعمليات)\s)"
    ),
)


def coalition_month(norm: str) -> int | None:
    """The coalition month a monthly report states ("للشهر 118 على التوالي")."""
    for pattern in (*_MONTH_RES, _WORDS_MONTH_RE, *_LATE_MONTH_RES):
        match = pattern.search(norm)
        if match is None:
            continue
        raw = match.group("n")
        value = int(raw) if raw.isdigit() else (parse_ordinal(raw) or parse_number(raw))
        if value is not None and 1 <= value <= 600:
            return value
    return None


def build(text: str, published: dt.date | dt.datetime | None = None) -> dict[str, Any]:
    """The extraction of ``text`` as unvalidated data (see :func:`extract`); ``published``
    anchors yearless and relative dates of a report with no coalition month."""
    doc = Doc(text)
    month = coalition_month(doc.norm)
    period = coalition_period(month) if month is not None else None
    ctx = Ctx.build(doc, DateContext.of(doc.norm, period, published))
    totals: dict[str, int] = {}
    data: dict[str, Any] = {"coalition_month": month, "stated_totals": totals}
    claims = Claims()
    for category, step in PIPELINE:
        found = step(ctx, claims)
        data[category] = found.records
        totals.update(found.totals)
        claims = claims | found.claims
    return data


def extract(
    text: str, report_id: str | None = None, published: dt.date | dt.datetime | None = None
) -> tuple[ReportExtraction, list[DroppedRecord]]:
    """Extract ``text``; records that fail validation are returned as dropped."""
    data = build(text, published)
    context = {"source": text, "report_id": report_id, "published": published}
    salvaged = salvage_data(data, context)
    if salvaged is None:  # the document the code built does not validate: a bug, not data
        ReportExtraction.model_validate(data, context=context)
        raise AssertionError("salvage_data refused a document that validates")
    return salvaged
