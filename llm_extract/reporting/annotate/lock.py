"""One writer at a time in a gold folder, across processes.

Every change to a gold folder (a draft saved, a gold file written, a draft dropped, a crashed
"done" finished) runs under an exclusive ``flock`` on ``<gold-dir>/.annotate/lock``, so two
``annotate`` processes on the same folder (two terminals, two machines sharing a home folder
through NFS with working locks) cannot both accept a change made on the same draft version:
each one reads, checks and writes with the folder to itself.

The lock file is opened with ``O_NOFOLLOW`` (a link planted there is refused, never followed
into another file) and never written to. The lock is re-entrant inside a process (a request
that takes it may call code that takes it again); between processes, a process waits for the
other one's change, up to :data:`WAIT_S` seconds, then gives up with
:class:`~llm_extract.errors.AnnotationConflict`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from llm_extract.errors import AnnotationConflict, InputError

LOCK_FILE = "lock"
WAIT_S = 30.0
_POLL_S = 0.005


class FolderLock:
    """An exclusive, re-entrant, cross-process lock on ``path`` (created when missing)."""

    def __init__(self, path: Path, *, wait_s: float = WAIT_S) -> None:
        self.path = path
        self.wait_s = wait_s
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise InputError(self.path, "is a symbolic link; not locked through it") from exc
            raise InputError(self.path, f"cannot open the lock ({exc.strerror or exc})") from exc

    def _acquire(self) -> None:
        fd = self._open()
        deadline = time.monotonic() + self.wait_s
        pause = _POLL_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._fd = fd
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise AnnotationConflict(
                        f"another annotate process has held {self.path} for over "
                        f"{self.wait_s:.0f} s; try again"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
            except OSError as exc:
                os.close(fd)
                raise InputError(self.path, f"cannot lock ({exc.strerror or exc})") from exc

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the ``with`` block (waiting for another process if needed)."""
        with self._thread_lock:
            if self._depth == 0:
                self._acquire()
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release()
