"""A clumsy user and hostile data against the commands: no input overwritten or damaged, no
hang, no traceback, one line and exit code 2 for every usage error."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from openai_server import OpenAIServer, Reply
from paths import REPORTS_DIR
from typer.testing import CliRunner, Result

from llm_extract.cli import app
from llm_extract.jsonl import JsonlWriter, read_results

CLI = Path(sys.executable).with_name("llm-extract")
REPORT = REPORTS_DIR / "month_116.txt"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line_usage_error(result: Result | subprocess.CompletedProcess[str]) -> str:
    code = result.exit_code if isinstance(result, Result) else result.returncode
    assert code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    """A results file of three reports made by the offline extractor."""
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in ("month_116", "month_120", "item_drill_shaddadi"):
        shutil.copy(REPORTS_DIR / f"{name}.txt", folder)
    out = tmp_path / "out.jsonl"
    done = invoke("extract", str(folder), "--model", "rules", "-o", str(out))
    assert done.exit_code == 0, done.output
    return out


# --- outputs that are inputs -----------------------------------------------------------------


def test_extract_refuses_an_output_that_is_an_input(tmp_path: Path) -> None:
    first, second = tmp_path / "r1.txt", tmp_path / "r2.txt"
    shutil.copy(REPORT, first)
    second.write_text(REPORT.read_text(encoding="utf-8") + "\nخبر آخر.\n", encoding="utf-8")
    before = first.read_bytes()
    one_line_usage_error(invoke("extract", str(first), str(second), "-o", str(first)))
    link = tmp_path / "link.jsonl"
    link.symlink_to(first)
    hard = tmp_path / "hard.jsonl"
    os.link(first, hard)
    for output in (link, hard):
        args = ["extract", str(tmp_path), "--model", "rules", "-o", str(output)]
        stderr = one_line_usage_error(invoke(*args))
        assert "is also an input" in stderr
    assert first.read_bytes() == before


def test_view_export_summary_refuse_to_write_over_their_input(outputs: Path) -> None:
    before = outputs.read_bytes()
    for args in (
        ["view", str(outputs), "-o", str(outputs)],
        ["export", str(outputs), "-f", "csv", "-t", "convoys", "-o", str(outputs)],
        ["summary", str(outputs), "--chart", str(outputs.with_suffix(".png"))],
    ):
        if args[0] == "summary":  # a chart over the input, reached by a link
            outputs.with_suffix(".png").symlink_to(outputs)
        stderr = one_line_usage_error(invoke(*args))
        assert "is also an input" in stderr
    assert outputs.read_bytes() == before


def test_batch_commands_refuse_to_write_over_their_input(tmp_path: Path) -> None:
    pinned = tmp_path / "pin.txt"
    shutil.copy(REPORT, pinned)
    before = pinned.read_bytes()
    env_key = {"OPENAI_API_KEY": "sk-test-hostile-000"}
    done = cli("batch", "prepare", str(pinned), "-o", str(pinned), env=env_key)
    assert "is also an input" in one_line_usage_error(done)
    requests = tmp_path / "req.jsonl"
    requests.write_text("{}\n", encoding="utf-8")
    done = cli("batch", "collect", str(requests), "-m", str(requests), "-o", str(requests))
    assert "is also an input" in one_line_usage_error(done)
    assert pinned.read_bytes() == before and requests.read_text(encoding="utf-8") == "{}\n"


# --- resume and result files -------------------------------------------------------------------


def test_resume_refuses_a_file_that_is_not_results_before_touching_it(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(b"my notes\nline two without newline")
    before = notes.read_bytes()
    stderr = one_line_usage_error(
        invoke("extract", str(REPORT), "--model", "rules", "--resume", "-o", str(notes))
    )
    assert "line 1 is not an extraction result" in stderr
    assert notes.read_bytes() == before
    # Not even a torn-looking tail is cut from a file that is not results.
    notes.write_bytes(b'{"not": "a result"}\n{"report_id": "x')
    before = notes.read_bytes()
    one_line_usage_error(
        invoke("extract", str(REPORT), "--model", "rules", "--resume", "-o", str(notes))
    )
    assert notes.read_bytes() == before


def test_starting_afresh_never_overwrites_a_file_that_is_not_results(tmp_path: Path) -> None:
    precious = tmp_path / "thesis.txt.jsonl"
    precious.write_text("chapter one\n", encoding="utf-8")
    stderr = one_line_usage_error(
        invoke("extract", str(REPORT), "--model", "rules", "-o", str(precious))
    )
    assert "not a results file" in stderr
    assert precious.read_text(encoding="utf-8") == "chapter one\n"


def test_every_command_reads_the_last_line_without_a_final_newline(
    outputs: Path, tmp_path: Path
) -> None:
    outputs.write_bytes(outputs.read_bytes().rstrip(b"\n"))
    assert len(read_results(outputs)) == 3
    exported = invoke(
        "export", str(outputs), "-f", "csv", "-t", "events", "-o", str(tmp_path / "e")
    )
    assert exported.exit_code == 0 and "exported 3 reports" in exported.stderr
    viewed = invoke("view", str(outputs), "-o", str(tmp_path / "v.html"))
    assert viewed.exit_code == 0 and "3 reports" in viewed.stderr
    summed = invoke("summary", str(outputs), "--no-chart")
    assert summed.exit_code == 0, summed.output
    scored = invoke("score", str(outputs), "--json")
    assert scored.exit_code in (0, 1) and "month_116" not in scored.stderr  # all three scored


def test_a_results_file_with_a_byte_order_mark_is_read(outputs: Path) -> None:
    outputs.write_bytes(b"\xef\xbb\xbf" + outputs.read_bytes())
    assert len(read_results(outputs)) == 3
    assert invoke("summary", str(outputs), "--no-chart").exit_code == 0


def test_two_runs_writing_one_output_cannot_interleave(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    args = ["extract", str(REPORT), "--model", "rules", "-o", str(out)]
    with JsonlWriter(out, append=True) as holder:  # another run, writing this very file
        refused = cli(*args)
        assert f"another run is writing this file (process {os.getpid()})" in (
            one_line_usage_error(refused)
        )
        refused = cli(*args, "--resume")
        assert "another run is writing" in one_line_usage_error(refused)
        assert holder.written == 0 and out.read_bytes() == b""
    done = cli(*args)  # the lock is released with the writer
    assert done.returncode == 0, done.stderr
    assert len(read_results(out)) == 1
    assert not (tmp_path / ".out.jsonl.lock").exists()


# --- damaged cache -------------------------------------------------------------------------------


def test_a_damaged_cache_is_a_warning_once_and_the_summary_says_so(
    openai_server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "cache.sqlite3").write_bytes(b"this is not a database" * 200)
    monkeypatch.setenv("LLM_EXTRACT_CACHE_DIR", str(cache))
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    text = REPORT.read_text(encoding="utf-8")
    evidence = "نحو 160 شاحنة"
    assert evidence in text
    openai_server.default = Reply({"convoys": [{"mode": "ground", "evidence": evidence}]})
    for n in range(3):
        done = invoke("extract", str(REPORT), "-o", str(tmp_path / f"o{n}.jsonl"), "-m", "local")
        assert done.exit_code == 0, done.output
        warnings = [line for line in done.stderr.splitlines() if "cache off" in line]
        assert len(warnings) == 2, done.stderr  # the warning, then the summary
        assert "response cache off for the rest of the run" in warnings[0]
        assert "file is not a database" in warnings[0]
    assert len(openai_server.chat_requests()) == 3  # every run had to ask again: said so
    logs = invoke("logs", "month_116")
    assert "request log" in one_line_usage_error(logs)


# --- extreme option values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chunk-chars", "1"], "--chunk-chars: must be 0 (never split) or at least 200"),
        (["--chunk-chars", "1000", "--chunk-overlap", "900"], "more than half of the chunk"),
        (["--temperature", "nan"], "--temperature: Input should be a finite number"),
        (["--temperature", "inf"], "--temperature: Input should be a finite number"),
        (["--temperature", "-1"], "--temperature: Input should be greater than or equal to 0"),
        (["--max-cost", "nan"], "--max-cost: Input should be a finite number"),
        (["--max-cost", "0"], "--max-cost: Input should be greater than 0"),
        (["--concurrency", "0"], "--concurrency: Input should be greater than or equal to 1"),
        (["--max-tokens", "0"], "--max-tokens: Input should be greater than or equal to 1"),
        (["--timeout", "0"], "--timeout: Input should be greater than 0"),
    ],
)
def test_extreme_values_are_usage_errors_at_once(args: list[str], message: str) -> None:
    started = time.monotonic()
    stderr = one_line_usage_error(invoke("extract", str(REPORT), "--model", "rules", *args))
    assert message in stderr
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://127.0.0.1:abc/v1", "OPENAI_BASE_URL: not a valid URL"),
        ("not a url", "OPENAI_BASE_URL: must be an http:// or https:// URL"),
        ("ftp://example.invalid/v1", "OPENAI_BASE_URL: must be an http:// or https:// URL"),
    ],
)
def test_a_base_url_that_is_not_a_url_is_a_usage_error(
    base_url: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    assert message in one_line_usage_error(invoke("extract", str(REPORT), "-m", "local"))


def test_an_environment_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_EXTRACT_TEMPERATURE", "nan")
    stderr = one_line_usage_error(invoke("extract", str(REPORT), "--model", "rules"))
    assert "LLM_EXTRACT_TEMPERATURE: Input should be a finite number" in stderr


def test_an_empty_argument_is_not_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(REPORT, tmp_path / "here.txt")
    monkeypatch.chdir(tmp_path)
    done = invoke("extract", "", "--model", "rules")
    assert done.exit_code == 2 and "empty argument" in done.stderr
    assert "here" not in done.stdout


# --- special outputs ---------------------------------------------------------------------


def test_special_outputs_never_raise_a_traceback(tmp_path: Path) -> None:
    full = cli("extract", str(REPORT), "--model", "rules", "-o", "/dev/full")
    assert full.returncode == 2 and "No space left on device" in full.stderr
    assert "Traceback" not in full.stderr
    null = cli("extract", str(REPORT), "--model", "rules", "-o", "/dev/null")
    assert null.returncode == 0, null.stderr
    folder = cli("extract", str(REPORT), "--model", "rules", "--resume", "-o", str(tmp_path))
    assert "is a folder" in one_line_usage_error(folder)
    stdout = cli("extract", str(REPORT), "--model", "rules", "--resume", "-o", "/dev/stdout")
    assert "not a regular file" in one_line_usage_error(stdout)


def test_a_fifo_output_is_written_without_fsync(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    read: list[bytes] = []

    def reader() -> None:
        with fifo.open("rb") as handle:
            read.append(handle.read())

    thread = threading.Thread(target=reader)
    thread.start()
    done = cli("extract", str(REPORT), "--model", "rules", "-o", str(fifo))
    thread.join(timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(read[0].decode("utf-8"))["report_id"] == "month_116"


# --- what the terminal shows ----------------------------------------------------------------------


def test_markup_in_names_and_data_is_printed_as_text(tmp_path: Path) -> None:
    runs = tmp_path / "runs[/x]"
    done = invoke(
        "eval", "--model", "rules", "--split", "dev", "--runs-dir", str(runs), "--no-html"
    )
    assert done.exit_code in (0, 1), done.output
    assert "runs[/x]" in done.stdout
    out = tmp_path / "o.jsonl"
    weird = tmp_path / "[bold]weird[red].txt"
    shutil.copy(REPORT, weird)
    assert invoke("extract", str(weird), "--model", "rules", "-o", str(out)).exit_code == 0
    shown = invoke("summary", str(out), "--no-chart")
    assert shown.exit_code == 0, shown.output


def test_a_terminal_that_cannot_show_arabic_gets_valid_json() -> None:
    done = cli("extract", str(REPORT), "--model", "rules", env={"PYTHONIOENCODING": "latin-1"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["extraction"]["convoys"] and not math.isnan(result["latency_s"])


# --- messages that say what is wrong with an input -----------------------------------------------


def test_a_utf16_report_with_its_byte_order_mark_is_read(tmp_path: Path) -> None:
    text = REPORT.read_text(encoding="utf-8")
    (tmp_path / "windows.txt").write_bytes(text.encode("utf-16"))  # BOM + UTF-16-LE
    (tmp_path / "plain.txt").write_text(text, encoding="utf-8")
    # Read from a folder, the two are one report: the UTF-16 file is the same text.
    out = tmp_path / "o.jsonl"
    done = invoke("extract", str(tmp_path), "--model", "rules", "-o", str(out))
    assert done.exit_code == 0, done.output
    assert f"skipped: {tmp_path / 'windows.txt'}: same report as {tmp_path / 'plain.txt'}" in (
        done.stderr
    )
    (plain,) = read_results(out)
    alone = tmp_path / "w.jsonl"
    done = invoke("extract", str(tmp_path / "windows.txt"), "--model", "rules", "-o", str(alone))
    assert done.exit_code == 0, done.output
    (windows,) = read_results(alone)
    assert windows.report_id == "windows" and windows.source.sha256 == plain.source.sha256
    assert windows.extraction == plain.extraction.model_copy(update={"report_id": "windows"})


def test_link_loops_broken_links_and_special_files_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(REPORT, folder / "good.txt")
    (folder / "loop1.txt").symlink_to(folder / "loop2.txt")
    (folder / "loop2.txt").symlink_to(folder / "loop1.txt")
    (folder / "gone.txt").symlink_to(tmp_path / "deleted.txt")
    os.mkfifo(folder / "pipe.txt")
    done = invoke("extract", str(folder), "--model", "rules", "-o", str(tmp_path / "o.jsonl"))
    assert done.exit_code == 1, done.output  # some inputs bad, the others ran
    lines = done.stderr.splitlines()
    assert f"skipped: {folder / 'loop1.txt'}: symbolic link loop" in lines
    assert f"skipped: {folder / 'gone.txt'}: broken symbolic link" in lines
    assert f"skipped: {folder / 'pipe.txt'}: not a regular file (a pipe, socket or device)" in lines
    assert any(line.startswith("1 ok, 0 failed, 4 bad inputs") for line in lines)
    alone = invoke("extract", str(folder / "loop1.txt"), "--model", "rules")
    assert alone.exit_code == 2 and "symbolic link loop" in alone.stderr


def test_an_unreadable_folder_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    shutil.copy(REPORT, folder / "r.txt")
    real_scandir = os.scandir

    def refuse(path: str) -> object:
        if os.fspath(path) == str(folder):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)  # as root, chmod 000 would not stop us
    done = invoke("extract", str(folder), "--model", "rules")
    assert done.exit_code == 2
    assert f"{folder}: cannot read the folder (Permission denied)" in done.stderr
