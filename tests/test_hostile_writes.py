"""Outputs never written through a link into another file, never lost to a full disk or a
kill, never replacing a file of another kind (issue 19, items 7, 9 and 16)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from report_samples import SAMPLES, answer

from llm_extract.errors import InputError
from llm_extract.jsonl import JsonlWriter, OutputLocked, finished_ids
from llm_extract.results import ExtractionResult, PromptInfo, SourceInfo
from llm_extract.schemas import ReportExtraction


def result(report_id: str) -> ExtractionResult:
    extraction = ReportExtraction.model_validate(
        answer(report_id), context={"source": SAMPLES[report_id], "report_id": report_id}
    )
    return ExtractionResult(
        report_id=report_id,
        source=SourceInfo(path=f"{report_id}.txt", sha256="0" * 64),
        prompt=PromptInfo(name="guided", hash="h"),
        model="m",
        status="ok",
        extraction=extraction,
        request_key="k",
    )


def test_a_lock_file_planted_as_a_link_is_refused_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    (tmp_path / ".o.jsonl.lock").symlink_to(victim)
    with pytest.raises(InputError, match="symbolic link; refusing to follow it"):
        JsonlWriter(tmp_path / "o.jsonl").open()
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert not (tmp_path / "o.jsonl").exists()


def test_two_writers_through_a_link_alias_the_second_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "o.jsonl"
    alias = tmp_path / "elsewhere" / "alias.jsonl"
    alias.parent.mkdir()
    alias.symlink_to(real)
    with JsonlWriter(real) as first:
        first.write(result("r120"))
        with pytest.raises(OutputLocked, match="another run is writing this file"):
            JsonlWriter(alias).open()
        first.write(result("r121"))
    assert finished_ids(real) == {"r120", "r121"}
    assert not list(tmp_path.rglob(".*.lock"))  # released and removed


def test_a_folder_that_cannot_be_written_is_named_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a read-only folder answers (simulated: the tests may run as root, whom a
    0o555 folder does not stop)."""
    real_open = os.open

    def read_only(path: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
        if str(path).startswith(str(tmp_path)) and flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(InputError) as caught:
        JsonlWriter(tmp_path / "o.jsonl").open()
    assert f"cannot write in the folder {tmp_path} (read-only file system)" in str(caught.value)
    assert "cannot lock" not in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a 0o555 folder")
def test_a_read_only_folder_is_named_as_such(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(InputError, match="cannot write in the folder .* denied"):
            JsonlWriter(folder / "o.jsonl").open()
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("content", [b'{"hello": 1', b"{", b'{"report": "x"'])
def test_resume_on_a_one_line_file_that_is_not_results_refuses(
    tmp_path: Path, content: bytes
) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(content)
    with pytest.raises(InputError, match="not an extraction result"):
        finished_ids(notes)
    with pytest.raises(InputError):
        JsonlWriter(notes, append=True).open()
    assert notes.read_bytes() == content
