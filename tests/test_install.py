"""The install as a new user makes it: the README's first command upgrades the pip a stock
venv brings before it installs the lock (pip 23.2 cannot install the lock's
``lxml[html_clean]``), CI makes its venv the same way, and every package the code imports at
run time is reachable from the direct dependencies of pyproject.toml without any extra (a pip
that skips ``justext``'s ``lxml[html_clean]`` still installs ``lxml_html_clean``).

Cheap on purpose: no build, no download; the wheel as users install it is
tests/test_packaging.py.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from paths import REPO

LOCK_INSTALL = re.compile(r"\bpip install\b.*\s-r\s+requirements-[\w-]+\.lock\b")
PIP_UPGRADE = re.compile(r"-m pip install\b.*\s(?:--upgrade|-U)\s+pip\b")


def first_command(markdown: str, heading: str) -> str:
    """The first shell command of the first ``sh`` block after ``heading``."""
    section = markdown[markdown.index(heading) :]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, f"no sh block after {heading!r}"
    lines = [line.strip() for line in block.group(1).splitlines()]
    return next(line for line in lines if line and not line.startswith("#"))


def assert_upgrades_pip_before_the_lock(steps: list[str]) -> None:
    assert steps[0] == "python3 -m venv .venv", steps[0]  # a stock venv, with the pip it brings
    upgrade = next(i for i, step in enumerate(steps) if PIP_UPGRADE.search(step))
    lock = next(i for i, step in enumerate(steps) if LOCK_INSTALL.search(step))
    assert 0 < upgrade < lock, steps


def test_the_readme_first_command_upgrades_pip_before_the_lock() -> None:
    command = first_command((REPO / "README.md").read_text("utf-8"), "## First two commands")
    steps = [step.strip() for step in command.split("&&")]
    assert_upgrades_pip_before_the_lock(steps)
    assert any("requirements-dev.lock" in step for step in steps)
    assert steps[-1].startswith(".venv/bin/llm-extract extract ")
    # docs/install.md gives the same command, word for word
    assert command in (REPO / "docs" / "install.md").read_text("utf-8")


def test_ci_makes_its_venv_as_the_readme_does() -> None:
    script = (REPO / ".ci" / "run").read_text("utf-8")
    steps = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    start = steps.index("python3 -m venv .venv")
    assert_upgrades_pip_before_the_lock(steps[start:])
    assert any("--require-hashes -r requirements-ci.lock" in step for step in steps[start:])


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def applies(requirement: Requirement, extras: Iterable[str] = ()) -> bool:
    if requirement.marker is None:
        return True
    return any(
        requirement.marker.evaluate({**default_environment(), "extra": extra})
        for extra in ("", *extras)
    )


@cache
def needs_of(distribution: str) -> frozenset[str]:
    """What installing ``distribution`` brings without any extra, itself included (a pip that
    does not read an extra's name as pip 23.2 did installs no more)."""
    found = {canonical(distribution)}
    for line in metadata.requires(distribution) or []:
        requirement = Requirement(line)
        if applies(requirement):
            found |= needs_of(requirement.name)
    return frozenset(found)


def direct_closure() -> set[str]:
    """Every distribution a plain ``pip install .`` brings (the project's own extras aside)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    found: set[str] = set()
    for line in project["dependencies"]:
        requirement = Requirement(line)
        assert applies(requirement), line
        found |= needs_of(requirement.name)
        for extra in requirement.extras:  # an extra we name ourselves, spelled as its package
            for needed in metadata.requires(requirement.name) or []:
                wanted = Requirement(needed)
                if wanted.marker is not None and applies(wanted, [extra, canonical(extra)]):
                    found |= needs_of(wanted.name)
    return found


# Extras that add a feature (a command that says which extra it needs when it is missing),
# as opposed to the tools of development and testing.
TOOL_EXTRAS = {"dev", "local-llm"}


def feature_extras_closure() -> set[str]:
    """Every distribution the project's feature extras bring (``[dataset]``, providers' SDKs):
    imported only by the command that needs them, which names the extra when it is missing."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"].get(
        "optional-dependencies", {}
    )
    found: set[str] = set()
    for name, lines in extras.items():
        if name in TOOL_EXTRAS:
            continue
        for line in lines:
            requirement = Requirement(line)
            if applies(requirement):
                found |= needs_of(requirement.name)
    return found


def imported_names() -> set[str]:
    """The top-level names every module of the package imports, at its top or in a function."""
    names: set[str] = set()
    for path in (REPO / "llm_extract").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"llm_extract", "__future__"}


# Run in a fresh interpreter: every module of the package, every package its code names, and
# what only runs later (a page's main text: trafilatura -> justext -> lxml.html.clean).
PROBE = """
import importlib, json, pkgutil, sys
before = set(sys.modules)
import llm_extract
for info in pkgutil.walk_packages(llm_extract.__path__, "llm_extract."):
    importlib.import_module(info.name)
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
from llm_extract.sources.html import parse_html
paragraph = "<p>" + "وصلت قافلة من الشاحنات إلى قاعدة في الريف بعد ظهر اليوم المذكور. " * 8 + "</p>"
page = "<html><body><article>" + paragraph * 2 + "</article></body></html>"
assert parse_html(page, "page.html").text
print(json.dumps(sorted({name.split(".")[0] for name in set(sys.modules) - before})))
"""


def test_every_package_imported_at_run_time_comes_with_the_direct_dependencies() -> None:
    names = imported_names()
    assert {"trafilatura", "pydantic", "httpx2"} <= names
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(sorted(names))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    loaded = set(json.loads(probe.stdout))
    assert "lxml_html_clean" in loaded  # what reading a page needs, found at run time
    owners = metadata.packages_distributions()
    closure = direct_closure() | feature_extras_closure()
    missing = {
        name: owners[name]
        for name in sorted(loaded - {"llm_extract"})
        if name in owners and not any(canonical(d) in closure for d in owners[name])
    }
    assert not missing, f"imported at run time, not brought by pyproject's dependencies: {missing}"
