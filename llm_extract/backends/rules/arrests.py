"""Arrests: raids, air landings, security operations and arrest campaigns."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from llm_extract.backends.rules import drills
from llm_extract.backends.rules.context import (
    Claims,
    Ctx,
    Found,
    Item,
    Record,
    Sentence,
    absorb_header,
    is_list_header,
    pieces_without,
    split_items,
)
from llm_extract.backends.rules.dates import find_dates
from llm_extract.backends.rules.lexicon import GOVERNORATE_RE, ISIS, actors_in, governorate_of
from llm_extract.backends.rules.negation import asserted
from llm_extract.backends.rules.numbers import NA, NB, QUANTITY, VAGUE, quantity, stated_total
from llm_extract.backends.rules.places import find_governorate, find_location
from llm_extract.backends.rules.scope import in_scope
from llm_extract.backends.rules.segment import Span, clause_bounds
from llm_extract.schemas import Actor, CoalitionRole

#: A raid: "داهمت", "المداهمات" (not the letters inside "احداهما").
_RAID = rf"{NB}(?:[وفب]|ال|وال|بال|فال)?(?:مداهم|داهم)"
CUE_RE = re.compile(
    rf"اعتقال|اعتقل|{_RAID}|{NB}[وف]?دهم|انزال|عمليه امنيه|عمليات امنيه|حمله امنيه|القبض"
    rf"|حمله (?:اعتقال|دهم|مداهمات|تمشيط|تفتيش|امنيه)|حملات (?:اعتقال|دهم|مداهمه|امنيه)"
    rf"|احتجاز|احتجز|اقتادت|اقتادوا|اوقفت|توقيف|عمليتين|عمليات مع|عمليه مشتركه"
    rf"|{NB}و?(?:اسرت|اسر){NA}"
)
_ACTION_RE = re.compile(
    rf"{NB}[وف]?(?:اعتقلت|اعتقل|اعتقلوا|داهمت|داهم|داهموا|نفذت|نفذ|شارك|شاركت|القت القبض|القبض علي"
    rf"|القي القبض|اسفرت|تم اعتقال|جري اعتقال|اقتحمت|احتجزت|مشاركتها|اعتقلتا|اختطفت"
    rf"|دهمت|دهم|دهموا|اقتادت|اوقفت|شنت|شن|اطلقت|نفذتا|قامت){NA}"
)
_TOTAL_RE = re.compile(
    rf"{NB}{QUANTITY}\s+(?:عمليات|عمليه|مداهمات|عمليات امنيه|عمليات انزال|انزالات){NA}"
)
_TOTAL_DUAL_RE = re.compile(rf"{NB}[بفي ]*(?:عمليتين|مداهمتين|عمليتان){NA}")
_PERSON = (
    r"(?:اشخاص|شخصا|شخص|افراد|فردا|عناصر|عنصرا|عنصر|شبان|شابا|قياديين|قياديا|قيادي|مطلوبين"
    r"|متهمين|مدنيين|مشتبهين|مشتبها|مشتبه|مسلحين|رجال|اعضاء|امراء|نساء|قاصرين|مطلوبا|متهما)"
)
_ARREST_VERB = (
    r"(?:اعتقال|اعتقلت|اعتقل|اعتقلوا|القبض علي|احتجاز|احتجزت|اقتادت|اقتادوا|اقتياد|توقيف"
    r"|اوقفت|اوقف|اوقفوا|اسر|اسرت)"
)
#: One person named by role: "اعتقال قيادي", "مقتل امير".
_ONE = r"(?:شخص|عنصر|قيادي|مطلوب|امير|مسؤول|مسوول|شاب|رجل|متهم|مشتبه به)"
_DETAINED_RES = (
    re.compile(rf"{_ARREST_VERB}\s+{QUANTITY}{NA}"),
    re.compile(rf"{_ARREST_VERB}\s+(?:\S+\s+){{0,8}}?{QUANTITY}\s+(?:من\s+)?{_PERSON}{NA}"),
)
_DUAL_DETAINED_RE = re.compile(
    rf"{_ARREST_VERB}\s+(?:\S+\s+){{0,8}}?(?:شخصين|عنصرين|شابين|رجلين|قياديين|مطلوبين اثنين"
    rf"|شخصان|عنصران|شابان|رجلان|قياديان"
    rf"|متهمين اثنين|شقيقين|اخوين|امراتين|سيدتين|فتاتين|اثنين|اثنان){NA}"
)
#: One person and a relative taken with them: "قيادي ... وابنه", "رجلا وشقيقه" (2).
_WITH_KIN_RE = re.compile(
    rf"{_ARREST_VERB}\s+(?:\S+\s+){{0,6}}?و(?:ابنه|ابنها|شقيقه|شقيقها|اخيه|اخاه|اخوه|زوجته|زوجها"
    rf"|والده|ابن عمه|نجله){NA}"
)
_ONE_DETAINED_RE = re.compile(
    rf"{_ARREST_VERB}\s+(?:\S+\s+){{0,4}}?(?:{_ONE}|شخصا|عنصرا|شابا|رجلا|مطلوبا|قياديا){NA}"
    # one person named by a tie to another: "واعتقل مرافقه", "اعتقال شقيقه"
    rf"|{NB}و?(?:اعتقل|اعتقلت|اعتقال|اوقف|اسر)\s+(?:مرافقه|مرافقه|حارسه|سايقه|شقيقه|ابنه|نجله){NA}"
)
#: "مقتل قيادي", and one more killed after the detainees: "بينما قتل ثالث", "وقتل اخر".
_ONE_KILLED_RE = re.compile(
    rf"{NB}[و]?(?:مقتل|قتل)\s+(?:خلالها\s+|فيها\s+|خلاله\s+)?(?:{_ONE}|ثالث|رابع|اخر){NA}"
)
_KILLED_RES = (
    re.compile(rf"(?:مقتل|قتل|قتلت|قتلوا)\s+{QUANTITY}{NA}"),
    re.compile(rf"{NB}{QUANTITY}\s+(?:قتلي|قتيلا){NA}"),
)
_VAGUE_RE = re.compile(rf"(?:اعتقال|اعتقلت|اعتقل)\s+(?P<v>{VAGUE}\s+\S+)")
_SUPPORT_RE = re.compile(
    r"بدعم|دعم استخبار|دعم لوجستي|باسناد|بمسانده|بتغطيه|تقديم دعم|بموازره|بغطاء"
    r"|(?:غطاء|اسناد|دعم|تغطيه) جوي"
)
#: The kind of operation, and the coalition's support, as the report words them: ``notes``.
_NOTE_RES = (
    re.compile(
        rf"{NB}(?:(?:عمليه|عمليات)\s+(?:انزال(?:\s+جوي)?|دهم|مداهمه|امنيه)(?:\s+متفرقه)?"
        rf"|انزالا?\s+جويا?|حمله\s+(?:دهم|مداهمات|تمشيط|اعتقالات|اعتقال|تفتيش|امنيه)"
        rf"|(?:مداهمه|دهم)\s+(?:منزل|منزلين|خيمه|مزرعه)){NA}"
    ),
    re.compile(
        rf"{NB}ب?(?:غطاء|اسناد|دعم|موازره|مسانده)\s+(?:جوي|استخباري|استخباراتي|لوجستي)?\s*"
        r"(?:من\s+)?(?:طيران\s+)?(?:ال)?تحالف(?:\s+الدولي)?"
    ),
)
#: Where the detainees were taken ("... الي قاعده حقل العمر للتحقيق"): not the operation's place.
_TAKEN_TO_RE = re.compile(
    rf"{NB}(?:الي|نحو)\s+(?:ال)?(?:قاعده|قاعدتها|مقر|سجن|مركز|حقل|معسكر)[^,.;]*"
)
#: A contrast that opens another event: "..., فيما نفذت وحده امريكيه ...".
_CONTRAST_RE = re.compile(rf",?\s*{NB}(?:فيما|بينما|في حين){NA}")
_JOINT_RE = re.compile(
    r"مشترك|بمشاركه|بالتعاون|بالاشتراك|برفقه|ترافقها|يرافقها|مع قوات سوري|مع قسد|مع الاسايش"
    r"|الي جانب"
)
_FORCES = (
    Actor.INTERNATIONAL_COALITION,
    Actor.US_FORCES,
    Actor.SDF,
    Actor.ASAYISH,
    Actor.FREE_SYRIAN_ARMY,
)
_COALITION = (Actor.INTERNATIONAL_COALITION, Actor.US_FORCES)
_ISIS_RE = re.compile(ISIS)
_GOVERNMENT_RE = re.compile(r"مع دمشق|لصالح دمشق|النظام السوري|قوات النظام|الحكومه السوريه")
_MILITIA_RE = re.compile(r"الميليشيات|المليشيات|حزب الله|الحرس الثوري|لايران")
_CLAUSE_RE = re.compile(r"[^,]+")
_OTHERS_RE = re.compile(
    r"قوات النظام|القوات الحكوميه|الحكومه السوريه|الامن العام|تركي|الاتراك|روسي|الميليشيات"
    r"|المليشيات|هيئه تحرير الشام|الفصايل الموالي"
)


#: Who the detainees were accused of belonging to, by the words that say it, in order.
_AFFILIATIONS: tuple[tuple[re.Pattern[str], Actor], ...] = (
    (_ISIS_RE, Actor.ISIS),
    (_GOVERNMENT_RE, Actor.SYRIAN_GOVERNMENT),
    (_MILITIA_RE, Actor.IRAN_BACKED_MILITIAS),
)


def extract(ctx: Ctx, claimed: Claims) -> Found:
    """Arrest records and the stated total of operations. Items that an earlier category
    claimed (a drill that simulated an air landing) are left alone; arrests claim nothing."""
    reading = _Reading(ctx, claimed)
    for sentence in ctx.sentences:
        reading.sentence(sentence)
    return reading.found()


@dataclass
class _Reading:
    """One pass over a report's sentences, in order, and what the sentences read so far
    tell the next: the forces a stated total named, the line of the last record."""

    ctx: Ctx
    claimed: Claims
    records: list[Record] = field(default_factory=list)
    stated: int | None = None
    #: Forces named with a stated total, and whether it was joint: its items' too.
    header_actors: list[Actor] = field(default_factory=list)
    header_joint: bool = False
    #: The line of the last record: an undated item on the next line may add to it.
    last_line: int = -2

    def found(self) -> Found:
        totals = {"operations": self.stated} if self.stated is not None else {}
        return Found(self.records, totals)

    def sentence(self, sentence: Sentence) -> None:
        beyond = _beyond_drills(self.ctx, sentence)
        own = _in_scope(self.ctx, beyond) if beyond is not None else None
        if own is None:
            return  # drills only, or a count since before the report ("منذ مطلع العام")
        sentence = own
        text = sentence.span.text
        if CUE_RE.search(asserted(text)) is None:
            return  # none, or only denied ones: "لم تسجل اي عمليه دهم"
        header, items = split_items(self.ctx, sentence)
        lead = header.text if header is not None else (text if not sentence.dates else "")
        total = stated_total(lead, _TOTAL_RE, _TOTAL_DUAL_RE)
        if total is not None:
            items = self._total(sentence, header, items, lead, total)
        else:
            items = absorb_header(header, items, self.ctx, keep=False)
        for item in items:
            if not self.claimed.covers(item.span):
                self._item(sentence, item)

    def _total(
        self, sentence: Sentence, header: Span | None, items: list[Item], lead: str, total: int
    ) -> list[Item]:
        """A sentence that states a total of operations: its forces and its summary record
        (unless it announces a list); the dated items still to read."""
        self.stated = total
        self.header_actors = actors_in(lead, _FORCES)
        self.header_joint = _JOINT_RE.search(lead) is not None
        if header is not None and items:
            items = self._summary_before_contrast(header, items, total)
        if sentence.dates:
            return items
        if not (is_list_header(sentence.span.text) or sentence.colon):
            self._add_summary(sentence.span, total)
            self.last_line = sentence.line
        return []

    def _summary_before_contrast(self, header: Span, items: list[Item], total: int) -> list[Item]:
        """The total's own record when another event follows it in the sentence (see
        :func:`_split_at_contrast`); the items with the first given its words back."""
        summary = _split_at_contrast(self.ctx, header, items[0])
        if summary is None:
            return items
        part, first = summary
        self._add_summary(part, total)
        self.header_actors, self.header_joint = [], False
        return [first, *items[1:]]

    def _add_summary(self, span: Span, total: int) -> None:
        record = _record(self.ctx, span, None, self.header_actors, self.header_joint)
        record["operations"] = total
        self.records.append(record)

    def _item(self, sentence: Sentence, item: Item) -> None:
        """One item: an operation of its own, or (undated, right after a record) details of
        the last one."""
        ctx = self.ctx
        if item.date is None:
            if self._adds_to_last(sentence, item):
                _enrich(ctx, self.records[-1], item.span)
                self.last_line = sentence.line
                return
            if _ACTION_RE.search(item.span.text) is None:
                return
        if _by_others(item.span.text):
            return
        record = _record(ctx, item.span, ctx.date_of(item), self.header_actors, self.header_joint)
        record["operations"] = 1
        if not record["actors"] and self.records and sentence.line == self.last_line:
            last = self.records[-1]  # "..., وفي اليوم التالي داهمت ...": the same forces
            record["actors"], record["coalition_role"] = last["actors"], last["coalition_role"]
        self.records.append(record)
        self.last_line = sentence.line

    def _adds_to_last(self, sentence: Sentence, item: Item) -> bool:
        return (
            bool(self.records)
            and sentence.line - self.last_line <= 1
            and not _another(item, self.records[-1])
        )


def _split_at_contrast(ctx: Ctx, header: Span, first: Item) -> tuple[Span, Item] | None:
    """A total told with its outcome, then another event ("نفذت قسد 3 عمليات دهم ..., فيما
    نفذت وحده امريكيه في 20 ... عمليه انزال"): the total's own span, and the first item
    with the words after the contrast given back."""
    cut = _CONTRAST_RE.search(header.text)
    if cut is None or _TOTAL_RE.search(header.text, 0, cut.start()) is None:
        return None
    part = ctx.span_of(header, 0, cut.start())
    rest = ctx.doc.span(header.start + cut.end(), first.span.end)
    if part is None or rest is None:
        return None
    return part, Item(first.sentence, rest, first.date)


def _another(item: Item, previous: Record) -> bool:
    """An undated item that opens an operation of its own (its own verb, other forces: "شنت
    قسد بمسانده طيران التحالف حمله مداهمات ...") rather than adding to the one before."""
    text = item.span.text
    if _ACTION_RE.search(text) is None or CUE_RE.search(text) is None:
        return False
    actors = _actors(text)
    return bool(actors) and set(actors) != set(previous.get("actors") or [])


def _by_others(text: str) -> bool:
    """Arrests by forces that are not the coalition's partners ("اعتقلت قوات النظام ...")."""
    if _actors(text):
        return False
    return _OTHERS_RE.search(text) is not None


def _beyond_drills(ctx: Ctx, sentence: Sentence) -> Sentence | None:
    """``sentence``, or only its clauses after its drills when it tells of drills (see
    :func:`_after_drills`)."""
    drill = drills.CUE_RE.search(sentence.span.text)
    if drill is None:
        return sentence
    before = pieces_without(ctx, sentence, drills.CUE_RE, CUE_RE)
    if before is not None and before.span.start < sentence.span.start + drill.start():
        return before
    return _before_drills(ctx, sentence, drill.start()) or _after_drills(ctx, sentence)


def _before_drills(ctx: Ctx, sentence: Sentence, drill: int) -> Sentence | None:
    """The clauses of a sentence before its drills ("3 عمليات مشتركه اعتقل خلالها 11, فيما
    اجرت القوات الامريكيه تدريبين"), when they tell of arrests."""
    text = sentence.span.text
    cut = clause_bounds(text, drill)[0]
    cue = CUE_RE.search(text, 0, cut) or _TOTAL_RE.search(text, 0, cut)
    if cue is None:
        return None
    span = ctx.span_of(sentence.span, 0, cut)
    if span is None:
        return None
    return Sentence(sentence.line, span, find_dates(span.text, ctx.dates), sentence.colon)


def _after_drills(ctx: Ctx, sentence: Sentence) -> Sentence | None:
    """The clauses of a sentence that follow its drills ("7 تدريبات، و5 عمليات امنيه اسفرت
    عن ..."), or ``None`` when the arrest words belong to a drill ("تدريب علي انزال")."""
    text = sentence.span.text
    last_drill = max(m.start() for m in drills.CUE_RE.finditer(text))
    cue = CUE_RE.search(text, last_drill) or _TOTAL_RE.search(text, last_drill)
    if cue is None:
        return None
    cut = text.rfind(",", last_drill, cue.start())
    if cut < 0:
        return None
    span = ctx.span_of(sentence.span, cut + 1, len(text))
    if span is None:
        return None
    return Sentence(sentence.line, span, find_dates(span.text, ctx.dates), sentence.colon)


def _in_scope(ctx: Ctx, sentence: Sentence) -> Sentence | None:
    """``sentence`` without its clauses that count since before the report's span; ``None``
    when nothing else is left."""
    bounds = in_scope(sentence.span.text, ctx.dates, ctx.dateline)
    if bounds is None:
        return None
    if bounds == (0, len(sentence.span.text)):
        return sentence
    span = ctx.span_of(sentence.span, *bounds)
    if span is None:
        return None
    return Sentence(sentence.line, span, find_dates(span.text, ctx.dates), sentence.colon)


def _actors(text: str) -> list[Actor]:
    """Forces that carried it out: those named in clauses with an arrest verb or a
    support/joint phrase (not the detainees' group, nor places named after a force)."""
    found: list[Actor] = []
    for clause in _CLAUSE_RE.findall(text):
        if (
            CUE_RE.search(clause)
            or _SUPPORT_RE.search(clause)
            or _JOINT_RE.search(clause)
            or (re.search(r"شارك|نفذ|شن|اطلق|دهم|اقتحم|قام|برفق|رافق", clause))
        ):
            for actor in actors_in(clause, _FORCES):
                if actor not in found:
                    found.append(actor)
    return found


def _record(
    ctx: Ctx,
    span: Span,
    date: dt.date | None,
    header_actors: list[Actor],
    header_joint: bool,
) -> Record:
    text = span.text
    record: Record = {"date": date}
    where = find_location(_TAKEN_TO_RE.sub(lambda m: " " * len(m.group()), text))
    location_norm = text[where[0] : where[1]] if where else None
    if where is not None:
        record["location"] = ctx.doc.clean(span.start + where[0], span.start + where[1])
    governorates = {governorate_of(m.group(1)) for m in GOVERNORATE_RE.finditer(text)}
    several = where is None and len(governorates) > 1  # "في ريفي الحسكه ودير الزور"
    record["governorate"] = None if several else find_governorate(text, location_norm)
    actors = _actors(text) or list(header_actors)
    record["actors"] = actors
    record["coalition_role"] = _role(text, actors, header_joint)
    record["evidence"] = ctx.evidence(span)
    _enrich(ctx, record, span)
    return record


def _role(text: str, actors: list[Actor], header_joint: bool) -> CoalitionRole | None:
    """The coalition's part: support of others' operation ("بدعم من التحالف"), joint, or
    carried out alone; ``None`` when the coalition is not named."""
    if _SUPPORT_RE.search(text) and any(a not in _COALITION for a in actors):
        return CoalitionRole.SUPPORT
    if _JOINT_RE.search(text) or (header_joint and not _actors(text)):
        return CoalitionRole.JOINT
    if any(a in _COALITION for a in actors):
        return CoalitionRole.CARRIED_OUT
    return None


def _enrich(ctx: Ctx, record: Record, span: Span) -> None:
    """Counts, affiliation and notes found in ``span`` that ``record`` lacks."""
    text = span.text
    if record.get("detained") is None:
        _detained(ctx, record, span)
    if record.get("killed") is None:
        _killed(record, text)
    if not record.get("notes"):
        record["notes"] = _notes(ctx, span)
    if record.get("affiliation") is None:
        affiliation = next(
            (actor for pattern, actor in _AFFILIATIONS if pattern.search(text)), None
        )
        if affiliation is not None:
            record["affiliation"] = affiliation


def _detained(ctx: Ctx, record: Record, span: Span) -> None:
    """How many were detained: a dual or one taken with a relative (2), a number, one
    person; a vague count ("عشرات المطلوبين") is kept as a note."""
    text = span.text
    detained = _DETAINED_RES[0].search(text) or _DETAINED_RES[1].search(text)
    dual = _DUAL_DETAINED_RE.search(text) or _WITH_KIN_RE.search(text)
    if dual is not None and (detained is None or dual.start() < detained.start()):
        record["detained"] = 2
    elif detained is not None:
        q = quantity(detained.group("pre"), detained.group("num"))
        record["detained"] = q.value if q is not None else None
    elif _ONE_DETAINED_RE.search(text) and not _VAGUE_RE.search(text):
        record["detained"] = 1
    else:
        vague = _VAGUE_RE.search(text)
        if vague is not None and not record.get("notes"):
            record["notes"] = ctx.doc.clean(
                span.start + vague.start("v"), span.start + vague.end("v")
            )


def _killed(record: Record, text: str) -> None:
    """How many were killed in the operation: a number, or one ("مقتل قيادي")."""
    killed = _KILLED_RES[0].search(text) or _KILLED_RES[1].search(text)
    if killed is not None:
        q = quantity(killed.group("pre"), killed.group("num"))
        record["killed"] = q.value if q is not None else None
    elif _ONE_KILLED_RE.search(text):
        record["killed"] = 1


def _notes(ctx: Ctx, span: Span) -> str | None:
    """The operation's kind and the coalition's support as written ("حمله دهم", "بغطاء جوي
    من التحالف"): details the record has no field for."""
    parts: list[str] = []
    for pattern in _NOTE_RES:
        match = pattern.search(span.text)
        if match is not None:
            part = ctx.doc.clean(span.start + match.start(), span.start + match.end())
            if part and part not in parts:
                parts.append(part)
    return "؛ ".join(parts) or None
