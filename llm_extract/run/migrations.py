"""The schema of the cache database, as numbered migrations.

The file (:attr:`~llm_extract.settings.Settings.cache_db_path`) holds the response cache, the
request log and the modes ``auto`` found. Its schema version is SQLite's ``user_version``;
:func:`migrate` applies, in one transaction, every migration past it, so a file made by any
earlier version of the tool is brought up to date the first time a newer one opens it, and a
change to the schema is one more entry at the end of :data:`MIGRATIONS` (never an edit of an
old one).

Files made before the versions were numbered have ``user_version`` 0 but some tables already:
:func:`_adopt` reads which migrations they hold from the tables and columns present.
"""

from __future__ import annotations

import sqlite3

#: Migration ``n`` (1-based) brings a file from version ``n - 1`` to ``n``.
MIGRATIONS: tuple[str, ...] = (
    # 1: the response cache
    """
    CREATE TABLE responses (
        key        TEXT PRIMARY KEY,
        model      TEXT NOT NULL,
        extraction TEXT NOT NULL,
        dropped    TEXT NOT NULL,
        usage      TEXT NOT NULL,
        raw        TEXT,
        created_at REAL NOT NULL
    );
    """,
    # 2: the mode each answer was asked in (NULL for answers stored before)
    """
    ALTER TABLE responses ADD COLUMN mode TEXT;
    """,
    # 3: the request log (--log)
    """
    CREATE TABLE request_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created REAL NOT NULL,
        report_id TEXT,
        request_key TEXT,
        model TEXT,
        url TEXT,
        request TEXT,
        response TEXT,
        status TEXT NOT NULL,
        http_status INTEGER,
        error TEXT,
        latency_s REAL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER
    );
    CREATE INDEX request_log_report ON request_log (report_id);
    CREATE INDEX request_log_key ON request_log (request_key);
    """,
    # 4: the mode each server and model takes (--mode auto)
    """
    CREATE TABLE server_modes (
        server     TEXT NOT NULL,
        model      TEXT NOT NULL,
        mode       TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (server, model)
    );
    """,
)
VERSION = len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


def _adopt(db: sqlite3.Connection) -> int:
    """The version of a file made before versions were numbered (``user_version`` 0): the
    migrations whose tables and columns it already has, in order."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    version = 0
    if "responses" in tables:
        version = 1
        columns = {row[1] for row in db.execute("PRAGMA table_info(responses)")}
        if "mode" in columns:
            version = 2
            if "request_log" in tables:
                version = 3
                if "server_modes" in tables:
                    version = 4
    return version


def migrate(db: sqlite3.Connection) -> int:
    """Bring the database of ``db`` to :data:`VERSION`; returns the version it had. One
    transaction (``BEGIN IMMEDIATE``: two processes opening an old file at once migrate it
    once). Raises :class:`sqlite3.Error`; a file newer than this tool is left as it is."""
    (current,) = db.execute("PRAGMA user_version").fetchone()
    if current >= VERSION:
        return int(current)
    db.execute("BEGIN IMMEDIATE")
    try:
        (current,) = db.execute("PRAGMA user_version").fetchone()  # another process may have
        found = int(current) or _adopt(db)
        for script in MIGRATIONS[found:]:
            for statement in _statements(script):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return found
