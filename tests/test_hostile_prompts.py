"""Prompt files are data a user may have downloaded: no template runs code, reads the
process's objects or hangs the tool, whichever folder it is found in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from paths import REPORTS_DIR

from llm_extract.errors import PromptError
from llm_extract.prompts import load_prompt, parse_prompt_file

CLI = Path(sys.executable).with_name("llm-extract")

ESCAPES = [
    "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "{{ joiner.__init__.__globals__['os'].system('touch PWNED') }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ lipsum.__globals__['os'].popen('touch PWNED').read() }}",
    "{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch PWNED') }}",
    "{{ namespace.__init__.__globals__ }}",
    "{% set x = cycler.__init__ %}{{ x.__globals__ }}",
    "{{ text.__class__.__base__.__subclasses__() }}",
    "{{ (text|attr('__class__')).__mro__ }}",
]


def prompt_file(folder: Path, system: str, user: str = "{{ text }}") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "guided.toml"
    path.write_text(
        f"system = '''{system}'''\nuser = '''{user}'''\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("template", ESCAPES)
def test_a_template_cannot_reach_python(
    template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    in_system = prompt_file(tmp_path / "a", template)
    with pytest.raises(PromptError):
        parse_prompt_file(in_system)
    in_user = prompt_file(tmp_path / "b", "plain", "{{ text }} " + template)
    with pytest.raises(PromptError):
        load_prompt(str(in_user)).render_user("نص", "r1")
    assert not (tmp_path / "PWNED").exists()


def test_a_template_cannot_loop_for_ever(tmp_path: Path) -> None:
    loop = prompt_file(tmp_path, "{% for i in range(10**12) %}x{% endfor %}")
    with pytest.raises(PromptError):
        parse_prompt_file(loop)


@pytest.mark.parametrize("command", [["prompts"], ["extract", "report.txt", "--model", "rules"]])
def test_a_hostile_prompt_in_the_current_folder_runs_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "report.txt").write_text(
        (REPORTS_DIR / "month_116.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    prompt_file(tmp_path / "prompts", ESCAPES[0])
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLM_EXTRACT_PROMPTS")}
    done = subprocess.run(
        [str(CLI), *command], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "unsafe" in done.stderr or "access to attribute" in done.stderr
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    "template",
    ["{{ 'x' * 10**9 }}", "{{ [1] * 10**8 }}", "{{ 10 ** 10000000 }}", "{{ 1 / 0 }}"],
)
def test_a_template_cannot_exhaust_memory_or_crash(template: str, tmp_path: Path) -> None:
    with pytest.raises(PromptError):
        parse_prompt_file(prompt_file(tmp_path, template))
