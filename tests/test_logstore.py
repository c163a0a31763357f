"""The request log (SQLite) and the transport that rate-limits and logs every HTTP attempt."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx2
import openai
import pytest
from openai_server import OpenAIServer, Reply, Status

from llm_extract.redact import redact
from llm_extract.run.logstore import LogEntry, RequestLog, to_log_text
from llm_extract.run.ratelimit import RateLimiter
from llm_extract.run.transport import InstrumentedTransport, current_request, tag_requests
from llm_extract.settings import environment

SECRET = "sk-test-0123456789abcdefSECRET"
ANSWER = {"coalition_month": 118, "convoys": []}


def test_log_lives_in_the_cache_database_and_is_queried_by_report() -> None:
    with RequestLog() as log:
        assert log.path == environment().cache_db_path
        log.record(LogEntry(status="ok", report_id="a", request='{"x": 1}', response="{}"))
        log.record(LogEntry(status="http_error", report_id="b", http_status=500))
        log.record(LogEntry(status="ok", report_id="a", request_key="k2"))
        rows = log.for_report("a")
        assert [r.status for r in rows] == ["ok", "ok"]
        assert rows[0].request == '{"x": 1}' and rows[0].id is not None
        assert log.for_key("k2")[0].report_id == "a"
        assert log.report_ids() == ["a", "b"]
    # A second connection (another process would do the same) sees the rows.
    with RequestLog(environment().cache_db_path) as again:
        assert len(again.for_report("a", limit=1)) == 1


def test_secrets_never_reach_the_log(tmp_path: Path) -> None:
    text = to_log_text({"api_key": SECRET, "messages": [{"content": f"key {SECRET}"}]})
    assert text is not None and SECRET not in text
    assert "Bearer abcdefghijklmnop" not in redact("Authorization: Bearer abcdefghijklmnop")
    assert to_log_text({"max_tokens": 5}) == '{"max_tokens": 5}'
    db = tmp_path / "log.sqlite3"
    with RequestLog(db, secrets=["plain-secret-value"]) as log:
        log.record(LogEntry(status="error", error="failed with plain-secret-value"))
        assert log.for_report is not None
    assert b"plain-secret-value" not in db.read_bytes()


def _client(server: OpenAIServer, transport: InstrumentedTransport) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=server.base_url,
        api_key=SECRET,
        max_retries=3,
        http_client=httpx2.AsyncClient(transport=transport),
    )


async def _ask(client: openai.AsyncOpenAI, report_id: str) -> str | None:
    with tag_requests(report_id, f"key-{report_id}"):
        answer = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"report {report_id}"}],
            max_tokens=50,
        )
    return answer.choices[0].message.content


def test_transport_logs_every_attempt_per_report_without_the_key(
    openai_server: OpenAIServer,
) -> None:
    openai_server.default = Reply(ANSWER)
    openai_server.enqueue(Status(500), Reply(ANSWER))  # the first request is retried once
    log = RequestLog()
    transport = InstrumentedTransport(log=log)

    async def run() -> list[str | None]:
        client = _client(openai_server, transport)
        try:
            return await asyncio.gather(*(_ask(client, f"r{i}") for i in range(4)))
        finally:
            await client.close()

    answers = asyncio.run(run())
    assert all(a is not None and "118" in a for a in answers)
    assert current_request.get() is None
    rows = [row for i in range(4) for row in log.for_report(f"r{i}")]
    assert len(rows) == 5  # four reports, one retry
    failed = [row for row in rows if row.status == "http_error"]
    assert len(failed) == 1 and failed[0].http_status == 500
    for row in rows:
        assert row.request_key == f"key-{row.report_id}"
        assert row.model == "gpt-4o-mini"
        assert row.request is not None
        sent = json.loads(row.request)
        assert sent["messages"][0]["content"] == f"report {row.report_id}"
    ok = [row for row in rows if row.status == "ok"]
    assert all(row.prompt_tokens and row.completion_tokens for row in ok)
    log.close()
    assert SECRET.encode() not in environment().cache_db_path.read_bytes()
    wal = environment().cache_db_path.with_name(environment().cache_db_path.name + "-wal")
    assert not wal.exists() or SECRET.encode() not in wal.read_bytes()


def test_transport_logs_dropped_connections(openai_server: OpenAIServer) -> None:
    openai_server.default = Status(503)
    log = RequestLog()

    async def run() -> None:
        client = openai.AsyncOpenAI(
            base_url="http://127.0.0.1:9/v1",  # nothing listens on the discard port
            api_key=SECRET,
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=InstrumentedTransport(log=log)),
        )
        try:
            await _ask(client, "down")
        except openai.APIConnectionError:
            pass
        finally:
            await client.close()

    asyncio.run(run())
    rows = log.for_report("down")
    assert len(rows) == 1 and rows[0].status == "error" and rows[0].error
    log.close()


def test_transport_paces_requests_and_pauses_on_retry_after(openai_server: OpenAIServer) -> None:
    openai_server.default = Reply(ANSWER)
    openai_server.enqueue(Status(429, headers={"Retry-After": "0.3"}))
    limiter = RateLimiter(rpm=1200, burst_s=0.1)  # 20 per second, 2 at once
    transport = InstrumentedTransport(limiter=limiter)

    async def run() -> float:
        client = _client(openai_server, transport)
        t0 = time.monotonic()
        try:
            await asyncio.gather(*(_ask(client, f"p{i}") for i in range(8)))
        finally:
            await client.close()
        return time.monotonic() - t0

    elapsed = asyncio.run(run())
    # 9 requests (one 429): 2 at once then 20/s is >= 0.35 s, and the 429 paused everyone.
    assert elapsed >= 0.3
    assert len(openai_server.chat_requests()) == 9
    assert limiter.requests_sent == 9
    # Settled against the server's usage: far below the estimates of 50 output tokens each.
    assert limiter.tokens_charged < 9 * 60


def test_log_records_answers_from_the_cache(
    openai_server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fault_server import make_reports
    from typer.testing import CliRunner

    from llm_extract.cli import app

    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    openai_server.default = Reply({"convoys": []})
    report = tmp_path / "r_cached.txt"
    report.write_text(make_reports(1)[0].text, encoding="utf-8")
    args = ["extract", str(report), "--model", "gpt-4o-mini", "--mode", "tools"]
    first = CliRunner().invoke(app, args)  # fills the cache, with no log
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(app, [*args, "--log"])
    assert second.exit_code == 0, second.output
    assert len(openai_server.chat_requests()) == 1  # the second answer came from the cache
    shown = CliRunner().invoke(app, ["logs", "r_cached"])
    assert shown.exit_code == 0, shown.output
    assert "from the response cache (no request sent)" in shown.stdout
    assert "> user:" in shown.stdout
    as_json = CliRunner().invoke(app, ["logs", "r_cached", "--json"])
    (row,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert row["status"] == "cached" and row["request_key"]


def test_rate_limits_and_the_log_go_through_the_same_http_stack() -> None:
    from llm_extract.backends.chat.client import CONNECTION_LIMITS
    from llm_extract.run.stack import _instrumented_client
    from llm_extract.settings import load_settings

    make, limiter, log, _auto = _instrumented_client(load_settings({"rpm": 60, "log": True}))
    client = make()  # made lazily, when the first request is sent
    assert isinstance(client, httpx2.AsyncClient)  # httpx2, as without --rpm/--tpm/--log
    assert limiter is not None and log is not None
    assert isinstance(client._transport, InstrumentedTransport)
    assert CONNECTION_LIMITS.max_connections == 1000
    asyncio.run(client.aclose())
    log.close()
