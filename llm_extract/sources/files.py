"""Read reports from files, folders, glob patterns, URLs, files of URLs and stdin.

This is the one place that turns inputs into :class:`~llm_extract.report.Report` objects.
By kind (the suffix of a file, the content type of a page):

- ``.txt``: UTF-8 text (or UTF-16/32 with a byte order mark), as is, with its publication
  date, title and URL from a sidecar ``NAME.meta.json`` or front matter (:mod:`.meta`);
- ``.html`` / ``.htm`` and web pages: the main text and metadata (:mod:`.html`), decoded by
  their charset; UTF-16 by its byte order mark or ``charset``;
- ``.pdf``: the text layer, Arabic put back in logical order (:mod:`.pdf`), read in a child
  process with a memory limit and a deadline (:mod:`.pdf_process`);
- ``http://`` / ``https://`` URLs, fetched (:mod:`.web`); a page may be HTML, plain text
  or a PDF, and each page is read as soon as it arrives (its bytes are not kept);
- whatever the name or content type says, bytes that start with ``%PDF-`` are read as a
  PDF, and "text" that is a whole HTML document (``<!DOCTYPE html`` or ``<html`` first)
  is read as HTML: its text, not its tags, is the report;
- ``.urls``: a file listing URLs, one per line (:mod:`.urls`);
- ``-``: stdin (text, or HTML or a PDF, recognised by their first bytes);
- a folder: every ``.txt``, ``.html``, ``.htm``, ``.pdf`` and ``.urls`` file in it.

Every bad input becomes an :class:`InputError` naming it (a URL with its credentials
masked), and the other inputs still go through. Report ids are file stems (for a URL, its
last path segment); when two reports share one (``a/r1.txt`` and ``b/r1.txt``) each is
prefixed with its folder name or the URL's host (``a__r1``, ``b__r1``), and a number is
added if that still collides. The text of every report that is not a ``.txt`` file is kept
in the text store (:mod:`.texts`) so that the review page can show it later.

One file named twice (twice on the command line, through a link, a hard link, or as a folder
and a file in it) is read once, silently: files are known by their device and inode. One
report given twice (the same text as a ``.txt`` and as a page, or one page under several
spellings of its URL; :func:`llm_extract.report.one_per_report`) is read once: the first is
kept, and the others are handed back as duplicates, for the command to say so. Duplicates
hold their reports without their texts (a run keeps no text of a report it let go).

Memory: listing a folder keeps, per report, its name (one string, shared by its path and
its id) until the run ends; reading keeps, per report, a 17-byte identity of its text (and of
its URL) and an int, never its text.
"""

from __future__ import annotations

import asyncio
import codecs
import datetime as dt
import errno
import glob
import hashlib
import os
import stat
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

from llm_extract.errors import InputError
from llm_extract.normalize import has_arabic
from llm_extract.paths import stem, suffix
from llm_extract.redact import redact_url
from llm_extract.report import Duplicate, Report, canonical_url
from llm_extract.sources.fetch_settings import FetchSettings
from llm_extract.sources.meta import with_text_metadata
from llm_extract.sources.urls import (
    URLS_SUFFIX,
    check_url,
    is_url,
    read_url_file,
    shown_url,
    url_host,
    url_report_id,
)

if TYPE_CHECKING:
    from llm_extract.sources.pdf_process import PdfLimits
    from llm_extract.sources.web import Fetched

DEFAULT_MAX_CHARS = 100_000
STDIN = "-"
STDIN_ID = "stdin"
Kind = Literal["text", "html", "pdf"]
SUFFIX_KINDS: dict[str, Kind] = {".txt": "text", ".html": "html", ".htm": "html", ".pdf": "pdf"}
#: Suffixes of report files (what a folder and the review page look for).
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(SUFFIX_KINDS)
_FOLDER_SUFFIXES = frozenset((*SUFFIX_KINDS, URLS_SUFFIX))
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class _Input:
    """One report to read: a local file, a URL or stdin.

    A run may list a million of them, so each holds as little as it can: a file's path is
    one string (its ``origin`` and its ``file`` are the same object), and its id is not
    stored when it is the file's stem (computed when asked for)."""

    origin: str  # what messages and ``Report.path`` name (a URL's credentials masked)
    given_id: str | None  # None: the file's stem
    file: str | None = None  # a path, the very string of ``origin``
    url: str | None = None

    @property
    def report_id(self) -> str:
        return self.given_id if self.given_id is not None else stem(self.origin)


def read_reports(
    paths: Sequence[str],
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    stdin: BinaryIO | None = None,
    fetch: FetchSettings | None = None,
    keep_texts: bool = True,
    pdf: PdfLimits | None = None,
    duplicates: list[Duplicate[Report]] | None = None,
) -> tuple[list[Report], list[InputError]]:
    """Reports from ``paths`` (see the module doc), in input order (folders and globs
    sorted), and one :class:`InputError` per input that could not be read. The same file or
    URL named twice is read once; the same report given twice (same text, or the same URL
    spelt otherwise) is kept once, the others appended to ``duplicates`` (without their
    texts, see :class:`ReportStream`). URLs are fetched
    concurrently within ``fetch``'s limits, each page read as it arrives; PDFs are read
    within ``pdf``'s limits.
    """
    stream = stream_reports(
        paths, max_chars=max_chars, stdin=stdin, fetch=fetch, keep_texts=keep_texts, pdf=pdf
    )
    reports = list(stream)
    if duplicates is not None:
        duplicates.extend(stream.duplicates)
    return reports, stream.errors


class ReportStream:
    """The reports of some inputs, read one at a time as they are asked for (a run holds
    the reports in flight, never all of them). The inputs are listed first (folders, globs
    and ``.urls`` files expanded to names, ids made distinct, URLs fetched and read); each
    file is read when the iteration reaches it. Iterating again reads the files again (stdin
    is read once and kept). ``errors``: the inputs that could not be listed, then those that
    could not be read, each once, as they are met; ``on_error`` hears of each as it is added.
    ``duplicates``: the reports skipped as the same report as one read before them (same
    text, or the same URL spelt otherwise: :meth:`Report.identity`), each once, as they are
    met; ``on_duplicate`` hears of each as it is added. A duplicate holds its two reports
    without their texts (``text == ""``): the one skipped keeps its id, path, URL and sha256,
    the one kept is its id, path and URL as listed. The stream keeps no text of a report it
    has handed on: to know the reports met, it keeps a 17-byte key of each text (and URL)
    and the index of the input it came from."""

    def __init__(
        self,
        inputs: list[_Input],
        errors: list[InputError],
        *,
        max_chars: int,
        stdin: BinaryIO | None,
        pages: dict[str, Page],
        keep_texts: bool,
        pdf: PdfLimits | None = None,
    ) -> None:
        self._inputs = inputs
        self.errors = errors
        self.on_error: Callable[[InputError], None] | None = None
        self.duplicates: list[Duplicate[Report]] = []
        self.on_duplicate: Callable[[Duplicate[Report]], None] | None = None
        self._max_chars = max_chars
        self._stdin = stdin
        self._pages = pages
        self._keep_texts = keep_texts
        self._pdf = pdf
        self._failed: set[str] = set()
        self._repeated: set[str] = set()
        self._stdin_report: Report | InputError | None = None

    def __len__(self) -> int:
        """The inputs listed (some may still turn out unreadable or duplicates)."""
        return len(self._inputs)

    @property
    def origins(self) -> Iterator[str]:
        """What each input names (a file's path, a URL with its credentials masked), one at a
        time (a run may list a million)."""
        return (item.origin for item in self._inputs)

    def __iter__(self) -> Iterator[Report]:
        # the first input of each identity, by its text key and its canonical URL (the keys
        # of :func:`llm_extract.report.one_per_report`), as 17-byte keys: never the reports
        seen: dict[bytes, int] = {}
        for index, item in enumerate(self._inputs):
            try:
                report = self._read(item)
            except InputError as exc:
                if item.origin not in self._failed:
                    self._failed.add(item.origin)
                    self.errors.append(exc)
                    if self.on_error is not None:
                        self.on_error(exc)
                continue
            keys = _identity_keys(report)
            kept = next((seen[k] for k in keys if k in seen), None)
            if kept is not None:
                for k in keys:
                    seen.setdefault(k, kept)
                if item.origin not in self._repeated:
                    self._repeated.add(item.origin)
                    same_url = len(keys) > 1 and seen.get(keys[1]) == kept
                    duplicate = Duplicate(
                        replace(report, text=""),
                        _textless(self._inputs[kept]),
                        "same URL" if same_url else "same text",
                    )
                    self.duplicates.append(duplicate)
                    if self.on_duplicate is not None:
                        self.on_duplicate(duplicate)
                continue
            for k in keys:
                seen[k] = index
            if self._keep_texts and (item.file is None or _kind(item.file) != "text"):
                from llm_extract.sources.texts import save_text

                save_text(report.text)
            yield report

    def _read(self, item: _Input) -> Report:
        if item.file is None and item.url is None:  # stdin: read once
            if self._stdin_report is None:
                try:
                    self._stdin_report = _read_one(
                        item, self._max_chars, self._stdin, {}, self._pdf
                    )
                except InputError as exc:
                    self._stdin_report = exc
            if isinstance(self._stdin_report, InputError):
                raise self._stdin_report
            return self._stdin_report
        return _read_one(item, self._max_chars, self._stdin, self._pages, self._pdf)


def _identity_keys(report: Report) -> list[bytes]:
    """17-byte keys of :meth:`Report.identity`: ``t`` and 16 bytes of its text key, then
    ``u`` and 16 bytes of the sha256 of its canonical URL, if it has one."""
    who = report.identity()
    keys = [b"t" + bytes.fromhex(who.text)[:16]]
    if who.url is not None:
        keys.append(b"u" + hashlib.sha256(who.url.encode("utf-8")).digest()[:16])
    return keys


def _textless(item: _Input) -> Report:
    """The report of an input that was kept, as a duplicate names it: no text, its id,
    path and the URL it was asked for."""
    url = item.origin if item.url is not None else None
    return Report(item.report_id, "", item.origin, url=url)


def stream_reports(
    paths: Sequence[str],
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    stdin: BinaryIO | None = None,
    fetch: FetchSettings | None = None,
    keep_texts: bool = True,
    pdf: PdfLimits | None = None,
) -> ReportStream:
    """The reports of ``paths`` as a :class:`ReportStream` (see :func:`read_reports`)."""
    inputs, errors = _plan(paths)
    inputs = _distinct_ids(inputs)
    urls = [i for i in inputs if i.url is not None]
    pages = _read_pages(urls, max_chars, fetch, pdf, keep_texts=keep_texts)
    return ReportStream(
        inputs,
        errors,
        max_chars=max_chars,
        stdin=stdin,
        pages=pages,
        keep_texts=keep_texts,
        pdf=pdf,
    )


@dataclass(frozen=True)
class _Stored:
    """A page's report whose text waits in the text store for its turn (``text`` empty)."""

    report: Report


#: What the stream holds of each URL before its turn: its report, that report with its text
#: in the text store, or why it could not be had.
Page = Report | _Stored | InputError


def _read_pages(
    items: Sequence[_Input],
    max_chars: int,
    fetch: FetchSettings | None,
    pdf: PdfLimits | None,
    *,
    keep_texts: bool = True,
) -> dict[str, Page]:
    """The report of each URL, or its error: each page becomes a report as soon as it is
    fetched, and its bytes are let go. With ``keep_texts``, its text goes to the text store
    at once (where it would go anyway, for ``view``) and is read back at its turn: memory
    holds no page's text, however many URLs the run lists (a text store that cannot be
    written: the text is held)."""
    if not items:
        return {}
    from llm_extract.sources.web import fetch_each  # httpx: only when there are URLs

    by_url = {item.url: item for item in items if item.url is not None}

    def to_report(page: Fetched) -> Report | _Stored:
        item = by_url[page.url]
        report = report_from_bytes(
            page.body,
            page.kind,
            item.origin,
            item.report_id,
            max_chars,
            pdf=pdf,
            charset=page.charset,
        )
        report = replace(report, url=page.final_url, fetched_at=page.fetched_at)
        if keep_texts:
            from llm_extract.sources.texts import save_text

            if save_text(report.text) is not None:
                return _Stored(replace(report, text=""))  # sha256 kept: the text's key
        return report

    urls = list(by_url)
    return dict(zip(urls, asyncio.run(fetch_each(urls, to_report, fetch)), strict=True))


def _plan(paths: Sequence[str]) -> tuple[list[_Input], list[InputError]]:
    inputs: list[_Input] = []
    errors: list[InputError] = []
    seen: set[str] = set()  # URLs and stdin
    files_seen: dict[int, set[int]] = {}  # device -> inodes: one file is read once

    def add_url(url: str) -> None:
        if url in seen:
            return
        seen.add(url)
        problem = check_url(url)
        if problem is not None:
            errors.append(InputError(shown_url(url), problem))
            return
        inputs.append(_Input(redact_url(url), url_report_id(redact_url(url)), url=url))

    for raw in paths:
        if raw == STDIN:
            if STDIN not in seen:
                seen.add(STDIN)
                inputs.append(_Input(STDIN, STDIN_ID))
            continue
        if is_url(raw):
            add_url(raw)
            continue
        files, problems = expand(raw)
        errors.extend(problems)
        for file, device, inode in files:
            inodes = files_seen.setdefault(device, set())
            if inode in inodes:
                continue  # the same file named twice, through a link, or in a folder named
            inodes.add(inode)
            if _suffix(file) == URLS_SUFFIX:
                listed, problems = read_url_file(Path(file))
                errors.extend(problems)
                for url in listed:
                    add_url(url)
                continue
            inputs.append(_Input(file, None, file=file))
    return inputs, errors


#: A file to read: its path, and its device and inode (what makes two names one file).
_File = tuple[str, int, int]


def expand(raw: str) -> tuple[list[_File], list[InputError]]:
    """The files one argument stands for (path, device, inode), and an error for each
    thing that is not one: a missing path, a link loop, an unreadable folder, a pipe or
    device inside a folder."""
    if not raw.strip():  # an unset shell variable: never "the current folder"
        return [], [InputError(repr(raw), "empty argument: no file or folder named")]
    path = Path(raw)
    try:
        info = path.stat()
    except OSError as exc:
        if _GLOB_CHARS & set(raw) and exc.errno == errno.ENOENT:
            return _matches(raw)
        return [], [InputError(path, _stat_problem(path, exc))]
    if stat.S_ISDIR(info.st_mode):
        return _folder(str(path))
    if stat.S_ISREG(info.st_mode):
        return [(str(path), info.st_dev, info.st_ino)], []
    return [], [InputError(path, "not a regular file (a pipe, socket or device)")]


def _matches(pattern: str) -> tuple[list[_File], list[InputError]]:
    """The regular files a glob pattern matches, in the order of their path's parts."""
    files: list[_File] = []
    # each path as pathlib spells it; sorted part by part, as paths sort (NUL < any char)
    for name in sorted((str(Path(p)) for p in glob.glob(pattern)), key=_by_parts):
        try:
            info = os.stat(name)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            files.append((name, info.st_dev, info.st_ino))
    return files, [] if files else [InputError(pattern, "no file matches this pattern")]


def _by_parts(path: str) -> str:
    return path.replace("/", "\0")


def _folder(folder: str) -> tuple[list[_File], list[InputError]]:
    """Every supported file of a folder, by name; the entries that cannot be read are
    named. Names are listed as strings (``os.scandir``) and each is stat'ed once (what
    ``DirEntry.stat`` would do for a followed entry), so a folder of a million files never
    holds a million path objects."""
    try:
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if _suffix(e.name) in _FOLDER_SUFFIXES)
    except OSError as exc:
        return [], [InputError(folder, f"cannot read the folder ({exc.strerror or exc})")]
    files: list[_File] = []
    errors: list[InputError] = []
    for name in names:
        entry = _child(folder, name)
        try:
            info = os.stat(entry)
        except OSError as exc:
            errors.append(InputError(entry, _stat_problem(Path(entry), exc)))
            continue
        if stat.S_ISREG(info.st_mode):
            files.append((entry, info.st_dev, info.st_ino))
        elif not stat.S_ISDIR(info.st_mode):
            errors.append(InputError(entry, "not a regular file (a pipe, socket or device)"))
    if not files and not errors:
        kinds = ", ".join(sorted(_FOLDER_SUFFIXES))
        errors.append(InputError(folder, f"folder holds no report ({kinds})"))
    return files, errors


def _child(folder: str, name: str) -> str:
    """``str(Path(folder) / name)`` for a folder spelt as pathlib spells it."""
    if folder == ".":
        return name
    return f"{folder}{name}" if folder.endswith("/") else f"{folder}/{name}"


def _suffix(name: str) -> str:
    return suffix(name).lower()


def _stat_problem(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "broken symbolic link" if path.is_symlink() else "no such file or folder"
    return f"cannot read ({exc.strerror or exc})"


def _kind(path: str) -> Kind:
    """A file's kind by its suffix; anything else is read as text (and checked as such)."""
    return SUFFIX_KINDS.get(_suffix(path), "text")


def _read_one(
    item: _Input,
    max_chars: int,
    stdin: BinaryIO | None,
    pages: dict[str, Page],
    pdf: PdfLimits | None,
) -> Report:
    if item.url is not None:
        page = pages[item.url]
        if isinstance(page, InputError):
            raise page
        if isinstance(page, _Stored):
            from llm_extract.sources.texts import stored_text

            text = stored_text(page.report.sha256)
            if text is None:
                raise InputError(
                    item.origin, "its text was removed from the text store before its turn"
                )
            return replace(page.report, text=text)
        return page
    if item.file is not None:
        file = item.file  # a string: no pathlib object per report (see llm_extract.paths)
        try:
            with open(file, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise InputError(file, f"cannot read ({exc.strerror})") from exc
        kind = _kind(file)
        report = report_from_bytes(data, kind, item.origin, item.report_id, max_chars, pdf=pdf)
        return with_text_metadata(report, file) if kind == "text" else report
    source = stdin if stdin is not None else sys.stdin.buffer
    data = source.read()
    kind = sniff(data)
    report = report_from_bytes(data, kind, STDIN, STDIN_ID, max_chars, pdf=pdf)
    return with_text_metadata(report, None) if kind == "text" else report


def sniff(data: bytes) -> Kind:
    """The kind of bytes of unknown origin (stdin): a PDF, an HTML page, else text."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1024].lower()
    if head.startswith(b"%pdf-"):
        return "pdf"
    if _is_html_document(head) or (head.startswith(b"<") and b"<body" in data[:4096].lower()):
        return "html"
    return "text"


def _is_html_document(head: bytes) -> bool:
    return head.startswith((b"<!doctype html", b"<html"))


def _true_kind(data: bytes, kind: Kind) -> Kind:
    """``kind`` corrected by the content: bytes that start with ``%PDF-`` are a PDF (a PDF
    served as ``text/html``, or saved as ``.html``), and text that is a whole HTML
    document is HTML (a page served as ``text/plain``): a report is its text, not tags."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
    if head.startswith(b"%pdf-"):
        return "pdf"
    if kind == "text" and _is_html_document(head):
        return "html"
    return kind


def report_from_bytes(
    data: bytes,
    kind: Kind,
    origin: str,
    report_id: str,
    max_chars: int = DEFAULT_MAX_CHARS,
    *,
    fetched_at: dt.datetime | None = None,
    pdf: PdfLimits | None = None,
    charset: str | None = None,
) -> Report:
    """One report from the bytes of a file, a page or stdin, by kind (corrected by the
    content, see the module doc); ``charset`` is a web page's declared one."""
    kind = _true_kind(data, kind)
    if kind == "pdf":
        from llm_extract.sources.pdf_process import read_pdf_bounded

        document = read_pdf_bounded(data, origin, max_chars=max_chars, limits=pdf)
        text = check_text(document.text, origin, max_chars)
        return Report(report_id, text, origin, title=document.title, fetched_at=fetched_at)
    if kind == "html":
        from llm_extract.sources.html import parse_html

        page = parse_html(_html_input(data, origin, charset), origin)
        text = check_text(page.text, origin, max_chars)
        return Report(
            report_id,
            text,
            origin,
            url=page.url,
            title=page.title,
            published=page.published,
            fetched_at=fetched_at,
        )
    return Report(report_id, decode_report(data, origin, max_chars=max_chars), origin)


def read_report_file(path: Path, *, max_chars: int = sys.maxsize) -> Report:
    """One local report file (``.txt``, ``.html``, ``.htm``, ``.pdf``) read exactly as
    ``extract`` reads it; its id is the file's stem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})") from exc
    kind = _kind(str(path))
    report = report_from_bytes(data, kind, str(path), path.stem, max_chars=max_chars)
    return with_text_metadata(report, path) if kind == "text" else report


def read_source_text(path: Path) -> str:
    """The text of one local report file as ``extract`` read it (no length limit): what
    its sha256 in a result was computed on."""
    return read_report_file(path).text


def decode_report(data: bytes, origin: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The text of one report, or an :class:`InputError` saying why it is not one.

    UTF-8 (with or without a byte order mark), and UTF-16 or UTF-32 with their byte order
    mark (what Windows editors save as "Unicode")."""
    encoding = _bom_encoding(data)
    if encoding is None and b"\x00" in data:
        raise InputError(origin, "binary file (NUL bytes), not a text report")
    try:
        text = data.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as exc:
        name = encoding.upper() if encoding else "UTF-8"
        raise InputError(origin, f"not {name} text (bad byte at offset {exc.start})") from exc
    if "\x00" in text:
        raise InputError(origin, "binary file (NUL characters), not a text report")
    if not text.strip():
        raise InputError(origin, "empty file")
    if not has_arabic(text) and _lists_urls(text):
        raise InputError(origin, "lists URLs, not a report; name the file *.urls to fetch them")
    return check_text(text, origin, max_chars)


def _html_input(data: bytes, origin: str, charset: str | None) -> bytes | str:
    """A page's bytes, or its text when it is UTF-16 or UTF-32 (by byte order mark, by
    ``charset``, or by a first ``<`` followed or preceded by a NUL), which the HTML parser
    would take for binary."""
    encoding = _bom_encoding(data)
    declared = (charset or "").lower().replace("_", "-")
    if encoding is None and declared.startswith(("utf-16", "utf-32")) and b"\x00" in data[:512]:
        encoding = declared  # markup in UTF-16 or UTF-32 is full of NULs; else the label lies
    if encoding is None and data[:2] in (b"<\x00", b"\x00<"):
        encoding = "utf-16-le" if data[:1] == b"<" else "utf-16-be"
    if encoding is None:
        if b"\x00" in data[:4096]:
            raise InputError(origin, "binary content (NUL bytes), not a web page")
        return data
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(origin, f"not {encoding.upper()} text, as it claims to be") from exc
    return text.removeprefix("\ufeff")


def _bom_encoding(data: bytes) -> str | None:
    """``utf-32``/``utf-16`` when ``data`` starts with their byte order mark (UTF-32 first:
    its little-endian mark begins like UTF-16's)."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def check_text(text: str, origin: str, max_chars: int) -> str:
    """``text`` if it can be a report: not too long, with Arabic in it."""
    if len(text) > max_chars:
        raise InputError(
            origin, f"{len(text)} characters, longer than the limit of {max_chars} (--max-chars)"
        )
    if not has_arabic(text):
        raise InputError(origin, "no Arabic text; not a report of this series")
    return text


def _lists_urls(text: str) -> bool:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return bool(lines) and all(is_url(line) or line.startswith("#") for line in lines)


def disambiguate(reports: list[Report]) -> list[Report]:
    """Give reports whose ids collide distinct ids (folder or host prefix, then a number)."""
    ids = _distinct([(r.report_id, r.path) for r in reports])
    return [
        r if r.report_id == i else replace(r, report_id=i)
        for r, i in zip(reports, ids, strict=True)
    ]


def _distinct_ids(inputs: list[_Input]) -> list[_Input]:
    """:func:`disambiguate` for inputs not read yet (ids come from names, not contents).
    A URL spelt otherwise than one before it (the same canonical URL) is the same report,
    skipped as a duplicate once read: it does not make the first one's id collide, and gets
    that id with a number, in case it turns out another report after all."""
    first: dict[str, int] = {}  # canonical URL -> index among the named inputs
    group: list[int | None] = []  # per input: the named input it repeats, if any
    named: list[tuple[str, str]] = []
    for item in inputs:
        key = canonical_url(item.url) if item.url is not None else None
        if key is not None and key in first:
            group.append(first[key])
            continue
        if key is not None:
            first[key] = len(named)
        group.append(None)
        named.append((item.report_id, item.origin))
    named_ids = _distinct(named)
    taken = set(named_ids)
    ids: list[str] = []
    distinct = iter(named_ids)
    for repeats in group:
        if repeats is None:
            ids.append(next(distinct))
            continue
        base, k = named_ids[repeats], 2
        while f"{base}-{k}" in taken:
            k += 1
        taken.add(f"{base}-{k}")
        ids.append(f"{base}-{k}")
    return [
        i if i.report_id == n else replace(i, given_id=n) for i, n in zip(inputs, ids, strict=True)
    ]


def _distinct(named: list[tuple[str, str]]) -> list[str]:
    """Distinct ids for ``(id, path or URL)`` pairs: a colliding id gets its folder's name or
    its URL's host as a prefix, then a number if that still collides."""
    counts = Counter(report_id for report_id, _ in named)
    if all(n == 1 for n in counts.values()):
        return [report_id for report_id, _ in named]
    taken = {report_id for report_id, _ in named if counts[report_id] == 1}
    out: list[str] = []
    for report_id, origin in named:
        if counts[report_id] == 1:
            out.append(report_id)
            continue
        if is_url(origin):
            parent = url_host(origin)
        else:
            parent = Path(origin).resolve().parent.name or "root"
        candidate = base = f"{parent}__{report_id}"
        n = 2
        while candidate in taken:
            candidate = f"{base}-{n}"
            n += 1
        taken.add(candidate)
        out.append(candidate)
    return out
