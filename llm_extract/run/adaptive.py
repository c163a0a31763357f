"""``--concurrency auto``: find the server's limit instead of guessing a number.

Three parts, each usable alone:

- :class:`AimdWindow`, the controller (no I/O, no clock of its own): how many requests may be
  in flight. It starts at one request (whose latency is the server's own, without queueing)
  and, like TCP's slow start, multiplies the window every round (a round: as many answers as
  the window holds; by 4, so that 64 is reached in three rounds, the most it grows to by
  itself unless the server announces a rate that needs more) until the first sign of
  overload, then adds one per round (additive increase). Two rounds in a row whose mean
  latency grew past the lowest seen (the server queues: a local server's slots are full;
  one round alone may be the machine's noise) shrink the window by that ratio, to what the
  server serves without queueing (when the smaller window then serves fewer answers a
  second, it was not a queue but a slower server, a busy machine or the client's own work:
  the window goes back and that latency becomes the base; after two such, latency is no
  longer read as a queue for the rest of the run); an answer 429 halves it
  (multiplicative decrease). Against
  a server of N slots, a window of N + 1 makes every request wait (N + 1) / N of the service
  time, which is read as growth (the tolerance is half a request's worth of the window, at
  least ``min_tolerance``), so the window settles between N and N + 1. When the server
  announces its rate, the window is at least what that pace needs (rate x latency,
  :attr:`AimdWindow.floor`): the pacing then holds the requests, and a machine's own noise
  never holds a run under its key's limit. At most one decrease per round: answers to
  requests sent before the last change are not counted against the new window.
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
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from llm_extract.retry_after import retry_after_seconds
from llm_extract.run.ratelimit import TokenBucket, estimate_body_tokens

#: Where the window starts, and its bounds.
AUTO_START = 1
#: The window's growth per round until the first sign of overload.
SLOW_START_FACTOR = 4
AUTO_MIN = 1
AUTO_MAX = 512
#: The most the window grows to by itself, where no server announces a rate: past it, the
#: client's own connection pool costs more than more requests in flight bring.
UNPACED_MAX = 64
#: Latency growth below this share is never read as queueing (the machine's own noise).
MIN_TOLERANCE = 0.02
#: The share of an announced rate the pacer uses (the rest absorbs estimates and clocks).
PACE_SHARE = 0.97
#: Latency decreases taken back before latency is no longer read as a queue.
UNDONE_LIMIT = 2
#: The window the pacing needs, over rate x the server's latency (room for its spread).
FLOOR_ROOM = 1.5
#: Token estimates are scaled by what the server counted so far, and this much more.
TOKEN_MARGIN = 1.05

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


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
    #: False once latency proved not to track a queue (``UNDONE_LIMIT`` decreases taken
    #: back): from then on only a 429 shrinks the window
    latency_signal: bool = True
    _samples: list[float] = field(default_factory=list)
    _suspect: bool = False
    #: after a latency decrease: (the mean that caused it, the window before)
    _check: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        self.limit = float(min(max(self.limit, self.minimum), self.maximum))
        self.peak = self.size

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

    def answered(self, sent_at: float, latency_s: float, now: float) -> None:
        """One answer that was not an overload (429): its latency counts for the round."""
        if self.limit < self.floor:  # the pace needs more in flight: the pacing holds it
            self._set(self.floor, now)
            self.increases += 1
            self.history.append(self.size)
            return
        if sent_at < self.changed_at:
            return
        self._samples.append(latency_s)
        if len(self._samples) < self.size:
            return
        mean = sum(self._samples) / len(self._samples)
        self._samples.clear()
        self._round(mean, now)
        self.history.append(self.size)

    def _round(self, mean: float, now: float) -> None:
        """What one full round says: grow, shrink, or wait for the next (see the doc)."""
        if self._check is not None:  # the first round after a latency decrease
            self._confirm(mean, now)
            return
        if self.baseline_s is None or mean < self.baseline_s or self.size <= self.minimum:
            self.baseline_s = mean  # a request alone never queues: its latency is the base
        if self.latency_signal and mean > self.baseline_s * self.tolerance:
            if not self._suspect:  # once may be the machine's noise; twice is the server
                self._suspect = True
                return
            shrunk = self.limit * max(0.5, self.baseline_s / mean)  # at most halved
            before = self.limit
            self._set(max(shrunk, min(self.floor, self.limit)), now)
            self._check = (mean, before)
            self.slow_start = False
            self.decreases += 1
        else:
            grown = self.limit * SLOW_START_FACTOR if self.slow_start else self.limit + 1
            self._set(min(grown, max(self.unpaced_max, self.floor, self.limit)), now)
            self.increases += 1

    def _confirm(self, mean: float, now: float) -> None:
        """Keep a latency decrease only when the smaller window serves as much as the larger
        one did (answers a second, window / latency: a server's queue), nearer that than
        the share of it a window without a queue serves (size / before). When it
        serves less, the latency was not a queue (a slower server, a busy machine, the
        client's own work on each answer): the window goes back and that latency becomes
        the base."""
        assert self._check is not None  # only called with a check pending
        trigger, before = self._check
        self._check = None
        before_size = max(self.minimum, int(before))
        served_before = before_size / trigger
        # without a queue, the smaller window serves size / before of it; with one, as much
        kept = 1.0 - (1.0 - self.size / before_size) / 2
        if self.size / mean >= served_before * kept:  # nearer as much than less: a queue
            self.baseline_s = min(self.baseline_s or mean, mean)
            return
        self.baseline_s = max(mean, trigger)
        self.undone += 1
        if self.undone >= UNDONE_LIMIT:  # latency does not track a queue here: 429s only
            self.latency_signal = False
            self.slow_start = True
        self._set(before, now)

    def overloaded(self, sent_at: float, now: float) -> None:
        """The server answered 429: halve the window (once a round)."""
        self.overloads += 1
        self.slow_start = False
        if sent_at < self.changed_at:
            return
        self._samples.clear()
        self._check = None
        self._set(self.limit / 2, now)
        self.decreases += 1
        self.history.append(self.size)

    def _set(self, limit: float, now: float) -> None:
        self._suspect = False
        # rounded: 7 x (6 / 7) is a window of 6, not 5.999...
        self.limit = round(float(min(max(limit, self.minimum), self.maximum)), 6)
        self.changed_at = now
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
    ) -> None:
        self.window = window or AimdWindow()
        self.pacer = pacer or HeaderPacer(clock=clock)
        self._clock = clock
        self.in_flight = 0
        self.rate_limited = 0
        self._latency_s = 0.0  # a moving mean of the latency of answers
        self._waiters: deque[asyncio.Future[None]] = deque()
        #: what the run waits for now ("" when nothing)
        self.waiting_for = ""

    async def enter(self, body: bytes = b"") -> Ticket:
        """Wait for a place in the window, then for the pacing."""
        if self.in_flight >= self.window.size or self._waiters:
            self.waiting_for = "an answer (window full)"
            place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(place)
            try:
                await place  # handed a place by _free, in turn
            except BaseException:
                if place.done() and not place.cancelled():
                    self._free()  # a place handed over just as it was cancelled
                else:
                    self._waiters.remove(place)
                raise
        else:
            self.in_flight += 1
        tokens, guess = self.pacer.estimate(body) if self.pacer.pacing else (0, 0)
        try:
            if self.pacer.pacing:
                self.waiting_for = "the rate limit"
                await self.pacer.wait(tokens)
            self.waiting_for = ""
        except BaseException:
            self._free()
            raise
        return Ticket(self._clock(), tokens, guess)

    async def leave(
        self, ticket: Ticket, status: int | None, headers: Mapping[str, str], used: int | None
    ) -> None:
        """Report the answer (``status`` None: no answer, a dropped connection)."""
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
            self.window.answered(ticket.sent_at, latency, now)
        if status is not None:
            self.pacer.observe(
                headers,
                in_flight=self.in_flight,
                reserved=ticket.tokens,
                guess=ticket.guess,
                used=used,
            )
        self._free()

    def _free(self) -> None:
        """One place less in flight; hand places to the waiters, first come first served,
        while the window has room (one wake-up per place, never all of them)."""
        self.in_flight -= 1
        while self._waiters and self.in_flight < self.window.size:
            place = self._waiters.popleft()
            if not place.done():
                self.in_flight += 1
                place.set_result(None)

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
