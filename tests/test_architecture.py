"""The structure the codebase promises (ARCHITECTURE.md): one reader of the environment, no
special case for a model name outside the backend registry, every command's options declared
once, and the layers import-linter checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer
from paths import REPO
from typer.core import TyperOption

from llm_extract.cli import app

PACKAGE = REPO / "llm_extract"


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_only_the_settings_read_the_environment() -> None:
    readers = [
        p.relative_to(REPO).as_posix()
        for p in sources()
        if re.search(r"os\.environ|getenv\(", p.read_text(encoding="utf-8"))
    ]
    assert readers == ["llm_extract/settings.py"]


def test_no_model_name_is_compared_outside_the_registry() -> None:
    pattern = re.compile(r"""==\s*["']rules["']|["']rules["']\s*==|RULES_MODEL""")
    offenders = [
        p.relative_to(REPO).as_posix()
        for p in sources()
        if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == ["llm_extract/backends/__init__.py"]


def commands() -> list[tuple[str, Any]]:
    """Every command and sub-command of the CLI, by its full name."""
    found: list[tuple[str, Any]] = []

    def walk(name: str, command: Any) -> None:
        found.append((name, command))
        if not hasattr(command, "list_commands"):
            return
        ctx = typer.Context(command)  # click's public way to a group's (lazy) commands
        for sub_name in command.list_commands(ctx):
            walk(f"{name} {sub_name}".strip(), command.get_command(ctx, sub_name))

    walk("", typer.main.get_command(app))
    return found


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{name}: {'/'.join(param.opts)}"
        for name, command in commands()
        for param in command.params
        if isinstance(param, TyperOption) and not (param.help or "").strip()
    ]
    assert missing == []
    names = {name for name, _ in commands()}
    assert {"extract", "eval", "eval compare", "score", "batch prepare", "view"} <= names


def test_the_layers_hold() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(linter), "--no-cache"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_module_of_the_package_has_its_layer() -> None:
    """A new top-level module must be placed in the layers contract of pyproject.toml."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    placed = {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}
    modules = {
        f"llm_extract.{p.stem if p.is_file() else p.name}"
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert modules - placed == set()


def test_every_setting_is_documented() -> None:
    from pydantic import AliasChoices

    from llm_extract.settings import ENV_PREFIX, Settings

    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")

    def variables(name: str, alias: object) -> list[str]:
        if isinstance(alias, AliasChoices):  # every environment variable it is read from
            return [c for c in alias.choices if isinstance(c, str) and c.isupper()]
        return [str(alias or ENV_PREFIX + name.upper())]

    missing = [
        variable
        for name, field in Settings.model_fields.items()
        for variable in variables(name, field.validation_alias)
        if f"`{variable}`" not in page
    ]
    assert missing == []


def test_the_documentation_site_builds_strictly(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    done = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_two_lock_files_pin_the_same_versions() -> None:
    """requirements-dev.lock (the README's install) is requirements-ci.lock (CI's) without the
    local model server: the packages they share have one version."""

    def pins(name: str) -> dict[str, str]:
        text = (REPO / name).read_text(encoding="utf-8")
        return dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", text, flags=re.MULTILINE))

    dev, ci = pins("requirements-dev.lock"), pins("requirements-ci.lock")
    assert set(dev) <= set(ci)
    assert {name: (dev[name], ci[name]) for name in dev if dev[name] != ci[name]} == {}
    assert "llama-cpp-python" in ci and "llama-cpp-python" not in dev


def test_no_help_points_to_a_file_an_installed_tool_lacks() -> None:
    offenders = [
        f"{name}: {'/'.join(param.opts)}"
        for name, command in commands()
        for param in command.params
        if "docs/" in (getattr(param, "help", None) or "")
    ]
    assert offenders == []


def test_one_chat_message_type() -> None:
    defined = [
        p.relative_to(REPO).as_posix()
        for p in sources()
        if re.search(r"^\w*Message\s*=\s*dict\[", p.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert defined == ["llm_extract/backends/base.py"]
