"""Events: the records of different reports that describe the same real event.

A deterministic blocking and scoring rule (docs/dataset.md says why not Splink):

* **Blocking.** Only records of the same category whose dates lie within ``tolerance`` days
  of each other are compared (records bucketed by category and day; each record meets the
  buckets of its day +- tolerance), and never two records of the same report. A record
  without a date is an event of its own. The cost is linear in the records times the size
  of a day's bucket.
* **Scoring** a pair (points, see :func:`score`): the place after gazetteer normalisation
  (:func:`place_points`: the same place +3; two different places of the gazetteer: not the
  same event; unknown names sharing a word +1, sharing none -3), the governorate
  (different: not the same event; same +1), the date (same day +2), the kind (same +1,
  different -2), the actors (shared +1, disjoint -1), and the counts (equal +0.5;
  different counts are *not* evidence against: mentions disagree, and every mention keeps
  its own). A pair at or above ``threshold`` is a link.
* **Clustering.** Links are taken best first; two groups merge only when no report has a
  record in both (one report does not mention one event twice), so a chain of weak links
  cannot swallow a day's events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from llm_extract.reporting.gazetteer import name_key

TOLERANCE_DAYS = 1
THRESHOLD = 4.0
NEVER = float("-inf")


@dataclass(frozen=True)
class Mention:
    """What the linking compares of one record."""

    record_id: str
    report_id: str
    category: str
    date: dt.date | None
    place_id: str | None = None
    location: str | None = None
    governorate: str | None = None
    kind: str | None = None
    actors: frozenset[str] = frozenset()
    counts: tuple[int | None, ...] = ()

    @property
    def words(self) -> frozenset[str]:
        """The words of the place's name after gazetteer normalisation (empty when none)."""
        key = name_key(self.location) if self.location else None
        return frozenset(key.split()) if key else frozenset()


def place_points(a: Mention, b: Mention) -> float:
    """Two places the gazetteer knows: the same place +3, else never one event. Otherwise
    the names after normalisation: the same +3, sharing a word +1, nothing shared -3."""
    if a.place_id and b.place_id:
        return 3 if a.place_id == b.place_id else NEVER
    words_a, words_b = a.words, b.words
    if not words_a or not words_b:
        return 0
    if words_a == words_b:
        return 3
    return 1 if words_a & words_b else -3


def score(a: Mention, b: Mention) -> float:
    """The points of a pair (see the module doc); ``-inf`` when they cannot be one event."""
    if a.category != b.category or a.report_id == b.report_id:
        return NEVER
    if a.date is None or b.date is None:
        return NEVER
    points = place_points(a, b)
    if a.governorate and b.governorate:
        if a.governorate != b.governorate:
            return NEVER
        points += 1
    if a.date == b.date:
        points += 2
    if a.kind and b.kind:
        points += 1 if a.kind == b.kind else -2
    if a.actors and b.actors:
        points += 1 if a.actors & b.actors else -1
    shared = [(x, y) for x, y in zip(a.counts, b.counts, strict=False) if x and y]
    if shared and all(x == y for x, y in shared):
        points += 0.5
    return points


def candidate_pairs(
    mentions: Sequence[Mention], tolerance: int = TOLERANCE_DAYS
) -> Iterable[tuple[int, int]]:
    """Index pairs of the blocks: same category, dates within ``tolerance`` days."""
    buckets: dict[tuple[str, int], list[int]] = defaultdict(list)
    for index, mention in enumerate(mentions):
        if mention.date is not None:
            buckets[(mention.category, mention.date.toordinal())].append(index)
    for (category, day), members in buckets.items():
        for offset in range(0, tolerance + 1):
            others = members if offset == 0 else buckets.get((category, day + offset), [])
            for i in members:
                for j in others:
                    if offset == 0 and j <= i:
                        continue
                    yield i, j


@dataclass(frozen=True)
class Linked:
    """Groups of mention indices (every mention in exactly one), and each linked pair's
    score."""

    groups: list[list[int]]
    scores: dict[tuple[int, int], float]


def link(
    mentions: Sequence[Mention],
    *,
    tolerance: int = TOLERANCE_DAYS,
    threshold: float = THRESHOLD,
) -> Linked:
    """Group the mentions into events (see the module doc)."""
    scored: list[tuple[float, int, int]] = []
    for i, j in candidate_pairs(mentions, tolerance):
        points = score(mentions[i], mentions[j])
        if points >= threshold:
            scored.append((points, i, j))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    parent = list(range(len(mentions)))
    reports: dict[int, set[str]] = {i: {m.report_id} for i, m in enumerate(mentions)}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    kept: dict[tuple[int, int], float] = {}
    for points, i, j in scored:
        ri, rj = root(i), root(j)
        if ri == rj:
            kept[(i, j)] = points
            continue
        if reports[ri] & reports[rj]:
            continue
        if len(reports[ri]) < len(reports[rj]):
            ri, rj = rj, ri
        parent[rj] = ri
        reports[ri] |= reports.pop(rj)
        kept[(i, j)] = points
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(mentions)):
        groups[root(i)].append(i)
    return Linked(groups=sorted(groups.values()), scores=kept)


def event_id(record_ids: Iterable[str]) -> str:
    """An event's id: from its first mention's record id (stable while that mention stays)."""
    first = min(record_ids)
    return "ev_" + hashlib.sha256(first.encode()).hexdigest()[:16]
