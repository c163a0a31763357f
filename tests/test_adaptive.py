"""`--concurrency auto`: the AIMD window and the header pacing, on a fake clock."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import pytest

from llm_extract.run.adaptive import (
    AimdWindow,
    AutoConcurrency,
    HeaderPacer,
    parse_duration,
)


class FakeClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def slots_latency(in_flight: int, slots: int, service_s: float) -> float:
    """A server of ``slots`` parallel slots: a closed loop of ``in_flight`` requests waits
    in_flight / slots service times each once the slots are full."""
    return service_s * max(1.0, in_flight / slots)


def drive(window: AimdWindow, rounds: int, latency: float | None = None, slots: int = 4) -> None:
    """Feed the window one round at a time (every request of a round sent after the last
    change), at latencies a server of ``slots`` slots gives."""
    now = max(0.0, window.changed_at)
    for _ in range(rounds):
        size = window.size
        took = latency if latency is not None else slots_latency(size, slots, 0.2)
        sent = now
        now += took
        for _ in range(size):
            window.answered(sent, took, now)


@pytest.mark.parametrize("slots", [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48])
def test_window_settles_within_one_step_of_the_server_s_slots(slots: int) -> None:
    window = AimdWindow()
    drive(window, 60, slots=slots)
    last = window.history[-20:]
    assert all(slots - 1 <= size <= slots + 1 for size in last), last
    assert Counter(last).most_common(1)[0][0] in (slots, slots + 1)


def test_slow_start_multiplies_the_window_each_round_while_latency_holds() -> None:
    window = AimdWindow()
    assert window.size == 1
    drive(window, 2, latency=0.2)
    assert window.history == [8, 64]
    assert window.slow_start
    drive(window, 10, latency=0.2)
    assert window.size == 64  # the most it grows to by itself
    assert window.decreases == 0
    window.floor = 300.0  # a server's announced rate needs more
    drive(window, 1, latency=0.2)
    assert window.size == 300


def test_429_halves_the_window_once_per_round_then_it_grows_by_one() -> None:
    window = AimdWindow(limit=32)
    window.overloaded(sent_at=5.0, now=6.0)
    assert window.size == 16 and not window.slow_start
    window.overloaded(sent_at=5.5, now=6.1)  # sent before the decrease: the same storm
    assert window.size == 16
    assert window.overloads == 2 and window.decreases == 1
    for _ in range(16):
        window.answered(sent_at=7.0, latency_s=0.2, now=7.2)
    assert window.size == 17  # additive increase after the first overload


def test_answers_to_requests_sent_before_a_change_do_not_count() -> None:
    window = AimdWindow(limit=4)
    for _ in range(4):
        window.answered(sent_at=0.0, latency_s=0.2, now=0.2)
    assert window.size == 32
    for _ in range(32):
        window.answered(sent_at=0.1, latency_s=5.0, now=5.1)  # in flight before the change
    assert window.size == 32 and window.decreases == 0


def test_window_never_leaves_its_bounds() -> None:
    window = AimdWindow(limit=2, minimum=1, maximum=10)
    for step in range(10):
        window.overloaded(sent_at=float(step), now=float(step) + 0.5)
    assert window.size == 1
    drive(window, 40, latency=0.2)
    assert window.size == 10


def test_parse_duration_reads_openai_s_reset_headers() -> None:
    assert parse_duration("20ms") == pytest.approx(0.02)
    assert parse_duration("1.5s") == pytest.approx(1.5)
    assert parse_duration("6m0s") == pytest.approx(360)
    assert parse_duration("1h2m3s") == pytest.approx(3723)
    assert parse_duration("2") == pytest.approx(2)
    assert parse_duration("soon") is None
    assert parse_duration("5s later") is None
    assert parse_duration(None) is None


HEADERS = {
    "x-ratelimit-limit-requests": "600",
    "x-ratelimit-remaining-requests": "3",
    "x-ratelimit-reset-requests": "700ms",
}


def test_pacer_learns_the_rate_from_the_headers_and_spaces_requests() -> None:
    clock = FakeClock()

    async def scenario() -> list[float]:
        pacer = HeaderPacer(share=1.0, clock=clock, sleep=clock.sleep)
        assert not pacer.pacing
        assert await pacer.wait(0) == 0.0  # nothing known yet: no pacing
        pacer.observe(HEADERS, in_flight=1)
        assert pacer.pacing
        assert pacer.buckets["requests"].capacity == pytest.approx(10.0)  # 3 + 0.7 s x 10/s
        starts = []
        for _ in range(6):
            await pacer.wait(0)
            starts.append(clock.now)
        return starts

    starts = asyncio.run(scenario())
    # 3 remaining go at once, then one every 0.1 s (600 a minute)
    assert starts[:3] == [0.0] * 3
    assert [round(b - a, 6) for a, b in itertools.pairwise(starts[2:])] == [0.1] * 3


def test_pacer_holds_everything_for_a_429_s_retry_after() -> None:
    clock = FakeClock()

    async def scenario() -> float:
        pacer = HeaderPacer(share=1.0, clock=clock, sleep=clock.sleep)
        pacer.observe(HEADERS, in_flight=1)
        pacer.overloaded({**HEADERS, "retry-after": "2"})
        await pacer.wait(0)
        return clock.now

    assert asyncio.run(scenario()) >= 2.0


def test_pacer_settles_token_estimates_with_the_usage_counted() -> None:
    clock = FakeClock()
    headers = {
        "x-ratelimit-limit-tokens": "60000",
        "x-ratelimit-remaining-tokens": "1000",
        "x-ratelimit-reset-tokens": "0ms",
    }
    pacer = HeaderPacer(share=1.0, clock=clock, sleep=clock.sleep)
    pacer.observe(headers, in_flight=1)
    body = b'{"messages": [{"role": "user", "content": "' + b"x" * 3000 + b'"}], "max_tokens": 50}'
    reserved, guess = pacer.estimate(body)
    assert reserved == guess + 50
    pacer.buckets["tokens"].give_back(-reserved)
    pacer.observe(headers, in_flight=1, reserved=reserved, guess=guess, used=guess // 2)
    assert pacer.buckets["tokens"].level == pytest.approx(1000 - guess // 2)
    later, _ = pacer.estimate(body)
    assert later == round(guess * ((guess // 2) / guess) * 1.05)  # scaled by the counts, +5 %


def test_auto_concurrency_holds_requests_past_the_window_and_describes_the_run() -> None:
    clock = FakeClock()

    async def scenario() -> tuple[int, str]:
        auto = AutoConcurrency(window=AimdWindow(limit=2), clock=clock)
        first = await auto.enter()
        second = await auto.enter()
        third = asyncio.ensure_future(auto.enter())
        await asyncio.sleep(0)
        assert not third.done()
        assert "waiting for an answer" in auto.status()
        await auto.leave(first, 200, HEADERS, None)
        ticket = await third
        await auto.leave(second, 429, {"retry-after": "1"}, None)
        await auto.leave(ticket, 200, {}, None)
        return auto.in_flight, auto.describe()

    in_flight, text = asyncio.run(scenario())
    assert in_flight == 0
    assert "600 requests/min" in text and "1 answered 429" in text


def test_latency_growth_never_takes_the_window_below_what_the_pacing_needs() -> None:
    window = AimdWindow(limit=32, slow_start=False)
    window.floor = 20.0  # 40 requests a second x 0.5 s
    drive(window, 1, latency=0.2)
    drive(window, 1, latency=0.6)  # three times slower, once: perhaps noise
    assert window.size == 33 and window.decreases == 0
    drive(window, 1, latency=0.6)  # twice: the machine is slow, but the pace needs 20
    assert window.size == 20
    window.overloaded(sent_at=window.changed_at, now=window.changed_at + 1)
    assert window.size == 10  # a 429 still halves it


def test_request_rate_is_the_lower_of_the_requests_and_the_tokens_limits() -> None:
    pacer = HeaderPacer(share=1.0)
    pacer.observe({"x-ratelimit-limit-requests": "600"}, in_flight=1)
    assert pacer.request_rate() == pytest.approx(10.0)
    pacer.observe({"x-ratelimit-limit-tokens": "60000"}, in_flight=1, guess=100, used=200)
    assert pacer.request_rate() == pytest.approx(5.0)  # 1000 tokens a second, 200 a request


def test_a_window_below_what_the_pacing_needs_grows_to_it_at_once() -> None:
    window = AimdWindow(limit=3, slow_start=False)
    window.floor = 25.0
    drive(window, 1, latency=0.2)
    assert window.size == 25


def test_a_slower_server_is_not_queueing_the_window_comes_back_and_that_is_the_base() -> None:
    window = AimdWindow(limit=16, slow_start=False)
    drive(window, 1, latency=0.2)
    assert window.size == 17
    drive(window, 3, latency=0.5)  # noise once, then twice: decrease; then it does not fall
    assert window.decreases == 1 and window.undone == 1
    assert window.size == 17 and window.baseline_s == pytest.approx(0.5)
    drive(window, 1, latency=0.5)
    assert window.size == 18  # grows again from the new base


def test_waiters_get_places_in_turn_one_wake_up_each() -> None:
    async def scenario() -> list[int]:
        auto = AutoConcurrency(window=AimdWindow(limit=1, slow_start=False))
        order: list[int] = []
        first = await auto.enter()

        async def wait(n: int) -> None:
            ticket = await auto.enter()
            order.append(n)
            await auto.leave(ticket, 500, {}, None)

        waiting = [asyncio.ensure_future(wait(n)) for n in range(5)]
        await asyncio.sleep(0)
        assert auto.in_flight == 1 and auto.places.waiting == 5
        await auto.leave(first, 500, {}, None)
        await asyncio.gather(*waiting)
        assert auto.in_flight == 0
        return order

    assert asyncio.run(scenario()) == [0, 1, 2, 3, 4]


def test_a_client_that_works_on_every_answer_keeps_a_window_that_serves_the_most() -> None:
    """Latency that grows with the window because the client spends 7 ms on each answer
    (not a server's queue): a smaller window serves fewer answers a second, so auto keeps
    the larger one."""
    window = AimdWindow()
    now = 0.0
    for _ in range(40):
        size = window.size
        took = 0.2 + size * 0.007
        sent, now = now, now + took
        for _ in range(size):
            window.answered(sent, took, now)
    assert window.size == 64  # the most it grows to by itself
    assert window.undone >= 1  # the decrease it tried served fewer: it was taken back
    assert window.history[-10:] == [64] * 10


def test_start_up_latency_that_comes_with_proportionally_more_answers_keeps_slow_start() -> None:
    """The first answers of a run carry the client's own start-up work: latency grows at
    window 8, but 8 in flight serve about 8 times the answers of one: not a queue."""
    window = AimdWindow()
    drive(window, 1, latency=0.2)
    assert window.size == 8
    drive(window, 2, latency=0.25)  # a transient round, then a steady one: 6.4 x the rate
    assert window.size == 64 and window.slow_start and window.decreases == 0


def test_a_queue_found_in_slow_start_goes_straight_to_the_slots() -> None:
    window = AimdWindow()
    drive(window, 3, slots=3)  # 1 -> 8: latency x 2.7, twice: to what 3 in flight serve
    assert window.history == [8, 8, 3] and not window.slow_start
    assert window.ceiling == 8  # where the queue showed
    drive(window, 1, slots=3)  # 3 serve as many answers a second as 8 did: a queue
    assert window.decreases == 1 and window.undone == 0
    assert window.ceiling == 4  # the queue begins past 3: probing starts at 4


def test_a_kept_decrease_probes_from_one_window_more() -> None:
    window = AimdWindow()
    drive(window, 12, slots=6)
    assert window.decreases >= 1 and window.undone == 0
    assert window.ceiling is not None and window.ceiling <= 7
    assert set(window.history[-6:]) <= {6, 7}


def test_a_decrease_taken_back_goes_on_probing_where_it_was() -> None:
    window = AimdWindow(limit=20, slow_start=False)
    window.ceiling, window.probe = 20.0, 4.0  # probing past 20, next step 4
    drive(window, 1, latency=0.2)
    assert window.size == 24 and window.probe == 8.0
    # slower twice (half-window rounds after growth): a decrease to what 0.2 s would serve
    # (24 / 0.3 a second x 0.2 s = 16); then the smaller window serves fewer: not a queue
    drive(window, 2, latency=0.3)
    assert window.decreases == 1 and 16 in window.history
    assert window.size == 24 and window.undone == 1
    assert (window.ceiling, window.probe) == (20.0, 8.0)  # as before the decrease
    drive(window, 1, latency=0.3)
    assert window.size == 32  # the next probing step


def test_the_round_after_a_decrease_starts_once_the_requests_before_it_are_answered() -> None:
    """Requests sent after a decrease wait behind those still queued at the server: the
    round that judges the decrease begins only once every one of those is answered."""
    window = AimdWindow(limit=8, slow_start=False, baseline_s=0.2)
    for _ in range(2 * 8):  # two rounds twice as slow as the base: a queue at the server
        window.answered(0.3, 0.4, 0.7, in_flight=7)
    assert window.size == 4 and window.decreases == 1 and window._draining == 7
    for n in range(7):
        window.answered(0.5, 0.8, 1.0 + n * 0.01, in_flight=6 - n)  # sent before it
    assert window._draining == 0 and window.changed_at == pytest.approx(1.06)
    for _ in range(4):  # sent after the old ones were answered: the slots' own latency
        window.answered(1.1, 0.2, 1.3)
    assert window.undone == 0 and window.size == 4


def test_a_failure_inside_the_controller_still_frees_the_place() -> None:
    async def scenario() -> int:
        auto = AutoConcurrency(window=AimdWindow(limit=1, slow_start=False))
        ticket = await auto.enter()

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("controller bug")

        auto.window.answered = broken  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            await auto.leave(ticket, 200, {}, None)
        return auto.in_flight

    assert asyncio.run(scenario()) == 0


def test_a_busy_client_s_own_latency_is_not_read_as_the_server_s_queue() -> None:
    window = AimdWindow(limit=32, slow_start=False, baseline_s=0.2)
    window.client_busy = True  # the event loop works all the time: answers wait for it
    drive(window, 4, latency=0.4)
    assert window.decreases == 0 and window.size > 32
    window.client_busy = False  # the same latency with an idle client: a queue
    drive(window, 2, latency=0.8)
    assert window.decreases == 1


def test_auto_concurrency_measures_how_busy_its_event_loop_is() -> None:
    clock = FakeClock()
    cpu = [0.0]

    async def scenario(share: float) -> tuple[bool, float]:
        auto = AutoConcurrency(clock=clock, thread_time=lambda: cpu[0])
        for _ in range(3):
            ticket = await auto.enter()
            clock.now += 0.2
            cpu[0] += 0.2 * share  # the loop's thread worked this share of the time
            await auto.leave(ticket, 200, {}, None)
        return auto.window.client_busy, auto.busy_share

    busy, share = asyncio.run(scenario(0.95))
    assert busy and share == pytest.approx(0.95)
    idle, share = asyncio.run(scenario(0.3))
    assert not idle and share == pytest.approx(0.3)


def test_a_decrease_waits_only_for_requests_already_sent() -> None:
    """A place handed to a request that has not gone out yet is not a request the server
    holds: a decrease made now waits for the requests sent before it, not for that one
    (counted, it would go out after the decrease, into the server's queue, and be read as
    the smaller window's latency)."""

    async def scenario() -> list[int | None]:
        auto = AutoConcurrency(window=AimdWindow(limit=2, slow_start=False))
        told: list[int | None] = []
        answered = auto.window.answered

        def record(sent_at: float, latency_s: float, now: float, in_flight: int | None) -> None:
            told.append(in_flight)
            answered(sent_at, latency_s, now, in_flight)

        auto.window.answered = record  # type: ignore[method-assign]  # a spy
        first, second = await auto.enter(), await auto.enter()
        waiting = asyncio.ensure_future(auto.enter())
        await asyncio.sleep(0)
        await auto.leave(first, 200, {}, None)  # hands its place to the waiting request
        await auto.leave(second, 200, {}, None)  # which has not been sent yet
        assert auto.in_flight == 1 and auto.sent == 0
        await auto.leave(await waiting, 200, {}, None)
        assert auto.in_flight == 0 and auto.sent == 0
        return told

    assert asyncio.run(scenario()) == [1, 0, 0]
