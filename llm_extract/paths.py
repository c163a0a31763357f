"""Paths built from data, and files only their owner can read.

- :func:`child_path` is the one way an id or another value taken from data (a report id, a
  ``custom_id``...) becomes a file name: the result is always a direct child of the folder,
  or :class:`~llm_extract.errors.UnsafeNameError` is raised. A JSONL line whose ``report_id``
  is ``../outside/secret`` must not make ``view --gold`` read ``gold/../outside/secret.json``.
- :func:`stem` and :func:`suffix` are :attr:`pathlib.PurePath.stem` and ``.suffix`` of a
  path string, without a pathlib object (pathlib interns every part of every path it
  makes; a run over a million files should not pass each name through that table).
- :func:`private_dir` and :func:`private_file` create folders (mode 0700) and files (0600)
  that only their owner can read: the response cache and the request log hold report texts
  and model answers. Existing folders and files are left as they are.
"""

from __future__ import annotations

import os
from pathlib import Path

from llm_extract.errors import UnsafeNameError

_SEPARATORS = ("/", "\\", "\x00")


def stem(path: str) -> str:
    """:attr:`pathlib.PurePath.stem` of ``path`` spelt as pathlib spells it."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def suffix(path: str) -> str:
    """:attr:`pathlib.PurePath.suffix` of ``path`` spelt as pathlib spells it."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def child_path(folder: str | Path, name: str, suffix: str = "", *, what: str = "name") -> Path:
    """``folder / (name + suffix)``, guaranteed to be a direct child of ``folder``.

    Raises :class:`UnsafeNameError` (its message says ``what`` the name is, e.g. "report id")
    when ``name`` is empty, holds a path separator (``/``, a backslash, NUL), or when the file
    name would be ``.`` or ``..``.
    """
    base = Path(folder)
    if not name:
        raise UnsafeNameError(base, name, "it is empty", what=what)
    bad = next((s for s in _SEPARATORS if s in name), None)
    if bad is not None:
        raise UnsafeNameError(base, name, f"it holds {bad!r}, a path separator", what=what)
    file_name = name + suffix
    if file_name in (".", ".."):
        raise UnsafeNameError(base, name, "it names a folder, not a file", what=what)
    path = base / file_name
    if path.parent != base or path.name != file_name:  # belt and braces
        raise UnsafeNameError(base, name, "it does not stay inside the folder", what=what)
    return path


def private_dir(folder: str | Path) -> Path:
    """Create ``folder`` and its missing parents with mode 0700 (owner only); a folder that
    exists already is left as it is. Returns the folder."""
    path = Path(folder)
    missing: list[Path] = []
    here = path
    while not here.exists() and not here.is_symlink() and here != here.parent:
        missing.append(here)
        here = here.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another process made it in the meantime
    return path


def private_file(path: str | Path) -> Path:
    """Create ``path`` empty with mode 0600 (owner only) unless it exists, in which case it is
    left untouched (never truncated). Its folder must exist."""
    target = Path(path)
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return target
    os.close(descriptor)
    return target
