"""``extract`` at scale, end to end against the loopback server: kill -9 and --resume,
--dry-run, --max-cost / --max-tokens-total, --rpm, --log with ``logs``, long reports."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fault_server import FaultPlan, make_reports, report_number
from openai_server import Delay, Dynamic, OpenAIServer, RecordedRequest, Reply
from typer.testing import CliRunner, Result

from llm_extract.cli import app
from llm_extract.normalize import normalize
from llm_extract.pricing import load_price_table
from llm_extract.results import ExtractionResult
from llm_extract.settings import environment

SECRET = "sk-test-SCALE-5e1f0a9b7c3d"
CLI = Path(sys.executable).with_name("llm-extract")


@pytest.fixture
def server(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> OpenAIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    openai_server.default = FaultPlan().action()
    return openai_server


def write_reports(folder: Path, count: int) -> Path:
    folder.mkdir(exist_ok=True)
    for report in make_reports(count):
        (folder / f"{report.report_id}.txt").write_text(report.text, encoding="utf-8")
    return folder


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def results(path: Path) -> list[ExtractionResult]:
    return [
        ExtractionResult.model_validate_json(line)
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def requests_per_report(server: OpenAIServer) -> Counter[str]:
    counts: Counter[str] = Counter()
    for request in server.chat_requests():
        number = report_number(request)
        if number is not None:
            counts[f"r{number:04d}"] += 1
    return counts


# --- kill -9 then --resume ------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", ["4", "auto"])  # auto: many lines per group commit
def test_kill_9_mid_run_then_resume_loses_nothing_and_repeats_nothing(
    server: OpenAIServer, tmp_path: Path, concurrency: str
) -> None:
    folder = write_reports(tmp_path / "reports", 60)
    out = tmp_path / "out.jsonl"
    plan = FaultPlan()
    server.default = Dynamic(lambda request: Delay(0.08, plan(request)))
    args = ["extract", str(folder), "-o", str(out), "-p", "minimal", "-j", concurrency]
    args.append("--no-cache")
    child = subprocess.Popen(
        [str(CLI), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists() and out.read_bytes().count(b"\n") >= 12:
                break
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    time.sleep(0.3)  # requests in flight at the kill reach the server or die
    raw = out.read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1].decode("utf-8").splitlines()
    done_before = {ExtractionResult.model_validate_json(line).report_id for line in complete}
    assert 12 <= len(done_before) < 60
    before = requests_per_report(server)

    resumed = run(*args, "--resume")
    assert resumed.exit_code == 0, resumed.output
    final = results(out)  # every line parses: no torn line is left
    assert sorted(r.report_id for r in final) == [f"r{n:04d}" for n in range(60)]
    assert all(r.status == "ok" for r in final)
    after = requests_per_report(server)
    for report_id in done_before:  # finished before the kill: never asked again
        assert after[report_id] == before[report_id] == 1
    assert all(after[f"r{n:04d}"] >= 1 for n in range(60))


# --- dry run -----------------------------------------------------------------------------------


def test_dry_run_renders_everything_and_sends_nothing(
    server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_reports(tmp_path / "reports", 3)
    monkeypatch.delenv("OPENAI_API_KEY")  # no key needed to estimate
    result = run("extract", str(folder), "--dry-run", "-p", "guided", "--max-tokens", "1000")
    assert result.exit_code == 0, result.output
    assert server.requests == []
    assert "nothing sent" in result.output
    assert (
        len(re.findall(r"r000\d: ~[\d,]+ prompt tokens, up to 1,000 answer tokens", result.output))
        == 3
    )
    assert "3 request(s)" in result.output
    assert re.search(r"upper bound .*: \$\d+\.\d{4}", result.output)
    assert "static prompt prefix shared by every request" in result.output


# --- budgets -----------------------------------------------------------------------------------


def test_max_cost_stops_before_overspending_and_resume_finishes(
    server: OpenAIServer, tmp_path: Path
) -> None:
    folder = write_reports(tmp_path / "reports", 12)
    out = tmp_path / "out.jsonl"
    plan = FaultPlan()
    usage = {"prompt_tokens": 2000, "completion_tokens": 300}

    def answer(request: RecordedRequest) -> Any:
        reply = plan(request)
        assert isinstance(reply, Reply)
        return Reply(reply.payload, usage=usage)

    server.default = Dynamic(answer)
    common = ["extract", str(folder), "-o", str(out), "-p", "minimal", "-j", "2"]
    common += ["--max-tokens", "300", "--max-reasks", "0", "--no-cache"]
    stopped = run(*common, "--max-cost", "0.003")
    assert stopped.exit_code == 1, stopped.output
    assert "--max-cost $0.003 reached" in stopped.output
    assert "--resume" in stopped.output
    first = results(out)
    assert 1 <= len(first) < 12
    assert all(r.status == "ok" for r in first)  # unsent reports leave no line
    spent = sum(r.usage.cost_usd or 0.0 for r in first)
    assert 0 < spent <= 0.003
    assert len(server.chat_requests()) == len(first)

    finished = run(*common, "--resume")
    assert finished.exit_code == 0, finished.output
    final = results(out)
    assert sorted(r.report_id for r in final) == [f"r{n:04d}" for n in range(12)]
    assert set(requests_per_report(server).values()) == {1}  # nothing asked twice


def test_max_tokens_total_stops_cleanly(server: OpenAIServer, tmp_path: Path) -> None:
    folder = write_reports(tmp_path / "reports", 6)
    out = tmp_path / "out.jsonl"
    result = run(
        "extract", str(folder), "-o", str(out), "-p", "minimal", "-j", "1",
        "--max-tokens", "200", "--max-reasks", "0", "--max-tokens-total", "6000", "--no-cache",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "--max-tokens-total 6,000 reached" in result.output
    done = results(out)
    assert 1 <= len(done) < 6
    assert sum(r.usage.total_tokens for r in done) <= 6000


def test_max_cost_needs_a_price(server: OpenAIServer, tmp_path: Path) -> None:
    folder = write_reports(tmp_path / "reports", 1)
    load_price_table.cache_clear()
    result = run("extract", str(folder), "-m", "unpriced-model", "--max-cost", "1")
    assert result.exit_code == 2
    assert "price" in result.output and server.requests == []


# --- rate limits -------------------------------------------------------------------------------


def test_rpm_paces_the_requests(server: OpenAIServer, tmp_path: Path) -> None:
    folder = write_reports(tmp_path / "reports", 10)
    started = time.monotonic()
    result = run(
        "extract", str(folder), "-o", str(tmp_path / "o.jsonl"), "-p", "minimal",
        "-j", "10", "--rpm", "300", "--no-cache",
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    # 300/min is 5 per second with a bucket of 5: the other 5 go 0.2 s apart.
    assert elapsed >= 0.95
    assert len(server.chat_requests()) == 10


# --- request log -------------------------------------------------------------------------------


def test_log_then_logs_shows_what_was_sent_and_what_came_back(
    server: OpenAIServer, tmp_path: Path
) -> None:
    folder = write_reports(tmp_path / "reports", 2)
    plan = FaultPlan(faults={1: ["500"]})
    server.default = plan.action()
    done = run("extract", str(folder), "-o", str(tmp_path / "o.jsonl"), "-p", "minimal", "--log")
    assert done.exit_code == 0, done.output
    shown = run("logs", "r0001")
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("gpt-4o-mini") == 2  # the 500, then the answer
    assert "http_error HTTP 500" in shown.output
    assert "> user:" in shown.output and "تقرير تجريبي رقم 1" in shown.output
    assert "< [finish_reason=stop]" in shown.output and "قافلة من 11 شاحنة" in shown.output
    as_json = run("logs", "r0000", "--json")
    assert as_json.exit_code == 0 and '"request_key"' in as_json.output
    missing = run("logs", "nope")
    assert missing.exit_code == 2 and "r0000" in missing.output
    for path in environment().cache_db_path.parent.iterdir():
        assert SECRET.encode() not in path.read_bytes()


def test_no_log_by_default(server: OpenAIServer, tmp_path: Path) -> None:
    folder = write_reports(tmp_path / "reports", 1)
    assert (
        run("extract", str(folder), "-o", str(tmp_path / "o.jsonl"), "-p", "minimal").exit_code == 0
    )
    assert run("logs", "r0000").exit_code == 2


# --- long reports ------------------------------------------------------------------------------

_CONVOY = re.compile(r"قافلة رقم (\d+) من (\d+) شاحنة")


def test_long_report_is_chunked_and_merged_with_whole_report_offsets(
    server: OpenAIServer, tmp_path: Path
) -> None:
    paragraphs = [f"دخلت قافلة رقم {i} من {20 + i} شاحنة إلى قاعدة في الحسكة." for i in range(8)]
    text = "تقرير طويل عن الشهر 118 للتحالف.\n" + "\n".join(paragraphs) + "\n"
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "long.txt").write_text(text, encoding="utf-8")

    def per_chunk(request: RecordedRequest) -> Reply:
        chunk = request.user_messages()[-1]
        convoys = [
            {"mode": "ground", "vehicles": int(m.group(2)), "evidence": m.group(0)}
            for m in _CONVOY.finditer(chunk)
        ]
        return Reply({"coalition_month": 118 if "118" in chunk else None, "convoys": convoys})

    server.default = Dynamic(per_chunk)
    out = tmp_path / "out.jsonl"
    result = run(
        "extract", str(folder), "-o", str(out), "-p", "minimal",
        "--chunk-chars", "200", "--chunk-overlap", "80",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(server.chat_requests()) > 2
    (line,) = results(out)
    assert line.extraction is not None
    convoys = line.extraction.convoys
    assert [c.vehicles for c in convoys] == [20 + i for i in range(8)]  # no overlap duplicates
    assert line.extraction.coalition_month == 118
    for convoy in convoys:
        assert convoy.evidence_start is not None and convoy.evidence_end is not None
        quoted = text[convoy.evidence_start : convoy.evidence_end]
        assert normalize(quoted) == normalize(convoy.evidence)
    assert line.usage.attempts == len(server.chat_requests())
