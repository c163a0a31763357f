"""Places the report series names, with Arabic spelling variants and coordinates.

The table ships with the package (``data/gazetteer.csv``). Lookups compare names after
:func:`~llm_extract.normalize.normalize`, tolerate generic leading words ("قاعدة", "حقل",
"قرية", "بلدة", "مدينة"...), the article "ال", trailing words such as "النفطي" or "للغاز",
and qualifiers such as "بريف دير الزور الشرقي" after the name. A name that is not in the
table is unknown (``None``): nothing is guessed, and a bare region ("ريف الحسكة") is not a
place.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import StringIO

from llm_extract.normalize import normalize
from llm_extract.schemas import Governorate

PLACE_TYPES: frozenset[str] = frozenset(
    {"base", "field", "town", "village", "crossing", "camp", "area"}
)


@dataclass(frozen=True)
class Place:
    """One place of the gazetteer. Coordinates are approximate (town or base level)."""

    id: str
    name_en: str
    names_ar: tuple[str, ...]
    type: str
    governorate: Governorate | None
    lat: float
    lon: float


def _words(*items: str) -> frozenset[str]:
    return frozenset(normalize(item) for item in items)


# Generic words that may precede a name: "قاعدة حقل كونيكو" is "كونيكو".
_LEADING = _words(
    "قاعدة", "حقل", "حقول", "قرية", "بلدة", "مدينة", "معمل", "معسكر", "مخيم", "معبر",
    "ناحية", "سجن", "مطار", "مهبط", "محطة", "غاز", "نفط", "حي",
)  # fmt: skip
# Words that may follow a name without changing the place: "حقل العمر النفطي".
_TRAILING = _words(
    "النفطي", "النفطية", "للغاز", "للنفط", "الغازي", "الغازية", "العسكري", "العسكرية",
    "الأمريكية", "الأميركية", "الحدودي", "الحدودية",
)  # fmt: skip
# Words that start a qualifier after the name: "البصيرة بريف دير الزور الشرقي".
_QUALIFIERS = _words(
    "ريف", "بريف", "في", "ضمن", "قرب", "عند", "التابعة", "التابع", "شمال", "شمالي", "جنوب",
    "جنوبي", "شرق", "شرقي", "غرب", "غربي", "بمحافظة", "محافظة", "شمالا", "شرقا", "الواقع",
    "الواقعة", "المحاذي", "المحاذية", "بالقرب",
)  # fmt: skip
_REGION_START = _words("ريف", "بريف", "محافظة", "منطقة شمال شرق سورية")
_PUNCT = re.compile(r"[()\[\]{},.;:!?/\\|_\-]")


def name_key(name: str) -> str | None:
    """The comparison key of a place name (``None`` when nothing specific is left)."""
    text = _PUNCT.sub(" ", normalize(name).casefold())
    words = text.split()
    if not words or words[0] in _REGION_START:
        return None
    for index, word in enumerate(words):
        if index > 0 and word in _QUALIFIERS:
            words = words[:index]
            break
    while len(words) > 1 and words[0] in _LEADING:
        words = words[1:]
    while len(words) > 1 and words[-1] in _TRAILING:
        words = words[:-1]
    stripped = [_strip_article(word) for word in words]
    key = " ".join(word for word in stripped if word)
    return key or None


def _strip_article(word: str) -> str:
    if word in ("ال", "al"):
        return ""
    if word.startswith("ال") and len(word) > 3:
        return word[2:]
    if word.startswith("al ") or (word.startswith("al") and len(word) > 4 and word[2] == "-"):
        return word[3:]
    return word


class Gazetteer:
    """A table of places with a name index; two places may not share a name key."""

    def __init__(self, places: Iterable[Place]) -> None:
        self.places: dict[str, Place] = {}
        self._index: dict[str, str] = {}
        for place in places:
            if place.id in self.places:
                raise ValueError(f"gazetteer: duplicate id {place.id!r}")
            self.places[place.id] = place
            for name in (*place.names_ar, place.name_en):
                key = name_key(name)
                if key is None:
                    raise ValueError(f"gazetteer: {place.id}: name {name!r} has no key")
                other = self._index.setdefault(key, place.id)
                if other != place.id:
                    raise ValueError(
                        f"gazetteer: {name!r} of {place.id!r} is ambiguous with {other!r}"
                    )

    def lookup(self, name: str | None) -> Place | None:
        """The place called ``name`` (any listed spelling), or ``None`` when unknown."""
        if not name:
            return None
        key = name_key(name)
        if key is None:
            return None
        place_id = self._index.get(key)
        return self.places[place_id] if place_id else None

    def canonical(self, name: str | None) -> str | None:
        """The id of the place called ``name`` (same id for every spelling), or ``None``."""
        place = self.lookup(name)
        return place.id if place else None


def parse_csv(text: str) -> list[Place]:
    """Places of a gazetteer CSV (columns: id, name_en, names_ar, type, governorate, lat, lon)."""
    places: list[Place] = []
    for line, row in enumerate(csv.DictReader(StringIO(text)), start=2):
        try:
            kind = row["type"].strip()
            if kind not in PLACE_TYPES:
                raise ValueError(f"unknown type {kind!r}")
            governorate = row["governorate"].strip()
            places.append(
                Place(
                    id=row["id"].strip(),
                    name_en=row["name_en"].strip(),
                    names_ar=tuple(n.strip() for n in row["names_ar"].split("|") if n.strip()),
                    type=kind,
                    governorate=Governorate(governorate) if governorate else None,
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                )
            )
        except (KeyError, ValueError, AttributeError) as exc:
            raise ValueError(f"gazetteer.csv line {line}: {exc}") from exc
    return places


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The gazetteer shipped with the package."""
    text = resources.files("llm_extract").joinpath("data/gazetteer.csv").read_text("utf-8")
    return Gazetteer(parse_csv(text))


def lookup(name: str | None) -> Place | None:
    """Look ``name`` up in the shipped gazetteer; ``None`` when unknown (never a guess)."""
    return default_gazetteer().lookup(name)


def canonical(name: str | None) -> str | None:
    """Canonical id of ``name`` in the shipped gazetteer (for matching place names)."""
    return default_gazetteer().canonical(name)
