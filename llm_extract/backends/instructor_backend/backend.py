"""Backend for providers beyond the OpenAI protocol, on instructor's public API.

``--model anthropic/<model>`` and ``--model google/<model>``: the provider's SDK client is
built with the key and base URL of the settings (:mod:`.anthropic`, :mod:`.google`), wrapped
by ``instructor.from_anthropic`` / ``instructor.from_genai`` (tools mode), and each report is
one ``create_with_completion`` call:

- ``response_model=ReportExtraction`` and ``context=`` the report's validation context: the
  same grounding as the OpenAI-compatible path (evidence must occur in the report);
- ``max_retries=`` a tenacity ``AsyncRetrying``: ``max_reasks`` re-asks after a validation
  error, stopping early when the same error comes back twice in a row;
- hooks (``completion:kwargs``, ``completion:response``, ``completion:error``,
  ``parse:error``) count the usage of every attempt and the errors re-asked, per report
  (a context variable: the hooks belong to the shared client, the reports run concurrently);
- transport retries (429, 529/503, timeouts) are the SDK's own, ``max_retries`` times;
- after the last re-ask the valid records of the last answer are kept
  (:mod:`llm_extract.backends.salvage`); a truncated answer (``stop_reason`` max_tokens,
  ``finishReason`` MAX_TOKENS) fails with ``truncated``.

instructor renders every message as a Jinja template when ``context=`` is given: each
message's text is sent as a placeholder filled from the context, so a report's braces are
never a template (docs/models.md).
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from llm_extract.backends.base import BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.backends.instructor_backend.bridge import bridged
from llm_extract.backends.instructor_backend.provider import (
    ClientOptions,
    Provider,
)
from llm_extract.backends.instructor_backend.provider import (
    ProviderError as Failure,
)
from llm_extract.backends.salvage import error_summary, salvage_data
from llm_extract.errors import ExtractionError, ProviderError, UsageError
from llm_extract.pricing import load_price_table
from llm_extract.redact import redact, url_secrets
from llm_extract.results import Usage
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import DEFAULT_MAX_TOKENS

if TYPE_CHECKING:
    import httpx
    import httpx2
    from tenacity import RetryCallState
    from tenacity.stop import stop_base

# instructor logs every failed attempt at ERROR: the backend reports them itself, in one line
# (without a handler of the application's own, Python would print them to stderr).
logging.getLogger("instructor").addHandler(logging.NullHandler())

#: The one mode: the provider's tool use (Anthropic tool_use, Gemini function calling).
MODE = "tools"
#: Key sent to a server that needs none (a base URL and no key set).
NO_KEY = "no-key"
#: Prefix of the context keys that carry the messages' texts (see the module doc).
_SLOT = "llm_extract_message_"


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff of the SDK's transport retries where the SDK lets it be set (seconds)."""

    base_s: float = 1.0
    cap_s: float = 30.0


DEFAULT_RETRY_POLICY = RetryPolicy()


@dataclass
class _Call:
    """What one report's call saw: each attempt's usage, answer and validation error."""

    usages: list[Usage] = field(default_factory=list)
    answers: list[tuple[dict[str, Any] | None, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    truncated: bool = False
    #: requests instructor sent (``completion:kwargs``) and the ones that failed
    #: (``completion:error``: what the SDK raised after its own retries)
    sent: int = 0
    failures: list[Exception] = field(default_factory=list)

    def usage(self, model: str) -> Usage:
        total = Usage()
        for i, one in enumerate(self.usages):
            if i > 0:
                one = one.model_copy(update={"reasks": 1, "reask_tokens": one.total_tokens})
            total = total.add(one)
        return total.model_copy(update={"cost_usd": load_price_table().cost(model, total)})

    @property
    def attempts(self) -> int:
        return len(self.usages)


_current: contextvars.ContextVar[_Call | None] = contextvars.ContextVar(
    "llm_extract_instructor_call", default=None
)


def provider_for(model: str) -> Provider:
    """The provider of ``anthropic/<model>`` or ``google/<model>``."""
    prefix = model.partition("/")[0]
    if prefix == "anthropic":
        from llm_extract.backends.instructor_backend.anthropic import AnthropicProvider

        return AnthropicProvider()
    if prefix == "google":
        from llm_extract.backends.instructor_backend.google import GoogleProvider

        return GoogleProvider()
    raise UsageError(f"model {model!r}: no provider named {prefix!r} (anthropic/, google/)")


def bare_model(model: str) -> str:
    """The provider's own model name: ``anthropic/claude-haiku-4-5`` -> ``claude-haiku-4-5``."""
    return model.partition("/")[2]


def template_safe(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """``kwargs`` with every message text replaced by a placeholder, and the context that
    fills them: instructor's Jinja rendering then gives back each text exactly."""
    slots: dict[str, str] = {}

    def slot(text: str) -> str:
        name = f"{_SLOT}{len(slots)}"
        slots[name] = text
        return "{{ " + name + " }}"

    messages = []
    for message in kwargs["messages"]:
        content = message["content"]
        if isinstance(content, str):
            content = slot(content)
        else:
            content = [
                {**block, "text": slot(block["text"])} if "text" in block else block
                for block in content
            ]
        messages.append({**message, "content": content})
    return {**kwargs, "messages": messages}, slots


class InstructorBackend:
    """:class:`~llm_extract.backends.base.Backend` for Anthropic and Google, via instructor."""

    def __init__(
        self,
        settings: ModelSettings,
        *,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.name = settings.model
        self.settings = settings
        self.provider = provider_for(settings.model)
        if not bare_model(settings.model):
            raise UsageError(f"model {settings.model!r}: give the model after the provider")
        if settings.mode not in ("auto", MODE):
            raise UsageError(
                f"--mode {settings.mode}: {self.provider.name} models take --mode {MODE} "
                "(their tool use)"
            )
        key = settings.api_key or (NO_KEY if settings.base_url else None)
        if key is None:
            raise UsageError(
                f"no API key for {self.provider.name}: set its key, or give the base URL of a "
                "server that needs none"
            )
        self._secrets = (key, *url_secrets(settings.base_url))
        policy = retry_policy or DEFAULT_RETRY_POLICY
        try:
            import httpx2

            # The run layer's client: httpx2 already (rate limits, request log) is used as it
            # is; an httpx one (dry-run capture, batch replay) is bridged.
            if http_client is None:
                http = httpx2.AsyncClient(timeout=settings.timeout_s)
            elif isinstance(http_client, httpx2.AsyncClient):
                http = http_client
            else:
                http = bridged(http_client, settings.timeout_s)
            self._client = self.provider.client(
                ClientOptions(
                    api_key=key,
                    base_url=settings.base_url,
                    timeout_s=settings.timeout_s,
                    max_retries=settings.max_retries,
                    retry_base_s=policy.base_s,
                    retry_cap_s=policy.cap_s,
                    http=http,
                )
            )
        except ImportError as exc:
            raise UsageError(
                f"model {settings.model!r} needs the {self.provider.name} SDK: "
                f"pip install 'llm-extract[{self.provider.name}]' ({exc.name} is missing)"
            ) from None
        self._http = http
        self._client.on("completion:kwargs", _on_kwargs)
        self._client.on("completion:response", self._on_response)
        self._client.on("completion:error", _on_error)
        self._client.on("parse:error", _on_parse_error)
        self._params: dict[str, Any] = {
            "model": bare_model(settings.model),
            "temperature": settings.temperature,
            # Anthropic requires max_tokens
            "max_tokens": settings.max_tokens or DEFAULT_MAX_TOKENS,
        }

    async def aclose(self) -> None:
        await self._http.aclose()

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    # --- the hooks (one client, many reports: the report's call is a context variable) --------

    def _on_response(self, response: Any) -> None:
        call = _current.get()
        if call is None:
            return
        call.usages.append(self.provider.usage(response))
        call.answers.append(self.provider.answer(response))
        call.truncated = call.truncated or self.provider.truncated(response)

    # --- one report ------------------------------------------------------------------------

    def request_kwargs(self, request: ExtractionRequest) -> dict[str, Any]:
        """The keyword arguments of ``create_with_completion`` for ``request``, before
        instructor adds the tool and the placeholders are filled."""
        return self.provider.request(request.messages, dict(self._params))

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

        call = _Call()
        token = _current.set(call)
        context = request.report.validation_context()
        kwargs, slots = template_safe(self.request_kwargs(request))

        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(0, self.settings.max_reasks) + 1) | _same_error_twice(call),
            retry=retry_if_exception_type((ValidationError, ValueError)),
            reraise=True,
        )
        try:
            extraction, _ = await self._client.create_with_completion(
                response_model=ReportExtraction,
                context={**context, **slots},
                max_retries=retrying,
                # as the OpenAI-compatible path: the schema's own strictness, not pydantic's
                # strict mode (Gemini's arguments come as a dict: dates and enums as strings)
                strict=False,
                **kwargs,
            )
        except Exception as exc:  # instructor wraps what failed: read it below
            return self._after_failure(call, context, exc)
        finally:
            _current.reset(token)
        raw = call.answers[-1][1] if call.answers else None
        return BackendResponse(
            extraction=_plain(extraction), usage=call.usage(self.name), raw=raw, mode=MODE
        )

    def _after_failure(
        self, call: _Call, context: dict[str, Any], exc: Exception
    ) -> BackendResponse:
        """A truncated answer, a provider error, or the valid records of the last answer."""
        usage = call.usage(self.name)
        last = call.answers[-1] if call.answers else (None, "")
        if call.truncated:
            raise ExtractionError(
                f"the answer was cut off at max_tokens={self._params['max_tokens']} "
                "(max_tokens); raise max_tokens",
                kind="truncated",
                attempts=call.attempts,
                last_completion=self._redact(last[1]),
                usage=usage,
                mode=MODE,
            ) from None
        failure = _provider_failure(self.provider, call.failures[-1] if call.failures else exc)
        if failure is not None:
            how = "gave up after the SDK's retries" if failure.retried else "not retried"
            status = f"HTTP {failure.status}, " if failure.status is not None else ""
            raise ProviderError(
                self._redact(f"{failure.kind}: {failure.reason} ({status}{how})"),
                kind=failure.kind,
                attempts=max(1, call.sent),
                usage=usage,
                mode=MODE,
            ) from None
        data = last[0]
        if data is None:
            data = _json_object(last[1])
        rescued = salvage_data(data, context) if data is not None else None
        if rescued is None:
            reason = call.errors[-1] if call.errors else _one_line(exc)
            raise ExtractionError(
                self._redact(f"invalid output after {call.attempts} attempt(s): {reason}"),
                kind="invalid_output",
                attempts=call.attempts,
                last_completion=self._redact(last[1]),
                usage=usage,
                mode=MODE,
            ) from None
        extraction, dropped = rescued
        return BackendResponse(
            extraction=extraction, usage=usage, dropped=dropped, raw=last[1], mode=MODE
        )


def _same_error_twice(call: _Call) -> stop_base:
    """A tenacity stop: another re-ask rarely helps when the same validation error came back
    twice in a row (as the OpenAI-compatible path)."""
    from tenacity.stop import stop_base

    class SameErrorTwice(stop_base):
        def __call__(self, state: RetryCallState) -> bool:
            return len(call.errors) >= 2 and call.errors[-1] == call.errors[-2]

    return SameErrorTwice()


def _plain(extraction: ReportExtraction) -> ReportExtraction:
    """instructor answers with its own subclass of the response model: the validated values
    as a plain :class:`ReportExtraction` (the cache and the result files store that)."""
    if type(extraction) is ReportExtraction:
        return extraction
    values = {name: getattr(extraction, name) for name in ReportExtraction.model_fields}
    return ReportExtraction.model_construct(_fields_set=extraction.model_fields_set, **values)


def _on_kwargs(*args: Any, **kwargs: Any) -> None:
    """A request is sent (the run layer's transport logs and rate-limits its HTTP attempts)."""
    call = _current.get()
    if call is not None:
        call.sent += 1


def _on_error(error: Exception, **metadata: Any) -> None:
    """A request failed after the SDK's own retries: the error the report fails with."""
    call = _current.get()
    if call is not None:
        call.failures.append(error)


def _on_parse_error(error: Exception, **metadata: Any) -> None:
    call = _current.get()
    if call is None:
        return
    call.errors.append(
        error_summary(error) if isinstance(error, ValidationError) else _one_line(error)
    )


def _provider_failure(provider: Provider, exc: BaseException) -> Failure | None:
    """The SDK error under instructor's wrapping, read by the provider."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        failure = provider.error(current)
        if failure is not None:
            return failure
        current = current.__cause__ or current.__context__
    return None


def _json_object(text: str) -> dict[str, Any] | None:
    from llm_extract.backends.salvage import parse_json_object

    return parse_json_object(text)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."


__all__ = ["MODE", "InstructorBackend", "RetryPolicy", "bare_model", "provider_for"]
