"""Ctrl+C during ``extract``: what was saved, the ``--resume`` command, exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fault_server import answer, make_reports, report_number
from openai_server import Delay, Dynamic, OpenAIServer, RecordedRequest, Reply
from processes import default_sigint

CLI = [sys.executable, "-c", "from llm_extract.cli import main; main()"]


def test_ctrl_c_says_what_was_saved_and_how_to_finish(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    def act(request: RecordedRequest) -> Reply | Delay:
        n = report_number(request)
        if n is not None and n < 2:
            return Reply(answer(n))
        return Delay(20, Reply(answer(n or 0)))  # the third report hangs until Ctrl+C

    openai_server.default = Dynamic(act)
    folder = tmp_path / "reports"
    folder.mkdir()
    for report in make_reports(5):
        (folder / f"{report.report_id}.txt").write_text(report.text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    env = {
        **os.environ,
        "OPENAI_BASE_URL": openai_server.base_url,
        "OPENAI_API_KEY": "sk-test-interrupt-0000",
    }
    args = [str(folder), "-o", str(out), "--mode", "tools", "-j", "1", "--no-cache"]
    process = subprocess.Popen(
        [*CLI, "extract", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=default_sigint,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists() and len(out.read_text(encoding="utf-8").splitlines()) == 2:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the first two reports were never saved")
        while len(openai_server.chat_requests()) < 3:  # the third is in flight
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("interrupted:")]
    assert lines == [
        f"interrupted: 2 report(s) saved in {out}; 3 not done; run again with --resume "
        f"-o {out} to finish them"
    ], stderr
    assert "Traceback" not in stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
