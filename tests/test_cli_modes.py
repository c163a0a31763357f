"""``--mode`` through the command line against servers of each family (the loopback server):
``auto`` by default for a local server, the mode on every result line and in the cache, the
one-line message of a refused mode, the prompt's ``[params] mode``, ``batch prepare`` and
``--dry-run`` in every mode, and request keys that did not change for explicit modes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from openai_server import OpenAIServer
from report_samples import answers_by_month, write_samples
from typer.testing import CliRunner, Result

from llm_extract.cli import app
from llm_extract.jsonl import read_results
from llm_extract.prompts import load_prompt
from llm_extract.report import Report
from llm_extract.results import ExtractionResult
from llm_extract.run.cache import ResponseCache
from llm_extract.run.pipeline import prepare_request
from llm_extract.run.stack import model_settings
from llm_extract.settings import CONCRETE_MODES, load_settings

SECRET = "sk-test-modes-0123456789abcdef"


@pytest.fixture
def server(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> OpenAIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    openai_server.answer_by_text(answers_by_month())
    return openai_server


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_samples(tmp_path / "reports")


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def lines(path: Path) -> list[ExtractionResult]:
    return [
        ExtractionResult.model_validate_json(line)
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def test_a_local_server_gets_answers_without_any_flag(
    server: OpenAIServer, folder: Path, tmp_path: Path
) -> None:
    server.family = "llamacpp"
    out = tmp_path / "out.jsonl"
    done = cli("extract", str(folder), "-o", str(out), "--model", "local", "--concurrency", "3")
    assert done.exit_code == 0, done.output
    results = lines(out)
    assert [r.status for r in results] == ["ok"] * 3
    assert {r.mode for r in results} == {"json_object"}
    refused = [
        r for r in server.chat_requests() if r.body["response_format"]["type"] != "json_object"
    ]
    assert len(refused) == 1  # one probe for the run, not one per report
    # A second run is answered from the cache, and the mode comes back with the answer.
    again = tmp_path / "again.jsonl"
    assert cli("extract", str(folder), "-o", str(again), "--model", "local").exit_code == 0
    assert all(r.cached and r.mode == "json_object" for r in lines(again))


def test_a_refused_mode_fails_in_one_line_that_says_what_to_use(
    server: OpenAIServer, folder: Path, tmp_path: Path
) -> None:
    server.family = "llamacpp"
    out = tmp_path / "out.jsonl"
    done = cli("extract", str(folder), "-o", str(out), "--model", "local", "--mode", "json_schema")
    assert done.exit_code == 1
    assert len(server.chat_requests()) == 3  # one per report, none retried
    failures = [line for line in done.stderr.splitlines() if line.startswith("failed:")]
    assert len(failures) == 3
    for line in failures:
        assert "mode_refused: response_format.type: Input should be 'text' or 'json_object'" in line
        assert "use --mode json_object" in line
    results = lines(out)
    assert {(r.status, r.error.kind if r.error else None, r.mode) for r in results} == {
        ("failed", "mode_refused", "json_schema")
    }
    assert SECRET not in out.read_text(encoding="utf-8") + done.output


def test_the_prompts_params_mode_is_used(
    server: OpenAIServer, folder: Path, tmp_path: Path
) -> None:
    prompt = tmp_path / "p.toml"
    prompt.write_text(
        "system = 'Extract.'\nuser = '{{ text }}'\n[params]\nmode = 'structured_outputs'\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    done = cli("extract", str(folder), "-o", str(out), "--prompt", str(prompt), "--model", "v")
    assert done.exit_code == 0, done.output
    assert {r.mode for r in lines(out)} == {"structured_outputs"}
    assert all("structured_outputs" in r.body for r in server.chat_requests())


def test_help_lists_every_mode() -> None:
    text = cli("extract", "--help").output
    for mode in ("auto", *CONCRETE_MODES):
        assert mode in text


@pytest.mark.parametrize("mode", CONCRETE_MODES)
def test_batch_prepare_and_dry_run_render_every_mode(
    server: OpenAIServer, folder: Path, tmp_path: Path, mode: str
) -> None:
    requests = tmp_path / "requests.jsonl"
    prepared = cli("batch", "prepare", str(folder), "-o", str(requests), "--mode", mode)
    assert prepared.exit_code == 0, prepared.output
    bodies = [json.loads(line)["body"] for line in requests.read_text("utf-8").splitlines()]
    assert len(bodies) == 3
    manifest = json.loads(Path(f"{requests}.manifest.json").read_text("utf-8"))
    assert manifest["mode"] == mode
    marks = {
        "json_schema": "response_format",
        "json_object": "response_format",
        "tools": "tools",
        "structured_outputs": "structured_outputs",
        "guided_json": "guided_json",
    }
    if mode in marks:
        assert all(marks[mode] in body for body in bodies)
    dry = cli("extract", str(folder), "--dry-run", "--mode", mode)
    assert dry.exit_code == 0, dry.output
    assert server.chat_requests() == []  # nothing was sent


def test_batch_prepare_in_auto_renders_the_mode_remembered_for_the_server(
    server: OpenAIServer, folder: Path, tmp_path: Path
) -> None:
    server.family = "llamacpp"
    assert cli("extract", str(folder), "-o", str(tmp_path / "o.jsonl")).exit_code == 0
    requests = tmp_path / "requests.jsonl"
    assert cli("batch", "prepare", str(folder), "-o", str(requests)).exit_code == 0
    manifest = json.loads(Path(f"{requests}.manifest.json").read_text("utf-8"))
    assert manifest["mode"] == "json_object"


def test_request_keys_of_explicit_modes_did_not_change(tmp_path: Path) -> None:
    """Caches of earlier versions stay valid: the keys of explicit modes are the values the
    version before auto computed for the same report, prompt and settings."""
    file = tmp_path / "fixed.toml"
    file.write_text("system = 'Extract the records.'\nuser = 'Report:\\n{{ text }}'\n", "utf-8")
    report = Report("k1", "تقرير الشهر 118: دخلت قافلة من 30 شاحنة.", "k1.txt")
    prompt = load_prompt(str(file))

    def key(mode: str) -> str:
        call = model_settings(load_settings({"model": "gpt-4o-mini", "mode": mode}))
        return prepare_request(report, prompt, call).key

    assert {mode: key(mode) for mode in EXPLICIT_KEYS} == EXPLICIT_KEYS
    assert key("auto") == EXPLICIT_KEYS["tools"]  # auto on OpenAI's API is tools, key and all


EXPLICIT_KEYS = {
    "tools": "92532a155fd3a8929f94d44f50692686fc565654fa09df70a3961521f3a6ae90",
    "json_schema": "598c51ba6f7f8631f8512f6af87f7f5cca2c7158ae180f56f32b3166bc22ec52",
    "md_json": "59f4d50eadd862cd9b9d8516cb75d06659fb02a3055f08db032db664936fae29",
}


def test_results_and_caches_written_before_modes_still_load(tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"
    line = {
        "report_id": "r1",
        "source": {"path": "r1.txt", "sha256": "0" * 64},
        "prompt": {"name": "guided", "hash": "h"},
        "model": "gpt-4o-mini",
        "status": "failed",
        "error": {"kind": "timeout", "message": "slow"},
    }
    old.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (result,) = read_results(old)
    assert result.mode is None
    # A cache file of the previous layout gains the column on open and keeps its rows.
    path = load_settings().cache_db_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE responses (key TEXT PRIMARY KEY, model TEXT NOT NULL, extraction TEXT "
            "NOT NULL, dropped TEXT NOT NULL, usage TEXT NOT NULL, raw TEXT, "
            "created_at REAL NOT NULL)"
        )
        db.execute(
            "INSERT INTO responses VALUES ('k', 'm', ?, '[]', '{}', NULL, 0)",
            (json.dumps({"coalition_month": 118}),),
        )
    db.close()
    hit = ResponseCache(path).get("k")
    assert hit is not None and hit.response.mode is None
    assert hit.response.extraction.coalition_month == 118
