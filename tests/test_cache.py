"""The SQLite response cache: round trip, concurrent writers, typed errors."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from llm_extract.backends.base import BackendResponse
from llm_extract.errors import CacheError
from llm_extract.results import DroppedRecord, Usage
from llm_extract.run.cache import ResponseCache
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import environment

# Written for these tests (not from a real report).
SOURCE = (
    "للشهر 120 على التوالي، أدخل التحالف الدولي نحو 75 شاحنة في 3 دفعات يومي 2 و5 و9 آب "
    "إلى قاعدة الشدادي، ونفذ تدريبا مشتركا مع قسد في حقل العمر يوم 12 آب."
)
DATA = {
    "coalition_month": 120,
    "convoys": [
        {
            "mode": "ground",
            "vehicles": 75,
            "approximate": True,
            "batches": 3,
            "dates": ["2024-08-02", "2024-08-05", "2024-08-09"],
            "destinations": ["قاعدة الشدادي"],
            "evidence": "نحو 75 شاحنة في 3 دفعات",
        }
    ],
    "drills": [{"date": "2024-08-12", "location": "حقل العمر", "evidence": "تدريبا مشتركا مع قسد"}],
}


def make_response(raw: str = '{"x": 1}') -> BackendResponse:
    extraction = ReportExtraction.model_validate(
        DATA, context={"source": SOURCE, "report_id": "r120"}
    )
    return BackendResponse(
        extraction=extraction,
        usage=Usage(
            prompt_tokens=900,
            completion_tokens=120,
            total_tokens=1020,
            attempts=2,
            reasks=1,
            reask_tokens=400,
            cost_usd=0.0012,
        ),
        dropped=[
            DroppedRecord(
                category="strikes",
                reason="evidence not found",
                record={"kind": "airstrike", "evidence": "غارة"},
            )
        ],
        raw=raw,
    )


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite3")
    original = make_response()
    assert cache.get("k1") is None
    cache.put("k1", original, "gpt-4o-mini")
    hit = cache.get("k1")
    assert hit is not None
    assert hit.model == "gpt-4o-mini"
    assert hit.response.extraction == original.extraction
    assert hit.response.extraction.convoys[0].evidence_start is not None
    assert hit.response.extraction.period is not None
    assert hit.response.usage == original.usage
    assert hit.response.dropped == original.dropped
    assert hit.response.raw == '{"x": 1}'
    assert hit.created_at > 0
    assert "k1" in cache and len(cache) == 1
    renamed = cache.get("k1", report_id="copy-of-r120")
    assert renamed is not None and renamed.response.extraction.report_id == "copy-of-r120"


def test_put_replaces_and_delete_forgets(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite3")
    cache.put("k", make_response("first"), "m")
    cache.put("k", make_response("second"), "m")
    hit = cache.get("k")
    assert hit is not None and hit.response.raw == "second"
    assert len(cache) == 1
    assert cache.delete("k") and not cache.delete("k")
    assert cache.get("k") is None


def test_default_path_follows_the_cache_dir_env(tmp_path: Path) -> None:
    cache = ResponseCache()
    assert cache.path == environment().cache_db_path
    assert str(tmp_path) in str(cache.path)
    with sqlite3.connect(cache.path) as db:
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"


def test_threads_and_a_second_process_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    ResponseCache(path)
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_cache import make_response
        from llm_extract.run.cache import ResponseCache
        cache = ResponseCache({str(path)!r})
        for i in range(40):
            cache.put(f"proc-{{i}}", make_response(f"proc {{i}}"), "m")
            assert cache.get(f"proc-{{i}}") is not None
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script])
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            cache = ResponseCache(path)
            for i in range(40):
                cache.put(f"t{n}-{i}", make_response(f"t{n} {i}"), "m")
                cache.put("same-key", make_response(f"t{n} {i}"), "m")
        except BaseException as exc:  # collected and re-raised by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert child.wait(timeout=60) == 0
    assert errors == []
    cache = ResponseCache(path)
    assert len(cache) == 4 * 40 + 40 + 1
    last = cache.get("proc-39")
    assert last is not None and last.response.raw == "proc 39"


def test_corrupt_file_gives_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(CacheError) as info:
        ResponseCache(path)
    assert str(path) in str(info.value)


def test_unloadable_entry_gives_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = ResponseCache(path)
    cache.put("k", make_response(), "m")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE responses SET extraction = '{\"convoys\": 3}' WHERE key = 'k'")
    with pytest.raises(CacheError, match="does not load"):
        cache.get("k")


def test_locked_database_gives_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = ResponseCache(path, timeout_s=0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(CacheError, match="locked"):
            cache.put("k", make_response(), "m")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    cache.put("k", make_response(), "m")
    assert "k" in cache


def test_a_held_cache_keeps_its_journal_and_answers_as_before(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    cache = ResponseCache(path)
    wal = path.with_name(path.name + "-wal")
    with cache.held():
        for n in range(5):
            cache.put(f"k{n}", make_response(), "gpt-4o-mini")
            # another connection stays open: closing the call's own does not checkpoint
            assert wal.exists()
        hit = cache.get("k3", report_id="r999")
        assert hit is not None and hit.response.extraction.report_id == "r999"
        assert cache.get("missing") is None
    assert len(cache) == 5 and "k4" in cache
    # once released, the last connection to close checkpoints the journal away
    assert not wal.exists() or wal.stat().st_size == 0


def test_holding_a_cache_that_cannot_open_is_no_error(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite3")
    cache.path = tmp_path / "no-such-folder" / "cache.sqlite3"  # the file went away
    with cache.held(), pytest.raises(CacheError):
        cache.get("k")
