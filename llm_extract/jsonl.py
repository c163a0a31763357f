"""Result files: the JSON Lines output of ``extract``, one :class:`ExtractionResult` per line.
The one writer and the one reader of result files, for every command.

Reading (:func:`check_lines`, one line at a time; :func:`scan` collects what it reads): every
complete line must be a result, or the file is refused, naming
the line. A last line without a final newline is read when it is a whole result (hand-made
files often end so) and is a *torn* line when it is the cut-off start of one (a run killed
mid-write: it starts as every result does, with ``{"report_id":``); any other broken last
line makes the file one that is not a result file, refused and never changed. A UTF-8 byte
order mark is ignored.

Writing (:class:`JsonlWriter`): one line per result, appended as each report finishes, flushed
and fsynced (where the output is a regular file), so a killed run loses at most the line being
written. :meth:`JsonlWriter.write_async` does the same in the writer's own thread, so the
event loop goes on while the disk syncs, by group commit: the lines that come while one sync
is under way are written together and made durable by the next single fsync; each caller
resumes once its own line is on disk (the same guarantee as one fsync per line, at a fraction
of the syncs). One
process at a time: the writer holds an exclusive lock on the file and says which process
holds it when another run tries. Before appending, the whole file is checked, one line at a
time (nothing of it is kept: a file of any size); only then is a torn last line cut off (or a
missing final newline added), so a file that is not a result file is never touched.

Resume: a report counts as finished when the file holds a line with its id and status ``ok``;
failed reports are run again and their new line is appended after the old one, so readers take
the last line of each report id.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from pydantic import ValidationError

from llm_extract.errors import InputError
from llm_extract.results import ExtractionResult

_BOM = b"\xef\xbb\xbf"
#: How every result line starts (the writer's, or one written by hand with spaces).
_RESULT_START = re.compile(rb'\s*\{\s*"report_id"\s*:')
_COMPACT_START = b'{"report_id":'


#: What a reader of a result file is handed, line by line: ``(line number, result)``.
OnResult = Callable[[int, ExtractionResult], None]


@dataclass
class FileEnd:
    """What :func:`check_lines` found at the end of a result file."""

    path: Path
    #: bytes of a torn last line (the cut-off start of a result), 0 when none
    torn_bytes: int = 0
    #: the last line is a whole result without its final newline
    unterminated: bool = False


@dataclass
class ResultsFile:
    """What :func:`scan` found: ``(line number, result)`` pairs, and the state of the end."""

    path: Path
    results: list[tuple[int, ExtractionResult]] = field(default_factory=list)
    #: bytes of a torn last line (the cut-off start of a result), 0 when none
    torn_bytes: int = 0
    #: the last line is a whole result without its final newline
    unterminated: bool = False


def check_lines(
    path: str | Path, on_result: OnResult | None = None, *, skipped: list[str] | None = None
) -> FileEnd:
    """Read and check the whole of a result file one line at a time (see the module doc),
    handing each result to ``on_result`` as it is read and keeping none.

    Raises :class:`InputError` naming the file (and line) when it is missing, not a file, not
    UTF-8, or holds a complete line that is not a result; with a ``skipped`` list, such a
    line is named there (``file: line N ...``) and left out instead. A caller that must not
    act on a file that is refused acts after this returns.
    """
    file = Path(path)
    try:
        if not file.exists():
            raise InputError(file, "no such results file")
        if file.is_dir():
            raise InputError(file, "is a folder, not a results file")
        if not _is_regular(file):
            _read_special(file)
        with file.open("rb") as handle:
            return _check(file, handle, on_result, skipped)
    except OSError as exc:
        raise InputError(file, f"cannot read ({exc.strerror or exc})") from exc


def _check(
    file: Path, handle: IO[bytes], on_result: OnResult | None, skipped: list[str] | None
) -> FileEnd:
    end = FileEnd(file)
    for number, line in enumerate(handle, start=1):
        raw = line[len(_BOM) :] if number == 1 and line.startswith(_BOM) else line
        whole = raw.endswith(b"\n")
        if whole:
            raw = raw[:-1]
        if not raw.strip():
            continue
        try:
            result = _parse(file, raw, number)
        except InputError as exc:
            if not whole and _is_result_start(raw):  # the cut-off start of a result
                end.torn_bytes = len(raw)
            elif skipped is not None:
                skipped.append(str(exc))
            else:
                raise
            continue
        end.unterminated = not whole
        if on_result is not None:
            on_result(number, result)
    return end


def scan(path: str | Path, *, skipped: list[str] | None = None) -> ResultsFile:
    """Read and check the whole of a result file and keep every result (see
    :func:`check_lines`, whose rules and errors these are)."""
    results: list[tuple[int, ExtractionResult]] = []

    def keep(number: int, result: ExtractionResult) -> None:
        results.append((number, result))

    end = check_lines(path, keep, skipped=skipped)
    return ResultsFile(end.path, results, end.torn_bytes, end.unterminated)


def iter_results(
    path: str | Path, *, skipped: list[str] | None = None
) -> Iterator[tuple[int, ExtractionResult]]:
    """``(line number, result)`` for every result of ``path`` (checked whole first)."""
    yield from scan(path, skipped=skipped).results


def stream_results(path: str | Path) -> Iterator[tuple[int, ExtractionResult]]:
    """``(line number, result)`` for every result of ``path``, read one line at a time, so a
    file of any size takes little memory (the dataset's ``add``). The same checks as
    :func:`scan`, made as the lines come: a complete line that is not a result raises
    :class:`InputError` naming it (after the lines before it were yielded), and a torn last
    line is left out."""
    file = Path(path)
    if not file.exists():
        raise InputError(file, "no such results file")
    if file.is_dir():
        raise InputError(file, "is a folder, not a results file")
    if not _is_regular(file):
        _read_special(file)
    try:
        with file.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                raw = line[len(_BOM) :] if number == 1 and line.startswith(_BOM) else line
                if not raw.strip():
                    continue
                if raw.endswith(b"\n"):
                    yield number, _parse(file, raw[:-1], number)
                    continue
                try:  # the last line, without its newline: whole, or torn
                    result = _parse(file, raw, number)
                except InputError:
                    if raw.lstrip().startswith(b"{"):
                        return
                    raise
                yield number, result
    except OSError as exc:
        raise InputError(file, f"cannot read ({exc.strerror or exc})") from exc


def read_results(path: str | Path, *, skipped: list[str] | None = None) -> list[ExtractionResult]:
    """The results of ``path``, one per report id (the last line of each id wins), in the
    order in which report ids first appear (``skipped``: see :func:`scan`)."""
    latest: dict[str, ExtractionResult] = {}
    for _, result in scan(path, skipped=skipped).results:
        latest[result.report_id] = result
    return list(latest.values())


def finished_results(path: str | Path) -> dict[str, ExtractionResult]:
    """The last ``ok`` result of each report id in ``path`` (empty when it does not exist),
    after :func:`prepare_for_append`. It holds those results: ``--resume`` keeps a compact
    record of each instead (:mod:`llm_extract.run.resume`)."""
    file = Path(path)
    done: dict[str, ExtractionResult] = {}
    if not file.exists():
        return done

    def keep(_: int, result: ExtractionResult) -> None:
        if result.status == "ok":
            done[result.report_id] = result

    prepare_for_append(file, keep)
    return done


def finished_ids(path: str | Path) -> set[str]:
    """Ids of the reports that ``path`` already holds with status ``ok``."""
    return set(finished_results(path))


def prepare_for_append(path: Path, on_result: OnResult | None = None) -> FileEnd:
    """Check the whole file, one line at a time (``on_result`` hears of each result, and
    nothing of the file is kept), then mend its end so that a line can be appended: cut a
    torn last line off, or add the missing final newline. A file that is not a result file
    is refused (:class:`InputError`) before anything is changed."""
    found = check_lines(path, on_result)
    if not _is_regular(path):
        return found
    if found.torn_bytes:
        with path.open("rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.truncate(size - found.torn_bytes)
            handle.flush()
            os.fsync(handle.fileno())
    elif found.unterminated:
        with path.open("ab") as handle:
            handle.write(b"\n")
            handle.flush()
            os.fsync(handle.fileno())
    return found


def repair_tail(path: Path) -> int:
    """Cut off a torn last line; returns the bytes removed (0: none, or no such file)."""
    if not path.exists():
        return 0
    return prepare_for_append(path).torn_bytes


class OutputLocked(InputError):
    """Another process writes the same output file."""


class JsonlWriter:
    """Appends one line per result (see the module doc). Use :meth:`write` from one thread at
    a time, or :meth:`write_async` from one event loop (its lines go through one thread).

    ``append=False`` starts the file afresh; an existing file that is not a result file is
    then refused rather than overwritten.
    """

    def __init__(self, path: str | Path, *, append: bool = True) -> None:
        self.path = Path(path)
        self.written = 0
        self._handle: IO[str] | None = None
        self._append = append
        self._lock: _Lock | None = None
        self._sync = True
        self._thread: ThreadPoolExecutor | None = None
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._committer: asyncio.Future[None] | None = None

    def open(self) -> JsonlWriter:
        special = self.path.exists() and not _is_regular(self.path)
        if self.path.is_dir():
            raise InputError(self.path, "is a folder; give a file name for the output")
        if not special:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(self.path, f"cannot create its folder ({exc.strerror})") from exc
            self._lock = _Lock.take(self.path)
        try:
            if not special and self.path.exists():
                if self._append:
                    prepare_for_append(self.path)
                else:
                    _refuse_unless_results(self.path)
            mode = "a" if self._append or special else "w"
            self._handle = self.path.open(mode, encoding="utf-8", newline="\n")
        except OSError as exc:
            self._release()
            raise InputError(self.path, f"cannot write output ({exc.strerror})") from exc
        except BaseException:
            self._release()
            raise
        self._sync = not special
        return self

    def write(self, result: ExtractionResult) -> None:
        self.write_lines([result.model_dump_json() + "\n"])

    def write_lines(self, lines: list[str]) -> None:
        """Append ``lines`` (each ending with a newline), then flush and fsync once."""
        if self._handle is None:
            self.open()
        assert self._handle is not None  # opened just above
        try:
            self._handle.write("".join(lines))
            self._handle.flush()
            if self._sync:
                os.fsync(self._handle.fileno())
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
                raise InputError(self.path, f"cannot write output ({exc.strerror})") from exc
            self._sync = False  # a pipe, FIFO or device: nothing to sync
        self.written += len(lines)

    async def write_async(self, result: ExtractionResult) -> None:
        """Append the line of ``result`` by group commit (see the module doc): returns once
        the line is on disk, without holding up the event loop while it is written and
        synced; an error writing it is raised here."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((result.model_dump_json() + "\n", done))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.ensure_future(self._commit_pending())
        await done

    async def _commit_pending(self) -> None:
        """Write and sync what is pending, one batch at a time, until nothing is."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jsonl-writer")
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await loop.run_in_executor(
                    self._thread, self.write_lines, [line for line, _ in batch]
                )
            except BaseException as exc:  # every caller of the batch hears of it
                for _, waiter in batch:
                    if not waiter.done():
                        waiter.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for _, waiter in batch:
                if not waiter.done():
                    waiter.set_result(None)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        try:
            if self._handle is not None:
                handle, self._handle = self._handle, None
                try:
                    handle.close()
                except OSError as exc:
                    raise InputError(self.path, f"cannot write output ({exc.strerror})") from exc
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> JsonlWriter:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Lock:
    """An exclusive ``flock`` on a hidden file beside the output, holding the writer's pid.

    The lock belongs to the file the output resolves to (a link and its target share one
    lock, so two runs writing one file through two names cannot both hold it), and the lock
    file is never a link: one planted there (``.o.jsonl.lock -> victim.txt``) is refused, not
    followed."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self.handle = handle

    @classmethod
    def take(cls, output: Path) -> _Lock:
        import fcntl

        target = output.resolve()
        path = target.with_name(f".{target.name}.lock")
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            raise InputError(output, _lock_failure(path, exc)) from exc
        handle = os.fdopen(fd, "r+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read(64).strip() or "another process"
            handle.close()
            raise OutputLocked(
                output, f"another run is writing this file (process {holder}); wait for it"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return cls(path, handle)

    def release(self) -> None:
        import fcntl

        try:
            self.path.unlink(missing_ok=True)
        finally:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            self.handle.close()


def _lock_failure(lock: Path, exc: OSError) -> str:
    """What stopped the lock file from opening, said as what it is."""
    if exc.errno == errno.ELOOP:
        return f"{lock} is a symbolic link; refusing to follow it (remove it if no run is going)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "read-only file system" if exc.errno == errno.EROFS else "permission denied"
        return f"cannot write in the folder {lock.parent} ({why})"
    return f"cannot lock the output: {lock} ({exc.strerror or exc})"


def result_line(result: ExtractionResult) -> str:
    """The JSON line of one result (no newline)."""
    return result.model_dump_json()


def pretty(result: ExtractionResult) -> str:
    """Indented JSON of one result, Arabic kept readable."""
    return json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2)


def _parse(file: Path, raw: bytes, number: int) -> ExtractionResult:
    try:
        return ExtractionResult.model_validate_json(raw)
    except ValidationError as exc:
        raise InputError(
            file, f"line {number} is not an extraction result ({_first(exc)})"
        ) from None


def _refuse_unless_results(path: Path) -> None:
    """Starting afresh replaces a result file, never another kind of file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})") from exc
    if not head.strip():
        return
    first = head.removeprefix(_BOM).lstrip()
    if not first.startswith(b'{"report_id"'):
        raise InputError(
            path, "exists and is not a results file of llm-extract; refusing to overwrite it"
        )


def _is_result_start(raw: bytes) -> bool:
    """Whether ``raw`` begins as a result line does (or is a cut-off piece of that start)."""
    head = raw.lstrip()
    return _RESULT_START.match(head) is not None or _COMPACT_START.startswith(head)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _read_special(path: Path) -> bytes:
    """A FIFO, a device or a pipe is not a results file to read back."""
    raise InputError(path, "is not a regular file (a pipe or a device cannot be resumed)")


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    return f"{loc}: {error['msg']}" if loc else str(error["msg"])
