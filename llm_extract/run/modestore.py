"""What ``--mode auto`` learnt: the mode each server and model takes, kept between runs.

A small table beside the response cache, in the same SQLite file
(:attr:`~llm_extract.settings.Settings.cache_db_path`): one row per (server, model) with the
mode and when it was found. The server is the base URL without credentials or query
(:func:`~llm_extract.backends.chat.auto.server_id`), so no secret is stored. The file is
created readable by its owner only, like the cache. The backend reaches it through the
:class:`~llm_extract.backends.chat.auto.ModeMemory` protocol; every SQLite failure is a
:class:`~llm_extract.errors.CacheError`, which only costs a probe.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from llm_extract.errors import CacheError
from llm_extract.paths import private_dir, private_file
from llm_extract.run.migrations import migrate


class ModeStore:
    """The ``server_modes`` table of the cache database (a fresh connection per call)."""

    def __init__(self, path: str | Path, *, timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            if not self._ready:
                private_file(private_dir(self.path.parent) / self.path.name)
            with closing(sqlite3.connect(self.path, timeout=self.timeout_s)) as db:
                db.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
                if not self._ready:
                    migrate(db)  # the schema, numbered (llm_extract.run.migrations)
                    self._ready = True
                with db:
                    yield db
        except (sqlite3.Error, OSError) as exc:
            raise CacheError(self.path, f"the table of server modes is unusable ({exc})") from exc

    def recall(self, server: str, model: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT mode FROM server_modes WHERE server = ? AND model = ?", (server, model)
            ).fetchone()
        return str(row[0]) if row else None

    def remember(self, server: str, model: str, mode: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO server_modes (server, model, mode, updated_at) "
                "VALUES (?, ?, ?, ?)",
                (server, model, mode, time.time()),
            )

    def forget(self, server: str, model: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM server_modes WHERE server = ? AND model = ?", (server, model))
