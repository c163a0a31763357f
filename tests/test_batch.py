"""The Batch API path: prepare writes the online request bodies; collect turns any results
file into the validated JSONL of ``extract`` and reports every bad line; submit, status and
download speak the files and batches endpoints (on the loopback server)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from batch_api import BatchAPI
from openai_server import OpenAIServer, Reply
from paths import REPORTS_DIR, SEEDS, requires_seeds
from typer.testing import CliRunner, Result

from llm_extract.backends.base import ExtractionRequest, ModelSettings
from llm_extract.errors import InputError, UsageError
from llm_extract.pricing import load_price_table
from llm_extract.report import Report
from llm_extract.results import ExtractionResult, PromptInfo
from llm_extract.run.batch import (
    BATCH_URL,
    load_manifest,
    manifest_path,
    prepare_batch,
    read_batch_lines,
    write_batch,
)

SECRET = "sk-test-BATCH-3c9e1d7f20"
#: Two monthly reports of the project's own, and the two real ones when they are beside the
#: checkout: every batch test runs on each pair.
PROJECT_PAIR = ("month_109", "month_112")


@pytest.fixture(params=["project", pytest.param("seeds", marks=requires_seeds)])
def reports(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A folder of two monthly reports."""
    if request.param == "seeds":
        return SEEDS
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in PROJECT_PAIR:
        shutil.copy(REPORTS_DIR / f"{name}.txt", folder)
    return folder


def texts_of(folder: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}


def seed_answer(text: str) -> dict[str, Any]:
    """A grounded answer for a seed, with evidence found in the seed at test time."""
    month = re.search(r"للشهر (\d+)", text)
    trucks = re.search(r"نحو \d+ شاحنة", text)
    assert month is not None and trucks is not None
    vehicles = int(re.findall(r"\d+", trucks.group(0))[0])
    return {
        "coalition_month": int(month.group(1)),
        "convoys": [
            {
                "mode": "ground",
                "vehicles": vehicles,
                "approximate": True,
                "evidence": trucks.group(0),
            }
        ],
    }


@pytest.fixture
def server(
    openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch, reports: Path
) -> OpenAIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    answers = {}
    for text in texts_of(reports).values():
        month = re.search(r"للشهر (\d+)", text)
        assert month is not None
        answers[month.group(0)] = seed_answer(text)
    openai_server.answer_by_text(answers)
    return openai_server


def run(*args: str) -> Result:
    return CliRunner().invoke(app_(), list(args))


def app_() -> Any:
    from llm_extract.cli import app

    return app


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def results(path: Path) -> list[ExtractionResult]:
    return [ExtractionResult.model_validate_json(line) for line in path.read_text().splitlines()]


def simulate_batch(server: OpenAIServer, requests: Path) -> list[str]:
    """What the Batch API would return: each request answered by the loopback server."""
    out = []
    for n, item in enumerate(lines_of(requests), start=1):
        answer = httpx.post(f"{server.base_url}/chat/completions", json=item["body"], timeout=10)
        out.append(
            json.dumps(
                {
                    "id": f"batch_req_{n}",
                    "custom_id": item["custom_id"],
                    "response": {
                        "status_code": answer.status_code,
                        "request_id": f"req_{n}",
                        "body": answer.json(),
                    },
                    "error": None,
                },
                ensure_ascii=False,
            )
        )
    return out


@pytest.mark.parametrize("mode", ["tools", "json_schema", "md_json"])
def test_prepare_writes_exactly_the_online_request_bodies(
    server: OpenAIServer, tmp_path: Path, mode: str, reports: Path
) -> None:
    online = tmp_path / "online.jsonl"
    done = run("extract", str(reports), "-o", str(online), "--mode", mode, "--no-cache")
    assert done.exit_code == 0, done.output
    sent = {}
    for request in server.chat_requests():
        body = request.body
        stem = next(
            s for s, t in texts_of(reports).items() if t.strip() in request.user_messages()[-1]
        )
        sent[stem] = body

    requests = tmp_path / "batch" / "requests.jsonl"
    prepared = run("batch", "prepare", str(reports), "-o", str(requests), "--mode", mode)
    assert prepared.exit_code == 0, prepared.output
    lines = lines_of(requests)
    assert [line["custom_id"] for line in lines] == sorted(texts_of(reports))
    for line in lines:
        assert line["method"] == "POST" and line["url"] == BATCH_URL
        assert line["body"] == sent[line["custom_id"]]
    # The manifest maps each custom_id to its report and to the online request key.
    manifest = load_manifest(requests)
    keys = {r.report_id: r.request_key for r in results(online)}
    assert {k: e.request_key for k, e in manifest.entries.items()} == keys
    assert all(e.text == texts_of(reports)[k] for k, e in manifest.entries.items())
    assert len(server.chat_requests()) == 2  # prepare sent nothing


def test_prepare_collect_round_trips_the_reports(
    server: OpenAIServer, tmp_path: Path, reports: Path
) -> None:
    online = tmp_path / "online.jsonl"
    assert run("extract", str(reports), "-o", str(online), "--no-cache").exit_code == 0
    requests = tmp_path / "requests.jsonl"
    assert run("batch", "prepare", str(reports), "-o", str(requests)).exit_code == 0
    answers = tmp_path / "results.jsonl"
    answers.write_text("\n".join(simulate_batch(server, requests)) + "\n", encoding="utf-8")

    out = tmp_path / "collected.jsonl"
    collected = run("batch", "collect", str(answers), "-m", str(requests), "-o", str(out))
    assert collected.exit_code == 0, collected.output
    assert "2 ok, 0 failed" in collected.output
    by_id = {r.report_id: r for r in results(out)}
    for reference in results(online):
        got = by_id[reference.report_id]
        assert got.status == "ok"
        assert got.extraction == reference.extraction  # same validation, same records
        assert got.request_key == reference.request_key
        assert got.source == reference.source and got.prompt == reference.prompt
        assert got.usage.prompt_tokens == reference.usage.prompt_tokens
        assert got.usage.cost_usd == pytest.approx(
            load_price_table().cost("gpt-4o-mini", reference.usage, batch=True)
        )
        assert got.usage.cost_usd == pytest.approx((reference.usage.cost_usd or 0) / 2)
        ext = got.extraction
        assert ext is not None and ext.convoys[0].evidence_start is not None
    # The collected answers fill the response cache: extract now costs nothing.
    sent = len(server.chat_requests())
    again = tmp_path / "again.jsonl"
    assert run("extract", str(reports), "-o", str(again)).exit_code == 0
    assert len(server.chat_requests()) == sent
    assert all(r.cached and r.status == "ok" for r in results(again))


def test_collect_reports_every_bad_line_and_drops_none(
    server: OpenAIServer, tmp_path: Path, reports: Path
) -> None:
    requests = tmp_path / "requests.jsonl"
    prepared = run("batch", "prepare", str(reports), "-o", str(requests), "--mode", "tools")
    assert prepared.exit_code == 0
    good, other = simulate_batch(server, requests)
    first = json.loads(good)
    broken = json.loads(other)  # the second seed's answer breaks the schema
    call = broken["response"]["body"]["choices"][0]["message"]["tool_calls"][0]["function"]
    call["arguments"] = json.dumps({"coalition_month": "a month", "convoys": "none"})
    lines = [
        json.dumps(first, ensure_ascii=False),
        json.dumps(broken, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "x", "custom_id": "someone-else", "response": None, "error": None}),
        json.dumps({"id": "y", "response": {"status_code": 200, "body": {}}}),
    ]
    answers = tmp_path / "results.jsonl"
    answers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "collected.jsonl"
    collected = run("batch", "collect", str(answers), "-m", str(requests), "-o", str(out))
    assert collected.exit_code == 1
    got = results(out)
    assert [(r.report_id, r.status) for r in got] == [
        (first["custom_id"], "ok"),
        (broken["custom_id"], "failed"),
        ("someone-else", "failed"),
    ]
    assert got[1].error is not None and got[1].error.kind == "invalid_output"
    assert got[2].error is not None and got[2].error.kind == "unknown_custom_id"
    assert "line 3: not JSON" in collected.output
    assert "line 5: no custom_id" in collected.output
    assert "someone-else" in collected.output
    assert "1 ok, 2 failed" in collected.output


def test_collect_error_lines_http_errors_and_missing_results(tmp_path: Path, reports: Path) -> None:
    texts = texts_of(reports)
    a, b = sorted(texts)
    extra = "000_extra"
    items = [Report(a, texts[a], f"{a}.txt"), Report(b, texts[b], f"{b}.txt")]
    items.append(Report(extra, texts[a] + "\n", "extra.txt"))
    settings = ModelSettings(model="gpt-4o-mini")
    info = PromptInfo(name="p", hash="h")
    requests = [ExtractionRequest(r, [], settings, info) for r in items]
    prepared = prepare_batch(
        requests,
        {r.report_id: {"model": "m"} for r in items},
        {r.report_id: "k" for r in items},
    )
    write_batch(prepared, tmp_path / "req.jsonl")
    lines = [
        json.dumps(
            {"custom_id": a, "response": None, "error": {"code": "expired", "message": "24h"}}
        ),
        json.dumps(
            {
                "custom_id": b,
                "response": {"status_code": 429, "body": {"error": {"message": "slow down"}}},
            }
        ),
    ]
    from llm_extract.run.batch import collect_results

    collected = collect_results(lines, load_manifest(tmp_path / "req.jsonl"), settings=settings)
    kinds = {r.report_id: r.error.kind for r in collected.results if r.error}
    assert kinds == {a: "expired", b: "http_429", extra: "missing"}
    assert any("slow down" in p for p in collected.problems)
    assert collected.failed == 3


def test_prepare_refuses_repeated_ids_and_splits_big_batches(tmp_path: Path) -> None:
    settings = ModelSettings(model="gpt-4o-mini")
    info = PromptInfo(name="p", hash="h")
    same = [Report("x", "نص", "a/x.txt"), Report("x", "نص آخر", "b/x.txt")]
    with pytest.raises(UsageError, match=re.escape("a/x.txt and b/x.txt")):
        prepare_batch([ExtractionRequest(r, [], settings, info) for r in same], {}, {})
    reports = [Report(f"r{i}", f"نص {i}", f"r{i}.txt") for i in range(5)]
    prepared = prepare_batch(
        [ExtractionRequest(r, [], settings, info) for r in reports],
        {r.report_id: {"model": "m", "n": r.report_id} for r in reports},
        {r.report_id: f"k{r.report_id}" for r in reports},
    )
    write_batch(prepared, tmp_path / "req.jsonl", max_requests=2)
    assert [f.name for f in prepared.files] == [f"req.part00{i}.jsonl" for i in (1, 2, 3)]
    ids = [
        json.loads(line)["custom_id"] for f in prepared.files for line in f.read_text().splitlines()
    ]
    assert ids == [f"r{i}" for i in range(5)]
    assert manifest_path(tmp_path / "req.jsonl").exists()
    with pytest.raises(InputError):
        load_manifest(tmp_path / "missing.jsonl")
    assert [line.problem for line in read_batch_lines(["[1]", ""])] == ["line 1: not a JSON object"]


def test_submit_status_download_then_collect(
    server: OpenAIServer, tmp_path: Path, reports: Path
) -> None:
    api = BatchAPI(server).install()
    requests = tmp_path / "requests.jsonl"
    assert run("batch", "prepare", str(reports), "-o", str(requests)).exit_code == 0
    submitted = run("batch", "submit", str(requests))
    assert submitted.exit_code == 0, submitted.output
    batch_id = submitted.stdout.strip()
    assert batch_id in api.batches
    assert api.files["file-1"] == requests.read_bytes()  # the request file, uploaded as is
    assert api.batches[batch_id]["endpoint"] == BATCH_URL

    status = run("batch", "status", batch_id)
    assert status.exit_code == 0 and "completed 2/2 done, 0 failed" in status.output

    results_file = tmp_path / "results.jsonl"
    downloaded = run("batch", "download", batch_id, "-o", str(results_file))
    assert downloaded.exit_code == 0, downloaded.output
    out = tmp_path / "out.jsonl"
    collected = run("batch", "collect", str(results_file), "-m", str(requests), "-o", str(out))
    assert collected.exit_code == 0, collected.output
    assert [r.status for r in results(out)] == ["ok", "ok"]
    assert SECRET not in requests.read_text() + results_file.read_text() + out.read_text()


def test_submit_names_api_errors_and_missing_key(
    server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text("{}\n")
    failed = run("batch", "submit", str(requests))  # no files route on this server
    assert failed.exit_code == 2 and "upload" in failed.output
    assert run("batch", "status", "batch_404").exit_code == 2
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert run("batch", "submit", str(requests)).exit_code == 2


def test_collect_with_a_model_reply_that_is_not_grounded(
    server: OpenAIServer, tmp_path: Path, reports: Path
) -> None:
    requests = tmp_path / "requests.jsonl"
    assert run("batch", "prepare", str(reports), "-o", str(requests)).exit_code == 0
    server.default = Reply(
        {"coalition_month": 118, "convoys": [{"mode": "air", "evidence": "لا وجود لهذا"}]}
    )
    answers = tmp_path / "results.jsonl"
    answers.write_text("\n".join(simulate_batch(server, requests)) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    collected = run("batch", "collect", str(answers), "-m", str(requests), "-o", str(out))
    assert collected.exit_code == 0
    for result in results(out):  # salvaged like online: the ungrounded record is dropped
        assert result.status == "ok" and result.extraction is not None
        assert result.extraction.convoys == [] and len(result.dropped) == 1
