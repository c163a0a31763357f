"""A model name close to a known one gets a "did you mean" and is still sent; ``batch prepare``
does not offer the offline extractor it refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openai_server import OpenAIServer, Reply
from report_samples import write_samples
from typer.testing import CliRunner

from llm_extract.cli import app


@pytest.fixture
def server(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> OpenAIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    openai_server.default = Reply({"convoys": []})
    return openai_server


@pytest.mark.parametrize(("typo", "meant"), [("rule", "rules"), ("gpt-4o-mni", "gpt-4o-mini")])
def test_a_close_name_gets_a_hint_and_is_still_sent(
    server: OpenAIServer, tmp_path: Path, typo: str, meant: str
) -> None:
    folder = write_samples(tmp_path / "reports")
    report = next(folder.iterdir())
    done = CliRunner().invoke(app, ["extract", str(report), "--model", typo, "--mode", "tools"])
    assert done.exit_code == 0, done.output
    assert f"did you mean {meant!r}?" in done.stderr
    (request,) = server.chat_requests()
    assert request.body is not None and request.body["model"] == typo  # not replaced, not blocked


@pytest.mark.parametrize("name", ["gpt-4o-mini", "llama3.1:8b-instruct", "rules"])
def test_known_or_distant_names_get_no_hint(
    server: OpenAIServer, tmp_path: Path, name: str
) -> None:
    folder = write_samples(tmp_path / "reports")
    report = next(folder.iterdir())
    done = CliRunner().invoke(app, ["extract", str(report), "--model", name, "--mode", "tools"])
    assert done.exit_code == 0, done.output
    assert "did you mean" not in done.stderr


def test_batch_prepare_does_not_offer_rules() -> None:
    shown = CliRunner().invoke(app, ["batch", "prepare", "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    model_help = " ".join(re.sub("[│╭╮╰╯─]", " ", shown.stdout).split())
    assert "'rules' for the offline extractor" not in model_help
    assert "the offline extractor has no Batch API" in model_help
