"""``llm-extract annotate`` on the command line: the URL first, a real server until Ctrl+C,
clear one-line errors for a port in use, a remote address, an unwritable gold folder, a
broken output line named and skipped; and ``--stats``."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from annotate_app import Files, RunningApp, decide_all, draft_body, make_files
from processes import default_sigint
from typer.testing import CliRunner

from llm_extract.cli import app

CLI = [sys.executable, "-c", "from llm_extract.cli import main; main()"]


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return make_files(tmp_path)


def _serve(*args: str) -> tuple[str, str, int]:
    """Run ``annotate ARGS`` in a process; read the URL, call the API, stop it with Ctrl+C.
    Returns the first stdout line, the rest of the output (stdout + stderr) and the code."""
    with subprocess.Popen(
        [*CLI, "annotate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    ) as process:
        assert process.stdout is not None
        try:
            first = process.stdout.readline().strip()
            token = first.rsplit("token=", 1)[-1]
            with httpx.Client(timeout=20) as client:
                page = client.get(first)
                assert page.status_code == 200 and 'id="records"' in page.text
                listing = client.get(
                    first.split("/?", 1)[0] + "/api/reports", headers={"X-Annotate-Token": token}
                )
                assert listing.status_code == 200
                serving = json.dumps(listing.json())
        finally:
            process.send_signal(signal.SIGINT)
            rest, errors = process.communicate(timeout=30)
    return first, serving + "\n" + rest + errors, process.returncode


def test_the_first_line_is_the_url_and_ctrl_c_stops_it(files: Files) -> None:
    with files.out.open("a", encoding="utf-8") as handle:
        handle.write('{"report_id": "broken", "not": "a result"}\n')
    first, rest, code = _serve(str(files.out), "--gold-dir", str(files.gold), "--no-browser")
    assert first.startswith("http://127.0.0.1:") and "/?token=" in first
    port = int(first.split(":")[2].split("/")[0])
    assert port > 0  # --port 0 (the default) picked a free one and printed it
    assert code == 0
    assert "skipped: " in rest and "line 3 is not an extraction result" in rest
    assert '"skipped_lines": ["' in rest  # the page shows them too
    assert "2 report(s): 0 done, 2 to do" in rest
    assert "month_116" in rest and '"broken"' not in rest.split("skipped_lines")[0]
    assert first.rsplit("token=", 1)[-1] not in rest  # the token is printed once, first


def test_a_remote_address_needs_allow_remote_and_warns(files: Files) -> None:
    refused = _cli("annotate", str(files.out), "--gold-dir", str(files.gold), "--host", "0.0.0.0")
    assert refused.exit_code == 2
    assert refused.stderr.strip().startswith("error: --host 0.0.0.0 is not a loopback address")
    assert len(refused.stderr.strip().splitlines()) == 1
    first, rest, code = _serve(
        str(files.out), "--gold-dir", str(files.gold), "--no-browser",
        "--host", "0.0.0.0", "--allow-remote",
    )  # fmt: skip
    assert first.startswith("http://127.0.0.1:")
    assert "warning: serving on 0.0.0.0, reachable from other machines" in rest
    assert code == 0


def test_a_port_in_use_is_a_clear_error(files: Files) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _cli(
            "annotate", str(files.out), "--gold-dir", str(files.gold), "--no-browser",
            "--port", str(port),
        )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is already in use; choose another with --port "
        "(0 picks a free one)"
    )
    assert result.stdout == ""


def test_an_unwritable_gold_folder_fails_at_start(files: Files, tmp_path: Path) -> None:
    blocker = tmp_path / "gold-is-a-file"
    blocker.write_text("x", encoding="utf-8")
    result = _cli("annotate", str(files.out), "--gold-dir", str(blocker / "gold"), "--no-browser")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {blocker / 'gold'}: the gold folder cannot be written")
    assert result.stdout == ""


def test_bad_output_files_are_usage_errors(tmp_path: Path) -> None:
    missing = _cli("annotate", str(tmp_path / "none.jsonl"), "--gold-dir", str(tmp_path / "g"))
    assert missing.exit_code == 2 and "no such results file" in missing.stderr
    only_broken = tmp_path / "broken.jsonl"
    only_broken.write_text("{oops\n", encoding="utf-8")
    result = _cli("annotate", str(only_broken), "--gold-dir", str(tmp_path / "g"), "--no-browser")
    assert result.exit_code == 2
    assert f"skipped: {only_broken}: line 1 is not an extraction result" in result.stderr
    assert "no extraction result to annotate" in result.stderr


def test_stats_count_what_the_analyst_corrected(files: Files) -> None:
    with RunningApp(files) as running:
        payload = running.report("month_116")
        body = draft_body(payload)
        body["records"][1]["decision"] = "rejected"  # the air convoy
        body["records"][0]["data"]["vehicles"] = 170  # the ground convoy, corrected
        text = (files.reports / "month_116.txt").read_text(encoding="utf-8")
        evidence = "كما هبطت قرابة 11 طائرة شحن"
        at = text.index(evidence)
        body["records"].append(
            {
                "uid": None,
                "category": "convoys",
                "decision": "accepted",
                "data": {
                    "mode": "air",
                    "vehicles": 11,
                    "evidence": evidence,
                    "evidence_start": at,
                    "evidence_end": at + len(evidence),
                },
            }
        )
        body = decide_all(body)
        version = running.put("month_116", body).json()["draft"]["version"]
        assert running.done("month_116", version).status_code == 200
    result = _cli("annotate", str(files.out), "--gold-dir", str(files.gold), "--stats", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["reports"] == ["month_116"]
    convoys = stats["categories"]["convoys"]
    assert (convoys["kept"], convoys["corrected"], convoys["rejected"], convoys["added"]) == (
        0,
        1,
        1,
        1,
    )
    assert convoys["model_records"] == 2 and convoys["n"] == 3
    assert convoys["fields"]["vehicles"] == {"kept": 0, "corrected": 1, "n": 1, "error_rate": 1.0}
    assert convoys["fields"]["mode"]["kept"] == 1
    drills = stats["categories"]["drills"]
    assert (drills["kept"], drills["n"], drills["error_rate"]) == (3, 3, 0.0)
    assert stats["report_fields"]["coalition_month"] == {
        "kept": 1,
        "corrected": 0,
        "n": 1,
        "error_rate": 0.0,
    }
    table = _cli("annotate", str(files.out), "--gold-dir", str(files.gold), "--stats")
    assert table.exit_code == 0
    assert "1 report(s) done" in table.stdout
    rows = [line for line in table.stdout.splitlines() if "vehicles" in line]
    assert rows and "100%" in rows[0]


def test_stats_without_corrections_say_so(files: Files) -> None:
    result = _cli("annotate", str(files.out), "--gold-dir", str(files.gold), "--stats", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["reports"] == []
    assert "no corrections recorded yet" in result.stderr


# --- one report id, two lines -----------------------------------------------------------------


def _lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _write(out: Path, lines: list[dict[str, Any]]) -> None:
    out.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")


def test_a_report_id_on_two_finished_lines_is_refused(files: Files) -> None:
    """Two outputs pasted together: which line would become the gold file? Refused, naming
    the id and both lines, before the app starts or anything is written."""
    first, second = _lines(files.out)
    other = {**first, "model": "another-model"}
    _write(files.out, [first, second, other])
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = str(taken.getsockname()[1])  # were the app to start, it would fail, not serve
    for extra in (["--no-browser", "--port", port], ["--stats"]):
        result = _cli("annotate", str(files.out), "--gold-dir", str(files.gold), *extra)
        assert result.exit_code == 2, result.output
        assert result.stderr.strip() == (
            f"error: {files.out}: report id '{first['report_id']}' is on line 1 and on line 3: "
            "annotate writes one gold file per report id; keep one of the two lines, or give "
            "the reports distinct ids"
        )
        assert result.stdout == ""
    taken.close()
    assert not files.gold.exists()


def test_a_failed_line_and_its_retry_are_one_report(files: Files) -> None:
    """``extract --resume`` appends the retry of a failed report after the failed line: the
    retry is the report, as for every reader of result files."""
    first, second = _lines(files.out)
    failed = {
        **second,
        "status": "failed",
        "extraction": None,
        "error": {"kind": "timeout", "message": "the server did not answer"},
    }
    _write(files.out, [failed, first, second])
    with RunningApp(files) as running:
        reports = running.client.get("/api/reports").json()["reports"]
        assert [r["report_id"] for r in reports] == [second["report_id"], first["report_id"]]
        shown = running.report(second["report_id"])
        assert shown["extraction_status"] == "ok" and shown["draft"]["records"]


def test_a_new_gold_folder_is_created_and_said(files: Files, tmp_path: Path) -> None:
    fresh = tmp_path / "new-gold"
    _, rest, code = _serve(str(files.out), "--gold-dir", str(fresh), "--no-browser")
    assert code == 0
    assert f"created the gold folder {fresh} (--gold-dir)" in rest
    assert fresh.is_dir()
    _, again, _ = _serve(str(files.out), "--gold-dir", str(fresh), "--no-browser")
    assert "created the gold folder" not in again  # said once, when it was made


def test_score_without_a_gold_folder_says_how_to_make_one(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("", encoding="utf-8")
    done = _cli("score", str(out), "--evals-dir", str(tmp_path / "nowhere"))
    assert done.exit_code == 2
    assert "gold folder not found" in done.stderr and "llm-extract annotate" in done.stderr
