"""Strikes: attacks on coalition bases (with a per-base breakdown), coalition airstrikes,
drones shot down, shelling.

Which kind a passage tells, and who fired, is :mod:`~llm_extract.backends.rules.strike_kinds`'s
to say; the bases an attack hit are :mod:`~llm_extract.backends.rules.bases`'. This module
reads the report's sentences in order into records: each record's count, place and
casualties, and what a sentence takes from the ones before it (the attacker named in a
general remark, the attack a list line or a toll belongs to, the strike told again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llm_extract.backends.rules import drills
from llm_extract.backends.rules.bases import (
    bases_named_together,
    breakdown,
    opens_with_breakdown,
    without_label_counts,
)
from llm_extract.backends.rules.casualties import casualties
from llm_extract.backends.rules.context import (
    Claims,
    Ctx,
    Found,
    Item,
    Record,
    Sentence,
    absorb_header,
    pieces_without,
    split_items,
)
from llm_extract.backends.rules.lexicon import GOVERNORATE_RE, PLACE_RE, actors_in
from llm_extract.backends.rules.negation import asserted
from llm_extract.backends.rules.numbers import NA, NB, QUANTITY, quantity
from llm_extract.backends.rules.places import find_facility, find_governorate, find_location
from llm_extract.backends.rules.scope import in_scope, over_a_span
from llm_extract.backends.rules.segment import Span
from llm_extract.backends.rules.strike_kinds import (
    AIR_VERB_RE,
    COALITION,
    HOSTILE,
    RAID_RE,
    SHOOTDOWN_RE,
    KindFound,
    attack_before,
    kind_of,
)
from llm_extract.normalize import normalize
from llm_extract.schemas import Actor, StrikeKind

#: Words of a strike, to find a strike's piece of a sentence that also tells of drills.
_STRIKE_WORDS_RE = re.compile(r"هجوم|هجمات|هجوما|غاره|غارات|ضربه|ضربات|قصف|استهدف|اسقط|اعترض")
#: A reply told after the attack it answers ("..., فردت المدفعيه الامريكيه بقصف ..."): a
#: strike of its own, with its own clause as evidence.
_REPLY_RE = re.compile(rf"(?:,\s*|\s)[فو]?(?:رد|ردت|ردوا|ترد){NA}")
#: A strike told again without its subject ("ثم عادت ... لتضرب", "وعاودت قصف"): the
#: attacker of the strike just told.
_AGAIN_RE = re.compile(
    rf"{NB}(?:ثم\s+)?[و]?(?:عادت|عاد|عاودت|عاود|كررت|كرر){NA}"
    rf"|{NB}[لو](?:تضرب|تستهدف|تقصف|يضرب|يستهدف|يقصف){NA}"
)
#: What an airstrike hit when it is a facility ("مستودعا للاسلحه", "مقر قياده"); generic
#: positions ("مواقع") are not targets.
_STRUCK_RE = re.compile(
    rf"{NB}(?:مستودع|مستودعا|مخزن|مخزنا|مقر|مقرا|منشاه|مصنع|مصنعا|معمل)"
    r"\s+(?!(?:تابع|يتبع|تتبع|قرب|في|علي|عند)\S*)[^\s,.]+"
)
_WEAPON_WORDS_RE = re.compile(r"مسير|صاروخ|صواريخ|قذيف|قذايف|هاون|عبوه")
#: Strikes told as going on ("واصلت طايرات التحالف قصف ..."): no count.
_ONGOING_RE = re.compile(rf"{NB}[و]?(?:واصل|تواصل|يواصل|استمر|تستمر|يستمر|مواصله)\S*")
#: Two known places joined: "دير الزور والبوكمال".
_PLACE_LIST_RE = re.compile(rf"{PLACE_RE.pattern}\s*,?\s*{PLACE_RE.pattern}")
_GOV_LIST_RE = re.compile(rf"{GOVERNORATE_RE.pattern}\s*,?\s*{GOVERNORATE_RE.pattern}")
_STRUCK_HEAD_RE = re.compile(r"(?:مستودع|مخزن|مقر|منشا|مصنع|معمل)")
#: Places outside Syria: a strike there ("قرب مطار بغداد") is not the coalition's war in Syria.
_ABROAD_RE = re.compile(
    rf"{NB}[بلو]?(?:بغداد|العراق|اربيل|عين الاسد|الانبار|الاردن|لبنان|اليمن"
    rf"|ايران|البحر الاحمر|الموصل){NA}"
)
_COUNT_RE = re.compile(
    rf"{NB}{QUANTITY}\s+(?:هجوما|هجمات|هجوم|استهدافا|استهدافات|جولات|جوله|غارات|غاره"
    rf"|ضربات|ضربه|عمليات قصف){NA}"
)
#: "عدد الهجمات علي القواعد خلال الشهر الي 4", "بلغت حصيله الاستهدافات 9".
_TALLY_RE = re.compile(
    rf"{NB}(?:عدد|حصيله|مجموع|اجمالي)\s+(?:ال)?(?:هجمات|استهدافات|اعتداءات)"
    rf"(?:\s+(?!(?:الي|بلغ|وصل)\S*)\S+){{0,8}}?\s+(?:(?:الي|بلغ\S*|وصل\S*)\s+)?{QUANTITY}"
)
_DUAL_RE = re.compile(
    rf"{NB}[بلو]?(?:هجومين|هجومان|غارتين|غارتان|ضربتين|ضربتان|جولتين|استهدافين){NA}"
)
_SINGULAR_RE = re.compile(
    rf"{NB}[بلو]?(?:هجوم|هجوما|غاره|ضربه|استهداف|طايره|مسيره|رشقه|قذيفه)(?:\s|$)"
)
#: Strikes in the plural with no number ("شنت ... غارات", "ردت ... بغارات").
_PLURAL_RE = re.compile(rf"{NB}[بلو]?(?:ال)?(?:غارات|ضربات|هجمات|استهدافات){NA}")
_TARGET_CUE_RE = re.compile(rf"{NB}(?:مواقع|مقرات|مقر|نقاط|تجمعات|اهداف|مصادر)(?:\s|$)")
#: "The base" referred back to (used where the passage names no place).
_THE_BASE_RE = re.compile(rf"{NB}[و]?(?:لل|ال)قاعده{NA}")
_DEFENCES_RE = re.compile(rf"{NB}(?:ال)?(?:دفاعات|دفاع جوي|منظومات|منظومه){NA}")
_DOWNED_NUMBER_RE = re.compile(
    rf"{NB}(?:{QUANTITY}\s+(?:طايرات|مسيرات|طايره|مسيره)|(?P<dual>مسيرت(?:ين|ان)|طايرت(?:ين|ان)))"
)
#: Where the guns stand ("المتمركزه في حقل العمر", "المنتشره قرب قاعده X"): not the place hit.
_POSITIONED_RE = re.compile(
    rf"{NB}(?:ال)?(?:متمركز|منتشر|متواجد|موجود|مرابط)\S*\s+(?:في|قرب|عند|داخل|بالقرب من|ب)\s*"
)

#: The stated total (a :class:`~llm_extract.schemas.StatedTotals` field) that the count of
#: an undated strike of a monthly report gives, by kind.
_TOTAL_OF: dict[StrikeKind, str] = {
    StrikeKind.ATTACK_ON_BASE: "attacks",
    StrikeKind.AIRSTRIKE: "airstrikes",
}
#: Kinds of strike that a sentence can tell again without its subject ("ثم عادت ... لتضرب").
_REPEATABLE = (StrikeKind.AIRSTRIKE, StrikeKind.SHELLING)
#: Key of a record under construction: its count is a stated number (not one event's 1).
#: Removed before the record leaves this module.
_STATED = "_stated"


def extract(ctx: Ctx, claimed: Claims) -> Found:
    """Strike records and the stated totals of attacks and airstrikes. Items that an
    earlier category claimed are left alone; strikes claim nothing."""
    reading = _Reading(ctx, claimed)
    for index, sentence in enumerate(ctx.sentences):
        reading.sentence(index, sentence)
    return reading.found()


@dataclass
class _Reading:
    """One pass over a report's sentences, in order, and what the sentences read so far
    tell the next."""

    ctx: Ctx
    claimed: Claims
    records: list[Record] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    #: The line of the last record: a sentence on the next line may continue it.
    last_line: int = -2
    #: Who a general remark on attacks against the bases blamed, with its sentence's index:
    #: the count that follows it ("... 27 هجوما على تلك القواعد") takes it.
    remark: tuple[int, Actor | None] = (-9, None)
    #: The month's tally of attacks ("ليرتفع عدد الهجمات ... الي 4"): the stated total.
    tallied: int | None = None
    #: A total that announces a list ("تعرضت القواعد لـ 5 هجمات:") and its sentence's
    #: index: when dated items of its kind follow, they are the records and the total only
    #: a stated total (its record is removed).
    announced: tuple[Record, int] | None = None

    def found(self) -> Found:
        totals = dict(self.totals)
        if self.tallied is not None:
            totals["attacks"] = self.tallied
        return Found(self.records, totals)

    def sentence(self, index: int, sentence: Sentence) -> None:
        if drills.CUE_RE.search(sentence.span.text):
            # a drill's sentence: what it simulated is no strike; other pieces may be
            piece = pieces_without(self.ctx, sentence, drills.CUE_RE, _STRIKE_WORDS_RE)
            if piece is None:
                return
            sentence = piece
        if self._continues_breakdown(sentence):
            self.last_line = sentence.line
            return
        for item in _items(self.ctx, sentence):
            if not self.claimed.covers(item.span):
                self._item(index, sentence, item)

    def _continues_breakdown(self, sentence: Sentence) -> bool:
        """Whether ``sentence`` is a line of the per-base list of the attack just told (its
        counts are then added to that attack), not a statement of its own."""
        previous = self.records[-1] if self.records else None
        text = sentence.span.text
        return (
            previous is not None
            and previous["kind"] == StrikeKind.ATTACK_ON_BASE
            and not sentence.dates
            and sentence.line - self.last_line <= 1
            and opens_with_breakdown(text)
            and breakdown(self.ctx, text, previous, sentence.span, append=True)
        )

    def _item(self, index: int, sentence: Sentence, item: Item) -> None:
        ctx = self.ctx
        own = _in_scope(ctx, item)
        if own is None:
            return  # "منذ 17 تشرين الاول ... 58 هجوما": a cumulative total, background
        item = own
        previous = self.records[-1] if self.records else None
        follows = sentence.line - self.last_line <= 1
        record = _classify(ctx, item, previous) or self._listed(index, item)
        if record is None and previous is not None and follows:
            record = _again(ctx, item, previous)
        if record is not None and _abroad(record):
            return
        if self._sums_the_attacks(item, record):
            return
        if record is not None and _remark(record, item, ctx):
            self.remark = (index, record["attacker"])
            return
        if record is not None:
            self._add(index, sentence, item, record)
        elif (
            previous is not None
            and follows
            and item.date is None
            and not RAID_RE.search(item.span.text)
        ):
            _add_casualties(previous, ctx, item.span)  # "وادت الهجمات الي ...": its toll

    def _itemises(self, index: int, item: Item, record: Record) -> None:
        """A dated ``record`` of the kind of the total announced just before is an item of
        its list: the total keeps no record of its own."""
        if self.announced is None or item.date is None:
            return
        total, at = self.announced
        if record["kind"] == total["kind"] and index - at <= 12:
            self.records = [r for r in self.records if r is not total]

    def _listed(self, index: int, item: Item) -> Record | None:
        """An item of the list a total announced, of the total's kind though it does not
        say so ("الاول بطايره مسيره علي حقل العمر في 2 تشرين الاول"): dated and naming a
        base or a weapon, in the sentences right after it."""
        if self.announced is None or item.date is None or index - self.announced[1] > 12:
            return None
        if not (find_facility(item.span.text) and _WEAPON_WORDS_RE.search(item.span.text)):
            return None
        total = self.announced[0]
        return _classify(self.ctx, item, None, forced=(total["kind"], total["attacker"]))

    def _sums_the_attacks(self, item: Item, record: Record | None) -> bool:
        """Take the month's tally of attacks told in ``item`` as the stated total; whether
        ``record`` is only that tally of the attacks told before (no record of its own)."""
        tally = _tally(item.span.text)
        if tally is None or self.ctx.dates.period is None:
            return False
        self.tallied = tally
        return record is not None and record.get("count") == tally and _attacks(self.records)

    def _add(self, index: int, sentence: Sentence, item: Item, record: Record) -> None:
        """Date ``record``, give it the attacker of a remark just before, and keep it (with
        a drone its attack's defences downed)."""
        ctx = self.ctx
        record["date"] = ctx.date_of(item)
        if record["attacker"] is None and index - self.remark[0] <= 2:
            record["attacker"] = self.remark[1]
        counted = record.pop(_STATED, False)
        stated = counted and item.date is None
        # "116 غاره ... خلال الاسبوع (الممتد بين 15 و21 تموز)": a total over a span
        spanned = counted and over_a_span(item.span.text)
        if spanned:
            record["date"] = None  # a summary's total, not the dateline's one day
        total = _TOTAL_OF.get(record["kind"])
        if total is not None and (spanned or (stated and ctx.dates.period is not None)):
            self.totals.setdefault(total, record["count"])
        self._itemises(index, item, record)
        if stated and sentence.colon:
            self.announced = (record, index)  # its items may follow
        self.records.append(record)
        downed = _downed_too(ctx, item, record)
        if downed is not None:
            self.records.append(downed)
        self.last_line = sentence.line


def _in_scope(ctx: Ctx, item: Item) -> Item | None:
    """``item`` without its clauses that count since before the report's span; ``None``
    when nothing else is left."""
    bounds = in_scope(item.span.text, ctx.dates, ctx.dateline)
    if bounds is None:
        return None
    if bounds == (0, len(item.span.text)):
        return item
    span = ctx.span_of(item.span, *bounds)
    return Item(item.sentence, span, item.date) if span is not None else None


def _items(ctx: Ctx, sentence: Sentence) -> list[Item]:
    """The items of ``sentence`` (a header that announces nothing belongs to the first),
    each split before a reply to the attack it tells."""
    header, items = split_items(ctx, sentence)
    return [
        part
        for item in absorb_header(header, items, ctx, keep=False)
        for part in _replies(ctx, item)
    ]


def _replies(ctx: Ctx, item: Item) -> list[Item]:
    """An item split before a reply to the attack it tells ("سقطت قذيفتان ..., فردت المدفعيه
    الامريكيه بقصف ..."), when both parts are strikes; else the item alone."""
    text = item.span.text
    for match in _REPLY_RE.finditer(text):
        first = ctx.span_of(item.span, 0, match.start())
        second = ctx.span_of(item.span, match.start(), len(text))
        if first is None or second is None:
            continue
        if kind_of(asserted(first.text)) is not None and kind_of(asserted(second.text)) is not None:
            return [Item(item.sentence, first, item.date), Item(item.sentence, second, item.date)]
    return [item]


def _again(ctx: Ctx, item: Item, previous: Record) -> Record | None:
    """A strike told again without its subject ("ثم عادت ... لتضرب موقعا"): the kind and the
    attacker of the strike just told."""
    text = asserted(item.span.text)
    if previous["kind"] not in _REPEATABLE or previous["attacker"] is None:
        return None
    if not _AGAIN_RE.search(text) or not AIR_VERB_RE.search(text):
        return None
    if actors_in(text, COALITION) or RAID_RE.search(text):
        return None
    return _classify(ctx, item, previous, forced=(previous["kind"], previous["attacker"]))


def _abroad(record: Record) -> bool:
    """A strike placed outside Syria ("قرب مطار بغداد")."""
    location = record.get("location")
    return isinstance(location, str) and _ABROAD_RE.search(normalize(location)) is not None


def _tally(text: str) -> int | None:
    """The month's number of attacks as a tally: "ليرتفع عدد الهجمات ... الي 4"."""
    match = _TALLY_RE.search(text)
    if match is None:
        return None
    q = quantity(match.group("pre"), match.group("num"))
    return q.value if q is not None else None


def _attacks(records: list[Record]) -> bool:
    return any(record["kind"] == StrikeKind.ATTACK_ON_BASE for record in records)


def _downed_count(text: str) -> int:
    """How many drones were downed: "اعترضت مسيرتين" is 2, "اسقطت 3 مسيرات" 3, else 1."""
    verb = SHOOTDOWN_RE.search(text)
    if verb is None:
        return 1
    if verb.group("them"):
        return 2 if verb.group("them") == "هما" else 1  # "واسقطتهما": the two
    found = _DOWNED_NUMBER_RE.search(verb.group())
    if found is None:
        return 1
    if found.group("dual"):
        return 2
    q = quantity(found.group("pre"), found.group("num"))
    return q.value if q is not None else 1


def _remark(record: Record, item: Item, ctx: Ctx) -> bool:
    """An attack on the bases told in general, with no date, count or base of its own ("باتت
    القواعد هدفا لهجمات الفصائل"): no record, but it may name who fired."""
    has_date = item.date is not None or ctx.dates.period is None
    return (
        record["kind"] == StrikeKind.ATTACK_ON_BASE
        and not has_date
        and record.get("count") is None
        and not record["targets"]
        and record.get("location") is None
    )


def _downed_too(ctx: Ctx, item: Item, attack: Record) -> Record | None:
    """A drone of an attack downed by the base's defences, told in the attack's own sentence
    ("... بمسيرتين، واسقطت الدفاعات احداهما"): a record of its own."""
    text = asserted(item.span.text)
    verb = SHOOTDOWN_RE.search(text)
    if (
        attack["kind"] != StrikeKind.ATTACK_ON_BASE
        or verb is None
        or not attack_before(text, verb.start())
    ):
        return None
    comma = text.rfind(",", 0, verb.start())
    clause = ctx.span_of(item.span, comma + 1 if comma >= 0 else verb.start(), len(text))
    if clause is None:
        return None
    found = actors_in(clause.text)
    if not found and _DEFENCES_RE.search(text):
        found = [Actor.INTERNATIONAL_COALITION]  # the defences of the base attacked
    return {
        "kind": StrikeKind.DRONE_SHOOTDOWN,
        "attacker": found[0] if found else None,
        "targets": [],
        "count": _downed_count(text) if verb.group("them") else 1,
        "date": attack.get("date"),
        "location": attack.get("location"),
        "governorate": attack.get("governorate"),
        "casualties": [],
        "evidence": ctx.evidence(clause),
    }


def _classify(
    ctx: Ctx,
    item: Item,
    previous: Record | None = None,
    forced: KindFound | None = None,
) -> Record | None:
    """The strike ``item`` tells (of kind ``forced`` when given), or ``None``."""
    text = item.span.text
    found_kind = forced or kind_of(asserted(text))
    if found_kind is None:
        return None
    kind, attacker = found_kind
    record: Record = {"kind": kind, "attacker": attacker, "targets": []}
    _count(record, text, item.date is not None or ctx.dateline is not None)
    if kind == StrikeKind.ATTACK_ON_BASE:
        _bases_hit(ctx, item, record)
        location_norm = None
    else:
        if kind == StrikeKind.AIRSTRIKE:
            _facility_struck(ctx, item, record)
        location_norm = _place_struck(ctx, item, record, previous)
    several = len(record["targets"]) > 1  # attacks on several bases: no one place
    record["governorate"] = None if several else find_governorate(text, location_norm)
    record["casualties"] = _casualties(ctx, item, kind)
    record["evidence"] = ctx.evidence(item.span)
    return record


def _count(record: Record, text: str, dated: bool) -> None:
    """How many strikes ``text`` tells: a number ("8 هجمات"), a dual ("غارتين"), the
    drones downed, or one; whether the number is stated (a possible total)."""
    count = _COUNT_RE.search(without_label_counts(text))
    if count is not None:
        q = quantity(count.group("pre"), count.group("num"))
        record["count"] = q.value if q is not None else None
        record[_STATED] = q is not None and q.value > 1
    elif _DUAL_RE.search(text):
        record["count"] = 2
        record[_STATED] = True
    elif record["kind"] == StrikeKind.DRONE_SHOOTDOWN:
        record["count"] = _downed_count(text)
    elif _ONGOING_RE.search(text):
        pass  # "واصلت طايرات التحالف قصف ...": a campaign, not one strike
    elif _PLURAL_RE.search(text) and not _SINGULAR_RE.search(text):
        pass  # "غارات" without a number: no count
    elif _SINGULAR_RE.search(text) or dated:
        record["count"] = 1  # one dated event (two shells in it are still one attack)


def _bases_hit(ctx: Ctx, item: Item, record: Record) -> None:
    """The bases an attack hit: a per-base breakdown, bases named together, or the one base
    named (also the attack's location)."""
    text = item.span.text
    if breakdown(ctx, text, record, item.span) or bases_named_together(
        ctx, text, record, item.span
    ):
        return
    target = find_facility(text)
    single = record.get("count") in (None, 1)
    if target is not None and (single or len(_facilities(text)) == 1):  # "3 هجمات علي X"
        name = ctx.clean(item.span, *target)
        if name:
            record["targets"].append({"name": name, "count": record.get("count")})
            record["location"] = name


def _facilities(text: str) -> list[tuple[int, int]]:
    """Every facility ``text`` names, one after the other."""
    out: list[tuple[int, int]] = []
    where = find_facility(text)
    while where is not None:
        out.append(where)
        where = find_facility(text, where[1])
    return out


def _facility_struck(ctx: Ctx, item: Item, record: Record) -> None:
    """The facility an airstrike hit ("مستودعا للاسلحه") as its target."""
    facility = _STRUCK_RE.search(item.span.text)
    if facility is not None:
        name = ctx.clean(item.span, facility.start(), facility.end())
        if name:
            record["targets"].append({"name": name, "count": 1})


def _place_struck(ctx: Ctx, item: Item, record: Record, previous: Record | None) -> str | None:
    """Set the place a strike hit (not the base it was fired from) as ``record``'s location;
    the place's normalised text, for its governorate."""
    text = asserted(item.span.text)  # not a place of an attack referred back to
    kind = record["kind"]
    offset = _after_target_cue(text, kind)
    if kind == StrikeKind.AIRSTRIKE:
        offset = _after_struck(text, offset)  # "غارات علي مستودع ... قرب البوكمال"
    where = find_location(text[offset:], governorate_fallback=True)
    if where is None and offset:
        offset, where = 0, find_location(text, governorate_fallback=True)
    if where is not None:
        start, end = where[0] + offset, where[1] + offset
        if _PLACE_LIST_RE.search(text, max(0, start - 25), end + 25) or _GOV_LIST_RE.search(
            text, max(0, start - 25), end + 25
        ):
            return None  # "في دير الزور والبوكمال والميادين": several places, no one
        record["location"] = ctx.clean(item.span, start, end)
        return text[start:end]
    if kind == StrikeKind.DRONE_SHOOTDOWN and previous is not None and _THE_BASE_RE.search(text):
        # "الدفاعات الجويه للقاعده": the base of the attack just told.
        record["location"] = previous.get("location")
        return normalize(record["location"] or "") or None
    return None


def _after_struck(text: str, offset: int) -> int:
    """Past the facilities an airstrike hit (its targets, not its place), from ``offset``."""
    where = find_location(text[offset:])
    while where is not None and _STRUCK_HEAD_RE.match(text, offset + where[0]):
        offset += where[1]
        where = find_location(text[offset:])
    return offset


def _after_target_cue(text: str, kind: StrikeKind) -> int:
    """Where to look for the place struck: after "مواقع", "مقرات"... (not for a drone
    downed); for a shelling, after the base the guns stand in; else from the start."""
    cue = _TARGET_CUE_RE.search(text)
    offset = cue.end() if cue is not None and kind != StrikeKind.DRONE_SHOOTDOWN else 0
    if not offset and kind == StrikeKind.SHELLING:
        offset = _after_position(text)
    return offset


def _casualties(ctx: Ctx, item: Item, kind: StrikeKind) -> list[Record]:
    """The casualties ``item`` tells; an airstrike's unnamed dead are the side it struck,
    when the report names it."""
    text = item.span.text
    found = casualties(text, lambda s, e: ctx.clean(item.span, s, e))
    if kind == StrikeKind.AIRSTRIKE:
        struck = actors_in(text, HOSTILE)
        for entry in found:
            if entry["party"] == Actor.OTHER and struck:
                entry["party"] = struck[0]
    return found


def _after_position(text: str) -> int:
    """The offset after the base the guns fire from, or 0 when the text names none."""
    position = _POSITIONED_RE.search(text)
    if position is None:
        return 0
    base = find_facility(text, position.end(), min(len(text), position.end() + 40))
    return base[1] if base is not None and base[0] == position.end() else 0


def _add_casualties(record: Record, ctx: Ctx, span: Span) -> None:
    if not record.get("casualties"):
        record["casualties"] = casualties(span.text, lambda s, e: ctx.clean(span, s, e))
