"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol.

Tests script its answers instead of calling a real API::

    server.enqueue(Status(429, headers={"Retry-After": "0"}), Reply({"convoys": []}))
    server.default = Reply({...})             # used when the queue is empty
    server.answer_by_text({"month 118": {...}, "month 113": {...}})

Actions (one per request, FIFO):

- ``Reply(payload, finish_reason="stop", usage=None)``: a completion shaped after the
  request: a forced tool call when the request has ``tools``; the JSON as message content
  when it has ``response_format``; otherwise (md_json) the JSON in a fenced ```json block.
  A ``str`` payload is sent verbatim (to send broken JSON).
- ``Status(code, body=None, headers=None)``: an HTTP error (429 with Retry-After, 500, 401...).
- ``Delay(seconds, then=action)``: answer ``then`` after a pause (client timeouts).
- ``Drop()``: close the connection without answering.
- ``Truncated(payload)``: finish_reason "length" with the JSON cut in half.
- ``Dynamic(fn)``: ``fn(request) -> action``, decided when the request arrives.

Rate limits: ``server.limits = ServerLimits(rpm=600, tpm=100_000)`` (tests/rate_limits.py)
admits each chat completion when it fits under requests and tokens per minute (the tokens its
answer's usage reports), sends OpenAI's ``x-ratelimit-*`` headers with every answer, and
answers 429 with ``Retry-After`` past them. Slots: ``server.slots = 4`` and
``server.slot_latency = 0.1`` imitate a local server with 4 parallel slots (llama.cpp's
``--parallel``): each admitted completion holds a slot for ``slot_latency`` seconds, and a
request that finds every slot busy waits for one (queueing latency).
``server.peak_in_slots`` is the most requests that held slots at once.

Server families: ``server.family = "llamacpp"`` (or openai, vllm, ollama, ollama-no-tools,
lmstudio: tests/server_families.py) makes the server refuse what that family refuses, with
that family's status and error body, before any scripted action is used; ``None`` (the
default) takes every request.

Every request on every route is recorded in ``server.requests`` (``.method``, ``.path``,
``.headers`` with lower-case names, ``.body`` parsed JSON or None, ``.raw`` bytes).

Routes: ``server.add_route(method, path_regex, handler)`` where
``handler(server, request, match) -> Response`` adds endpoints (files, batches...).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rate_limits import ServerLimits

JsonDict = dict[str, Any]
Payload = Mapping[str, Any] | str

# --- actions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A successful completion carrying ``payload`` (dict as JSON, str verbatim)."""

    payload: Payload
    finish_reason: str = "stop"
    #: Overrides of the usage figures: ``prompt_tokens``, ``completion_tokens``,
    #: ``cached_tokens`` (the rest are computed).
    usage: Mapping[str, int] | None = None


@dataclass(frozen=True)
class Status:
    """An HTTP error answer; ``body`` defaults to an OpenAI-style error object."""

    code: int
    body: Mapping[str, Any] | str | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Drop:
    """Close the connection without sending anything."""


@dataclass(frozen=True)
class Truncated:
    """finish_reason "length" with the JSON of ``payload`` cut in half."""

    payload: Payload
    usage: Mapping[str, int] | None = None


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` (interrupted when the server stops), then perform ``then``."""

    seconds: float
    then: Action = field(default_factory=lambda: Status(500))


@dataclass(frozen=True)
class Dynamic:
    """An action decided from the request when it arrives."""

    fn: Callable[[RecordedRequest], Action]


Action = Reply | Status | Drop | Truncated | Delay | Dynamic


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any

    def user_messages(self) -> list[str]:
        """Text of every user message of a chat-completions request, in order."""
        if not isinstance(self.body, dict):
            return []
        texts: list[str] = []
        for message in self.body.get("messages", []):
            if message.get("role") == "user":
                texts.append(_message_text(message.get("content")))
        for content in self.body.get("contents", []):  # Gemini's generateContent
            if isinstance(content, dict) and content.get("role", "user") == "user":
                texts.append(_message_text(content.get("parts")))
        return texts

    def all_text(self) -> str:
        """Every message's text joined (system, user, assistant, tool), for assertions."""
        if not isinstance(self.body, dict):
            return ""
        return "\n".join(_message_text(m.get("content")) for m in self.body.get("messages", []))


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


@dataclass
class Response:
    """What a route handler answers; ``None`` status means drop the connection."""

    status: int | None
    body: Any = None
    headers: Mapping[str, str] | None = None


# --- completion shaping --------------------------------------------------------------------------


def _payload_text(payload: Payload) -> str:
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, ensure_ascii=False)


def _tool_name(body: JsonDict) -> str | None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        name = choice.get("function", {}).get("name")
        if name:
            return str(name)
    tools = body.get("tools") or []
    if tools:
        return str(tools[0].get("function", {}).get("name", "tool"))
    return None


def _usage(body: JsonDict, text: str, overrides: Mapping[str, int] | None) -> JsonDict:
    given = dict(overrides or {})
    prompt = given.get("prompt_tokens", max(1, len(json.dumps(body.get("messages", []))) // 4))
    completion = given.get("completion_tokens", max(1, len(text) // 4))
    cached = given.get("cached_tokens", 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def completion(
    body: JsonDict,
    text: str,
    *,
    finish_reason: str,
    usage: Mapping[str, int] | None,
    number: int,
) -> JsonDict:
    """A chat.completion object for ``body`` carrying ``text`` where the request expects it."""
    message: JsonDict = {"role": "assistant", "content": None, "refusal": None}
    name = _tool_name(body)
    if name is not None:
        message["tool_calls"] = [
            {
                "id": f"call_{number}",
                "type": "function",
                "function": {"name": name, "arguments": text},
            }
        ]
    elif body.get("response_format") or body.get("guided_json") or body.get("structured_outputs"):
        message["content"] = text
    else:
        message["content"] = f"```json\n{text}\n```"
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "test-model"),
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}
        ],
        "usage": _usage(body, text, usage),
    }


def error_body(code: int, message: str | None = None) -> JsonDict:
    return {
        "error": {
            "message": message or f"scripted HTTP {code}",
            "type": "server_error" if code >= 500 else "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


# --- the server ----------------------------------------------------------------------------------

Handler = Callable[["OpenAIServer", RecordedRequest, "re.Match[str]"], Response]


class OpenAIServer:
    """Loopback OpenAI-protocol server with scripted answers. Use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.default: Action = Status(
            418, error_body(418, "openai_server: no scripted action for this request")
        )
        #: the server family imitated (tests/server_families.py); None takes everything
        self.family: str | None = None
        #: requests and tokens per minute enforced with OpenAI's headers (None: no limit)
        self.limits: ServerLimits | None = None
        #: parallel slots, each held ``slot_latency`` seconds by an answer (None: no slots)
        self.slots: int | None = None
        self.slot_latency = 0.0
        self.peak_in_slots = 0
        self._in_slots = 0
        self._slot_gate: threading.Semaphore | None = None
        self._queue: deque[Action] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._counter = 0
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_route("POST", r"/v1/chat/completions", _chat_completions)

    # -- lifecycle --
    def start(self) -> OpenAIServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting --
    def enqueue(self, *actions: Action) -> None:
        with self._lock:
            self._queue.extend(actions)

    @property
    def pending(self) -> int:
        """Scripted actions not consumed yet."""
        with self._lock:
            return len(self._queue)

    def answer_by_text(
        self, answers: Mapping[str, Payload], *, fallback: Action | None = None
    ) -> None:
        """Default: reply with the payload of the first substring found in the user messages
        (the last user message first, so re-asks and few-shot examples don't confuse it)."""
        table = dict(answers)
        otherwise = fallback or Status(
            404, error_body(404, "openai_server: no answer_by_text key in the request")
        )

        def pick(request: RecordedRequest) -> Action:
            for text in reversed(request.user_messages()):
                for needle, payload in table.items():
                    if needle in text:
                        return Reply(payload)
            return otherwise

        self.default = Dynamic(pick)

    def add_route(self, method: str, path_regex: str, handler: Handler) -> None:
        """Serve ``method`` on paths that fully match ``path_regex`` (newer routes first)."""
        self._routes.insert(0, (method.upper(), re.compile(path_regex), handler))

    def next_action(self, request: RecordedRequest) -> Action:
        with self._lock:
            action = self._queue.popleft() if self._queue else self.default
        while isinstance(action, Dynamic):
            action = action.fn(request)
        return action

    def next_number(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def hold_slot(self) -> None:
        """Wait for a free slot, hold it ``slot_latency`` seconds (see the module doc)."""
        with self._lock:
            if self._slot_gate is None:
                self._slot_gate = threading.Semaphore(self.slots or 1)
            gate = self._slot_gate
        with gate:
            with self._lock:
                self._in_slots += 1
                self.peak_in_slots = max(self.peak_in_slots, self._in_slots)
            try:
                self._stopping.wait(self.slot_latency)
            finally:
                with self._lock:
                    self._in_slots -= 1

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- dispatch (called from handler threads) --
    def _dispatch(self, request: RecordedRequest) -> Response:
        with self._lock:
            self.requests.append(request)
        path = request.path.split("?", 1)[0]
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and method == request.method:
                return handler(self, request, match)
        return Response(404, error_body(404, f"no route for {request.method} {path}"))

    def resolve(self, action: Action, request: RecordedRequest) -> Response:
        """Turn a chat-completions action into a response (sleeping for ``Delay``)."""
        body = request.body if isinstance(request.body, dict) else {}
        while True:
            if isinstance(action, Dynamic):
                action = action.fn(request)
            elif isinstance(action, Delay):
                if self._stopping.wait(action.seconds):
                    return Response(None)
                action = action.then
            else:
                break
        if isinstance(action, Drop):
            return Response(None)
        if isinstance(action, Status):
            payload = action.body if action.body is not None else self.error_body(action.code)
            return Response(action.code, payload, action.headers)
        if isinstance(action, Truncated):
            text = _payload_text(action.payload)
            cut = text[: max(1, len(text) // 2)]
            return Response(
                200,
                self.completion(
                    body, cut, finish_reason="length", usage=action.usage, number=self.next_number()
                ),
            )
        text = _payload_text(action.payload)
        return Response(
            200,
            self.completion(
                body,
                text,
                finish_reason=action.finish_reason,
                usage=action.usage,
                number=self.next_number(),
            ),
        )

    # -- the protocol's shapes (other protocols' servers override these two) --
    def completion(
        self,
        body: JsonDict,
        text: str,
        *,
        finish_reason: str,
        usage: Mapping[str, int] | None,
        number: int,
    ) -> JsonDict:
        """The success answer carrying ``text``; ``finish_reason`` "length" is a truncation."""
        return completion(body, text, finish_reason=finish_reason, usage=usage, number=number)

    def error_body(self, code: int) -> JsonDict:
        return error_body(code)


def _chat_completions(
    server: OpenAIServer, request: RecordedRequest, match: re.Match[str]
) -> Response:
    if not isinstance(request.body, dict) or "messages" not in request.body:
        return Response(400, error_body(400, "body must be a JSON object with messages"))
    if server.family is not None:
        from server_families import FAMILIES

        refused = FAMILIES[server.family](request.body)
        if refused is not None:
            return Response(*refused)
    response = server.resolve(server.next_action(request), request)
    if server.limits is not None and response.status == 200:
        usage = response.body.get("usage", {}) if isinstance(response.body, dict) else {}
        admission = server.limits.admit(int(usage.get("total_tokens", 1)))
        if not admission.admitted:
            message = "Rate limit reached for requests or tokens per minute (loopback)"
            return Response(429, error_body(429, message), admission.headers)
        response.headers = {**(response.headers or {}), **admission.headers}
    if server.slots is not None and response.status is not None:
        server.hold_slot()
    return response


def _make_handler(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = None
            request = RecordedRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                raw=raw,
                body=body,
            )
            response = server._dispatch(request)
            if response.status is None:
                self.close_connection = True
                return
            if isinstance(response.body, bytes):
                data, ctype = response.body, "application/octet-stream"
            elif isinstance(response.body, str):
                data, ctype = response.body.encode("utf-8"), "text/plain; charset=utf-8"
            else:
                data = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
                ctype = "application/json"
            try:
                self.send_response(response.status)
                headers = dict(response.headers or {})
                headers.setdefault("Content-Type", ctype)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = _handle
        do_POST = _handle
        do_DELETE = _handle

    return _Handler
