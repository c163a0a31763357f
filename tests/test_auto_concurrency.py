"""`--concurrency auto` through the real Runner, backend and HTTP stack, against the loopback
server's slots and rate-limit modes. Assertions are on the controller's state and the
server's counts, never on wall time."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from fault_server import answer, make_reports
from openai_server import OpenAIServer, Reply
from rate_limits import ServerLimits

from llm_extract.backends import openai_compat
from llm_extract.backends.openai_compat import RetryPolicy
from llm_extract.prompts import load_prompt
from llm_extract.run.runner import Outcome, Runner
from llm_extract.settings import Settings


@pytest.fixture(autouse=True)
def _tiny_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        openai_compat,
        "DEFAULT_RETRY_POLICY",
        RetryPolicy(base_s=0.005, cap_s=0.02, retry_after_cap_s=2.0),
    )


def run(server: OpenAIServer, tmp_path: Path, count: int, **options: object) -> Outcome:
    server.default = Reply(answer(0))
    settings = Settings(
        model="gpt-4o-mini",
        base_url=server.base_url,
        api_key="sk-test-auto-000000",
        cache_dir=tmp_path / "cache",
        cache=False,
        max_tokens=400,
        max_reasks=0,
        timeout=30.0,
        max_retries=6,
        **options,  # type: ignore[arg-type]  # typed loosely on purpose
    )
    runner = Runner(settings, load_prompt("minimal"))
    return runner.run_sync(runner.prepare(make_reports(count)))


@pytest.mark.parametrize("slots", [2, 4])
def test_auto_settles_near_the_server_s_slots(
    openai_server: OpenAIServer, tmp_path: Path, slots: int
) -> None:
    openai_server.slots = slots
    # long enough that the client's and this in-process server's own work per request (tens
    # of milliseconds on a busy machine, shared with the client's interpreter) stays small
    openai_server.slot_latency = 0.5
    outcome = run(openai_server, tmp_path, 20 * slots)
    assert outcome.tally.ok == 20 * slots
    assert outcome.auto is not None
    window = outcome.auto.window
    last = window.history[-8:]
    assert len(window.history) >= 8
    # the window it holds most of the time at the end is near N, never far past it: this
    # server runs in the client's own interpreter, and its work per request and the
    # client's own make N + 1 serve about as many answers a second as N (the exact N to
    # N + 1 is held on a simulated server, in test_adaptive.py)
    assert slots - 1 <= Counter(last).most_common(1)[0][0] <= slots + 2, window.history
    assert window.decreases >= 1  # it found the slots: latency grew past them
    assert outcome.concurrency is not None and outcome.concurrency.startswith("auto: window")


def test_auto_paces_by_the_rate_limit_headers_without_a_storm_of_429s(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    limits = ServerLimits(rpm=1200, tpm=None)  # 20 a second, a bucket of 20
    openai_server.limits = limits
    outcome = run(openai_server, tmp_path, 120)
    assert outcome.tally.ok == 120 and outcome.tally.failed == 0
    assert outcome.auto is not None
    assert outcome.auto.pacer.limits == {"requests": 1200}
    # the server alone could answer every request at once: only the limit holds it back
    assert limits.refused <= 3, (limits.refused, limits.admitted)  # 2.5 %, before the first headers
    assert "paced to 1,200 requests/min" in (outcome.concurrency or "")


def test_a_fixed_concurrency_still_works_and_has_no_controller(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    outcome = run(openai_server, tmp_path, 6, concurrency=3)
    assert outcome.tally.ok == 6
    assert outcome.auto is None and outcome.concurrency is None


def test_auto_under_rpm_and_the_request_log_paces_through_the_httpx_stack(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    openai_server.limits = ServerLimits(rpm=1200, tpm=None)
    outcome = run(openai_server, tmp_path, 30, rpm=6000, log=True)
    assert outcome.tally.ok == 30
    assert outcome.auto is not None and outcome.auto.pacer.limits == {"requests": 1200}
