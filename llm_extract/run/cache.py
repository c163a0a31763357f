"""SQLite response cache keyed by :func:`llm_extract.run.keys.request_key`.

One row per request key: the validated extraction (JSON), the dropped records, the usage of
the call that produced it, the model, the mode it was asked in (what ``auto`` chose; NULL in
rows stored before modes were recorded), the last raw completion and when it was stored; the
schema is :mod:`llm_extract.run.migrations`. The API key is never part of a row (nor of the
key). The file is shared with other tools of the package (WAL journal, busy timeout; a fresh
connection per call), so two processes or threads can read and write it at once. The file
(and the folder, when the tool creates it) is readable by its owner only (0600, 0700): it
holds the models' answers and raw completions, which quote the reports; SQLite gives its
``-wal`` and ``-shm`` files the same mode.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from llm_extract.backends.base import BackendResponse
from llm_extract.errors import CacheError
from llm_extract.paths import private_dir, private_file
from llm_extract.results import DroppedRecord, Usage
from llm_extract.run.migrations import migrate
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import environment

_DROPPED = TypeAdapter(list[DroppedRecord])


@dataclass(frozen=True)
class CachedResponse:
    """A stored answer: the rebuilt :class:`BackendResponse`, its model and when it was stored."""

    key: str
    model: str
    response: BackendResponse
    created_at: float


class ResponseCache:
    """Validated answers by request key, in SQLite (``Settings.cache_db_path`` by default)."""

    def __init__(self, path: str | Path | None = None, *, timeout_s: float = 30.0) -> None:
        self.path = Path(path) if path is not None else environment().cache_db_path
        self.timeout_s = timeout_s
        self._held: tuple[sqlite3.Connection, int] | None = None
        try:
            private_file(private_dir(self.path.parent) / self.path.name)
        except OSError as exc:
            raise CacheError(self.path, f"cannot create the cache ({exc.strerror or exc})") from exc
        try:
            with closing(sqlite3.connect(self.path, timeout=self.timeout_s)) as db:
                self._configure(db)
                db.execute("PRAGMA journal_mode=WAL")
                migrate(db)  # the schema, numbered (llm_extract.run.migrations)
        except sqlite3.Error as exc:
            raise CacheError(self.path, f"response cache unusable ({exc})") from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection in a transaction; sqlite errors become :class:`CacheError`.

        ``synchronous=NORMAL``: in WAL mode a commit is safe from a crash of the process (a
        ``kill -9`` loses nothing committed) without an fsync per answer; only a crash of the
        machine can lose the last answers, which are then asked again."""
        held = self._held
        try:
            if held is not None and held[1] == threading.get_ident():
                with held[0] as db:  # the run's own connection, in its thread
                    yield db
                return
            with closing(sqlite3.connect(self.path, timeout=self.timeout_s)) as db:
                self._configure(db)
                with db:
                    yield db
        except sqlite3.Error as exc:
            raise CacheError(self.path, f"response cache unusable ({exc})") from exc

    def _configure(self, db: sqlite3.Connection) -> None:
        db.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
        db.execute("PRAGMA synchronous=NORMAL")

    @contextmanager
    def held(self) -> Iterator[None]:
        """Keep the file open for a run: the calls made from this thread (the run's event
        loop) share one connection instead of opening one each (about 0.2 ms a call), and
        since a connection stays open no call's closing checkpoints the journal (about 1 ms a
        ``put``). Other threads and processes still get connections of their own (WAL, busy
        timeout). Only an optimisation: a file that cannot be held is left to the calls."""
        try:
            keeper = sqlite3.connect(self.path, timeout=self.timeout_s)
            self._configure(keeper)
        except sqlite3.Error:
            yield
            return
        self._held = (keeper, threading.get_ident())
        try:
            yield
        finally:
            self._held = None
            keeper.close()

    def get(self, key: str, *, report_id: str | None = None) -> CachedResponse | None:
        """The answer stored under ``key``, or None. ``report_id`` replaces the stored id
        (two files with the same text share one key)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT model, extraction, dropped, usage, raw, created_at, mode "
                "FROM responses WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        model, extraction_json, dropped_json, usage_json, raw, created_at, mode = row
        try:
            extraction = ReportExtraction.model_validate_json(extraction_json)
            dropped = _DROPPED.validate_json(dropped_json)
            usage = Usage.model_validate_json(usage_json)
        except ValidationError as exc:
            raise CacheError(
                self.path, f"entry {key[:12]} does not load ({exc})", entry_only=True
            ) from exc
        if report_id is not None:
            extraction.report_id = report_id
        response = BackendResponse(
            extraction=extraction,
            usage=usage,
            dropped=dropped,
            raw=raw,
            mode=mode if isinstance(mode, str) else None,
        )
        return CachedResponse(key=key, model=model, response=response, created_at=created_at)

    def put(self, key: str, response: BackendResponse, model: str) -> None:
        """Store ``response`` under ``key`` (replacing any earlier answer)."""
        row = (
            key,
            model,
            response.extraction.model_dump_json(),
            json.dumps([d.model_dump(mode="json") for d in response.dropped], ensure_ascii=False),
            response.usage.model_dump_json(),
            response.raw,
            time.time(),
            response.mode,
        )
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO responses "
                "(key, model, extraction, dropped, usage, raw, created_at, mode) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def delete(self, key: str) -> bool:
        """Forget the answer under ``key``; True when there was one."""
        with self._connect() as db:
            return db.execute("DELETE FROM responses WHERE key = ?", (key,)).rowcount > 0

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        with self._connect() as db:
            row = db.execute("SELECT 1 FROM responses WHERE key = ?", (key,)).fetchone()
        return row is not None

    def __len__(self) -> int:
        with self._connect() as db:
            (count,) = db.execute("SELECT COUNT(*) FROM responses").fetchone()
        return int(count)
