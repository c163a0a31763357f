"""What the terminal shows of hostile data: no password of a mistyped URL, no raw bidi
override or control character, no rich markup taken from data (issue 19, item 15)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from paths import REPORTS_DIR
from typer.testing import CliRunner, Result
from web_pages import Answer, WebServer

from llm_extract.cli import app
from llm_extract.redact import printable, redact, redact_url, url_secrets

CANARY = "PW-canary-5e1d"
RLO = "\u202e"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def web() -> Iterator[WebServer]:
    with WebServer() as server:
        server.routes[f"/{RLO}lmth.exe"] = Answer(404, b"no")
        yield server


@pytest.mark.parametrize(
    "url",
    [
        f"https//user:{CANARY}@host/v1",
        f"https:/user:{CANARY}@host/v1",
        f"//user:{CANARY}@host/v1",
        f"http//{CANARY}@host/v1",
    ],
)
def test_a_mistyped_base_url_is_shown_without_its_password(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    result = invoke("extract", str(REPORTS_DIR / "month_116.txt"), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 2
    assert CANARY not in result.output
    assert "***@host/v1" in result.output
    assert CANARY not in redact_url(url)
    assert CANARY in url_secrets(url)
    assert CANARY not in redact(f"error: cannot reach {url} today")


def test_a_bidi_override_in_a_url_is_escaped_in_the_fetch_error(
    web: WebServer, tmp_path: Path
) -> None:
    url = web.url(f"/{RLO}lmth.exe")
    result = invoke("extract", url, "-o", str(tmp_path / "o.jsonl"), "--model", "rules")
    assert result.exit_code == 2
    assert RLO not in result.output
    assert "%E2%80%AElmth.exe: HTTP 404" in result.output


def test_control_characters_in_a_file_name_are_escaped(tmp_path: Path) -> None:
    name = tmp_path / f"a{RLO}txt.\x1b[31mred\x07.txt"
    result = invoke("extract", str(name), "-o", str(tmp_path / "o.jsonl"), "--model", "rules")
    assert result.exit_code == 2
    assert RLO not in result.output and "\x1b" not in result.output and "\x07" not in result.output
    assert "\\u202e" in result.output and "\\x1b[31mred\\x07" in result.output


def test_printable_keeps_arabic_and_white_space() -> None:
    text = "تقرير\tالشهر\n116\r"
    assert printable(text) == text
    assert printable("a\x00b\u2066c\x9b") == "a\\x00b\\u2066c\\x9b"


def test_annotate_stats_prints_a_gold_folder_with_brackets(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    out.write_text("", encoding="utf-8")
    result = invoke("annotate", str(out), "--gold-dir", str(tmp_path / "g[/x]"), "--stats")
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "g[/x]/corrections.jsonl" in result.output  # the folder, brackets and all


def test_a_prompt_description_with_terminal_escapes_is_listed_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "odd.toml").write_text(
        'description = "safe\\u001b]0;owned\\u0007 \\u202etxt.exe"\n'
        "system = 'Extract.'\nuser = '{{ text }}'\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = invoke("prompts")
    assert result.exit_code == 0, result.output
    line = next(row for row in result.output.splitlines() if row.startswith("odd"))
    assert "\x1b" not in line and "\x07" not in line and RLO not in line
    assert "safe\\x1b]0;owned\\x07 \\u202etxt.exe" in line
