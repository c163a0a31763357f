"""Backend for OpenAI and any OpenAI-compatible chat-completions server.

Who does what:

- a **mode** (:mod:`llm_extract.backends.modes`, one module each) says how the request holds
  the answer to the schema and where the answer is in the completion; ``auto`` finds the
  mode the server takes (:mod:`llm_extract.backends.chat.auto`);
- the request body is built **once** per report (model, messages, the mode's parameters,
  temperature, ``max_tokens``), encoded once, and sent as it is by
  :class:`~llm_extract.backends.chat.client.ChatClient`, the one transport retry loop
  (tenacity): transient failures are retried, a request the server rejects as invalid is
  not, whatever its status;
- this module validates each answer against the report (pydantic, with the report as
  context, so evidence that is not in the report is a validation error: grounding) and
  **re-asks** after a validation error (``settings.max_reasks`` times, stopping early when the
  same error comes back twice), sending the errors back in the mode's own way;
- after the last re-ask, the valid records of the last answer are kept and the others are
  returned as dropped records (:mod:`llm_extract.backends.salvage`).

Every completion that comes back (re-asks included) is counted in the usage. The API key and
the base URL's secrets are scrubbed from every error text raised here.

Why not instructor: it knew three of these modes, and what it still did for them (the re-ask
loop) is the short loop below; its per-request work and the private functions the backend had
to patch are gone with it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from llm_extract.backends.base import BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.backends.chat.auto import AutoMode, ModeMemory, server_id
from llm_extract.backends.chat.client import (
    DEFAULT_RETRY_POLICY,
    Attempts,
    ChatClient,
    HttpClient,
    Rejected,
    RetryPolicy,
)
from llm_extract.backends.chat.rejection import Rejection
from llm_extract.backends.modes import AUTO_ORDER, ModeHandler, handler_for
from llm_extract.backends.salvage import error_summary, salvage
from llm_extract.errors import ExtractionError, ProviderError, UsageError
from llm_extract.pricing import load_price_table
from llm_extract.redact import redact, url_secrets
from llm_extract.results import Usage
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import ConcreteMode

__all__ = ["NO_KEY", "OpenAIBackend", "RetryPolicy", "completion_usage"]

logger = logging.getLogger(__name__)

#: Key sent to servers that need none (a local server with a base URL and no key set).
NO_KEY = "no-key"

Accepted = Callable[[], Awaitable[None]]


def completion_usage(completion: dict[str, Any]) -> Usage:
    """Tokens of one completion (one attempt)."""
    raw = completion.get("usage")
    if not isinstance(raw, dict):
        return Usage(attempts=1)
    details = raw.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    prompt, answer = _count(raw.get("prompt_tokens")), _count(raw.get("completion_tokens"))
    total = _count(raw.get("total_tokens")) or prompt + answer
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=answer,
        total_tokens=total,
        cached_prompt_tokens=_count(cached),
        attempts=1,
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _first_choice(completion: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The message and finish reason of a completion's first choice (empty when none)."""
    choices = completion.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message")
        reason = choices[0].get("finish_reason")
        return (message if isinstance(message, dict) else {}), (
            reason if isinstance(reason, str) else None
        )
    return {}, None


def encode(body: dict[str, Any]) -> bytes:
    """The request body as sent: compact UTF-8 JSON, the same bytes as ``json.dumps(body,
    ensure_ascii=False, separators=(",", ":"))``, made by orjson (a tenth of the time for a
    body that carries the prompt, its worked example and the schema)."""
    return orjson.dumps(body)


@dataclass
class _Call:
    """What one report's extraction saw: the usage and answer of every completion."""

    usages: list[Usage] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    #: every HTTP request sent, transport retries included
    http: Attempts = field(default_factory=Attempts)

    def record(self, usage: Usage, text: str) -> None:
        self.usages.append(usage)
        self.texts.append(text)

    @property
    def attempts(self) -> int:
        """The answers the model gave (re-asks included)."""
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
        total = total.model_copy(
            update={
                "attempts": self.http.sent,
                "retries": dict(sorted(Counter(self.http.retried).items())),
            }
        )
        return total.model_copy(update={"cost_usd": load_price_table().cost(model, total)})


class _ModeRefused(Exception):
    """The server refused the mode itself (the first request of the mode)."""

    def __init__(self, mode: ConcreteMode, rejection: Rejection) -> None:
        self.mode = mode
        self.rejection = rejection
        super().__init__(rejection.reason)


class OpenAIBackend:
    """:class:`~llm_extract.backends.base.Backend` for OpenAI-compatible chat-completions APIs."""

    def __init__(
        self,
        settings: ModelSettings,
        *,
        http_client: HttpClient | None = None,
        retry_policy: RetryPolicy | None = None,
        memory: ModeMemory | None = None,
    ) -> None:
        self.name = settings.model
        self.settings = settings
        self._fixed = None if settings.mode == "auto" else handler_for(settings.mode)
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
        self.memory = memory
        self._auto = AutoMode(server_id(base_url), settings.model, memory)
        self._client = ChatClient(
            base_url=base_url,
            api_key=key,
            timeout_s=settings.timeout_s,
            max_retries=settings.max_retries,
            policy=retry_policy or DEFAULT_RETRY_POLICY,
            http_client=http_client,
        )
        self._params: dict[str, Any] = {"temperature": settings.temperature}
        if settings.max_tokens is not None:
            self._params["max_tokens"] = settings.max_tokens

    async def aclose(self) -> None:
        await self._client.aclose()

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    # --- choosing the mode ---------------------------------------------------------------------

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        if self._fixed is not None:
            try:
                return await self._extract(self._fixed, request)
            except _ModeRefused as refused:
                raise await self._refusal_error(refused) from None
        return await self._extract_auto(request)

    async def _extract_auto(self, request: ExtractionRequest) -> BackendResponse:
        for _ in range(2):  # a remembered mode refused now: probe once more
            mode = await self._auto.acquire()
            if mode is None:
                return await self._probe(request)
            try:
                return await self._extract(handler_for(mode), request)
            except _ModeRefused as refused:
                if not await self._auto.refused(mode):
                    raise await self._refusal_error(refused) from None
                logger.info("the server now refuses mode %s: probing again", mode)
        raise ProviderError(  # pragma: no cover  (a server that flips between refusals)
            "the server keeps refusing the modes it took before; give --mode",
            kind="mode_refused",
        )

    async def _probe(self, request: ExtractionRequest) -> BackendResponse:
        """This report finds the mode: each of AUTO_ORDER until one is not refused."""
        settled = False
        refused: _ModeRefused | None = None
        try:
            for mode in AUTO_ORDER:

                async def accepted(mode: ConcreteMode = mode) -> None:
                    nonlocal settled
                    settled = True
                    await self._auto.settle(mode)

                try:
                    return await self._extract(handler_for(mode), request, on_accepted=accepted)
                except _ModeRefused as exc:
                    logger.info("auto: the server refuses mode %s: %s", mode, exc.rejection.reason)
                    refused = exc
            assert refused is not None  # AUTO_ORDER is not empty
            raise await self._refusal_error(refused) from None
        finally:
            if not settled:
                await self._auto.settle(None)

    # --- one report in one mode ----------------------------------------------------------------

    async def _extract(
        self,
        mode: ModeHandler,
        request: ExtractionRequest,
        *,
        on_accepted: Accepted | None = None,
    ) -> BackendResponse:
        """Send, validate, re-ask: the extraction of one report in ``mode``."""
        settings = self.settings
        context = request.report.validation_context()
        call = _Call()
        body: dict[str, Any] = {"model": settings.model, **mode.request(request.messages)}
        body.update(self._params)
        seen: list[str] = []
        last_error: ValidationError | None = None
        for attempt in range(max(0, settings.max_reasks) + 1):
            completion = await self._send(mode, body, call, first=attempt == 0)
            if attempt == 0 and on_accepted is not None:
                await on_accepted()
            message, finish_reason = _first_choice(completion)
            text = mode.answer(message)
            call.record(completion_usage(completion), text)
            if finish_reason == "length":
                raise ExtractionError(
                    f"the answer was cut off at max_tokens={settings.max_tokens} "
                    "(finish_reason=length); raise max_tokens",
                    kind="truncated",
                    attempts=call.attempts,
                    last_completion=self._redact(text),
                    usage=call.usage(self.name),
                    mode=mode.name,
                )
            try:
                extraction = ReportExtraction.model_validate_json(
                    mode.json_text(text), context=context
                )
            except ValidationError as exc:
                last_error = exc
                summary = error_summary(exc)
                if seen and seen[-1] == summary:
                    break  # the same error twice in a row: another re-ask rarely helps
                seen.append(summary)
                body["messages"] = [*body["messages"], *mode.reask(message, str(exc))]
                continue
            return BackendResponse(
                extraction=extraction, usage=call.usage(self.name), raw=text, mode=mode.name
            )
        return self._after_failure(mode, call, context, last_error)

    async def _send(
        self, mode: ModeHandler, body: dict[str, Any], call: _Call, *, first: bool
    ) -> dict[str, Any]:
        try:
            return await self._client.send(encode(body), call.http)
        except Rejected as exc:
            if first and exc.rejection.refuses(mode.params):
                raise _ModeRefused(mode.name, exc.rejection) from None
            status = exc.rejection.status
            raise ProviderError(
                self._redact(f"{exc.rejection.reason} (HTTP {status}, not retried)"),
                kind=f"http_{status}",
                attempts=1,
                usage=call.usage(self.name),
                mode=mode.name,
            ) from None
        except ProviderError as exc:
            exc.args = (self._redact(str(exc)),)
            exc.usage = call.usage(self.name)
            exc.mode = mode.name
            raise

    async def _refusal_error(self, refused: _ModeRefused) -> ProviderError:
        """A one-line error that starts with the server's reason and names the mode to use."""
        rejection, mode = refused.rejection, refused.mode
        use = await self._suggestion(rejection, mode)
        hint = (
            f"use --mode {use}, or --mode auto to find the mode it takes"
            if use
            else "use --mode auto to find the mode it takes"
        )
        return ProviderError(
            self._redact(
                f"{rejection.reason} (HTTP {rejection.status}, not retried): "
                f"this server refuses --mode {mode}; {hint}"
            ),
            kind="mode_refused",
            attempts=1,
            mode=mode,
        )

    async def _suggestion(self, rejection: Rejection, refused: ConcreteMode) -> str | None:
        """A mode this server takes, when known: the one remembered for it, else a mode its
        refusal names (llama.cpp's: "Input should be 'text' or 'json_object'")."""
        known = await self._auto.known()
        if known is not None and known != refused:
            return known
        reason = rejection.reason.lower()
        for mode in AUTO_ORDER:
            if mode != refused and f"'{mode}'" in reason:
                return mode
        return None

    def _after_failure(
        self,
        mode: ModeHandler,
        call: _Call,
        context: dict[str, Any],
        error: ValidationError | None,
    ) -> BackendResponse:
        """Keep the valid records of the last answer, or fail with ``invalid_output``."""
        text = call.last_text or ""
        usage = call.usage(self.name)
        rescued = salvage(text, context)
        if rescued is None:
            raise ExtractionError(
                self._redact(
                    f"invalid output after {call.attempts} attempt(s): "
                    + (error_summary(error) if error is not None else "no answer")
                ),
                kind="invalid_output",
                attempts=call.attempts,
                last_completion=self._redact(text),
                usage=usage,
                mode=mode.name,
            )
        extraction, dropped = rescued
        return BackendResponse(
            extraction=extraction, usage=usage, dropped=dropped, raw=text, mode=mode.name
        )
