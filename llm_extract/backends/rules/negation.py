"""Mentions of events (of every category) that did not happen or might happen: "لم يسجل
أي استهداف", "لم تتعرض القاعدة لهجوم", "نفى التحالف تعرض ...", "تحسبا لهجمات",
"توعدت باستهداف القواعد"; and
earlier events a sentence refers back to as its time or cause: "عقب الهجوم الذي تعرضت له
القاعدة", "تضررت من القصف السابق".

:func:`asserted` blanks them out (same length, so positions still hold) before a category's
cue words are looked for; the rest of the sentence keeps its meaning ("سقطت قذيفة ...
دون أن تسفر عن إصابات" is still an attack).
"""

from __future__ import annotations

import re
from functools import lru_cache

from llm_extract.backends.rules.numbers import NA, NB

#: Words that deny what follows, or make it a threat, a fear or a condition.
_NEGATOR = (
    r"(?:لم|لن|ليس|ليست|عدم|دون|بدون|خلا|خلو|يخل|تخل|نفي|نفت|ينفي|تنفي|نافيا|نافيه"
    r"|لا(?!\s+(?:يقل|تقل|سيما|تزال|يزال|زال|زالت|بد)" + NA + r")"
    r"|تحسبا|تحسب|خشيه|خوفا|تخوفا|توعد|توعدت|تتوعد|يتوعد|هدد|هددت|تهدد|يهدد|تهديد|تهديدات"
    r"|اذا|في حال|لو|حذر|حذرت|يحذر|تحذر|تحذير|تحذيرات|مخاوف"
    # purposes: "لحمايه القاعده من هجمات المسيرات"
    r"|لحماي[^\s,.]*|لصد|للتصدي|لمواجه[^\s,.]*|لردع|استعدادا)"
)
#: Cue words a negator can deny: strikes ("لهجوم", "غارات", "تتعرض"), and raids, drills and
#: convoys ("لم تنفذ مداهمات", "لم تجر تدريبات", "لم تدخل قوافل").
_CUE = (
    r"[^\s,.;:()]*(?:هجوم|هجمات|هجم|استهداف|استهدف|قصف|غار|ضرب|اعتداء|تعرض|قذايف|صواريخ|مسير"
    r"|اعتقال|اعتقل|مداهم|دهم|انزال|تدريب|مناور|تمرين|قافل|قوافل|شاحن|رتل|ارتال|هبوط|هبط|طاير)"
    r"[^\s,.;:()]*"
)
#: Clauses that turn the other way end a negator's reach, as punctuation does.
_TURN = r"(?:بينما|لكن|لكنه|الا|غير ان|في حين|فيما|حيث|حتي)"
_WORD = rf"(?!{_TURN}{NA})[^\s,.;:()]+"
#: "لم ... أي X": nothing of the kind, up to the end of the clause.
_ANY_RE = re.compile(
    rf"{NB}[وف]?{_NEGATOR}{NA}(?:\s+{_WORD}){{0,8}}?\s+(?:من\s+)?[لب]?اي{NA}(?:\s+{_WORD})*"
)
#: "لم تتعرض القاعدة لهجوم": the negator up to the last cue word within its reach.
_DENIED_RE = re.compile(
    rf"{NB}[وف]?{_NEGATOR}{NA}(?:\s+{_WORD}){{0,6}}?\s+{_CUE}(?:(?:\s+{_WORD}){{0,3}}?\s+{_CUE})*"
)


#: "هجمات محتمله", "القصف السابق": an attack expected, or one told before.
_EXPECTED_RE = re.compile(
    rf"{_CUE}(?:\s+{_WORD}){{0,2}}?\s+(?:محتمل|محتمله|مرتقب|مرتقبه|متوقع|متوقعه|وشيك|وشيكه"
    rf"|مفترض|مفترضه|مستقبلي|مستقبليه|السابق|السابقه){NA}"
)
#: "عقب الهجوم الذي ...", "ردا علي الهجمات": a known attack as the time or cause of another
#: event, up to the end of the clause.
_REFERENCE_RE = re.compile(
    rf"{NB}[و]?(?:عقب|بعد|اثر|علي اثر|في اعقاب|علي خلفيه|ردا علي|رد علي)\s+"
    rf"(?:(?:ساعات|ايام|يوم|يومين)\s+(?:من|علي)\s+)?ال(?:هجوم|هجمات|استهداف|قصف|اعتداء)"
    rf"[^\s,.;:()]*(?:\s+{_WORD})*"
)


@lru_cache(maxsize=1024)
def asserted(text: str) -> str:
    """``text`` with denied, feared and threatened mentions blanked out (same length).
    Remembered (a pure function of the text): each category asks it of the same clauses."""
    for pattern in (_ANY_RE, _DENIED_RE, _EXPECTED_RE, _REFERENCE_RE):
        text = pattern.sub(lambda m: " " * len(m.group()), text)
    return text
