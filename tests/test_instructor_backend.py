"""The instructor backend (``anthropic/<model>``, ``google/<model>``) against the loopback
Anthropic Messages API and Gemini API servers: grounding, re-asks, salvage, usage of every
attempt, truncation, faults, prompt caching, and report text that looks like a template."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from anthropic_server import AnthropicServer
from backend_samples import BAD, GOOD, INVENTED, KEY, MESSAGES, MIXED, SOURCE, assert_good, run
from gemini_server import GeminiServer
from openai_server import OpenAIServer, Reply, Status, Truncated

from llm_extract.backends import capabilities, spec_for
from llm_extract.backends.base import BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.backends.instructor_backend.backend import InstructorBackend, RetryPolicy
from llm_extract.errors import ExtractionError, ProviderError, UsageError
from llm_extract.report import Report
from llm_extract.results import PromptInfo

FAST = RetryPolicy(base_s=0.001, cap_s=0.01)
#: Keeps the Anthropic SDK's own retries fast (it reads retry-after-ms first).
QUICK = {"retry-after-ms": "1", "retry-after": "0"}
EXAMPLE = [
    {"role": "user", "content": "Report:\nمثال"},
    {"role": "assistant", "content": '{"coalition_month": 1}'},
]


@dataclass
class Provider:
    name: str
    model: str
    server: OpenAIServer
    #: the status of an overloaded / unavailable server
    busy: int

    def requests(self) -> list[Any]:
        if isinstance(self.server, AnthropicServer):
            return self.server.message_requests()
        assert isinstance(self.server, GeminiServer)
        return self.server.generate_requests()


@pytest.fixture(params=["anthropic", "google"])
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    if request.param == "anthropic":
        with AnthropicServer() as server:
            yield Provider("anthropic", "anthropic/claude-haiku-4-5", server, 529)
    else:
        with GeminiServer() as gemini:
            yield Provider("google", "google/gemini-2.5-flash", gemini, 503)


def model_settings(provider: Provider, **overrides: Any) -> ModelSettings:
    values: dict[str, Any] = {
        "model": provider.model,
        "mode": "tools",
        "base_url": provider.server.base_url,
        "api_key": KEY,
        "max_retries": 2,
        "max_reasks": 1,
        "timeout_s": 5.0,
        "max_tokens": 2048,
        **overrides,
    }
    return ModelSettings(**values)


def make_request(settings: ModelSettings, text: str = SOURCE) -> ExtractionRequest:
    messages = [MESSAGES[0], *EXAMPLE, {"role": "user", "content": f"Report:\n{text}"}]
    return ExtractionRequest(
        report=Report(report_id="m121", text=text, path="m121.txt"),
        messages=messages,
        settings=settings,
        prompt=PromptInfo(name="test", hash="h"),
    )


async def _extract(settings: ModelSettings, text: str) -> BackendResponse:
    backend = InstructorBackend(settings, retry_policy=FAST)
    try:
        return await backend.extract(make_request(settings, text))
    finally:
        await backend.aclose()


def extract(provider: Provider, text: str = SOURCE, **overrides: Any) -> BackendResponse:
    return run(_extract(model_settings(provider, **overrides), text))


def fail(provider: Provider, **overrides: Any) -> ExtractionError:
    with pytest.raises(ExtractionError) as info:
        extract(provider, **overrides)
    return info.value


def test_the_registry_routes_provider_prefixes() -> None:
    assert spec_for("anthropic/claude-haiku-4-5").name == "anthropic"
    assert spec_for("google/gemini-2.5-flash").name == "google"
    assert spec_for("gpt-4o-mini").name == "openai"
    assert capabilities("anthropic/x").credentials == "anthropic"
    assert capabilities("google/x").fixed_mode == "tools"


def test_a_grounded_answer_is_validated_with_the_report(provider: Provider) -> None:
    provider.server.enqueue(Reply(GOOD, usage={"prompt_tokens": 900, "completion_tokens": 80}))
    response = extract(provider)
    assert_good(response)
    assert response.mode == "tools"
    assert response.usage.attempts == 1 and response.usage.reasks == 0
    assert response.usage.prompt_tokens == 900 and response.usage.completion_tokens == 80
    assert response.usage.cost_usd is not None and response.usage.cost_usd > 0
    (sent,) = provider.requests()
    assert any(KEY in value for value in sent.headers.values())  # the key is sent
    assert SOURCE in sent.all_text() or SOURCE in json.dumps(sent.body, ensure_ascii=False)


def test_an_ungrounded_answer_is_reasked_and_every_attempt_counted(provider: Provider) -> None:
    provider.server.enqueue(
        Reply(BAD, usage={"prompt_tokens": 500, "completion_tokens": 50}),
        Reply(GOOD, usage={"prompt_tokens": 700, "completion_tokens": 60}),
    )
    response = extract(provider)
    assert_good(response)
    usage = response.usage
    assert (usage.attempts, usage.reasks) == (2, 1)
    assert usage.prompt_tokens == 1200 and usage.reask_tokens == 760
    first, second = provider.requests()
    resent = json.dumps(second.body, ensure_ascii=False)
    assert "evidence" in resent and len(second.raw) > len(first.raw)  # the error went back


def test_after_the_last_reask_the_valid_records_are_kept(provider: Provider) -> None:
    provider.server.enqueue(Reply(MIXED), Reply(MIXED), Reply(GOOD))
    response = extract(provider, max_reasks=2)
    # the same error twice in a row: no third request
    assert len(provider.requests()) == 2
    assert [s.kind.value for s in response.extraction.strikes] == ["drone_shootdown"]
    assert [d.record for d in response.dropped] == [INVENTED]
    assert response.usage.attempts == 2


def test_an_answer_with_nothing_valid_fails_in_one_line(provider: Provider) -> None:
    provider.server.enqueue(Reply("no JSON at all"), Reply("still none"))
    error = fail(provider)
    # instructor re-asks Anthropic's prose answer; its Gemini handler does not re-ask an
    # answer that is no function call (docs/models.md)
    assert error.kind == "invalid_output"
    assert error.attempts == (2 if provider.name == "anthropic" else 1)
    assert "\n" not in str(error) and KEY not in str(error)


def test_a_truncated_answer_fails_as_truncated(provider: Provider) -> None:
    provider.server.enqueue(Truncated(GOOD, usage={"prompt_tokens": 10, "completion_tokens": 9}))
    error = fail(provider)
    assert error.kind == "truncated" and "max_tokens" in str(error)
    assert error.usage is not None and error.usage.completion_tokens == 9
    assert len(provider.requests()) == 1


def test_rate_limits_and_overload_are_retried_by_the_sdk(provider: Provider) -> None:
    provider.server.enqueue(
        Status(429, headers=QUICK), Status(provider.busy, headers=QUICK), Reply(GOOD)
    )
    assert_good(extract(provider))
    assert len(provider.requests()) == 3


def test_a_server_that_stays_overloaded_gives_a_one_line_error(provider: Provider) -> None:
    provider.server.default = Status(provider.busy, headers=QUICK)
    error = fail(provider, max_retries=1)
    assert isinstance(error, ProviderError) and error.kind == "unavailable"
    assert f"HTTP {provider.busy}" in str(error) and "\n" not in str(error)
    assert len(provider.requests()) == 2


def test_a_rejected_request_is_not_retried(provider: Provider) -> None:
    provider.server.enqueue(Status(400))
    error = fail(provider)
    assert error.kind == "http_400" and "not retried" in str(error)
    assert len(provider.requests()) == 1 and KEY not in str(error)


def test_report_text_is_never_a_template(provider: Provider) -> None:
    text = SOURCE + " {{ 7 * 7 }} {% for x in y %} {# c #} {{ source }}"
    provider.server.enqueue(Reply(GOOD))
    extract(provider, text=text)
    (sent,) = provider.requests()
    assert text in json.dumps(sent.body, ensure_ascii=False)


def test_other_modes_are_a_usage_error(provider: Provider) -> None:
    with pytest.raises(UsageError, match="--mode tools"):
        InstructorBackend(model_settings(provider, mode="json_schema"))


def test_anthropic_caches_the_system_prompt_and_the_worked_example() -> None:
    with AnthropicServer() as server:
        provider = Provider("anthropic", "anthropic/claude-haiku-4-5", server, 529)
        server.enqueue(
            Reply(
                GOOD,
                usage={
                    "prompt_tokens": 100,
                    "completion_tokens": 1000,
                    "cached_tokens": 2000,
                    "cache_write_tokens": 0,
                },
            )
        )
        response = extract(provider)
    (sent,) = server.message_requests()
    system = sent.body["system"]
    assert system == [
        {"type": "text", "text": MESSAGES[0]["content"], "cache_control": {"type": "ephemeral"}}
    ]
    messages = sent.body["messages"]
    assert messages[1]["content"][0]["cache_control"] == {"type": "ephemeral"}  # the example
    assert isinstance(messages[-1]["content"], str)  # the report: not cached
    usage = response.usage
    assert usage.prompt_tokens == 2100 and usage.cached_prompt_tokens == 2000
    # claude-haiku-4-5: $1 input, $0.10 cached input, $5 output per million tokens
    assert usage.cost_usd == pytest.approx((100 * 1.0 + 2000 * 0.10 + 1000 * 5.0) / 1e6)


def test_anthropic_cache_writes_are_priced_apart() -> None:
    with AnthropicServer() as server:
        provider = Provider("anthropic", "anthropic/claude-haiku-4-5", server, 529)
        server.enqueue(
            Reply(
                GOOD,
                usage={"prompt_tokens": 100, "completion_tokens": 0, "cache_write_tokens": 2000},
            )
        )
        response = extract(provider)
    usage = response.usage
    assert usage.prompt_tokens == 2100 and usage.cache_write_tokens == 2000
    assert usage.cost_usd == pytest.approx((100 * 1.0 + 2000 * 1.25) / 1e6)


def test_gemini_reads_cached_tokens_and_the_model_role() -> None:
    with GeminiServer() as server:
        provider = Provider("google", "google/gemini-2.5-flash", server, 503)
        server.enqueue(
            Reply(
                GOOD, usage={"prompt_tokens": 3000, "completion_tokens": 10, "cached_tokens": 2000}
            )
        )
        response = extract(provider)
    (sent,) = server.generate_requests()
    assert [c["role"] for c in sent.body["contents"]] == ["user", "model", "user"]
    assert sent.body["systemInstruction"]["parts"] == [{"text": MESSAGES[0]["content"]}]
    assert response.usage.cached_prompt_tokens == 2000


def test_a_failure_during_a_reask_keeps_the_usage_of_the_first_answer(
    provider: Provider,
) -> None:
    provider.server.enqueue(
        Reply(BAD, usage={"prompt_tokens": 500, "completion_tokens": 50}), Status(400)
    )
    error = fail(provider)
    assert isinstance(error, ProviderError) and error.kind == "http_400"
    assert error.attempts == 2  # two requests sent: the answer, then the failed re-ask
    assert error.usage is not None and error.usage.prompt_tokens == 500
    assert len(provider.requests()) == 2


def test_provider_keys_come_from_their_variables_and_stay_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llm_extract.settings import known_secrets, load_settings

    monkeypatch.setenv("ANTHROPIC_API_KEY", "ant-CANARY")
    monkeypatch.setenv("GOOGLE_API_KEY", "goog-CANARY")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", "http://user:pw-CANARY@127.0.0.1:9/")
    settings = load_settings()
    assert settings.server("anthropic") == ("ant-CANARY", None)
    assert settings.server("google") == ("goog-CANARY", "http://user:pw-CANARY@127.0.0.1:9")
    assert settings.server("openai") == (None, None)
    assert {"ant-CANARY", "goog-CANARY", "pw-CANARY"} <= set(settings.secrets)
    assert {"ant-CANARY", "goog-CANARY", "pw-CANARY"} <= set(known_secrets())
    assert "CANARY" not in repr(settings)
    monkeypatch.setenv("GEMINI_API_KEY", "gem-CANARY")  # the first of the two wins
    assert load_settings().server("google")[0] == "gem-CANARY"
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "ftp://user:pw2-CANARY@host")
    with pytest.raises(UsageError) as info:
        load_settings()
    assert "ANTHROPIC_BASE_URL" in str(info.value) and "CANARY" not in str(info.value)
