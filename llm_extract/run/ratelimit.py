"""Client-side rate limits: requests per minute and tokens per minute.

Two token buckets (one for requests, one for tokens) that refill continuously. A request
reserves one request and an *estimate* of its tokens before it is sent; when the response
arrives, :meth:`RateLimiter.settle` replaces the estimate by the tokens the API reports, so
the token bucket follows real usage. The buckets hold about one second of allowance
(``burst_s``): a run is paced evenly instead of firing a minute's worth at once, which is
also how providers enforce their per-minute limits over shorter periods.

Waiters are served first come, first served (the lock of :mod:`asyncio` is fair), so one
large request is not starved by many small ones.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from llm_extract.errors import UsageError

#: Characters per token assumed by the estimate. Arabic runs near 3 characters per token with
#: current tokenisers, JSON schemas and English instructions near 4: 3 errs on the safe side.
CHARS_PER_TOKEN = 3.0
#: Tokens of framing each chat message costs beyond its content.
TOKENS_PER_MESSAGE = 4


def estimate_prompt_tokens(messages: Sequence[dict[str, Any]], extra_chars: int = 0) -> int:
    """A conservative estimate of the prompt tokens of ``messages``.

    ``extra_chars`` covers what travels beside the messages (a tool or response schema).
    """
    chars = extra_chars
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif content is not None:
            chars += len(str(content))
    return int(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(messages) + 1


def estimate_request_tokens(
    messages: Sequence[dict[str, Any]], max_tokens: int | None, extra_chars: int = 0
) -> int:
    """Tokens a request may count against a tokens-per-minute limit: prompt + ``max_tokens``.

    Providers reserve ``max_tokens`` of output when they admit a request, so we do too.
    """
    return estimate_prompt_tokens(messages, extra_chars) + (max_tokens or 0)


def estimate_body_tokens(body: dict[str, Any]) -> int:
    """Prompt tokens of a request body: messages plus tools or schema; for the protocols that
    keep the prompt apart, Anthropic's ``system`` and Gemini's ``contents`` and
    ``systemInstruction`` too."""
    extra = {k: v for k, v in body.items() if k in ("tools", "response_format")}
    chars = len(json.dumps(extra)) if extra else 0
    apart = {k: v for k, v in body.items() if k in ("system", "systemInstruction", "contents")}
    chars += len(json.dumps(apart, ensure_ascii=False)) if apart else 0
    messages = body.get("messages") or []
    return estimate_prompt_tokens(messages, extra_chars=chars)


class TokenBucket:
    """A bucket of ``rate`` units per second holding at most ``capacity`` units.

    :meth:`take` waits until the bucket holds what is asked (or is full, for a request larger
    than the bucket) and then removes it; the level may go below zero, which delays the next
    callers. :meth:`give_back` returns units (or, with a negative amount, charges more).
    """

    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or capacity <= 0:
            raise UsageError("a rate limit must be positive")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._level = capacity
        self._stamp = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    @property
    def level(self) -> float:
        self._refill()
        return self._level

    async def take(self, amount: float) -> float:
        """Remove ``amount`` units, waiting as long as needed; returns the seconds waited."""
        waited = 0.0
        async with self._lock:
            need = min(amount, self.capacity)
            while True:
                self._refill()
                if self._level >= need:
                    self._level -= amount
                    return waited
                delay = (need - self._level) / self.rate
                waited += delay
                await self._sleep(delay)

    def give_back(self, amount: float) -> None:
        self._refill()
        self._level = min(self.capacity, self._level + amount)


@dataclass
class Reservation:
    """What one request reserved: settle it with the real token count when it is done."""

    tokens: int
    waited_s: float = 0.0
    settled: bool = False


class RateLimiter:
    """Requests-per-minute and tokens-per-minute limits shared by every request of a run.

    ``None`` for a limit means no limit. Use::

        reservation = await limiter.acquire(estimated_tokens)
        ...send the request...
        limiter.settle(reservation, usage.total_tokens)
    """

    def __init__(
        self,
        rpm: int | None = None,
        tpm: int | None = None,
        *,
        burst_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        for name, value in (("--rpm", rpm), ("--tpm", tpm)):
            if value is not None and value <= 0:
                raise UsageError(f"{name} must be a positive number, got {value}")
        self.rpm = rpm
        self.tpm = tpm
        self._requests = (
            TokenBucket(rpm / 60, max(1.0, rpm / 60 * burst_s), clock=clock, sleep=sleep)
            if rpm
            else None
        )
        self._tokens = (
            TokenBucket(tpm / 60, max(1.0, tpm / 60 * burst_s), clock=clock, sleep=sleep)
            if tpm
            else None
        )
        self.requests_sent = 0
        self.tokens_charged = 0
        self.waited_s = 0.0
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0

    async def acquire(self, estimated_tokens: int = 0) -> Reservation:
        """Wait until one more request of ``estimated_tokens`` fits under both limits."""
        waited = 0.0
        while (pause := self._paused_until - self._clock()) > 0:
            waited += pause
            await self._sleep(pause)
        if self._requests is not None:
            waited += await self._requests.take(1)
        if self._tokens is not None:
            waited += await self._tokens.take(estimated_tokens)
        self.requests_sent += 1
        self.tokens_charged += estimated_tokens
        self.waited_s += waited
        return Reservation(tokens=estimated_tokens, waited_s=waited)

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (the server answered 429 with Retry-After)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def settle(self, reservation: Reservation, actual_tokens: int | None) -> None:
        """Replace the reservation's estimate by the tokens the API reported.

        ``None`` (no usage in the answer, e.g. a failed request) keeps the estimate.
        """
        if reservation.settled or actual_tokens is None:
            reservation.settled = True
            return
        reservation.settled = True
        difference = reservation.tokens - actual_tokens
        self.tokens_charged -= difference
        if self._tokens is not None and difference:
            self._tokens.give_back(difference)

    def __repr__(self) -> str:
        return f"RateLimiter(rpm={self.rpm}, tpm={self.tpm})"
