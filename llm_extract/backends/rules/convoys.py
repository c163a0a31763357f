"""Convoys: trucks and vehicles brought in by land, cargo planes and helicopters by air.

One ``ground`` record per sentence that counts trucks/vehicles, one ``air`` record per
sentence that counts cargo aircraft landing (drones, warplanes and flyovers are not airlifts).
"""

from __future__ import annotations

import itertools
import re

from llm_extract.backends.rules.context import Claims, Ctx, Found, Record, Sentence
from llm_extract.backends.rules.dates import day_list, find_dates
from llm_extract.backends.rules.lexicon import GOVERNORATE_RE, PLACE_RE
from llm_extract.backends.rules.negation import asserted
from llm_extract.backends.rules.numbers import NA, NB, QUANTITY, VAGUE, quantity
from llm_extract.backends.rules.scope import over_a_span
from llm_extract.backends.rules.segment import clause_bounds
from llm_extract.schemas import ConvoyMode

_GROUND_NOUN = r"(?:شاحنه|شاحنات|اليه|اليات|عربه|عربات|مدرعه|مدرعات|صهريج|صهاريج|ناقله|ناقلات)"
GROUND_RE = re.compile(rf"{NB}{QUANTITY}\s+{_GROUND_NOUN}{NA}")
GROUND_DUAL_RE = re.compile(rf"{NB}(?:شاحنتين|شاحنتان|اليتين|عربتين|مدرعتين|صهريجين)")
_AIR_NOUN = r"(?:طايرات|طايره|مروحيات|مروحيه|حوامات|طوافات)"
AIR_RE = re.compile(rf"{NB}{QUANTITY}\s+{_AIR_NOUN}{NA}")
AIR_DUAL_RE = re.compile(
    rf"{NB}[وب]?(?:طايرتي|طايرتين|طايرتان|طايرتا|مروحيتين|مروحيتي|مروحيتا)(?:\s+شحن)?{NA}"
)
#: Cargo aircraft counted vaguely: "طايرات شحن عده", "عده طايرات شحن" (no number).
AIR_VAGUE_RE = re.compile(
    rf"{NB}(?:(?:{VAGUE})\s+(?:من\s+)?(?:ال)?{_AIR_NOUN}\s+شحن{NA}"
    rf"|(?:ال)?{_AIR_NOUN}\s+شحن\s+(?:عده|عديده|اخري){NA})"
)
_AIR_CUE_RE = re.compile(r"شحن|هبوط|هبطت|حطت|هبط|عبر الجو|جوا|جسر جوي|تعزيزات")
_AIR_EXCLUDE_RE = re.compile(r"مسير|استطلاع|حربي|اسقط|اسقاط|انزال")
#: An aircraft noun without a digit count, its grammatical number giving the count: a
#: singular "طايره شحن" (1, with "واحده" or not), a dual "مروحيتان" (2), a plural
#: "طايرات شحن" (no number).
_AIR_SINGULAR = r"(?:طايره|مروحيه|حوامه|طوافه)"
_AIR_DUAL = r"(?:طايرت|مروحيت|حوامت|طوافت)(?:ان|ين|ا|ي)"
_AIR_PLURAL = r"(?:طايرات|مروحيات|حوامات|طوافات)"
_AIR_PHRASE_RE = re.compile(
    rf"{NB}[وب]?(?:(?P<one>{_AIR_SINGULAR})|(?P<two>{_AIR_DUAL})|(?P<many>{_AIR_PLURAL})){NA}"
)
#: The aircraft lands or carries cargo: the verb before it, or "شحن" right after it.
_AIR_LANDED_RE = re.compile(rf"{NB}[و]?(?:هبطت|هبط|حطت|حط|وصلت|وصل){NA}\s+(?:\S+\s+)?$")
_BATCH_RE = re.compile(
    rf"{NB}(?:علي|ضمن|في|ب)?\s*{QUANTITY}\s+(?:دفعات|دفعه|قوافل|قافله|ارتال|رتلا|رتل|مراحل"
    rf"|مرحله|وجبات|موجات|شحنات){NA}"
)
#: Convoys counted without their trucks: "عبرت ثلاث قوافل ... معبر سيمالكا".
_CONVOYS_RE = re.compile(rf"{NB}{QUANTITY}\s+(?:قوافل|ارتال){NA}")
_BATCH_DUAL_RE = re.compile(rf"{NB}[بعلي ]*(?:دفعتين|قافلتين|رتلين|مرحلتين|وجبتين|شحنتين){NA}")
_ORIGIN_RE = re.compile(
    r"(?:دخلت|دخل|دخول|قادمه|قادمين|قادما|اتيه|وصلت|وصول|عبور|عبرت|عبر|ادخل|ادخلت|ادخال)"
    r"\s+(?:\S+\s+){0,8}?(?<!اكثر )(?<!اقل )(?<!يقرب )(?<!عدد )من\s+"
    r"(?P<o>(?!\d)(?!(?:نوع|طراز|قبل|بينها|ضمنها)\s)[^\s,]+(?:\s+(?!(?:علي|عبر|الي|نحو|باتجاه|بتاريخ|بتواريخ|في|وتوجهت|توجهت"
    r"|تحمل|محمله|حامله|و)\s)[^\s,]+){0,3}?)(?=\s+(?:علي|عبر|الي|نحو|باتجاه|بتاريخ|بتواريخ|في"
    r"|وتوجهت|توجهت|تحمل|محمله|حامله|خلال|و\S+)\s|,|$)"
)
#: The border crossing, with or without "عبر": "عبرت 30 شاحنه معبر سيمالكا الحدودي".
_CROSSING_RE = re.compile(
    rf"{NB}(?P<o>معبر\s+(?!الحدودي)[^\s,.]+(?:\s+(?!(?:الحدودي|الي|علي|في|من|مع|يوم|اليوم|امس|بتاريخ|خلال|فجر|مساء|صباح|باتجاه|نحو|متجهه|متجها|قادما|قادمه|تضم|يضم|تحمل|يحمل|محمل\S*|و\S*){NA})[^\s,.]+)?)"
    rf"(?=[\s,.]|$)"
)
_NOT_NAME_RE = re.compile(r"\s+(?:الحدودي|البري|النهري|الرسمي|غير الشرعي)$")
_CARGO_RE = re.compile(
    rf"{NB}(?:(?:ال)?محمل\S*\s+ب(?=\S)|(?:و?علي متنها|و?تحمل علي متنها|و?تحمل|و?تقل|و?تنقل|و?نقلت"
    rf"|وحمل|ونقل|و?حملت|حامل\S*|محمل\S*){NA}\s+)"
    r"(?P<c>.+?)"
    r"(?=,|\s+(?:دخلت|الي|وتوجهت|توجهت|واتجهت|اتجهت|تابعه|عبر|باتجاه|ضمن|بتاريخ|في|نحو|لصالح)\s|$)"
)
#: Words that begin with "و" and are no "and ...": "صهاريج وقود".
_TANWEEN_RE = re.compile("(?:\u0627\u064b|\u064b\u0627)(?=\\s|$)")
_WAW_WORDS = frozenset({"وقود", "وسايل", "وحدات", "وثايق", "ورش", "وجبات", "وسايط", "ومضات"})
_CARGO_SPLIT_RE = re.compile(r"\s*,\s*|\s+بالاضافه\s+ل|\s+اضافه\s+ال|\s+و(?=\S)")
#: The bases of a destination: "قاعدتي X وY", "قاعده X", "مطار قاعده X" (no "في" between).
_BASE_BEFORE_RE = re.compile(
    rf"{NB}[بلو]?(?:ال)?(?:قاعده|قاعدتي|قاعدتا|قاعدتين|قواعد)\s+(?:(?!في\s|ب\S)\S+\s+)*[وب]?$"
)
_FIELD_RE = re.compile(r"(?:ال)?(?:حقل|معمل|مطار)\s")
_AREA_BEFORE_RE = re.compile(rf"{NB}(?:بريف|ريف|قرب|بالقرب من|شمال|جنوب|شرق|غرب)\S*\s+$")
_DEST_CUE_RE = re.compile(rf"{NB}(?:الي|نحو|باتجاه|ضمن|توجهت|وتوجهت|متجهه|في){NA}")


#: Trucks counted vaguely: a convoy without a number.
_VAGUE_GROUND_RE = re.compile(rf"{NB}[و]?(?:{VAGUE})\s+(?:من\s+)?(?:ال)?{_GROUND_NOUN}{NA}")
_ARRIVAL_RE = re.compile(rf"{NB}[وف]?(?:دخل|دخلت|دخول|وصل|وصلت|وصول|عبر|عبرت|عبور|ادخل|ادخلت){NA}")
_OTHERS_RE = re.compile(r"روسي|الروس|تركي|الاتراك|قوات النظام|الحكومه السوريه|الجيش السوري")
_COALITION_RE = re.compile(r"تحالف|امريكي|اميركي")


def extract(ctx: Ctx, claimed: Claims) -> Found:
    """Convoy records. Convoys heed no claim and claim nothing: counted trucks and cargo
    aircraft are no other category's words."""
    records: list[Record] = []
    for part in (p for s in ctx.sentences for p in _convoy_clauses(ctx, s)):
        sentence = part
        text = asserted(sentence.span.text)  # "لم تدخل اي قوافل": none
        ground = _ground_convoy(ctx, sentence, text)
        if ground is not None:
            records.append(ground)
        air = _air_convoy(ctx, sentence, text)
        if air is not None:
            records.append(air)
    return Found(records)


def _convoy_clauses(ctx: Ctx, sentence: Sentence) -> list[Sentence]:
    """``sentence`` split before each clause that counts trucks of its own ("دخل رتل من 30
    مدرعه ... في 3 تشرين الثاني, ودخلت 40 اليه اخري ... في 7 تشرين الثاني"): one convoy per
    clause; the sentence alone when it counts trucks in one clause or none."""
    text = sentence.span.text
    starts = sorted({clause_bounds(text, m.start())[0] for m in GROUND_RE.finditer(text)})
    if len(starts) < 2:
        return [sentence]
    bounds = [0, *starts[1:], len(text)]
    parts: list[Sentence] = []
    for begin, end in itertools.pairwise(bounds):
        span = ctx.span_of(sentence.span, begin, end)
        if span is not None:
            dates = find_dates(span.text, ctx.dates)
            parts.append(Sentence(sentence.line, span, dates, sentence.colon))
    return parts


def _ground_convoy(ctx: Ctx, sentence: Sentence, text: str) -> Record | None:
    """Trucks or vehicles counted in ``text`` (the sentence, denials blanked): a number, a
    dual, or a vague count ("عشرات الشاحنات") of a coalition convoy that came in."""
    ground = GROUND_RE.search(text)
    if ground is not None and not _is_drill_or_strike(_clause(text, ground.start())):
        return _ground(ctx, sentence, ground)
    dual = GROUND_DUAL_RE.search(text)
    if dual is not None and re.search(r"دخل|وصل|قافله|رتل", text):
        return _ground(ctx, sentence, dual, value=2)
    vague = _VAGUE_GROUND_RE.search(text)
    if vague is not None and _is_arrival(text):
        return _ground(ctx, sentence, vague, value=0)
    convoys = _CONVOYS_RE.search(text)
    if sentence.colon:
        return None  # "دخلت ثلاث قوافل:": the convoys are told one by one next
    if convoys is not None and _ARRIVAL_RE.search(text) and not _is_drill_or_strike(text):
        return _ground(ctx, sentence, convoys, value=0)  # "عبرت ثلاث قوافل": no trucks counted
    return None


def _air_convoy(ctx: Ctx, sentence: Sentence, text: str) -> Record | None:
    """Cargo aircraft counted in ``text`` (drones, warplanes and flyovers are no airlift)."""
    if _AIR_EXCLUDE_RE.search(text):
        return None
    air = AIR_RE.search(text) or AIR_DUAL_RE.search(text)
    if air is not None and _AIR_CUE_RE.search(text):
        return _air(ctx, sentence, air)
    vague = AIR_VAGUE_RE.search(text)
    if vague is not None:
        return _air(ctx, sentence, vague, vague=True)
    return _air_by_noun(ctx, sentence, text)


def _air_by_noun(ctx: Ctx, sentence: Sentence, text: str) -> Record | None:
    """An aircraft counted by its noun's number ("هبطت طايره شحن" 1, "هبطت مروحيتان" 2,
    "هبطت طايرات شحن" none) when it lands or is a cargo aircraft."""
    for match in _AIR_PHRASE_RE.finditer(text):
        cargo = text.startswith(" شحن", match.end())
        if not cargo and _AIR_LANDED_RE.search(text[: match.start()]) is None:
            continue
        record = _air(ctx, sentence, match, vague=True)
        if match.group("one"):
            record["vehicles"] = 1
        elif match.group("two"):
            record["vehicles"] = 2
        return record
    return None


def _clause(text: str, at: int) -> str:
    """The clause of ``text`` that holds position ``at`` ("..., بينما دخلت 40 شاحنه")."""
    start, end = clause_bounds(text, at)
    return text[start:end]


def _is_arrival(text: str) -> bool:
    """A convoy of the coalition that came in ("دخل رتل للتحالف يضم عشرات الشاحنات")."""
    return (
        _ARRIVAL_RE.search(text) is not None
        and _COALITION_RE.search(text) is not None
        and not _is_drill_or_strike(text)
    )


def _is_drill_or_strike(text: str) -> bool:
    if _OTHERS_RE.search(text) and not _COALITION_RE.search(text):
        return True  # a Russian, Turkish or government convoy
    return re.search(r"تدريب|مناور|استهدف|هجوم|قصف", text) is not None


def _ground(ctx: Ctx, sentence: Sentence, match: re.Match[str], value: int | None = None) -> Record:
    text = sentence.span.text
    record: Record = {"mode": ConvoyMode.GROUND}
    if value is None:
        q = quantity(match.group("pre"), match.group("num"), text[match.end() :])
        if q is not None:
            record.update(vehicles=q.value, approximate=q.approximate, at_least=q.at_least)
    elif value:
        record["vehicles"] = value  # 0: "عشرات الشاحنات", no number
    batch = _BATCH_RE.search(text)
    if batch is not None:
        bq = quantity(None, batch.group("num"))
        if bq is not None:
            record["batches"] = bq.value
    elif _BATCH_DUAL_RE.search(text):
        record["batches"] = 2
    dates = day_list(text, ctx.dates)
    if not dates and ctx.dateline is not None and not over_a_span(text):
        dates = [ctx.dateline]  # a short item's dateline date
    record["dates"] = dates
    skip = (0, 0)
    origin = _CROSSING_RE.search(text) or _ORIGIN_RE.search(text)
    if origin is not None:
        name = ctx.clean(sentence.span, origin.start("o"), origin.end("o"))
        record["origin"] = _NOT_NAME_RE.sub("", name) if name else None
        skip = (origin.start(), origin.end("o"))
    record["destinations"] = _destinations(ctx, sentence, skip)
    record["cargo"] = _cargo(ctx, sentence)
    record["evidence"] = ctx.evidence(sentence.span)
    return record


def _air(ctx: Ctx, sentence: Sentence, match: re.Match[str], *, vague: bool = False) -> Record:
    text = sentence.span.text
    record: Record = {"mode": ConvoyMode.AIR}
    if vague:
        pass  # "طايرات شحن عده": no number
    elif "num" in match.groupdict():
        q = quantity(match.group("pre"), match.group("num"), text[match.end() :])
        if q is not None:
            record.update(vehicles=q.value, approximate=q.approximate, at_least=q.at_least)
    else:
        record["vehicles"] = 2
    start, end = clause_bounds(text, match.start())
    dates = [found.date for found in sentence.dates if start <= found.start < end]
    if not sentence.dates and ctx.dateline is not None and not over_a_span(text):
        dates = [ctx.dateline]  # a short item's dateline date
    record["dates"] = dates
    record["destinations"] = _destinations(ctx, sentence)
    record["cargo"] = _cargo(ctx, sentence)
    record["evidence"] = ctx.evidence(sentence.span)
    return record


def _destinations(ctx: Ctx, sentence: Sentence, skip: tuple[int, int] = (0, 0)) -> list[str]:
    """Places after a destination cue: known places and governorates, bases named as bases
    ("الي قاعدتي رميلان والشداديه" -> "قاعدة رميلان", "قاعدة الشدادية"), not the area a
    place lies in ("خراب الجير بريف المالكيه"). ``skip`` is the origin's span."""
    text = sentence.span.text
    cue = _destination_cue(text, skip)
    if cue is None:
        return []
    out: list[str] = []
    for start, end, governorate in _places_from(text, cue):
        if skip[0] <= start < skip[1]:
            continue  # the origin ("من معبر الوليد"), not a destination
        before = text[cue:start]
        if not governorate and _AREA_BEFORE_RE.search(before):
            continue
        name = ctx.clean(sentence.span, start, end)
        if name:
            name = _as_named_before(name, text, start, before)
            if name not in out:
                out.append(name)
    return out


def _destination_cue(text: str, skip: tuple[int, int]) -> int | None:
    """Where the first destination cue outside ``skip`` starts ("الي", "نحو", "باتجاه")."""
    cue = _DEST_CUE_RE.search(text)
    while cue is not None and skip[0] <= cue.start() < skip[1]:
        cue = _DEST_CUE_RE.search(text, cue.end())
    return cue.start() if cue is not None else None


def _places_from(text: str, start: int) -> list[tuple[int, int, bool]]:
    """Known places and governorates named from ``start`` on, in order: ``(start, end,
    is_governorate)``."""
    names: list[tuple[int, int, bool]] = []
    for pattern in (PLACE_RE, GOVERNORATE_RE):
        for match in pattern.finditer(text, start):
            if not any(s <= match.start() < e for s, e, _ in names):
                names.append((match.start(1), match.end(1), pattern is GOVERNORATE_RE))
    return sorted(names)


def _as_named_before(name: str, text: str, start: int, before: str) -> str:
    """``name`` as a base or an airport when the words before it say so ("قاعدتي رميلان",
    "مطار رميلان"); a field keeps its own name ("قاعده حقل العمر")."""
    if _BASE_BEFORE_RE.search(before) is not None and not _FIELD_RE.match(text, start):
        return "قاعدة " + name
    if re.search(r"مطار\s+$", before):
        return "مطار " + name  # "مطار رميلان"
    return name


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
        if sep.group().strip() == "و" and (nxt.endswith("يه") or "و" + nxt in _WAW_WORDS):
            continue  # "معدات عسكريه ولوجستيه", "صهاريج وقود": not a new item
        pieces.append((cursor, sep.start()))
        cursor = sep.end()
    pieces.append((cursor, match.end("c")))
    out: list[str] = []
    for s, e in pieces:
        item = ctx.clean(sentence.span, s, e)
        if item:
            out.append(_TANWEEN_RE.sub("", item))  # "كتلاً اسمنتية" -> "كتل اسمنتية"
    return out
