"""Drills: dated items ("14 حزيران، أجرت ... تدريبات ..."), items of a list announced by a
header ("5 تدريبات ... كالآتي:" then one line or one clause per drill, in prose, numbered,
dashed or "التاريخ – المكان – التفاصيل"), single drills told in prose, or a total given
without items."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from llm_extract.backends.rules.context import (
    Claims,
    Ctx,
    Found,
    Item,
    Record,
    Sentence,
    absorb_header,
    is_list_header,
    split_items,
)
from llm_extract.backends.rules.dates import day_list
from llm_extract.backends.rules.lexicon import actors_in
from llm_extract.backends.rules.negation import asserted
from llm_extract.backends.rules.numbers import NA, NB, QUANTITY, stated_total
from llm_extract.backends.rules.places import find_governorate, find_location
from llm_extract.backends.rules.segment import BULLET_RE, Span, clause_bounds
from llm_extract.schemas import Actor

#: A drill's words; a training camp or centre ("مقر تدريب", "معسكر تدريب") is a place.
CUE_RE = re.compile(
    r"(?<!مقر )(?<!مقرات )(?<!معسكر )(?<!معسكرات )(?<!مركز )(?<!مراكز )(?<!مقري )"
    r"(?:تدريب|مناور|تمرين|تمارين|رمايات|رمايه|تدرب)"
)
#: Training told as an ongoing task, with no date of its own ("تابعت واشنطن ... وتدريب مقاتلي
#: قسد", "تواصل تدريب عناصر ..."): a general statement, not a drill.
_ONGOING_RE = re.compile(
    rf"{NB}(?:تابع|تابعت|يتابع|تتابع|واصل|واصلت|يواصل|تواصل|مواصله|استمر|استمرت|يستمر|تستمر"
    rf"|استمرار){NA}(?:\s+\S+){{0,8}}?\s+و?(?:ب)?(?:تدريب|تاهيل)\s+(?:ال)?(?:مقاتلي|عناصر|قوات"
    rf"|افراد|المقاتلين){NA}"
)
_NOUNS = r"(?:تدريبات|تدريبا|تدريب|مناورات|مناوره|تمرينات|تمارين|تمرينا|تمرين|رمايات)"
_TOTAL_RE = re.compile(rf"{NB}{QUANTITY}\s+(?:من\s+)?(?:ال)?{_NOUNS}{NA}")
_TOTAL_DUAL_RE = re.compile(rf"{NB}[بلو]?(?:تدريبين|مناورتين|تمرينين|تدريبان|مناورتان){NA}")
#: Words that put a line about something else than a drill (a raid, a convoy, a strike).
_FOREIGN_RE = re.compile(
    r"شاحن|اليات|طايرات شحن|اعتقل|داهم|دهم|انزال|القبض|هجوم|هجمات|استهدف|غاره|غارات|قصف"
    r"|اسقط|مقتل|قتل|سقطت|انفجار|دخلت|دخول"
)
#: ... unless they describe what the drill simulated ("حاكت صد هجوم", "تدريب علي استهداف").
_SCENARIO_BEFORE_RE = re.compile(
    r"(?:صد|لصد|التصدي|تصدي|محاكاه|لمحاكاه|تحاكي|يحاكي|حاكت|حاكي|علي|مواجهه|لمواجهه"
    r"|احباط|لاحباط|افشال|بالتعامل مع|التعامل مع)\s+(?:\S+\s+)?[لب]?$"
)
_ACTION_RE = re.compile(
    rf"{NB}[وف]?(?:اجرت|اجري|اجروا|نفذت|نفذ|اجراء|تنفيذ|تجري|يجري|اقامت|اقام|نظمت|نظم"
    rf"|شهدت|شهد|جرت|جري|بدات|بدا|انطلقت|اختتمت|اطلقت|قامت|شاركت|شارك|خاضت|اجريت"
    rf"|تدرب|تدربت|يتدرب|تتدرب){NA}"
)
_CONTRAST_RE = re.compile(rf"(?:فيما|بينما|في حين|كما){NA}")
_TODAY_RE = re.compile(rf"{NB}اليوم{NA}")
_LIVE_RE = re.compile(
    r"الذخيره الحيه|بالذخيره الحيه|رمايات حيه|الرمايات الحيه|بالرصاص الحي|بالذخاير الحيه"
)
_PARTICIPANTS = (Actor.INTERNATIONAL_COALITION, Actor.US_FORCES, Actor.SDF, Actor.ASAYISH)
_WEAPON_CLASS = (
    r"طايرات|الطايرات|طايره|مروحيات|المروحيات|مروحيه|عربات|مدرعات|المدرعات|دبابات|الدبابات"
    r"|راجمات|راجمه|صواريخ|الصواريخ|قذايف|قذيفتين|مدافع|المدافع|المدفعيه|منظومات|منظومه"
    r"|رشاشات|الرشاشات|اسلحه|الاسلحه|مضادات|قنابل|الطيران"
)
_WEAPON_STOP = (
    r"(?:في|من|علي|الي|خلال|ضمن|مع|عن|حيث|بعد|قبل|لمده|تابعه|التابعه|التحالف|للتحالف|قسد"
    r"|الامريكيه|الاميركيه|الامريكي|الاميركي|اثناء|وسط|بمشاركه|فوق|داخل|قرب|بريف|ريف|لقوات"
    r"|قوات|القوات|التي|الذي|فيها|فيه|منها|كما|اضافه|بالاضافه)"
)
_WEAPON_RE = re.compile(
    rf"{NB}(?:[وب]|بال|وبال|لل|ل)?(?P<w>(?:{_WEAPON_CLASS})"
    rf"(?:\s+(?!{_WEAPON_STOP}{NA})(?!و)[^\s,.;:()]+){{0,2}}){NA}"
)
#: Weapon words that are no weapon here ("تحليق الطايرات", "صواريخ" of a scenario's enemy).
_NOT_WEAPON_BEFORE_RE = re.compile(
    r"(?:تحليق|اسناد|قبل|سماء|اجواء|هجوم|هجمات|لهجوم|صد|التصدي|لصد|استهداف)\s*$"
)
_WEAPON_TAIL_RE = re.compile(
    r"\s+(?:\S*(?:تابع|تحلق|شارك|استخدم|ايضا)\S*|حيه|الحيه|بالذخيره|وهميه)(?:\s.*)?$"
)
_SCENARIO_RE = re.compile(
    r"(?:تحاكي|يحاكي|لمحاكاه|محاكاه|حاكت|حاكي|تحاكي|وحاكت|وحاكي)\s+(?P<s>.+?)"
    r"(?=,|\s+(?:من قبل|لرفع|تعزيزا|بهدف|في|قرب|داخل|وذلك|واستخدمت|واستخدم|بمشاركه"
    r"|بحضور|يضم|تضم|يوجد|توجد)\s|$)"
    r"|(?:تدريب|تدريبات|تمرين|مناوره|مناورات)(?:\s+\S+){0,2}?\s+(?:علي|لمحاكاه)\s+"
    r"(?P<o>(?!الذخيره|استخدام|الرمي|رمايات)[^\s,]+(?:\s+(?!في\s|ب(?:قاعده|حقل))[^\s,]+){0,3}?)"
    r"(?=,|\s+(?:في|ب(?:قاعده|حقل|مطار))\s|\s+بمشاركه|\s*$)"
    r"|(?P<t>(?:ضرب|استهداف) اهداف(?: وهميه)?)"
)
#: "- الشدادي (28 تشرين الاول): ..." or "14 حزيران – الشدادي – ...": the label is the place.
_LABEL_RE = re.compile(r"^(?P<l>[^\s\d(),:–-][^\d(),:–-]{1,30}?)\s*(?:\(|–|-|:)")


def extract(ctx: Ctx, claimed: Claims) -> Found:
    """Drill records, the stated total of drills, and the spans the records were read from
    as claims (a drill that simulated an attack or a raid is neither). Drills run first
    among the claiming categories and heed no claim."""
    reading = _Reading(ctx)
    for index, sentence in enumerate(ctx.sentences):
        reading.sentence(index, sentence)
    return reading.found()


@dataclass
class _Reading:
    """One pass over a report's sentences, in order, and what the sentences read so far
    tell the next: the list a header announced, who its drills involve, the line of the
    last drill."""

    ctx: Ctx
    records: list[Record] = field(default_factory=list)
    #: The items the records were read from: the drills' claims.
    spans: list[Span] = field(default_factory=list)
    stated: int | None = None
    #: Participants named by the header of a list of drills: each item's too.
    header_actors: list[Actor] = field(default_factory=list)
    #: A total told without items ("سبعه تدريبات"): the one record when no item follows.
    aggregate: Record | None = None
    last_line: int = -1
    #: Index of the last header or item of an announced list of drills.
    block: int = -2

    def found(self) -> Found:
        records = self.records
        if not records and self.aggregate is not None:
            records = [self.aggregate]
        totals = {"drills": self.stated} if self.stated is not None else {}
        return Found(records, totals, Claims(tuple(self.spans)))

    def sentence(self, index: int, sentence: Sentence) -> None:
        ctx = self.ctx
        text = sentence.span.text
        listed = index - self.block == 1 and _listed(ctx, sentence)
        if not listed and not _tells_of_drills(sentence):
            return
        header, items = split_items(ctx, sentence)
        lead = header.text if header is not None else (text if not sentence.dates else "")
        total = stated_total(lead, _TOTAL_RE, _TOTAL_DUAL_RE)
        announces = not sentence.dates and (is_list_header(text) or sentence.colon)
        if total is None and not sentence.dates and self._places_of_list(index, sentence):
            return
        if total is not None or (announces and CUE_RE.search(text) and not listed):
            self._header(index, sentence, lead, total, announces=announces)
            if not sentence.dates:
                return
        elif header is not None and items:
            items = absorb_header(header, items, ctx, keep=False)
        for item in items:
            self._item(sentence, item, listed=listed)
        if listed or CUE_RE.search(text):
            self.block = index if (listed or self.block == index - 1) else self.block

    def _header(
        self, index: int, sentence: Sentence, lead: str, total: int | None, *, announces: bool
    ) -> None:
        """A sentence that states a total of drills or announces a list of them."""
        if total is not None:
            self.stated = total
        self.header_actors = actors_in(lead, _PARTICIPANTS) or self.header_actors
        self.block = index
        lone = total is not None and not sentence.dates and not announces
        if lone and total is not None and not self._per_place(sentence, total):
            self.aggregate = _aggregate(self.ctx, sentence, total)
            if self.aggregate.get("date") is not None:
                self.stated = None  # "اجرت ... اليوم تدريبين": one dated event, no total

    def _places_of_list(self, index: int, sentence: Sentence) -> bool:
        """The undated sentence after a header that stated a total names the drills' places
        ("هي: تدريب ... في قاعده X, وتدريب ... في Y"): one drill per place."""
        if index - self.block != 1 or self.stated is None or self.records:
            return False
        return self._per_place(sentence, self.stated)

    def _per_place(self, sentence: Sentence, total: int) -> bool:
        """One undated drill per place when ``sentence`` names two to ``total`` places
        ("ثلاثه تدريبات في قاعده X وحقل Y ومعمل Z"); whether it did."""
        places = _places(sentence.span.text)
        if not 2 <= len(places) <= total:
            return False
        actors = actors_in(sentence.span.text, _PARTICIPANTS) or self.header_actors
        cue = CUE_RE.search(sentence.span.text)
        begin = sentence.span.text.rfind(",", 0, cue.start()) + 1 if cue is not None else 0
        for start, end in places:
            piece = self.ctx.span_of(sentence.span, begin, end)
            if piece is None:
                continue
            record = _record(self.ctx, Item(sentence, piece, None), None, actors)
            record["location"] = self.ctx.clean(sentence.span, start, end)
            self.records.append(record)
            self.spans.append(piece)
            begin = end
        self.aggregate = None
        return True

    def _item(self, sentence: Sentence, item: Item, *, listed: bool) -> None:
        """One item: a drill of its own, or (undated, on the same line) details of the last."""
        ctx = self.ctx
        same_line = bool(self.records) and sentence.line == self.last_line
        if item.date is None:
            if same_line and not listed:
                _enrich(ctx, self.records[-1], item)
                return
            if not listed and _ACTION_RE.search(item.span.text) is None:
                return
        record = _record(ctx, item, ctx.date_of(item), self.header_actors)
        if not record["participants"] and same_line:
            record["participants"] = list(self.records[-1]["participants"])  # "كما نفذت ..."
        self.records.extend(_one_per_day(ctx, item, record))
        self.spans.append(item.span)
        self.last_line = sentence.line


def _one_per_day(ctx: Ctx, item: Item, record: Record) -> list[Record]:
    """A drill item dated by a list of days ("تدريبات في قاعده تل بيدر يومي 2 و14 تشرين
    الثاني"): one drill per day; else the record alone."""
    if item.date is None:
        return [record]
    one_group = len(item.sentence.dates) == 1  # "5 تدريبات في 3 و7 و12 اذار": all its days
    days = day_list((item.sentence.span if one_group else item.span).text, ctx.dates)
    if len(days) < 2 or item.date not in days:
        stated = stated_total(item.span.text, _TOTAL_RE, _TOTAL_DUAL_RE)
        return [{**record, "count": stated}] if stated else [record]  # "اليوم تدريبين": 2
    if len(_places(item.span.text)) > 1:
        record = {**record, "location": None}  # "في حقل العمر وقاعده الشدادي": no one place
    return [{**record, "date": day, "weapons": list(record["weapons"])} for day in days]


def _tells_of_drills(sentence: Sentence) -> bool:
    """Whether a sentence (not an item of an announced list) tells of drills: none, or only
    denied ones ("لم تجر اي تدريبات"), or training as an ongoing task are not."""
    text = sentence.span.text
    if CUE_RE.search(asserted(text)) is None:
        return False
    return bool(sentence.dates) or _ONGOING_RE.search(text) is None


def _places(text: str) -> list[tuple[int, int]]:
    """The places ``text`` names one after the other (each searched after the last)."""
    out: list[tuple[int, int]] = []
    start = 0
    while (where := find_location(text[start:])) is not None:
        out.append((start + where[0], start + where[1]))
        start += where[1]
    return out


def _aggregate(ctx: Ctx, sentence: Sentence, total: int) -> Record:
    """The one record of a total told without items ("سبعه تدريبات للتحالف مع قسد"); in a
    short item, a drill "اليوم" ("اجرت ... اليوم تدريبين") is the dateline's, at its place."""
    own = _own_clauses(ctx, sentence.span)
    aggregate: Record = {
        "count": total,
        "participants": actors_in(own.text, _PARTICIPANTS),
        "evidence": ctx.evidence(own),
    }
    if ctx.dateline is not None and _TODAY_RE.search(own.text):
        aggregate["date"] = ctx.dateline
    places = _places(own.text)
    if len(places) == 1:  # "تدريبين في حقل العمر": the drills' one place
        aggregate["location"] = ctx.clean(own, *places[0])
    if _LIVE_RE.search(sentence.span.text):
        aggregate["live_fire"] = True
    return aggregate


def _own_clauses(ctx: Ctx, span: Span) -> Span:
    """``span`` without the clauses after its drills that tell something else ("7 تدريبات،
    و5 عمليات امنيه ...")."""
    text = span.text
    drill = CUE_RE.search(text)
    start = drill.end() if drill is not None else 0
    # "..., فيما اجرت القوات الامريكيه تدريبين": the drills' clause begins at the contrast.
    begin = clause_bounds(text, drill.start())[0] if drill is not None else 0
    if begin and _CONTRAST_RE.match(text, begin):
        span = ctx.span_of(span, begin, len(text)) or span
        return _own_clauses(ctx, span)
    for comma in re.finditer(",", text[start:]):
        if _FOREIGN_RE.search(text, start + comma.end()) or re.search(
            r"عمليات|عمليه|شاحن|طاير", text[start + comma.end() :]
        ):
            return ctx.span_of(span, 0, start + comma.start()) or span
    return span


def _listed(ctx: Ctx, sentence: Sentence) -> bool:
    """An item of an announced list that need not repeat the word "تدريب": dated, or set off
    by a list marker, starting its line, about nothing else."""
    line = ctx.doc.lines[sentence.line]
    text = sentence.span.text
    bulleted = BULLET_RE.match(line.text) is not None
    if not (sentence.dates or bulleted):
        return False
    if not sentence.dates and len(text.split()) <= 3 and CUE_RE.search(text) is None:
        return False  # a numbered section heading ("3- الضربات"), not an item
    for match in _FOREIGN_RE.finditer(text):
        if _SCENARIO_BEFORE_RE.search(text[: match.start()]) is None:
            return False
    return True


def _record(ctx: Ctx, item: Item, date: dt.date | None, header_actors: list[Actor]) -> Record:
    text = item.span.text
    record: Record = {"date": date}
    where = find_location(text)
    if where is None:
        label = _LABEL_RE.match(BULLET_RE.sub("", text, count=1))
        if label is not None and CUE_RE.search(label.group("l")) is None:
            offset = len(text) - len(BULLET_RE.sub("", text, count=1))
            where = (offset + label.start("l"), offset + label.end("l"))
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
    for weapon in _weapons(ctx, item):
        if weapon not in weapons:
            weapons.append(weapon)
    if record.get("scenario") is None:
        scenario = _scenario(text)
        if scenario is not None:
            record["scenario"] = ctx.clean(item.span, *scenario)


def _weapons(ctx: Ctx, item: Item) -> Iterator[str]:
    """Weapons named in ``item``, as written ("عربات برادلي", "الاسلحه الثقيله")."""
    text = item.span.text
    for match in _WEAPON_RE.finditer(text):
        if _NOT_WEAPON_BEFORE_RE.search(text[: match.start()]):
            continue
        start, end = match.start("w"), match.end("w")
        if " " not in text[start:end] and not text.startswith("ال", start):
            continue  # a bare "صواريخ", "مروحيات": too vague to name a weapon
        tail = _WEAPON_TAIL_RE.search(text, start, end)
        if tail is not None:
            end = tail.start()
        weapon = ctx.clean(item.span, start, end)
        if weapon:
            yield weapon


#: The groups of :data:`_SCENARIO_RE` that hold a scenario, in order of preference.
_SCENARIO_GROUPS = ("s", "o", "t")


def _scenario(text: str) -> tuple[int, int] | None:
    """Where ``text`` says what the drill simulated ("حاكت صد هجوم", "تدريب علي ...")."""
    match = _SCENARIO_RE.search(text)
    if match is None:
        return None
    group = next(g for g in _SCENARIO_GROUPS if match.group(g))
    return match.start(group), match.end(group)
