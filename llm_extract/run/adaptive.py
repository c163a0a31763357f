"""``--concurrency auto``: find the server's limit instead of guessing a number.

Three parts, each usable alone:

- :class:`AimdWindow`, the controller (no I/O, no clock of its own): how many requests may be
  in flight. A round is as many answers as the window holds (after growth, the requests that
  went out at once into the new places, at least half the window); its signal is its mean
  latency against the lowest seen (the base).
  Slow start: from one request (the server's latency without a queue), the window grows
  eightfold a round (1, 8, 64: 64 is the most it grows to by itself unless the server
  announces a rate that needs more). Two rounds in a row whose latency grew past the base
  shrink the window to what the server serves without a queue: the round's answers a second
  (window / mean latency) x the base latency, straight there in slow start, at most halved
  after it. In slow start, latency that grew by at most a quarter while the answers a second
  grew by at least half the window's growth since a smaller window is the client's start-up
  work, not a queue: the window grows on. While the client itself is the bottleneck (its event
  loop's thread busy nearly all the time, measured by :class:`AutoConcurrency`), latency is
  its own and is not read as a queue. The round after a decrease (begun once the requests sent
  before it are answered: those queue ahead at the server) judges it: it stays where the
  smaller window serves about as many answers a second (a queue), else it is taken back (a
  slower server, a busy machine, the client's own work) and that latency becomes the base.
  After a decrease that stays, the window probes from one more: 1, 2, 4, ... past it (BIC's
  search: a queue found again brings it back, so against a server of N slots it settles
  between N and N + 1, the tolerance being half a request's worth of the window, at least
  ``min_tolerance``); after one taken back, growth goes on as if it had not been (halfway back
  to an earlier ceiling, or probing past it). An answer 429 halves the window (multiplicative
  decrease) and growth is one a round from there (additive increase). When the server
  announces its rate, the window is at least what that pace needs (rate x latency,
  :attr:`AimdWindow.floor`): the pacing then holds the requests, and a machine's own noise
  never holds a run under its key's limit. At most one decrease per round: answers to requests
  sent before the last change are not counted against the new window.
- :class:`HeaderPacer`: paces requests and tokens by what the server announces
  (``x-ratelimit-limit-*``, ``-remaining-*``, ``-reset-*``, OpenAI's headers): from the first
  answer that carries them, a local bucket per kind refills at the announced rate (a little
  under it) and holds what the server's does (``remaining + reset x rate``), so requests go out
  evenly at the pace the key allows instead of in bursts answered 429. Tokens are estimated
  from the request and settled with the usage of the answer. A 429 brings the buckets down to
  what its headers say remains and holds every request for its ``Retry-After``.
- :class:`AutoConcurrency`: both, for one run: :meth:`~AutoConcurrency.enter` waits for a
  place in the window and the pacing; :meth:`~AutoConcurrency.leave` reports the answer.
  :meth:`~AutoConcurrency.describe` says what the run is at and what it waits for (the
  progress display and the summary line).

:mod:`llm_extract.run.gate` applies it under the backend's HTTP client to every attempt
(first tries, retries, re-asks); answers from the response cache never reach it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from llm_extract.retry_after import retry_after_seconds
from llm_extract.run.places import Places
from llm_extract.run.ratelimit import TokenBucket, estimate_body_tokens

#: Where the window starts, and its bounds.
AUTO_START = 1
#: The window's growth per round until the first sign of overload.
SLOW_START_FACTOR = 8
AUTO_MIN = 1
AUTO_MAX = 512
#: The most the window grows to by itself, where no server announces a rate: past it, the
#: client's own connection pool costs more than more requests in flight bring.
UNPACED_MAX = 64
#: A latency decrease stays where the smaller window serves nearer as many answers a second
#: as the larger one did (a server's queue) than the share a window without a queue would
#: (size / before), less this much (the noise of a round's measure).
CONFIRM_NOISE = 0.05
#: Latency growth below this share is never read as queueing (the machine's own noise).
MIN_TOLERANCE = 0.02
#: The share of an announced rate the pacer uses (the rest absorbs estimates and clocks).
PACE_SHARE = 0.97
#: Rounds in a row whose latency grew before the window shrinks.
SUSPECT = 2
#: In slow start, latency that grew is not a queue where the answers a second grew by at
#: least this share of the window's growth since the round before (a server's queue: none).
SCALED_GAIN = 0.5
#: ... and only up to this growth of latency (a queue of a quarter of the window or more is
#: a queue, whatever the answers a second did).
SCALED_MAX = 1.25
#: The window the pacing needs, over rate x the server's latency (room for its spread).
FLOOR_ROOM = 1.5
#: The event loop's thread busy this share of the time or more: the client is the
#: bottleneck, and latency that grows is its own (measured over spans of BUSY_SPAN_S).
BUSY_SHARE = 0.85
BUSY_SPAN_S = 0.1
#: Reports held prepared, over the window's places: the requests ready to take a place as
#: it frees (at least ``AHEAD_MIN``).
AHEAD = 2
AHEAD_MIN = 8
#: Token estimates are scaled by what the server counted so far, and this much more.
TOKEN_MARGIN = 1.05

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _scaled(previous: tuple[int, float] | None, size: int, rate: float) -> bool:
    """Whether ``rate`` at window ``size`` grew, since ``previous`` (window, rate), by at
    least ``SCALED_GAIN`` of what the window's growth would give without a queue."""
    if previous is None or previous[0] >= size or previous[1] <= 0:
        return False
    before, served = previous
    return rate / served - 1 >= SCALED_GAIN * (size / before - 1)


def parse_duration(text: str | None) -> float | None:
    """OpenAI's reset durations (``20ms``, ``1.5s``, ``6m0s``, ``1h2m``) in seconds."""
    if not text:
        return None
    text = text.strip()
    try:
        return max(0.0, float(text))  # a bare number: seconds
    except ValueError:
        pass
    total, end = 0.0, 0
    for match in _DURATION.finditer(text):
        if match.start() != end:
            return None
        total += float(match.group(1)) * _UNITS[match.group(2)]
        end = match.end()
    return total if end == len(text) and end > 0 else None


@dataclass
class AimdWindow:
    """The controller (see the module doc). Times are whatever clock the caller uses."""

    limit: float = AUTO_START
    minimum: int = AUTO_MIN
    maximum: int = AUTO_MAX
    unpaced_max: int = UNPACED_MAX
    min_tolerance: float = MIN_TOLERANCE
    slow_start: bool = True
    #: the lowest mean latency of a round so far (what the server takes without queueing)
    baseline_s: float | None = None
    #: when the window last changed: answers to requests sent before it are not counted
    changed_at: float = float("-inf")
    increases: int = 0
    decreases: int = 0
    overloads: int = 0
    peak: int = 0
    #: the window the pacing needs (requests a second x latency; 0: no pacing): a latency
    #: decrease stops there (a 429 does not)
    floor: float = 0.0
    #: the window after each round, each 429 and each jump to the floor (tests, reports)
    history: list[int] = field(default_factory=list)
    #: latency decreases taken back: the smaller window served fewer answers a second
    undone: int = 0
    #: the client itself is the bottleneck now (its event loop busy nearly all the time):
    #: latency is not read as the server's queue (set by :class:`AutoConcurrency`)
    client_busy: bool = False
    #: the window at which the last latency decrease was made (where the queue showed;
    #: None: none yet, or a 429 since): growth searches back to it, then probes past it
    ceiling: float | None = None
    #: the next step of probing past the ceiling (doubles each round, from 1)
    probe: float = 1.0
    _samples: list[float] = field(default_factory=list)
    #: answers that make the round under way
    _needed: int = 0
    #: rounds in a row whose latency grew (the next decides when there were enough)
    _suspect: int = 0
    #: after a latency decrease: (the mean latency and the answers a second of the round
    #: that caused it, the window before)
    _check: tuple[float, float, float] | None = None
    #: the answers a second of the last steady round at each window
    _rates: dict[int, float] = field(default_factory=dict)
    #: the round under way is the first since the window grew
    _fresh: bool = False
    #: requests sent before the last decrease still to be answered
    _draining: int = 0
    #: the ceiling and probe step before the last latency decrease (restored if undone)
    _undo: tuple[float | None, float] = (None, 1.0)

    def __post_init__(self) -> None:
        self.limit = float(min(max(self.limit, self.minimum), self.maximum))
        self.peak = self.size
        self._needed = self.size

    @property
    def size(self) -> int:
        """Requests allowed in flight now."""
        return max(self.minimum, int(self.limit))

    @property
    def tolerance(self) -> float:
        """How much longer than the lowest a round's mean latency may be (a factor): half
        a request's worth of the window, so one request more than the server serves at once
        is seen."""
        return 1.0 + max(self.min_tolerance, 0.5 / self.size)

    def answered(
        self, sent_at: float, latency_s: float, now: float, in_flight: int | None = None
    ) -> None:
        """One answer that was not an overload (429): its latency counts for the round.
        ``in_flight``: the requests still out besides this one (None: not known)."""
        if self.limit < self.floor:  # the pace needs more in flight: the pacing holds it
            self._set(self.floor, now)
            self.increases += 1
            self.history.append(self.size)
            return
        if sent_at < self.changed_at:
            if self._draining:  # the last of them out: the server's queue is drained
                self._draining -= 1
                if not self._draining:
                    self.changed_at = now
            return
        self._samples.append(latency_s)
        if len(self._samples) < self._needed:
            return
        # the round's mean latency: a server's queue delays every request (and, in the
        # first round after growth, whose requests went out at once, brings them back in
        # waves); the client's own work on answers that came together is told apart by
        # the answers a second it keeps (the judging round) and by how busy it is
        mean = sum(self._samples) / len(self._samples)
        rate = self._rate(mean)
        self._samples.clear()
        decreases = self.decreases
        self._round(mean, rate, now)
        self.history.append(self.size)
        if self.decreases > decreases and in_flight:
            # requests sent after a decrease would wait behind those still queued at the
            # server: the round that judges the decrease starts once they are answered
            self._draining = in_flight

    def _rate(self, mean: float) -> float:
        """Answers a second in the round just ended: the window over its mean latency
        (Little's law)."""
        return self.size / mean if mean > 0 else float("inf")

    def _round(self, mean: float, rate: float, now: float) -> None:
        """What one full round says (``mean``: its mean latency, ``rate``: its
        answers a second): grow, shrink, or wait for the next (see the doc)."""
        if self._check is not None:  # the first round after a latency decrease
            self._confirm(mean, rate, now)
            return
        if self.baseline_s is None or mean < self.baseline_s or self.size <= self.minimum:
            self.baseline_s = mean  # a request alone never queues: its latency is the base
        fresh, self._fresh = self._fresh, False
        smaller = [size for size in self._rates if size < self.size]
        previous = (max(smaller), self._rates[max(smaller)]) if smaller else None
        if not fresh:  # the first round after growth is a transient (its requests went
            self._rates[self.size] = rate  # out at once): its rate says little
        if mean > self.baseline_s * self.tolerance and not self.client_busy:
            if (
                self.slow_start
                and not fresh
                and mean <= self.baseline_s * SCALED_MAX
                and _scaled(previous, self.size, rate)
            ):
                # more in flight served more, nearly in proportion: the latency is the
                # client's own start-up work on the first answers, not a server's queue
                self._set(min(self._grown(), max(self.unpaced_max, self.floor)), now)
                self.increases += 1
                return
            self._suspect += 1  # once may be the machine's noise; twice is the server
            if self._suspect < SUSPECT:
                return
            # what the server serves without a queue: its answers a second x its latency
            # alone (in slow start straight there; after it, at most halved)
            least = 0.0 if self.slow_start else 0.5
            shrunk = max(self.limit * least, round(rate * self.baseline_s))
            before = self.limit
            self._undo = (self.ceiling, self.probe)
            self.ceiling, self.probe = before, 1.0
            self._set(max(shrunk, min(self.floor, self.limit)), now)
            self._check = (mean, rate, before)
            self.slow_start = False
            self.decreases += 1
        else:
            self._set(min(self._grown(), max(self.unpaced_max, self.floor, self.limit)), now)
            self.increases += 1

    def _grown(self) -> float:
        """The window after a round without a sign of overload: eightfold in slow start;
        after a 429, one more (additive increase); after a latency decrease, halfway back
        to the window where the queue showed (binary search: that is where the server's
        limit lies), then beyond it by 1, 2, 4, ... (probing, at most half the window a
        round), since the queue may have been the machine's noise."""
        if self.slow_start:
            return self.limit * SLOW_START_FACTOR
        if self.ceiling is None:
            return self.limit + 1
        if self.limit < self.ceiling:
            return min(self.ceiling, self.limit + max(1.0, (self.ceiling - self.limit) / 2))
        step, self.probe = self.probe, min(self.probe * 2, max(1.0, self.limit))
        return self.limit + step

    def _confirm(self, mean: float, rate: float, now: float) -> None:
        """Keep a latency decrease only when the smaller window serves about as many
        answers a second as the larger one did (a server's queue; see ``kept``). When it
        serves fewer, the latency was not a queue (a slower server, a
        busy machine, the client's own work on each answer): the window goes back, and
        that latency becomes the base."""
        assert self._check is not None  # only called with a check pending
        trigger, served_before, before = self._check
        self._check = None
        # a window without a queue serves size / before of it, one with a queue as much:
        # the decrease stays where it serves nearer as much (less the machine's noise)
        kept = 1.0 - (1.0 - self.size / max(1.0, before)) / 2 - CONFIRM_NOISE
        if rate >= served_before * kept:  # a queue: the decrease stays
            self.baseline_s = min(self.baseline_s or mean, mean)
            # the queue begins just past this window: probe from one more
            self.ceiling = min(self.ceiling or self.limit + 1, self.limit + 1)
            return
        self.baseline_s = max(mean, trigger)
        self.undone += 1
        self.ceiling, self.probe = self._undo  # as if it never was: probing goes on
        self._set(before, now)

    def overloaded(self, sent_at: float, now: float) -> None:
        """The server answered 429: halve the window (once a round)."""
        self.overloads += 1
        self.slow_start = False
        if sent_at < self.changed_at:
            return
        self._samples.clear()
        self._check = None
        self.ceiling = None  # a 429: additive increase from here (AIMD)
        self._set(self.limit / 2, now)
        self.decreases += 1
        self.history.append(self.size)

    def _set(self, limit: float, now: float) -> None:
        self._suspect = 0
        before = self.size
        # rounded: 7 x (6 / 7) is a window of 6, not 5.999...
        self.limit = round(float(min(max(limit, self.minimum), self.maximum)), 6)
        # after growth, the requests sent at once into the new places make the round (they
        # ran with the whole new window in flight), at least half the window; after a
        # decrease, a whole window of requests sent since
        grown = self.size - before
        self._needed = max(grown, (self.size + 1) // 2) if grown > 0 else self.size
        self.changed_at = now
        self._draining = 0
        self._fresh = grown > 0
        self.peak = max(self.peak, self.size)


class HeaderPacer:
    """Paces requests and tokens by the server's ``x-ratelimit-*`` headers (module doc)."""

    def __init__(
        self,
        *,
        share: float = PACE_SHARE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.share = share
        self._clock = clock
        self._sleep = sleep
        self.buckets: dict[str, TokenBucket] = {}
        #: the announced limits per minute, by kind ("requests", "tokens")
        self.limits: dict[str, int] = {}
        self._paused_until = 0.0
        self.waited_s = 0.0
        self._tokens_seen = 0
        self._tokens_estimated = 0
        self._requests_counted = 0

    @property
    def pacing(self) -> bool:
        return bool(self.buckets)

    def request_rate(self) -> float:
        """Requests a second the announced limits allow (0: no limit known): the requests
        rate, or the tokens rate over the tokens a request counted so far, the lower."""
        rates = []
        if (bucket := self.buckets.get("requests")) is not None:
            rates.append(bucket.rate)
        if (bucket := self.buckets.get("tokens")) is not None and self._requests_counted:
            rates.append(bucket.rate / (self._tokens_seen / self._requests_counted))
        return min(rates, default=0.0)

    def estimate(self, body: bytes) -> tuple[int, int]:
        """``(tokens to reserve, the prompt's estimate)`` of a request: the estimate scaled
        by what the server counted for the requests so far (an estimate that runs high does
        not waste the limit); before any count, the estimate plus ``max_tokens``. Only
        computed when the server announces a tokens limit."""
        if "tokens" not in self.buckets:
            return 0, 0
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return 0, 0
        if not isinstance(payload, dict):
            return 0, 0
        guess = estimate_body_tokens(payload)
        if self._tokens_estimated:  # 5 % over what was counted: never under for long
            ratio = self._tokens_seen / self._tokens_estimated * TOKEN_MARGIN
            return max(1, round(guess * ratio)), guess
        most = payload.get("max_tokens") or payload.get("max_completion_tokens") or 0
        return guess + int(most), guess

    async def wait(self, tokens: int) -> float:
        """Wait for the pause (a 429's Retry-After) and the buckets; the seconds waited."""
        waited = 0.0
        while (pause := self._paused_until - self._clock()) > 0:
            waited += pause
            await self._sleep(pause)
        if (bucket := self.buckets.get("requests")) is not None:
            waited += await bucket.take(1)
        if tokens and (bucket := self.buckets.get("tokens")) is not None:
            waited += await bucket.take(tokens)
        self.waited_s += waited
        return waited

    def observe(
        self,
        headers: Mapping[str, str],
        *,
        in_flight: int,
        reserved: int = 0,
        guess: int = 0,
        used: int | None = None,
    ) -> None:
        """Learn (or follow) the announced limits from one answer's headers; settle the
        tokens the request ``reserved`` with what it ``used`` (``guess``: the prompt's
        estimate, to learn how far estimates run from counts)."""
        if used is not None and reserved:
            bucket = self.buckets.get("tokens")
            if bucket is not None:
                bucket.give_back(reserved - used)
        if used is not None and guess:
            self._tokens_seen += used
            self._tokens_estimated += guess
            self._requests_counted += 1
        for kind in ("requests", "tokens"):
            limit = _integer(headers.get(f"x-ratelimit-limit-{kind}"))
            if limit is None or limit <= 0:
                continue
            remaining = _integer(headers.get(f"x-ratelimit-remaining-{kind}"))
            reset = parse_duration(headers.get(f"x-ratelimit-reset-{kind}"))
            rate = limit / 60.0 * self.share
            capacity = limit / 60.0  # a second's worth, when the headers say no more
            if remaining is not None and reset is not None:
                capacity = max(1.0, remaining + reset * limit / 60.0)
            known = self.buckets.get(kind)
            if known is None or self.limits.get(kind) != limit:
                bucket = TokenBucket(rate, capacity, clock=self._clock, sleep=self._sleep)
                if remaining is not None:  # what the server holds, less what is on its way
                    bucket.give_back(-(bucket.level - remaining + max(0, in_flight - 1)))
                self.buckets[kind] = bucket
                self.limits[kind] = limit
            else:
                known.capacity = capacity

    def overloaded(self, headers: Mapping[str, str]) -> None:
        """A 429: bring each bucket down to what the server says remains (empty when it
        does not say), and hold everything for the Retry-After."""
        for kind, bucket in self.buckets.items():
            remaining = _integer(headers.get(f"x-ratelimit-remaining-{kind}"))
            level = bucket.level
            bucket.give_back(-(level - min(level, remaining or 0)))
        pause = retry_after_seconds(headers)
        if pause:
            self._paused_until = max(self._paused_until, self._clock() + min(pause, 60.0))

    def describe(self) -> str:
        parts = [
            f"{self.limits[kind]:,} {kind}/min"
            for kind in ("requests", "tokens")
            if kind in self.limits
        ]
        return f"paced to {' and '.join(parts)} (server headers)" if parts else ""


@dataclass
class Ticket:
    """One request's place: when it was sent and the tokens it reserved."""

    sent_at: float
    tokens: int = 0
    guess: int = 0


class AutoConcurrency:
    """The window and the pacing of one run (see the module doc)."""

    def __init__(
        self,
        *,
        window: AimdWindow | None = None,
        pacer: HeaderPacer | None = None,
        clock: Callable[[], float] = time.monotonic,
        thread_time: Callable[[], float] = time.thread_time,
    ) -> None:
        self.window = window or AimdWindow()
        self.pacer = pacer or HeaderPacer(clock=clock)
        self._clock = clock
        #: the window's places: requests in flight, and those waiting for one
        self.places = Places(lambda: self.window.size)
        #: requests sent and not yet answered (a place handed to a request that has not
        #: gone out yet is held, not sent)
        self.sent = 0
        self.rate_limited = 0
        self._latency_s = 0.0  # a moving mean of the latency of answers
        #: what the run waits for now ("" when nothing)
        self.waiting_for = ""
        self._thread_time = thread_time
        #: the event loop thread's CPU time over wall time in the last span measured
        self.busy_share = 0.0
        self._cpu_mark: tuple[float, float] | None = None

    @property
    def in_flight(self) -> int:
        """Requests in flight now."""
        return self.places.held

    async def enter(self, body: bytes = b"") -> Ticket:
        """Wait for a place in the window, then for the pacing."""
        if not self.places.free:
            self.waiting_for = "an answer (window full)"
        await self.places.take()  # handed a place in turn, as answers free them
        tokens, guess = self.pacer.estimate(body) if self.pacer.pacing else (0, 0)
        try:
            if self.pacer.pacing:
                self.waiting_for = "the rate limit"
                await self.pacer.wait(tokens)
            self.waiting_for = ""
        except BaseException:
            self.places.give_back()
            raise
        self.sent += 1
        return Ticket(self._clock(), tokens, guess)

    async def leave(
        self, ticket: Ticket, status: int | None, headers: Mapping[str, str], used: int | None
    ) -> None:
        """Report the answer (``status`` None: no answer, a dropped connection)."""
        try:
            self._report(ticket, status, headers, used)
        finally:  # whatever the report raises, the place is freed (a leak would stall the run)
            self.sent -= 1
            self.places.give_back()

    def _report(
        self, ticket: Ticket, status: int | None, headers: Mapping[str, str], used: int | None
    ) -> None:
        now = self._clock()
        if status == 429:
            self.rate_limited += 1
            self.window.overloaded(ticket.sent_at, now)
            self.pacer.overloaded(headers)
        elif status is not None and status < 500:
            latency = now - ticket.sent_at
            self._latency_s = (
                latency if not self._latency_s else self._latency_s * 0.9 + latency * 0.1
            )
            # the pace needs rate x latency in flight: the server's latency (the lowest
            # round's; the moving mean before there is one), with room for its spread
            base = self.window.baseline_s or self._latency_s
            self.window.floor = self.pacer.request_rate() * base * FLOOR_ROOM
            self.window.client_busy = self._busy(now)
            # the requests sent before this answer and still out: the ones a decrease now
            # waits for (those handed a place but not sent yet go out after it)
            self.window.answered(ticket.sent_at, latency, now, self.sent - 1)
        if status is not None:
            self.pacer.observe(
                headers,
                in_flight=self.in_flight,
                reserved=ticket.tokens,
                guess=ticket.guess,
                used=used,
            )

    def _busy(self, now: float) -> bool:
        """Whether the event loop's thread has been working nearly all the time lately
        (its CPU time over the wall time, measured over spans of ``BUSY_SPAN_S``): then
        answers wait for the client itself, and their latency says nothing of the server."""
        cpu = self._thread_time()
        if self._cpu_mark is None:
            self._cpu_mark = (now, cpu)
            return False
        wall = now - self._cpu_mark[0]
        if wall >= BUSY_SPAN_S:
            self.busy_share = (cpu - self._cpu_mark[1]) / wall
            self._cpu_mark = (now, cpu)
        return self.busy_share >= BUSY_SHARE

    def reports_ahead(self) -> int:
        """How many reports the run should hold prepared now: the window's places and as
        many ready to take one as it frees. Not all it may ever allow: when the window
        grows from one request, hundreds of requests prepared at once would be the client's
        work read as the server's latency (and the memory of each)."""
        return max(AHEAD_MIN, AHEAD * self.window.size)

    def describe(self) -> str:
        """``auto 12 in flight (window 14, peak 16); paced to 600 requests/min``."""
        text = f"auto: window {self.window.size} (peak {self.window.peak})"
        paced = self.pacer.describe()
        if paced:
            text += f", {paced}"
        if self.rate_limited:
            text += f", {self.rate_limited} answered 429"
        return text

    def status(self) -> str:
        """For the progress display: the window, the pacing and what the run waits for."""
        text = f"{self.in_flight}/{self.window.size} in flight"
        paced = self.pacer.describe()
        if paced:
            text += f", {paced}"
        if self.waiting_for:
            text += f"; waiting for {self.waiting_for}"
        return text


def usage_total(content: bytes) -> int | None:
    try:
        usage = orjson.loads(content).get("usage")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    total = usage.get("total_tokens") if isinstance(usage, dict) else None
    return total if isinstance(total, int) else None


def _integer(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None
