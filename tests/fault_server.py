"""Fault injection on top of the loopback OpenAI server (tests/openai_server.py).

Synthetic reports (our own sentences) each carry a number; :class:`FaultPlan` answers every
request with that report's grounded extraction, unless the plan says this attempt of this
report gets a fault: 429 with Retry-After, 500/502/503, an answer slower than the client's
timeout, a dropped connection, a truncated answer, or JSON that breaks the schema.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openai_server import Action, Delay, Drop, Dynamic, RecordedRequest, Reply, Status, Truncated

from llm_extract.report import Report

_NUMBER = re.compile(r"تقرير تجريبي رقم (\d+)")


def report_text(n: int) -> str:
    return (
        f"تقرير تجريبي رقم {n} عن نشاط التحالف.\n"
        f"وصلت قافلة من {n + 10} شاحنة إلى قاعدة تجريبية.\n"
        "ولم يسجل أي نشاط آخر في هذه الفترة.\n"
    )


def make_reports(count: int) -> list[Report]:
    return [Report(f"r{n:04d}", report_text(n), f"r{n:04d}.txt") for n in range(count)]


def answer(n: int) -> dict[str, Any]:
    return {
        "coalition_month": None,
        "convoys": [{"mode": "ground", "vehicles": n + 10, "evidence": f"قافلة من {n + 10} شاحنة"}],
    }


def report_number(request: RecordedRequest) -> int | None:
    for text in reversed(request.user_messages()):
        match = _NUMBER.search(text)
        if match:
            return int(match.group(1))
    return None


TRANSIENT: dict[str, Callable[[int], Action]] = {
    "429": lambda n: Status(429, headers={"Retry-After": "0.01"}),
    "500": lambda n: Status(500),
    "502": lambda n: Status(502),
    "503": lambda n: Status(503),
    "slow": lambda n: Delay(6.0, Reply(answer(n))),  # well past the tests' 3 s timeout
    "drop": lambda n: Drop(),
}
PERMANENT: dict[str, Callable[[int], Action]] = {
    "truncated": lambda n: Truncated(answer(n)),
    "bad_schema": lambda n: Reply({"coalition_month": "a month", "convoys": [{"mode": "boat"}]}),
    "down": lambda n: Status(503),
    "not_json": lambda n: Reply("this is not JSON at all"),
}


@dataclass
class FaultPlan:
    """``faults[n]`` lists the fault of each attempt of report n, in order; then it answers."""

    faults: dict[int, list[str]] = field(default_factory=dict)
    always: dict[int, str] = field(default_factory=dict)
    seen: Counter[int] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: RecordedRequest) -> Action:
        n = report_number(request)
        if n is None:
            return Status(400)
        with self._lock:
            attempt = self.seen[n]
            self.seen[n] += 1
            planned = self.faults.get(n, [])
            kind = self.always.get(n) or (planned[attempt] if attempt < len(planned) else None)
            if kind is not None:
                self.injected[kind] += 1
        if kind is None:
            return Reply(answer(n))
        return {**TRANSIENT, **PERMANENT}[kind](n)

    def action(self) -> Dynamic:
        return Dynamic(self)
