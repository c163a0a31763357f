"""A real HTTP server on 127.0.0.1 that speaks Anthropic's Messages API (``POST
/v1/messages``), and its Message Batches (``/v1/messages/batches``).

The same fixture as :mod:`openai_server` (queued actions, ``server.default``,
``answer_by_text``, every request recorded in ``server.requests``), with Anthropic's shapes::

    server.enqueue(Status(529), Reply({"convoys": []}))

- ``Reply(payload)``: a message with a ``tool_use`` block holding ``payload`` as the tool's
  input when the request has ``tools`` (``stop_reason`` "tool_use"), else a text block;
  a ``str`` payload that is not a JSON object comes back as a text block (a model that
  answered in prose instead of calling the tool).
- ``Truncated(payload)``: ``stop_reason`` "max_tokens" with the JSON cut in half.
- ``Status(429 | 529 | ...)``: Anthropic's error object (``rate_limit_error``,
  ``overloaded_error``...). Give ``headers={"retry-after-ms": "1"}`` to keep the SDK's own
  retries fast.
- usage overrides: ``prompt_tokens``, ``completion_tokens``, ``cached_tokens`` (read from the
  cache), ``cache_write_tokens`` (written to it).

``base_url`` is the root the SDK is given (``anthropic.AsyncAnthropic(base_url=...)``).
Batches: ``POST /v1/messages/batches`` records the batch and answers each request with the
next scripted action; ``GET .../{id}`` gives its status (ended at once), ``GET
.../{id}/results`` the JSONL results.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from openai_server import (
    JsonDict,
    OpenAIServer,
    RecordedRequest,
    Reply,
    Response,
    Status,
    Truncated,
)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def anthropic_error(code: int, message: str | None = None) -> JsonDict:
    return {
        "type": "error",
        "error": {
            "type": _ERROR_TYPES.get(code, "api_error"),
            "message": message or f"scripted HTTP {code}",
        },
    }


def _tool_name(body: JsonDict) -> str | None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("name"):
        return str(choice["name"])
    tools = body.get("tools") or []
    return str(tools[0].get("name", "tool")) if tools else None


def message(
    body: JsonDict,
    text: str,
    *,
    finish_reason: str,
    usage: Mapping[str, int] | None,
    number: int,
) -> JsonDict:
    """A Messages API answer for ``body`` carrying ``text``."""
    name = _tool_name(body)
    try:
        data: Any = json.loads(text)
    except ValueError:
        data = None
    content: list[JsonDict]
    if name is not None and isinstance(data, dict) and finish_reason != "length":
        content = [{"type": "tool_use", "id": f"toolu_{number}", "name": name, "input": data}]
        stop = "tool_use"
    else:
        content = [{"type": "text", "text": text}]
        stop = "end_turn"
    if finish_reason == "length":
        stop = "max_tokens"
    given = dict(usage or {})
    prompt = given.get("prompt_tokens", max(1, len(json.dumps(body.get("messages", []))) // 4))
    return {
        "id": f"msg_{number}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-test"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": prompt,
            "output_tokens": given.get("completion_tokens", max(1, len(text) // 4)),
            "cache_read_input_tokens": given.get("cached_tokens", 0),
            "cache_creation_input_tokens": given.get("cache_write_tokens", 0),
        },
    }


class AnthropicServer(OpenAIServer):
    """Loopback Anthropic Messages API server with scripted answers (a context manager)."""

    def __init__(self) -> None:
        super().__init__()
        self.default = Status(418, anthropic_error(418, "no scripted action for this request"))
        self.batches: dict[str, JsonDict] = {}
        self.add_route("POST", r"/v1/messages", _messages)
        self.add_route("POST", r"/v1/messages/batches", _create_batch)
        self.add_route("GET", r"/v1/messages/batches/(?P<id>[\w-]+)", _get_batch)
        self.add_route("GET", r"/v1/messages/batches/(?P<id>[\w-]+)/results", _batch_results)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def completion(
        self,
        body: JsonDict,
        text: str,
        *,
        finish_reason: str,
        usage: Mapping[str, int] | None,
        number: int,
    ) -> JsonDict:
        return message(body, text, finish_reason=finish_reason, usage=usage, number=number)

    def error_body(self, code: int) -> JsonDict:
        return anthropic_error(code)

    def message_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.split("?")[0] == "/v1/messages"]


def _messages(server: OpenAIServer, request: RecordedRequest, match: re.Match[str]) -> Response:
    body = request.body
    if not isinstance(body, dict) or "messages" not in body or "max_tokens" not in body:
        return Response(400, anthropic_error(400, "messages and max_tokens are required"))
    return server.resolve(server.next_action(request), request)


def _create_batch(server: OpenAIServer, request: RecordedRequest, match: re.Match[str]) -> Response:
    assert isinstance(server, AnthropicServer)
    body = request.body if isinstance(request.body, dict) else {}
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        return Response(400, anthropic_error(400, "requests must be a non-empty list"))
    batch_id = f"msgbatch_{server.next_number()}"
    results = []
    for item in requests:
        params = item.get("params", {})
        one = RecordedRequest("POST", "/v1/messages", request.headers, b"", params)
        answer = server.resolve(server.next_action(one), one)
        if answer.status == 200:
            result: JsonDict = {"type": "succeeded", "message": answer.body}
        else:
            result = {"type": "errored", "error": answer.body}
        results.append({"custom_id": item.get("custom_id"), "result": result})
    server.batches[batch_id] = {"requests": requests, "results": results}
    return Response(200, _batch_object(server, batch_id))


def _batch_object(server: AnthropicServer, batch_id: str) -> JsonDict:
    results = server.batches[batch_id]["results"]
    succeeded = sum(1 for r in results if r["result"]["type"] == "succeeded")
    return {
        "id": batch_id,
        "type": "message_batch",
        "processing_status": "ended",
        "request_counts": {
            "processing": 0,
            "succeeded": succeeded,
            "errored": len(results) - succeeded,
            "canceled": 0,
            "expired": 0,
        },
        "created_at": "2026-01-01T00:00:00Z",
        "ended_at": "2026-01-01T00:01:00Z",
        "expires_at": "2026-01-02T00:00:00Z",
        "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": f"{server.base_url}/v1/messages/batches/{batch_id}/results",
    }


def _get_batch(server: OpenAIServer, request: RecordedRequest, match: re.Match[str]) -> Response:
    assert isinstance(server, AnthropicServer)
    batch_id = match.group("id")
    if batch_id not in server.batches:
        return Response(404, anthropic_error(404, "no such batch"))
    return Response(200, _batch_object(server, batch_id))


def _batch_results(
    server: OpenAIServer, request: RecordedRequest, match: re.Match[str]
) -> Response:
    assert isinstance(server, AnthropicServer)
    batch_id = match.group("id")
    if batch_id not in server.batches:
        return Response(404, anthropic_error(404, "no such batch"))
    lines = [json.dumps(r, ensure_ascii=False) for r in server.batches[batch_id]["results"]]
    return Response(
        200, ("\n".join(lines) + "\n").encode("utf-8"), {"Content-Type": "application/binary"}
    )


__all__ = ["AnthropicServer", "Reply", "Status", "Truncated", "anthropic_error"]
