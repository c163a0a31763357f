"""A real HTTP server on 127.0.0.1 that speaks Google's Gemini API (``POST
/v1beta/models/{model}:generateContent``).

The same fixture as :mod:`openai_server` (queued actions, ``server.default``,
``answer_by_text``, every request recorded in ``server.requests``), with Gemini's shapes::

    server.enqueue(Status(503), Reply({"convoys": []}))

- ``Reply(payload)``: a candidate with a ``functionCall`` part holding ``payload`` as its
  ``args`` when the request declares functions; a JSON text part when it asks for
  ``application/json``; else a fenced JSON text part. ``finishReason`` "STOP".
- ``Truncated(payload)``: ``finishReason`` "MAX_TOKENS" with the JSON cut in half (a text
  part).
- ``Status(429 | 503 | ...)``: Google's error object (``RESOURCE_EXHAUSTED``,
  ``UNAVAILABLE``...).
- usage overrides: ``prompt_tokens``, ``completion_tokens``, ``cached_tokens``.

``base_url`` is what ``google.genai.Client(http_options={"base_url": ...})`` is given.

Batches of inlined requests: ``POST .../models/{model}:batchGenerateContent`` answers each
request with the next scripted action and keeps the batch (``server.batches``, ended at
once); ``GET .../batches/{id}`` gives it, with its inlined responses.
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

_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def gemini_error(code: int, message: str | None = None) -> JsonDict:
    return {
        "error": {
            "code": code,
            "message": message or f"scripted HTTP {code}",
            "status": _STATUSES.get(code, "UNKNOWN"),
        }
    }


def _function_name(body: JsonDict) -> str | None:
    for tool in body.get("tools") or []:
        for declaration in tool.get("functionDeclarations") or []:
            return str(declaration.get("name", "tool"))
    return None


def _wants_json(body: JsonDict) -> bool:
    config = body.get("generationConfig") or {}
    return config.get("responseMimeType") == "application/json"


def generate_content(
    body: JsonDict,
    text: str,
    *,
    finish_reason: str,
    usage: Mapping[str, int] | None,
    number: int,
) -> JsonDict:
    """A generateContent answer for ``body`` carrying ``text``."""
    name = _function_name(body)
    try:
        data: Any = json.loads(text)
    except ValueError:
        data = None
    part: JsonDict
    if name is not None and isinstance(data, dict) and finish_reason != "length":
        part = {"functionCall": {"name": name, "args": data}}
    elif _wants_json(body) or finish_reason == "length":
        part = {"text": text}
    else:
        part = {"text": f"```json\n{text}\n```"}
    given = dict(usage or {})
    prompt = given.get("prompt_tokens", max(1, len(json.dumps(body.get("contents", []))) // 4))
    answer = given.get("completion_tokens", max(1, len(text) // 4))
    metadata: JsonDict = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": answer,
        "totalTokenCount": prompt + answer,
    }
    if given.get("cached_tokens"):
        metadata["cachedContentTokenCount"] = given["cached_tokens"]
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [part]},
                "finishReason": "MAX_TOKENS" if finish_reason == "length" else "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": metadata,
        "modelVersion": "gemini-test",
        "responseId": f"resp-{number}",
    }


class GeminiServer(OpenAIServer):
    """Loopback Gemini API server with scripted answers (a context manager)."""

    def __init__(self) -> None:
        super().__init__()
        self.default = Status(418, gemini_error(418, "no scripted action for this request"))
        self.batches: dict[str, JsonDict] = {}
        #: the inlined requests of each batch, as sent
        self.batch_requests: dict[str, list[JsonDict]] = {}
        self.add_route("POST", r"/v1(?:beta)?/models/(?P<model>[^/:]+):generateContent", _generate)
        self.add_route(
            "POST", r"/v1(?:beta)?/models/(?P<model>[^/:]+):batchGenerateContent", _create_batch
        )
        self.add_route("GET", r"/v1(?:beta)?/batches/(?P<id>[\w-]+)", _get_batch)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def completion(
        self,
        body: JsonDict,
        text: str,
        *,
        finish_reason: str,
        usage: Mapping[str, int] | None,
        number: int,
    ) -> JsonDict:
        return generate_content(body, text, finish_reason=finish_reason, usage=usage, number=number)

    def error_body(self, code: int) -> JsonDict:
        return gemini_error(code)

    def generate_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.split("?")[0].endswith(":generateContent")]


def _generate(server: OpenAIServer, request: RecordedRequest, match: re.Match[str]) -> Response:
    if not isinstance(request.body, dict) or "contents" not in request.body:
        return Response(400, gemini_error(400, "contents is required"))
    return server.resolve(server.next_action(request), request)


def _create_batch(server: OpenAIServer, request: RecordedRequest, match: re.Match[str]) -> Response:
    assert isinstance(server, GeminiServer)
    body = request.body if isinstance(request.body, dict) else {}
    batch = body.get("batch") or {}
    items = ((batch.get("inputConfig") or {}).get("requests") or {}).get("requests")
    if not isinstance(items, list) or not items:
        return Response(400, gemini_error(400, "batch.inputConfig.requests is required"))
    name = f"batches/b{server.next_number()}"
    responses = []
    for item in items:
        one = RecordedRequest("POST", ":generateContent", request.headers, b"", item["request"])
        answer = server.resolve(server.next_action(one), one)
        entry: JsonDict = {"metadata": item.get("metadata")}
        if answer.status == 200:
            entry["response"] = answer.body
        else:
            entry["error"] = (answer.body or {}).get("error", {"code": answer.status})
        responses.append(entry)
    server.batch_requests[name] = items
    server.batches[name] = {
        "name": name,
        "metadata": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
            "model": f"models/{match.group('model')}",
            "displayName": batch.get("displayName", name),
            "state": "BATCH_STATE_SUCCEEDED",
            "createTime": "2026-01-01T00:00:00Z",
            "endTime": "2026-01-01T00:01:00Z",
            "output": {"inlinedResponses": {"inlinedResponses": responses}},
        },
        "done": True,
    }
    return Response(200, server.batches[name])


def _get_batch(server: OpenAIServer, request: RecordedRequest, match: re.Match[str]) -> Response:
    assert isinstance(server, GeminiServer)
    name = f"batches/{match.group('id')}"
    if name not in server.batches:
        return Response(404, gemini_error(404, "no such batch"))
    return Response(200, server.batches[name])


__all__ = ["GeminiServer", "Reply", "Status", "Truncated", "gemini_error"]
