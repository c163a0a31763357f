"""JSONL output: one line per result, append, resume ids, torn last line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_samples import SAMPLES, answer

from llm_extract.errors import InputError
from llm_extract.jsonl import JsonlWriter, finished_ids, finished_results, pretty, repair_tail
from llm_extract.results import ErrorInfo, ExtractionResult, PromptInfo, SourceInfo
from llm_extract.schemas import ReportExtraction


def result(report_id: str, status: str = "ok", key: str = "k") -> ExtractionResult:
    extraction = None
    error = None
    if status == "ok":
        extraction = ReportExtraction.model_validate(
            answer(report_id), context={"source": SAMPLES[report_id], "report_id": report_id}
        )
    else:
        error = ErrorInfo(kind="provider_error", message="HTTP 500")
    return ExtractionResult(
        report_id=report_id,
        source=SourceInfo(path=f"{report_id}.txt", sha256="0" * 64),
        prompt=PromptInfo(name="guided", hash="h"),
        model="m",
        status="ok" if status == "ok" else "failed",
        error=error,
        extraction=extraction,
        request_key=key,
    )


def test_writer_appends_one_json_line_per_result(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "out.jsonl"
    with JsonlWriter(out) as writer:
        writer.write(result("r120"))
        # Each line is on disk as soon as it is written.
        assert out.read_text(encoding="utf-8").count("\n") == 1
        writer.write(result("r121", "failed"))
    with JsonlWriter(out) as writer:
        writer.write(result("r122"))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["report_id"] for line in lines] == ["r120", "r121", "r122"]
    assert "قاعدة قسرك" in lines[0]  # Arabic written as UTF-8, not \\u escapes
    back = ExtractionResult.model_validate_json(lines[0])
    assert back.extraction is not None and back.extraction.drills[0].evidence_start is not None


def test_writer_without_append_starts_afresh(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with JsonlWriter(out) as writer:
        writer.write(result("r120"))
    with JsonlWriter(out, append=False) as writer:
        writer.write(result("r121"))
    assert finished_ids(out) == {"r121"}


def test_finished_ids_are_ok_reports_only(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert finished_ids(out) == set()
    with JsonlWriter(out) as writer:
        writer.write(result("r120"))
        writer.write(result("r121", "failed"))
        writer.write(result("r122", "failed"))
        writer.write(result("r122", key="second"))  # a failed report re-run with success
    assert finished_ids(out) == {"r120", "r122"}
    assert finished_results(out)["r122"].request_key == "second"


def test_torn_last_line_is_ignored_and_cut_before_appending(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with JsonlWriter(out) as writer:
        writer.write(result("r120"))
    whole = out.read_bytes()
    torn = result("r121").model_dump_json().encode("utf-8")[:57]
    out.write_bytes(whole + torn)
    assert finished_ids(out) == {"r120"}
    assert out.read_bytes() == whole  # finished_ids cut the torn tail off
    out.write_bytes(whole + torn)
    with JsonlWriter(out) as writer:
        writer.write(result("r122"))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["report_id"] for line in lines] == ["r120", "r122"]


def test_repair_tail_handles_a_file_that_is_all_torn(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(
        b'{"report_id": "r1',
    )
    assert repair_tail(out) == 17
    assert out.read_bytes() == b""
    assert repair_tail(out) == 0
    assert repair_tail(tmp_path / "missing.jsonl") == 0


def test_a_corrupt_complete_line_names_file_and_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with JsonlWriter(out) as writer:
        writer.write(result("r120"))
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"not": "a result"}\n')
    with pytest.raises(InputError, match=r"out\.jsonl: line 2 is not an extraction result"):
        finished_ids(out)


def test_pretty_keeps_arabic_readable() -> None:
    text = pretty(result("r120"))
    assert "\n  " in text and "قاعدة قسرك" in text
    assert json.loads(text)["report_id"] == "r120"
