"""Shared by the backend tests: a short report written for them, answers that are good, bad
or mixed, and helpers that run one extraction against the loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from openai_server import OpenAIServer

from llm_extract.backends.base import BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.backends.openai_compat import OpenAIBackend, RetryPolicy
from llm_extract.errors import ExtractionError
from llm_extract.report import Report
from llm_extract.results import PromptInfo
from llm_extract.schemas import ReportExtraction

T = TypeVar("T")

KEY = "sk-test-5e3f9a1b7c2d4e6f8a0b1c2d3e4f5a6b"
FAST = RetryPolicy(base_s=0.001, cap_s=0.01, retry_after_cap_s=2.0)

# Written for these tests (facts in the style of the series, not its sentences).
SOURCE = (
    "تقرير الشهر 121 من عمر التحالف: دخلت قافلة تضم نحو 60 شاحنة محملة بمعدات لوجستية "
    "إلى قاعدة الشدادي يوم 3 أيلول، وأسقطت فصائل محلية طائرة مسيرة قرب بلدة الصور "
    "يوم 7 أيلول."
)
CONVOY: dict[str, Any] = {
    "mode": "ground",
    "vehicles": 60,
    "approximate": True,
    "batches": None,
    "dates": ["2024-09-03"],
    "origin": None,
    "destinations": ["قاعدة الشدادي"],
    "cargo": ["معدات لوجستية"],
    "evidence": "قافلة تضم نحو 60 شاحنة",
}
STRIKE: dict[str, Any] = {
    "date": "2024-09-07",
    "kind": "drone_shootdown",
    "attacker": "other",
    "targets": [],
    "location": "الصور",
    "governorate": None,
    "count": 1,
    "casualties": [],
    "evidence": "أسقطت فصائل محلية طائرة مسيرة",
}
INVENTED = {**STRIKE, "kind": "airstrike", "evidence": "غارات جوية على مواقع في البادية"}
GOOD = {"coalition_month": 121, "convoys": [CONVOY], "strikes": [STRIKE]}
BAD = {"coalition_month": 121, "convoys": [CONVOY], "strikes": [INVENTED]}
MIXED = {"coalition_month": 121, "convoys": [CONVOY], "strikes": [STRIKE, INVENTED]}
MESSAGES = [
    {"role": "system", "content": "Extract the coalition's activity as JSON.\n\n  Keep spaces."},
    {"role": "user", "content": f"Report:\n{SOURCE}"},
]


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def settings(server: OpenAIServer, **overrides: Any) -> ModelSettings:
    values: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "base_url": server.base_url,
        "api_key": KEY,
        "max_retries": 2,
        "max_reasks": 1,
        "timeout_s": 5.0,
        "max_tokens": 2048,
        **overrides,
    }
    return ModelSettings(**values)


def request(
    model_settings: ModelSettings, text: str = SOURCE, report_id: str = "m121"
) -> ExtractionRequest:
    messages = [MESSAGES[0], {"role": "user", "content": f"Report:\n{text}"}]
    return ExtractionRequest(
        report=Report(report_id=report_id, text=text, path=f"{report_id}.txt"),
        messages=messages,
        settings=model_settings,
        prompt=PromptInfo(name="test", hash="h"),
    )


async def extract_once(model_settings: ModelSettings, **kwargs: Any) -> BackendResponse:
    backend = OpenAIBackend(model_settings, retry_policy=FAST, **kwargs)
    try:
        return await backend.extract(request(model_settings))
    finally:
        await backend.aclose()


def extract(server: OpenAIServer, **overrides: Any) -> BackendResponse:
    return run(extract_once(settings(server, **overrides)))


def fail(server: OpenAIServer, **overrides: Any) -> ExtractionError:
    with pytest.raises(ExtractionError) as info:
        extract(server, **overrides)
    return info.value


def assert_good(response: BackendResponse) -> None:
    extraction = response.extraction
    assert type(extraction) is ReportExtraction
    assert extraction.report_id == "m121"
    assert extraction.period is not None and str(extraction.period.start) == "2024-09-23"
    convoy = extraction.convoys[0]
    assert convoy.evidence_start is not None and convoy.evidence_end is not None
    assert SOURCE[convoy.evidence_start : convoy.evidence_end] == CONVOY["evidence"]
    assert [s.kind.value for s in extraction.strikes] == ["drone_shootdown"]
    assert response.dropped == []
