"""A log of every request sent to a model server and what came back, in SQLite.

The table ``request_log`` lives in the same file as the response cache
(``Settings.cache_db_path``). One row per HTTP attempt: retries and re-asks
each get their own row, so ``llm-extract logs REPORT_ID`` shows exactly what was sent and
what the server answered. No secret is ever stored: requests are logged as their JSON body
(the key travels in a header, which is not logged); :func:`llm_extract.redact.redact` removes
any key-like field, any occurrence of a known key and the credentials of any URL from the text,
and the server address is stored through :func:`llm_extract.redact.redact_url` (no
``user:password@``, no secret query value). Rows are masked again when they are read, so a log
written by an older version prints no secret either. The database file and the folder the tool
creates for it are readable by their owner only (0600, 0700): they hold report texts and answers.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_extract.errors import CacheError
from llm_extract.paths import private_dir, private_file
from llm_extract.redact import redact, redact_url, scrub_json
from llm_extract.run.migrations import migrate
from llm_extract.settings import environment


def to_log_text(value: Any, secrets: Iterable[str | None] = ()) -> str | None:
    """JSON text of a request or response body, scrubbed of secrets (text is kept as text)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return redact(value, secrets)
    text = json.dumps(scrub_json(value), ensure_ascii=False)
    return redact(text, secrets)


@dataclass
class LogEntry:
    """One request and its answer (or the error that stopped it)."""

    status: str
    report_id: str | None = None
    request_key: str | None = None
    model: str | None = None
    url: str | None = None
    request: str | None = None
    response: str | None = None
    http_status: int | None = None
    error: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    created: float = field(default_factory=time.time)
    id: int | None = None


_COLUMNS = (
    "created",
    "report_id",
    "request_key",
    "model",
    "url",
    "request",
    "response",
    "status",
    "http_status",
    "error",
    "latency_s",
    "prompt_tokens",
    "completion_tokens",
)


class RequestLog:
    """The ``request_log`` table. Safe to share between threads and between processes (WAL)."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        secrets: Iterable[str | None] = (),
        _connection: sqlite3.Connection | None = None,
    ):
        self.path = Path(path) if path is not None else environment().cache_db_path
        self._secrets = [s for s in secrets if s]
        self._lock = threading.Lock()
        #: why writing stopped, when a write failed (the run goes on without the log)
        self.problem: str | None = None
        if _connection is not None:
            self._db = _connection
            return
        try:
            private_file(private_dir(self.path.parent) / self.path.name)
        except OSError as exc:
            raise CacheError(
                self.path, f"cannot create the request log ({exc.strerror or exc})"
            ) from exc
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
        except sqlite3.Error as exc:
            raise CacheError(self.path, f"request log unusable ({exc})") from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            migrate(self._db)  # the schema, numbered (llm_extract.run.migrations)
        except sqlite3.Error as exc:
            self._db.close()
            raise CacheError(self.path, f"request log unusable ({exc})") from exc

    @classmethod
    def open_existing(cls, path: str | Path | None = None) -> RequestLog:
        """The log at ``path`` (default: the cache database) for reading: creates nothing, and
        raises :class:`CacheError` when there is no such file or it holds no request log."""
        target = Path(path) if path is not None else environment().cache_db_path
        if not target.is_file():
            reason = "is a folder" if target.is_dir() else "does not exist"
            raise CacheError(target, f"no request log: the file {reason} (run extract with --log)")
        try:
            db = sqlite3.connect(
                f"{target.resolve().as_uri()}?mode=rw", uri=True, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise CacheError(target, f"cannot open the request log ({exc})") from exc
        try:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'request_log'"
            ).fetchone()
        except sqlite3.Error as exc:
            db.close()
            raise CacheError(target, f"not a request log ({exc})") from exc
        if found is None:
            db.close()
            raise CacheError(target, "holds no request log (run extract with --log)")
        return cls(target, _connection=db)

    def _masked(self, entry: LogEntry) -> LogEntry:
        """``entry`` with every text column scrubbed of secrets and the URL's credentials."""
        for name in ("request", "response", "error"):
            text = getattr(entry, name)
            if text:
                setattr(entry, name, redact(text, self._secrets))
        if entry.url:
            entry.url = redact(redact_url(entry.url), self._secrets)
        return entry

    def record(self, entry: LogEntry) -> int:
        """Write ``entry`` (every text scrubbed of secrets, the URL of its credentials)."""
        self._masked(entry)
        values = [getattr(entry, name) for name in _COLUMNS]
        with self._lock:
            if self.problem is not None:
                return 0
            try:
                cursor = self._db.execute(
                    f"INSERT INTO request_log ({', '.join(_COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
                    values,
                )
                self._db.commit()
            except sqlite3.Error as exc:  # a log that breaks mid-run must not break the run
                self.problem = f"{self.path}: request log stopped ({exc})"
                return 0
        entry.id = cursor.lastrowid
        return int(cursor.lastrowid or 0)

    def _select(self, where: str, params: tuple[Any, ...], limit: int | None) -> list[LogEntry]:
        sql = f"SELECT id, {', '.join(_COLUMNS)} FROM request_log {where} ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [
            self._masked(LogEntry(**dict(zip(("id", *_COLUMNS), row, strict=True)))) for row in rows
        ]

    def for_report(self, report_id: str, limit: int | None = None) -> list[LogEntry]:
        """Every logged request of ``report_id``, oldest first."""
        return self._select("WHERE report_id = ?", (report_id,), limit)

    def for_key(self, request_key: str) -> list[LogEntry]:
        """Every logged request sent under one content-addressed request key."""
        return self._select("WHERE request_key = ?", (request_key,), None)

    def report_ids(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT report_id FROM request_log WHERE report_id IS NOT NULL "
                "ORDER BY report_id"
            ).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> RequestLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
