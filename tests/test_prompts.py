"""Prompt files: loading, rendering, hashing, errors, the prompts folder and the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_samples import SAMPLES
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.errors import PromptError
from llm_extract.prompts import (
    list_prompts,
    load_prompt,
    packaged_prompts_dir,
    parse_prompt_file,
    prompt_dirs,
)
from llm_extract.report import Report
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import load_settings

REPO_PROMPTS = Path(__file__).resolve().parents[1] / "prompts"


def report(report_id: str = "r120") -> Report:
    return Report(report_id=report_id, text=SAMPLES[report_id], path=f"{report_id}.txt")


def write_prompt(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(body, encoding="utf-8")
    return path


SIMPLE = """
name = "simple"
description = "a test prompt"
system = "Extract {{ 'records' | upper }}."
user = "id={{ report_id }}\\n{{ text }}"
[params]
temperature = 0.3
max_tokens = 1000
"""


def test_shipped_prompts_load_and_differ() -> None:
    prompts = {p.name: p for p in list_prompts(REPO_PROMPTS)}
    assert {"minimal", "guided"} <= set(prompts)
    minimal, guided = prompts["minimal"], prompts["guided"]
    assert minimal.hash != guided.hash
    assert len(guided.system) > 3 * len(minimal.system)
    assert minimal.examples == ()
    assert len(guided.examples) == 1
    for cue in ("نحو", "على الأقل", "عشرات", "د ا ع ش", "الم قاو م ة", "evidence"):
        assert cue in guided.system, cue
    # The schema is the backend's business, never pasted into the prompt.
    assert '"properties"' not in guided.system


def test_guided_example_is_a_valid_grounded_answer() -> None:
    guided = load_prompt("guided", REPO_PROMPTS)
    example = guided.examples[0]
    extraction = ReportExtraction.model_validate(
        json.loads(example.answer), context={"source": example.report}
    )
    assert extraction.coalition_month == 121
    assert [c.mode for c in extraction.convoys] == ["ground", "air"]
    assert extraction.convoys[0].approximate and extraction.convoys[1].at_least
    # The example keeps a stated count that disagrees with its list, and it is flagged.
    assert extraction.flags == ["convoys[0]: 5 batches stated but 4 dates listed"]
    assert extraction.arrests[0].detained == 2
    assert extraction.strikes[0].casualties[0].injured is None


def test_render_puts_static_part_first_and_report_last() -> None:
    guided = load_prompt("guided", REPO_PROMPTS)
    first = guided.render(report("r120"))
    second = guided.render(report("r121"))
    assert [m["role"] for m in first] == ["system", "user", "assistant", "user"]
    assert first[:-1] == second[:-1]
    assert SAMPLES["r120"].strip() in first[-1]["content"]
    assert "r120" in first[-1]["content"]
    assert SAMPLES["r121"].strip() in second[-1]["content"]
    assert first[1]["content"].startswith("Report example-1")


def test_custom_prompt_templates_params_and_hash(tmp_path: Path) -> None:
    path = write_prompt(tmp_path, "simple", SIMPLE)
    prompt = load_prompt("simple", tmp_path)
    assert prompt.system == "Extract RECORDS."
    assert prompt.params == {"temperature": 0.3, "max_tokens": 1000}
    messages = prompt.render(report("r122"))
    assert messages[1]["content"].startswith("id=r122\n")
    assert load_prompt(str(path)).hash == prompt.hash
    changed = write_prompt(tmp_path / "other", "simple", SIMPLE.replace("Extract", "Find"))
    assert parse_prompt_file(changed).hash != prompt.hash


def test_unknown_prompt_lists_the_available_ones(tmp_path: Path) -> None:
    write_prompt(tmp_path, "alpha", SIMPLE)
    write_prompt(tmp_path, "beta", SIMPLE)
    with pytest.raises(PromptError, match=r"unknown prompt 'gamma'.*available: alpha, beta"):
        load_prompt("gamma", tmp_path)
    with pytest.raises(PromptError, match="not found"):
        load_prompt(str(tmp_path / "missing.toml"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("name = 'x'\nuser = '{{ text }}'", "'system' must be a non-empty string"),
        ("system = 's'\nuser = 'no report here'", "must contain"),
        ("system = 's'\nuser = '{{ text }} {{ nope }}'", "user template"),
        ("system = '{% if %}'\nuser = '{{ text }}'", "system template"),
        ("system = 's'\nuser = '{{ text }}'\n[params]\ntop_k = 3", "unknown parameter 'top_k'"),
        ("system = 's'\nuser = '{{ text }}'\n[params]\nmode = 'xml'", "mode must be one of"),
        ("system = 's'\nuser = '{{ text }}'\nextra = 1", "unknown keys"),
        ("system = 's'\nuser = [", "not a valid TOML file"),
        (
            "system = 's'\nuser = '{{ text }}'\n[[examples]]\nreport = 'r'\nanswer = '{'",
            r"examples\[0\].answer: not JSON",
        ),
    ],
)
def test_malformed_prompt_files_name_the_file(tmp_path: Path, body: str, message: str) -> None:
    path = write_prompt(tmp_path, "bad", body)
    with pytest.raises(PromptError, match=message) as info:
        parse_prompt_file(path)
    assert str(path) in str(info.value)


def test_example_answer_must_be_grounded_in_its_report(tmp_path: Path) -> None:
    answer = json.dumps(
        {"drills": [{"evidence": "نص لا يرد في التقرير", "count": 1}]}, ensure_ascii=False
    )
    body = (
        "system = 's'\nuser = '{{ text }}'\n[[examples]]\n"
        f"report = '''{SAMPLES['r120']}'''\nanswer = '''{answer}'''\n"
    )
    path = write_prompt(tmp_path, "ungrounded", body)
    with pytest.raises(PromptError, match=r"examples\[0\]\.answer\.drills\.0.*does not occur"):
        parse_prompt_file(path)


def test_prompt_folders_are_searched_in_the_documented_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    packaged = packaged_prompts_dir()
    assert packaged is not None and (packaged / "guided.toml").is_file()
    assert prompt_dirs() == [packaged]  # no ./prompts here: the packaged prompts only
    (tmp_path / "prompts").mkdir()
    (tmp_path / "env").mkdir()
    (tmp_path / "explicit").mkdir()
    assert prompt_dirs() == [tmp_path / "prompts", packaged]
    assert prompt_dirs(tmp_path / "explicit") == [
        tmp_path / "explicit",
        tmp_path / "prompts",
        packaged,
    ]
    with pytest.raises(PromptError, match="prompt folder not found"):
        prompt_dirs(tmp_path / "typo")
    # The first folder is --prompts-dir, else $LLM_EXTRACT_PROMPTS_DIR (settings decide).
    monkeypatch.setenv("LLM_EXTRACT_PROMPTS_DIR", str(tmp_path / "env"))
    assert load_settings().prompts_dir == tmp_path / "env"
    assert (
        load_settings({"prompts_dir": tmp_path / "explicit"}).prompts_dir == tmp_path / "explicit"
    )


def test_the_first_folder_that_has_a_prompt_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_prompt(tmp_path / "prompts", "guided", SIMPLE)  # ./prompts/guided.toml hides ours
    assert load_prompt("guided").path == str(tmp_path / "prompts" / "guided.toml")
    assert load_prompt("minimal").path.endswith("minimal.toml")  # still the packaged one
    listed = {Path(p.path).stem: p.path for p in list_prompts()}
    assert listed["guided"] == str(tmp_path / "prompts" / "guided.toml")
    assert listed["minimal"] == load_prompt("minimal").path
    with pytest.raises(PromptError, match=r"unknown prompt 'nope' \(searched .*prompts"):
        load_prompt("nope")


def test_prompts_command_lists_names_and_descriptions(tmp_path: Path) -> None:
    runner = CliRunner()
    shipped = runner.invoke(app, ["prompts", "--prompts-dir", str(REPO_PROMPTS)])
    assert shipped.exit_code == 0, shipped.output
    names = [line.split()[0] for line in shipped.stdout.splitlines()]
    assert names == sorted(names) and {"guided", "minimal"} <= set(names)
    write_prompt(tmp_path, "simple", SIMPLE)
    custom = runner.invoke(app, ["prompts", "--prompts-dir", str(tmp_path)])
    assert custom.exit_code == 0
    assert "simple" in custom.stdout and "a test prompt" in custom.stdout
    missing = runner.invoke(app, ["prompts", "--prompts-dir", str(tmp_path / "none")])
    assert missing.exit_code == 2
    assert "prompt folder not found" in missing.stderr
