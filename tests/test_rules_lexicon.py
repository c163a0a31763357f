"""Vocabulary of the offline extractor: actors and places, with broken and variant spellings,
and the most specific place a passage names."""

from __future__ import annotations

import pytest

from llm_extract.backends.rules.lexicon import actors_in
from llm_extract.backends.rules.places import find_governorate, find_location
from llm_extract.normalize import normalize
from llm_extract.schemas import Actor, Governorate


def test_broken_words_and_variant_spellings() -> None:
    assert actors_in(normalize("عناصر من د ا ع ش")) == [Actor.ISIS]
    assert actors_in(normalize("تبنت الم قاو م ة الإسلامية الهجوم")) == [
        Actor.ISLAMIC_RESISTANCE_IN_IRAQ
    ]
    assert find_governorate(normalize("في حقل كونوكو")) == Governorate.DEIR_EZ_ZOR
    assert find_governorate(normalize("قاعدة الشدادية")) == Governorate.HASAKAH
    assert find_governorate(normalize("مطار خراب الجير")) == Governorate.HASAKAH
    assert find_governorate(normalize("قرب التنف")) == Governorate.HOMS


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("في قاعدة حقل كونيكو", "حقل كونيكو"),  # a base named by its field
        ("في مطار خراب الجير", "مطار خراب الجير"),  # a known place of several words
        ("قرب قرية كلش التابعة لناحية الصور", "كلش"),  # a village, not its district
        ("في مخيم الهول", "مخيم الهول"),
        ("قرب التنف", "التنف"),
        ("بريف دير الزور", "دير الزور"),  # a governorate, when nothing else is named
    ],
)
def test_most_specific_place_named(text: str, place: str) -> None:
    norm = normalize(text)
    where = find_location(norm, governorate_fallback=True)
    assert where is not None
    assert norm[where[0] : where[1]] == normalize(place)
