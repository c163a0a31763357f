"""What a server says when it rejects a request: its own reason, out of the many shapes of
JSON error bodies, and whether the rejection is permanent and whether it refuses a mode.

Error bodies seen in the wild (the reason is taken from the first that fits):

- OpenAI, llama-cpp-python, Ollama's OpenAI endpoint: ``{"error": {"message", "param", ...}}``
- LM Studio, Ollama's own API: ``{"error": "text"}``
- vLLM: ``{"object": "error", "message": "...", "code": 400}``
- FastAPI servers: HTTP 422 ``{"detail": [{"loc": [...], "msg": "..."}]}``

llama-cpp-python answers a request that fails its validation with HTTP 500 and the repr of
pydantic's error list as the message; such a 500 is a request error like a 400 (not retried),
and its reason reads ``response_format.type: Input should be 'text' or 'json_object'``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Statuses retried as transient (besides 5xx that are not request-validation errors).
TRANSIENT_STATUS = frozenset({408, 409, 429})
#: Statuses with which servers refuse a request they cannot take as it is.
REFUSAL_STATUS = frozenset({400, 422})
_MAX_REASON = 300
_MAX_SCAN = 20_000  # characters of an error body looked at

# One pydantic error inside a Python repr: 'loc': ('body', 'response_format', 'type'), 'msg': "..."
_LOC_MSG = re.compile(
    r"""['"]loc['"]:\s*[(\[]([^)\]]{0,300})[)\]],\s*['"]msg['"]:\s*"""
    r"""(?:'((?:[^'\\]|\\.){0,500})'|"((?:[^"\\]|\\.){0,500})")"""
)
_VALIDATION_MARKS = (
    "validation error",
    "'loc':",
    '"loc":',
    "literal_error",
    "input should be",
    "extra inputs are not permitted",
    "field required",
    "extra_forbidden",
)


@dataclass(frozen=True)
class Rejection:
    """A request the server rejected: its status and its reason (one line)."""

    status: int
    reason: str
    #: the ``param`` the server named, if any (OpenAI's errors do)
    param: str | None
    #: the body reads as a request-validation error (pydantic / FastAPI style)
    validation: bool

    @property
    def transient(self) -> bool:
        """Worth retrying: 408/409/429, or a 5xx that is not a request-validation error."""
        if self.status in TRANSIENT_STATUS:
            return True
        return self.status >= 500 and not self.validation

    def names(self, params: Sequence[str]) -> bool:
        """The rejection is about one of ``params`` (a request parameter of a mode): its
        reason or its ``param`` names it. (Not the whole body: a validation error may quote
        the whole request back.)"""
        if not params:
            return False
        haystack = f"{self.param or ''}\n{self.reason}".lower()
        return any(p.lower() in haystack for p in params)

    def refuses(self, params: Sequence[str]) -> bool:
        """The server refuses a mode that sends ``params``: a 400/422 (or a 500 that is a
        request-validation error) that names one of them."""
        refusal = self.status in REFUSAL_STATUS or (self.status >= 500 and self.validation)
        return refusal and self.names(params)


def read_rejection(status: int, content: bytes) -> Rejection:
    """The :class:`Rejection` of an HTTP error answer (any body, JSON or not)."""
    text = content[: _MAX_SCAN * 4].decode("utf-8", errors="replace")[:_MAX_SCAN]
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = None
    message, param = _message(body) if body is not None else (text, None)
    validation = status == 422 or _looks_like_validation(message)
    reason = _reason(message, body) or f"HTTP {status}"
    return Rejection(
        status=status,
        reason=_one_line(reason),
        param=param,
        validation=validation,
    )


def _message(body: Any) -> tuple[str, str | None]:
    """The error message of a parsed body, and the ``param`` it names."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            param = error.get("param")
            named = param if isinstance(param, str) else None
            return _as_text(error.get("message") or error), named
        if isinstance(error, str):
            return error, None
        if "message" in body:
            return _as_text(body["message"]), None
        if "detail" in body:
            return _as_text(body["detail"]), None
    return _as_text(body), None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _looks_like_validation(message: str) -> bool:
    lowered = message.lower()
    return any(mark in lowered for mark in _VALIDATION_MARKS)


def _reason(message: str, body: Any) -> str:
    """``field.path: message`` for validation errors, else the message's first line."""
    details = _detail_list(body)
    if details:
        return details
    found = [
        f"{_path(m.group(1))}: {(m.group(2) if m.group(2) is not None else m.group(3))}"
        for m in _LOC_MSG.finditer(message)
    ]
    if found:
        return "; ".join(found)
    for line in message.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _detail_list(body: Any) -> str:
    """FastAPI's 422 ``{"detail": [{"loc": [...], "msg": ...}]}`` as ``path: msg; ...``."""
    if not isinstance(body, dict) or not isinstance(body.get("detail"), list):
        return ""
    parts = []
    for item in body["detail"]:
        if isinstance(item, dict) and isinstance(item.get("msg"), str):
            loc = item.get("loc")
            where = ".".join(str(p) for p in loc if p != "body") if isinstance(loc, list) else ""
            parts.append(f"{where}: {item['msg']}" if where else item["msg"])
    return "; ".join(parts)


def _path(loc: str) -> str:
    parts = [p.strip().strip("'\"") for p in loc.split(",")]
    parts = [p for p in parts if p]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "request"


def _one_line(text: str) -> str:
    """One line of plain text: no line breaks, no control characters (a hostile server's
    terminal escapes are never printed), at most a few hundred characters."""
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 3] + "..."
