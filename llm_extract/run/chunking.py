"""Long reports: split on paragraph boundaries with overlap, and merge the parts' records.

:func:`split_report` cuts a text into chunks of at most ``max_chars`` characters, each made of
whole paragraphs (lines), the next one starting with the last paragraphs of the previous one
(up to ``overlap_chars``) so that a statement cut by a boundary is whole in one of them. A
paragraph longer than a chunk is cut at a sentence end, else at a space.

:func:`merge_extractions` turns the extractions of the chunks (each validated against its own
chunk) into one extraction of the whole report: evidence offsets are shifted by the chunk's
offset so they stay relative to the whole report, every record is grounded again against the
whole text, and records that two neighbouring chunks both extracted from their overlap are
kept once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from llm_extract.backends.base import Backend, BackendResponse, ExtractionRequest
from llm_extract.errors import ExtractionError, UsageError
from llm_extract.normalize import find_span, normalize
from llm_extract.prompts import Prompt
from llm_extract.report import Report
from llm_extract.results import DroppedRecord, Usage
from llm_extract.schemas import CATEGORIES, Grounded, ReportExtraction, StatedTotals

_PARAGRAPH = re.compile(r"[^\n]*(?:\n+|$)")
_SENTENCE_END = re.compile(r"[.!?؟۔]\s+|[\n]")


@dataclass(frozen=True)
class Chunk:
    """Part ``index`` of a report: ``text == whole[start:end]``."""

    index: int
    start: int
    end: int
    text: str


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, line breaks kept with the paragraph they close."""
    spans = []
    for match in _PARAGRAPH.finditer(text):
        if match.end() > match.start():
            spans.append((match.start(), match.end()))
    return spans


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` (longer than ``max_chars``) at sentence ends, else at spaces."""
    pieces = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        cut = max((m.end() for m in _SENTENCE_END.finditer(window)), default=0)
        if cut < max(1, max_chars // 2):  # always forward, even for a one-character chunk
            space = window.rfind(" ")
            cut = space + 1 if space > max_chars // 2 else max_chars
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, end))
    return pieces


def split_text(text: str, max_chars: int, overlap_chars: int = 0) -> list[Chunk]:
    """Chunks of ``text`` of at most ``max_chars`` characters on paragraph boundaries.

    Consecutive chunks share their boundary paragraphs, up to ``overlap_chars`` characters.
    A text that fits is one chunk.
    """
    if max_chars <= 0:
        raise UsageError(f"chunk size must be positive, got {max_chars}")
    if not 0 <= overlap_chars < max_chars:
        raise UsageError("the overlap must be smaller than the chunk size")
    if len(text) <= max_chars:
        return [Chunk(0, 0, len(text), text)]
    units: list[tuple[int, int]] = []
    for start, end in _paragraphs(text):
        units.extend(_cut_long(text, start, end, max_chars))
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and units[last + 1][1] - units[first][0] <= max_chars:
            last += 1
        start, end = units[first][0], units[last][1]
        chunks.append(Chunk(len(chunks), start, end, text[start:end]))
        if last + 1 >= len(units):
            break
        # The next chunk starts with the trailing paragraphs of this one that fit the overlap
        # (and always moves forward).
        nxt = last + 1
        while nxt - 1 > first and end - units[nxt - 1][0] <= overlap_chars:
            nxt -= 1
        first = nxt
    return chunks


def split_report(report: Report, max_chars: int, overlap_chars: int = 0) -> list[Report]:
    """``report`` as one :class:`Report` per chunk (ids ``<id>#<n>``); itself if it fits."""
    chunks = split_text(report.text, max_chars, overlap_chars)
    if len(chunks) == 1:
        return [report]
    return [
        replace(report, report_id=f"{report.report_id}#{c.index}", text=c.text, sha256="")
        for c in chunks
    ]


def _content(record: Grounded) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude={"evidence", "evidence_start", "evidence_end"})


def _shifted_span(record: Grounded, chunk: Chunk, whole: str) -> tuple[int, int] | None:
    """The record's evidence span in ``whole``: inside its chunk first, else anywhere."""
    span = find_span(chunk.text, record.evidence)
    if span is not None:
        return span[0] + chunk.start, span[1] + chunk.start
    return find_span(whole, record.evidence)


def _same(a: tuple[Grounded, tuple[int, int]], b: tuple[Grounded, tuple[int, int]]) -> bool:
    """Two records from different chunks that stand for one statement of the report."""
    (ra, (sa, ea)), (rb, (sb, eb)) = a, b
    if (sa, ea) == (sb, eb):
        return True
    overlapping = sa < eb and sb < ea
    same_content = _content(ra) == _content(rb)
    return overlapping and (same_content or normalize(ra.evidence) == normalize(rb.evidence))


def merge_extractions(
    parts: Sequence[tuple[Chunk, ReportExtraction]],
    whole: str,
    report_id: str | None = None,
    published: dt.date | dt.datetime | None = None,
) -> ReportExtraction:
    """One extraction of ``whole`` from the extractions of its chunks (see the module doc)."""
    month = next((p.coalition_month for _, p in parts if p.coalition_month is not None), None)
    totals: dict[str, Any] = {}
    for _, part in parts:
        for name, value in part.stated_totals.model_dump().items():
            if value is not None and totals.get(name) is None:
                totals[name] = value
    data: dict[str, Any] = {
        "coalition_month": month,
        "stated_totals": StatedTotals(**totals).model_dump(mode="json"),
    }
    spans: dict[str, list[tuple[int, int]]] = {}
    for category in CATEGORIES:
        kept: list[tuple[Grounded, tuple[int, int], int]] = []
        for chunk, part in parts:
            for record in part.records(category):
                span = _shifted_span(record, chunk, whole)
                if span is None:
                    continue  # cannot happen for a record validated against its chunk
                if any(
                    index != chunk.index and _same((record, span), (other, other_span))
                    for other, other_span, index in kept
                ):
                    continue
                kept.append((record, span, chunk.index))
        kept.sort(key=lambda item: item[1])
        data[category] = [
            record.model_dump(mode="json", exclude={"evidence_start", "evidence_end"})
            for record, _, _ in kept
        ]
        spans[category] = [span for _, span, _ in kept]
    merged = ReportExtraction.model_validate(
        data, context={"source": whole, "report_id": report_id, "published": published}
    )
    # Grounding against the whole text finds an evidence's first occurrence; the chunk tells
    # which occurrence the model quoted, so keep that one.
    for category in CATEGORIES:
        for record, (start, end) in zip(merged.records(category), spans[category], strict=True):
            record.evidence_start, record.evidence_end = start, end
    return merged


class ChunkedBackend:
    """A backend that extracts a report longer than ``max_chars`` chunk by chunk.

    Each chunk is rendered by the prompt as a report of its own (id ``<id>#<n>``), sent to the
    inner backend, and the answers are merged by :func:`merge_extractions`. A report that fits
    goes through unchanged. Chunks of one report are sent one after the other, so
    ``--concurrency`` still counts reports in flight. If a chunk fails the report fails, with
    the tokens of every chunk sent counted in its usage.
    """

    def __init__(
        self, inner: Backend, prompt: Prompt, *, max_chars: int, overlap_chars: int = 0
    ) -> None:
        split_text("", max_chars, overlap_chars)  # checks the sizes (UsageError)
        self.inner = inner
        self.prompt = prompt
        self.max_chars = max_chars
        self.overlap_chars = overlap_chars
        self.name = inner.name

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        report = request.report
        chunks = split_text(report.text, self.max_chars, self.overlap_chars)
        if len(chunks) == 1:
            return await self.inner.extract(request)
        parts: list[tuple[Chunk, ReportExtraction]] = []
        usage = Usage()
        dropped: list[DroppedRecord] = []
        mode: str | None = None
        for chunk in chunks:
            # A chunk keeps the report's provenance (its publication date anchors dates).
            part = replace(
                report, report_id=f"{report.report_id}#{chunk.index}", text=chunk.text, sha256=""
            )
            sub = ExtractionRequest(
                report=part,
                messages=self.prompt.render(part),
                settings=request.settings,
                prompt=request.prompt,
                key=request.key,  # the log files a chunk's requests under its report's key
            )
            try:
                answer = await self.inner.extract(sub)
            except ExtractionError as exc:
                if isinstance(exc.usage, Usage):
                    usage = usage.add(exc.usage)
                exc.usage = usage
                exc.args = (f"chunk {chunk.index + 1} of {len(chunks)}: {exc}",)
                raise
            usage = usage.add(answer.usage)
            mode = mode or answer.mode
            parts.append((chunk, answer.extraction))
            dropped.extend(
                d.model_copy(update={"reason": f"chunk {chunk.index + 1}: {d.reason}"})
                for d in answer.dropped
            )
        merged = merge_extractions(parts, report.text, report.report_id, report.published)
        return BackendResponse(extraction=merged, usage=usage, dropped=dropped, mode=mode)

    async def aclose(self) -> None:
        await self.inner.aclose()
