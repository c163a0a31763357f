"""Issue 23, item 4: memory flat in the number of reports. A stream of reports keeps no text of
a report it has handed on (duplicates included), one file is read once whatever names it, the
overwrite check goes through the inputs one at a time, and ``--resume`` keeps a compact record
per finished report, never the results of the output file.

Memory is measured with ``tracemalloc`` (bytes allocated by Python, not time), with wide
margins: what is bounded is the growth per extra report, against the size of the texts."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_samples import SAMPLES

from llm_extract.cli._common import refuse_overwriting_inputs
from llm_extract.errors import UsageError
from llm_extract.jsonl import JsonlWriter, check_lines, prepare_for_append, result_line
from llm_extract.prompts import load_prompt
from llm_extract.report import Duplicate, Report, sha256_text
from llm_extract.results import ErrorInfo, ExtractionResult
from llm_extract.run.resume import done_ids, finished_records
from llm_extract.run.runner import ReportStreamPlan, Runner
from llm_extract.settings import load_settings
from llm_extract.sources.files import read_reports, stream_reports

#: About 2,000 characters (4 KB as a Python string): what one report's text weighs.
LONG = "\n".join([SAMPLES["r121"]] * 12)


def long_reports(folder: Path, count: int) -> Path:
    folder.mkdir()
    for n in range(count):
        (folder / f"r{n:05d}.txt").write_text(f"{LONG}\n{n}\n", encoding="utf-8")
    return folder


def traced(folder: Path) -> tuple[int, int, int]:
    """(peak, current after iterating, sum of the texts' sizes) of iterating a stream of
    ``folder`` from its listing on, in bytes."""
    tracemalloc.start()
    try:
        stream = stream_reports([str(folder)])
        text_bytes = 0
        for report in stream:
            text_bytes += len(report.text) * 2  # UCS-2: Arabic takes two bytes a character
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(stream) and not stream.errors and not stream.duplicates
    return peak, current, text_bytes


def test_a_stream_of_reports_grows_by_far_less_than_a_text_per_report(tmp_path: Path) -> None:
    small = traced(long_reports(tmp_path / "small", 1_000))
    large = traced(long_reports(tmp_path / "large", 2_000))
    per_report_text = large[2] / 2_000
    assert per_report_text > 3_500  # each text weighs about 4 KB
    # peak growth per extra report: a name, an id, a 17-byte key (well under 1 KB); holding
    # the texts (as the stream did before) would cost more than 4 KB a report
    per_report_peak = (large[0] - small[0]) / 1_000
    assert per_report_peak < 1_024, (per_report_peak, small, large)
    # once iterated, what the stream holds is far below the texts it handed on
    assert large[1] < large[2] / 5, (large[1], large[2])


def test_duplicates_hold_no_text(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a.txt").write_text(LONG, encoding="utf-8")
    (folder / "b.txt").write_text(LONG + "\n\n", encoding="utf-8")  # the same report
    (folder / "c.txt").write_text(SAMPLES["r120"], encoding="utf-8")
    stream = stream_reports([str(folder)])
    assert [r.report_id for r in stream] == ["a", "c"]
    [duplicate] = stream.duplicates
    assert duplicate.reason == "same text"
    assert duplicate.item.path == str(folder / "b.txt") and duplicate.item.report_id == "b"
    assert duplicate.kept.path == str(folder / "a.txt") and duplicate.kept.report_id == "a"
    assert duplicate.item.text == "" and duplicate.kept.text == ""
    assert duplicate.item.sha256 == sha256_text(LONG + "\n\n")  # still says which text it was
    found: list[Duplicate[Report]] = []
    reports, errors = read_reports([str(folder)], duplicates=found)
    assert [r.report_id for r in reports] == ["a", "c"] and not errors
    assert [(d.item.text, d.kept.text) for d in found] == [("", "")]


def test_one_file_through_a_hard_link_or_a_symbolic_link_is_read_once_silently(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    original = folder / "r120.txt"
    original.write_text(SAMPLES["r120"], encoding="utf-8")
    (folder / "r121.txt").write_text(SAMPLES["r121"], encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    hard = elsewhere / "copy.txt"
    os.link(original, hard)
    soft = elsewhere / "alias.txt"
    soft.symlink_to(original)
    for order in ([folder, hard, soft], [hard, soft, folder], [soft, folder, hard]):
        duplicates: list[Duplicate[Report]] = []
        reports, errors = read_reports([str(p) for p in order], duplicates=duplicates)
        assert errors == [] and duplicates == [], order  # read once: no "same text" skip
        assert sorted(r.text for r in reports) == sorted([SAMPLES["r120"], SAMPLES["r121"]])
        assert len(reports) == 2
    # the first name met is the one read
    reports, _ = read_reports([str(hard), str(folder)])
    assert [r.path for r in reports] == [str(hard), str(folder / "r121.txt")]


def test_a_glob_over_folders_is_sorted_by_path_parts(tmp_path: Path) -> None:
    # "a-b" sorts before "a/" as a string ("-" < "/"), after "a" as a path part
    for name in ("a-b", "a"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "r.txt").write_text(f"{SAMPLES['r120']}\n{name}", encoding="utf-8")
    reports, errors = read_reports([str(tmp_path / "*" / "r.txt")])
    assert errors == []
    assert [r.path for r in reports] == [str(tmp_path / "a/r.txt"), str(tmp_path / "a-b/r.txt")]


def test_the_overwrite_check_goes_through_the_inputs_one_at_a_time(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    output.write_text("", encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text("x", encoding="utf-8")
    link = tmp_path / "same.jsonl"
    os.link(output, link)
    given: list[str] = []

    def inputs() -> Iterator[str]:
        for name in ("-", "", str(tmp_path / "missing.txt"), str(other), str(link)):
            given.append(name)
            yield name
        raise AssertionError("asked for an input after the one that is the output")

    with pytest.raises(UsageError, match=r"out\.jsonl: is also an input \(.*same\.jsonl\)"):
        refuse_overwriting_inputs([None, output], inputs())
    assert given[-1] == str(link)
    refuse_overwriting_inputs([output], iter([str(other), "a\0b", "-"]))  # no such file: fine


# --resume


def rules_runner(tmp_path: Path, prompt: str | None = None) -> Runner:
    values: dict[str, object] = {"model": "rules", "cache_dir": tmp_path / "cache"}
    if prompt is not None:
        values["prompt"] = prompt
    settings = load_settings(values)
    return Runner(settings, load_prompt(settings.prompt, settings.prompts_dir))


def results_file(tmp_path: Path, count: int, filler: int) -> tuple[Path, Path]:
    """A folder of ``count`` reports, and a result file holding ``filler`` lines of other
    reports (large ones), then a real run of the first half of the folder, then a failed
    line of one of those (its earlier ``ok`` line still counts)."""
    folder = tmp_path / "reports"
    folder.mkdir()
    for n in range(count):
        (folder / f"r{n:04d}.txt").write_text(f"{SAMPLES['r121']}\n{n}\n", encoding="utf-8")
    runner = rules_runner(tmp_path)
    done: list[ExtractionResult] = []
    half = [r for r in stream_reports([str(folder)]) if r.report_id < f"r{count // 2:04d}"]
    runner.run_sync(ReportStreamPlan(half, len(half)), on_result=done.append)
    source = done[0].source.model_copy(update={"title": LONG})
    big = done[0].model_copy(update={"source": source})
    lines = [
        result_line(big.model_copy(update={"report_id": f"other{n}"})) + "\n" for n in range(filler)
    ]
    lines += [result_line(r) + "\n" for r in done]
    error = ErrorInfo(kind="provider_error", message="HTTP 500")
    failed = done[0].model_copy(update={"status": "failed", "error": error, "extraction": None})
    lines.append(result_line(failed) + "\n")
    out = tmp_path / "out.jsonl"
    with JsonlWriter(out, append=False) as writer:
        writer.write_lines(lines)
    return folder, out


def test_resume_over_thousands_of_lines_skips_the_same_and_refuses_other_settings(
    tmp_path: Path,
) -> None:
    folder, out = results_file(tmp_path, 40, 3_000)
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3_021
    runner = rules_runner(tmp_path)
    skip = done_ids(runner, stream_reports([str(folder)]), out)
    assert skip == {f"r{n:04d}" for n in range(20)}
    # a report whose text changed since is run again, not skipped, not refused
    (folder / "r0003.txt").write_text(f"{SAMPLES['r122']}\n3\n", encoding="utf-8")
    skip = done_ids(runner, stream_reports([str(folder)]), out)
    assert skip == {f"r{n:04d}" for n in range(20)} - {"r0003"}
    # the same reports with another prompt: the file would mix two runs
    other = rules_runner(tmp_path, prompt="minimal")
    with pytest.raises(UsageError, match=r"19 report\(s\) \(e\.g\. r0000\) were extracted"):
        done_ids(other, stream_reports([str(folder)]), out)


def test_resume_keeps_a_compact_record_per_report_not_the_results(tmp_path: Path) -> None:
    _, out = results_file(tmp_path, 4, 3_000)
    size = out.stat().st_size
    assert size > 3_000 * 3_000  # each filler line carries a title of 2,000 characters
    tracemalloc.start()
    try:
        records = finished_records(out)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(records) == 3_002 and all(len(r) == 32 for r in records.values())
    # parsed results kept (as before) weigh more than the file; a record is 32 bytes and an id
    assert peak < size / 4, (peak, size)
    assert current < 3_002 * 400, current
    # appending checks the whole file the same way, keeping nothing of it
    tracemalloc.start()
    try:
        with JsonlWriter(out, append=True):
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < size / 4, (peak, size)


def test_check_lines_hands_on_each_result_and_keeps_none(tmp_path: Path) -> None:
    _, out = results_file(tmp_path, 4, 5)
    heard: list[tuple[int, str]] = []
    end = check_lines(out, lambda number, result: heard.append((number, result.report_id)))
    assert [n for n, _ in heard] == list(range(1, 9))
    assert heard[0][1] == "other0" and heard[-1][1] == "r0000"
    assert end.torn_bytes == 0 and not end.unterminated
    whole = out.read_bytes()
    out.write_bytes(whole + b'{"report_id": "r00')
    assert prepare_for_append(out).torn_bytes == len(b'{"report_id": "r00')
    assert out.read_bytes() == whole
