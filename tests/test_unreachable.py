"""A server that cannot be connected to is found once for the run, within seconds, and named.

The port is a socket bound on 127.0.0.1 that never listens: every connection to it is refused
at once, and no other process can take the port while the test holds it.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_server import make_reports
from openai_server import OpenAIServer, Reply, Status
from typer.testing import CliRunner

from llm_extract.backends.chat.reachability import Reachability, connect_reason
from llm_extract.cli import app
from llm_extract.errors import ServerUnreachable

SECRET = "sk-test-UNREACHABLE-5b1e0c7d"


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def write_reports(folder: Path, count: int) -> Path:
    folder.mkdir()
    for report in make_reports(count):
        (folder / f"{report.report_id}.txt").write_text(report.text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("concurrency", ["8", "1"])
def test_500_reports_against_a_closed_port_stop_within_seconds(
    closed_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, concurrency: str
) -> None:
    # The default mode (auto, which probes) and the default retry policy (real backoff).
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://user:pw-SECRET-9@127.0.0.1:{closed_port}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    folder = write_reports(tmp_path / "reports", 500)
    out = tmp_path / "out.jsonl"
    started = time.perf_counter()
    done = CliRunner().invoke(
        app, ["extract", str(folder), "-o", str(out), "--model", "gpt-4o-mini", "-j", concurrency]
    )
    elapsed = time.perf_counter() - started
    assert elapsed < 20, f"{elapsed:.1f} s"
    assert done.exit_code == 2, done.output
    stopped = [line for line in done.stderr.splitlines() if line.startswith("stopped:")]
    assert len(stopped) == 1, done.stderr
    line = stopped[0]
    assert f"cannot connect to the server 127.0.0.1:{closed_port} (connection refused)" in line
    assert "OPENAI_BASE_URL" in line
    assert "500 report(s) not sent" in line
    assert f"--resume -o {out}" in line
    assert "pw-SECRET-9" not in done.output and SECRET not in done.output
    # No report was answered: none is written as failed, --resume runs them all.
    assert not out.exists() or out.read_text(encoding="utf-8") == ""
    assert "failed:" not in done.stderr


def test_resume_after_the_server_is_fixed_runs_every_report(
    closed_port: int, openai_server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    folder = write_reports(tmp_path / "reports", 5)
    out = tmp_path / "out.jsonl"
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port}/v1")
    first = CliRunner().invoke(app, ["extract", str(folder), "-o", str(out), "--mode", "tools"])
    assert first.exit_code == 2, first.output
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    openai_server.default = Reply({"convoys": []})
    second = CliRunner().invoke(
        app, ["extract", str(folder), "-o", str(out), "--mode", "tools", "--resume"]
    )
    assert second.exit_code == 0, second.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5


def test_a_tls_failure_is_named(openai_server: OpenAIServer, tmp_path: Path) -> None:
    # https:// to a plain-HTTP server: the TLS handshake fails on every connection.
    url = openai_server.base_url.replace("http://", "https://")
    env = {"OPENAI_BASE_URL": url, "OPENAI_API_KEY": SECRET}
    folder = write_reports(tmp_path / "reports", 20)
    done = CliRunner(env=env).invoke(app, ["extract", str(folder), "-o", str(tmp_path / "o.jsonl")])
    assert done.exit_code == 2, done.output
    assert "(TLS handshake failed)" in done.stderr
    assert "20 report(s) not sent" in done.stderr


def test_a_server_that_answered_once_is_retried_not_given_up() -> None:
    reach = Reachability("127.0.0.1:1", threshold=3)
    reach.answer()
    for _ in range(10):
        reach.connect_failed(ConnectionRefusedError("[Errno 111] Connection refused"))
    reach.check()  # still reachable: a server that answered may be restarting


def test_the_waits_between_retries_end_when_the_server_is_found_down() -> None:
    async def scenario() -> float:
        reach = Reachability("127.0.0.1:1", threshold=2)
        reach.connect_failed(ConnectionRefusedError("refused"))
        waiting = asyncio.ensure_future(reach.sleep(30))
        await asyncio.sleep(0)
        started = time.perf_counter()
        with pytest.raises(ServerUnreachable, match=r"127\.0\.0\.1:1 \(connection refused\)"):
            reach.connect_failed(ConnectionRefusedError("refused"))
        await waiting
        return time.perf_counter() - started

    assert asyncio.run(scenario()) < 5


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("[Errno 111] Connection refused", "connection refused"),
        ("[Errno -2] Name or service not known", "host name not found"),
        ("[Errno -3] Temporary failure in name resolution", "host name not found"),
        ("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)", "TLS handshake failed"),
    ],
)
def test_connect_reasons(message: str, reason: str) -> None:
    assert connect_reason(OSError(message)) == reason


def test_an_http_error_status_is_an_answer_not_a_dead_server(
    openai_server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("LLM_EXTRACT_MAX_RETRIES", "0")
    openai_server.default = Status(503)
    folder = write_reports(tmp_path / "reports", 4)
    done = CliRunner().invoke(
        app, ["extract", str(folder), "-o", str(tmp_path / "o.jsonl"), "--mode", "tools"]
    )
    assert done.exit_code == 1, done.output
    assert "cannot connect" not in done.stderr
    assert done.stderr.count("failed:") == 4
