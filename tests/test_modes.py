"""Modes against the loopback server imitating each server family: the exact bodies each mode
sends, which family takes which mode, ``auto`` (probe, single flight, memory), and requests
refused as invalid failing at once with the server's reason and the mode to use."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from backend_samples import (
    BAD,
    FAST,
    GOOD,
    KEY,
    MESSAGES,
    assert_good,
    extract,
    fail,
    request,
    run,
    settings,
)
from openai_server import OpenAIServer, Reply, Status

from llm_extract.backends.base import BackendResponse, ModelSettings
from llm_extract.backends.chat.auto import server_id
from llm_extract.backends.modes import AUTO_ORDER, HANDLERS
from llm_extract.backends.openai_compat import OpenAIBackend
from llm_extract.errors import ExtractionError, ProviderError, UsageError
from llm_extract.run.modestore import ModeStore
from llm_extract.run.stack import model_settings
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import CONCRETE_MODES, MODES, load_settings

SCHEMA = ReportExtraction.model_json_schema()
LLAMACPP_REASON = "response_format.type: Input should be 'text' or 'json_object'"


def store() -> ModeStore:
    return ModeStore(load_settings().cache_db_path)


def backend(server: OpenAIServer, **overrides: Any) -> OpenAIBackend:
    return OpenAIBackend(settings(server, **overrides), retry_policy=FAST, memory=store())


def extract_with_memory(server: OpenAIServer, **overrides: Any) -> BackendResponse:
    async def go() -> BackendResponse:
        one = backend(server, **overrides)
        try:
            return await one.extract(request(one.settings))
        finally:
            await one.aclose()

    return run(go())


# --- the closed set ------------------------------------------------------------------------


def test_modes_are_one_closed_set() -> None:
    assert ("auto", *CONCRETE_MODES) == MODES
    assert tuple(HANDLERS) == CONCRETE_MODES
    assert set(AUTO_ORDER) <= set(CONCRETE_MODES) and AUTO_ORDER[-1] == "md_json"
    with pytest.raises(UsageError, match="unknown mode 'xml'"):
        OpenAIBackend(ModelSettings(model="m", mode="xml", api_key=KEY))  # type: ignore[arg-type]


def test_auto_on_openais_api_is_tools_without_a_probe() -> None:
    def mode(**values: str) -> str:
        return model_settings(load_settings(values)).mode

    assert mode(model="gpt-4o-mini") == "tools"
    assert mode(model="m", base_url="https://api.openai.com/v1") == "tools"
    assert mode(model="m", base_url="http://127.0.0.1:8080/v1") == "auto"
    assert mode(model="m", mode="md_json") == "md_json"
    # The settings object of a call takes the mode as given: no field is rewritten.
    assert ModelSettings(model="gpt-4o-mini").mode == "auto"


# --- the exact bodies of the new modes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("json_object", {"response_format": {"type": "json_object", "schema": SCHEMA}}),
        ("guided_json", {"guided_json": SCHEMA}),
        ("structured_outputs", {"structured_outputs": {"json": SCHEMA}}),
    ],
)
def test_each_mode_sends_exactly_its_documented_body(
    openai_server: OpenAIServer, mode: str, expected: dict[str, Any]
) -> None:
    openai_server.enqueue(Reply(BAD), Reply(GOOD))
    response = extract(openai_server, mode=mode, temperature=0.3)
    assert_good(response)
    assert response.mode == mode
    first, second = (r.body for r in openai_server.requests)
    assert first == {
        "model": "gpt-4o-mini",
        "messages": MESSAGES,
        "temperature": 0.3,
        "max_tokens": 2048,
        **expected,
    }
    # The re-ask repeats the answer and sends the errors back as the user.
    assert second["messages"][:2] == MESSAGES
    said, errors = second["messages"][2:]
    assert said == {"role": "assistant", "content": json.dumps(BAD, ensure_ascii=False)}
    assert errors["role"] == "user"
    assert errors["content"].startswith("Correct your JSON ONLY RESPONSE")
    assert "does not occur in the report" in errors["content"]
    assert {k: v for k, v in second.items() if k != "messages"} == {
        k: v for k, v in first.items() if k != "messages"
    }


def test_tools_reask_answers_the_call_with_a_tool_message(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Reply(BAD), Reply(GOOD))
    assert_good(extract(openai_server, mode="tools"))
    said, answer = openai_server.requests[1].body["messages"][2:]
    (call,) = said["tool_calls"]
    assert call["function"] == {
        "name": "ReportExtraction",
        "arguments": json.dumps(BAD, ensure_ascii=False),
    }
    assert answer["role"] == "tool" and answer["tool_call_id"] == call["id"]
    assert answer["content"].startswith("Validation Error found:\n")


def test_md_json_reads_the_last_fenced_block() -> None:
    mode = HANDLERS["md_json"]
    good = json.dumps(GOOD, ensure_ascii=False)
    prose = f'An example:\n```json\n{{"a": 1}}\n```\nThe answer:\n```json\n{good}\n```\nDone.'
    assert mode.json_text(prose) == good
    assert mode.json_text(f"Sure! {good} Hope that helps.") == good
    assert mode.json_text("no JSON here") == "no JSON here"


# --- which family takes which mode -------------------------------------------------------------

TAKES = {
    "openai": {"json_schema", "tools", "md_json"},
    "vllm": set(CONCRETE_MODES),
    "ollama": set(CONCRETE_MODES),
    "ollama-no-tools": set(CONCRETE_MODES) - {"tools"},
    "llamacpp": set(CONCRETE_MODES) - {"json_schema"},
    "lmstudio": set(CONCRETE_MODES) - {"json_object"},
}


@pytest.mark.parametrize("family", sorted(TAKES))
@pytest.mark.parametrize("mode", CONCRETE_MODES)
def test_an_explicit_mode_is_answered_or_refused_at_once(
    openai_server: OpenAIServer, family: str, mode: str
) -> None:
    openai_server.family = family
    openai_server.default = Reply(GOOD)
    if mode in TAKES[family]:
        response = extract(openai_server, mode=mode)
        assert_good(response)
        assert response.mode == mode and len(openai_server.requests) == 1
        return
    error = fail(openai_server, mode=mode, max_retries=4)
    assert isinstance(error, ProviderError)
    assert (error.kind, error.attempts, error.mode) == ("mode_refused", 1, mode)
    assert len(openai_server.requests) == 1  # not retried, whatever the status
    message = str(error)
    assert "\n" not in message
    assert f"this server refuses --mode {mode}" in message
    assert "--mode auto" in message


def test_llamacpp_refusal_starts_with_its_reason_and_names_the_mode_to_use(
    openai_server: OpenAIServer,
) -> None:
    openai_server.family = "llamacpp"
    error = fail(openai_server, mode="json_schema", max_retries=4)
    message = str(error)
    assert message.startswith(LLAMACPP_REASON + " (HTTP 500, not retried)")
    assert "use --mode json_object" in message
    assert "/srv/llama_cpp" not in message  # the traceback line of the body is left out
    assert error.usage is None or error.usage.attempts == 0


def test_a_500_that_is_not_a_validation_error_is_still_retried(
    openai_server: OpenAIServer,
) -> None:
    openai_server.family = "llamacpp"
    openai_server.enqueue(Status(500), Status(503), Reply(GOOD))
    assert_good(extract(openai_server, mode="json_object"))
    assert len(openai_server.requests) == 3


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (
            422,
            {"detail": [{"loc": ["body", "messages", 0, "role"], "msg": "Field required"}]},
            "messages.0.role: Field required",
        ),
        (400, {"error": "context length exceeded"}, "context length exceeded"),
        (
            400,
            {"object": "error", "message": "max_tokens is too large", "code": 400},
            "max_tokens is too large",
        ),
        (404, "no such model\nat line 2", "no such model"),
        (400, {"error": {"message": "\x1b[31mred\x1b[0m\rbad"}}, "[31mred [0m"),
        (500, {"error": {"message": "1 validation error: 'loc': ('body', 'stop')"}}, None),
    ],
)
def test_requests_rejected_as_invalid_fail_at_once_with_the_servers_reason(
    openai_server: OpenAIServer, status: int, body: Any, reason: str | None
) -> None:
    openai_server.default = Status(status, body=body)
    error = fail(openai_server, mode="tools", max_retries=4)
    assert isinstance(error, ProviderError)
    assert (error.kind, error.attempts) == (f"http_{status}", 1)
    assert len(openai_server.requests) == 1
    if reason is not None:
        assert str(error).startswith(f"{reason} (HTTP {status}, not retried)")


# --- auto --------------------------------------------------------------------------------------

CHOSEN = {
    "openai": "json_schema",
    "vllm": "json_schema",
    "ollama": "json_schema",
    "llamacpp": "json_object",
    "lmstudio": "json_schema",
}


@pytest.mark.parametrize("family", sorted(CHOSEN))
def test_auto_takes_the_strongest_mode_the_family_accepts(
    openai_server: OpenAIServer, family: str
) -> None:
    openai_server.family = family
    openai_server.default = Reply(GOOD)
    response = extract_with_memory(openai_server)
    assert_good(response)
    assert response.mode == CHOSEN[family]
    refused = AUTO_ORDER.index(CHOSEN[family])
    assert len(openai_server.requests) == refused + 1
    assert store().recall(server_id(openai_server.base_url), "gpt-4o-mini") == CHOSEN[family]


def test_auto_probes_once_for_concurrent_reports_and_remembers_for_the_next_run(
    openai_server: OpenAIServer,
) -> None:
    openai_server.family = "llamacpp"
    openai_server.default = Reply(GOOD)

    async def many() -> list[BackendResponse]:
        one = backend(openai_server)
        try:
            return await asyncio.gather(*(one.extract(request(one.settings)) for _ in range(8)))
        finally:
            await one.aclose()

    first = run(many())
    assert [r.mode for r in first] == ["json_object"] * 8
    kinds = [r.body["response_format"]["type"] for r in openai_server.requests]
    assert kinds.count("json_schema") == 1 and kinds.count("json_object") == 8
    # Another run (another backend, same cache database): no probe at all.
    second = run(many())
    assert [r.mode for r in second] == ["json_object"] * 8
    assert len(openai_server.requests) == 9 + 8


def test_a_remembered_mode_the_server_now_refuses_is_probed_again(
    openai_server: OpenAIServer,
) -> None:
    server = server_id(openai_server.base_url)
    store().remember(server, "gpt-4o-mini", "json_object")
    openai_server.family = "lmstudio"  # another server on the same address
    openai_server.default = Reply(GOOD)
    response = extract_with_memory(openai_server)
    assert_good(response)
    assert response.mode == "json_schema"
    kinds = [r.body["response_format"]["type"] for r in openai_server.requests]
    assert kinds == ["json_object", "json_schema"]
    assert store().recall(server, "gpt-4o-mini") == "json_schema"


def test_auto_does_not_fall_back_on_an_error_that_is_not_about_the_mode(
    openai_server: OpenAIServer,
) -> None:
    openai_server.default = Status(401, body={"error": {"message": f"bad key {KEY}"}})
    with pytest.raises(ProviderError) as info:
        extract_with_memory(openai_server)
    assert info.value.kind == "http_401" and len(openai_server.requests) == 1
    assert KEY not in str(info.value)
    assert store().recall(server_id(openai_server.base_url), "gpt-4o-mini") is None


def test_auto_keeps_the_mode_of_an_answer_that_fails_validation(
    openai_server: OpenAIServer,
) -> None:
    openai_server.family = "llamacpp"
    openai_server.default = Reply('{"coalition_month": "soon"}')
    with pytest.raises(ExtractionError) as info:
        extract_with_memory(openai_server, max_reasks=0)
    assert (info.value.kind, info.value.mode) == ("invalid_output", "json_object")
    assert store().recall(server_id(openai_server.base_url), "gpt-4o-mini") == "json_object"


def test_the_memory_keeps_no_credentials(openai_server: OpenAIServer, tmp_path: Path) -> None:
    assert server_id("http://user:hunter2@host:8080/v1/?key=s3cret") == "http://host:8080/v1"
    assert server_id(None) == "https://api.openai.com/v1"
    memory = ModeStore(tmp_path / "c.sqlite3")
    memory.remember("http://host:8080/v1", "m", "tools")
    assert memory.recall("http://host:8080/v1", "m") == "tools"
    assert memory.recall("http://host:8080/v1", "other") is None
    memory.forget("http://host:8080/v1", "m")
    assert memory.recall("http://host:8080/v1", "m") is None
    assert b"hunter2" not in (tmp_path / "c.sqlite3").read_bytes()


def test_a_broken_memory_only_costs_a_probe(openai_server: OpenAIServer, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    openai_server.family = "llamacpp"
    openai_server.default = Reply(GOOD)

    async def go() -> BackendResponse:
        one = OpenAIBackend(
            settings(openai_server), retry_policy=FAST, memory=ModeStore(blocker / "c.sqlite3")
        )
        try:
            return await one.extract(request(one.settings))
        finally:
            await one.aclose()

    assert run(go()).mode == "json_object"
