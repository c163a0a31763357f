"""The loopback server answers each scripted action as the protocol says (plain httpx)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from openai_server import (
    Delay,
    Drop,
    Dynamic,
    OpenAIServer,
    RecordedRequest,
    Reply,
    Response,
    Status,
    Truncated,
)

PAYLOAD = {"coalition_month": 118, "convoys": []}


def chat(server: OpenAIServer, body: dict[str, Any], timeout: float = 5.0) -> httpx.Response:
    return httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=timeout)


def base_body(**extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": "report text"}], **extra}


def test_tools_request_gets_a_tool_call(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Reply(PAYLOAD))
    tools = [{"type": "function", "function": {"name": "ReportExtraction", "parameters": {}}}]
    response = chat(openai_server, base_body(tools=tools))
    assert response.status_code == 200
    data = response.json()
    call = data["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "ReportExtraction"
    assert json.loads(call["function"]["arguments"]) == PAYLOAD
    assert data["choices"][0]["finish_reason"] == "stop"
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0


def test_response_format_gets_content_and_md_json_gets_a_fence(
    openai_server: OpenAIServer,
) -> None:
    openai_server.enqueue(Reply(PAYLOAD), Reply(PAYLOAD))
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {}, "strict": True}}
    content = chat(openai_server, base_body(response_format=fmt)).json()
    assert json.loads(content["choices"][0]["message"]["content"]) == PAYLOAD
    fenced = chat(openai_server, base_body()).json()["choices"][0]["message"]["content"]
    assert fenced.startswith("```json\n") and fenced.endswith("\n```")
    assert json.loads(fenced.removeprefix("```json\n").removesuffix("\n```")) == PAYLOAD


def test_string_payload_is_verbatim_and_usage_overrides(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(
        Reply('{"broken": ', usage={"prompt_tokens": 7, "completion_tokens": 3, "cached_tokens": 5})
    )
    data = chat(openai_server, base_body(response_format={"type": "json_object"})).json()
    assert data["choices"][0]["message"]["content"] == '{"broken": '
    assert data["usage"]["prompt_tokens"] == 7
    assert data["usage"]["total_tokens"] == 10
    assert data["usage"]["prompt_tokens_details"]["cached_tokens"] == 5


def test_status_headers_and_fifo_then_default(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Status(429, headers={"Retry-After": "3"}), Status(503))
    openai_server.default = Reply(PAYLOAD)
    first = chat(openai_server, base_body())
    assert first.status_code == 429
    assert first.headers["retry-after"] == "3"
    assert "error" in first.json()
    assert chat(openai_server, base_body()).status_code == 503
    assert chat(openai_server, base_body()).status_code == 200
    assert chat(openai_server, base_body()).status_code == 200
    assert openai_server.pending == 0


def test_unscripted_request_gets_a_clear_error(openai_server: OpenAIServer) -> None:
    response = chat(openai_server, base_body())
    assert response.status_code == 418
    assert "no scripted action" in response.json()["error"]["message"]


def test_truncated_cuts_the_json_and_says_length(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Truncated(PAYLOAD))
    data = chat(openai_server, base_body(response_format={"type": "json_object"})).json()
    choice = data["choices"][0]
    assert choice["finish_reason"] == "length"
    full = json.dumps(PAYLOAD, ensure_ascii=False)
    assert full.startswith(choice["message"]["content"])
    assert len(choice["message"]["content"]) < len(full)


def test_delay_outlasts_a_short_client_timeout(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Delay(1.0, then=Reply(PAYLOAD)), Reply(PAYLOAD))
    with pytest.raises(httpx.ReadTimeout):
        chat(openai_server, base_body(), timeout=0.2)
    assert chat(openai_server, base_body()).status_code == 200


def test_drop_closes_without_an_answer(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Drop(), Reply(PAYLOAD))
    with pytest.raises(httpx.RemoteProtocolError):
        chat(openai_server, base_body())
    assert chat(openai_server, base_body()).status_code == 200


def test_requests_are_recorded_with_body_and_headers(openai_server: OpenAIServer) -> None:
    openai_server.default = Reply(PAYLOAD)
    httpx.post(
        f"{openai_server.base_url}/chat/completions",
        json=base_body(temperature=0),
        headers={"Authorization": "Bearer sk-test"},
    )
    (recorded,) = openai_server.requests
    assert recorded.method == "POST"
    assert recorded.body["temperature"] == 0
    assert recorded.headers["authorization"] == "Bearer sk-test"
    assert recorded.user_messages() == ["report text"]


def test_answer_by_text_picks_the_payload_per_report(openai_server: OpenAIServer) -> None:
    openai_server.answer_by_text({"alpha": {"coalition_month": 1}, "beta": {"coalition_month": 2}})

    def ask(text: str) -> httpx.Response:
        body = {"model": "m", "messages": [{"role": "user", "content": text}]}
        return chat(openai_server, {**body, "response_format": {"type": "json_object"}})

    def answer(text: str) -> Any:
        return json.loads(ask(text).json()["choices"][0]["message"]["content"])

    assert answer("text beta") == {"coalition_month": 2}
    assert answer("alpha!") == {"coalition_month": 1}
    assert ask("neither").status_code == 404


def test_dynamic_action_and_extra_routes(openai_server: OpenAIServer) -> None:
    def by_model(request: RecordedRequest) -> Status | Reply:
        return Status(400) if request.body["model"] == "bad" else Reply(PAYLOAD)

    openai_server.default = Dynamic(by_model)
    assert chat(openai_server, {**base_body(), "model": "bad"}).status_code == 400
    assert chat(openai_server, base_body()).status_code == 200

    openai_server.add_route(
        "GET", r"/v1/files/(?P<id>[\w-]+)", lambda s, r, m: Response(200, {"id": m["id"]})
    )
    got = httpx.get(f"{openai_server.base_url}/files/file-1")
    assert got.json() == {"id": "file-1"}
    assert httpx.get(f"{openai_server.base_url}/nowhere").status_code == 404


def test_stop_releases_a_pending_delay() -> None:
    server = OpenAIServer().start()
    server.enqueue(Delay(30.0, then=Reply(PAYLOAD)))
    url = f"{server.base_url}/chat/completions"
    started = time.monotonic()
    stopper = threading.Timer(0.2, server.stop)
    stopper.start()
    with pytest.raises(httpx.HTTPError):
        httpx.post(url, json=base_body(), timeout=10.0)
    stopper.join()
    assert time.monotonic() - started < 5.0
