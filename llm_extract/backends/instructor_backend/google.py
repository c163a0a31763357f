"""Google's Gemini API through ``instructor.from_genai`` (tools mode: function calling)."""

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

#: The statuses google-genai retries (its own tenacity loop).
RETRIED = (408, 429, 500, 502, 503, 504)


class GoogleProvider:
    name = "google"
    sdk = "google.genai"

    def client(self, options: ClientOptions) -> instructor.AsyncInstructor:
        import instructor
        from google import genai
        from google.genai import types

        retry = types.HttpRetryOptions(
            attempts=options.max_retries + 1,
            initial_delay=options.retry_base_s,
            max_delay=options.retry_cap_s,
            http_status_codes=list(RETRIED),
        )
        sdk = genai.Client(
            api_key=options.api_key,
            http_options=types.HttpOptions(
                base_url=options.base_url,
                timeout=int(options.timeout_s * 1000),
                retry_options=retry,
                httpx_async_client=options.http,
            ),
        )
        made: instructor.AsyncInstructor = instructor.from_genai(
            sdk, mode=instructor.Mode.TOOLS, use_async=True
        )
        return made

    def request(self, messages: list[dict[str, str]], params: dict[str, Any]) -> dict[str, Any]:
        """Gemini calls the assistant ``model``; the system prompt goes as ``system``, which
        instructor sends as ``system_instruction`` as it is (a system message would be
        joined with a blank line and refused when it holds ``{{``)."""
        system = [m["content"] for m in messages if m["role"] == "system"]
        chat = [
            {**m, "role": "model"} if m["role"] == "assistant" else dict(m)
            for m in messages
            if m["role"] != "system"
        ]
        kwargs: dict[str, Any] = {"messages": chat, **params}
        if system:
            kwargs["system"] = "\n\n".join(system)
        return kwargs

    def usage(self, response: Any) -> Usage:
        raw = getattr(response, "usage_metadata", None)
        prompt = count(getattr(raw, "prompt_token_count", 0))
        answer = count(getattr(raw, "candidates_token_count", 0)) + count(
            getattr(raw, "thoughts_token_count", 0)
        )
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=answer,
            total_tokens=prompt + answer,
            cached_prompt_tokens=count(getattr(raw, "cached_content_token_count", 0)),
            attempts=1,
        )

    def answer(self, response: Any) -> tuple[dict[str, Any] | None, str]:
        import json

        texts: list[str] = []
        for candidate in (getattr(response, "candidates", None) or [])[:1]:
            content = getattr(candidate, "content", None)
            for part in getattr(content, "parts", None) or []:
                call = getattr(part, "function_call", None)
                if call is not None and isinstance(getattr(call, "args", None), dict):
                    data = dict(call.args)
                    return data, json.dumps(data, ensure_ascii=False)
                if isinstance(getattr(part, "text", None), str):
                    texts.append(part.text)
        return None, "\n".join(texts)

    def truncated(self, response: Any) -> bool:
        for candidate in (getattr(response, "candidates", None) or [])[:1]:
            reason = getattr(candidate, "finish_reason", None)
            return str(getattr(reason, "value", reason)) == "MAX_TOKENS"
        return False

    def error(self, exc: BaseException) -> ProviderError | None:
        import httpx
        import httpx2
        from google.genai import errors

        if isinstance(exc, errors.APIError):
            status = int(exc.code) if isinstance(exc.code, int) else None
            reason = str(exc.message or exc.status or "error")
            if status == 429:
                return ProviderError("rate_limited", reason, retried=True, status=status)
            if status in RETRIED:
                return ProviderError("unavailable", reason, retried=True, status=status)
            return ProviderError(f"http_{status}", reason, retried=False, status=status)
        if isinstance(exc, httpx.TimeoutException | httpx2.TimeoutException):
            return ProviderError("timeout", "no answer in time (timed out)", retried=True)
        if isinstance(exc, httpx.TransportError | httpx2.TransportError):
            return ProviderError("unavailable", "connection failed", retried=True)
        return None
