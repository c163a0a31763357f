"""One chat-completions request: a ready JSON body in, the completion (parsed JSON) out.

The body is sent as it is (bytes built once by the caller; no SDK walks it again) to
``<base URL>/chat/completions`` (OpenAI's API without a base URL), by an ``httpx2`` client
(the HTTP client of ``openai`` 3; its connection pool costs about half of ``httpx`` 0.28's
per request), or by the ``httpx`` client the run layer hands over (rate limits, request log,
capture and replay transports). This is the
one transport retry loop (tenacity): 408/409/429 (honouring ``Retry-After``), 5xx that are
not request-validation errors, timeouts and dropped connections are retried with exponential
backoff and jitter, ``max_retries`` times. A request the server rejects as invalid is never
retried, whatever its status (:class:`Rejected`). Every attempt sent is counted, and why each
retried one failed (:class:`Attempts`), so that a result's usage shows the retries. A server
that cannot be connected to at all is found once for the run
(:mod:`~llm_extract.backends.chat.reachability`), not once per report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
import orjson
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from llm_extract import __version__
from llm_extract.backends.chat.reachability import Reachability
from llm_extract.backends.chat.rejection import Rejection, read_rejection
from llm_extract.errors import ProviderError
from llm_extract.retry_after import retry_after_seconds

OPENAI_BASE_URL = "https://api.openai.com/v1"

#: Either generation of the HTTP client: both post and close alike. Requests go out through
#: ``httpx2`` (this module's own client, or the run layer's instrumented one); ``httpx``
#: clients only carry the capture and replay transports, which send nothing.
HttpClient = httpx.AsyncClient | httpx2.AsyncClient
#: The connection pool of the clients that send requests.
CONNECTION_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
_TIMEOUTS = (httpx.TimeoutException, httpx2.TimeoutException)
_TRANSPORT_ERRORS = (httpx.TransportError, httpx2.TransportError)
#: Failures to open a connection (refused, no such host, TLS handshake, connect timeout).
_CONNECT_ERRORS = (
    httpx.ConnectError,
    httpx2.ConnectError,
    httpx.ConnectTimeout,
    httpx2.ConnectTimeout,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff of the transport retries (seconds)."""

    base_s: float = 1.0
    cap_s: float = 30.0
    retry_after_cap_s: float = 60.0


#: Used by backends built without an explicit policy (tests shrink it).
DEFAULT_RETRY_POLICY = RetryPolicy()


@dataclass
class Attempts:
    """The HTTP attempts of one report's requests, added up by :meth:`ChatClient.send`."""

    #: every request sent (the first try, each retry, and one that failed at last)
    sent: int = 0
    #: why each attempt that was tried again failed: an HTTP status ("429", "500"),
    #: "timeout" or "connection", in order
    retried: list[str] = field(default_factory=list)


class Rejected(Exception):
    """The server rejected the request as it is (not retried); ``rejection`` says why."""

    def __init__(self, rejection: Rejection) -> None:
        self.rejection = rejection
        super().__init__(rejection.reason)


class _Transient(Exception):
    """A failure worth another try: ``kind`` and a one-line message."""

    def __init__(
        self, kind: str, reason: str, message: str, retry_after: float | None = None
    ) -> None:
        self.kind = kind
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(message)


def server_address(url: str) -> str:
    """``host:port`` of a URL (the port its scheme implies when it has none), no credentials."""
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return f"{host}:{port}"


def chat_url(base_url: str | None) -> str:
    """``<base URL>/chat/completions``, keeping the base URL's query (some servers want one)."""
    base = httpx.URL(base_url or OPENAI_BASE_URL)
    return str(base.copy_with(path=base.path.rstrip("/") + "/chat/completions"))


class ChatClient:
    """Sends chat-completions bodies to one server, with the transport retries."""

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str,
        timeout_s: float,
        max_retries: int,
        policy: RetryPolicy,
        http_client: HttpClient | None = None,
    ) -> None:
        self.url = chat_url(base_url)
        self.max_retries = max_retries
        self.policy = policy
        self.timeout_s = timeout_s
        self.reachability = Reachability(server_address(self.url))
        self.headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"llm-extract/{__version__}",
        }
        # The client given by the run layer (rate limits, log, capture) is ours to close too.
        self._http: HttpClient = http_client or httpx2.AsyncClient(
            timeout=timeout_s, limits=CONNECTION_LIMITS
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, body: bytes, attempts: Attempts | None = None) -> dict[str, Any]:
        """The completion the server answers to ``body``; each attempt, and why each retried
        one failed, is added to ``attempts``.

        Raises :class:`Rejected` when the server rejects the request (at once), and
        :class:`~llm_extract.errors.ProviderError` when a transient failure outlasts the
        retries or the answer is not a JSON object.
        """
        counted = Attempts() if attempts is None else attempts

        def retried(state: RetryCallState) -> None:  # before each retry's wait
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient):  # the only failure retried
                counted.retried.append(exc.reason)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            sleep=self.reachability.sleep,
            retry=retry_if_exception_type(_Transient),
            before_sleep=retried,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    counted.sent += 1
                    return await self._send_once(body)
        except _Transient as exc:
            tries = int(retrying.statistics.get("attempt_number", 1))
            raise ProviderError(
                f"{exc.kind} after {tries} attempt(s) (gave up): {exc}",
                kind=exc.kind,
                attempts=tries,
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def _send_once(self, body: bytes) -> dict[str, Any]:
        self.reachability.check()
        try:
            response = await self._http.post(
                self.url, content=body, headers=self.headers, timeout=self.timeout_s
            )
        except _CONNECT_ERRORS as exc:
            self.reachability.connect_failed(exc)  # raises once the server counts as down
            raise _Transient(
                "unavailable", "connection", f"connection failed ({type(exc).__name__})"
            ) from None
        except _TIMEOUTS:
            raise _Transient(
                "timeout", "timeout", f"no answer within {self.timeout_s:g} s (timed out)"
            ) from None
        except _TRANSPORT_ERRORS as exc:
            raise _Transient(
                "unavailable", "connection", f"connection failed ({type(exc).__name__})"
            ) from None
        self.reachability.answer()
        status = response.status_code
        if status >= 400:
            rejection = read_rejection(status, response.content)
            if not rejection.transient:
                raise Rejected(rejection)
            kind = "rate_limited" if status == 429 else "unavailable"
            if status in (408, 409):
                kind = "unavailable"
            raise _Transient(
                kind,
                str(status),
                f"HTTP {status}: {rejection.reason}",
                retry_after=retry_after_seconds(response.headers),
            )
        try:
            completion = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            completion = None
        if not isinstance(completion, dict):
            raise ProviderError(
                f"bad_response: HTTP {status} with a body that is not a chat completion",
                kind="bad_response",
                attempts=1,
            )
        return completion

    def _wait(self, state: RetryCallState) -> float:
        policy = self.policy
        exc = state.outcome.exception() if state.outcome else None
        asked = exc.retry_after if isinstance(exc, _Transient) else None
        if asked is not None:
            return min(asked, policy.retry_after_cap_s)
        backoff = wait_random_exponential(multiplier=policy.base_s, max=policy.cap_s)
        return float(backoff(state))
