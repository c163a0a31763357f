"""Read reports from files, folders, glob patterns and stdin.

Every bad input becomes an :class:`InputError` naming it, and the other inputs still go
through. Report ids are file stems; when two files share a stem (``a/r1.txt`` and
``b/r1.txt``) each of them is prefixed with its folder name (``a__r1``, ``b__r1``), and a
number is added if that still collides.
"""

from __future__ import annotations

import glob
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from llm_extract.errors import InputError
from llm_extract.normalize import has_arabic
from llm_extract.report import Report

DEFAULT_MAX_CHARS = 100_000
STDIN = "-"
STDIN_ID = "stdin"
_GLOB_CHARS = frozenset("*?[")


def read_reports(
    paths: Sequence[str],
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    stdin: BinaryIO | None = None,
) -> tuple[list[Report], list[InputError]]:
    """Reports from ``paths`` (files, folders of ``*.txt``, globs, ``-`` for stdin).

    Returns the reports that could be read, in input order (folders and globs sorted), and
    one :class:`InputError` per input that could not. The same file named twice is read once.
    """
    reports: list[Report] = []
    errors: list[InputError] = []
    seen: set[str] = set()
    for raw in paths:
        if raw == STDIN:
            if STDIN in seen:
                continue
            seen.add(STDIN)
            source = stdin if stdin is not None else sys.stdin.buffer
            _collect(source.read(), STDIN, STDIN_ID, max_chars, reports, errors)
            continue
        files, error = expand(raw)
        if error is not None:
            errors.append(error)
        for file in files:
            key = str(file.resolve())
            if key in seen:
                continue
            seen.add(key)
            try:
                data = file.read_bytes()
            except OSError as exc:
                errors.append(InputError(file, f"cannot read ({exc.strerror})"))
                continue
            _collect(data, str(file), file.stem, max_chars, reports, errors)
    return disambiguate(reports), errors


def expand(raw: str) -> tuple[list[Path], InputError | None]:
    """The files one argument stands for, or the error that says why there are none."""
    if not raw.strip():  # an unset shell variable: never "the current folder"
        return [], InputError(repr(raw), "empty argument: no file or folder named")
    path = Path(raw)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.txt") if p.is_file())
        return files, None if files else InputError(path, "folder holds no .txt files")
    if path.is_file():
        return [path], None
    if _GLOB_CHARS & set(raw):
        files = sorted(Path(p) for p in glob.glob(raw) if Path(p).is_file())
        return files, None if files else InputError(raw, "no file matches this pattern")
    if path.exists():
        return [], InputError(path, "not a regular file")
    return [], InputError(path, "no such file or folder")


def decode_report(data: bytes, origin: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The text of one report, or an :class:`InputError` saying why it is not one."""
    if b"\x00" in data:
        raise InputError(origin, "binary file (NUL bytes), not a text report")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(origin, f"not UTF-8 text (bad byte at offset {exc.start})") from exc
    if not text.strip():
        raise InputError(origin, "empty file")
    if len(text) > max_chars:
        raise InputError(
            origin, f"{len(text)} characters, longer than the limit of {max_chars} (--max-chars)"
        )
    if not has_arabic(text):
        raise InputError(origin, "no Arabic text; not a report of this series")
    return text


def _collect(
    data: bytes,
    origin: str,
    report_id: str,
    max_chars: int,
    reports: list[Report],
    errors: list[InputError],
) -> None:
    try:
        text = decode_report(data, origin, max_chars=max_chars)
    except InputError as exc:
        errors.append(exc)
        return
    reports.append(Report(report_id=report_id, text=text, path=origin))


def disambiguate(reports: list[Report]) -> list[Report]:
    """Give reports whose ids collide distinct ids (folder prefix, then a number)."""
    counts = Counter(r.report_id for r in reports)
    if all(n == 1 for n in counts.values()):
        return reports
    taken = {r.report_id for r in reports if counts[r.report_id] == 1}
    out: list[Report] = []
    for report in reports:
        if counts[report.report_id] == 1:
            out.append(report)
            continue
        parent = Path(report.path).resolve().parent.name or "root"
        candidate = base = f"{parent}__{report.report_id}"
        n = 2
        while candidate in taken:
            candidate = f"{base}-{n}"
            n += 1
        taken.add(candidate)
        out.append(Report(report_id=candidate, text=report.text, path=report.path))
    return out
