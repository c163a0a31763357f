"""The cache database's schema as numbered migrations: a file of any earlier layout is brought
up to date when a newer tool opens it, keeping what it holds."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from llm_extract.run.cache import ResponseCache
from llm_extract.run.logstore import LogEntry, RequestLog
from llm_extract.run.migrations import VERSION, migrate
from llm_extract.run.modestore import ModeStore

# The responses table as the first versions made it: no mode column, no user_version.
OLD_LAYOUT = """
CREATE TABLE responses (
    key TEXT PRIMARY KEY, model TEXT NOT NULL, extraction TEXT NOT NULL,
    dropped TEXT NOT NULL, usage TEXT NOT NULL, raw TEXT, created_at REAL NOT NULL
)
"""


def tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def test_an_old_cache_file_is_upgraded_and_keeps_its_answers(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    extraction = {"report_id": "r1", "convoys": []}
    with closing(sqlite3.connect(path)) as db:
        db.execute(OLD_LAYOUT)
        db.execute(
            "INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("k1", "gpt-4o-mini", json.dumps(extraction), "[]", "{}", "raw", 1.0),
        )
        db.commit()
    assert version(path) == 0
    cache = ResponseCache(path)
    assert version(path) == VERSION
    assert {"responses", "request_log", "server_modes"} <= tables(path)
    hit = cache.get("k1")
    assert hit is not None and hit.response.mode is None  # stored before modes were recorded
    assert hit.response.extraction.report_id == "r1"
    ModeStore(path).remember("http://127.0.0.1:1/v1", "m", "tools")
    assert ModeStore(path).recall("http://127.0.0.1:1/v1", "m") == "tools"
    with RequestLog(path) as log:
        log.record(LogEntry(status="ok", report_id="r1"))
        assert [e.report_id for e in log.for_report("r1")] == ["r1"]


def test_a_file_of_the_unnumbered_layout_is_adopted_not_migrated_twice(tmp_path: Path) -> None:
    # Made by the tool just before the versions were numbered: every table there, version 0.
    path = tmp_path / "cache.sqlite3"
    with closing(sqlite3.connect(path)) as db:
        db.execute(OLD_LAYOUT)
        db.execute("ALTER TABLE responses ADD COLUMN mode TEXT")
        db.execute("CREATE TABLE request_log (id INTEGER PRIMARY KEY, status TEXT NOT NULL)")
        db.commit()
        assert migrate(db) == 3  # it had migrations 1 to 3; only 4 ran
    assert version(path) == VERSION and "server_modes" in tables(path)


def test_a_new_file_gets_every_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    ResponseCache(path)
    ResponseCache(path)  # opening it again changes nothing
    assert version(path) == VERSION
    with closing(sqlite3.connect(path)) as db:
        assert migrate(db) == VERSION
