"""Strikes: attacks on coalition bases (with a per-base breakdown), coalition airstrikes,
drones shot down, shelling."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from llm_extract.backends.rules import drills
from llm_extract.backends.rules.casualties import casualties
from llm_extract.backends.rules.context import (
    Ctx,
    Item,
    Record,
    absorb_header,
    claimed,
    split_items,
)
from llm_extract.backends.rules.lexicon import FACILITY, PLACE_RE, actors_in
from llm_extract.backends.rules.negation import asserted
from llm_extract.backends.rules.numbers import NA, NB, QUANTITY, quantity
from llm_extract.backends.rules.places import _facility, find_governorate, find_location
from llm_extract.backends.rules.segment import Span
from llm_extract.normalize import normalize
from llm_extract.schemas import Actor

#: A drone downed or intercepted; the subject (air defences of a base...) may come between.
_SHOOTDOWN_RE = re.compile(
    r"(?:اسقط|اسقاط|اسقطت|اسقطوا|اعترضت|اعترض|اعتراض)\s+(?:\S+\s+){0,8}?(?:احدي\s+)?"
    r"(?:ال)?(?:طايره|طايرات|مسيره|مسيرات|درون|مسيرت(?:ين|ان)|طايرت(?:ين|ان))"
    r"|(?:اسقطت|اسقط|اسقاط|اعترضت|اعترض|اعتراض)\s+(?:\S+\s+){0,4}?(?:احداها|احداهما|واحده منها)"
    r"|(?:طايره|مسيره|مسيرات|درون)\s+(?:\S+\s+){0,8}?[وف]?(?:اسقطتها|اسقاطها|اسقطوها|اسقطها)"
)
_AIR_NOUN_RE = re.compile(
    r"طايرات|طايره حربيه|طايره مسيره تابعه|مقاتلات|مقاتله|مقاتلت(?:ان|ين)|طايرت(?:ان|ين)"
    r"|الطيران الحربي|الطيران الامريكي"
    r"|طيران التحالف|الطيران التابع|مروحيات|مروحيه|مروحيت(?:ان|ين)|مسيره تابعه|مسيرات تابعه"
)
#: Aircraft that only fly over ("سمع تحليق لطايرات التحالف") or are the enemy's drones
#: ("لاطلاق طايرات مسيره"): no airstrike of their own.
_NOT_STRIKING_RE = re.compile(
    r"(?:تحليق|حلق|حلقت|يحلق|تحلق)\s+(?:ل)?(?:ال)?(?:طاير|طيران|مروحي|مقاتل)\S*(?:\s+\S+){0,2}"
    r"|(?:ال)?طايرات\s+(?:ال)?مسيره"
)
_AIR_VERB_RE = re.compile(
    r"قصف|استهدف|ضرب|غار|دمر|شن\S*\s+(?:\S+\s+){0,3}?(?:غار|ضرب|هجم|هجوم|قصف)"
)
_SUPPORT_RE = re.compile(
    rf"{NB}[وب]?(?:مسانده|دعم|غطاء|موازره|اسناد|تغطيه){NA}(?:\s+[^\s,.]+){{0,3}}"
)
#: A raid or a campaign backed by aircraft is an arrest, not an airstrike.
_RAID_RE = re.compile(r"اعتقال|اعتقل|حمله|مداهم|داهم|دهم|انزال|القبض|تمشيط")
_AIR_RE = re.compile(
    r"غاره|غارات|غارتين|غارتان|ضربه جويه|ضربات جويه|قصف جوي|القصف الجوي|قصفا جويا"
    r"|ضربات صاروخيه جويه"
    r"|(?:ضربه|ضربات|غاره|غارات|قصف)\s+(?:من|ل|نفذتها|شنتها)\s*(?:ال)?(?:طايره|طايرات|مسيره|مسيرات|مقاتله|مقاتلات|طيران)"
    r"|الطيران الحربي (?:\S+ ){0,3}?(?:قصف|استهدف)"
)
#: An attack as such: "هجوم", "استهداف", "قصف", "رشقه".
_EVENT_RE = re.compile(r"هاجم|هجوم|هجمات|هجوما|استهداف|استهدف|قصف|اعتداء|رشقه")
#: Weapons are an attack only where they fall, explode, hit or are fired: a convoy carrying
#: rockets, or air-defence missiles deployed at a base, is none.
_WEAPON_RE = re.compile(r"قذايف|قذيفه|قذيفت|صواريخ|صاروخ|مسيرات|مسيره|مسيرت|هاون|انتحاري")
_IMPACT_RE = re.compile(
    r"سقط|سقوط|تساقط|انفجر|انفجار|طال|ضرب|اصابت|اصاب(?!ه|ات)|اطلق|اطلاق|اعترض|اسقط|دوي"
)
_BASE_RE = re.compile(rf"{NB}[بلو]?(?:{FACILITY}|(?:ال)?قواعد|قاعدتا|قاعدتي|قاعدتين){NA}")
_SHELL_RE = re.compile(
    r"قصف مدفعي|قصفا مدفعيا|بالمدفعيه|قصف صاروخي|قذايف مدفعيه|قذايف صاروخيه"
    r"|(?:ال)?(?:مدفعيه|راجمات)\s+(?:\S+\s+){0,6}?(?:ب|ل)?(?:قصف|استهداف|استهدفت|قصفت)"
    # the verb first: "قصفت مدفعيه التحالف بلده ..."
    rf"|{NB}[و]?(?:قصفت|قصف|استهدفت|دكت){NA}\s+(?:ال)?(?:مدفعيه|راجمات)"
)
_GUNS_RE = re.compile(r"مدفعي|راجمات")
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
#: Two or more bases named together: "قاعدتا التنف وحقل العمر", "قواعد قسرك والشدادي".
_BASES_RE = re.compile(
    rf"{NB}[بلو]?(?:ال)?(?:قاعدتا|قاعدتي|قاعدتين|قواعد)\s+(?!(?:ال|لل)?(?:تحالف|قوات){NA})"
    r"(?P<list>[^\s,]+(?:\s+(?!و)[^\s,]+)?(?:\s*,\s*[^\s,]+(?:\s+(?!و)[^\s,]+)?)*"
    r"\s+و[^\s,]+(?:\s+(?!(?:ل|في|علي|من|ب)\S*)[^\s,]+)?)"
)
_EACH_RE = re.compile(
    rf"بواقع\s+(?P<num>\S+(?:\s+(?:واحد|واحده))?)\s+(?:\S+\s+)?علي\s+كل\s+(?:منهما|منها|واحده){NA}"
)
_SINGULAR_RE = re.compile(
    rf"{NB}[بلو]?(?:هجوم|هجوما|غاره|ضربه|استهداف|طايره|مسيره|رشقه|قذيفه)(?:\s|$)"
)
_BREAKDOWN_RE = re.compile(
    rf"(?:(?<=[\sو(\-,:])|^)(?:{QUANTITY}\s+(?:هجمات\s+|هجوما\s+|استهدافات\s+|استهدافا\s+)?"
    r"(?:منها\s+)?"
    rf"|[لب]?(?P<dual>هجومان|هجومين|استهدافان|استهدافين)\s+|(?P<one>هجوم واحد|هجوما واحدا)\s+)"
    r"(?:علي|ضد|استهدفت|طالت|استهدفا)\s+"
)
_PLURAL_BASES_RE = re.compile(r"(?:ال)?(?:قواعد|مواقع)")
_LABEL_COUNT_RE = re.compile(
    rf"(?:\(|[:–\-])\s*(?:{QUANTITY}(?:\s+(?:هجمات|هجوما|هجوم|استهدافات|استهدافا|استهداف|ضربات"
    r"|غارات))?|(?P<dual>هجومان|هجومين|استهدافان|استهدافين|غارتان|غارتين))\s*(?=\)|[,.;]|$|\s+و)"
)
_TARGET_CUE_RE = re.compile(rf"{NB}(?:مواقع|مقرات|مقر|نقاط|تجمعات|اهداف|مصادر)(?:\s|$)")
_BASE_OWNER_RE = re.compile(
    r"(?:قواعد|قاعده|القاعده|قاعدتي)\s+(?:(?:ال|لل)?(?:تحالف|قوات)\s*)+(?:الدولي|الامريكيه|الاميركيه)?"
)
_PASSIVE_RE = re.compile(rf"{NB}[و]?(?:تعرضت|تعرض|استهدفت قاعده|استهدفت قواعد){NA}")
_COALITION = (Actor.US_FORCES, Actor.INTERNATIONAL_COALITION)
#: "The base" referred back to (used where the passage names no place).
_THE_BASE_RE = re.compile(rf"{NB}[و]?(?:لل|ال)قاعده{NA}")
#: Forces outside the coalition's war whose fire the reports also tell.
_OTHER_FORCES_RE = re.compile(rf"{NB}(?:ال)?(?:تركي|تركيه|روسي|روسيه|تركيا|روسيا){NA}")
_DEFENCES_RE = re.compile(rf"{NB}(?:ال)?(?:دفاعات|دفاع جوي|منظومات|منظومه){NA}")
_BASE_DEFENCE_RE = re.compile(r"(?:الدفاعات الجويه|الدفاع الجوي|منظومات|منظومه)\s.*قاعده")
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
    #: Who a general remark on attacks against the bases blamed, with its sentence's index:
    #: the count that follows it ("... 27 هجوما على تلك القواعد") takes it.
    remark: tuple[int, Actor | None] = (-9, None)
    tallied: int | None = None
    for index, sentence in enumerate(ctx.sentences):
        text = sentence.span.text
        if drills.CUE_RE.search(text):
            continue
        if (
            records
            and records[-1]["kind"] == "attack_on_base"
            and not sentence.dates
            and sentence.line - last_line <= 1
            and _opens_with_breakdown(text)  # a line of the list, not a new statement
            and _breakdown(ctx, sentence.span.text, records[-1], sentence.span, append=True)
        ):
            last_line = sentence.line
            continue
        header, items = split_items(ctx, sentence)
        items = [
            part
            for item in absorb_header(header, items, ctx, keep=False)
            for part in _replies(ctx, item)
        ]
        for item in items:
            if claimed(ctx, item.span):
                continue
            previous = records[-1] if records else None
            record = _classify(ctx, item, previous)
            if record is None and previous is not None and sentence.line - last_line <= 1:
                record = _again(ctx, item, previous)
            if record is not None and _abroad(record):
                continue
            tally = _tally(item.span.text)
            if tally is not None and ctx.dates.period is not None:
                tallied = tally  # the month's tally of attacks is its stated total
                if record is not None and record.get("count") == tally and _attacks(records):
                    continue  # it sums the attacks told before: no record of its own
            if record is not None and _remark(record, item, ctx):
                remark = (index, record["attacker"])
                continue
            if record is None:
                if (
                    records
                    and sentence.line - last_line <= 1
                    and item.date is None
                    and not _RAID_RE.search(item.span.text)
                ):
                    # "وادت الهجمات الي ...": the casualties of the record before.
                    _add_casualties(records[-1], ctx, item.span)
                continue
            date = item.date
            if date is None and ctx.dates.period is None:
                date = first_date
            record["date"] = date
            if record["attacker"] is None and index - remark[0] <= 2:
                record["attacker"] = remark[1]
            stated = record.pop("_stated", False)
            if stated and ctx.dates.period is not None and item.date is None:
                key = "attacks" if record["kind"] == "attack_on_base" else "airstrikes"
                if record["kind"] in ("attack_on_base", "airstrike"):
                    totals.setdefault(key, record["count"])
            records.append(record)
            downed = _downed_too(ctx, item, record)
            if downed is not None:
                records.append(downed)
            last_line = sentence.line
    if tallied is not None:
        totals["attacks"] = tallied
    return records, totals


def _replies(ctx: Ctx, item: Item) -> list[Item]:
    """An item split before a reply to the attack it tells ("سقطت قذيفتان ..., فردت المدفعيه
    الامريكيه بقصف ..."), when both parts are strikes; else the item alone."""
    text = item.span.text
    for match in _REPLY_RE.finditer(text):
        first = ctx.span_of(item.span, 0, match.start())
        second = ctx.span_of(item.span, match.start(), len(text))
        if first is None or second is None:
            continue
        if _kind(asserted(first.text)) is not None and _kind(asserted(second.text)) is not None:
            return [Item(item.sentence, first, item.date), Item(item.sentence, second, item.date)]
    return [item]


def _again(ctx: Ctx, item: Item, previous: Record) -> Record | None:
    """A strike told again without its subject ("ثم عادت ... لتضرب موقعا"): the kind and the
    attacker of the strike just told."""
    text = asserted(item.span.text)
    if previous["kind"] not in ("airstrike", "shelling") or previous["attacker"] is None:
        return None
    if not _AGAIN_RE.search(text) or not _AIR_VERB_RE.search(text):
        return None
    if actors_in(text, _COALITION) or _RAID_RE.search(text):
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
    return any(record["kind"] == "attack_on_base" for record in records)


def _kind(text: str) -> tuple[str, Actor | None] | None:
    """The kind of strike ``text`` reports and who fired, or ``None``."""
    verb = _SHOOTDOWN_RE.search(text)
    if verb is not None and _attack_before(text, verb.start()):
        verb = None  # "استهدفت ... قاعده التنف بمسيرتين واسقطت الدفاعات احداهما": the attack
    if verb is not None:
        found = actors_in(text[verb.start() : verb.start() + 60]) or actors_in(text)
        if not found and _BASE_DEFENCE_RE.search(text):
            found = [Actor.INTERNATIONAL_COALITION]  # the air defences of a coalition base
        return "drone_shootdown", (found[0] if found else None)
    # Aircraft backing another force's operation ("بمسانده مروحيات التحالف") strike nothing
    # of their own.
    own = _SUPPORT_RE.sub(lambda m: " " * len(m.group()), text)
    own = _NOT_STRIKING_RE.sub(lambda m: " " * len(m.group()), own)
    explicit = _AIR_RE.search(own) is not None
    shell = _SHELL_RE.search(text)
    air_noun = _AIR_NOUN_RE.search(own)
    if (
        shell is not None
        and _GUNS_RE.search(shell.group())
        and not explicit
        and not _PASSIVE_RE.search(text)
        and (air_noun is None or shell.start() < air_noun.start())
    ):
        found = actors_in(text)
        if found and found[0] in _COALITION:  # the coalition's guns fire first: a shelling
            return "shelling", found[0]
    if explicit or (
        _AIR_NOUN_RE.search(own) and _AIR_VERB_RE.search(text) and not _RAID_RE.search(text)
    ):
        found = actors_in(_BASE_OWNER_RE.sub(" ", text), _COALITION)
        if found:
            return "airstrike", found[0]
    if _attack_cue(text, len(text)) and _BASE_RE.search(text):
        hostile = actors_in(text, _HOSTILE)
        if not hostile and _OTHER_FORCES_RE.search(text):
            return None  # Turkish or Russian fire: not an attack on the coalition
        # The coalition firing from its own base is not an attack on it.
        subject = _BASE_OWNER_RE.sub(" ", text[:80])
        if hostile or _PASSIVE_RE.search(text) or not actors_in(subject, _COALITION):
            return "attack_on_base", (hostile[0] if hostile else None)
    if _SHELL_RE.search(text):
        found = actors_in(text)
        if found and found[0] in _COALITION:  # others' shelling is not the coalition's
            return "shelling", found[0]
    return None


_DOWNED_NUMBER_RE = re.compile(
    rf"{NB}(?:{QUANTITY}\s+(?:طايرات|مسيرات|طايره|مسيره)|(?P<dual>مسيرت(?:ين|ان)|طايرت(?:ين|ان)))"
)


def _downed_count(text: str) -> int:
    """How many drones were downed: "اعترضت مسيرتين" is 2, "اسقطت 3 مسيرات" 3, else 1."""
    verb = _SHOOTDOWN_RE.search(text)
    if verb is None:
        return 1
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
        record["kind"] == "attack_on_base"
        and not has_date
        and record.get("count") is None
        and not record["targets"]
        and record.get("location") is None
    )


def _attack_cue(text: str, end: int) -> bool:
    """Whether ``text`` (up to ``end``) tells of an attack: its noun or verb, or a weapon
    that falls, explodes or is fired."""
    return bool(
        _EVENT_RE.search(text, 0, end)
        or (_WEAPON_RE.search(text, 0, end) and _IMPACT_RE.search(text, 0, end))
    )


def _attack_before(text: str, end: int) -> bool:
    """Whether an attack on a base is told in ``text`` before ``end``."""
    return _attack_cue(text, end) and _BASE_RE.search(text, 0, end) is not None


def _downed_too(ctx: Ctx, item: Item, attack: Record) -> Record | None:
    """A drone of an attack downed by the base's defences, told in the attack's own sentence
    ("... بمسيرتين، واسقطت الدفاعات احداهما"): a record of its own."""
    text = asserted(item.span.text)
    verb = _SHOOTDOWN_RE.search(text)
    if attack["kind"] != "attack_on_base" or verb is None or not _attack_before(text, verb.start()):
        return None
    comma = text.rfind(",", 0, verb.start())
    clause = ctx.span_of(item.span, comma + 1 if comma >= 0 else verb.start(), len(text))
    if clause is None:
        return None
    found = actors_in(clause.text)
    if not found and _DEFENCES_RE.search(clause.text):
        found = [Actor.INTERNATIONAL_COALITION]  # the defences of the base attacked
    return {
        "kind": "drone_shootdown",
        "attacker": found[0] if found else None,
        "targets": [],
        "count": 1,
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
    forced: tuple[str, Actor | None] | None = None,
) -> Record | None:
    text = item.span.text
    found_kind = forced or _kind(asserted(text))
    if found_kind is None:
        return None
    kind, attacker = found_kind
    record: Record = {"kind": kind, "attacker": attacker, "targets": []}
    # A count in a breakdown ("حقل العمر (6 هجمات)") is one base's, not the total.
    count = _COUNT_RE.search(_LABEL_COUNT_RE.sub(lambda m: " " * len(m.group()), text))
    if count is not None:
        q = quantity(count.group("pre"), count.group("num"))
        record["count"] = q.value if q is not None else None
        record["_stated"] = q is not None and q.value > 1
    elif _DUAL_RE.search(text):
        record["count"] = 2
        record["_stated"] = True
    elif kind == "drone_shootdown":
        record["count"] = _downed_count(text)
    elif _SINGULAR_RE.search(text) or item.date is not None or kind == "drone_shootdown":
        record["count"] = 1
    if kind == "attack_on_base":
        target = _facility(text)
        if _breakdown(ctx, text, record, item.span) or _bases(ctx, text, record, item.span):
            pass
        elif target is not None and record.get("count") in (None, 1):
            name = ctx.clean(item.span, *target)
            if name:
                record["targets"].append({"name": name, "count": record.get("count")})
                record["location"] = name
    location_norm = None
    if kind == "airstrike":
        facility = _STRUCK_RE.search(text)
        if facility is not None:
            name = ctx.clean(item.span, facility.start(), facility.end())
            if name:
                record["targets"].append({"name": name, "count": 1})
    if kind != "attack_on_base":
        # The place struck, not the base it was fired from: look after "مواقع", "علي"...
        cue = _TARGET_CUE_RE.search(text)
        offset = cue.end() if cue is not None and kind != "drone_shootdown" else 0
        if not offset and kind == "shelling":
            offset = _after_position(text)
        where = find_location(text[offset:], governorate_fallback=True)
        if where is None and offset:
            offset, where = 0, find_location(text, governorate_fallback=True)
        if where is not None:
            start, end = where[0] + offset, where[1] + offset
            record["location"] = ctx.clean(item.span, start, end)
            location_norm = text[start:end]
        elif kind == "drone_shootdown" and previous is not None and _THE_BASE_RE.search(text):
            # "الدفاعات الجويه للقاعده": the base of the attack just told.
            record["location"] = previous.get("location")
            location_norm = normalize(record["location"] or "") or None
    several = len(record["targets"]) > 1  # attacks on several bases: no one place
    record["governorate"] = None if several else find_governorate(text, location_norm)
    found = casualties(text, lambda s, e: ctx.clean(item.span, s, e))
    if kind == "airstrike":
        # Unnamed dead of an airstrike are the side it struck, when the report names it.
        struck = actors_in(text, _HOSTILE)
        for entry in found:
            if entry["party"] == Actor.OTHER and struck:
                entry["party"] = struck[0]
    record["casualties"] = found
    record["evidence"] = ctx.evidence(item.span)
    return record


#: Where the guns stand ("المتمركزه في حقل العمر", "المنتشره قرب قاعده X"): not the place hit.
_POSITIONED_RE = re.compile(
    rf"{NB}(?:ال)?(?:متمركز|منتشر|متواجد|موجود|مرابط)\S*\s+(?:في|قرب|عند|داخل|بالقرب من|ب)\s*"
)


def _after_position(text: str) -> int:
    """The offset after the base the guns fire from, or 0 when the text names none."""
    position = _POSITIONED_RE.search(text)
    if position is None:
        return 0
    base = _facility(text, position.end(), min(len(text), position.end() + 40))
    return base[1] if base is not None and base[0] == position.end() else 0


def _breakdown(ctx: Ctx, text: str, record: Record, span: Span, *, append: bool = False) -> bool:
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


def _opens_with_breakdown(text: str) -> bool:
    """Whether ``text`` starts with a base's count ("12 علي حقل العمر", "حقل العمر: 11")."""
    if _BREAKDOWN_RE.match(text, 1 if text.startswith("و") else 0):  # "وهجومان علي ..."
        return True
    label = _LABEL_COUNT_RE.search(text)
    if label is None:
        return False
    place = _place_ending_at(text, label.start())
    return place is not None and not text[: place[0]].strip(" -–•*")


def _counts_before(ctx: Ctx, text: str, span: Span) -> list[dict[str, Any]]:
    """ "12 علي قاعده حقل العمر", "هجومان علي قسرك": each count before its base."""
    targets: list[dict[str, Any]] = []
    for match in _BREAKDOWN_RE.finditer(text):
        if _PLURAL_BASES_RE.match(text, match.end()):
            continue  # "7 هجمات علي القواعد": the total, not one base's count
        window_end = min(len(text), match.end() + 60)
        place = _facility(text, match.end(), window_end)
        if place is None:
            known = PLACE_RE.match(text, match.end(), window_end)
            place = (known.start(1), known.end(1)) if known is not None else None
        if match.group("dual"):
            count: int | None = 2
        elif match.group("one"):
            count = 1
        else:
            q = quantity(None, match.group("num"))
            count = q.value if q is not None else None
        if place is None or count is None:
            continue
        targets.append({"name": ctx.clean(span, *place), "count": count})
    return targets


def _counts_after(ctx: Ctx, text: str, span: Span) -> list[dict[str, Any]]:
    """ "حقل العمر: 11 هجوما" (a list line), "حقل العمر (4) وكونيكو (2)": each count after its
    base, behind a colon or a dash or in brackets."""
    targets: list[dict[str, Any]] = []
    for match in _LABEL_COUNT_RE.finditer(text):
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
    while (found := _facility(text, start, end)) is not None:
        if found[1] >= end:
            best = found
        start = found[0] + 1
    if best is None:
        for known in PLACE_RE.finditer(text, window, end):
            if known.end(1) == end:
                best = (known.start(1), end)
    return best


def _bases(ctx: Ctx, text: str, record: Record, span: Span) -> bool:
    """Bases named together ("قاعدتا التنف وحقل العمر ... بواقع هجوم واحد علي كل منهما")."""
    match = _BASES_RE.search(text)
    if match is None:
        return False
    start = match.start("list")
    names: list[str] = []
    for part in re.finditer(r"[^,]+", text[start : match.end("list")]):
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
    if len(names) < 2:
        return False
    each_count: int | None = None
    each = _EACH_RE.search(text)
    if each is not None:
        parsed = quantity(None, each.group("num"))
        each_count = parsed.value if parsed is not None else None
    record["targets"] = [{"name": name, "count": each_count} for name in names]
    return True


def _add_casualties(record: Record, ctx: Ctx, span: Span) -> None:
    if not record.get("casualties"):
        record["casualties"] = casualties(span.text, lambda s, e: ctx.clean(span, s, e))
