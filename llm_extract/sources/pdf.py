"""The text layer of a PDF, with Arabic lines put back in logical order.

PDF text layers of Arabic documents usually hold each line in *visual* order (as drawn,
left to right) and letters as presentation forms (U+FBxx-U+FExx): pdfminer returns a line
printed by Chromium reversed character by character. Recovery, line by line:

1. decide once per document whether lines are in visual order: in logical Arabic many
   words start with the article "ال"; in visual order they end with "لا" instead;
2. reorder each visual line with the Unicode bidirectional algorithm (python-bidi) in a
   right-to-left paragraph: the characters are reversed and runs of digits or Latin text
   keep their own direction (a visual line is its own display, so the algorithm is its own
   inverse here);
3. NFKC folds presentation forms and ligatures ("ﻻ", "ﷲ") into ordinary letters (after the
   reordering, so that a ligature stands for its letters in logical order);
4. lines wrapped inside one paragraph are joined again: a line continues the one above
   when that one was full (the next line's first word would not have fitted in the space
   it left) and the gap between them is a line's, not a paragraph's.

A PDF without a text layer (a scan) is an error, "no text layer; OCR is not supported"; an
encrypted PDF that needs a password or a broken one is an error naming the file. Pages are
laid out one at a time and reading stops at the first one past ``max_pages``, or once the
text is past ``max_chars``. This module trusts pdfminer's memory and time: readers call it
through :mod:`.pdf_process`, which runs it in a child process with limits.
"""

from __future__ import annotations

import functools
import io
import itertools
import logging
import re
import struct
import unicodedata
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from llm_extract.errors import InputError

if TYPE_CHECKING:
    from pdfminer.pdfdocument import PDFDocument

_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_WORD = re.compile(r"\S+")
_LAMS = "\u0644\ufedd\ufede\ufedf\ufee0"
_NUL_BEFORE_LAM = re.compile(f"\x00(?=[{_LAMS}])")
_NUL_AFTER_LAM = re.compile(f"(?<=[{_LAMS}])\x00")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_PARAGRAPH_GAP = 1.3  # a gap over 1.3 line pitches starts a new paragraph


@dataclass(frozen=True)
class PdfText:
    text: str
    title: str | None


@dataclass(frozen=True)
class _Line:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    raw: str


def read_pdf(
    data: bytes, origin: str, *, max_chars: int | None = None, max_pages: int | None = None
) -> PdfText:
    """The logical text (paragraphs one per line) and title of a PDF; an
    :class:`InputError` once it is past ``max_pages`` pages or ``max_chars`` characters."""
    lines, title = _layout_lines(data, origin, _Budget(origin, max_chars, max_pages))
    if not any(line.raw.strip() for line in lines):
        raise InputError(origin, "no text layer; OCR is not supported")
    visual = is_visual_order(" ".join(line.raw for line in lines))
    text = _paragraphs([(line, logical_line(line.raw, visual)) for line in lines])
    return PdfText(text=text, title=title)


def is_visual_order(text: str) -> bool:
    """True when Arabic words in ``text`` are stored reversed (visual order)."""
    words: list[str] = _WORD.findall(unicodedata.normalize("NFKC", text))
    logical = sum(w.startswith(("ال", "وال", "بال", "لل")) for w in words)
    reversed_ = sum(w.endswith(("لا", "لاو", "لاب", "لل")) for w in words)
    return reversed_ > logical


def logical_line(raw: str, visual: bool) -> str:
    """One line of a text layer in logical order, presentation forms folded.

    A NUL beside a lam is the alef of a lam-alef ligature drawn with a mark ("لاً"), whose
    glyph maps to the lam alone; other control characters are dropped.
    """
    line = (_NUL_BEFORE_LAM if visual else _NUL_AFTER_LAM).sub("ا", raw.strip())
    line = _CONTROL.sub("", line)
    if visual and _ARABIC.search(line):
        # python-bidi's reference implementation: unlike its default (Rust) one, it also
        # mirrors brackets, which a visual text layer holds as drawn.
        from bidi.algorithm import get_display  # type: ignore[import-untyped]

        line = str(get_display(line, base_dir="R"))
    return " ".join(unicodedata.normalize("NFKC", line).split())


@dataclass
class _Budget:
    """The page and character limits, checked as each page is laid out."""

    origin: str
    max_chars: int | None
    max_pages: int | None
    chars: int = 0

    def page(self, number: int) -> None:
        """Called before page ``number`` (from 0) is laid out."""
        if self.max_pages is not None and number >= self.max_pages:
            raise InputError(
                self.origin,
                f"more than {self.max_pages} pages, the limit (LLM_EXTRACT_PDF_MAX_PAGES)",
            )

    def text(self, raw: str, number: int) -> None:
        """Counts a line's characters (white space and controls aside: a lower bound of
        what the line adds to the text)."""
        if self.max_chars is None:
            return
        self.chars += len(_CONTROL.sub("", "".join(unicodedata.normalize("NFKC", raw).split())))
        if self.chars > self.max_chars:
            raise InputError(
                self.origin,
                f"more than {self.max_chars} characters by page {number + 1}, longer than "
                f"the limit of {self.max_chars} (--max-chars)",
            )


def _layout_lines(data: bytes, origin: str, budget: _Budget) -> tuple[list[_Line], str | None]:
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTTextContainer, LTTextLine
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfexceptions import PDFException
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.psexceptions import PSException

    fragments: list[_Line] = []
    # "Could not get FontBBox from font descriptor": pdfminer's remark on ordinary PDFs.
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # "extraction not allowed" flags are advisory; pdfminer warns and reads on.
            warnings.simplefilter("ignore")
            document = _document_class()(PDFParser(io.BytesIO(data)), password="")
            title = _title(document)
            manager = PDFResourceManager()
            device = PDFPageAggregator(manager, laparams=LAParams())
            interpreter = PDFPageInterpreter(manager, device)
            for number, page in enumerate(PDFPage.create_pages(document)):
                budget.page(number)
                interpreter.process_page(page)
                for element in device.get_result():
                    if not isinstance(element, LTTextContainer):
                        continue
                    for item in element:
                        if isinstance(item, LTTextLine):
                            raw = _line_text(item)
                            if raw.strip():
                                budget.text(raw, number)
                                fragments.append(
                                    _Line(number, item.x0, item.y0, item.x1, item.y1, raw)
                                )
    except PDFPasswordIncorrect as exc:
        raise InputError(origin, "encrypted PDF that needs a password; skipped") from exc
    except (
        PDFException,
        PSException,
        ValueError,
        KeyError,
        TypeError,
        AssertionError,
        IndexError,
        AttributeError,
        struct.error,
        zlib.error,
    ) as exc:
        reason = str(exc).strip() or type(exc).__name__
        if "encrypt" in reason.lower():
            raise InputError(origin, f"encrypted PDF that cannot be read ({reason})") from exc
        raise InputError(origin, f"broken PDF, cannot be read ({reason[:200]})") from exc
    return _merge_fragments(fragments), title


@functools.cache
def _document_class() -> type[PDFDocument]:
    """pdfminer's document, reading an encrypted file's permissions ``/P`` right: pdfminer
    adds 2**32 to every value that is not positive, so ``/P 0`` (nothing allowed; advisory,
    like every permission) became 2**32 and failed as a ``struct.error``."""
    from pdfminer.pdfdocument import (
        PDFDocument,
        PDFStandardSecurityHandler,
        PDFStandardSecurityHandlerV4,
        PDFStandardSecurityHandlerV5,
    )
    from pdfminer.pdftypes import int_value

    class Handler(PDFStandardSecurityHandler):
        def init_params(self) -> None:
            super().init_params()
            self.p = int_value(self.param["P"]) & 0xFFFFFFFF

    class HandlerV4(PDFStandardSecurityHandlerV4):
        def init_params(self) -> None:
            super().init_params()
            self.p = int_value(self.param["P"]) & 0xFFFFFFFF

    class HandlerV5(PDFStandardSecurityHandlerV5):
        def init_params(self) -> None:
            super().init_params()
            self.p = int_value(self.param["P"]) & 0xFFFFFFFF

    class Document(PDFDocument):
        security_handler_registry: ClassVar[dict[int, type[PDFStandardSecurityHandler]]] = {
            1: Handler,
            2: Handler,
            4: HandlerV4,
            5: HandlerV5,
        }

    return Document


def _line_text(line: Iterable[object]) -> str:
    """The characters of one pdfminer line in stream order.

    A mark drawn over its letter (a character of no width, or a stacked pair of marks drawn
    as one glyph that maps to NUL) sits inside that letter's box: pdfminer's own inserted
    spaces (``LTAnno``) beside it would split the word, so they are dropped. A NUL at the
    edge of a lam is the alef of a lam-alef ligature that carries a mark; it is kept as a
    NUL for :func:`logical_line`, and every other NUL is dropped.
    """
    from pdfminer.layout import LTAnno, LTChar

    items = [i for i in line if isinstance(i, LTChar | LTAnno)]
    out: list[str] = []
    for index, item in enumerate(items):
        text = item.get_text()
        before = items[index - 1] if index > 0 else None
        after = items[index + 1] if index + 1 < len(items) else None
        if text == "\n":
            continue
        if isinstance(item, LTAnno):
            if _zero_width(before) or _zero_width(after):
                continue
        elif text == "\x00" and not (_lam_edge(item, after) or _lam_edge(item, before)):
            continue
        out.append(text)
    return "".join(out)


def _zero_width(item: object) -> bool:
    from pdfminer.layout import LTChar

    if not isinstance(item, LTChar):
        return False
    text = item.get_text()
    return item.width < 0.05 or _is_mark(text[:1]) or text == "\x00"


def _is_mark(ch: str) -> bool:
    return bool(ch) and unicodedata.category(ch) == "Mn"


def _lam_edge(nul: object, other: object) -> bool:
    from pdfminer.layout import LTChar

    return (
        isinstance(nul, LTChar)
        and isinstance(other, LTChar)
        and other.get_text() in _LAMS
        and abs(nul.x0 - other.x0) < 0.5
    )


def _merge_fragments(fragments: list[_Line]) -> list[_Line]:
    """Pieces of one printed line (pdfminer splits a line where a glyph has no width)
    joined left to right; lines top to bottom, page by page."""
    fragments = sorted(fragments, key=lambda f: (f.page, -(f.y0 + f.y1) / 2, f.x0))
    lines: list[list[_Line]] = []
    for fragment in fragments:
        current = lines[-1] if lines else None
        if current is not None and current[0].page == fragment.page:
            top, bottom = max(f.y1 for f in current), min(f.y0 for f in current)
            overlap = min(top, fragment.y1) - max(bottom, fragment.y0)
            if overlap > 0.5 * min(top - bottom, fragment.y1 - fragment.y0):
                current.append(fragment)
                continue
        lines.append([fragment])
    merged: list[_Line] = []
    for parts in lines:
        parts.sort(key=lambda f: f.x0)
        text = parts[0].raw.strip("\n")
        for before, after in itertools.pairwise(parts):
            gap = after.x0 - before.x1
            joiner = " " if gap > 0.25 * (after.y1 - after.y0) else ""
            text += joiner + after.raw.strip("\n")
        merged.append(
            _Line(
                parts[0].page,
                min(f.x0 for f in parts),
                min(f.y0 for f in parts),
                max(f.x1 for f in parts),
                max(f.y1 for f in parts),
                text,
            )
        )
    return merged


def _title(document: object) -> str | None:
    from pdfminer.utils import decode_text

    for info in getattr(document, "info", []) or []:
        raw = info.get("Title") if isinstance(info, dict) else None
        if isinstance(raw, bytes):
            title = " ".join(decode_text(raw).split())
            return title or None
    return None


def _paragraphs(lines: list[tuple[_Line, str]]) -> str:
    """Join the lines of each paragraph with a space, paragraphs with a newline."""
    if not lines:
        return ""
    pitches = [
        a.y0 - b.y0
        for (a, _), (b, _) in itertools.pairwise(lines)
        if a.page == b.page and a.y0 - b.y0 > 1
    ]
    pitch = min(pitches) if pitches else 0.0
    spaced = pitch > 0 and any(gap > pitch * _PARAGRAPH_GAP for gap in pitches)
    pages = {line.page for line, _ in lines}
    left = {p: min(line.x0 for line, _ in lines if line.page == p) for p in pages}
    right = {p: max(line.x1 for line, _ in lines if line.page == p) for p in pages}
    paragraphs: list[list[str]] = [[lines[0][1]]]
    for (prev, prev_text), (line, text) in itertools.pairwise(lines):
        if _continues(
            prev, prev_text, line, text, pitch, spaced, left[prev.page], right[prev.page]
        ):
            paragraphs[-1].append(text)
        else:
            paragraphs.append([text])
    return "\n".join(" ".join(p) for p in paragraphs if any(p))


def _continues(
    prev: _Line,
    prev_text: str,
    line: _Line,
    text: str,
    pitch: float,
    spaced: bool,
    left: float,
    right: float,
) -> bool:
    """Whether ``line`` goes on with the paragraph of ``prev``. Where paragraphs are set apart
    by space, a line's gap says it; otherwise (and across a page break) ``prev`` must have
    been full: the first word of ``line`` would not have fitted in the room it left."""
    if not prev_text or not text:
        return False
    if line.page == prev.page and pitch > 0:
        if prev.y0 - line.y0 > pitch * _PARAGRAPH_GAP:
            return False
        if spaced:
            return True
    rtl = bool(_ARABIC.search(prev_text))
    room = (prev.x0 - left) if rtl else (right - prev.x1)
    char_width = (prev.x1 - prev.x0) / max(1, len(prev_text))
    first_word = text.split(" ", 1)[0]
    return room < (len(first_word) + 1) * char_width
