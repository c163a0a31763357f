"""The pipeline with a small in-process backend: order, concurrency, failures, cache, usage."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from report_samples import SAMPLES, answer

from llm_extract.backends import BackendSpec
from llm_extract.backends.base import Backend, BackendResponse, Capabilities, ExtractionRequest
from llm_extract.errors import ExtractionError, ProviderError, UsageError
from llm_extract.pricing import load_price_table
from llm_extract.prompts import Prompt, load_prompt
from llm_extract.report import Report
from llm_extract.results import ExtractionResult, Usage
from llm_extract.run.cache import ResponseCache
from llm_extract.run.keys import request_key
from llm_extract.run.pipeline import request_params
from llm_extract.run.runner import Runner
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import load_settings

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
SECRET = "sk-test-PIPELINE-0123456789"


class FakeBackend:
    """Answers the sample reports after a short pause; fails the ids it is told to fail."""

    name = "fake"

    def __init__(self, *, cacheable: bool = True, fail: dict[str, Exception] | None = None) -> None:
        self.cacheable = cacheable
        self.fail = fail or {}
        self.requests: list[ExtractionRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.closed = False

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            rid = request.report.report_id
            if rid in self.fail:
                raise self.fail[rid]
            if rid == "boom":
                raise RuntimeError("bug in a backend")
            extraction = ReportExtraction.model_validate(
                answer(rid), context={"source": request.report.text, "report_id": rid}
            )
            usage = Usage(prompt_tokens=1000, completion_tokens=200, total_tokens=1200, attempts=1)
            return BackendResponse(extraction=extraction, usage=usage)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        self.closed = True


def reports(*ids: str) -> list[Report]:
    return [Report(report_id=i, text=SAMPLES[i], path=f"/in/{i}.txt") for i in ids]


def run_reports(
    given: list[Report],
    *,
    prompt: Prompt,
    backend: FakeBackend,
    cache: ResponseCache | None = None,
    concurrency: int = 8,
    on_result: Callable[[ExtractionResult], None] | None = None,
    temperature: float = 0.0,
) -> list[ExtractionResult]:
    """``given`` through the one composition root, the :class:`Runner`, with ``backend`` as
    the registered backend of the model (cacheable, no HTTP)."""
    settings = load_settings(
        {
            "model": "gpt-4o-mini",
            "api_key": SECRET,
            "concurrency": concurrency,
            "temperature": temperature,
            "cache": cache is not None,
        }
    )
    runner = Runner(settings, prompt, cache=cache)

    def create(*_: object) -> Backend:
        return backend

    runner.spec = BackendSpec(
        name="fake",
        description="in-process backend of the tests",
        capabilities=Capabilities(
            needs_credentials=False,
            http=False,
            cacheable=backend.cacheable,
            batch_api=False,
            uses_prompt=True,
        ),
        serves=lambda model: True,
        create=create,
    )
    outcome = runner.run_sync(runner.prepare(given), on_result=on_result, keep_results=True)
    assert outcome.results is not None
    return outcome.results


def test_results_in_input_order_with_provenance_and_usage() -> None:
    prompt = load_prompt("guided", PROMPTS)
    backend = FakeBackend()
    seen: list[str] = []
    results = run_reports(
        reports("r122", "r120", "r121"),
        prompt=prompt,
        backend=backend,
        on_result=lambda r: seen.append(r.report_id),
    )
    assert [r.report_id for r in results] == ["r122", "r120", "r121"]
    assert sorted(seen) == ["r120", "r121", "r122"]
    first = results[0]
    assert first.status == "ok" and first.error is None and not first.cached
    assert first.source.path == "/in/r122.txt"
    assert first.source.sha256 == reports("r122")[0].sha256
    assert (first.prompt.name, first.prompt.hash) == ("guided", prompt.hash)
    assert first.model == "gpt-4o-mini"
    assert first.extraction is not None and first.extraction.arrests[0].detained == 3
    assert first.usage.total_tokens == 1200
    # The backend left the cost out: the pipeline prices it from the table.
    unpriced = first.usage.model_copy(update={"cost_usd": None})
    expected = load_price_table().cost("gpt-4o-mini", unpriced)
    assert expected is not None and first.usage.cost_usd == pytest.approx(expected)
    assert first.latency_s > 0
    request = backend.requests[0]
    assert request.messages == prompt.render(reports("r122")[0])
    assert first.request_key == request_key(
        model="gpt-4o-mini",
        messages=request.messages,
        schema=ReportExtraction.model_json_schema(),
        params=request_params(request.settings),
        prompt_hash=prompt.hash,
        report_sha256=first.source.sha256,
    )
    assert backend.closed  # the runner closes the backend it built


def test_concurrency_is_bounded() -> None:
    backend = FakeBackend()
    many = [
        Report(report_id="r120", text=SAMPLES["r120"] + "\n" + "." * n, path=f"{n}.txt")
        for n in range(12)
    ]
    results = run_reports(
        many,
        prompt=load_prompt("minimal", PROMPTS),
        backend=backend,
        concurrency=3,
    )
    assert len(results) == 12 and all(r.status == "ok" for r in results)
    assert backend.max_in_flight == 3


def test_failures_become_failed_results_and_the_run_goes_on() -> None:
    spent = Usage(prompt_tokens=500, completion_tokens=50, total_tokens=550, attempts=3)
    backend = FakeBackend(
        fail={
            "r120": ExtractionError("no valid answer after 3 attempts", attempts=3, usage=spent),
            "r121": ProviderError(f"HTTP 401 for key {SECRET}", kind="provider_error"),
        }
    )
    boom = Report(report_id="boom", text=SAMPLES["r120"], path="boom.txt")
    results = run_reports(
        [*reports("r120", "r121", "r122"), boom],
        prompt=load_prompt("minimal", PROMPTS),
        backend=backend,
    )
    by_id = {r.report_id: r for r in results}
    assert [by_id[i].status for i in ("r120", "r121", "r122", "boom")] == [
        "failed",
        "failed",
        "ok",
        "failed",
    ]
    failed = by_id["r120"]
    assert failed.error is not None and failed.error.kind == "extraction_failed"
    assert failed.error.message == "no valid answer after 3 attempts"
    assert failed.usage.total_tokens == 550 and failed.usage.attempts == 3
    assert failed.usage.cost_usd is not None and failed.extraction is None
    provider = by_id["r121"].error
    assert provider is not None and provider.kind == "provider_error"
    assert SECRET not in provider.message and "***" in provider.message
    bug = by_id["boom"].error
    assert bug is not None and bug.kind == "internal_error" and "RuntimeError" in bug.message


def test_cache_hit_skips_the_backend(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite3")
    prompt = load_prompt("guided", PROMPTS)
    first_backend = FakeBackend()
    first = run_reports(
        reports("r120", "r121"),
        prompt=prompt,
        backend=first_backend,
        cache=cache,
    )
    assert len(first_backend.requests) == 2 and len(cache) == 2
    second_backend = FakeBackend()
    second = run_reports(
        reports("r120", "r121"),
        prompt=prompt,
        backend=second_backend,
        cache=cache,
    )
    assert second_backend.requests == []
    assert all(r.cached for r in second)
    assert [r.extraction for r in second] == [r.extraction for r in first]
    assert [r.request_key for r in second] == [r.request_key for r in first]
    # Another temperature is another request.
    third_backend = FakeBackend()
    run_reports(reports("r120"), prompt=prompt, temperature=0.7, backend=third_backend, cache=cache)
    assert len(third_backend.requests) == 1


def test_failures_and_uncacheable_backends_are_not_cached(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite3")
    prompt = load_prompt("minimal", PROMPTS)
    failing = FakeBackend(fail={"r120": ExtractionError("bad")})
    run_reports(reports("r120"), prompt=prompt, backend=failing, cache=cache)
    # The offline extractor is not cacheable: the run layer gives it no cache at all.
    offline = Runner(load_settings({"model": "rules", "cache_dir": tmp_path / "offline"}), prompt)
    assert not offline.capabilities.cacheable and offline.response_cache() is None
    outcome = offline.run_sync(offline.prepare(reports("r121")), keep_results=True)
    assert outcome.results is not None and [r.status for r in outcome.results] == ["ok"]
    assert (outcome.tally.ok, outcome.tally.failed) == (1, 0)
    assert len(cache) == 0 and not (tmp_path / "offline").exists()


def test_on_result_is_called_as_each_report_finishes() -> None:
    order: list[tuple[str, int]] = []
    backend = FakeBackend()

    def record(result: ExtractionResult) -> None:
        order.append((result.report_id, len(backend.requests)))

    run_reports(
        reports("r120", "r121", "r122"),
        prompt=load_prompt("minimal", PROMPTS),
        backend=backend,
        concurrency=1,
        on_result=record,
    )
    # With one report at a time, each result is reported before the next request is sent.
    assert order == [("r120", 1), ("r121", 2), ("r122", 3)]


def test_bad_concurrency_is_rejected() -> None:
    with pytest.raises(UsageError, match="concurrency"):
        run_reports(
            reports("r120"),
            prompt=load_prompt("minimal", PROMPTS),
            backend=FakeBackend(),
            concurrency=0,
        )


def test_an_unusable_cache_does_not_fail_reports(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        path = tmp_path / f"cache.sqlite3{suffix}"
        if path.exists():
            path.unlink()
    (tmp_path / "cache.sqlite3").write_bytes(b"this is not a database" * 100)
    backend = FakeBackend()
    results = run_reports(
        reports("r120", "r121"),
        prompt=load_prompt("minimal", PROMPTS),
        backend=backend,
        cache=cache,
    )
    assert [r.status for r in results] == ["ok", "ok"]
    assert len(backend.requests) == 2 and not any(r.cached for r in results)
