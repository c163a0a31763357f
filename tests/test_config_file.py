"""``llm-extract.toml``: the settings a team shares, read by the settings object in its order:
command line > environment > configuration file > prompt ``[params]`` > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_extract.errors import UsageError
from llm_extract.settings import load_settings


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_the_folders_file_gives_settings(here: Path) -> None:
    (here / "llm-extract.toml").write_text(
        'model = "qwen2.5:7b"\nconcurrency = 3\nbase_url = "http://127.0.0.1:11434/v1"\n',
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.model == "qwen2.5:7b"
    assert settings.concurrency == 3
    assert settings.base_url == "http://127.0.0.1:11434/v1"


def test_precedence(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (here / "llm-extract.toml").write_text(
        "temperature = 0.5\nmax_reasks = 4\nconcurrency = 3\nmax_tokens = 900\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LLM_EXTRACT_CONCURRENCY", "5")
    params = {"temperature": 0.9, "max_tokens": 100, "max_reasks": 1, "mode": "tools"}
    settings = load_settings({"max_reasks": 2}, prompt_params=params)
    assert settings.max_reasks == 2  # the command line beats everything
    assert settings.concurrency == 5  # the environment beats the file
    assert settings.temperature == 0.5  # the file beats the prompt's [params]
    assert settings.max_tokens == 900
    assert settings.mode == "tools"  # the prompt's [params] beat the defaults
    assert settings.max_retries == 4  # the default


def test_the_folders_file_beats_the_users(
    here: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "xdg"
    (user / "llm-extract").mkdir(parents=True)
    (user / "llm-extract" / "llm-extract.toml").write_text(
        'model = "from-user"\nconcurrency = 2\n', encoding="utf-8"
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user))
    assert load_settings().model == "from-user"
    (here / "llm-extract.toml").write_text('model = "from-folder"\n', encoding="utf-8")
    settings = load_settings()
    assert settings.model == "from-folder"
    assert settings.concurrency == 2  # what the folder's file does not say, the user's does


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("concurrency = 0\n", "llm-extract.toml: concurrency"),
        ('colour = "blue"\n', "llm-extract.toml: colour"),
        ("model = \n", "not valid TOML"),
        ('api_key = "sk-test-0000000000"\n', "keep the API key out"),
    ],
)
def test_a_bad_file_is_a_usage_error_naming_it(here: Path, text: str, message: str) -> None:
    (here / "llm-extract.toml").write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=message) as caught:
        load_settings()
    assert "sk-test-0000000000" not in str(caught.value)


def test_the_cli_reads_it(here: Path) -> None:
    from typer.testing import CliRunner

    from llm_extract.cli import app

    (here / "llm-extract.toml").write_text('model = "rules"\n', encoding="utf-8")
    (here / "r.txt").write_text(
        (Path(__file__).resolve().parents[1] / "evals" / "reports" / "month_116.txt").read_text(
            encoding="utf-8"
        ),
        encoding="utf-8",
    )
    done = CliRunner().invoke(app, ["extract", "r.txt"])  # no key needed: the offline model
    assert done.exit_code == 0, done.output
    assert '"model": "rules"' in done.stdout
