"""The shipped gazetteer: spelling variants, qualifiers, unknown places, table integrity."""

from __future__ import annotations

import pytest

from llm_extract.reporting.gazetteer import (
    Gazetteer,
    Place,
    canonical,
    default_gazetteer,
    lookup,
    name_key,
    parse_csv,
)
from llm_extract.schemas import Governorate


@pytest.mark.parametrize(
    ("name", "place_id"),
    [
        ("قاعدة حقل “كونيكو”", "conoco_field"),
        ("معمل غاز كونيكو", "conoco_field"),
        ("حقل كونوكو للغاز", "conoco_field"),
        ("حقل العمر النفطي", "omar_field"),
        ("قاعدة حقل العمر", "omar_field"),
        ("قاعدة الشدادي بريف الحسكة", "shaddadi"),
        ("الشدادي", "shaddadi"),
        ("ديرالزور", "deir_ez_zor"),
        ("مدينة دير الزور", "deir_ez_zor"),
        ("البصيرة بريف دير الزور الشرقي", "busayrah"),
        ("بلدة الطيانة", "tayyana"),
        ("الطيانه", "tayyana"),
        ("معسكر الطلائع الواقع شرقي المدينة", "talaei_camp"),
        ("قاعدة تل بيدر شمالي الحسكة", "tal_baydar"),
        ("قاعدة التنف", "tanf"),
        ("منطقة الـ 55 كيلومتر", "tanf_55km"),
        ("قرية تل حميس", "tal_hamis"),
        ("مخيم الهول", "hol"),
        ("Conoco gas field", "conoco_field"),
        ("al-Omar oil field", "omar_field"),
    ],
)
def test_lookup_spelling_variants(name: str, place_id: str) -> None:
    place = lookup(name)
    assert place is not None
    assert place.id == place_id
    assert canonical(name) == place_id


@pytest.mark.parametrize(
    "name",
    [
        "كلش",  # a village the table does not hold
        "قرية حويجة التابعة لمدينة البصيرة",  # the head is unknown: not moved to its town
        "ريف الحسكة",  # a region, not a place
        "ريف دير الزور الشمالي",
        "قاعدة",
        "",
        None,
        "Springfield",
    ],
)
def test_unknown_places_are_none(name: str | None) -> None:
    assert lookup(name) is None
    assert canonical(name) is None


def test_known_place_fields() -> None:
    conoco = lookup("كونيكو")
    assert conoco is not None
    assert conoco.type == "base"
    assert conoco.governorate is Governorate.DEIR_EZ_ZOR
    assert 35.0 < conoco.lat < 35.6
    assert 40.0 < conoco.lon < 40.6
    tanf = lookup("التنف")
    assert tanf is not None
    assert tanf.governorate is Governorate.HOMS


def test_table_covers_the_series_and_stays_in_syria() -> None:
    places = list(default_gazetteer().places.values())
    assert len(places) >= 60
    kinds = {p.type for p in places}
    assert {"base", "field", "town", "village", "crossing", "camp"} <= kinds
    governorates = {p.governorate for p in places}
    assert {Governorate.HASAKAH, Governorate.DEIR_EZ_ZOR, Governorate.RAQQA, Governorate.HOMS} <= (
        governorates
    )
    for place in places:
        assert 32.0 < place.lat < 37.5, place.id
        assert 35.5 < place.lon < 42.5, place.id
        # Every spelling finds its own place back.
        for name in (*place.names_ar, place.name_en):
            assert canonical(name) == place.id, name


def test_name_key_is_normalised() -> None:
    assert name_key("قاعدة حقل «كونيكو»") == name_key("كونيكو")
    assert name_key("الحَسَكَة") == name_key("الحسكة")
    assert name_key("ريف الحسكة") is None


def test_ambiguous_names_are_rejected() -> None:
    a = Place("a", "Alpha", ("قاعدة الفا",), "base", None, 35.0, 40.0)
    b = Place("b", "Beta", ("الفا",), "town", None, 35.1, 40.1)
    with pytest.raises(ValueError, match="ambiguous"):
        Gazetteer([a, b])


def test_parse_csv_names_the_bad_line() -> None:
    text = (
        "id,name_en,names_ar,type,governorate,lat,lon\n"
        "x,X,قرية س,village,Hasakah,36.1,40.2\n"
        "y,Y,قرية ص,palace,Hasakah,36.1,40.2\n"
    )
    with pytest.raises(ValueError, match="line 3"):
        parse_csv(text)


def test_gold_bases_are_known() -> None:
    """Every base the gold set names as a target of an attack is in the gazetteer."""
    from llm_extract.evaluation.gold import load_gold_set

    targets = [t.name for item in load_gold_set() for s in item.gold.strikes for t in s.targets]
    targets = [name for name in targets if name.startswith(("قاعدة", "حقل"))]
    assert len(targets) >= 10
    assert [name for name in targets if lookup(name) is None] == []
