"""Helpers of the offline extractor's tests (``tests/test_rules_*.py``): the opening line of a
monthly report, and :func:`run`, which extracts a text and checks what every extraction
must satisfy (no record dropped, every record's evidence found at its offsets)."""

from __future__ import annotations

from llm_extract.backends.rules import extract
from llm_extract.normalize import normalize
from llm_extract.schemas import CATEGORIES, ReportExtraction


def head(month: int) -> str:
    """The opening line of a monthly report of coalition month ``month`` (own words): it
    fixes the period, hence the year of every date after it."""
    return f"للشهر {month} على التوالي يواصل التحالف الدولي نشاطه في سورية.\n"


#: Openings of reports of coalition months 125 and 126 (early 2025, the year of every date).
HEAD_125 = head(125)
HEAD_126 = head(126)


def run(text: str) -> ReportExtraction:
    """The extraction of ``text``: no record dropped, every record grounded."""
    extraction, dropped = extract(text, "t")
    assert dropped == []
    assert_grounded(text, extraction)
    return extraction


def assert_grounded(text: str, extraction: ReportExtraction) -> None:
    """Every record's evidence is the text at its offsets (after normalisation)."""
    for category in CATEGORIES:
        for record in extraction.records(category):
            assert record.evidence_start is not None and record.evidence_end is not None
            quoted = text[record.evidence_start : record.evidence_end]
            assert normalize(quoted) == normalize(record.evidence)
