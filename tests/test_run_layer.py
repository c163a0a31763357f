"""Every command that runs a model goes through the one run layer (``Runner``): extract, eval
(each configuration of the grid), batch prepare and --dry-run. So eval has what extract has:
chunking of long reports, --rpm/--tpm, a budget and the request log."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eval_samples import GOLD, REPORTS, answer, write_gold_set
from openai_server import Dynamic, OpenAIServer, RecordedRequest, Reply, Status
from typer.testing import CliRunner, Result

from llm_extract.cli import app
from llm_extract.evaluation.runs import load_run
from llm_extract.run import runner as runner_module
from llm_extract.run.logstore import RequestLog
from llm_extract.settings import environment

SECRET = "sk-test-RUNLAYER-77aa0c"


@pytest.fixture
def runners(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Every Runner made while a command runs: its model, prompt and settings."""
    made: list[dict[str, Any]] = []
    original = runner_module.Runner.__init__

    def spy(self: runner_module.Runner, settings: Any, prompt: Any, **kwargs: Any) -> None:
        made.append({"model": settings.model, "prompt": prompt.name, "settings": settings})
        original(self, settings, prompt, **kwargs)

    monkeypatch.setattr(runner_module.Runner, "__init__", spy)
    yield made


@pytest.fixture
def gold(tmp_path: Path) -> list[str]:
    gold_dir, reports_dir = write_gold_set(tmp_path / "set")
    return ["--gold", str(gold_dir), "--reports", str(reports_dir), "--runs-dir", str(tmp_path)]


@pytest.fixture
def server(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> OpenAIServer:
    """Answers each gold report with its gold extraction (each chunk with what it holds)."""
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    def pick(request: RecordedRequest) -> Reply | Status:
        last = request.user_messages()[-1]
        for report_id, text in REPORTS.items():
            if text in last:
                return Reply(answer(report_id))
        return Reply({"coalition_month": 118})  # a chunk: nothing of its own to report

    openai_server.default = Dynamic(pick)
    return openai_server


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_extract_goes_through_the_runner(
    runners: list[dict[str, Any]], server: OpenAIServer, tmp_path: Path
) -> None:
    report = tmp_path / "t1.txt"
    report.write_text(REPORTS["t1"], encoding="utf-8")
    done = invoke("extract", str(report), "-o", str(tmp_path / "o.jsonl"), "-p", "minimal")
    assert done.exit_code == 0, done.output
    assert [(r["model"], r["prompt"]) for r in runners] == [("gpt-4o-mini", "minimal")]


def test_dry_run_and_batch_prepare_go_through_the_runner(
    runners: list[dict[str, Any]], server: OpenAIServer, tmp_path: Path
) -> None:
    report = tmp_path / "t1.txt"
    report.write_text(REPORTS["t1"] * 3, encoding="utf-8")
    dry = invoke("extract", str(report), "--dry-run", "--chunk-chars", "300")
    assert dry.exit_code == 0, dry.output
    assert "t1#0" in dry.stdout and "t1#1" in dry.stdout  # the chunking layer's chunks
    prepared = invoke("batch", "prepare", str(report), "-o", str(tmp_path / "req.jsonl"))
    assert prepared.exit_code == 0, prepared.output
    assert [r["model"] for r in runners] == ["gpt-4o-mini", "gpt-4o-mini"]
    assert server.chat_requests() == []  # neither sent anything


def test_each_eval_configuration_goes_through_the_runner(
    runners: list[dict[str, Any]], server: OpenAIServer, gold: list[str]
) -> None:
    done = invoke(
        "eval", "-p", "minimal", "-p", "guided", "-m", "gpt-4o-mini", "-m", "rules", *gold
    )
    assert done.exit_code in (0, 1), done.output
    cells = [(r["model"], r["prompt"]) for r in runners]
    assert ("gpt-4o-mini", "minimal") in cells and ("gpt-4o-mini", "guided") in cells
    assert [m for m, _ in cells].count("rules") >= 1


def test_eval_logs_every_request(server: OpenAIServer, gold: list[str]) -> None:
    done = invoke("eval", "-p", "minimal", "--log", "--no-html", *gold)
    assert done.exit_code == 0, done.output
    with RequestLog(environment().cache_db_path) as log:
        for report_id in REPORTS:
            (row,) = log.for_report(report_id)
            assert row.status == "ok" and row.request_key and row.model == "gpt-4o-mini"
            assert SECRET not in (row.request or "") + (row.response or "")


def test_eval_chunks_long_reports(server: OpenAIServer, gold: list[str]) -> None:
    # A longer report of two paragraphs, t1 then t2: its gold holds the records of both.
    gold_dir, reports_dir = Path(gold[1]), Path(gold[3])
    (reports_dir / "long.txt").write_text(REPORTS["t1"] + "\n" + REPORTS["t2"], encoding="utf-8")
    both = {**GOLD["t1"], **{k: v for k, v in GOLD["t2"].items() if k != "coalition_month"}}
    (gold_dir / "long.json").write_text(json.dumps(both, ensure_ascii=False), encoding="utf-8")
    done = invoke("eval", "-p", "minimal", "--chunk-chars", "250", "--no-html", *gold)
    assert done.exit_code == 0, done.output
    # "long" went out as two chunks (one request each), the others whole.
    assert len(server.chat_requests()) == len(REPORTS) + 2
    run = load_run("latest", gold[gold.index("--runs-dir") + 1])
    (configuration,) = run.configurations
    assert configuration.score("long") is not None
    assert configuration.summary.micro["overall"].f1 == 1.0  # the chunks' records merged


def test_eval_paces_requests_with_rpm(server: OpenAIServer, gold: list[str]) -> None:
    started = time.perf_counter()
    done = invoke("eval", "-p", "minimal", "--rpm", "120", "--no-cache", "--no-html", *gold)
    assert done.exit_code == 0, done.output
    # 120 a minute is 2 a second with a bucket of 2: the third request waits about 0.5 s.
    assert time.perf_counter() - started >= 0.45
    assert len(server.chat_requests()) == 3


def test_eval_budget_stops_the_grid_and_says_so(server: OpenAIServer, gold: list[str]) -> None:
    done = invoke("eval", "-p", "minimal", "--max-tokens-total", "10", "--no-html", *gold)
    assert done.exit_code == 1, done.output
    assert "--max-tokens-total 10 reached" in done.stderr and "not sent" in done.stderr
    assert server.chat_requests() == []
