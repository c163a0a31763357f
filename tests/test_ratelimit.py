"""Client-side rate limits: request and token buckets, settling, pauses."""

from __future__ import annotations

import asyncio
import time

import pytest

from llm_extract.errors import UsageError
from llm_extract.run.ratelimit import (
    RateLimiter,
    TokenBucket,
    estimate_prompt_tokens,
    estimate_request_tokens,
)


def test_estimate_grows_with_text_and_counts_max_tokens() -> None:
    short = [{"role": "user", "content": "قافلة"}]
    long = [{"role": "system", "content": "x" * 3000}, {"role": "user", "content": "ص" * 3000}]
    assert estimate_prompt_tokens(short) < estimate_prompt_tokens(long)
    assert estimate_prompt_tokens(long) >= 2000  # 6000 characters at 3 per token
    assert estimate_request_tokens(long, 500) == estimate_prompt_tokens(long) + 500
    assert estimate_request_tokens(long, None) == estimate_prompt_tokens(long)
    assert estimate_prompt_tokens(long, extra_chars=300) == estimate_prompt_tokens(long) + 100


def test_bad_limits_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        RateLimiter(rpm=0)
    with pytest.raises(UsageError):
        RateLimiter(tpm=-5)


def test_requests_per_minute_pace_a_burst() -> None:
    rpm = 6000  # 100 per second; the bucket holds 0.1 s of them (10)
    limiter = RateLimiter(rpm=rpm, burst_s=0.1)
    stamps: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        stamps.append(time.monotonic())

    async def run() -> float:
        start = time.monotonic()
        await asyncio.gather(*(one() for _ in range(60)))
        return time.monotonic() - start

    elapsed = asyncio.run(run())
    # 10 go at once, the other 50 at 100/s: at least 0.5 s, and not much more.
    assert 0.45 <= elapsed < 1.5
    stamps.sort()
    # In any 0.2 s window: at most the bucket (10) plus 0.2 s of refill (20), plus one.
    for i, t in enumerate(stamps):
        in_window = sum(1 for s in stamps[i:] if s - t < 0.2)
        assert in_window <= 31
    assert limiter.requests_sent == 60


def test_tokens_per_minute_block_until_refilled_and_settle_returns_tokens() -> None:
    async def run() -> tuple[float, float]:
        limiter = RateLimiter(tpm=60_000, burst_s=0.1)  # 1000 tokens/s, bucket of 100
        t0 = time.monotonic()
        first = await limiter.acquire(100)  # the whole bucket
        second = await limiter.acquire(100)  # waits ~0.1 s for the refill
        waited = time.monotonic() - t0
        # The first request really used 10 tokens: 90 go back, the next one needs no wait.
        limiter.settle(first, 10)
        limiter.settle(second, 10)
        t1 = time.monotonic()
        await limiter.acquire(100)
        return waited, time.monotonic() - t1

    waited, after_settle = asyncio.run(run())
    assert waited >= 0.08
    assert after_settle < 0.05


def test_a_request_larger_than_the_bucket_still_goes_when_full() -> None:
    async def run() -> float:
        limiter = RateLimiter(tpm=600, burst_s=1.0)  # a bucket of 10 tokens
        t0 = time.monotonic()
        await limiter.acquire(5000)
        return time.monotonic() - t0

    assert asyncio.run(run()) < 0.05


def test_settle_with_unknown_usage_keeps_the_estimate() -> None:
    async def run() -> int:
        limiter = RateLimiter(tpm=60_000)
        reservation = await limiter.acquire(300)
        limiter.settle(reservation, None)
        limiter.settle(reservation, 5)  # settling twice changes nothing
        return limiter.tokens_charged

    assert asyncio.run(run()) == 300


def test_pause_holds_every_request() -> None:
    async def run() -> float:
        limiter = RateLimiter()
        limiter.pause(0.2)
        t0 = time.monotonic()
        await asyncio.gather(limiter.acquire(), limiter.acquire())
        return time.monotonic() - t0

    assert 0.18 <= asyncio.run(run()) < 1.0


def test_bucket_with_a_fake_clock_is_exact() -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    async def run() -> None:
        bucket = TokenBucket(2.0, 4.0, clock=lambda: now[0], sleep=fake_sleep)
        for _ in range(4):
            await bucket.take(1)
        assert slept == []
        await bucket.take(1)  # empty: one unit takes 0.5 s at 2 per second
        assert slept == [pytest.approx(0.5)]
        bucket.give_back(10)
        assert bucket.level == 4.0  # never above capacity

    asyncio.run(run())
