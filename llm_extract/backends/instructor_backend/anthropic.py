"""Anthropic's Messages API through ``instructor.from_anthropic`` (tools mode).

The system prompt and the worked example are the same for every report: both are marked
``cache_control: ephemeral``, so Anthropic reads them from its prompt cache after the first
request (cached input tokens cost a tenth of the input price; writing the cache costs a
quarter more than input, once per five minutes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llm_extract.backends.instructor_backend.provider import (
    ClientOptions,
    ProviderError,
    count,
)
from llm_extract.results import Usage

if TYPE_CHECKING:
    import instructor

CACHE = {"type": "ephemeral"}
_RETRIED = frozenset({408, 409, 429}) | frozenset(range(500, 600))


class AnthropicProvider:
    name = "anthropic"
    sdk = "anthropic"

    def client(self, options: ClientOptions) -> instructor.AsyncInstructor:
        import anthropic
        import instructor

        sdk = anthropic.AsyncAnthropic(
            api_key=options.api_key,
            base_url=options.base_url,
            timeout=options.timeout_s,
            max_retries=options.max_retries,
            http_client=options.http,
        )
        return instructor.from_anthropic(sdk, mode=instructor.Mode.TOOLS)

    def request(self, messages: list[dict[str, str]], params: dict[str, Any]) -> dict[str, Any]:
        """The system prompt as a cached block; the last message before the report (the end
        of the worked example) marks the end of the cached prefix. The Messages API of the
        anthropic SDK 2 takes no ``temperature``: it is left out (docs/models.md)."""
        params = {k: v for k, v in params.items() if k != "temperature"}
        system = [m["content"] for m in messages if m["role"] == "system"]
        chat: list[dict[str, Any]] = [dict(m) for m in messages if m["role"] != "system"]
        if len(chat) > 1:
            before = chat[-2]
            before["content"] = [
                {"type": "text", "text": before["content"], "cache_control": CACHE}
            ]
        kwargs: dict[str, Any] = {"messages": chat, **params}
        if system:
            kwargs["system"] = [
                {"type": "text", "text": "\n\n".join(system), "cache_control": CACHE}
            ]
        return kwargs

    def usage(self, response: Any) -> Usage:
        raw = getattr(response, "usage", None)
        fresh = count(getattr(raw, "input_tokens", 0))
        read = count(getattr(raw, "cache_read_input_tokens", 0))
        written = count(getattr(raw, "cache_creation_input_tokens", 0))
        answer = count(getattr(raw, "output_tokens", 0))
        prompt = fresh + read + written  # Anthropic's input_tokens leaves the cache out
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=answer,
            total_tokens=prompt + answer,
            cached_prompt_tokens=read,
            cache_write_tokens=written,
            attempts=1,
        )

    def answer(self, response: Any) -> tuple[dict[str, Any] | None, str]:
        import json

        texts: list[str] = []
        for block in getattr(response, "content", None) or []:
            kind = getattr(block, "type", None)
            if kind == "tool_use" and isinstance(getattr(block, "input", None), dict):
                data = dict(block.input)
                return data, json.dumps(data, ensure_ascii=False)
            if kind == "text":
                texts.append(str(getattr(block, "text", "")))
        return None, "\n".join(texts)

    def truncated(self, response: Any) -> bool:
        return getattr(response, "stop_reason", None) == "max_tokens"

    def error(self, exc: BaseException) -> ProviderError | None:
        import anthropic

        if isinstance(exc, anthropic.APITimeoutError):
            return ProviderError("timeout", "no answer in time (timed out)", retried=True)
        if isinstance(exc, anthropic.APIConnectionError):
            return ProviderError("unavailable", "connection failed", retried=True)
        if isinstance(exc, anthropic.APIStatusError):
            status = exc.status_code
            body: dict[str, Any] = exc.body if isinstance(exc.body, dict) else {}
            found = body.get("error")
            detail: dict[str, Any] = found if isinstance(found, dict) else {}
            reason = str(detail.get("message") or exc.message)
            kind = detail.get("type")
            if status == 429:
                return ProviderError("rate_limited", reason, retried=True, status=status)
            if status in _RETRIED:
                return ProviderError("unavailable", reason, retried=True, status=status)
            return ProviderError(
                f"http_{status}", f"{reason} ({kind})" if kind else reason, False, status
            )
        return None
