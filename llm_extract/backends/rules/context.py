"""What every category extractor shares: the document, the date context, sentences, the
split of a sentence into dated items ("14 حزيران، ..." or "ففي التاسع من تموز ..."), and what
a category hands on (:class:`Found`: its records, its stated totals, the spans it claims)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llm_extract.backends.rules.dates import DateContext, FoundDate, find_dates
from llm_extract.backends.rules.segment import Doc, Span, sentences, sub

Record = dict[str, Any]

#: A header announces a list of items: "جاءت تفاصيلها على النحو الآتي:".
_LIST_HEADER_RE = re.compile(r"كالاتي|كالتالي|النحو الاتي|النحو التالي|تفاصيلها|ما يلي|[:]\s*$")


#: Words at the end of an item that open the next one: "وفي", "اما في", "والثانيه في".
_NEXT_ITEM_RE = re.compile(
    r"(?:\s*,)?(?:\s+(?:[وف]|ثم|اما|كما)?\s*(?:ال(?:اول|ثاني|ثالث|رابع|خامس|سادس|سابع|ثامن|تاسع"
    r"|عاشر)[ىيه]?\s+)?(?:في|يوم|بتاريخ|خلال|ففي|وفي|ثم)?)+\s*$"
)


@dataclass(frozen=True)
class Sentence:
    line: int
    span: Span
    #: Dates in the sentence, positions relative to ``span.text``.
    dates: list[FoundDate]
    #: The sentence ends with a colon: it announces what follows.
    colon: bool = False


@dataclass(frozen=True)
class Item:
    """A dated part of a sentence, or a whole sentence without a date."""

    sentence: Sentence
    span: Span
    date: dt.date | None


@dataclass(frozen=True)
class Ctx:
    """The report as every category reads it (never changed once built)."""

    doc: Doc
    dates: DateContext
    sentences: tuple[Sentence, ...] = ()
    #: The report's first date: a short item's dateline ("الحسكه – 7 مارس 2024:").
    first_date: dt.date | None = None

    @classmethod
    def build(cls, doc: Doc, dates: DateContext) -> Ctx:
        found: list[Sentence] = []
        last: dt.date | None = None
        for number, line in enumerate(doc.lines):
            for span in sentences(doc, line):
                colon = doc.norm[span.end : span.end + 2].strip().startswith(":")
                in_sentence = find_dates(span.text, dates, last)
                found.append(Sentence(number, span, in_sentence, colon=colon))
                last = in_sentence[-1].date if in_sentence else last
        # A dateline is written out ("الحسكه – 7 مارس 2024:"); "أمس" dates an event, not the item.
        first = next((d.date for s in found for d in s.dates if not d.relative), None)
        return cls(doc, dates, tuple(found), first)

    @property
    def dateline(self) -> dt.date | None:
        """The date of records that state none: a short item's dateline; ``None`` in a
        monthly report (one with a coalition month), whose records are dated one by one."""
        return self.first_date if self.dates.period is None else None

    def date_of(self, item: Item) -> dt.date | None:
        """The date of ``item``: its own, else the dateline's."""
        return item.date if item.date is not None else self.dateline

    def evidence(self, span: Span) -> str:
        return self.doc.evidence(span)

    def span_of(self, span: Span, start: int, end: int) -> Span | None:
        """Part ``[start, end)`` of ``span`` (positions relative to ``span.text``), trimmed."""
        return sub(self.doc, span, start, end)

    def clean(self, span: Span, start: int, end: int) -> str | None:
        """Open string behind part ``[start, end)`` of ``span``, as the report writes it."""
        return self.doc.clean(span.start + start, span.start + end)


@dataclass(frozen=True)
class Claims:
    """Spans of the report that a category has read as its own: the categories after it in
    the pipeline (:data:`llm_extract.backends.rules.extractor.PIPELINE`) leave them alone."""

    spans: tuple[Span, ...] = ()

    def covers(self, span: Span) -> bool:
        """Whether ``span`` lies mostly inside a claimed span."""
        half = (span.end - span.start) / 2
        return any(min(c.end, span.end) - max(c.start, span.start) > half for c in self.spans)

    def __or__(self, other: Claims) -> Claims:
        return Claims((*self.spans, *other.spans))


@dataclass(frozen=True)
class Found:
    """What one category read in a report."""

    #: Its records, as plain data (validated by the extractor, like a model's answer).
    records: list[Record]
    #: Totals the report states for it, by :class:`~llm_extract.schemas.StatedTotals` field.
    totals: dict[str, int] = field(default_factory=dict)
    #: Spans that the categories after it must leave alone.
    claims: Claims = field(default_factory=Claims)


#: One category's reader: the report, and the spans claimed by the categories before it.
Step = Callable[[Ctx, Claims], Found]


def is_list_header(text: str) -> bool:
    return _LIST_HEADER_RE.search(text) is not None


def split_items(ctx: Ctx, sentence: Sentence) -> tuple[Span | None, list[Item]]:
    """Split a sentence at its dates: ``(header, items)``.

    The text before the first date is a header when it announces a list or a total (it is
    returned apart); otherwise it belongs to the first item. A sentence without dates is one
    undated item.
    """
    span = sentence.span
    if not sentence.dates:
        return None, [Item(sentence, span, None)]
    starts = [found.start for found in sentence.dates]
    # Adjacent dates with nothing but a conjunction between them belong to one item.
    groups: list[int] = [0]
    for i in range(1, len(starts)):
        between = span.text[sentence.dates[i - 1].end : starts[i]]
        if len(between.strip(" ,و")) > 2:
            groups.append(i)
    header = ctx.span_of(span, 0, starts[0])
    ordinal = _ordinal_items(ctx, sentence)
    if len(groups) > 1 and ordinal:
        # "تدريبين مع قسد, الاول في ..., والثاني في ...": what comes before the ranks heads them
        lead = ctx.span_of(span, 0, ordinal[0].span.start - span.start)
        return lead, ordinal
    if len(groups) > 1 and _dates_trail(span.text, header, sentence.dates[-1].end):
        return None, _trailing_items(ctx, sentence, groups)
    items: list[Item] = []
    for k, first in enumerate(groups):
        begin = starts[first] if k > 0 or header is not None else 0
        end = starts[groups[k + 1]] if k + 1 < len(groups) else len(span.text)
        tail = _NEXT_ITEM_RE.search(span.text, begin, end)
        if tail is not None and k + 1 < len(groups):
            end = tail.start()  # "..., وفي" / "والثانيه في" open the next item
        piece = ctx.span_of(span, begin, end)
        if piece is not None:
            items.append(Item(sentence, piece, sentence.dates[first].date))
    return header, items


#: An item introduced by its rank: "الاول في ...", "والثاني في ...", "وثانيها", "اما الثالث".
_RANK_RE = re.compile(
    r"(?<![\u0621-\u064a])(?:[وف]|اما\s+|ثم\s+)?(?:ال(?:اول|ثاني|ثالث|رابع|خامس|سادس|سابع|ثامن"
    r"|تاسع|عاشر)[يه]?|(?:اول|ثاني|ثالث|رابع|خامس|سادس|سابع|ثامن|تاسع|عاشر)[يه]?ها)"
    r"(?![\u0621-\u064a])"
)


def _ordinal_items(ctx: Ctx, sentence: Sentence) -> list[Item]:
    """Items that each begin with their rank ("الاول في حقل العمر في 3 نيسان، والثاني في
    قاعده تل بيدر في 15 نيسان"), each dated by the first date inside it; empty when the
    sentence has fewer than two ranks or a rank holds no date."""
    text = sentence.span.text
    marks = [m.start() for m in _RANK_RE.finditer(text)]
    if len(marks) < 2:
        return []
    items: list[Item] = []
    for k, begin in enumerate(marks):
        end = marks[k + 1] if k + 1 < len(marks) else len(text)
        date = next((d.date for d in sentence.dates if begin <= d.start < end), None)
        piece = ctx.span_of(sentence.span, begin, end)
        if date is None or piece is None:
            return []
        items.append(Item(sentence, piece, date))
    return items


#: A place right after a date, joined by "ب" or "في": "16 كانون الثاني بقاعده قسرك".
_PLACE_AFTER_DATE_RE = re.compile(
    r"\s+(?:ب|في\s+)(?:ال)?(?:قاعده|حقل|مطار|معسكر|بلده|قريه|مدينه|منطقه|قطاع)"
)


def _dates_trail(text: str, header: Span | None, last_end: int) -> bool:
    """Whether each item of a sentence ends with its date ("... في قاعده X يوم 5 اذار، وتدريب
    اخر في Y يوم 9 اذار") instead of starting with it: the text before the first date says
    something (not a list header) and next to nothing follows the last date."""
    if header is None or is_list_header(header.text) or len(header.text.split()) < 3:
        return False
    if _PLACE_AFTER_DATE_RE.match(text, last_end):
        return False  # "..., وفي 16 كانون الثاني بقاعده قسرك": the place follows its date
    return len(text[last_end:].split()) <= 2


def _trailing_items(ctx: Ctx, sentence: Sentence, groups: list[int]) -> list[Item]:
    """Items that end with their dates: each runs from the previous item's last date to its
    own group's last date (the sentence's tail goes to the last item)."""
    span = sentence.span
    items: list[Item] = []
    begin = 0
    for k, first in enumerate(groups):
        last = groups[k + 1] - 1 if k + 1 < len(groups) else len(sentence.dates) - 1
        end = sentence.dates[last].end if k + 1 < len(groups) else len(span.text)
        piece = ctx.span_of(span, begin, end)
        if piece is not None:
            items.append(Item(sentence, piece, sentence.dates[first].date))
        begin = end
    return items


def absorb_header(header: Span | None, items: list[Item], ctx: Ctx, keep: bool) -> list[Item]:
    """Give a non-header prefix back to the first item (``keep`` False)."""
    if header is None or keep or not items:
        return items
    first = items[0]
    merged = ctx.doc.span(header.start, first.span.end)
    if merged is None:
        return items
    return [Item(first.sentence, merged, first.date), *items[1:]]


def pieces_without(
    ctx: Ctx, sentence: Sentence, foreign: re.Pattern[str], own: re.Pattern[str]
) -> Sentence | None:
    """The run of comma-separated pieces of ``sentence`` that begins with the first piece
    ``own`` matches and ends before the next piece ``foreign`` matches ("سجل الاسبوع 4
    هجمات, و3 تدريبات في ..." without the drills); ``None`` when no piece free of
    ``foreign`` matches ``own``."""
    text = sentence.span.text
    begin: int | None = None
    start = 0
    end = len(text)
    for piece in text.split(","):
        stop = start + len(piece)
        if foreign.search(piece):
            if begin is not None:
                end = start - 1
                break
        elif begin is None and own.search(piece):
            begin = start
        start = stop + 1
    if begin is None:
        return None
    span = ctx.span_of(sentence.span, begin, end)
    if span is None:
        return None
    return Sentence(sentence.line, span, find_dates(span.text, ctx.dates), sentence.colon)
