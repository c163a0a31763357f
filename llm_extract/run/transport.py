"""An httpx2 transport that rate-limits and logs every request a backend sends.

It sits under the backend's HTTP client (``httpx2.AsyncClient(transport=
InstrumentedTransport(...))``, handed to :class:`~llm_extract.backends.chat.client.ChatClient`,
the same HTTP stack as without it, and to the SDKs of the instructor backend), so it sees
every HTTP attempt: first tries, tenacity's retries and the backends' re-asks.
For each model call (chat completions, Anthropic's Messages, Gemini's generateContent) it

- waits for the :class:`~llm_extract.run.ratelimit.RateLimiter` (one request plus an estimate of
  the tokens from the messages, the schema and ``max_tokens``), settles the estimate with the
  usage the server reports, and holds every request when the server answers 429 with
  ``Retry-After``;
- writes a row to the :class:`~llm_extract.run.logstore.RequestLog` (the JSON body that was sent,
  never the headers that carry the key, and what came back, or the error; the URL without its
  ``user:password@`` and secret query values).

Which report a request belongs to comes from :data:`current_request`, a context variable the
pipeline sets in each report's task (asyncio copies it into the task, so concurrent reports do
not see each other's).
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import httpx2

from llm_extract.redact import redact_url
from llm_extract.retry_after import retry_after_seconds
from llm_extract.run.logstore import LogEntry, RequestLog, to_log_text
from llm_extract.run.ratelimit import RateLimiter, estimate_body_tokens
from llm_extract.run.tags import RequestTag, current_request, tag_requests

__all__ = [
    "CaptureTransport",
    "InstrumentedTransport",
    "ReplayTransport",
    "RequestTag",
    "current_request",
    "tag_requests",
]


#: The paths of a model call: chat completions, Anthropic's Messages, Gemini's generateContent.
_MODEL_CALLS = ("/chat/completions", "/v1/messages", ":generateContent")


def is_model_call(request: httpx.Request | httpx2.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith(_MODEL_CALLS)


def _usage(body: Any) -> tuple[int | None, int | None, int | None]:
    usage = body.get("usage") if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(body.get("usageMetadata"), dict):  # Gemini
        meta = body["usageMetadata"]
        return (
            meta.get("promptTokenCount"),
            meta.get("candidatesTokenCount"),
            meta.get("totalTokenCount"),
        )
    if isinstance(usage, dict) and "input_tokens" in usage:  # Anthropic (cache apart)
        parts = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
        read = [usage.get(k) for k in parts]
        prompt_in = sum(v for v in read if isinstance(v, int))
        answer = usage.get("output_tokens")
        out = answer if isinstance(answer, int) else 0
        return prompt_in, out, prompt_in + out
    if not isinstance(usage, dict):
        return None, None, None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    total = usage.get("total_tokens")
    if total is None and isinstance(prompt, int) and isinstance(completion, int):
        total = prompt + completion
    return prompt, completion, total


class InstrumentedTransport(httpx2.AsyncBaseTransport):
    """Wraps another transport; rate-limits and logs chat-completions requests."""

    def __init__(
        self,
        inner: httpx2.AsyncBaseTransport | None = None,
        *,
        limiter: RateLimiter | None = None,
        log: RequestLog | None = None,
        max_pause_s: float = 60.0,
    ) -> None:
        self.inner = inner if inner is not None else httpx2.AsyncHTTPTransport()
        self.limiter = limiter
        self.log = log
        self.max_pause_s = max_pause_s

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if not is_model_call(request):
            return await self.inner.handle_async_request(request)
        body = request.content
        try:
            payload: Any = json.loads(body)
        except ValueError:
            payload = None
        reservation = None
        if self.limiter is not None:
            estimate = 0
            if isinstance(payload, dict):
                most = payload.get("max_tokens") or payload.get("max_completion_tokens") or 0
                estimate = estimate_body_tokens(payload) + int(most)
            reservation = await self.limiter.acquire(estimate)
        tag = current_request.get() or RequestTag()
        started = time.perf_counter()
        try:
            response = await self.inner.handle_async_request(request)
            content = await response.aread()
        except BaseException as exc:
            if reservation is not None and self.limiter is not None:
                self.limiter.settle(reservation, None)
            self._write(tag, request, payload, started, status="error", error=repr(exc))
            raise
        answer: Any
        try:
            answer = json.loads(content)
        except ValueError:
            answer = content.decode("utf-8", errors="replace")
        prompt, completion, total = _usage(answer)
        if reservation is not None and self.limiter is not None:
            self.limiter.settle(reservation, total)
            if response.status_code == 429:
                pause = retry_after_seconds(response.headers)
                if pause:
                    self.limiter.pause(min(pause, self.max_pause_s))
        self._write(
            tag,
            request,
            payload,
            started,
            status="ok" if response.status_code < 400 else "http_error",
            answer=answer,
            http_status=response.status_code,
            tokens=(prompt, completion),
        )
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx2.Response(
            response.status_code,
            headers=headers,
            content=content,
            request=request,
            extensions=response.extensions,
        )

    def _write(
        self,
        tag: RequestTag,
        request: httpx2.Request,
        payload: Any,
        started: float,
        *,
        status: str,
        answer: Any = None,
        http_status: int | None = None,
        error: str | None = None,
        tokens: tuple[int | None, int | None] = (None, None),
    ) -> None:
        if self.log is None:
            return
        model = payload.get("model") if isinstance(payload, dict) else None
        self.log.record(
            LogEntry(
                status=status,
                report_id=tag.report_id,
                request_key=tag.request_key,
                model=model if isinstance(model, str) else None,
                url=redact_url(str(request.url)),
                request=to_log_text(payload if payload is not None else request.content),
                response=to_log_text(answer),
                http_status=http_status,
                error=error,
                latency_s=time.perf_counter() - started,
                prompt_tokens=tokens[0],
                completion_tokens=tokens[1],
            )
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class CaptureTransport(httpx.AsyncBaseTransport):
    """Sends nothing: records each chat-completions body and answers 400, so that a backend
    renders its request exactly as it would send it, and gives up at once (``dry-run``,
    ``batch prepare``). The body is kept under the tag of the current report."""

    def __init__(self) -> None:
        self.bodies: dict[str | None, dict[str, Any]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        tag = current_request.get() or RequestTag()
        self.bodies[tag.report_id] = json.loads(request.content)
        error = {"error": {"message": "captured, not sent", "type": "capture", "code": None}}
        return httpx.Response(400, json=error, request=request)


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers each chat-completions request with a stored completion (``batch collect``):
    the answer of the current report's tag, once; a second request (a re-ask) gets 400."""

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = dict(answers)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        tag = current_request.get() or RequestTag()
        answer = self.answers.pop(tag.report_id or "", None)
        if answer is None:
            error = {"error": {"message": "no stored answer", "type": "replay", "code": None}}
            return httpx.Response(400, json=error, request=request)
        return httpx.Response(200, json=answer, request=request)
