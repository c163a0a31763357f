"""``llm-extract extract`` end to end against the loopback OpenAI-protocol server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from openai_server import OpenAIServer, Reply, Status, error_body
from paths import SEED_IDS, SEEDS, requires_seeds
from report_samples import SAMPLES, answer, answers_by_month, write_samples
from typer.testing import CliRunner, Result

from llm_extract.cli import app
from llm_extract.normalize import normalize
from llm_extract.results import ExtractionResult

SECRET = "sk-test-CANARY-7f3a9c0e5d2b41"


@pytest.fixture
def server(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> OpenAIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    openai_server.answer_by_text(answers_by_month())
    return openai_server


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_samples(tmp_path / "reports")


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, ["extract", *args], input=stdin)


def lines(path: Path) -> list[ExtractionResult]:
    return [
        ExtractionResult.model_validate_json(line)
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def test_folder_to_jsonl_one_line_per_report(
    server: OpenAIServer, folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    result = run(str(folder), "-o", str(out), "--model", "gpt-4o-mini")
    assert result.exit_code == 0, result.output
    results = lines(out)
    assert sorted(r.report_id for r in results) == ["r120", "r121", "r122"]
    assert all(r.status == "ok" and r.model == "gpt-4o-mini" for r in results)
    assert all(r.prompt.name == "guided" for r in results)
    by_id = {r.report_id: r for r in results}
    extraction = by_id["r121"].extraction
    assert extraction is not None and extraction.convoys[0].batches == 3
    assert len(server.chat_requests()) == 3
    assert result.stdout == ""
    summary = result.stderr.strip().splitlines()[-1]
    assert re.match(
        r"3 ok, 0 failed; [\d,]+ tokens, \$\d+\.\d{4}; \d+\.\d s; auto: window \d+ \(peak \d+\)$",
        summary,
    )


def test_stdin_single_report_prints_pretty_json(server: OpenAIServer) -> None:
    result = run("-", "--prompt", "minimal", stdin=SAMPLES["r122"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("{\n  ")
    parsed = ExtractionResult.model_validate_json(result.stdout)
    assert parsed.report_id == "stdin" and parsed.source.path == "-"
    assert parsed.extraction is not None and parsed.extraction.arrests[0].detained == 3
    assert parsed.prompt.name == "minimal"
    assert SAMPLES["r122"].strip() in server.chat_requests()[0].user_messages()[-1]


def test_several_reports_without_output_go_to_stdout_as_jsonl(
    server: OpenAIServer, folder: Path
) -> None:
    result = run(str(folder / "r120.txt"), str(folder / "r122.txt"))
    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["report_id"] for line in result.stdout.splitlines()]
    assert sorted(ids) == ["r120", "r122"]


def test_bad_inputs_are_named_and_the_others_still_run(
    server: OpenAIServer, folder: Path, tmp_path: Path
) -> None:
    (folder / "empty.txt").write_text("   \n", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02")
    (folder / "latin.txt").write_bytes("d\xe9j\xe0".encode("latin-1"))
    (folder / "english.txt").write_text("Nothing in Arabic here at all.", encoding="utf-8")
    (folder / "long.txt").write_text(SAMPLES["r120"] * 40, encoding="utf-8")
    missing = tmp_path / "missing.txt"
    out = tmp_path / "out.jsonl"
    result = run(str(folder), str(missing), "-o", str(out), "--max-chars", "2000")
    assert result.exit_code == 1, result.output
    assert sorted(r.report_id for r in lines(out)) == ["r120", "r121", "r122"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(errors) == 6
    for name in ("empty", "binary", "latin", "english", "long"):
        assert any(str(folder / f"{name}.txt") in line for line in errors), name
    assert any(str(missing) in line for line in errors)
    assert "6 bad inputs" in result.stderr.splitlines()[-1]


def test_only_bad_inputs_is_a_usage_error(server: OpenAIServer, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    result = run(str(empty), str(tmp_path / "nope.txt"))
    assert result.exit_code == 2
    assert f"skipped: {empty}: empty file" in result.stderr
    assert "error: none of the inputs could be read" in result.stderr
    assert server.chat_requests() == []


def test_failed_report_exits_1_and_is_written_as_failed(
    server: OpenAIServer, folder: Path, tmp_path: Path
) -> None:
    server.enqueue(Status(400, error_body(400, "scripted bad request")))
    out = tmp_path / "out.jsonl"
    result = run(str(folder / "r120.txt"), "-o", str(out), "--no-cache")
    assert result.exit_code == 1
    (line,) = lines(out)
    assert line.status == "failed" and line.error is not None
    assert line.error.kind == "http_400"
    assert f"failed: {folder / 'r120.txt'}: http_400" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("0 ok, 1 failed")


def test_resume_skips_finished_reports_and_repairs_a_torn_line(
    server: OpenAIServer, folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    server.enqueue(Status(400))  # the first request (r120 at concurrency 1) fails
    first = run(str(folder), "-o", str(out), "--no-cache", "-j", "1")
    assert first.exit_code == 1
    assert [(r.report_id, r.status) for r in lines(out)] == [
        ("r120", "failed"),
        ("r121", "ok"),
        ("r122", "ok"),
    ]
    # The run is killed while writing r122's line: half of it is on disk.
    text = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(text[:2]) + text[2][: len(text[2]) // 2], encoding="utf-8")
    before = len(server.chat_requests())
    second = run(str(folder), "-o", str(out), "--no-cache", "--resume")
    assert second.exit_code == 0, second.output
    sent = server.chat_requests()[before:]
    assert sorted(r.user_messages()[-1].split(":")[0] for r in sent) == [
        "Report r120",
        "Report r122",
    ]
    assert "resume: 1 report(s) already done" in second.stderr
    assert [(r.report_id, r.status) for r in lines(out)][:2] == [
        ("r120", "failed"),
        ("r121", "ok"),
    ]
    final = {r.report_id: r.status for r in lines(out)}  # the last line of each id wins
    assert final == {"r120": "ok", "r121": "ok", "r122": "ok"}
    third = run(str(folder), "-o", str(out), "--no-cache", "--resume")
    assert third.exit_code == 0
    assert len(server.chat_requests()) == before + 2
    assert "3 skipped" in third.stderr.splitlines()[-1]


def test_resume_refuses_a_file_made_with_other_settings(
    server: OpenAIServer, folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    assert run(str(folder / "r120.txt"), "-o", str(out)).exit_code == 0
    result = run(str(folder / "r120.txt"), "-o", str(out), "--resume", "--prompt", "minimal")
    assert result.exit_code == 2
    assert "extracted with another model, prompt" in result.stderr


def test_cache_hit_makes_no_request_and_no_cache_does(
    server: OpenAIServer, folder: Path, tmp_path: Path
) -> None:
    first = run(str(folder), "-o", str(tmp_path / "a.jsonl"))
    assert first.exit_code == 0
    assert len(server.chat_requests()) == 3
    second = run(str(folder), "-o", str(tmp_path / "b.jsonl"))
    assert second.exit_code == 0
    assert len(server.chat_requests()) == 3
    assert all(r.cached for r in lines(tmp_path / "b.jsonl"))
    assert "3 from cache; 0 tokens, $0.0000" in second.stderr
    strip = [r.model_dump(exclude={"cached", "latency_s"}) for r in lines(tmp_path / "b.jsonl")]
    again = [r.model_dump(exclude={"cached", "latency_s"}) for r in lines(tmp_path / "a.jsonl")]
    assert sorted(strip, key=str) == sorted(again, key=str)
    third = run(str(folder), "-o", str(tmp_path / "c.jsonl"), "--no-cache")
    assert third.exit_code == 0
    assert len(server.chat_requests()) == 6
    # Another mode is another request.
    fourth = run(str(folder / "r120.txt"), "-o", str(tmp_path / "d.jsonl"), "--mode", "md_json")
    assert fourth.exit_code == 0
    assert len(server.chat_requests()) == 7


def test_api_key_never_written_anywhere(
    server: OpenAIServer, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server echoes the key in its error, as some providers do.
    server.enqueue(Status(401, error_body(401, f"Incorrect API key provided: {SECRET}")))
    out = tmp_path / "out.jsonl"
    result = run(str(folder), "-o", str(out), "-j", "1")
    assert result.exit_code == 1
    assert any(r.status == "failed" for r in lines(out))
    assert any(r.status == "ok" for r in lines(out))
    assert all(SECRET in r.headers.get("authorization", "") for r in server.chat_requests())
    assert SECRET not in result.stdout and SECRET not in result.stderr
    assert SECRET not in out.read_text(encoding="utf-8")
    cache_dir = Path(__import__("os").environ["LLM_EXTRACT_CACHE_DIR"])
    files = [p for p in cache_dir.rglob("*") if p.is_file()]
    assert files  # the cache db (and its WAL) exist
    for file in files:
        assert SECRET.encode() not in file.read_bytes(), file


def test_usage_errors_exit_2(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    no_key = run(str(folder), "--model", "gpt-4o-mini")
    assert no_key.exit_code == 2
    assert no_key.stderr.count("\n") == 1 and "OPENAI_API_KEY" in no_key.stderr
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    unknown = run(str(folder), "--prompt", "nonesuch")
    assert unknown.exit_code == 2 and "available: guided, minimal" in unknown.stderr
    bad_mode = run(str(folder), "--mode", "xml")
    assert bad_mode.exit_code == 2
    assert "--mode: Input should be 'auto', 'json_schema'" in bad_mode.stderr
    resume = run(str(folder), "--resume")
    assert resume.exit_code == 2 and "--resume needs -o" in resume.stderr
    nothing = run(str(folder / "absent"))
    assert nothing.exit_code == 2 and "no such file" in nothing.stderr


def test_model_from_environment(
    server: OpenAIServer, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_EXTRACT_MODEL", "local-model")
    result = run(str(folder / "r120.txt"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model"] == "local-model"
    assert server.chat_requests()[0].body["model"] == "local-model"


# --- the Done criterion: the two real reports through the local server --------------------------


def span(text: str, start_marker: str, end_marker: str) -> str:
    """The verbatim stretch of ``text`` from ``start_marker`` to the end of ``end_marker``."""
    start = text.index(start_marker)
    end = text.index(end_marker, start) + len(end_marker)
    return text[start:end]


def seed_answer(text: str) -> tuple[int, dict[str, Any]]:
    """The model's answer for a seed, with evidence located in the seed at test time."""
    if "للشهر 118" in text:
        drill = re.search(r"^1 تموز،.*?قسرك", text, re.M)
        assert drill is not None
        return 118, {
            "coalition_month": 118,
            "stated_totals": {"drills": 10},
            "convoys": [
                {
                    "mode": "ground",
                    "vehicles": 200,
                    "approximate": True,
                    "batches": 7,
                    "dates": ["2024-06-24", *(f"2024-07-{d:02d}" for d in (8, 9, 11, 16, 20, 22))],
                    "evidence": span(text, "نحو 200 شاحنة", "22 تموز"),
                },
                {
                    "mode": "air",
                    "vehicles": 9,
                    "approximate": True,
                    "evidence": span(text, "نحو 9", "طائرات شحن"),
                },
            ],
            "drills": [
                {
                    "date": "2024-07-01",
                    "location": "قاعدة قسرك",
                    "governorate": "Hasakah",
                    "participants": ["International Coalition", "SDF"],
                    "live_fire": True,
                    "evidence": drill.group(0),
                }
            ],
            "strikes": [
                {
                    "kind": "drone_shootdown",
                    "attacker": "International Coalition",
                    "governorate": "Deir ez-Zor",
                    "evidence": span(text, "أسقطت", "مسيّرة"),
                }
            ],
        }
    return 113, {
        "coalition_month": 113,
        "stated_totals": {"drills": 10, "attacks": 20, "airstrikes": 6},
        "convoys": [
            {
                "mode": "ground",
                "vehicles": 400,
                "approximate": True,
                "batches": 12,
                "dates": [
                    *(f"2024-01-{d}" for d in (26, 27, 30, 31)),
                    *(f"2024-02-{d:02d}" for d in (5, 6, 7, 14, 17, 18, 21)),
                ],
                "evidence": span(text, "نحو 400 شاحنة", "21 من شباط"),
            }
        ],
        "strikes": [
            {
                "kind": "attack_on_base",
                "attacker": "Islamic Resistance in Iraq",
                "count": 20,
                "evidence": span(text, "20 هجوماً", "خلال الشهر 113"),
            },
            {
                "kind": "airstrike",
                "attacker": "US forces",
                "count": 6,
                "evidence": span(text, "بست جولات", "القصف الجوي"),
            },
        ],
    }


def request_schema(body: dict[str, Any], mode: str) -> dict[str, Any]:
    if mode == "tools":
        schema: dict[str, Any] = body["tools"][0]["function"]["parameters"]
    else:
        schema = body["response_format"]["json_schema"]["schema"]
    return schema


@pytest.mark.parametrize("mode", ["tools", "json_schema"])
@requires_seeds
@pytest.mark.parametrize("seed", SEED_IDS)
def test_seed_reports_through_the_local_server(
    openai_server: OpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    seed: str,
    mode: str,
) -> None:
    path = SEEDS / f"{seed}.txt"
    text = path.read_text(encoding="utf-8")
    month, payload = seed_answer(text)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)  # a local server: no key
    openai_server.enqueue(Reply(payload))
    out = tmp_path / "out.jsonl"
    result = run(str(path), "-o", str(out), "--mode", mode, "--model", "local-model")
    assert result.exit_code == 0, result.output

    (request,) = openai_server.chat_requests()
    body = request.body
    assert text.strip() in request.user_messages()[-1]
    schema = request_schema(body, mode)
    assert set(schema["properties"]) >= {"coalition_month", "convoys", "drills", "strikes"}
    assert "evidence" in json.dumps(schema)

    (line,) = lines(out)
    assert line.status == "ok" and line.report_id == seed and line.dropped == []
    extraction = line.extraction
    assert extraction is not None and extraction.coalition_month == month
    assert extraction.period is not None
    assert extraction.period.start <= extraction.convoys[0].dates[-1] <= extraction.period.end
    records = [*extraction.convoys, *extraction.drills, *extraction.strikes]
    assert len(records) == sum(len(payload.get(k, [])) for k in ("convoys", "drills", "strikes"))
    for record in records:
        assert record.evidence_start is not None and record.evidence_end is not None
        quoted = text[record.evidence_start : record.evidence_end]
        assert normalize(quoted) == normalize(record.evidence)
    if month == 113:
        assert extraction.flags == ["convoys[0]: 12 batches stated but 11 dates listed"]
        assert extraction.strikes[0].count == 20
    else:
        assert extraction.convoys[0].dates[0].isoformat() == "2024-06-24"
        # The answer lists one of the ten drills the report states: flagged, not fixed.
        assert extraction.flags == ["drills: 10 stated but 1 recorded"]


def test_a_model_date_in_another_year_is_kept_and_flagged(
    openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 18: the model puts 2019 on a date the report wrote with no year and gives no
    date_text: the result line keeps 2019 and flags it (never silently moved to 2024); with
    the date as written in date_text, the year is chosen in code."""
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    wrong = answer("r120")
    wrong["drills"][0]["date"] = "2019-09-03"
    openai_server.answer_by_text({"للشهر 120": wrong})
    folder = write_samples(tmp_path / "reports")
    out = tmp_path / "out.jsonl"
    done = run(str(folder / "r120.txt"), "-o", str(out), "--model", "gpt-4o-mini")
    assert done.exit_code == 0, done.output
    (result,) = lines(out)
    assert result.extraction is not None
    assert str(result.extraction.drills[0].date) == "2019-09-03"
    assert result.extraction.flags == [
        "drills[0].date: 2019-09-03 is outside the report's period 2024-08-23 – 2024-09-22"
    ]
    wrong["drills"][0]["date_text"] = "3 أيلول"
    openai_server.answer_by_text({"للشهر 120": wrong})
    again = tmp_path / "again.jsonl"
    done = run(str(folder / "r120.txt"), "-o", str(again), "--model", "gpt-4o-mini", "--no-cache")
    assert done.exit_code == 0, done.output
    (fixed,) = lines(again)
    assert fixed.extraction is not None and str(fixed.extraction.drills[0].date) == "2024-09-03"
    assert fixed.extraction.flags == []


def test_the_cache_keeps_servers_apart(
    server: OpenAIServer, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same model name on another server is another model: its answers do not come from
    the first server's cache (issue 19, item 11)."""
    assert run(str(folder), "-o", str(tmp_path / "a.jsonl")).exit_code == 0
    assert len(server.chat_requests()) == 3
    with OpenAIServer() as other:
        other.answer_by_text(answers_by_month())
        monkeypatch.setenv("OPENAI_BASE_URL", other.base_url.replace("://", "://user:pw-b@"))
        result = run(str(folder), "-o", str(tmp_path / "b.jsonl"))
        assert result.exit_code == 0, result.output
        assert len(other.chat_requests()) == 3
        assert not any(r.cached for r in lines(tmp_path / "b.jsonl"))
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    again = run(str(folder), "-o", str(tmp_path / "a2.jsonl"))
    assert again.exit_code == 0 and len(server.chat_requests()) == 3  # A's cache still answers
    assert all(r.cached for r in lines(tmp_path / "a2.jsonl"))
