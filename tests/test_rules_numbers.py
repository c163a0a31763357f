"""Arabic numbers, ordinals and hedges as the offline extractor reads them."""

from __future__ import annotations

import re

import pytest

from llm_extract.backends.rules.numbers import (
    ORDINAL_RE,
    QUANTITY,
    parse_number,
    parse_ordinal,
    quantity,
)
from llm_extract.normalize import normalize


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("118", 118),
        ("١١٨", 118),
        ("ثلاثة", 3),
        ("ثلاث", 3),
        ("بست", 6),
        ("عشرة", 10),
        ("أحد عشر", 11),
        ("اثنا عشر", 12),
        ("خمسة وعشرون", 25),
        ("عشرين", 20),
        ("مئة", 100),
        ("مائتين", 200),
        ("ثلاثمائة", 300),
        ("مئة وخمسون", 150),
        ("عشرات", None),
        ("عدد من", None),
        ("ثلاثة آلاف وخمسمئة", 3500),
        ("ألف ومئتان", 1200),
        ("ألفا", 2000),
        ("ألفين وثلاثمائة", 2300),
        ("آلاف", None),
        ("مئات", None),
        ("١٢٠٥", 1205),
    ],
)
def test_parse_number(text: str, value: int | None) -> None:
    assert parse_number(normalize(text)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("التاسع عشر بعد المائة", 119),
        ("السادس عشر بعد المئة", 116),
        ("العشرين بعد المائة", 120),
        ("الحادي والعشرين", 21),
        ("التاسع", 9),
        ("الأول", 1),
    ],
)
def test_parse_ordinal(text: str, value: int) -> None:
    assert parse_ordinal(normalize(text)) == value


@pytest.mark.parametrize(
    ("text", "value", "approximate", "at_least"),
    [
        ("نحو 200 شاحنة", 200, True, False),
        ("قرابة ١٢ طائرة", 12, True, False),
        ("حوالى 40 آلية", 40, True, False),
        ("أكثر من 10 طائرات", 10, False, True),
        ("3 قتلى على الأقل", 3, False, True),
        ("سبع شاحنات", 7, False, False),
    ],
)
def test_quantity_hedges(text: str, value: int, approximate: bool, at_least: bool) -> None:
    norm = normalize(text)
    match = re.search(QUANTITY, norm)
    assert match is not None
    q = quantity(match.group("pre"), match.group("num"), norm[match.end() :])
    assert q is not None
    assert (q.value, q.approximate, q.at_least) == (value, approximate, at_least)


# --- every ordinal --------------------------------------------------------------------------------


_MASC = ["الحادي", "الثاني", "الثالث", "الرابع", "الخامس", "السادس", "السابع", "الثامن", "التاسع"]


_FEM = ["الحادية", "الثانية", "الثالثة", "الرابعة", "الخامسة", "السادسة", "السابعة", "الثامنة"]


_FEM.append("التاسعة")


_TENS = ["العشر", "الثلاث", "الأربع", "الخمس", "الست", "السبع", "الثمان", "التسع"]


def _ordinals(value: int) -> list[str]:
    """Every written form of the ordinal ``value`` (1..199)."""
    hundred, rest = divmod(value, 100)
    forms: list[str]
    if rest == 0:
        forms = [""]
    elif rest == 1:
        forms = ["الأول", "الأولى"] if not hundred else ["الحادي", "الحادية", "الأول"]
    elif rest < 10:
        forms = [_MASC[rest - 1], _FEM[rest - 1]]
    elif rest == 10:
        forms = ["العاشر", "العاشرة"]
    elif rest < 20:
        unit = rest - 10
        forms = [_MASC[unit - 1] + " عشر", _FEM[unit - 1] + " عشرة"]
    else:
        tens, unit = divmod(rest, 10)
        stems = [_TENS[tens - 2] + "ون", _TENS[tens - 2] + "ين"]
        if unit == 0:
            forms = stems
        else:
            forms = [f"{units[unit - 1]} و{stem}" for units in (_MASC, _FEM) for stem in stems]
    if hundred:
        return [f"{form} بعد المائة" if form else "المائة" for form in forms]
    return forms


@pytest.mark.parametrize("value", range(1, 200))
def test_every_ordinal_in_every_form(value: int) -> None:
    for form in _ordinals(value):
        norm = normalize(form)
        match = ORDINAL_RE.search(f"الشهر {norm} على")
        assert match is not None and match.group() == norm, form
        assert parse_ordinal(match.group()) == value, form
