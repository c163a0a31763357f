"""The offline extractor spreads a run over every core: worker processes, the same results."""

from __future__ import annotations

import os

from report_samples import SAMPLES

from llm_extract.backends.base import ExtractionRequest, ModelSettings
from llm_extract.backends.rules import backend as rules_backend
from llm_extract.backends.rules.backend import RulesBackend
from llm_extract.prompts import load_prompt
from llm_extract.report import Report
from llm_extract.results import ExtractionResult
from llm_extract.run.aio import run_async
from llm_extract.run.pipeline import prepare_request, stream_requests

SETTINGS = ModelSettings(model="rules")
SAMPLE_TEXT = SAMPLES["r121"]


def requests(count: int) -> list[ExtractionRequest]:
    prompt = load_prompt("minimal")
    return [
        prepare_request(
            Report(f"r{i:03d}", f"{SAMPLE_TEXT}\n{i}\n", f"r{i:03d}.txt"), prompt, SETTINGS
        )
        for i in range(count)
    ]


def run(backend: RulesBackend, count: int) -> tuple[dict[str, ExtractionResult], bool]:
    results: dict[str, ExtractionResult] = {}
    pooled: list[bool] = []

    async def main() -> None:
        await stream_requests(
            requests(count),
            backend=backend,
            concurrency=4,
            on_result=lambda r: results.update({r.report_id: r}),
        )
        pooled.append(backend._pool is not None)
        await backend.aclose()

    run_async(main())
    return results, pooled[0]


def test_a_run_of_many_reports_uses_worker_processes_with_the_same_results() -> None:
    pooled_results, pooled = run(RulesBackend(workers=2), 12)
    inline_results, inline = run(RulesBackend(workers=1), 12)
    assert pooled and not inline
    assert sorted(pooled_results) == [f"r{i:03d}" for i in range(12)]
    for report_id, result in inline_results.items():
        other = pooled_results[report_id]
        assert result.status == other.status == "ok"
        assert other.extraction == result.extraction
        assert other.extraction is not None and other.extraction.convoys  # real records
        assert other.dropped == result.dropped


def test_the_workers_run_in_other_processes() -> None:
    extraction, _ = rules_backend._extract_job(SAMPLE_TEXT, "r1", None)
    assert extraction.report_id == "r1"
    seen: set[int] = set()
    backend = RulesBackend(workers=2)

    async def main() -> None:
        await stream_requests(requests(6), backend=backend, concurrency=4)
        assert backend._pool is not None
        seen.update(backend._pool.submit(os.getpid).result() for _ in range(4))
        await backend.aclose()

    run_async(main())
    assert seen and os.getpid() not in seen


def test_one_report_never_starts_the_pool() -> None:
    backend = RulesBackend(workers=2)
    results, pooled = run(backend, 1)
    assert not pooled and results["r000"].status == "ok"
