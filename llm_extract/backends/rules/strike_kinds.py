"""Which kind of strike a passage tells, and who fired: an ordered table of rules.

:func:`kind_of` asks the rules of :data:`_RULES` in turn; the first that decides wins. The
order is the logic: a drone downed is told with the words of an attack ("اسقطت مسيره"), so it
is asked first; the coalition's guns named before any aircraft make a shelling even if
aircraft come after; the coalition's aircraft make an airstrike even where a facility is
named ("مقر", "قاعده"); only then is an attack on a base considered, and before the
coalition's shelling, because a rocket attack on a coalition base names the coalition first
("تعرضت قاعده التحالف لقصف صاروخي"). A rule may also end the search with no strike
(Turkish or Russian fire on a base).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum
from functools import cached_property, lru_cache

from llm_extract.backends.rules.casualties import CASUALTY_RE
from llm_extract.backends.rules.lexicon import FACILITY, actors_in
from llm_extract.backends.rules.numbers import NA, NB
from llm_extract.schemas import Actor, StrikeKind

#: A kind of strike and who fired (``None``: not named).
KindFound = tuple[StrikeKind, Actor | None]

#: A drone downed or intercepted; the subject (air defences of a base...) may come between.
SHOOTDOWN_RE = re.compile(
    r"(?:اسقط|اسقاط|اسقطت|اسقطوا|اعترضت|اعترض|اعتراض)\s+(?:\S+\s+){0,8}?(?:احدي\s+)?"
    r"(?:ال)?(?:طايره|طايرات|مسيره|مسيرات|درون|مسيرت(?:ين|ان)|طايرت(?:ين|ان))"
    r"|(?:اسقطت|اسقط|اسقاط|اعترضت|اعترض|اعتراض)\s+(?:\S+\s+){0,4}?(?:احداها|احداهما|واحده منها)"
    r"|(?:طايره|مسيره|مسيرات|درون)\s+(?:\S+\s+){0,8}?[وف]?(?:اسقطتها|اسقاطها|اسقطوها|اسقطها)"
    # the drones as the verb's pronoun, after the attack that sent them: "واسقطتهما"
    r"|[وف](?:اسقطت|اعترضت|اسقط|اعترض)(?P<them>هما|ها|هم)(?![\u0621-\u064a])"
)
#: What was downed is a manned jet ("طايره حربيه سوريه"), not a drone: no drone shootdown.
_MANNED_RE = re.compile(rf"\s+(?:ال)?(?:حربيه|مقاتله){NA}")
_AIR_NOUN_RE = re.compile(
    r"طايرات|طايره حربيه|طايره مسيره تابعه|مقاتلات|مقاتله|مقاتلت(?:ان|ين)|طايرت(?:ان|ين)"
    r"|الطيران الحربي|الطيران الامريكي"
    r"|طيران التحالف|الطيران التابع|مروحيات|مروحيه|مروحيت(?:ان|ين)|مسيره تابعه|مسيرات تابعه"
    r"|مسيره (?:امريكيه|اميركيه|للتحالف)|مسيرات (?:امريكيه|اميركيه|للتحالف)"
)
#: Aircraft that only fly over ("سمع تحليق لطايرات التحالف") or are the enemy's drones
#: ("لاطلاق طايرات مسيره"): no airstrike of their own.
_NOT_STRIKING_RE = re.compile(
    r"(?:تحليق|حلق|حلقت|يحلق|تحلق)\s+(?:ل)?(?:ال)?(?:طاير|طيران|مروحي|مقاتل)\S*(?:\s+\S+){0,2}"
    r"|(?:ال)?طايرات\s+(?:ال)?مسيره"
)
AIR_VERB_RE = re.compile(r"قصف|استهدف|ضرب|غار|دمر|شن\S*\s+(?:\S+\s+){0,3}?(?:غار|ضرب|هجم|هجوم|قصف)")
_SUPPORT_RE = re.compile(
    rf"{NB}[وب]?(?:مسانده|دعم|غطاء|موازره|اسناد|تغطيه){NA}(?:\s+[^\s,.]+){{0,3}}"
)
#: A raid or a campaign backed by aircraft is an arrest, not an airstrike.
RAID_RE = re.compile(
    rf"اعتقال|اعتقل|حمله|{NB}(?:[وفب]|ال|وال|بال)?(?:مداهم|داهم|دهم)|انزال|القبض|تمشيط"
)
#: People taken alive: the operation is a raid, whatever it is called ("غاره").
_CAPTURE_RE = re.compile(rf"{NB}(?:اعتقال|اعتقل|اعتقلت|القبض علي|اسر|اسرت){NA}")
_AIR_RE = re.compile(
    r"غاره|غارات|غارتين|غارتان|ضربه جويه|ضربات جويه|قصف جوي|القصف الجوي|قصفا جويا"
    r"|ضربت(?:ين|ان) جويت(?:ين|ان)"
    r"|ضربات صاروخيه جويه"
    r"|(?:ضربه|ضربات|غاره|غارات|قصف)\s+(?:من|ل|نفذتها|شنتها)\s*(?:ال)?(?:طايره|طايرات|مسيره|مسيرات|مقاتله|مقاتلات|طيران)"
    r"|الطيران الحربي (?:\S+ ){0,3}?(?:قصف|استهدف)"
    # strikes carried out by a named side: "نفذت الولايات المتحده ضربات علي 85 هدفا"
    r"|(?:نفذت|نفذ|شنت|شن|وجهت|وجه)\s+(?:\S+\s+){1,4}?(?:ضربات|ضربه)(?:\s|$)"
)
#: An attack as such: "هجوم", "استهداف", "قصف", "رشقه".
#: An explosion at a base is an attack too, whoever is behind it ("دوى انفجار داخل قاعده");
#: "الانفجار" refers back to one told already.
_EVENT_RE = re.compile(
    rf"هاجم|هجوم|هجمات|هجوما|استهداف|استهدف|قصف|اعتداء|رشقه|{NB}[وب]?انفجار(?:ين|ان|ات)?{NA}"
)
#: Weapons are an attack only where they fall, explode, hit or are fired: a convoy carrying
#: rockets, or air-defence missiles deployed at a base, is none.
_WEAPON_RE = re.compile(
    r"قذايف|قذيفه|قذيفت|صواريخ|صاروخ|مسيرات|مسيره|مسيرت|هاون|انتحاري|عبوه|عبوات|لغم|مفخخ"
)
_IMPACT_RE = re.compile(
    r"سقط|سقوط|تساقط|انفجر|انفجار|طال|ضرب|اصابت|اصاب(?!ه|ات)|اطلق|اطلاق|اعترض|اسقط|دوي"
)
#: Casualties and the word after them ("اصيب ثلاثه جنود امريكيين"): who was hurt.
_HURT_RE = re.compile(rf"(?:{CASUALTY_RE.pattern})(?:\s+[^\s,.]+)?")
_BASE_RE = re.compile(rf"{NB}[بلو]?(?:{FACILITY}|(?:ال)?قواعد|قاعدتا|قاعدتي|قاعدتين){NA}")
_SHELL_RE = re.compile(
    r"قصف مدفعي|قصفا مدفعيا|بالمدفعيه|قصف صاروخي|قذايف مدفعيه|قذايف صاروخيه"
    r"|(?:ال)?(?:مدفعيه|راجمات)\s+(?:\S+\s+){0,6}?(?:ب|ل)?(?:قصف|استهداف|استهدفت|قصفت)"
    # the verb first: "قصفت مدفعيه التحالف بلده ..."
    rf"|{NB}[و]?(?:قصفت|قصف|استهدفت|دكت){NA}\s+(?:ال)?(?:مدفعيه|راجمات)"
)
_GUNS_RE = re.compile(r"مدفعي|راجمات")
_BASE_OWNER_RE = re.compile(
    r"(?:قواعد|قاعده|القاعده|قاعدتي)\s+(?:(?:ال|لل)?(?:تحالف|قوات)\s*)+(?:الدولي|الامريكيه|الاميركيه)?"
)
_PASSIVE_RE = re.compile(rf"{NB}[و]?(?:تعرضت|تعرض|استهدفت قاعده|استهدفت قواعد){NA}")
#: The coalition's own forces.
COALITION = (Actor.US_FORCES, Actor.INTERNATIONAL_COALITION)
#: Forces outside the coalition's war whose fire the reports also tell.
_OTHER_FORCES_RE = re.compile(rf"{NB}(?:ال)?(?:تركي|تركيه|روسي|روسيه|تركيا|روسيا){NA}")
#: A post of the coalition's partners, not of the coalition: "نقطه لقسد", "حاجز تابع لقسد".
_PARTNER_POST_RE = re.compile(
    r"(?:نقطه|مقر|حاجز|موقع)\s+(?:عسكري\S*\s+)?(?:تابع\S*\s+)?ل(?:قسد|قوات سوريا|لاسايش|قوي الامن)"
)
_DEFENCES_WORD_RE = re.compile(r"الدفاعات|الدفاع الجوي|منظومات|منظومه|المضادات")
_BASE_DEFENCE_RE = re.compile(r"(?:الدفاعات الجويه|الدفاع الجوي|منظومات|منظومه)\s.*قاعده")
#: The sides that attack the coalition (and whose dead an airstrike leaves).
HOSTILE = (
    Actor.ISLAMIC_RESISTANCE_IN_IRAQ,
    Actor.IRAN_BACKED_MILITIAS,
    Actor.ISIS,
    Actor.SYRIAN_GOVERNMENT,
)


class _Stop(Enum):
    """A rule's answer that ends the search."""

    NO_STRIKE = "no strike"


_Answer = KindFound | _Stop | None


class _Passage:
    """A passage as the rules read it; what several rules need is worked out once, when
    first asked."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def own(self) -> str:
        """The text without aircraft that strike nothing of their own: backing another
        force's operation ("بمسانده مروحيات التحالف"), flying over, or the enemy's drones."""
        own = _SUPPORT_RE.sub(lambda m: " " * len(m.group()), self.text)
        return _NOT_STRIKING_RE.sub(lambda m: " " * len(m.group()), own)

    @cached_property
    def explicit_airstrike(self) -> bool:
        """An airstrike named outright ("غاره", "قصف جوي")."""
        return _AIR_RE.search(self.own) is not None


def _shootdown(passage: _Passage) -> _Answer:
    """A drone downed or intercepted, unless it is told after an attack on a base (then the
    attack is the passage's strike: "استهدفت ... قاعده التنف بمسيرتين واسقطت الدفاعات
    احداهما")."""
    text = passage.text
    verb = SHOOTDOWN_RE.search(text)
    if verb is None or attack_before(text, verb.start()):
        return None
    found = _downed_by(text, verb)
    manned = _MANNED_RE.match(text, verb.end()) and verb.group().endswith("طايره")
    kind = StrikeKind.OTHER if manned else StrikeKind.DRONE_SHOOTDOWN
    return kind, (found[0] if found else None)


def _downed_by(text: str, verb: re.Match[str]) -> list[Actor]:
    """Who downed the drone: the verb's subject (between the verb and the drone), the air
    defences of a base (the coalition's), else the first side named near the verb."""
    subject = verb.group()
    found = actors_in(subject)
    if not found and _DEFENCES_WORD_RE.search(subject):
        return [Actor.INTERNATIONAL_COALITION]
    found = found or actors_in(text[verb.start() : verb.start() + 60]) or actors_in(text)
    if not found and _BASE_DEFENCE_RE.search(text):
        found = [Actor.INTERNATIONAL_COALITION]  # the air defences of a coalition base
    return found


def _guns_first(passage: _Passage) -> _Answer:
    """The coalition's guns fire before any aircraft is named: a shelling."""
    text = passage.text
    shell = _SHELL_RE.search(text)
    if shell is None or not _GUNS_RE.search(shell.group()):
        return None
    if passage.explicit_airstrike or _PASSIVE_RE.search(text):
        return None
    air_noun = _AIR_NOUN_RE.search(passage.own)
    if air_noun is not None and shell.start() >= air_noun.start():
        return None
    return _coalition_fire(text)


def _airstrike(passage: _Passage) -> _Answer:
    """An airstrike named outright, or aircraft that strike (not backing a raid), by the
    coalition."""
    text = passage.text
    striking = _AIR_NOUN_RE.search(passage.own) and AIR_VERB_RE.search(text)
    if not (passage.explicit_airstrike or (striking and not RAID_RE.search(text))):
        return None
    if _CAPTURE_RE.search(text):
        return None  # "نفذت غاره اسفرت عن اعتقال قيادي": a raid that took prisoners
    found = actors_in(_BASE_OWNER_RE.sub(" ", text), COALITION)
    return (StrikeKind.AIRSTRIKE, found[0]) if found else None


def _attack_on_base(passage: _Passage) -> _Answer:
    """An attack told with a base: by the side named, or unnamed (not the coalition firing
    from its own base); Turkish or Russian fire is no strike at all."""
    text = passage.text
    if not (_attack_cue(text, len(text)) and _BASE_RE.search(text)):
        return None
    hostile = actors_in(text, HOSTILE)
    if not hostile and _OTHER_FORCES_RE.search(text):
        return _Stop.NO_STRIKE  # Turkish or Russian fire: not an attack on the coalition
    if _PARTNER_POST_RE.search(text) and not actors_in(text, COALITION):
        return _Stop.NO_STRIKE  # a post of the SDF alone ("نقطه لقسد"): not the coalition's
    # Who was hurt ("اصيب ثلاثه جنود امريكيين ... اثر هجوم") is not who fired.
    unhurt = _HURT_RE.sub(lambda m: " " * len(m.group()), text[:80])
    subject = _BASE_OWNER_RE.sub(" ", unhurt)
    if hostile or _PASSIVE_RE.search(text) or not actors_in(subject, COALITION):
        return StrikeKind.ATTACK_ON_BASE, (hostile[0] if hostile else None)
    return None  # the coalition firing from its own base is not an attack on it


def _shelling(passage: _Passage) -> _Answer:
    """Shelling by the coalition (others' shelling is not the coalition's)."""
    if not _SHELL_RE.search(passage.text):
        return None
    return _coalition_fire(passage.text)


def _coalition_fire(text: str) -> KindFound | None:
    """A shelling when the first side ``text`` names is the coalition."""
    found = actors_in(text)
    if found and found[0] in COALITION:
        return StrikeKind.SHELLING, found[0]
    return None


#: The rules, in the order they are asked (see the module's docstring).
_RULES: tuple[Callable[[_Passage], _Answer], ...] = (
    _shootdown,
    _guns_first,
    _airstrike,
    _attack_on_base,
    _shelling,
)


@lru_cache(maxsize=1024)  # pure, and asked of the same clauses again
def kind_of(text: str) -> KindFound | None:
    """The kind of strike ``text`` reports and who fired, or ``None``."""
    passage = _Passage(text)
    for rule in _RULES:
        answer = rule(passage)
        if answer is _Stop.NO_STRIKE:
            return None
        if answer is not None:
            return answer
    return None


def _attack_cue(text: str, end: int) -> bool:
    """Whether ``text`` (up to ``end``) tells of an attack: its noun or verb, or a weapon
    that falls, explodes or is fired."""
    return bool(
        _EVENT_RE.search(text, 0, end)
        or (_WEAPON_RE.search(text, 0, end) and _IMPACT_RE.search(text, 0, end))
    )


def attack_before(text: str, end: int) -> bool:
    """Whether an attack on a base is told in ``text`` before ``end``."""
    return _attack_cue(text, end) and _BASE_RE.search(text, 0, end) is not None
