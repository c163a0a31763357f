"""``extract``, ``--dry-run`` and ``eval`` with ``anthropic/`` and ``google/`` models against
the loopback Anthropic and Gemini servers, beside the OpenAI-protocol one: the same
commands, the same JSONL contract, the provider named in every result line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from anthropic_server import AnthropicServer
from eval_samples import REPORTS, answer, write_gold_set
from gemini_server import GeminiServer
from openai_server import Dynamic, OpenAIServer, RecordedRequest, Reply, Status
from report_samples import answers_by_month, write_samples
from typer.testing import CliRunner, Result

from llm_extract.cli import app
from llm_extract.evaluation.runs import load_run
from llm_extract.results import ExtractionResult

ANTHROPIC_KEY = "sk-ant-test-CANARY-41b7e2"
GEMINI_KEY = "AIza-test-CANARY-93c1d8"
CLAUDE = "anthropic/claude-haiku-4-5"
GEMINI = "google/gemini-2.5-flash"


@pytest.fixture
def anthropic_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicServer]:
    with AnthropicServer() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
        yield server


@pytest.fixture
def gemini_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiServer]:
    with GeminiServer() as server:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.base_url)
        monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
        yield server


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def lines(path: Path) -> list[ExtractionResult]:
    text = path.read_text(encoding="utf-8")
    return [ExtractionResult.model_validate_json(line) for line in text.splitlines()]


@pytest.mark.parametrize("model", [CLAUDE, GEMINI])
def test_extract_writes_the_same_jsonl_for_each_provider(
    model: str,
    anthropic_server: AnthropicServer,
    gemini_server: GeminiServer,
    tmp_path: Path,
) -> None:
    server: OpenAIServer = anthropic_server if model == CLAUDE else gemini_server
    server.answer_by_text(answers_by_month())
    folder = write_samples(tmp_path / "reports")
    out = tmp_path / "out.jsonl"
    result = invoke("extract", str(folder), "-o", str(out), "--model", model)
    assert result.exit_code == 0, result.output
    results = lines(out)
    assert sorted(r.report_id for r in results) == ["r120", "r121", "r122"]
    assert all(r.status == "ok" and r.model == model and r.mode == "tools" for r in results)
    assert all(r.request_key and r.usage.attempts == 1 for r in results)
    assert all(r.usage.cost_usd is not None and r.usage.cost_usd > 0 for r in results)
    by_id = {r.report_id: r for r in results}
    extraction = by_id["r121"].extraction
    assert extraction is not None and extraction.convoys[0].batches == 3
    sent = len(server.requests)
    assert sent == 3
    # again: every answer from the cache, no request
    again = tmp_path / "again.jsonl"
    second = invoke("extract", str(folder), "-o", str(again), "--model", model)
    assert second.exit_code == 0, second.output
    assert all(r.cached for r in lines(again)) and len(server.requests) == sent
    for path in (out, again):
        text = path.read_text(encoding="utf-8")
        assert ANTHROPIC_KEY not in text and GEMINI_KEY not in text


def test_a_provider_failure_is_a_failed_line_and_exit_1(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    anthropic_server.default = Status(401)
    folder = write_samples(tmp_path / "reports")
    out = tmp_path / "out.jsonl"
    result = invoke("extract", str(folder), "-o", str(out), "--model", CLAUDE, "--no-cache")
    assert result.exit_code == 1
    results = lines(out)
    assert all(r.status == "failed" and r.error is not None for r in results)
    assert {r.error.kind for r in results if r.error} == {"http_401"}
    assert ANTHROPIC_KEY not in out.read_text(encoding="utf-8") + result.output


def test_a_missing_key_names_the_providers_variable(tmp_path: Path) -> None:
    folder = write_samples(tmp_path / "reports")
    for model, variable in ((CLAUDE, "ANTHROPIC_API_KEY"), (GEMINI, "GEMINI_API_KEY")):
        result = invoke("extract", str(folder), "--model", model)
        assert result.exit_code == 2
        assert variable in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("model", [CLAUDE, GEMINI])
def test_dry_run_renders_the_providers_request_and_sends_nothing(
    model: str,
    anthropic_server: AnthropicServer,
    gemini_server: GeminiServer,
    tmp_path: Path,
) -> None:
    folder = write_samples(tmp_path / "reports")
    result = invoke("extract", str(folder), "--model", model, "--dry-run")
    assert result.exit_code == 0, result.output
    assert anthropic_server.requests == [] and gemini_server.requests == []
    assert "3 request(s)" in result.stdout and "estimated cost" in result.stdout
    assert "failed" not in result.output  # instructor's own log stays out of the terminal


def test_eval_grid_mixes_three_protocols(
    openai_server: OpenAIServer,
    anthropic_server: AnthropicServer,
    gemini_server: GeminiServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    gold, reports = write_gold_set(tmp_path / "set")

    def pick(request: RecordedRequest) -> Reply | Status:
        text = json.dumps(request.body, ensure_ascii=False)
        for report_id, report in REPORTS.items():
            if report in text:
                return Reply(answer(report_id))
        return Status(404)

    for server in (openai_server, anthropic_server, gemini_server):
        server.default = Dynamic(pick)
    runs = tmp_path / "runs"
    result = invoke(
        "eval",
        "--model", "gpt-4o-mini", "--model", CLAUDE, "--model", GEMINI,
        "--gold", str(gold), "--reports", str(reports), "--runs-dir", str(runs), "--no-html",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(openai_server.chat_requests()) == 3
    assert len(anthropic_server.message_requests()) == 3
    assert len(gemini_server.generate_requests()) == 3
    run = load_run("latest", runs)
    assert [c.model for c in run.configurations] == ["gpt-4o-mini", CLAUDE, GEMINI]
    assert all(c.summary.micro["overall"].f1 == 1.0 for c in run.configurations)


def test_the_request_log_holds_every_attempt_of_every_provider(
    anthropic_server: AnthropicServer, gemini_server: GeminiServer, tmp_path: Path
) -> None:
    from report_samples import answer as sample_answer

    folder = write_samples(tmp_path / "reports")
    bad = sample_answer("r121")
    bad["convoys"][0]["evidence"] = "not in the report at all"
    for server in (anthropic_server, gemini_server):
        server.enqueue(Status(429, headers={"retry-after-ms": "1", "retry-after": "0"}))
        server.enqueue(Reply(bad))
        server.answer_by_text(answers_by_month())
    for model in (CLAUDE, GEMINI):
        out = tmp_path / f"{model.replace('/', '_')}.jsonl"
        result = invoke(
            "extract", str(folder / "r121.txt"), "-o", str(out), "--model", model, "--log"
        )
        assert result.exit_code == 0, result.output
        (line,) = lines(out)
        assert line.usage.attempts == 2 and line.usage.reasks == 1
    logged = invoke("logs", "r121", "--json")
    assert logged.exit_code == 0, logged.output
    entries = [json.loads(line) for line in logged.stdout.splitlines() if line.strip()]
    # each provider: the 429, the answer re-asked, the corrected answer
    assert [e["http_status"] for e in entries] == [429, 200, 200] * 2
    urls = [e["url"] for e in entries]
    assert all(u.endswith("/v1/messages") for u in urls[:3])
    assert all(u.endswith(":generateContent") for u in urls[3:])
    assert all(e["prompt_tokens"] for e in entries if e["http_status"] == 200)
    for text in (logged.stdout, *(p.read_text() for p in tmp_path.glob("*.jsonl"))):
        assert ANTHROPIC_KEY not in text and GEMINI_KEY not in text


def test_anthropic_message_batches_prepare_submit_status_download_collect(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    folder = write_samples(tmp_path / "reports")
    requests = tmp_path / "requests.jsonl"
    prepared = invoke("batch", "prepare", str(folder), "-o", str(requests), "--model", CLAUDE)
    assert prepared.exit_code == 0, prepared.output
    lines_sent = [json.loads(t) for t in requests.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["custom_id"] for line in lines_sent) == ["r120", "r121", "r122"]
    params = lines_sent[0]["params"]
    assert params["model"] == "claude-haiku-4-5" and params["tools"]  # the online body
    assert params["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert anthropic_server.requests == []  # prepare sends nothing

    # the batch answers each request with its report's answer; r122 is not grounded
    answers = answers_by_month()
    bad_key = next(k for k in answers if "122" in k)
    answers[bad_key] = {**answers[bad_key], "coalition_month": 999}
    anthropic_server.answer_by_text(answers)
    submitted = invoke("batch", "submit", str(requests))
    assert submitted.exit_code == 0, submitted.output
    batch_id = submitted.stdout.strip()
    assert batch_id.startswith("msgbatch_") and batch_id in anthropic_server.batches
    assert anthropic_server.batches[batch_id]["requests"] == lines_sent  # sent as prepared

    status = invoke("batch", "status", batch_id)
    assert status.exit_code == 0 and "ended 3 succeeded, 0 errored" in status.output

    results_file = tmp_path / "results.jsonl"
    downloaded = invoke("batch", "download", batch_id, "-o", str(results_file))
    assert downloaded.exit_code == 0, downloaded.output
    out = tmp_path / "out.jsonl"
    collected = invoke(
        "batch", "collect", str(results_file), "-m", str(requests), "-o", str(out), "--no-cache"
    )
    results = {r.report_id: r for r in lines(out)}
    assert collected.exit_code == 1  # r122's answer does not validate
    assert {k: r.status for k, r in results.items()} == {
        "r120": "ok",
        "r121": "ok",
        "r122": "failed",
    }
    assert all(r.model == CLAUDE for r in results.values())
    ok = results["r121"]
    assert ok.extraction is not None and ok.extraction.convoys[0].batches == 3
    assert ok.usage.cost_usd is not None and ok.usage.cost_usd > 0  # at batch prices
    assert ANTHROPIC_KEY not in requests.read_text() + results_file.read_text() + out.read_text()


def test_a_mode_the_provider_does_not_take_is_a_usage_error(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    folder = write_samples(tmp_path / "reports")
    result = invoke("extract", str(folder), "--model", CLAUDE, "--mode", "json_schema")
    assert result.exit_code == 2
    assert "--mode tools" in result.stderr and result.stderr.count("\n") == 1
    assert anthropic_server.requests == []


def test_gemini_batch_prepare_submit_status_download_collect(
    gemini_server: GeminiServer, tmp_path: Path
) -> None:
    folder = write_samples(tmp_path / "reports")
    requests = tmp_path / "requests.jsonl"
    prepared = invoke("batch", "prepare", str(folder), "-o", str(requests), "--model", GEMINI)
    assert prepared.exit_code == 0, prepared.output
    lines_sent = [json.loads(t) for t in requests.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["key"] for line in lines_sent) == ["r120", "r121", "r122"]
    assert lines_sent[0]["request"]["tools"] and lines_sent[0]["request"]["contents"]
    assert gemini_server.requests == []

    answers = answers_by_month()
    bad_key = next(k for k in answers if "122" in k)
    answers[bad_key] = {**answers[bad_key], "coalition_month": 999}
    gemini_server.answer_by_text(answers)
    submitted = invoke("batch", "submit", str(requests))
    assert submitted.exit_code == 0, submitted.output
    batch_id = submitted.stdout.strip()
    assert batch_id in gemini_server.batches
    sent = gemini_server.batch_requests[batch_id]
    assert [item["metadata"] for item in sent] == [{"key": line["key"]} for line in lines_sent]
    for item, line in zip(sent, lines_sent, strict=True):  # the prepared bodies, as sent
        assert item["request"]["contents"] == line["request"]["contents"]
        assert item["request"]["tools"] == line["request"]["tools"]

    status = invoke("batch", "status", batch_id)
    assert status.exit_code == 0 and "JOB_STATE_SUCCEEDED" in status.output

    results_file = tmp_path / "results.jsonl"
    downloaded = invoke("batch", "download", batch_id, "-o", str(results_file))
    assert downloaded.exit_code == 0, downloaded.output
    out = tmp_path / "out.jsonl"
    collected = invoke(
        "batch", "collect", str(results_file), "-m", str(requests), "-o", str(out), "--no-cache"
    )
    results = {r.report_id: r for r in lines(out)}
    assert collected.exit_code == 1  # r122's answer does not validate
    assert {k: r.status for k, r in results.items()} == {
        "r120": "ok",
        "r121": "ok",
        "r122": "failed",
    }
    assert all(r.model == GEMINI for r in results.values())
    ok = results["r121"]
    assert ok.extraction is not None and ok.extraction.convoys[0].batches == 3
    assert GEMINI_KEY not in requests.read_text() + results_file.read_text() + out.read_text()
