"""The dataset's tables, as numbered migrations.

``PRAGMA user_version`` is the number of the last migration applied; opening a store applies
the ones after it, in order, each in one transaction. A store written by a newer version of
the tool (a number this one does not know) is refused rather than guessed at. Never edit a
migration that has shipped: add the next one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from llm_extract.errors import InputError

MIGRATIONS: tuple[str, ...] = (
    # 1: reports, runs, records, failures, corrections, events
    """
    CREATE TABLE reports (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        source_path TEXT,
        url TEXT,
        title TEXT,
        published TEXT,
        coalition_month INTEGER,
        period_start TEXT,
        period_end TEXT,
        added_at TEXT NOT NULL
    );
    CREATE TABLE report_keys (
        key TEXT PRIMARY KEY,
        report_id TEXT NOT NULL REFERENCES reports(id)
    );
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        prompt_name TEXT NOT NULL,
        prompt_hash TEXT NOT NULL,
        model TEXT NOT NULL,
        mode TEXT,
        settings TEXT,
        tool_version TEXT,
        time TEXT NOT NULL,
        added_at TEXT NOT NULL,
        source_file TEXT,
        reports INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        cost_usd REAL
    );
    CREATE TABLE run_reports (
        run_id TEXT NOT NULL REFERENCES runs(id),
        report_id TEXT NOT NULL REFERENCES reports(id),
        status TEXT NOT NULL,
        request_key TEXT,
        cached INTEGER NOT NULL,
        latency_s REAL,
        PRIMARY KEY (run_id, report_id)
    );
    CREATE TABLE corrections (
        id TEXT PRIMARY KEY,
        report_id TEXT NOT NULL REFERENCES reports(id),
        gold_file TEXT NOT NULL,
        from_model TEXT,
        from_prompt TEXT,
        saved_at TEXT,
        added_at TEXT NOT NULL
    );
    CREATE TABLE records (
        id TEXT PRIMARY KEY,
        report_id TEXT NOT NULL REFERENCES reports(id),
        run_id TEXT REFERENCES runs(id),
        correction_id TEXT REFERENCES corrections(id),
        category TEXT NOT NULL,
        idx INTEGER NOT NULL,
        date TEXT,
        date_last TEXT,
        date_text TEXT,
        kind TEXT,
        location TEXT,
        place_id TEXT,
        place_en TEXT,
        governorate TEXT,
        governorate_derived INTEGER NOT NULL DEFAULT 0,
        latitude REAL,
        longitude REAL,
        coordinates_derived INTEGER NOT NULL DEFAULT 0,
        actors TEXT,
        count INTEGER,
        killed INTEGER,
        injured INTEGER,
        detained INTEGER,
        vehicles INTEGER,
        fields TEXT NOT NULL,
        evidence TEXT NOT NULL,
        evidence_norm TEXT NOT NULL,
        evidence_start INTEGER,
        evidence_end INTEGER,
        CHECK ((run_id IS NULL) <> (correction_id IS NULL))
    );
    CREATE VIRTUAL TABLE records_fts USING fts5(evidence_norm, content=records);
    CREATE TRIGGER records_ai AFTER INSERT ON records BEGIN
        INSERT INTO records_fts (rowid, evidence_norm) VALUES (new.rowid, new.evidence_norm);
    END;
    CREATE TRIGGER records_ad AFTER DELETE ON records BEGIN
        INSERT INTO records_fts (records_fts, rowid, evidence_norm)
        VALUES ('delete', old.rowid, old.evidence_norm);
    END;
    CREATE TRIGGER records_au AFTER UPDATE ON records BEGIN
        INSERT INTO records_fts (records_fts, rowid, evidence_norm)
        VALUES ('delete', old.rowid, old.evidence_norm);
        INSERT INTO records_fts (rowid, evidence_norm) VALUES (new.rowid, new.evidence_norm);
    END;
    CREATE INDEX records_report ON records(report_id);
    CREATE INDEX records_run ON records(run_id);
    CREATE INDEX records_correction ON records(correction_id);
    CREATE TABLE failures (
        run_id TEXT NOT NULL REFERENCES runs(id),
        report_id TEXT NOT NULL REFERENCES reports(id),
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (run_id, report_id)
    );
    CREATE TABLE dropped (
        run_id TEXT NOT NULL REFERENCES runs(id),
        report_id TEXT NOT NULL REFERENCES reports(id),
        idx INTEGER NOT NULL,
        category TEXT NOT NULL,
        reason TEXT NOT NULL,
        record TEXT,
        PRIMARY KEY (run_id, report_id, idx)
    );
    CREATE TABLE preference (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        prompt_name TEXT NOT NULL,
        model TEXT NOT NULL,
        set_at TEXT NOT NULL
    );
    CREATE TABLE current (
        report_id TEXT PRIMARY KEY REFERENCES reports(id),
        source TEXT NOT NULL,
        run_id TEXT REFERENCES runs(id),
        correction_id TEXT REFERENCES corrections(id)
    );
    CREATE VIEW current_records AS
        SELECT records.*, current.source AS chosen_by
        FROM records JOIN current ON records.report_id = current.report_id
        AND (records.run_id IS current.run_id AND records.correction_id IS current.correction_id);
    CREATE TABLE events (
        id TEXT PRIMARY KEY,
        category TEXT NOT NULL,
        date TEXT,
        month TEXT,
        coalition_month INTEGER,
        kind TEXT,
        location TEXT,
        place_id TEXT,
        governorate TEXT,
        latitude REAL,
        longitude REAL,
        actors TEXT,
        mentions INTEGER NOT NULL,
        reports INTEGER NOT NULL,
        counts TEXT,
        counts_disagree INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE mentions (
        record_id TEXT PRIMARY KEY REFERENCES records(id),
        event_id TEXT NOT NULL REFERENCES events(id),
        report_id TEXT NOT NULL REFERENCES reports(id),
        score REAL
    );
    CREATE INDEX mentions_event ON mentions(event_id);
    CREATE TABLE state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One transaction around the block: committed at its end, rolled back on an error.
    (sqlite-utils commits each write made outside a transaction that is already open.)"""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()


def insert_rows(db: sqlite_utils.Database, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) into ``table``, ignoring rows whose key is
    already there, inside the caller's transaction (sqlite-utils' ``insert_all`` commits
    each batch, so a failed add would leave half a run behind)."""
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    db.conn.executemany(
        f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks})",
        ([row[c] for c in columns] for row in rows),
    )


def version(db: sqlite_utils.Database) -> int:
    row = db.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the migrations the store lacks; returns its version."""
    current = version(db)
    if current > len(MIGRATIONS):
        raise InputError(
            db.conn.execute("PRAGMA database_list").fetchone()[2] or "dataset",
            f"written by a newer llm-extract (schema {current}, this one knows {len(MIGRATIONS)})",
        )
    for number in range(current + 1, len(MIGRATIONS) + 1):
        script = MIGRATIONS[number - 1]
        db.conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return len(MIGRATIONS)


def open_store(path: str | Path) -> sqlite_utils.Database:
    """The dataset at ``path`` (created when absent), migrated to this version."""
    file = Path(path)
    if file.is_dir():
        raise InputError(file, "is a folder, not a dataset file")
    try:
        conn = sqlite3.connect(file)
        conn.execute("PRAGMA journal_mode = WAL")
        # WAL with synchronous NORMAL: a commit survives a crash of the process; only a
        # power loss can take back the last commits (never corrupt the file).
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise InputError(file, f"not a dataset file ({exc})") from exc
    return db
