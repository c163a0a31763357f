"""A command line that starts at once: each command imports only what it uses.

Every check runs the real ``llm-extract`` entry point in a fresh interpreter and reads
``sys.modules`` when the command is done, so an import added at the top of a module that a
light command loads fails here, naming the module and the chain of imports to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openai_server import OpenAIServer
from paths import REPORTS_DIR
from report_samples import SAMPLES, answers_by_month

from llm_extract.cli import COMMANDS, app, load_command

#: Heavy libraries no light command may import: the model SDKs, scoring, exports and charts,
#: web pages and PDFs, the annotation app, the browser driver.
HEAVY = (
    "openai",
    "instructor",
    "scipy",
    "pandas",
    "pyarrow",
    "openpyxl",
    "matplotlib",
    "trafilatura",
    "pdfminer",
    "starlette",
    "uvicorn",
    "playwright",
)

# Runs a command as the console script does, then writes the top-level modules it imported
# (and, for each, the module that imported it first) to the file named by argv[1].
PROBE = r"""
import builtins, json, sys
out, args = sys.argv[1], sys.argv[2:]
first = {}
real_import = builtins.__import__
def tracing_import(name, globals=None, locals=None, fromlist=(), level=0):
    top = name.split(".")[0]
    if level == 0 and top not in first and top not in sys.modules:
        first[top] = (globals or {}).get("__name__", "?")
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = tracing_import
sys.argv = ["llm-extract", *args]
from llm_extract.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted({m.split(".")[0] for m in sys.modules})
with open(out, "w", encoding="utf-8") as handle:
    json.dump({"code": code, "modules": loaded, "first": first, "all": sorted(sys.modules)}, handle)
"""


BACKEND = "llm_extract.backends.openai_compat"


def imported(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The top-level modules ``llm-extract ARGS`` imported: name -> the module importing it
    (and the model backend's module, by its full name, when it was imported)."""
    record = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(record), *args],
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = json.loads(record.read_text(encoding="utf-8"))
    assert found["code"] in (0, None), done.stderr
    modules = {name: found["first"].get(name, "?") for name in found["modules"]}
    if BACKEND in found["all"]:
        modules[BACKEND] = "?"
    return modules


def heavy_in(modules: dict[str, str], names: tuple[str, ...] = HEAVY) -> dict[str, str]:
    return {name: by for name, by in modules.items() if name in names}


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    modules = imported(tmp_path, "--help")
    assert heavy_in(modules, (*HEAVY, "httpx", "pydantic", "jinja2", "sqlite3")) == {}


def test_extract_with_rules_imports_nothing_heavy(tmp_path: Path) -> None:
    report = tmp_path / "one.txt"
    report.write_text((REPORTS_DIR / "month_116.txt").read_text(encoding="utf-8"), "utf-8")
    modules = imported(tmp_path, "extract", report.name, "--model", "rules")
    assert heavy_in(modules, (*HEAVY, "httpx", "tenacity")) == {}


def test_reading_an_output_imports_only_what_the_command_does(tmp_path: Path) -> None:
    report = tmp_path / "one.txt"
    report.write_text((REPORTS_DIR / "month_116.txt").read_text(encoding="utf-8"), "utf-8")
    imported(tmp_path, "extract", report.name, "--model", "rules", "-o", "out.jsonl")
    assert (tmp_path / "out.jsonl").is_file()
    assert heavy_in(imported(tmp_path, "view", "out.jsonl")) == {}  # no --gold: no scoring
    assert heavy_in(imported(tmp_path, "summary", "out.jsonl", "--no-chart")) == {}
    assert heavy_in(imported(tmp_path, "prompts")) == {}


def test_extract_help_imports_nothing_heavy(tmp_path: Path) -> None:
    assert heavy_in(imported(tmp_path, "extract", "--help")) == {}


def test_a_model_run_imports_its_backend_but_nothing_for_scoring_or_exports(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.answer_by_text(answers_by_month())
    report_id, text = next(iter(SAMPLES.items()))
    (tmp_path / f"{report_id}.txt").write_text(text, encoding="utf-8")
    modules = imported(
        tmp_path,
        "extract",
        f"{report_id}.txt",
        "--model",
        "gpt-4o-mini",
        "--no-cache",
        env={"OPENAI_BASE_URL": openai_server.base_url},
    )
    assert BACKEND in modules
    assert heavy_in(modules) == {}


def test_a_run_answered_from_the_cache_builds_no_backend(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.answer_by_text(answers_by_month())
    report_id, text = next(iter(SAMPLES.items()))
    (tmp_path / f"{report_id}.txt").write_text(text, encoding="utf-8")
    args = ("extract", f"{report_id}.txt", "--model", "gpt-4o-mini")
    env = {"OPENAI_BASE_URL": openai_server.base_url}
    assert BACKEND in imported(tmp_path, *args, env=env)  # the first run asks the model
    asked = len(openai_server.chat_requests())
    again = imported(tmp_path, *args, env=env)  # the same request: answered by the cache
    assert len(openai_server.chat_requests()) == asked
    assert BACKEND not in again and heavy_in(again, (*HEAVY, "httpx2")) == {}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_listed_command_loads_with_its_line(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert command.short_help == COMMANDS[name].help
    assert (command.help or "").strip(), f"{name} has no help of its own"


def test_help_lists_every_command_with_its_line() -> None:
    from typer.testing import CliRunner

    done = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    for name, entry in COMMANDS.items():
        line = next((x for x in done.output.splitlines() if f" {name} " in x), "")
        assert entry.help in line, (name, done.output)


def test_an_unknown_command_suggests_the_nearest() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from llm_extract.cli import main; main()", "extrat"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 2
    assert "No such command 'extrat'" in done.stderr
    assert "'extract'" in done.stderr
