"""Backend for OpenAI and any OpenAI-compatible server (openai client + instructor + tenacity).

Who retries what:

- **tenacity** is the only transport retry loop: 429 (honouring ``Retry-After``), 408/409,
  5xx, timeouts and dropped connections are retried with exponential backoff and jitter,
  ``settings.max_retries`` times. The SDK's own retries are off (``max_retries=0``).
  400/401/403/404... fail at once with ``ProviderError(kind="http_<code>")``.
- **instructor** only re-asks on validation errors (``settings.max_reasks`` times), sending
  the error back to the model. Validation runs with the report as context, so evidence that
  is not in the report is a validation error (grounding).
- After the last re-ask, the valid records of the last answer are kept and the others are
  returned as dropped records (:mod:`llm_extract.backends.salvage`).

Every completion that comes back (re-asks included) is counted in the usage. The API key is
scrubbed from every error text raised here.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import instructor
import openai
from instructor.core import IncompleteOutputException, InstructorRetryException
from openai.types.chat import ChatCompletion
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    wait_random_exponential,
)
from tenacity.stop import (
    stop_base,
)

from llm_extract.backends.base import BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.backends.salvage import error_summary, salvage
from llm_extract.errors import ExtractionError, ProviderError, UsageError
from llm_extract.pricing import load_price_table
from llm_extract.redact import redact, url_secrets
from llm_extract.results import Usage
from llm_extract.retry_after import retry_after_seconds
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import Mode

# instructor logs every failed attempt at ERROR; without a handler Python would print them
# on stderr. Callers that configure logging still see them.
logging.getLogger("instructor").addHandler(logging.NullHandler())


def instructor_internals() -> list[str]:
    """The instructor internals this backend relies on that are missing (empty: all there).

    pyproject.toml pins instructor below 2; ``tests/test_openai_compat.py`` fails with this
    list when an upgrade within that range moves them, naming what to update.
    """
    problems: list[str] = []
    try:
        from instructor.v2.core import patch as _patch
        from instructor.v2.validation import async_validators as _checks
    except ImportError as exc:
        return [f"_memoize_async_validator_check: cannot import instructor.v2 ({exc})"]
    if not callable(getattr(_checks, "reject_async_validators", None)):
        problems.append(
            "_memoize_async_validator_check: instructor.v2.validation.async_validators"
            ".reject_async_validators is gone"
        )
    if not hasattr(_patch, "reject_async_validators"):
        problems.append(
            "_memoize_async_validator_check: instructor.v2.core.patch no longer imports "
            "reject_async_validators"
        )
    if not isinstance(getattr(instructor, "ResponseSchema", None), type):
        problems.append("_GroundedExtraction: instructor.ResponseSchema is gone")
    return problems


def _memoize_async_validator_check() -> None:
    """instructor 1.17 walks the whole response model (~0.3 ms) to reject async validators
    half a dozen times per request, about half the client's own time per report. The
    answer depends on the class only: remember the classes that passed.

    A private function of instructor is replaced: :func:`instructor_internals` says when an
    upgrade moved it (then this does nothing, and a test fails)."""
    if instructor_internals():
        return
    from instructor.v2.core import patch as _patch
    from instructor.v2.validation import async_validators as _checks

    original = getattr(_checks, "reject_async_validators", None)
    if original is None or getattr(original, "_memoized", False):
        return
    passed: set[Any] = set()

    def reject_async_validators(response_model: Any) -> None:
        try:
            if response_model in passed:
                return
        except TypeError:  # an unhashable annotation: check it every time
            original(response_model)
            return
        original(response_model)
        passed.add(response_model)

    reject_async_validators._memoized = True  # type: ignore[attr-defined]  # marker attribute
    _checks.reject_async_validators = reject_async_validators
    if getattr(_patch, "reject_async_validators", None) is original:
        # patch.py imported the function by name when it was loaded
        setattr(_patch, "reject_async_validators", reject_async_validators)  # noqa: B010


_memoize_async_validator_check()


class _SameErrorAgain(stop_base):
    """Stops instructor's re-asks when a validation error repeats the previous one."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if exc is None:
            return False
        summary = error_summary(exc) if isinstance(exc, ValidationError) else str(exc)
        repeated = bool(self.seen) and self.seen[-1] == summary
        self.seen.append(summary)
        return repeated


def reask_policy(max_reasks: int) -> AsyncRetrying:
    """instructor's re-ask loop: up to ``max_reasks`` re-asks, but stop as soon as the model
    answers with the same validation error twice in a row (re-asking again rarely helps and
    costs a full request each time)."""
    return AsyncRetrying(
        stop=stop_any(stop_after_attempt(max(0, max_reasks) + 1), _SameErrorAgain()),
        retry=retry_if_exception_type((ValidationError, json.JSONDecodeError)),
        reraise=True,
    )


#: Key sent to servers that need none (a local server with a base URL and no key set).
NO_KEY = "no-key"

_INSTRUCTOR_MODES: dict[Mode, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "md_json": instructor.Mode.MD_JSON,
}
_TRANSIENT_STATUS = frozenset({408, 409, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff of the transport retries (seconds)."""

    base_s: float = 1.0
    cap_s: float = 30.0
    retry_after_cap_s: float = 60.0


#: Used by backends built without an explicit policy (tests shrink it).
DEFAULT_RETRY_POLICY = RetryPolicy()

# --- grounding through instructor ------------------------------------------------------------

# The validation context of the report being extracted. It is not handed to instructor as
# ``context`` because instructor then renders every message as a Jinja template (and dedents
# it): the prompt's messages must go out exactly as rendered.
_GROUNDING: ContextVar[dict[str, Any] | None] = ContextVar("grounding", default=None)


class _GroundedExtraction(ReportExtraction, instructor.ResponseSchema):
    """What instructor validates: a :class:`ReportExtraction` grounded in ``_GROUNDING``.

    Already a ``ResponseSchema``, so instructor does not wrap it in a fresh class on every
    call, and its schemas are computed once (they are the strict schema of ReportExtraction).
    """

    model_config = ReportExtraction.model_config | {"title": "ReportExtraction"}

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: Any = None,
        context: Any | None = None,
        **kwargs: Any,
    ) -> _GroundedExtraction:
        return super().model_validate_json(
            json_data,
            strict=strict,
            extra=extra,
            context=context if context is not None else _GROUNDING.get(),
            **kwargs,
        )

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if args or kwargs:
            return super().model_json_schema(*args, **kwargs)
        # A fresh copy for every caller (instructor may adjust it); decoding the cached JSON
        # text is several times faster than copy.deepcopy of the nested dict.
        copied: dict[str, Any] = json.loads(_report_schema_json())
        return copied


@functools.cache
def _report_schema_json() -> str:
    return json.dumps(ReportExtraction.model_json_schema(), ensure_ascii=False)


def _plain(parsed: ReportExtraction) -> ReportExtraction:
    """The same data as a plain :class:`ReportExtraction` (instructor returns a subclass)."""
    values = {name: getattr(parsed, name) for name in ReportExtraction.model_fields}
    return ReportExtraction.model_construct(_fields_set=set(parsed.model_fields_set), **values)


# --- per-call bookkeeping ----------------------------------------------------------------------


def completion_text(completion: ChatCompletion) -> str:
    """The answer of a completion: the tool call's arguments, else the message content."""
    if not completion.choices:
        return ""
    message = completion.choices[0].message
    for call in message.tool_calls or []:
        function = getattr(call, "function", None)
        if function is not None:
            return str(function.arguments or "")
    return message.content or ""


def completion_usage(completion: ChatCompletion) -> Usage:
    """Tokens of one completion (one attempt)."""
    raw = completion.usage
    if raw is None:
        return Usage(attempts=1)
    details = raw.prompt_tokens_details
    return Usage(
        prompt_tokens=raw.prompt_tokens,
        completion_tokens=raw.completion_tokens,
        total_tokens=raw.total_tokens,
        cached_prompt_tokens=(details.cached_tokens or 0) if details else 0,
        attempts=1,
    )


@dataclass
class _Call:
    """What one ``extract`` saw: the usage and answer of every completion, in order.

    Recorded as each completion arrives: instructor later overwrites ``completion.usage``
    with its running total.
    """

    usages: list[Usage] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def record(self, completion: ChatCompletion) -> None:
        self.usages.append(completion_usage(completion))
        self.texts.append(completion_text(completion))

    @property
    def attempts(self) -> int:
        return len(self.usages)

    @property
    def last_text(self) -> str | None:
        return self.texts[-1] if self.texts else None

    def usage(self, model: str) -> Usage:
        total = Usage()
        for i, one in enumerate(self.usages):
            if i > 0:
                one = one.model_copy(update={"reasks": 1, "reask_tokens": one.total_tokens})
            total = total.add(one)
        return total.model_copy(update={"cost_usd": load_price_table().cost(model, total)})


# --- transport errors ------------------------------------------------------------------------


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # timeouts and dropped connections too
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in _TRANSIENT_STATUS or exc.status_code >= 500
    return False


def retry_after_s(exc: BaseException | None) -> float | None:
    """Seconds the server asked to wait before retrying ``exc``, if it is an HTTP error."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    return retry_after_seconds(exc.response.headers)


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "unavailable"
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code == 429:
            return "rate_limited"
        if exc.status_code >= 500:
            return "unavailable"
        return f"http_{exc.status_code}"
    return "unavailable"


# --- the backend -----------------------------------------------------------------------------


class OpenAIBackend:
    """:class:`~llm_extract.backends.base.Backend` for OpenAI-compatible chat-completions APIs."""

    def __init__(
        self,
        settings: ModelSettings,
        *,
        http_client: httpx.AsyncClient | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        if settings.mode not in _INSTRUCTOR_MODES:
            raise UsageError(
                f"unknown mode {settings.mode!r}: choose one of {', '.join(_INSTRUCTOR_MODES)}"
            )
        self.name = settings.model
        self.settings = settings
        self.retry_policy = retry_policy or DEFAULT_RETRY_POLICY
        base_url = settings.base_url or None
        key = settings.api_key or None
        if key is None:
            if base_url is None:
                raise UsageError(
                    "no API key: set OPENAI_API_KEY, or give the base URL of a server that "
                    "needs none"
                )
            key = NO_KEY
        # The key, and the password or secret query values of the base URL: no message that
        # leaves this module carries them (nor any URL's credentials: see redact()).
        self._secrets = (key, *url_secrets(base_url))
        self._client = openai.AsyncOpenAI(
            api_key=key,
            base_url=base_url,
            timeout=settings.timeout_s,
            max_retries=0,  # tenacity is the only transport retry loop
            # openai 3 is typed for httpx2 clients but accepts (legacy) httpx ones at runtime
            http_client=http_client,  # type: ignore[arg-type]
        )
        self._schema = ReportExtraction.model_json_schema()

    async def aclose(self) -> None:
        await self._client.close()

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        settings = self.settings
        context = request.report.validation_context()
        call = _Call()
        create = cast(
            Callable[..., Awaitable[_GroundedExtraction]],
            instructor.patch(create=self._sender(call), mode=_INSTRUCTOR_MODES[settings.mode]),
        )
        params: dict[str, Any] = {"temperature": settings.temperature}
        if settings.max_tokens is not None:
            params["max_tokens"] = settings.max_tokens
        token = _GROUNDING.set(context)
        try:
            parsed = await create(
                response_model=_GroundedExtraction,
                messages=[dict(m) for m in request.messages],
                model=settings.model,
                max_retries=reask_policy(settings.max_reasks),
                strict=False,
                **params,
            )
        except IncompleteOutputException as exc:
            raise ExtractionError(
                f"the answer was cut off at max_tokens={settings.max_tokens} "
                "(finish_reason=length); raise max_tokens",
                kind="truncated",
                attempts=call.attempts,
                last_completion=self._redact(call.last_text or ""),
                usage=call.usage(self.name),
            ) from exc
        except InstructorRetryException as exc:
            return self._after_failure(exc, call, context)
        finally:
            _GROUNDING.reset(token)
        return BackendResponse(
            extraction=_plain(parsed),
            usage=call.usage(self.name),
            raw=call.last_text,
        )

    def _after_failure(
        self, exc: InstructorRetryException, call: _Call, context: dict[str, Any]
    ) -> BackendResponse:
        """A transport error is re-raised; a validation failure is salvaged if it can be."""
        cause = exc.__cause__
        usage = call.usage(self.name)
        if isinstance(cause, ExtractionError):
            cause.usage = usage
            raise cause
        if not exc.failed_attempts:
            raise ExtractionError(
                self._redact(f"model call failed: {cause or exc}"),
                kind="unexpected",
                attempts=call.attempts,
                usage=usage,
            ) from None  # its chain may quote the request or the answer verbatim
        text = call.last_text or ""
        rescued = salvage(text, context)
        if rescued is None:
            raise ExtractionError(
                self._redact(
                    f"invalid output after {call.attempts} attempt(s): "
                    + (
                        error_summary(cause)
                        if isinstance(cause, ValidationError)
                        else _first_line(str(cause or exc))
                    )
                ),
                kind="invalid_output",
                attempts=call.attempts,
                last_completion=self._redact(text),
                usage=usage,
            ) from None  # idem: only redacted text leaves this module
        extraction, dropped = rescued
        return BackendResponse(extraction=extraction, usage=usage, dropped=dropped, raw=text)

    def _sender(self, call: _Call) -> Callable[..., Awaitable[ChatCompletion]]:
        """The ``create`` instructor drives: one request with transport retries, recorded."""

        async def send(**kwargs: Any) -> ChatCompletion:
            self._finish_request(kwargs)
            completion = await self._send_with_retries(kwargs)
            call.record(completion)
            return completion

        return send

    def _finish_request(self, kwargs: dict[str, Any]) -> None:
        """json_schema mode: OpenAI strict structured outputs with our strict schema.

        The schema-carrying parameters (``tools``, ``response_format``) and the messages are
        plain JSON already, so they travel in ``extra_body``: the request body is the same, but
        the SDK no longer walks the whole schema and every message through its parameter
        transformer on every request (about 2 ms of the client's own time per report).
        """
        response_format = kwargs.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "ReportExtraction", "schema": self._schema, "strict": True},
            }
        extra: dict[str, Any] = {
            key: kwargs.pop(key) for key in ("tools", "response_format") if key in kwargs
        }
        # The messages are plain JSON too (a report and the prompt's example: thousands of
        # characters the transformer would walk); the SDK gets an empty list in their place,
        # which the extra body overrides: the body sent is the same.
        if "messages" in kwargs:
            extra["messages"] = list(kwargs["messages"])
            kwargs["messages"] = []
        if extra:
            kwargs["extra_body"] = {**(kwargs.get("extra_body") or {}), **extra}

    def _wait(self, state: RetryCallState) -> float:
        policy = self.retry_policy
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after_s(exc)
        if asked is not None:
            return min(asked, policy.retry_after_cap_s)
        backoff = wait_random_exponential(multiplier=policy.base_s, max=policy.cap_s)
        return float(backoff(state))

    async def _send_with_retries(self, kwargs: dict[str, Any]) -> ChatCompletion:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    completion: ChatCompletion = await self._client.chat.completions.create(
                        **kwargs
                    )
                    return completion
        except openai.OpenAIError as exc:
            attempts = int(retrying.statistics.get("attempt_number", 1))
            kind = _error_kind(exc)
            gave_up = " (gave up)" if _is_transient(exc) else ""
            raise ProviderError(
                self._redact(
                    f"{kind} after {attempts} attempt(s){gave_up}: {_first_line(str(exc))}"
                ),
                kind=kind,
                attempts=attempts,
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
