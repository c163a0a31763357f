"""Writing an output file: whole or not at all, and never over a file of another kind.

- :func:`atomic_write` (and :func:`write_bytes`, :func:`write_text`): the content goes to a
  hidden temporary file in the same folder, is flushed to disk, then renamed over the
  target. A full disk, a crash or a kill leaves the old file as it was (and no temporary
  file behind, unless the process itself was killed). A link at the target is replaced by
  the file, never written through into the file it points to.
- :func:`refuse_foreign`: a command replaces an existing file only when it is the command's
  own kind of output (a review page, a table, a chart...) or empty, unless told to
  (``--force``): ``view -o r1.txt`` or ``export -o notes.txt`` must not destroy a report or
  a note.

Each command says what its kind looks like with a :data:`Sniffer` over the file's first
bytes; :data:`SNIFFERS` holds the common ones.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from llm_extract.errors import UsageError

__all__ = [
    "SNIFFERS",
    "Sniffer",
    "atomic_write",
    "refuse_foreign",
    "write_bytes",
    "write_text",
]

#: Whether the first bytes of a file are those of a kind of output.
Sniffer = Callable[[bytes], bool]
_HEAD = 8192


def _html(head: bytes) -> bool:
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()[:15].lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _chart(magic: bytes) -> Sniffer:
    def sniff(head: bytes) -> bool:
        return head.startswith(magic) and b"matplotlib" in head.lower()

    return sniff


SNIFFERS: dict[str, Sniffer] = {
    "html": _html,
    "xlsx": lambda head: head.startswith(b"PK\x03\x04"),
    "parquet": lambda head: head.startswith(b"PAR1"),
    "png": _chart(b"\x89PNG\r\n\x1a\n"),
    "svg": lambda head: b"<svg" in head and b"matplotlib" in head.lower(),
    "pdf": _chart(b"%PDF-"),
}


def refuse_foreign(target: Path, kind: str, sniff: Sniffer, *, force: bool = False) -> None:
    """A :class:`UsageError` when ``target`` exists and is not empty, not a folder and not
    ``kind`` (``sniff`` says it from its first bytes), unless ``force``."""
    if force:
        return
    try:
        info = target.stat()
    except OSError:
        return  # nothing there (or a dangling link, which the rename replaces)
    if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
        return
    try:
        with target.open("rb") as handle:
            head = handle.read(_HEAD)
            if info.st_size > 2 * _HEAD:  # a PDF names its producer at its end
                handle.seek(-_HEAD, os.SEEK_END)
                head += handle.read(_HEAD)
    except OSError as exc:
        raise UsageError(f"{target}: cannot read it to check what it is ({exc.strerror})") from exc
    if not sniff(head):
        raise UsageError(
            f"{target}: exists and is not {kind} written by llm-extract; refusing to replace "
            "it (choose another output, or pass --force)"
        )


def atomic_write(target: Path, write: Callable[[Path], object]) -> None:
    """``write(temporary)`` then rename the temporary file over ``target`` (see the module
    doc). ``write`` gets the path of an empty file in ``target``'s folder; any error it raises
    (or a failing flush or rename) leaves ``target`` untouched and is raised again."""
    folder = target.parent
    fd, name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    temporary = Path(name)
    try:
        write(temporary)
        os.chmod(temporary, _mode(target))
        _sync(temporary)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _sync_folder(folder)


def write_bytes(target: Path, data: bytes) -> None:
    """``data`` as the whole of ``target``, atomically (:func:`atomic_write`)."""
    atomic_write(target, lambda path: path.write_bytes(data))


def write_text(target: Path, text: str) -> None:
    """``text`` (UTF-8) as the whole of ``target``, atomically (:func:`atomic_write`)."""
    write_bytes(target, text.encode("utf-8"))


def _mode(target: Path) -> int:
    """The mode of the file replaced, or what a new file gets under the umask."""
    try:
        info = target.stat()
        if stat.S_ISREG(info.st_mode):
            return stat.S_IMODE(info.st_mode)
    except OSError:
        pass
    return 0o666 & ~_UMASK


def _sync(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    """The rename itself on disk (where the system lets a folder be synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


_UMASK = _umask()
