"""A report as normalised text with offsets, split into lines and sentences.

All patterns run on the normalised text; :meth:`Doc.original` maps a span of it back to the
exact characters of the report, which is what evidence and open strings are made of.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left
from dataclasses import dataclass

from llm_extract.backends.rules.dates import DATE_RE
from llm_extract.normalize import normalized_source

_SENTENCE_END_RE = re.compile(r"[.!؟?:](?=\s|$)")
#: A list marker at the start of a line: "-", "•", "1.", "(2)", "3 -".
BULLET_RE = re.compile(r"^(?:[-–—•*·▪◦]+|\(?\d{1,2}\s*[.)\-–]|\(\d{1,2}\))\s*(?=\S)")
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
#: A count right after a label's colon, and nothing else on the line: "11 هجوما", "هجومان".
_COUNT_AFTER_RE = re.compile(
    r"\s*(?:\d{1,4}(?:\s+\S+)?|(?:هجومان|هجومين|استهدافان|استهدافين|غارتان|غارتين))\s*$"
)
#: Where a sentence's next clause begins: a contrastive conjunction ("فيما", "بينما", "في
#: حين", "كما") or a comma followed by "و" and a word (not a number: "، و9 و17 ايار" goes on
#: listing days).
_CLAUSE_BREAK_RE = re.compile(
    r"(?:,\s*|\s+)(?=(?:فيما|بينما|في حين|كما)\s)|,\s*(?=و[\u0621-\u064a])"
)
_QUOTES = "\"'“”„‟«»‘’‚‛`´()[]"
_TRIM = " ,;،:-–—." + _QUOTES


@dataclass(frozen=True)
class Span:
    """A piece of the normalised text: ``doc.norm[start:end] == text``."""

    start: int
    end: int
    text: str


class Doc:
    """The report: original text, its normalised form, and the offsets between them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm, self.offsets = normalized_source(text)
        self.lines = self._lines()

    def _lines(self) -> list[Span]:
        starts = [0]
        starts.extend(m.end() for m in re.finditer("\n", self.text))
        bounds = sorted({bisect_left(self.offsets, s) for s in starts} | {len(self.norm)})
        lines: list[Span] = []
        for start, end in itertools.pairwise(bounds):
            span = self.span(start, end)
            if span is not None:
                lines.append(span)
        return lines

    def span(self, start: int, end: int) -> Span | None:
        """The span ``[start, end)`` with spaces and punctuation trimmed at both ends."""
        while start < end and self.norm[start] in _TRIM:
            start += 1
        while end > start and self.norm[end - 1] in _TRIM:
            end -= 1
        if start >= end:
            return None
        return Span(start, end, self.norm[start:end])

    def original(self, start: int, end: int) -> str:
        """The characters of the report behind the normalised span ``[start, end)``."""
        stop = self.offsets[end - 1] + 1
        while stop < len(self.text) and "\u064b" <= self.text[stop] <= "\u0652":
            stop += 1  # the word's last diacritics ("جنوداً") belong to it
        return self.text[self.offsets[start] : stop]

    def evidence(self, span: Span) -> str:
        return self.original(span.start, span.end)

    def clean(self, start: int, end: int) -> str | None:
        """An open string (place, cargo...) as written, without quotes and edge punctuation."""
        span = self.span(start, end)
        if span is None:
            return None
        raw = self.original(span.start, span.end)
        cleaned = "".join(ch for ch in raw if ch not in _QUOTES)
        return " ".join(cleaned.split()) or None


def _label_colon(piece: str, bulleted: bool, after: str = "") -> bool:
    """A colon after a list item's label ("- الشدادي (28 تشرين الاول): ...", "5 ايار: ...",
    "حقل العمر: 11 هجوما") introduces the item's details: it does not end a sentence. A
    dateline's colon (it has a year) does."""
    if bulleted:
        return True
    if _YEAR_RE.search(piece) is not None and len(piece.split()) <= 10:
        return False  # a dateline, "(حصيله اسبوعيه)" after it or not: the item begins
    if piece.rstrip().endswith(")"):
        return True
    if len(piece.split()) <= 4 and _COUNT_AFTER_RE.match(after):
        return True
    return (
        len(piece.split()) <= 6
        and DATE_RE.search(piece) is not None
        and _YEAR_RE.search(piece) is None
    )


def sentences(doc: Doc, line: Span) -> list[Span]:
    """The sentences of one line (split at full stops, question marks and colons; not at a
    list marker's full stop, nor at the colon after a list item's label)."""
    out: list[Span] = []
    marker = BULLET_RE.match(line.text)
    bulleted = marker is not None
    start = line.start
    for match in _SENTENCE_END_RE.finditer(line.text):
        if marker is not None and match.end() <= marker.end():
            continue
        if match.group() == ":" and _label_colon(
            line.text[start - line.start : match.start()], bulleted, line.text[match.end() :]
        ):
            continue
        end = line.start + match.end()
        span = doc.span(start, end)
        if span is not None:
            out.append(span)
        start = end
    span = doc.span(start, line.end)
    if span is not None:
        out.append(span)
    return out


def sub(doc: Doc, span: Span, start: int, end: int) -> Span | None:
    """The part ``[start, end)`` (relative to ``span``) of a span, trimmed."""
    return doc.span(span.start + start, span.start + end)


def clause_bounds(text: str, at: int) -> tuple[int, int]:
    """``[start, end)`` of the clause of ``text`` holding position ``at`` (see
    :data:`_CLAUSE_BREAK_RE`)."""
    start, end = 0, len(text)
    for match in _CLAUSE_BREAK_RE.finditer(text):
        if match.end() <= at:
            start = match.end()
        elif match.start() > at:
            end = match.start()
            break
    return start, end
