"""Shell completion from the top-level command, and ``--version``.

The scripts ``llm-extract --show-completion SHELL`` prints are run the way the shell runs
them: bash sources its script and calls the completion function with ``COMP_WORDS`` set;
zsh's and fish's scripts call the command with the arguments in ``_TYPER_COMPLETE_ARGS``,
which is done here by hand (neither shell is needed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_extract import __version__
from llm_extract.cli import app

BIN = Path(sys.executable).parent
CLI = BIN / "llm-extract"
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**ENV, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1", **env},
    )


def test_version() -> None:
    done = CliRunner().invoke(app, ["--version"])
    assert done.exit_code == 0
    assert done.stdout.strip() == f"llm-extract {__version__}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_top_level_command_prints_a_completion_script(shell: str) -> None:
    done = cli("--show-completion", shell)
    assert done.returncode == 0, done.stderr
    assert "_LLM_EXTRACT_COMPLETE" in done.stdout
    assert "not supported" not in done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_command_names_and_options(tmp_path: Path) -> None:
    script = tmp_path / "completion.bash"
    script.write_text(cli("--show-completion", "bash").stdout, encoding="utf-8")

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        program = (
            f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
            '_llm_extract_completion llm-extract; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        done = subprocess.run(
            ["bash", "--norc", "--noprofile", "-c", program],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=ENV,
        )
        assert done.returncode == 0, done.stderr
        assert "not supported" not in done.stderr
        return done.stdout.split()

    assert complete("llm-extract", "ex") == ["extract", "export"]
    assert complete("llm-extract", "sum") == ["summary"]
    assert "--resume" in complete("llm-extract", "extract", "--res")


def test_bash_protocol_directly() -> None:
    done = cli(COMP_WORDS="llm-extract ex", COMP_CWORD="1", _LLM_EXTRACT_COMPLETE="complete_bash")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["extract", "export"]


def test_zsh_protocol() -> None:
    done = cli(_TYPER_COMPLETE_ARGS="llm-extract ev", _LLM_EXTRACT_COMPLETE="complete_zsh")
    assert done.returncode == 0, done.stderr
    assert '"eval"' in done.stdout and "extract" not in done.stdout
    options = cli(
        _TYPER_COMPLETE_ARGS="llm-extract summary --b", _LLM_EXTRACT_COMPLETE="complete_zsh"
    )
    assert '"--by"' in options.stdout


def test_fish_protocol() -> None:
    done = cli(
        _TYPER_COMPLETE_ARGS="llm-extract sc",
        _TYPER_COMPLETE_FISH_ACTION="get-args",
        _LLM_EXTRACT_COMPLETE="complete_fish",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0].startswith("score")


@pytest.mark.parametrize("command", ["eval", "batch"])
def test_completion_options_live_on_the_top_level_only(command: str) -> None:
    done = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert "--install-completion" not in done.stdout
