"""Reports are read, prepared and sent as a stream: a run holds the reports in flight."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from report_samples import SAMPLES

from llm_extract.jsonl import JsonlWriter, read_results
from llm_extract.prompts import load_prompt
from llm_extract.report import Report
from llm_extract.results import ExtractionResult
from llm_extract.run.resume import done_ids
from llm_extract.run.runner import ReportStreamPlan, Runner
from llm_extract.settings import load_settings
from llm_extract.sources.files import stream_reports


def folder_of(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    for n in range(count):
        (folder / f"r{n:04d}.txt").write_text(f"{SAMPLES['r121']}\n{n}\n", encoding="utf-8")
    return folder


def rules_runner(tmp_path: Path, concurrency: int = 4) -> Runner:
    settings = load_settings(
        {"model": "rules", "concurrency": concurrency, "cache_dir": tmp_path / "cache"}
    )
    return Runner(settings, load_prompt(settings.prompt))


def test_a_run_reads_each_report_only_when_a_worker_takes_it(tmp_path: Path) -> None:
    stream = stream_reports([str(folder_of(tmp_path, 120))])
    assert len(stream) == 120
    read = 0
    ahead: list[int] = []

    def counted() -> Iterator[Report]:
        nonlocal read
        for report in stream:
            read += 1
            yield report

    finished = 0

    def sink(result: ExtractionResult) -> None:
        nonlocal finished
        finished += 1
        ahead.append(read - finished)

    runner = rules_runner(tmp_path, concurrency=4)
    outcome = runner.run_sync(ReportStreamPlan(counted(), len(stream)), on_result=sink)
    assert outcome.tally.ok == 120 and finished == 120
    assert max(ahead) <= 4  # never more than the workers' reports read ahead of the results


def test_unreadable_inputs_are_named_once_each_as_the_stream_meets_them(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, 3)
    (folder / "bad.txt").write_bytes(b"\xff\xfe\x00 not text")
    stream = stream_reports([str(folder), str(tmp_path / "missing.txt")])
    assert len(stream.errors) == 1  # the missing file: found while listing
    heard: list[str] = []
    stream.on_error = lambda error: heard.append(str(error))
    assert [r.report_id for r in stream] == ["r0000", "r0001", "r0002"]
    assert [r.report_id for r in stream] == ["r0000", "r0001", "r0002"]  # read again
    assert len(stream.errors) == 2 and len(heard) == 1 and "bad.txt" in heard[0]


def test_colliding_names_get_distinct_ids_before_anything_is_read(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        # two reports (the same text twice would be one report, its copy skipped)
        text = f"{SAMPLES['r120']}\n{name}"
        (tmp_path / name / "r1.txt").write_text(text, encoding="utf-8")
    stream = stream_reports([str(tmp_path / "a"), str(tmp_path / "b")])
    assert [r.report_id for r in stream] == ["a__r1", "b__r1"]


def test_resume_plan_is_the_ids_already_done(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, 10)
    out = tmp_path / "out.jsonl"
    runner = rules_runner(tmp_path)
    first = [r for r in stream_reports([str(folder)]) if r.report_id < "r0004"]
    with JsonlWriter(out, append=False) as writer:
        runner.run_sync(ReportStreamPlan(first, len(first)), on_result=writer.write)
    stream = stream_reports([str(folder)])
    skip = done_ids(runner, stream, out)
    assert skip == {"r0000", "r0001", "r0002", "r0003"}
    with JsonlWriter(out, append=True) as writer:
        outcome = runner.run_sync(
            ReportStreamPlan(stream, len(stream), skip), on_result=writer.write
        )
    assert outcome.tally.ok == 6
    assert sorted(r.report_id for r in read_results(out)) == [f"r{n:04d}" for n in range(10)]
    assert len(out.read_text(encoding="utf-8").splitlines()) == 10  # none repeated


def test_keep_results_needs_a_prepared_plan(tmp_path: Path) -> None:
    runner = rules_runner(tmp_path)
    with pytest.raises(ValueError, match="prepared Plan"):
        runner.run_sync(ReportStreamPlan([], 0), keep_results=True)
