"""Outputs never written through a link into another file, never lost to a full disk or a
kill, never replacing a file of another kind (issue 19, items 7, 9 and 16)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from paths import REPORTS_DIR
from report_samples import SAMPLES, answer
from review_data import write_run
from typer.testing import CliRunner, Result

from llm_extract.cli import app
from llm_extract.errors import InputError
from llm_extract.jsonl import JsonlWriter, OutputLocked, finished_ids
from llm_extract.outputs import atomic_write, write_text
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
        with pytest.raises(InputError, match=r"cannot write in the folder .* denied"):
            JsonlWriter(folder / "o.jsonl").open()
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("content", [b'{"hello": 1', b'{"report": "x"', b"{}", b"hello"])
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


# --- every output whole or not at all, never over another kind of file (item 9) ------------


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def run_file(tmp_path: Path) -> Path:
    jsonl, _ = write_run(tmp_path)
    return jsonl


def test_view_never_replaces_a_report_text_it_reads(run_file: Path) -> None:
    report = run_file.parent / "reports" / "r120.txt"
    before = report.read_bytes()
    done = invoke("view", str(run_file), "-o", str(report))
    assert done.exit_code == 2
    assert "is not an HTML page written by llm-extract" in done.output and "--force" in done.output
    assert report.read_bytes() == before
    page = run_file.with_name("page.html")
    assert invoke("view", str(run_file), "-o", str(page)).exit_code == 0
    assert invoke("view", str(run_file), "-o", str(page)).exit_code == 0  # its own page: replaced
    notes = run_file.with_name("notes.txt")
    notes.write_text("my notes\n", encoding="utf-8")
    assert invoke("view", str(run_file), "-o", str(notes), "--force").exit_code == 0
    assert notes.read_text(encoding="utf-8").lower().startswith("<!doctype html")


@pytest.mark.parametrize(
    "args", [["-t", "events"], ["-f", "xlsx"], ["-f", "parquet", "-t", "convoys"]]
)
def test_export_never_replaces_a_file_of_another_kind(run_file: Path, args: list[str]) -> None:
    notes = run_file.with_name("notes.txt")
    notes.write_text("my notes\n", encoding="utf-8")
    done = invoke("export", str(run_file), *args, "-o", str(notes))
    assert done.exit_code == 2, done.output
    assert "refusing to replace it" in done.output
    assert notes.read_text(encoding="utf-8") == "my notes\n"
    assert invoke("export", str(run_file), *args, "-o", str(notes), "--force").exit_code == 0
    assert notes.read_text(encoding="utf-8", errors="replace") != "my notes\n"


def test_export_replaces_its_own_tables(run_file: Path) -> None:
    target = run_file.with_name("t.csv")
    assert invoke("export", str(run_file), "-t", "events", "-o", str(target)).exit_code == 0
    first = target.read_bytes()
    assert invoke("export", str(run_file), "-t", "events", "-o", str(target)).exit_code == 0
    assert target.read_bytes() == first
    other = run_file.with_name("t2.csv")
    other.write_text("name,age\nx,1\n", encoding="utf-8")  # a CSV, but not one of ours
    assert invoke("export", str(run_file), "-t", "events", "-o", str(other)).exit_code == 2


def test_summary_never_replaces_a_picture_it_did_not_draw(run_file: Path) -> None:
    photo = run_file.with_name("photo.png")
    photo_bytes = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    photo.write_bytes(photo_bytes)
    notes = run_file.with_name("notes.png")
    notes.write_text("not a picture\n", encoding="utf-8")
    for target in (photo, notes):
        done = invoke("summary", str(run_file), "--chart", str(target))
        assert done.exit_code == 2, done.output
        assert "is not a PNG chart written by llm-extract" in done.output
    assert photo.read_bytes() == photo_bytes
    assert notes.read_text(encoding="utf-8") == "not a picture\n"
    chart = run_file.with_name("chart.png")
    assert invoke("summary", str(run_file), "--chart", str(chart)).exit_code == 0
    assert invoke("summary", str(run_file), "--chart", str(chart)).exit_code == 0


def _full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up: whatever is written, the data never reaches it (``fsync`` is
    where a full disk reports what it could not write)."""

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)


def _no_temporary_left(folder: Path) -> None:
    assert not [p.name for p in folder.rglob("*.tmp")]


def test_a_full_disk_during_export_keeps_the_old_table(
    run_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = run_file.with_name("t.csv")
    assert invoke("export", str(run_file), "-t", "events", "-o", str(target)).exit_code == 0
    good = target.read_bytes()
    _full_disk(monkeypatch)
    done = invoke("export", str(run_file), "-t", "events", "-o", str(target))
    assert done.exit_code == 2
    assert "No space left on device" in done.output
    assert target.read_bytes() == good
    _no_temporary_left(run_file.parent)


def test_a_writer_failing_mid_row_keeps_the_old_table(
    run_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = run_file.with_name("t.csv")
    assert invoke("export", str(run_file), "-t", "events", "-o", str(target)).exit_code == 0
    good = target.read_bytes()

    def cut_mid_row(frame: pd.DataFrame, path: Path, *args: object, **kwargs: object) -> None:
        Path(path).write_bytes(good[: len(good) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", cut_mid_row)
    assert invoke("export", str(run_file), "-t", "events", "-o", str(target)).exit_code == 2
    assert target.read_bytes() == good
    _no_temporary_left(run_file.parent)


def test_a_full_disk_leaves_no_empty_chart_or_page(
    run_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chart = run_file.with_name("chart.png")
    page = run_file.with_name("page.html")
    assert invoke("summary", str(run_file), "--chart", str(chart)).exit_code == 0
    assert invoke("view", str(run_file), "-o", str(page)).exit_code == 0
    old_chart, old_page = chart.read_bytes(), page.read_bytes()
    _full_disk(monkeypatch)
    assert invoke("summary", str(run_file), "--chart", str(chart)).exit_code == 2
    assert invoke("view", str(run_file), "-o", str(page), "--title", "new").exit_code == 2
    assert invoke("summary", str(run_file), "--chart", str(chart.with_name("new.png"))).exit_code
    assert chart.read_bytes() == old_chart and page.read_bytes() == old_page
    assert not chart.with_name("new.png").exists()
    _no_temporary_left(run_file.parent)


def test_a_full_disk_leaves_no_empty_batch_request_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used-1234")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "r116.txt").write_text(
        (REPORTS_DIR / "month_116.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    requests = tmp_path / "requests.jsonl"
    assert invoke("batch", "prepare", str(reports), "-o", str(requests)).exit_code == 0
    good = requests.read_bytes()
    manifest = requests.with_name("requests.jsonl.manifest.json")
    assert manifest.is_file()
    notes = tmp_path / "notes.jsonl"
    notes.write_text('{"mine": 1}\n', encoding="utf-8")
    refused = invoke("batch", "prepare", str(reports), "-o", str(notes))
    assert refused.exit_code == 2 and "not a Batch API request file" in refused.output
    assert notes.read_text(encoding="utf-8") == '{"mine": 1}\n'
    _full_disk(monkeypatch)
    assert invoke("batch", "prepare", str(reports), "-o", str(requests)).exit_code == 2
    assert requests.read_bytes() == good
    fresh = tmp_path / "fresh.jsonl"
    assert invoke("batch", "prepare", str(reports), "-o", str(fresh)).exit_code == 2
    assert not fresh.exists()
    _no_temporary_left(tmp_path)


def test_atomic_write_replaces_a_link_instead_of_writing_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    link = tmp_path / "page.html"
    link.symlink_to(victim)
    write_text(link, "<!doctype html><p>page</p>")
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert not link.is_symlink() and link.read_text(encoding="utf-8").startswith("<!doctype")


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_atomic_write_failing_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "t.csv"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")

    def half(path: Path) -> None:
        path.write_text("ne", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic_write(target, half)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in target.parent.iterdir()] == ["t.csv"]
