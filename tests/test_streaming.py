"""Long runs stream: requests are taken as workers free up, results go to the output as they
finish and are counted, not kept; each output line is synced off the event loop, and a report
counts as done only once its line is on disk."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from paths import REPORTS_DIR

from llm_extract.backends.base import BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.errors import InputError
from llm_extract.jsonl import JsonlWriter, read_results
from llm_extract.prompts import load_prompt
from llm_extract.report import Report
from llm_extract.results import ExtractionResult
from llm_extract.run.aio import run_async
from llm_extract.run.pipeline import prepare_request, stream_requests
from llm_extract.run.runner import Runner
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import load_settings

TEXT = (REPORTS_DIR / "month_116.txt").read_text(encoding="utf-8")
SETTINGS = ModelSettings(model="fake")


def copies(count: int) -> list[Report]:
    return [Report(f"r{i:04d}", f"{TEXT}\n{i}\n", f"r{i:04d}.txt") for i in range(count)]


def rules_runner(tmp_path: Path, concurrency: int = 4) -> Runner:
    settings = load_settings(
        {"model": "rules", "concurrency": concurrency, "cache_dir": tmp_path / "cache"}
    )
    return Runner(settings, load_prompt(settings.prompt))


class Counting:
    """A backend that answers after a pause and records how many requests it holds at once."""

    name = "counting"

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0
        self.calls = 0

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        self.calls += 1
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.002)
            extraction = ReportExtraction.model_validate(
                {"coalition_month": 116}, context={"source": request.report.text}
            )
            return BackendResponse(extraction=extraction)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        return None


def test_the_runner_counts_results_and_keeps_none(tmp_path: Path) -> None:
    runner = rules_runner(tmp_path)
    seen: list[ExtractionResult] = []
    outcome = runner.run_sync(runner.prepare(copies(30)), on_result=seen.append)
    assert outcome.results is None
    assert len(seen) == 30 and all(r.status == "ok" for r in seen)
    assert (outcome.tally.ok, outcome.tally.failed, outcome.tally.total) == (30, 0, 30)
    assert outcome.tally.tokens == 0 and outcome.tally.failures == []


def test_a_caller_that_needs_every_result_asks_for_them_in_input_order(tmp_path: Path) -> None:
    runner = rules_runner(tmp_path, concurrency=8)
    reports = copies(12)
    outcome = runner.run_sync(runner.prepare(reports), keep_results=True)
    assert outcome.results is not None
    assert [r.report_id for r in outcome.results] == [r.report_id for r in reports]


def test_requests_are_taken_only_as_workers_free_up() -> None:
    prompt = load_prompt("minimal")
    backend = Counting()
    taken = 0
    finished = 0
    ahead: list[int] = []

    def requests() -> Iterator[ExtractionRequest]:
        nonlocal taken
        for report in copies(40):
            taken += 1
            yield prepare_request(report, prompt, SETTINGS)

    def count(result: ExtractionResult) -> None:
        nonlocal finished
        finished += 1
        ahead.append(taken - finished)

    run_async(stream_requests(requests(), backend=backend, concurrency=3, on_result=count))
    assert finished == 40 and backend.calls == 40
    assert backend.most <= 3
    assert max(ahead) <= 3  # never more requests prepared than workers to run them


def test_admit_bounds_the_reports_in_hand_and_follows_it_as_it_changes() -> None:
    """``--concurrency auto`` runs hundreds of workers but hands reports to as many as its
    window calls for: a run that starts at one request in flight prepares a few, not all."""
    prompt = load_prompt("minimal")
    backend = Counting()
    taken = 0
    finished = 0
    bound = 2
    held: list[tuple[int, int]] = []  # (the bound, reports taken and not finished)

    def requests() -> Iterator[ExtractionRequest]:
        nonlocal taken
        for report in copies(60):
            taken += 1
            held.append((bound, taken - finished))
            yield prepare_request(report, prompt, SETTINGS)

    def count(result: ExtractionResult) -> None:
        nonlocal finished, bound
        finished += 1
        if finished == 10:
            bound = 12  # the window grew
        elif finished == 30:
            bound = 3  # and shrank

    run_async(
        stream_requests(
            requests(), backend=backend, concurrency=50, on_result=count, admit=lambda: bound
        )
    )
    assert finished == 60 and backend.calls == 60
    # a seat is granted under the bound of the moment: one granted just before the bound
    # fell may still be used after it, so the reports in hand come down, then stay down
    assert all(in_hand <= 2 for limit, in_hand in held if limit == 2)
    assert max(in_hand for _, in_hand in held) == 12  # it grew with the bound
    late = [in_hand for limit, in_hand in held if limit == 3]
    assert len(late) >= 10
    down = next(i for i, in_hand in enumerate(late) if in_hand <= 3)
    assert down <= 12 and max(late[down:]) <= 3, late
    assert backend.most <= 12


def test_workers_waiting_for_a_seat_end_with_the_run() -> None:
    """When the last report is taken, the workers still waiting for a seat end: the run
    finishes, none is left waiting (a bound below one, fifty workers)."""
    prompt = load_prompt("minimal")
    backend = Counting()
    seen: list[ExtractionResult] = []
    requests = [prepare_request(report, prompt, SETTINGS) for report in copies(5)]
    run_async(
        asyncio.wait_for(
            stream_requests(
                requests, backend=backend, concurrency=50, on_result=seen.append, admit=lambda: 0
            ),
            timeout=30,
        )
    )
    assert len(seen) == 5 and backend.most == 1  # a bound below one still lets one through


def test_an_awaitable_sink_is_awaited_before_the_report_counts() -> None:
    prompt = load_prompt("minimal")
    on_disk: list[str] = []
    counted: list[tuple[str, bool]] = []

    async def slow_sink(result: ExtractionResult) -> None:
        await asyncio.sleep(0.001)
        on_disk.append(result.report_id)

    settings = load_settings({"model": "rules", "concurrency": 2})
    runner = Runner(settings, prompt)

    async def main() -> None:
        async def sink(result: ExtractionResult) -> None:
            await slow_sink(result)
            counted.append((result.report_id, result.report_id in on_disk))

        outcome = await runner.run(runner.prepare(copies(6)), on_result=sink)
        assert outcome.tally.ok == 6

    run_async(main())
    assert len(counted) == 6 and all(written for _, written in counted)


def test_an_error_of_the_output_stops_the_run(tmp_path: Path) -> None:
    prompt = load_prompt("minimal")
    backend = Counting()

    def broken(result: ExtractionResult) -> None:
        raise InputError(tmp_path / "out.jsonl", "cannot write output (No space left on device)")

    requests = [prepare_request(r, prompt, SETTINGS) for r in copies(50)]
    with pytest.raises(InputError, match="No space left"):
        run_async(stream_requests(requests, backend=backend, concurrency=4, on_result=broken))
    assert backend.calls <= 8  # the workers stop at the first failed write


def test_write_async_syncs_each_line_in_the_writer_thread_before_returning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.jsonl"
    runner = rules_runner(tmp_path)
    synced: list[tuple[str, int]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        synced.append((threading.current_thread().name, len(out.read_bytes().splitlines())))

    monkeypatch.setattr(os, "fsync", fsync)
    durable_when_counted: list[bool] = []

    with JsonlWriter(out, append=False) as writer:

        async def sink(result: ExtractionResult) -> None:
            await writer.write_async(result)
            lines = out.read_text().splitlines()
            line = next(n for n, text in enumerate(lines) if f'"{result.report_id}"' in text)
            durable_when_counted.append(bool(synced) and line < synced[-1][1])

        async def main() -> None:
            loop_thread = threading.current_thread().name
            await runner.run(runner.prepare(copies(10)), on_result=sink)
            assert all(name != loop_thread for name, _ in synced)

        run_async(main())
    counts = [n for _, n in synced]
    assert 1 <= len(counts) <= 10 and counts == sorted(set(counts)) and counts[-1] == 10
    assert durable_when_counted == [True] * 10  # counted only once its line was synced
    assert sorted(r.report_id for r in read_results(out)) == [f"r{i:04d}" for i in range(10)]
    assert writer.written == 10


def test_lines_that_finish_together_share_one_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.jsonl"
    results = [
        r
        for r in rules_runner(tmp_path)
        .run_sync(rules_runner(tmp_path).prepare(copies(10)), keep_results=True)
        .results
        or []
    ]
    syncs: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        syncs.append(len(out.read_bytes().splitlines()))

    monkeypatch.setattr(os, "fsync", fsync)
    with JsonlWriter(out, append=False) as writer:

        async def main() -> None:
            await asyncio.gather(*(writer.write_async(r) for r in results))

        run_async(main())
    assert syncs == [10]  # ten lines written together, one fsync
    assert [r.report_id for r in read_results(out)] == [r.report_id for r in results]


def test_the_next_request_goes_out_while_a_line_is_still_being_written() -> None:
    prompt = load_prompt("minimal")
    second_sent = asyncio.Event()
    waited: list[bool] = []

    class Watching(Counting):
        """Counts like its parent, and says when the second request has gone out."""

        async def extract(self, request: ExtractionRequest) -> BackendResponse:
            if self.calls == 1:
                second_sent.set()
            return await super().extract(request)

    async def slow_write(result: ExtractionResult) -> None:
        if not waited:  # the first line: its disk is slow until the next request is out
            await asyncio.wait_for(second_sent.wait(), timeout=5)
        waited.append(True)

    backend = Watching()
    requests = [prepare_request(r, prompt, SETTINGS) for r in copies(5)]
    run_async(stream_requests(requests, backend=backend, concurrency=1, on_result=slow_write))
    assert waited == [True] * 5 and backend.calls == 5
