"""Hostile inputs around secrets and private files: credentials in ``OPENAI_BASE_URL`` never
reach the request log, the output, the terminal or ``llm-extract logs``; the cache and the log
are readable by their owner only; ``logs --db`` creates nothing.

Everything runs for real: ``extract`` against the loopback OpenAI-protocol server with a base
URL that carries a user name and password, then the bytes of every file the run wrote are
searched for the password.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_server import OpenAIServer, Reply, Status
from paths import GOLD_DIR, REPORTS_DIR
from typer.testing import CliRunner, Result

from llm_extract.backends import openai_compat
from llm_extract.backends.openai_compat import RetryPolicy
from llm_extract.cli import app
from llm_extract.errors import CacheError
from llm_extract.run.cache import ResponseCache
from llm_extract.run.logstore import LogEntry, RequestLog
from llm_extract.settings import environment

KEY = "sk-test-HOSTILE-SECRETS-9f8e7d"
PASSWORD = "hunter2-Pa55word"
USER = "analyst"
REPORT = "month_116"


@pytest.fixture(autouse=True)
def _tiny_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        openai_compat,
        "DEFAULT_RETRY_POLICY",
        RetryPolicy(base_s=0.005, cap_s=0.02, retry_after_cap_s=0.05),
    )


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def with_credentials(base_url: str) -> str:
    return base_url.replace("http://", f"http://{USER}:{PASSWORD}@")


def every_file(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


def assert_no_secret(*folders: Path, text: str = "") -> None:
    for path in every_file(*folders):
        data = path.read_bytes()
        for secret in (PASSWORD, KEY):
            assert secret.encode() not in data, f"{secret} in {path}"
    for secret in (PASSWORD, KEY):
        assert secret not in text


@pytest.fixture
def report(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    target = folder / f"{REPORT}.txt"
    target.write_text((REPORTS_DIR / f"{REPORT}.txt").read_text("utf-8"), encoding="utf-8")
    return target


def answer() -> dict[str, object]:
    data: dict[str, object] = json.loads((GOLD_DIR / f"{REPORT}.json").read_text("utf-8"))
    return data


def test_password_in_the_base_url_is_never_stored_nor_printed(
    openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, report: Path
) -> None:
    base = with_credentials(openai_server.base_url)
    monkeypatch.setenv("OPENAI_BASE_URL", base)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    openai_server.enqueue(Status(500))  # one error row, then the answer
    openai_server.default = Reply(answer())
    out = tmp_path / "out.jsonl"
    done = run("extract", str(report), "-o", str(out), "--log", "--no-cache")
    assert done.exit_code == 0, done.output
    # The server did get the credentials (the client sends them as Basic auth)...
    assert openai_server.requests[0].headers.get("authorization", "").startswith("Basic ")
    # ...but no file of the run and no message holds them.
    with RequestLog.open_existing() as log:
        rows = log.for_report(REPORT)
    assert [r.status for r in rows] == ["http_error", "ok"]
    host = openai_server.base_url.removeprefix("http://")
    assert {r.url for r in rows} == {f"http://***@{host}/chat/completions"}
    shown = run("logs", REPORT, "--json", "--full")
    assert shown.exit_code == 0, shown.output
    assert f"http://***@{host}/chat/completions" in shown.output
    assert_no_secret(tmp_path, environment().cache_db_path.parent, text=done.output + shown.output)


def test_a_server_error_that_quotes_the_url_is_masked_everywhere(
    openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, report: Path
) -> None:
    base = with_credentials(openai_server.base_url)
    monkeypatch.setenv("OPENAI_BASE_URL", base)
    echo = {"error": {"message": f"no access for {base} (password {PASSWORD})", "type": "auth"}}
    openai_server.default = Status(403, body=echo)
    out = tmp_path / "out.jsonl"
    done = run("extract", str(report), "-o", str(out), "--log", "--no-cache")
    assert done.exit_code == 1, done.output
    line = json.loads(out.read_text(encoding="utf-8"))
    assert line["status"] == "failed" and line["error"]["kind"] == "http_403"
    assert "http://***@" in line["error"]["message"] and "***" in line["error"]["message"]
    shown = run("logs", REPORT, "--full")
    assert shown.exit_code == 0 and "HTTP 403" in shown.output
    assert_no_secret(tmp_path, environment().cache_db_path.parent, text=done.output + shown.output)


def test_a_server_that_cannot_be_reached_leaves_no_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, report: Path
) -> None:
    # Nothing listens on the discard port: every attempt is a connection error.
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://{USER}:{PASSWORD}@127.0.0.1:9/v1")
    out = tmp_path / "out.jsonl"
    done = run("extract", str(report), "-o", str(out), "--log", "--no-cache", "--timeout", "2")
    assert done.exit_code == 2, done.output  # the server is unreachable: nothing could run
    assert "cannot connect to the server 127.0.0.1:9 (connection refused)" in done.stderr
    with RequestLog.open_existing() as log:
        rows = log.for_report(REPORT)
    assert rows and all(r.status == "error" for r in rows)
    assert all(r.url == "http://***@127.0.0.1:9/v1/chat/completions" for r in rows)
    assert_no_secret(tmp_path, environment().cache_db_path.parent, text=done.output)


def test_logs_masks_rows_written_before_the_fix(tmp_path: Path) -> None:
    """A log written by an older version (password in the url column) prints no secret."""
    db = tmp_path / "old.sqlite3"
    with RequestLog(db) as log:
        log.record(LogEntry(status="ok", report_id="r1", model="m"))
    with sqlite3.connect(db) as raw:
        raw.execute(
            "UPDATE request_log SET url = ?, error = ?",
            (f"http://{USER}:{PASSWORD}@h:1/v1/chat/completions?token=T0KEN-x", f"to {KEY}"),
        )
    raw.close()
    shown = run("logs", "r1", "--json", "--db", str(db))
    assert shown.exit_code == 0, shown.output
    row = json.loads(shown.output)
    assert row["url"] == "http://***@h:1/v1/chat/completions?token=***"
    assert PASSWORD not in shown.output and KEY not in shown.output and "T0KEN" not in shown.output


# --- files only their owner can read ----------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The usual umask (022), under which a file is made readable by all unless asked."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("usual_umask")
def test_cache_and_log_are_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = tmp_path / "home-cache"
    monkeypatch.setenv("LLM_EXTRACT_CACHE_DIR", str(root / "llm-extract"))
    cache = ResponseCache()
    assert cache.path == environment().cache_db_path and len(cache) == 0
    with RequestLog() as log:
        log.record(LogEntry(status="ok", report_id="r1", request='{"x": "نص التقرير"}'))
        files = every_file(root)
        assert {p.name for p in files} >= {"cache.sqlite3", "cache.sqlite3-wal"}
        for path in files:  # the database and its -wal and -shm files
            assert mode(path) == 0o600, path
    assert mode(root) == 0o700 and mode(root / "llm-extract") == 0o700


@pytest.mark.usefixtures("usual_umask")
def test_an_existing_folder_is_left_as_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "shared-cache"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    ResponseCache(folder / "c.sqlite3")
    assert mode(folder) == 0o755
    assert mode(folder / "c.sqlite3") == 0o600


@pytest.mark.usefixtures("usual_umask")
def test_an_extract_run_writes_private_cache_files(
    openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, report: Path
) -> None:
    monkeypatch.setenv("LLM_EXTRACT_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    openai_server.default = Reply(answer())
    done = run("extract", str(report), "-o", str(tmp_path / "o.jsonl"), "--log")
    assert done.exit_code == 0, done.output
    assert mode(tmp_path / "c") == 0o700
    written = every_file(tmp_path / "c")
    assert written and all(mode(p) == 0o600 for p in written)


# --- logs --db creates nothing ----------------------------------------------------------------


def test_logs_with_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "x.db"
    done = run("logs", "r1", "--db", str(missing))
    assert done.exit_code == 2
    assert done.output.count("\n") == 1 and "does not exist" in done.output
    assert str(missing) in done.output and "Traceback" not in done.output
    assert not (tmp_path / "nonexistent").exists()


def test_logs_refuses_a_folder_and_a_database_that_is_not_a_log(tmp_path: Path) -> None:
    folder = run("logs", "r1", "--db", str(tmp_path))
    assert folder.exit_code == 2 and "is a folder" in folder.output
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    db.close()
    before = other.read_bytes()
    done = run("logs", "r1", "--db", str(other))
    assert done.exit_code == 2 and "holds no request log" in done.output
    assert done.output.count("\n") == 1
    assert other.read_bytes() == before  # no table was added
    text = tmp_path / "notes.db"
    text.write_text("not a database at all\n" * 100, encoding="utf-8")
    damaged = run("logs", "r1", "--db", str(text))
    assert damaged.exit_code == 2 and damaged.output.count("\n") == 1
    assert "Traceback" not in damaged.output


def test_a_cache_folder_that_is_a_file_is_a_typed_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(CacheError, match="cannot create the cache"):
        ResponseCache(blocker / "cache.sqlite3")
    with pytest.raises(CacheError, match="cannot create the request log"):
        RequestLog(blocker / "cache.sqlite3")
    assert blocker.read_text(encoding="utf-8") == "x"
