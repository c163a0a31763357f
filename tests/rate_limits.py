"""A provider's rate limit, as the loopback servers enforce it (tests and benchmarks).

:class:`ServerLimits` holds two buckets, requests and tokens per minute, each refilling
continuously and holding ``burst_s`` seconds of allowance (providers enforce their
per-minute limits over such short periods). A request is admitted when both buckets hold
what it costs (one request; its prompt and answer tokens), and every answer carries OpenAI's
headers::

    x-ratelimit-limit-requests: 600        x-ratelimit-limit-tokens: 150000
    x-ratelimit-remaining-requests: 7      x-ratelimit-remaining-tokens: 2100
    x-ratelimit-reset-requests: 300ms      x-ratelimit-reset-tokens: 1.2s

(``reset``: the time until the bucket is full again). A request that does not fit is
answered 429 with ``Retry-After`` (whole seconds, as OpenAI sends it) and ``retry-after-ms``,
and is not charged. Thread-safe: the test server answers from many threads.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def reset_text(seconds: float) -> str:
    """OpenAI's duration format: ``20ms``, ``1.5s``, ``6m0s``."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.0f}s"


class _Bucket:
    def __init__(self, per_minute: int, burst_s: float, now: float) -> None:
        self.limit = per_minute
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_s)
        self.level = self.capacity
        self.stamp = now

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` fits (0: it fits now)."""
        need = min(amount, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate

    def reset_s(self) -> float:
        return (self.capacity - self.level) / self.rate


@dataclass
class Admission:
    """What the limits said of one request: admitted or not, and the headers to send."""

    admitted: bool
    headers: dict[str, str]
    retry_after_s: float = 0.0


class ServerLimits:
    """Requests and tokens per minute (``None``: no limit of that kind); see the module doc."""

    def __init__(
        self,
        rpm: int | None = None,
        tpm: int | None = None,
        *,
        burst_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        now = clock()
        self._clock = clock
        self._lock = threading.Lock()
        self.requests = _Bucket(rpm, burst_s, now) if rpm else None
        self.tokens = _Bucket(tpm, burst_s, now) if tpm else None
        self.admitted = 0
        self.refused = 0
        self.tokens_admitted = 0

    def admit(self, tokens: int) -> Admission:
        """Charge one request of ``tokens`` when it fits, else refuse it (429)."""
        with self._lock:
            now = self._clock()
            buckets = [(b, n) for b, n in ((self.requests, 1), (self.tokens, tokens)) if b]
            for bucket, _ in buckets:
                bucket.refill(now)
            wait = max((bucket.wait_for(n) for bucket, n in buckets), default=0.0)
            if wait == 0.0:
                for bucket, n in buckets:
                    bucket.level -= n
                self.admitted += 1
                self.tokens_admitted += tokens
            else:
                self.refused += 1
            headers = self._headers()
            if wait > 0.0:
                headers["retry-after"] = str(max(1, math.ceil(wait)))
                headers["retry-after-ms"] = str(max(1, math.ceil(wait * 1000)))
            return Admission(wait == 0.0, headers, wait)

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, bucket in (("requests", self.requests), ("tokens", self.tokens)):
            if bucket is None:
                continue
            headers[f"x-ratelimit-limit-{name}"] = str(bucket.limit)
            headers[f"x-ratelimit-remaining-{name}"] = str(max(0, math.floor(bucket.level)))
            headers[f"x-ratelimit-reset-{name}"] = reset_text(bucket.reset_s())
        return headers


def prompt_tokens(messages: object) -> int:
    """The tokens a server counts for a request's messages (3 characters a token)."""
    if not isinstance(messages, list):
        return 1
    chars = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        chars += len(content) if isinstance(content, str) else len(str(content or ""))
    return max(1, chars // 3)
