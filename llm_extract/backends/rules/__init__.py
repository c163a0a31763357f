"""The offline pattern extractor (``--model rules``) for the coalition report series.

Modules: ``numbers`` (Arabic numbers, ordinals, hedges), ``lexicon`` (places, actors, broken
spellings), ``segment`` (normalised text with offsets, lines, sentences), ``dates``,
``places``, ``context`` (dated items), one module per category (``convoys``, ``drills``,
``strikes`` with ``casualties``, ``arrests``), ``extractor`` (text -> ReportExtraction) and
``backend`` (:class:`RulesBackend`).
"""

from __future__ import annotations

from llm_extract.backends.rules.backend import RulesBackend
from llm_extract.backends.rules.extractor import extract

__all__ = ["RulesBackend", "extract"]
