"""Arabic numbers in normalised text: digits, cardinal words, ordinals and hedges.

Everything here works on text that went through :func:`llm_extract.normalize.normalize`
(ASCII digits, bare alef, ``ه`` for ta marbuta, ``ي`` for alef maqsura). Vague quantities
("عشرات", "عدد من", "مئات") are not numbers: they parse to ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AR = "\u0621-\u064a"
#: Zero-width guards: no Arabic letter immediately before / after. Before a digit, a
#: one-letter clitic is allowed: "و4 جرحي", "و3 تدريبات", "ب5 غارات".
NB = f"(?:(?<![{AR}])|(?<=(?<![{AR}])[وبل])(?=\\d))"
NA = f"(?![{AR}])"

_UNITS: dict[str, int] = {
    "واحد": 1,
    "واحده": 1,
    "احد": 1,
    "احدي": 1,
    "اثنان": 2,
    "اثنين": 2,
    "اثنتان": 2,
    "اثنتين": 2,
    "اثنا": 2,
    "اثني": 2,
    "اثنتا": 2,
    "اثنتي": 2,
    "ثلاث": 3,
    "ثلاثه": 3,
    "اربع": 4,
    "اربعه": 4,
    "خمس": 5,
    "خمسه": 5,
    "ست": 6,
    "سته": 6,
    "سبع": 7,
    "سبعه": 7,
    "ثمان": 8,
    "ثماني": 8,
    "ثمانيه": 8,
    "تسع": 9,
    "تسعه": 9,
    "عشر": 10,
    "عشره": 10,
}
_TENS: dict[str, int] = {}
for _stem, _value in (
    ("عشر", 20),
    ("ثلاث", 30),
    ("اربع", 40),
    ("خمس", 50),
    ("ست", 60),
    ("سبع", 70),
    ("ثمان", 80),
    ("تسع", 90),
):
    _TENS[_stem + "ون"] = _value
    _TENS[_stem + "ين"] = _value
_HUNDREDS: dict[str, int] = {
    "ميه": 100,
    "مايه": 100,
    "ميتان": 200,
    "ميتين": 200,
    "مايتان": 200,
    "مايتين": 200,
    "ميتا": 200,
    "ميتي": 200,
    "مايتا": 200,
    "مايتي": 200,
    "الف": 1000,
    "الاف": 1000,
    "الفان": 2000,
    "الفين": 2000,
    "الفا": 2000,
    "الفي": 2000,
}
for _stem, _value in (
    ("ثلاث", 300),
    ("اربع", 400),
    ("خمس", 500),
    ("ست", 600),
    ("سبع", 700),
    ("ثمان", 800),
    ("تسع", 900),
):
    _HUNDREDS[_stem + "ميه"] = _value
    _HUNDREDS[_stem + "مايه"] = _value

_WORDS: dict[str, int] = {**_UNITS, **_TENS, **_HUNDREDS}
_MULTIPLIERS = {"ميه", "مايه", "الف", "الاف"}
_WORD_ALT = "|".join(sorted(_WORDS, key=len, reverse=True))
# A number word may carry a clitic: "بست جولات", "وعشرين".
_WORD = f"{NB}[وبلف]?(?:{_WORD_ALT}){NA}"

#: A number: ASCII digits or a run of number words ("خمسه وعشرون", "ثلاث ميه").
NUMBER = rf"(?:\d+|{_WORD}(?:\s+{_WORD})*)"
NUMBER_RE = re.compile(NUMBER)
_TOKEN_RE = re.compile(rf"{NB}[وبلف]?({_WORD_ALT}){NA}")

#: Hedges before a number.
APPROX = (
    r"(?:نحو|قرابه|حوالي|زهاء|ما يقارب|ما يقرب من|يقارب|ما يناهز|يناهز|قرابة|تقريبا|بحدود|في حدود"
    r"|ما يعادل)"
)
AT_LEAST = (
    r"(?:اكثر من|ما يربو علي|يربو علي|ما لا يقل عن|لا يقل عن|ما يزيد عن|ما يزيد علي|يزيد عن"
    r"|يزيد علي|ازيد من|ما يفوق|يفوق)"
)
#: A hedged quantity: groups ``pre`` (hedge), ``num``.
QUANTITY = rf"(?:(?P<pre>[لب]?(?:{APPROX}|{AT_LEAST}))\s+)?(?P<num>{NUMBER})"
_APPROX_RE = re.compile(rf"^{APPROX}$")
_AT_LEAST_RE = re.compile(rf"^{AT_LEAST}$")
_AT_LEAST_AFTER_RE = re.compile(r"^\s*(?:\S+\s+){0,4}?علي الاقل")
#: A hedge after the number: "95 اليه تقريبا", "200 شاحنه او اكثر".
_APPROX_AFTER_RE = re.compile(r"^\s*(?:\S+\s+){0,2}?(?:تقريبا|او نحو ذلك|علي وجه التقريب)")
_AT_LEAST_OR_MORE_RE = re.compile(r"^\s*(?:\S+\s+){0,2}?(?:او اكثر|واكثر|ونيف|ويزيد)")

#: Vague quantities that are never numbers.
VAGUE = r"(?:عشرات|مئات|ميات|الاف|عدد من|عدد|العديد من|بضع|بضعه|عده)"


@dataclass(frozen=True)
class Quantity:
    value: int
    approximate: bool = False
    at_least: bool = False


def parse_number(text: str) -> int | None:
    """Value of a number in digits or words; ``None`` when ``text`` holds none."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    tokens = [m.group(1) for m in _TOKEN_RE.finditer(text)]
    if not tokens or tokens == ["الاف"]:
        return None  # "الاف" alone: thousands, no number
    total = 0
    pending = 0
    for token in tokens:
        value = _WORDS[token]
        if token in _MULTIPLIERS:
            total += (pending or 1) * value
            pending = 0
        else:
            pending += value
    return total + pending


def quantity(pre: str | None, num: str, after: str = "") -> Quantity | None:
    """A :class:`Quantity` from a hedge, a number and the text that follows it."""
    value = parse_number(num)
    if value is None:
        return None
    pre = (pre or "").strip()
    if pre[:1] in ("ل", "ب") and not _APPROX_RE.match(pre) and not _AT_LEAST_RE.match(pre):
        pre = pre[1:]  # a clitic: "لنحو 15"
    approximate = (bool(pre) and _APPROX_RE.match(pre) is not None) or bool(
        _APPROX_AFTER_RE.match(after[:40])
    )
    at_least = (
        (bool(pre) and _AT_LEAST_RE.match(pre) is not None)
        or bool(_AT_LEAST_AFTER_RE.match(after[:40]))
        or bool(_AT_LEAST_OR_MORE_RE.match(after[:40]))
    )
    return Quantity(value, approximate=approximate, at_least=at_least)


# --- ordinals -----------------------------------------------------------------------------------

_ORD_UNITS: dict[str, int] = {}
for _word, _value in (
    ("اول", 1),
    ("حادي", 1),
    ("ثاني", 2),
    ("ثالث", 3),
    ("رابع", 4),
    ("خامس", 5),
    ("سادس", 6),
    ("سابع", 7),
    ("ثامن", 8),
    ("تاسع", 9),
    ("عاشر", 10),
):
    # Masculine and feminine forms ("الثالث" / "الثالثه"); "الاولي" for the first.
    _ORD_UNITS["ال" + _word] = _value
    _ORD_UNITS["ال" + _word + "ه"] = _value
_ORD_UNITS["الاولي"] = 1
_ORD_UNIT_ALT = "|".join(sorted(_ORD_UNITS, key=len, reverse=True))
# Tens take the nominative "-ون" or the accusative/genitive "-ين": "والخمسون", "والخمسين".
_ORD_TENS_ALT = "|".join(sorted(_TENS, key=len, reverse=True))
_HUNDRED_ALT = "ميه|مايه|ميتين|مايتين"
#: An ordinal 1..299: "الاول", "الثانيه عشره", "الثاني والخمسون", "العشرين", "المايه",
#: "التاسع عشر بعد المايه", "الحادي والعشرين بعد المايه".
ORDINAL = (
    rf"{NB}(?:(?:{_ORD_UNIT_ALT})(?:\s+عشره?{NA})?(?:\s+وال(?:{_ORD_TENS_ALT}){NA})?"
    rf"|ال(?:{_ORD_TENS_ALT}))(?:\s+بعد\s+ال(?:{_HUNDRED_ALT}))?{NA}"
    rf"|{NB}ال(?:{_HUNDRED_ALT}){NA}"
)
ORDINAL_RE = re.compile(ORDINAL)
_ORD_PART_RE = re.compile(
    rf"{NB}(?:و?ال)?({_ORD_UNIT_ALT}|عشره?|{_ORD_TENS_ALT}|{_HUNDRED_ALT})(?![{AR}])"
)


def parse_ordinal(text: str) -> int | None:
    """Value of an ordinal ("التاسع عشر بعد المايه" -> 119); ``None`` if there is none."""
    total = 0
    found = False
    for match in _ORD_PART_RE.finditer(text):
        word = match.group(1)
        found = True
        if word in _ORD_UNITS:
            total += _ORD_UNITS[word]
        elif word in ("عشر", "عشره"):
            total += 10
        elif word in _TENS:
            total += _TENS[word]
        else:
            total += 200 if word.startswith(("ميت", "مايت")) else 100
    return total if found else None


def stated_total(text: str, total_re: re.Pattern[str], dual_re: re.Pattern[str]) -> int | None:
    """A total stated in ``text``: ``total_re`` (groups ``pre`` and ``num``) or a dual noun
    matched by ``dual_re`` (2); ``None`` when neither is there or the number is vague."""
    match = total_re.search(text)
    if match is not None:
        q = quantity(match.group("pre"), match.group("num"))
        return q.value if q is not None else None
    if dual_re.search(text):
        return 2
    return None
