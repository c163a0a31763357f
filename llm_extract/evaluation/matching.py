"""Match predicted records to gold records, per report and category.

The similarity of a predicted and a gold record is a weighted mean of components in [0, 1]:

========  ==============================================================================
date      1 for the same day, then 1/3 less per day apart (0 from 3 days); dates of
          convoys are compared as sets (F1). Both missing: 1; one missing: 0.
place     rapidfuzz ``token_set_ratio`` of the :func:`~llm_extract.normalize.normalize`\\ d
          strings (``location``; for convoys the origin and destinations; for strikes the
          location and target names). Both missing: 1; one missing: 0.
number    1 when the headline number agrees (convoy ``vehicles``), else 0.
actor     strikes: ``attacker`` equal; arrests: set F1 of ``actors``; drills: of
          ``participants``.
evidence  rapidfuzz ``partial_ratio`` of the normalised evidence spans (both records quote
          the same report, so the same statement gives overlapping quotes).
========  ==============================================================================

A *gate* must agree or the similarity is 0: convoy ``mode`` (ground vs air) and strike
``kind``. The weights are :data:`WEIGHTS`; pairs whose similarity is below
:data:`MATCH_THRESHOLD` stay unmatched. The assignment that maximises the summed similarity
is found with :func:`scipy.optimize.linear_sum_assignment`, so each record is matched at most
once and a duplicated prediction is spurious.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz
from scipy.optimize import linear_sum_assignment

from llm_extract.normalize import normalize as _normalize
from llm_extract.schemas import RECORD_TYPES, Arrest, Convoy, Drill, Grounded, Strike

#: Pairs below this similarity are not matched (missed + spurious instead).
MATCH_THRESHOLD = 0.5
#: Days apart at which the date component reaches 0.
DATE_TOLERANCE_DAYS = 3
#: Component weights per category (each row sums to 1).
WEIGHTS: dict[str, dict[str, float]] = {
    "convoys": {"date": 0.3, "number": 0.2, "place": 0.1, "evidence": 0.4},
    "drills": {"date": 0.4, "place": 0.2, "actor": 0.1, "evidence": 0.3},
    "strikes": {"date": 0.3, "place": 0.2, "actor": 0.2, "evidence": 0.3},
    "arrests": {"date": 0.3, "place": 0.2, "actor": 0.2, "evidence": 0.3},
}


#: The same place names and quotes are compared with every candidate of a report, in every
#: configuration of a grid: each is normalised once (a pure function of a short string).
normalize = functools.lru_cache(maxsize=8192)(_normalize)


def text_similarity(a: str | None, b: str | None) -> float:
    """Fuzzy similarity in [0, 1] of two Arabic strings after normalisation (order-insensitive)."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    return float(fuzz.token_set_ratio(normalize(a), normalize(b))) / 100.0


def evidence_similarity(a: str, b: str) -> float:
    """How much two evidence quotes overlap: 1 when one contains the other."""
    na, nb = normalize(a), normalize(b)
    if not na or not nb:
        return 0.0
    return float(fuzz.partial_ratio(na, nb)) / 100.0


def date_similarity(a: dt.date | None, b: dt.date | None) -> float:
    """1 for the same day, decreasing linearly to 0 at :data:`DATE_TOLERANCE_DAYS` apart."""
    if a is None and b is None:
        return 1.0
    if a is None or b is None:
        return 0.0
    return max(0.0, 1.0 - abs((a - b).days) / DATE_TOLERANCE_DAYS)


def set_f1(
    predicted: Iterable[Any],
    gold: Iterable[Any],
    same: Callable[[Any, Any], bool] | None = None,
) -> float:
    """F1 of two collections; duplicates count once. Both empty: 1.

    ``same`` decides whether two elements agree (default: equality); each gold element is
    used at most once.
    """
    pred_items = _unique(predicted)
    gold_items = _unique(gold)
    if not pred_items and not gold_items:
        return 1.0
    if not pred_items or not gold_items:
        return 0.0
    equal = same or (lambda x, y: x == y)
    left = list(gold_items)
    hits = 0
    for item in pred_items:
        for j, candidate in enumerate(left):
            if equal(item, candidate):
                hits += 1
                del left[j]
                break
    return 2.0 * hits / (len(pred_items) + len(gold_items))


def _unique(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    seen: set[Hashable] = set()
    for item in items:
        key = normalize(item) if isinstance(item, str) else item
        try:
            if key in seen:
                continue
            seen.add(key)
        except TypeError:  # unhashable (a pydantic model): keep every occurrence
            pass
        out.append(item)
    return out


def _places(record: Grounded) -> str | None:
    if isinstance(record, Convoy):
        parts = [p for p in [record.origin, *record.destinations] if p]
    elif isinstance(record, Strike):
        parts = [p for p in [record.location, *(t.name for t in record.targets)] if p]
    elif isinstance(record, Drill | Arrest):
        parts = [record.location] if record.location else []
    else:
        parts = []
    return " ".join(parts) or None


def _actor(pred: Grounded, gold: Grounded) -> float:
    if isinstance(pred, Strike) and isinstance(gold, Strike):
        return 1.0 if pred.attacker == gold.attacker else 0.0
    if isinstance(pred, Arrest) and isinstance(gold, Arrest):
        return set_f1(pred.actors, gold.actors)
    if isinstance(pred, Drill) and isinstance(gold, Drill):
        return set_f1(pred.participants, gold.participants)
    return 1.0


def _date(pred: Grounded, gold: Grounded) -> float:
    if isinstance(pred, Convoy) and isinstance(gold, Convoy):
        return set_f1(pred.dates, gold.dates)
    return date_similarity(getattr(pred, "date", None), getattr(gold, "date", None))


def _number(pred: Grounded, gold: Grounded) -> float:
    if isinstance(pred, Convoy) and isinstance(gold, Convoy):
        return 1.0 if pred.vehicles == gold.vehicles else 0.0
    return 1.0


def components(pred: Grounded, gold: Grounded) -> dict[str, float]:
    """Each similarity component of a pair (see the module docstring)."""
    return {
        "date": _date(pred, gold),
        "place": text_similarity(_places(pred), _places(gold)),
        "number": _number(pred, gold),
        "actor": _actor(pred, gold),
        "evidence": evidence_similarity(pred.evidence, gold.evidence),
    }


def gates_agree(pred: Grounded, gold: Grounded) -> bool:
    """Convoys must share ``mode`` and strikes ``kind``; records of other types never match."""
    if type(pred) is not type(gold):
        return False
    if isinstance(pred, Convoy) and isinstance(gold, Convoy):
        return pred.mode == gold.mode
    if isinstance(pred, Strike) and isinstance(gold, Strike):
        return pred.kind == gold.kind
    return True


def similarity(category: str, pred: Grounded, gold: Grounded) -> float:
    """Weighted similarity in [0, 1] of a predicted and a gold record of ``category``."""
    if category not in RECORD_TYPES:
        raise KeyError(category)
    if not gates_agree(pred, gold):
        return 0.0
    parts = components(pred, gold)
    return sum(weight * parts[name] for name, weight in WEIGHTS[category].items())


@dataclass(frozen=True)
class Pair:
    pred: int
    gold: int
    similarity: float


@dataclass(frozen=True)
class Matching:
    """The outcome of matching one category of one report (indices into the two lists)."""

    pairs: list[Pair]
    spurious: list[int]
    missed: list[int]


def match_records(
    category: str,
    predicted: Sequence[Grounded],
    gold: Sequence[Grounded],
    *,
    threshold: float = MATCH_THRESHOLD,
) -> Matching:
    """Optimal one-to-one assignment of ``predicted`` to ``gold`` records above ``threshold``."""
    if not predicted or not gold:
        return Matching(
            pairs=[], spurious=list(range(len(predicted))), missed=list(range(len(gold)))
        )
    scores = np.array([[similarity(category, p, g) for g in gold] for p in predicted], dtype=float)
    rows, cols = linear_sum_assignment(scores, maximize=True)
    pairs = [
        Pair(int(r), int(c), float(scores[r, c]))
        for r, c in zip(rows, cols, strict=True)
        if scores[r, c] >= threshold
    ]
    matched_pred = {p.pred for p in pairs}
    matched_gold = {p.gold for p in pairs}
    return Matching(
        pairs=sorted(pairs, key=lambda p: p.gold),
        spurious=[i for i in range(len(predicted)) if i not in matched_pred],
        missed=[j for j in range(len(gold)) if j not in matched_gold],
    )
