"""The offline pattern extractor (``--model rules``) for the coalition report series.

Modules: ``numbers`` (Arabic numbers, ordinals, hedges), ``lexicon`` (places, actors, broken
spellings), ``segment`` (normalised text with offsets, lines, sentences), ``dates``,
``places``, ``negation`` (denied and feared events), ``context`` (the report as every
category reads it, dated items, and what a category hands on), one module per category
(``convoys``, ``drills``, ``strikes`` with ``strike_kinds``, ``bases`` and ``casualties``,
``arrests``), ``extractor`` (text -> ReportExtraction) and ``backend``
(:class:`RulesBackend`).

The pipeline. The categories read a report one after the other, in the order of
:data:`~llm_extract.backends.rules.extractor.PIPELINE`: convoys, drills, strikes, arrests.
Each is a function ``(ctx, claimed) -> Found``: it gets the report (never changed once
built) and the spans the categories before it claimed, and returns its records, the totals
the report states for it, and the spans it claims. Nothing else passes between categories;
there is no shared mutable state.

Why this order: drills claim the items they read, because a drill that simulated an attack
or an air landing ("صد هجوم علي القاعده", "محاكاه انزال جوي") is neither a strike nor an
arrest; so drills must run before strikes and arrests, which leave claimed spans alone.
Convoys, strikes and arrests claim nothing, and convoys heed no claim, so their places
otherwise change nothing. ``tests/test_rules_extractor.py`` pins the order and shows what
it changes.
"""

from __future__ import annotations

from llm_extract.backends.rules.backend import RulesBackend
from llm_extract.backends.rules.extractor import extract

__all__ = ["RulesBackend", "extract"]
