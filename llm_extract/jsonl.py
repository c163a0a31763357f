"""The JSON Lines output of ``extract``: one :class:`ExtractionResult` per line. The one writer
and the one reader of result files, for every command.

Lines are appended as each report finishes, flushed and fsynced, by one writer, so a
killed run loses at most the line being written. That torn last line (no final newline) is
cut off before anything is appended and ignored by :func:`finished_ids`.

Resume: a report counts as finished when the file holds a line with its id and status
``ok``; failed reports are run again and their new line is appended after the old one, so
readers take the last line of each report id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from pydantic import ValidationError

from llm_extract.errors import InputError
from llm_extract.results import ExtractionResult


def repair_tail(path: Path) -> int:
    """Cut off a torn last line (one with no final newline); returns the bytes removed."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        # Walk back to the last newline, in blocks.
        end = size
        keep = 0
        while end > 0:
            start = max(0, end - 65536)
            handle.seek(start)
            block = handle.read(end - start)
            at = block.rfind(b"\n")
            if at >= 0:
                keep = start + at + 1
                break
            end = start
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    return size - keep


def iter_results(
    path: Path, *, read_tail: bool = False, skipped: list[str] | None = None
) -> Iterator[tuple[int, ExtractionResult]]:
    """``(line number, result)`` for every complete line of ``path``.

    A last line without a newline is a torn write and skipped, unless ``read_tail`` (for
    hand-made files, which often end so). A line that is not a result raises
    :class:`InputError` naming file and line; with a ``skipped`` list, that message
    (``file: line N ...``) is appended to it instead and the line is skipped.
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n") and not read_tail:
                return  # torn last line: the writer cuts it off before appending
            if not raw.strip():
                continue
            try:
                result = ExtractionResult.model_validate_json(raw)
            except ValidationError as exc:
                problem = f"line {number} is not an extraction result ({_first(exc)})"
                if skipped is None:
                    raise InputError(path, problem) from exc
                skipped.append(f"{path}: {problem}")
                continue
            yield number, result


def finished_results(path: str | Path) -> dict[str, ExtractionResult]:
    """The last ``ok`` result of each report id in ``path`` (empty when it does not exist).

    A torn last line is cut off (the run that wrote it was killed mid-line).
    """
    file = Path(path)
    if not file.exists():
        return {}
    repair_tail(file)
    return {r.report_id: r for _, r in iter_results(file) if r.status == "ok"}


def finished_ids(path: str | Path) -> set[str]:
    """Ids of the reports that ``path`` already holds with status ``ok`` (for ``--resume``)."""
    return set(finished_results(path))


class JsonlWriter:
    """Appends one line per result; flushed and fsynced after each line.

    Use from one thread (the event loop that runs the pipeline): lines never interleave.
    ``append=False`` starts the file afresh.
    """

    def __init__(self, path: str | Path, *, append: bool = True) -> None:
        self.path = Path(path)
        self.written = 0
        self._handle: IO[str] | None = None
        self._append = append

    def open(self) -> JsonlWriter:
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._append:
            repair_tail(self.path)
        mode = "a" if self._append else "w"
        try:
            self._handle = self.path.open(mode, encoding="utf-8", newline="\n")
        except OSError as exc:
            raise InputError(self.path, f"cannot write output ({exc.strerror})") from exc
        return self

    def write(self, result: ExtractionResult) -> None:
        if self._handle is None:
            self.open()
        assert self._handle is not None  # opened just above
        self._handle.write(result.model_dump_json() + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.written += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> JsonlWriter:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def result_line(result: ExtractionResult) -> str:
    """The JSON line of one result (no newline)."""
    return result.model_dump_json()


def pretty(result: ExtractionResult) -> str:
    """Indented JSON of one result, Arabic kept readable."""
    return json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2)


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    return f"{loc}: {error['msg']}" if loc else str(error["msg"])


def read_results(path: str | Path, *, skipped: list[str] | None = None) -> list[ExtractionResult]:
    """The results of ``path``, one per report id (the last line of each id wins).

    Order is the order in which report ids first appear. A torn last line is ignored; a
    broken complete line raises :class:`InputError` naming the file and line number, or,
    with a ``skipped`` list, is named there and skipped.
    """
    file = Path(path)
    if not file.is_file():
        raise InputError(file, "no such output file" if not file.exists() else "not a file")
    latest: dict[str, ExtractionResult] = {}
    try:
        for _, result in iter_results(file, skipped=skipped):
            latest[result.report_id] = result
    except UnicodeDecodeError as exc:
        raise InputError(file, f"not UTF-8 text (bad byte at offset {exc.start})") from exc
    except OSError as exc:
        raise InputError(file, f"cannot read ({exc.strerror or exc})") from exc
    return list(latest.values())
