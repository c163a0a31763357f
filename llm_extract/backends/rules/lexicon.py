"""Vocabulary of the report series, in normalised spelling: places, actors and cue words.

Spelling variants ("كونيكو"/"كونوكو", "الشدادي"/"الشداديه") and words the writers break
with spaces to dodge filters ("د ا ع ش", "الم قاو م ه") are patterns here, nowhere else.
"""

from __future__ import annotations

import re

from llm_extract.backends.rules.numbers import NA, NB
from llm_extract.schemas import Actor, Governorate


def broken(word: str) -> str:
    """Pattern for ``word`` with optional spaces between its letters ("د ا ع ش")."""
    return r"\s?".join(re.escape(ch) for ch in word)


# --- governorates and places ------------------------------------------------------------------

_GOVERNORATE_NAMES: tuple[tuple[str, Governorate], ...] = (
    (r"ريف دمشق", Governorate.RIF_DIMASHQ),
    (r"دير ?الزور", Governorate.DEIR_EZ_ZOR),
    (r"الحسكه", Governorate.HASAKAH),
    (r"الرقه", Governorate.RAQQA),
    (r"حلب", Governorate.ALEPPO),
    (r"حمص", Governorate.HOMS),
    (r"دمشق", Governorate.DAMASCUS),
    (r"ادلب", Governorate.IDLIB),
    (r"حماه", Governorate.HAMA),
    (r"اللاذقيه", Governorate.LATAKIA),
    (r"طرطوس", Governorate.TARTUS),
    (r"درعا", Governorate.DARAA),
    (r"السويدا[ءx]?", Governorate.SUWAYDA),
    (r"القنيطره", Governorate.QUNEITRA),
)
GOVERNORATE_RE = re.compile(
    NB + "[وبلف]?(" + "|".join(f"(?:{p})" for p, _ in _GOVERNORATE_NAMES) + ")" + NA
)
_GOV_PATTERNS = [(re.compile(f"^{p}$"), g) for p, g in _GOVERNORATE_NAMES]

#: Known places (bases, fields, towns) -> governorate. Patterns, spelling variants included.
_PLACES: tuple[tuple[str, Governorate], ...] = (
    (r"كون[يو]كو", Governorate.DEIR_EZ_ZOR),
    (r"حقل العمر", Governorate.DEIR_EZ_ZOR),
    (r"العمر النفطي", Governorate.DEIR_EZ_ZOR),
    (r"حقل التنك", Governorate.DEIR_EZ_ZOR),
    (r"الجفره", Governorate.DEIR_EZ_ZOR),
    (r"الطيانه", Governorate.DEIR_EZ_ZOR),
    (r"البصيره", Governorate.DEIR_EZ_ZOR),
    (r"الصور", Governorate.DEIR_EZ_ZOR),
    (r"الشحيل", Governorate.DEIR_EZ_ZOR),
    (r"ذيبان", Governorate.DEIR_EZ_ZOR),
    (r"هجين", Governorate.DEIR_EZ_ZOR),
    (r"الباغوز", Governorate.DEIR_EZ_ZOR),
    (r"البوكمال", Governorate.DEIR_EZ_ZOR),
    (r"الميادين", Governorate.DEIR_EZ_ZOR),
    (r"الشعيطات", Governorate.DEIR_EZ_ZOR),
    (r"الكسره", Governorate.DEIR_EZ_ZOR),
    (r"الحوايج", Governorate.DEIR_EZ_ZOR),
    (r"الشدادي(?:ه)?", Governorate.HASAKAH),
    (r"قسرك", Governorate.HASAKAH),
    (r"خراب ال?جير", Governorate.HASAKAH),
    (r"رميلان", Governorate.HASAKAH),
    (r"تل بيدر", Governorate.HASAKAH),
    (r"تل حميس", Governorate.HASAKAH),
    (r"تل براك", Governorate.HASAKAH),
    (r"تل تمر", Governorate.HASAKAH),
    (r"القامشلي", Governorate.HASAKAH),
    (r"المالكيه", Governorate.HASAKAH),
    (r"الهول", Governorate.HASAKAH),
    (r"الطلايع", Governorate.HASAKAH),
    (r"استراحه الوزير", Governorate.HASAKAH),
    (r"لايف ستون", Governorate.HASAKAH),
    (r"عامود[اي]", Governorate.HASAKAH),
    (r"التنف", Governorate.HOMS),
    (r"الركبان", Governorate.HOMS),
    (r"الطبقه", Governorate.RAQQA),
    (r"عين عيسي", Governorate.RAQQA),
    (r"تل ابيض", Governorate.RAQQA),
    (r"منبج", Governorate.ALEPPO),
    (r"عين العرب", Governorate.ALEPPO),
    (r"كوباني", Governorate.ALEPPO),
)
PLACE_RE = re.compile(NB + "[وبلف]?(?:ال)?(" + "|".join(f"(?:{p})" for p, _ in _PLACES) + ")" + NA)
_PLACE_PATTERNS = [(re.compile(f"^(?:ال)?(?:{p})$"), g) for p, g in _PLACES]

#: Words that introduce a place name ("قاعده قسرك", "قريه كلش").
FACILITY = r"(?:قاعده|القاعده|حقل|معمل غاز|معمل|معسكر|مطار|محطه|مقر|نقطه)"
SETTLEMENT = r"(?:بلده|قريه|مدينه|ناحيه|بلدات|قري|بلدتي|قريتي|مدينتي|مخيم|حي|منطقه|باديه)"


def governorate_of(name: str) -> Governorate | None:
    """Governorate of a governorate name or of a known place (normalised text)."""
    for pattern, gov in _GOV_PATTERNS:
        if pattern.match(name):
            return gov
    for pattern, gov in _PLACE_PATTERNS:
        if pattern.match(name):
            return gov
    return None


# --- actors -----------------------------------------------------------------------------------

#: ISIS; in this series "التنظيم" alone is ISIS too ("خلايا التنظيم").
ISIS = rf"(?:{broken('داعش')}|الدوله الاسلاميه|تنظيم الدوله|(?:ال|لل)تنظيم{NA})"
#: The Islamic Resistance in Iraq, also told as "the Iraqi factions".
RESISTANCE = (
    rf"(?:{broken('المقاومه')}\s+{broken('الاسلاميه')}|{broken('المقاومه')}{NA}"
    r"|(?:ال)?فصايل (?:ال)?عراقيه)"
)
_ACTORS: tuple[tuple[Actor, str], ...] = (
    (Actor.ISLAMIC_RESISTANCE_IN_IRAQ, RESISTANCE),
    (
        Actor.US_FORCES,
        r"(?:(?:ال|ل)?(?:قوات|قوه|جيش|طيران|طايرات|طايره|مقاتلات|مقاتله|مقاتلت(?:ان|ين)|طايرت(?:ان|ين)"
        r"|مروحيت(?:ان|ين)|جنود|جندي|مروحيات|مروحيه"
        r"|غاره|غارات|ضربه|ضربات|مسيره|مسيرات|قصف|بوارج|مدمره|دوريه|دوريات|وحدات|عناصر"
        r"|وحده|مدفعيه|راجمات|القياده المركزيه|قياده المنطقه الوسطي))"
        r"(?: \S+){0,2}? (?:ال)?(?:امريكي|اميركي)ه?|الولايات المتحده|واشنطن|البنتاغون|سنتكوم"
        r"|(?:ال)?(?:امريكيون|اميركيون|امريكيين|اميركيين)",
    ),
    (Actor.INTERNATIONAL_COALITION, r"(?:ال|ل)تحالف"),
    (Actor.SDF, r"قسد|قوات سوري[اه] الديمقراطيه|مكافحه الارهاب|وحدات حمايه (?:المراه|الشعب)"),
    (
        Actor.ASAYISH,
        r"الاسايش|القوي الامنيه|قوي الامن الداخلي|القوات الامنيه|الاداره الذاتيه",
    ),
    (Actor.FREE_SYRIAN_ARMY, r"جيش سوري[اه] الحره|الجيش السوري الحر|مغاوير الثوره"),
    (
        Actor.IRAN_BACKED_MILITIAS,
        r"(?:ال|ل)?م[يل]?ليشيات|الحرس الثوري|حزب الله|(?:ال)?موال(?:ي[هن]?|ون|يه)? ل(?:ايران|طهران)"
        r"|(?:ال)?مدعوم(?:ه|ين|ون)? (?:من )?(?:ايران|طهران)"
        r"|الفصايل الموالي[هن]? لايران|الفصايل الايرانيه",
    ),
    (Actor.ISIS, ISIS),
    (Actor.SYRIAN_GOVERNMENT, r"قوات النظام|قوات الحكومه|الحكومه السوريه|جيش النظام"),
    (Actor.CIVILIANS, r"مدنيين|مدنيا|مدني|المدنيين|سايق"),
)
ACTOR_RES: tuple[tuple[Actor, re.Pattern[str]], ...] = tuple(
    (actor, re.compile(f"{NB}[وبلف]?(?:ل)?(?:{pattern})")) for actor, pattern in _ACTORS
)


def actors_in(text: str, allowed: tuple[Actor, ...] | None = None) -> list[Actor]:
    """Actors named in ``text``, in the order they first occur."""
    found: list[tuple[int, Actor]] = []
    for actor, pattern in ACTOR_RES:
        if allowed is not None and actor not in allowed:
            continue
        match = pattern.search(text)
        if match:
            found.append((match.start(), actor))
    return [actor for _, actor in sorted(found, key=lambda pair: pair[0])]
