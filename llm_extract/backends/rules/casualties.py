"""Casualties by party: "قتل جنديان أمريكيان على الأقل وأصيب عدد من عناصر قسد"."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from llm_extract.backends.rules.lexicon import actors_in
from llm_extract.backends.rules.numbers import NA, NB, QUANTITY, VAGUE, quantity
from llm_extract.schemas import Actor

_KILLED = r"(?:قتلي|قتيلا|قتيل|قتلا|قتلوا)"
_INJURED = r"(?:جرحي|جريحا|جريح|مصابين|مصابا|اصابات|اصابه|جرحوا)"
_Q1 = QUANTITY.replace("?P<pre>", "?P<pre1>").replace("?P<num>", "?P<num1>")
_Q2 = QUANTITY.replace("?P<pre>", "?P<pre2>").replace("?P<num>", "?P<num2>")
_Q3 = QUANTITY.replace("?P<pre>", "?P<pre3>").replace("?P<num>", "?P<num3>")
#: "قتل فيها 7", "اصيب خلاله 3": the event the verb refers to.
_IN_IT = (
    r"(?:(?:فيها|فيه|خلالها|خلاله|جراءها|جراءه|جراء ذلك|بها|اثرها|اثره|علي اثرها|علي اثره"
    r"|علي اثر ذلك)\s+)?"
)
_PERSONS = (
    r"(?:\s+(?P<who>اشخاص|شخصا|عناصر|عنصرا|جنود|جنديا|افراد|مسلحين|مسلحا|مدنيين|مدنيا"
    r"|مقاتلين|مقاتلا|اخرين|اخرون))?"
)
CASUALTY_RE = re.compile(
    rf"{NB}[وبل]*(?:مقتل|قتل|مصرع)\s+{_IN_IT}(?:{_Q1}){_PERSONS}{NA}"
    rf"|{NB}[وبل]*(?:اصابه|جرح|اصيب)\s+{_IN_IT}(?P<hurt>{_Q3}){_PERSONS.replace('who', 'who3')}{NA}"
    rf"|{NB}و?{_Q2}\s+(?P<kind>{_KILLED}|{_INJURED}){NA}"
    rf"|{NB}[وب]?(?P<vague>{VAGUE})\s+(?:من\s+)?(?P<vkind>(?:ال)?(?:{_KILLED}|{_INJURED})){NA}"
    rf"|{NB}[وبل]*(?:اصابه|جرح)\s+(?P<vague2>{VAGUE})\s+(?P<vkind2>[^\s,.]+"
    r"(?:\s+(?!و|منهم)[^\s,.]+){0,4})"
    rf"|{NB}[وبل]*(?P<vague3>(?:اصابات|اصابه|جروح|جرحي)\s+(?:طفيفه|بليغه|خطيره|متفاوته|متوسطه)){NA}"
    rf"|{NB}[وبل]*(?P<pairverb>مقتل|قتل|مصرع|اصابه|جرح|اصيب)\s+{_IN_IT}"
    rf"(?P<pair>(?:عنصر|جندي|شخص|مقاتل|مسلح)(?:ين|ان)){NA}"
    rf"|{NB}[وبل]*(?:مقتل|قتل)\s+"
    rf"(?P<single>سايق(?:\s+[^\s,.]+)?|مدني|طفل|امراه|شاب|رجل|جندي\s+[^\s,.]+|عنصر){NA}"
)
_INJURED_RE = re.compile(_INJURED)
_THEM_RE = re.compile(rf"^\s*{NB}منهم{NA}")
_OF_RE = re.compile(r"\s+(?:من|في)\s")


#: Groups of :data:`CASUALTY_RE` that hold a hedged number, in order of preference: the
#: injured ("اصيب 3"), the killed ("مقتل 5"), a number before its noun ("7 قتلي").
_NUMBER_GROUPS = (("pre3", "num3"), ("pre1", "num1"), ("pre2", "num2"))
_KILLING_VERBS = ("مقتل", "قتل", "مصرع")

#: Gives the report's own spelling of ``text[start:end]`` (for notes).
Note = Callable[[int, int], str]


def casualties(
    text: str, clean: Callable[[int, int], str | None] | None = None
) -> list[dict[str, Any]]:
    """Casualty entries of ``text`` (normalised), one per party, in order of mention.

    ``clean(start, end)`` gives the report's own spelling of a part of ``text`` (for notes).
    """

    def note(start: int, end: int) -> str:
        return (clean(start, end) if clean else None) or text[start:end]

    matches = list(CASUALTY_RE.finditer(text))
    by_party: dict[Actor, dict[str, Any]] = {}
    previous: Actor | None = None
    for i, match in enumerate(matches):
        window_end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        party = _party(text, match, window_end, previous)
        entry = by_party.setdefault(party, {"party": party})
        if _count(entry, match, text, note):
            previous = party
    return list(by_party.values())


def _party(text: str, match: re.Match[str], window_end: int, previous: Actor | None) -> Actor:
    """Whose casualties ``match`` tells: the side named after them (up to the next match),
    the side before ("منهم", "وإصابة 5 آخرين"), civilians for one person named by who they
    were ("سائق"), else :attr:`Actor.OTHER`."""
    if match.group("pair"):
        # "مقتل عنصرين من قسد": two, of the party named after them.
        found = actors_in(text[match.end() : match.end() + 40])
        return found[0] if found else Actor.OTHER
    if match.group("single"):
        after = text[match.end() : match.end() + 30]
        # "عنصر من قسد": the party named right after the noun.
        found = actors_in(match.group("single")) or (
            actors_in(after) if _OF_RE.match(after) else []
        )
        return found[0] if found else Actor.CIVILIANS
    return _party_after(text, match, window_end, previous)


def _party_after(text: str, match: re.Match[str], window_end: int, previous: Actor | None) -> Actor:
    """The party of a counted casualty: civilians by its own noun ("12 مدنيا"), else the
    side named after it, else the side before ("منهم", "اخرين")."""
    if (match.group("who") or match.group("who3") or "").startswith("مدني"):
        return Actor.CIVILIANS
    if match.group("vague3") and previous is not None:
        return previous  # "اصيب 3 جنود امريكيين بجروح طفيفه": how they were hurt
    # A vague count's party may be in its own words: "اصابه عدد من الجنود الامريكيين".
    begin = match.start("vkind2") if match.group("vkind2") else match.end()
    window = text[begin : min(window_end, match.end() + 90)]
    others = (match.group("who") or match.group("who3") or "")[:1] == "ا"
    if previous is not None and (_THEM_RE.match(window) or others):
        return previous  # "منهم", "وإصابة 5 آخرين"
    found = actors_in(window)
    if not found and previous is not None and match.group().startswith("و"):
        return previous  # "مقتل 12 مدنيا و4 جرحي": the wounded of the same side
    return found[0] if found else Actor.OTHER


def _count(entry: dict[str, Any], match: re.Match[str], text: str, note: Note) -> bool:
    """Add what ``match`` counts to ``entry``; ``False`` when its number does not parse."""
    if match.group("pair"):
        key = "killed" if match.group("pairverb") in _KILLING_VERBS else "injured"
        if entry.get(key) is None:
            entry[key] = 2
    elif match.group("single"):
        entry["killed"] = (entry.get("killed") or 0) + 1
        if entry["party"] in (Actor.CIVILIANS, Actor.OTHER):  # who they were: "سايق صهريج"
            entry.setdefault("note", note(match.start("single"), match.end("single")))
    elif (vague := _vague_note(match, note)) is not None:
        entry.setdefault("note", vague)
    else:
        return _number(entry, match, text)
    return True


def _vague_note(match: re.Match[str], note: Note) -> str | None:
    """A count without a number, as the report words it ("عشرات الجرحي", "اصابات طفيفه")."""
    if match.group("vague"):
        return note(match.start("vague"), match.end("vkind"))
    if match.group("vague3"):
        return note(match.start("vague3"), match.end("vague3"))
    if match.group("vague2"):
        return note(match.start(), match.end("vkind2")).lstrip("و")
    return None


def _number(entry: dict[str, Any], match: re.Match[str], text: str) -> bool:
    """The killed or injured of a hedged number ("3 قتلي علي الاقل"), unless already known."""
    pre, num = next(
        ((match.group(p), match.group(n)) for p, n in _NUMBER_GROUPS if match.group(n)),
        (match.group("pre2"), match.group("num2")),
    )
    q = quantity(pre, num, text[match.end() :])
    if q is None:
        return False
    injured = bool(match.group("num3")) or (
        bool(match.group("kind")) and _INJURED_RE.fullmatch(match.group("kind"))
    )
    key = "injured" if injured else "killed"
    if entry.get(key) is None:
        entry[key] = q.value
        entry["approximate"] = entry.get("approximate", False) or q.approximate
        entry["at_least"] = entry.get("at_least", False) or q.at_least
    return True
