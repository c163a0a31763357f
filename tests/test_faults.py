"""Every fault a real API produces, against the loopback server, through the real pipeline
and OpenAI backend: transient faults are retried until every report is extracted; a report
that keeps failing is recorded with its reason and does not stop the others."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from fault_server import PERMANENT, TRANSIENT, FaultPlan, answer, make_reports
from openai_server import OpenAIServer, Reply
from typer.testing import CliRunner

from llm_extract.backends import openai_compat
from llm_extract.backends.openai_compat import RetryPolicy
from llm_extract.cli import app
from llm_extract.prompts import load_prompt
from llm_extract.report import Report
from llm_extract.results import ExtractionResult
from llm_extract.run.runner import Runner
from llm_extract.settings import load_settings


@pytest.fixture(autouse=True)
def _tiny_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        openai_compat,
        "DEFAULT_RETRY_POLICY",
        RetryPolicy(base_s=0.005, cap_s=0.02, retry_after_cap_s=0.05),
    )


def run_reports(
    reports: list[Report], *, server: OpenAIServer, concurrency: int = 16, **overrides: object
) -> list[ExtractionResult]:
    """``reports`` through the :class:`Runner`, against the loopback server, no cache."""
    values: dict[str, object] = {
        "model": "gpt-4o-mini",
        "base_url": server.base_url,
        "api_key": "sk-test-faults-000000",
        "timeout": 3.0,  # generous: a busy machine must not turn answers into timeouts
        "max_retries": 4,
        "max_reasks": 1,
        "max_tokens": 400,
        "concurrency": concurrency,
        "cache": False,
    }
    values.update(overrides)
    runner = Runner(load_settings(values), load_prompt("minimal"))
    outcome = runner.run_sync(runner.prepare(reports), keep_results=True)
    assert outcome.results is not None
    return outcome.results


def run(
    server: OpenAIServer, count: int, plan: FaultPlan, concurrency: int = 16, **overrides: object
) -> list[ExtractionResult]:
    server.default = plan.action()
    return run_reports(make_reports(count), server=server, concurrency=concurrency, **overrides)


def per_report(server: OpenAIServer) -> Counter[str]:
    from fault_server import report_number

    return Counter(f"r{report_number(r):04d}" for r in server.chat_requests())


#: the reason a result's ``usage.retries`` gives for each transient fault
REASON = {"429": "429", "500": "500", "502": "502", "503": "503", "slow": "timeout"}
REASON["drop"] = "connection"


@pytest.mark.parametrize("fault", sorted(TRANSIENT))
def test_each_transient_fault_is_retried(openai_server: OpenAIServer, fault: str) -> None:
    plan = FaultPlan(faults={0: [fault, fault]})
    (result,) = run(openai_server, 1, plan)
    assert result.status == "ok", result.error
    assert result.extraction is not None
    assert result.extraction.convoys[0].vehicles == 10
    assert plan.injected[fault] == 2
    assert len(openai_server.chat_requests()) == 3
    assert (result.usage.attempts, result.usage.retries) == (3, {REASON[fault]: 2})


def test_200_reports_with_20_percent_transient_faults_all_finish(
    openai_server: OpenAIServer,
) -> None:
    kinds = sorted(TRANSIENT)
    faults: dict[int, list[str]] = {}
    for n in range(200):
        if n % 5 == 0:  # one report in five meets one to three faults in a row
            faults[n] = [kinds[(n // 5 + k) % len(kinds)] for k in range(1 + (n // 5) % 3)]
    plan = FaultPlan(faults=faults)
    # Room for a retry the server never sees (a pooled connection it closed while another
    # report's fault dropped one): every planned fault is still met, once.
    results = run(openai_server, 200, plan, concurrency=32, max_retries=8)
    assert [r.status for r in results].count("ok") == 200, [
        r.error for r in results if r.status != "ok"
    ][:3]
    assert len(faults) == 40
    assert sum(plan.injected.values()) == sum(len(f) for f in faults.values())
    assert set(plan.injected) == set(kinds)
    for n, result in enumerate(results):
        assert result.report_id == f"r{n:04d}"
        assert result.extraction is not None
        assert result.extraction.convoys[0].vehicles == n + 10
    # Each report was sent once more per fault it met, never more.
    counts = per_report(openai_server)
    assert all(counts[f"r{n:04d}"] == 1 + len(faults.get(n, [])) for n in range(200))
    # Every retry is in the results' usage, with its reason; the only ones beyond the plan
    # are the unseen retries of dropped pooled connections.
    retried: Counter[str] = Counter()
    for result in results:
        retried.update(result.usage.retries)
        assert result.usage.attempts == 1 + result.usage.retried
    expected = Counter({REASON[kind]: count for kind, count in plan.injected.items()})
    assert not expected - retried
    assert set((retried - expected).keys()) <= {"connection"}


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("truncated", "truncated"),
        ("bad_schema", "invalid_output"),
        ("not_json", "invalid_output"),
        ("down", "unavailable"),
    ],
)
def test_a_report_that_always_fails_is_recorded_and_the_others_finish(
    openai_server: OpenAIServer, fault: str, kind: str
) -> None:
    assert fault in PERMANENT
    plan = FaultPlan(always={3: fault})
    results = run(openai_server, 8, plan, concurrency=4)
    failed = [r for r in results if r.status == "failed"]
    assert [r.report_id for r in failed] == ["r0003"]
    assert failed[0].error is not None and failed[0].error.kind == kind
    assert failed[0].error.message
    assert failed[0].extraction is None
    assert all(r.extraction is not None for r in results if r.report_id != "r0003")
    if fault == "down":  # every transport retry was used, then the report gave up
        assert per_report(openai_server)["r0003"] == 5
        assert "gave up" in failed[0].error.message


def test_a_server_that_stays_down_fails_every_report_with_its_reason(
    openai_server: OpenAIServer,
) -> None:
    plan = FaultPlan(always={n: "down" for n in range(5)})
    results = run(openai_server, 5, plan, max_retries=2)
    assert [r.status for r in results] == ["failed"] * 5
    assert all(r.error is not None and r.error.kind == "unavailable" for r in results)
    assert sum(per_report(openai_server).values()) == 15  # 1 + 2 retries each


def test_reasks_stop_early_when_the_same_validation_error_repeats(
    openai_server: OpenAIServer,
) -> None:
    # The same ungrounded answer every time: one re-ask shows it repeats, then stop.
    openai_server.default = Reply(
        {"convoys": [{"mode": "ground", "evidence": "عبارة لا ترد في التقرير"}]}
    )
    (result,) = run_reports(make_reports(1), server=openai_server, max_reasks=4)
    assert len(openai_server.chat_requests()) == 2
    assert result.usage.attempts == 2
    assert result.status == "ok"  # salvaged: the valid part kept, the bad record dropped
    assert result.extraction is not None and result.extraction.convoys == []
    assert len(result.dropped) == 1


def test_reasks_go_on_while_the_errors_change(openai_server: OpenAIServer) -> None:
    quotes = ["عبارة أولى غير موجودة", "عبارة ثانية غير موجودة", "عبارة ثالثة غير موجودة"]
    openai_server.enqueue(
        *(Reply({"convoys": [{"mode": "ground", "evidence": q}]}) for q in quotes),
        Reply(answer(0)),
    )
    (result,) = run_reports(make_reports(1), server=openai_server, max_reasks=4)
    assert len(openai_server.chat_requests()) == 4
    assert result.status == "ok" and result.usage.reasks == 3
    assert result.extraction is not None and result.extraction.convoys[0].vehicles == 10


def test_extract_counts_and_shows_every_retry(
    openai_server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every report gets 429, then 500, then its answer: three attempts each, and the summary
    # line says what was retried and why (before: usage.attempts 1, and not a word).
    folder = tmp_path / "reports"
    folder.mkdir()
    for report in make_reports(3):
        (folder / report.path).write_text(report.text, encoding="utf-8")
    plan = FaultPlan(faults={n: ["429", "500"] for n in range(3)})
    openai_server.default = plan.action()
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-faults-000000")
    out = tmp_path / "out.jsonl"
    argv = ["extract", str(folder), "-o", str(out), "--model", "gpt-4o-mini", "--no-cache"]
    result = CliRunner().invoke(app, [*argv, "--prompt", "minimal"])
    assert result.exit_code == 0, result.output
    lines = [ExtractionResult.model_validate_json(x) for x in out.read_text("utf-8").splitlines()]
    assert len(lines) == 3
    for line in lines:
        assert line.status == "ok"
        assert (line.usage.attempts, line.usage.retries) == (3, {"429": 1, "500": 1})
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("3 ok, 0 failed; 6 retried: 3 x 429, 3 x 500; "), summary
