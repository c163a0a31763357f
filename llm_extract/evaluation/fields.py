"""Field-level comparison of one matched (predicted, gold) record pair.

Every field of the record type except the evidence and its offsets is compared:

- numbers, dates, enums and booleans: exact (score 1 or 0);
- lists: set F1 (strings after normalisation and fuzzy match, targets by name and count,
  casualties by party, killed and injured);
- Arabic strings: correct when the normalised fuzzy similarity reaches
  :data:`STRING_MATCH_THRESHOLD`.

A field is *scored* when the gold has a value (not null, not an empty list, not a ``False``
that is the field's default). A field with no gold value is not scored; if the prediction
puts a value there anyway, that is a *fabrication*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from llm_extract.evaluation.matching import set_f1, text_similarity
from llm_extract.schemas import Casualty, Grounded, Target

N = TypeVar("N", int, float)

#: Normalised fuzzy similarity at which two Arabic strings count as the same value.
STRING_MATCH_THRESHOLD = 0.85
#: Fields never compared (the quote and its offsets are checked by grounding instead).
# date_text is the model's copy of the date as written; the date itself is what is scored.
SKIPPED_FIELDS = frozenset({"evidence", "evidence_start", "evidence_end", "date_text"})


def is_absent(value: Any, default: Any = None) -> bool:
    """True for null, empty strings and lists, and a ``False`` that is the field's default."""
    if value is None or value == "" or value == []:
        return True
    return value is False and default is False


def _same_string(a: Any, b: Any) -> bool:
    return text_similarity(str(a), str(b)) >= STRING_MATCH_THRESHOLD


def _same_element(a: Any, b: Any) -> bool:
    if isinstance(a, Target) and isinstance(b, Target):
        return _same_string(a.name, b.name) and a.count == b.count
    if isinstance(a, Casualty) and isinstance(b, Casualty):
        return (a.party, a.killed, a.injured) == (b.party, b.killed, b.injured)
    if _is_plain_str(a) and _is_plain_str(b):
        return _same_string(a, b)
    return bool(a == b)


def field_score(pred: Any, gold: Any) -> float:
    """Score in [0, 1] of one predicted value against the gold value."""
    if isinstance(gold, list) or isinstance(pred, list):
        return set_f1(pred or [], gold or [], same=_same_element)
    if isinstance(gold, bool) or isinstance(pred, bool):
        return 1.0 if pred is gold else 0.0
    if _is_plain_str(gold) and _is_plain_str(pred):
        return 1.0 if _same_string(pred, gold) else 0.0
    return 1.0 if pred == gold else 0.0


def _is_plain_str(value: Any) -> bool:
    """A free Arabic string (enum members are ``str`` too, but are compared exactly)."""
    return isinstance(value, str) and not isinstance(value, Enum)


@dataclass
class FieldTally:
    """Field scores of matched pairs, summed per field name."""

    scored: dict[str, int] = field(default_factory=dict)
    correct: dict[str, float] = field(default_factory=dict)
    wrong: dict[str, int] = field(default_factory=dict)
    fabricated: dict[str, int] = field(default_factory=dict)
    absent: dict[str, int] = field(default_factory=dict)

    def add(self, other: FieldTally) -> None:
        _merge(self.scored, other.scored)
        _merge(self.correct, other.correct)
        _merge(self.wrong, other.wrong)
        _merge(self.fabricated, other.fabricated)
        _merge(self.absent, other.absent)


def _merge(mine: dict[str, N], theirs: dict[str, N]) -> None:
    for key, value in theirs.items():
        mine[key] = mine.get(key, value * 0) + value


@dataclass(frozen=True)
class FieldVerdict:
    """How one field of a matched pair compares: ``correct``, ``wrong`` (a gold value the
    prediction does not reach), ``fabricated`` (a value where the gold has none) or
    ``absent`` (neither has one). The one rule the metrics and the review page share."""

    name: str
    verdict: str
    score: float | None
    pred: Any
    gold: Any


def field_verdicts(pred: Grounded, gold: Grounded) -> list[FieldVerdict]:
    """Every compared field of a matched pair, in the order of the record type."""
    verdicts: list[FieldVerdict] = []
    for name, info in type(gold).model_fields.items():
        if name in SKIPPED_FIELDS:
            continue
        gold_value = getattr(gold, name)
        pred_value = getattr(pred, name)
        default = info.default
        if is_absent(gold_value, default):
            verdict = "absent" if is_absent(pred_value, default) else "fabricated"
            verdicts.append(FieldVerdict(name, verdict, None, pred_value, gold_value))
            continue
        score = field_score(pred_value, gold_value)
        verdict = "correct" if score >= 1.0 else "wrong"
        verdicts.append(FieldVerdict(name, verdict, score, pred_value, gold_value))
    return verdicts


def compare_fields(pred: Grounded, gold: Grounded, prefix: str = "") -> FieldTally:
    """Score every field of a matched pair; keys are ``<category>.<field>`` with ``prefix``."""
    tally = FieldTally()
    for item in field_verdicts(pred, gold):
        key = f"{prefix}{item.name}"
        if item.score is None:
            tally.absent[key] = tally.absent.get(key, 0) + 1
            if item.verdict == "fabricated":
                tally.fabricated[key] = tally.fabricated.get(key, 0) + 1
            continue
        tally.scored[key] = tally.scored.get(key, 0) + 1
        tally.correct[key] = tally.correct.get(key, 0.0) + item.score
        if item.verdict == "wrong":
            tally.wrong[key] = tally.wrong.get(key, 0) + 1
    return tally
