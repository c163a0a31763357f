"""The loopback server's rate-limit and slots modes (what `--concurrency auto` is tested on)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
from openai_server import OpenAIServer, Reply
from rate_limits import ServerLimits, reset_text

PAYLOAD = {"coalition_month": 118, "convoys": []}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def chat(server: OpenAIServer) -> httpx.Response:
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "text"}]}
    return httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=10)


def test_reset_text_is_openai_s_duration_format() -> None:
    assert reset_text(0.02) == "20ms"
    assert reset_text(1.5) == "1.5s"
    assert reset_text(360) == "6m0s"


def test_limits_admit_until_a_bucket_is_empty_then_refill_with_time() -> None:
    clock = FakeClock()
    limits = ServerLimits(rpm=120, tpm=6000, clock=clock)  # 2 requests, 100 tokens a second
    first = limits.admit(30)
    assert first.admitted
    assert first.headers["x-ratelimit-limit-requests"] == "120"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert first.headers["x-ratelimit-remaining-tokens"] == "70"
    assert first.headers["x-ratelimit-reset-requests"] == "500ms"
    assert first.headers["x-ratelimit-reset-tokens"] == "300ms"
    assert limits.admit(60).admitted  # 0 requests, 10 tokens left
    refused = limits.admit(1)
    assert not refused.admitted
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["retry-after-ms"] == "500"
    assert (limits.admitted, limits.refused) == (2, 1)
    clock.now += 0.5  # one request back, 60 tokens
    assert not limits.admit(80).admitted  # tokens bind now
    assert limits.admit(50).admitted


def test_server_sends_the_headers_and_429_with_retry_after_past_the_limit(
    openai_server: OpenAIServer,
) -> None:
    openai_server.default = Reply(PAYLOAD)
    clock = FakeClock()
    openai_server.limits = ServerLimits(rpm=120, tpm=100_000, clock=clock)
    answers = [chat(openai_server) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["x-ratelimit-remaining-requests"] == "1"
    assert answers[1].headers["x-ratelimit-remaining-requests"] == "0"
    assert int(answers[1].headers["x-ratelimit-remaining-tokens"]) < 1666
    assert answers[2].headers["retry-after"] == "1"
    assert answers[2].json()["error"]["message"].startswith("Rate limit reached")
    clock.now += 0.5
    assert chat(openai_server).status_code == 200


def test_slots_hold_at_most_n_answers_at_once_and_queue_the_rest(
    openai_server: OpenAIServer,
) -> None:
    openai_server.default = Reply(PAYLOAD)
    openai_server.slots = 2
    openai_server.slot_latency = 0.2
    codes: list[int] = []
    threads = [
        threading.Thread(target=lambda: codes.append(chat(openai_server).status_code))
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 5
    assert openai_server.peak_in_slots == 2
