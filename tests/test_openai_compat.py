"""The OpenAI-compatible backend against the loopback server: modes, re-asks, salvage,
transport retries, typed errors, usage, and the key kept out of error text."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from backend_samples import (
    BAD,
    CONVOY,
    FAST,
    GOOD,
    INVENTED,
    KEY,
    MESSAGES,
    MIXED,
    SOURCE,
    assert_good,
    extract,
    extract_once,
    fail,
    request,
    run,
    settings,
)
from openai_server import Delay, Drop, OpenAIServer, Reply, Status, Truncated

from llm_extract.backends import capabilities, get_backend
from llm_extract.backends.base import BackendResponse, ModelSettings
from llm_extract.backends.openai_compat import NO_KEY, OpenAIBackend
from llm_extract.errors import ProviderError, UsageError
from llm_extract.pricing import load_price_table
from llm_extract.run import stack
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import load_settings

# --- the three modes -------------------------------------------------------------------------


def test_tools_mode_sends_a_forced_function_and_the_messages_as_they_are(
    openai_server: OpenAIServer,
) -> None:
    openai_server.enqueue(Reply(GOOD, usage={"prompt_tokens": 500, "completion_tokens": 80}))
    response = extract(openai_server, mode="tools", temperature=0.2)
    assert_good(response)
    (sent,) = openai_server.requests
    body = sent.body
    assert body["messages"] == request(settings(openai_server)).messages
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.2 and body["max_tokens"] == 2048
    (tool,) = body["tools"]
    assert tool["type"] == "function" and tool["function"]["name"] == "ReportExtraction"
    strict_schema = ReportExtraction.model_json_schema()
    assert tool["function"]["parameters"]["properties"] == strict_schema["properties"]
    assert tool["function"]["parameters"]["$defs"] == strict_schema["$defs"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "ReportExtraction"}}
    assert "response_format" not in body
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert json.loads(response.raw or "") == GOOD
    usage = response.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (500, 80, 580)
    assert (usage.attempts, usage.reasks, usage.reask_tokens) == (1, 0, 0)


def test_json_schema_mode_sends_our_strict_schema(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Reply(GOOD))
    assert_good(extract(openai_server, mode="json_schema"))
    body = openai_server.requests[0].body
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "ReportExtraction",
            "schema": ReportExtraction.model_json_schema(),
            "strict": True,
        },
    }
    assert "tools" not in body and "tool_choice" not in body
    assert body["messages"] == request(settings(openai_server)).messages


def test_md_json_mode_puts_the_schema_in_the_messages(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Reply(GOOD))
    response = extract(openai_server, mode="md_json")
    assert_good(response)
    body = openai_server.requests[0].body
    assert "tools" not in body and "response_format" not in body
    system = body["messages"][0]["content"]
    assert system.startswith(MESSAGES[0]["content"])
    schema = json.dumps(ReportExtraction.model_json_schema(), indent=2, ensure_ascii=False)
    assert schema in system
    last = body["messages"][-1]
    assert last["role"] == "user" and last["content"].startswith(f"Report:\n{SOURCE}")
    assert "```json" in last["content"]
    assert "```json" in (response.raw or "")


def test_unknown_mode_is_a_usage_error(openai_server: OpenAIServer) -> None:
    with pytest.raises(UsageError, match="unknown mode"):
        OpenAIBackend(settings(openai_server, mode="xml"))


# --- grounding, re-asks and salvage ------------------------------------------------------------


@pytest.mark.parametrize("mode", ["tools", "json_schema", "md_json"])
def test_ungrounded_evidence_is_sent_back_and_fixed(openai_server: OpenAIServer, mode: str) -> None:
    openai_server.enqueue(
        Reply(BAD, usage={"prompt_tokens": 400, "completion_tokens": 100, "cached_tokens": 0}),
        Reply(GOOD, usage={"prompt_tokens": 700, "completion_tokens": 90, "cached_tokens": 300}),
    )
    response = extract(openai_server, mode=mode)
    assert_good(response)
    first, second = openai_server.requests
    assert "does not occur in the report" not in first.all_text()
    assert "does not occur in the report" in second.all_text()
    assert "غارات جوية على مواقع في البادية" in second.all_text()
    usage = response.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1100, 190, 1290)
    assert usage.cached_prompt_tokens == 300
    assert (usage.attempts, usage.reasks, usage.reask_tokens) == (2, 1, 790)
    assert usage.cost_usd == pytest.approx(load_price_table().cost("gpt-4o-mini", usage))
    assert usage.cost_usd is not None and usage.cost_usd > 0


@pytest.mark.parametrize("mode", ["tools", "md_json"])
def test_salvage_drops_the_ungrounded_record_and_keeps_the_rest(
    openai_server: OpenAIServer, mode: str
) -> None:
    openai_server.default = Reply(MIXED)
    response = extract(openai_server, max_reasks=2, mode=mode)
    # The same answer twice is the same validation error twice: re-asks stop early.
    assert len(openai_server.requests) == 2
    extraction = response.extraction
    assert extraction.report_id == "m121" and extraction.coalition_month == 121
    assert len(extraction.convoys) == 1 and extraction.convoys[0].evidence_start is not None
    assert [s.kind.value for s in extraction.strikes] == ["drone_shootdown"]
    (dropped,) = response.dropped
    assert dropped.category == "strikes"
    assert "does not occur in the report" in dropped.reason
    assert dropped.record == INVENTED
    assert response.usage.attempts == 2 and response.usage.reasks == 1


def test_broken_json_after_every_reask_is_invalid_output(openai_server: OpenAIServer) -> None:
    openai_server.default = Reply('{"coalition_month": 121, "convoys": [')
    error = fail(openai_server, mode="json_schema", max_reasks=1)
    assert error.kind == "invalid_output"
    assert error.attempts == 2 and len(openai_server.requests) == 2
    assert error.last_completion == '{"coalition_month": 121, "convoys": ['
    assert error.usage is not None and error.usage.attempts == 2


def test_unusable_top_level_is_invalid_output(openai_server: OpenAIServer) -> None:
    openai_server.default = Reply({"coalition_month": 9999, "convoys": [CONVOY]})
    error = fail(openai_server, max_reasks=0)
    assert error.kind == "invalid_output"
    assert "coalition_month" in str(error)


def test_reports_in_parallel_are_grounded_in_their_own_text(
    openai_server: OpenAIServer,
) -> None:
    other_text = "تقرير الشهر 110: نفذت قوات التحالف تدريبا بالذخيرة الحية في حقل كونيكو."
    other = {
        "coalition_month": 110,
        "drills": [{"location": "حقل كونيكو", "live_fire": True, "evidence": "بالذخيرة الحية"}],
    }
    openai_server.answer_by_text({"الشهر 121": GOOD, "الشهر 110": other})
    model_settings = settings(openai_server)

    async def both() -> list[BackendResponse]:
        backend = OpenAIBackend(model_settings, retry_policy=FAST)
        try:
            return await asyncio.gather(
                *(
                    backend.extract(request(model_settings, text, rid))
                    for text, rid in [(SOURCE, "m121"), (other_text, "m110")] * 3
                )
            )
        finally:
            await backend.aclose()

    results = run(both())
    assert len(openai_server.requests) == 6
    for i, result in enumerate(results):
        if i % 2 == 0:
            assert_good(result)
        else:
            assert result.extraction.report_id == "m110"
            assert result.extraction.drills[0].evidence_start == other_text.index("بالذخيرة")


# --- transport retries -------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Status(429, headers={"Retry-After": "0.4"}), Reply(GOOD))
    started = time.monotonic()
    response = extract(openai_server)
    assert time.monotonic() - started >= 0.4
    assert_good(response)
    assert len(openai_server.requests) == 2
    assert (response.usage.attempts, response.usage.retries) == (2, {"429": 1})


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_server_errors_are_retried(openai_server: OpenAIServer, code: int) -> None:
    openai_server.enqueue(Status(code), Reply(GOOD))
    response = extract(openai_server)
    assert_good(response)
    assert len(openai_server.requests) == 2
    assert (response.usage.attempts, response.usage.retries) == (2, {str(code): 1})


def test_timeout_is_retried(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Delay(3.0, then=Reply(GOOD)), Reply(GOOD))
    response = extract(openai_server, timeout_s=1.0)
    assert_good(response)
    assert len(openai_server.requests) == 2
    assert (response.usage.attempts, response.usage.retries) == (2, {"timeout": 1})


def test_dropped_connection_is_retried(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Drop(), Reply(GOOD))
    response = extract(openai_server)
    assert_good(response)
    assert len(openai_server.requests) == 2
    assert (response.usage.attempts, response.usage.retries) == (2, {"connection": 1})


def test_every_attempt_is_counted_with_retries_and_reasks(openai_server: OpenAIServer) -> None:
    # 429, then 500, then an answer to re-ask, then 500 again, then the good answer: five
    # requests, two answers, three retried.
    openai_server.enqueue(
        Status(429, headers={"Retry-After": "0"}), Status(500), Reply(BAD), Status(500), Reply(GOOD)
    )
    response = extract(openai_server, max_retries=2, max_reasks=1)
    assert_good(response)
    assert len(openai_server.requests) == 5
    usage = response.usage
    assert (usage.attempts, usage.reasks, usage.retried) == (5, 1, 3)
    assert usage.retries == {"429": 1, "500": 2}


def test_the_retries_of_a_request_that_failed_at_last_are_counted(
    openai_server: OpenAIServer,
) -> None:
    openai_server.default = Status(503)
    error = fail(openai_server, max_retries=2)
    assert isinstance(error, ProviderError) and error.usage is not None
    assert (error.usage.attempts, error.usage.retries) == (3, {"503": 2})  # the last not retried


def test_a_caller_supplied_httpx_client_is_used(openai_server: OpenAIServer) -> None:
    seen: list[str] = []

    async def hook(req: httpx.Request) -> None:
        seen.append(str(req.url))

    async def go() -> BackendResponse:
        async with httpx.AsyncClient(event_hooks={"request": [hook]}) as client:
            return await extract_once(settings(openai_server, timeout_s=1.0), http_client=client)

    openai_server.enqueue(Delay(3.0, then=Reply(GOOD)), Reply(GOOD))
    assert_good(run(go()))
    assert seen == [f"{openai_server.base_url}/chat/completions"] * 2


def test_server_that_stays_down_ends_in_unavailable(openai_server: OpenAIServer) -> None:
    openai_server.default = Status(500)
    error = fail(openai_server, max_retries=3)
    assert isinstance(error, ProviderError)
    assert error.kind == "unavailable"
    assert error.attempts == 4 and len(openai_server.requests) == 4
    assert "after 4 attempt(s)" in str(error)


def test_server_that_never_answers_ends_in_timeout(openai_server: OpenAIServer) -> None:
    openai_server.default = Delay(2.0)
    error = fail(openai_server, max_retries=1, timeout_s=0.2)
    assert isinstance(error, ProviderError)
    assert (error.kind, error.attempts) == ("timeout", 2)


def test_rate_limit_that_never_lifts_ends_in_rate_limited(openai_server: OpenAIServer) -> None:
    openai_server.default = Status(429, headers={"Retry-After": "0"})
    error = fail(openai_server, max_retries=2)
    assert isinstance(error, ProviderError)
    assert (error.kind, error.attempts) == ("rate_limited", 3)


@pytest.mark.parametrize("code", [400, 401, 403, 404])
def test_client_errors_fail_fast(openai_server: OpenAIServer, code: int) -> None:
    openai_server.default = Status(code)
    error = fail(openai_server)
    assert isinstance(error, ProviderError)
    assert (error.kind, error.attempts) == (f"http_{code}", 1)
    assert len(openai_server.requests) == 1


def test_the_key_never_appears_in_error_text(openai_server: OpenAIServer) -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}.", "type": "auth"}}
    openai_server.default = Status(401, body=echo)
    error = fail(openai_server)
    assert error.kind == "http_401"
    assert KEY not in str(error) and KEY not in repr(error) and "***" in str(error)
    assert error.__cause__ is None


def test_the_key_is_scrubbed_from_a_completion_that_echoes_it(
    openai_server: OpenAIServer,
) -> None:
    openai_server.default = Reply(f"not json, and here is your key {KEY}")
    error = fail(openai_server, max_reasks=0)
    assert error.kind == "invalid_output"
    assert KEY not in str(error) and KEY not in str(error.last_completion)
    # no exception chain that could quote the answer verbatim
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_transport_failure_during_a_reask_keeps_the_usage(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(
        Reply(BAD, usage={"prompt_tokens": 100, "completion_tokens": 10}), Status(403)
    )
    error = fail(openai_server)
    assert isinstance(error, ProviderError) and error.kind == "http_403"
    assert error.usage is not None and error.usage.total_tokens == 110


def test_truncated_answer_is_an_error_not_a_success(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Truncated(GOOD, usage={"prompt_tokens": 300, "completion_tokens": 50}))
    error = fail(openai_server, mode="json_schema")
    assert error.kind == "truncated"
    assert error.usage is not None and error.usage.total_tokens == 350
    assert error.last_completion and json.dumps(GOOD, ensure_ascii=False).startswith(
        error.last_completion
    )


# --- configuration ---------------------------------------------------------------------------


def test_no_key_and_no_server_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="OPENAI_API_KEY"):
        OpenAIBackend(ModelSettings(model="gpt-4o-mini"))


def test_environment_gives_the_server_and_a_local_server_needs_no_key(
    openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    openai_server.enqueue(Reply(GOOD))
    settings = load_settings({"model": "llama3", "max_reasks": 0})
    assert settings.base_url == openai_server.base_url and settings.api_key is None
    model_settings = stack.model_settings(settings)  # the run layer's view of the settings
    backend = get_backend(model_settings)
    assert backend.name == "llama3" and capabilities("llama3").cacheable

    async def go() -> BackendResponse:
        try:
            return await backend.extract(request(model_settings))
        finally:
            await backend.aclose()

    response = run(go())
    assert_good(response)
    assert openai_server.requests[0].headers["authorization"] == f"Bearer {NO_KEY}"
    assert response.usage.cost_usd is None  # no price for this model
