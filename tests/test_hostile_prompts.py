"""Prompt files are data a user may have downloaded: no template runs code, reads the
process's objects or hangs the tool, whichever folder it is found in."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
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


# --- time and size budgets (issue 19, item 10) ----------------------------------------------

BIG = "{% set a = 'x' * 999999 %}"
BOMBS = [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}{{ ns.s|length }}",
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
    "{% endfor %}",
    "{% set ns = namespace(s=['x']) %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
    "{% endfor %}",
    "{{ 'x'|center(900000000) }}",
    "{{ 'x'.center(900000000) }}",
    "{{ 'x'.ljust(900000000) }}",
    "{{ 'x'|indent(900000000) }}",
    "{{ '%900000000s'|format('x') }}",
    "{{ '%900000000s' % 'x' }}",
    "{{ '%*s'|format(900000000, 'x') }}",
    "{{ '{:900000000}'.format('x') }}",
    "{{ lipsum(900000000) }}",
    BIG + "{% set b = a ~ a %}",
    BIG + "{{ a|replace('', a) }}",
    BIG + "{{ a.replace('x', a) }}",
    BIG + "{{ [a, a, a]|join }}",
    BIG + "{{ ''.join([a, a, a]) }}",
    BIG + "{{ ([[a]] * 1000)|sum(start=[]) }}",
    BIG + "{{ a|wordwrap(1, wrapstring=a) }}",
    BIG + "{{ a }}{{ a }}{{ a }}{{ a }}{{ a }}",
    "{{ ('\t' * 999999).expandtabs(999999) }}",
    "{% macro f(s, n) %}{% if n %}{{ f(s ~ s, n - 1) }}{% endif %}{% endmacro %}{{ f('x', 40) }}",
]


@pytest.mark.parametrize("template", BOMBS)
def test_a_template_bomb_ends_quickly_with_one_error(template: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(
        PromptError,
        match=r"system template: .*(too large|longer than|loops "
        r"more than|writes more than)",
    ):
        parse_prompt_file(prompt_file(tmp_path, template))
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("template", [BOMBS[0], BOMBS[2], BOMBS[5]])
def test_a_template_bomb_in_the_user_template_of_each_report(template: str, tmp_path: Path) -> None:
    """A user template may branch on the report: the budget holds for every rendering."""
    user = "{{ text }}{% if 'BOOM' in text %}" + template + "{% endif %}"
    prompt = load_prompt(str(prompt_file(tmp_path, "plain", user)))
    assert prompt.render_user("نص", "r1") == "نص"
    with pytest.raises(PromptError, match="user template"):
        prompt.render_user("BOOM", "r2")


def _memory_cap() -> None:  # pragma: no cover  (runs in the child)
    cap = 1536 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


@pytest.mark.parametrize("template", [BOMBS[0], BOMBS[2], BOMBS[5]])
def test_llm_extract_prompts_ends_a_bomb_with_one_line_and_bounded_memory(
    template: str, tmp_path: Path
) -> None:
    prompt_file(tmp_path / "prompts", template)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLM_EXTRACT_PROMPTS")}
    started = time.monotonic()
    done = subprocess.run(
        [str(CLI), "prompts"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        preexec_fn=_memory_cap,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "MemoryError" not in done.stderr
    assert time.monotonic() - started < 30


def test_an_ordinary_template_still_renders(tmp_path: Path) -> None:
    template = (
        "{% set ns = namespace(n=0) %}{% for i in range(1000) %}{% set ns.n = ns.n + i %}"
        "{% endfor %}{{ ns.n }} {{ 'a' ~ 'b' }} {{ '%5s'|format('x') }} {{ [1, 2]|join(',') }}"
        " {{ 'x'.center(5) }} {{ ','.join(['p', 'q']) }} {{ range(3)|map('string')|join }}"
    )
    prompt = parse_prompt_file(prompt_file(tmp_path, template))
    assert prompt.system == "499500 ab     x 1,2   x   p,q 012"
    long_text = "ن" * 3_000_000  # a long report is no template's doing
    template = "{{ ('Report: ' ~ text)|trim }}\n{{ text.strip()|length }}"
    user = load_prompt(str(prompt_file(tmp_path / "u", "s", template)))
    rendered = user.render_user(long_text, "r1")
    assert rendered.startswith("Report: نن") and rendered.endswith("\n3000000")
