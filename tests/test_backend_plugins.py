"""A backend registered by another package, through an entry point of the group
``llm_extract.backends``: found by its model name, run by the same Runner, imported only when
a name is looked up past the built-in backends."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_extract.backends import ENTRY_POINT_GROUP, plugins, spec_for
from llm_extract.cli import app
from llm_extract.errors import UsageError

PLUGIN = """
from llm_extract.backends import BackendSpec
from llm_extract.backends.base import BackendResponse, Capabilities
from llm_extract.schemas import ReportExtraction


class EchoBackend:
    name = "echo"

    async def extract(self, request):
        return BackendResponse(
            extraction=ReportExtraction(report_id=request.report.report_id), raw="{}"
        )

    async def aclose(self):
        pass


SPEC = BackendSpec(
    name="echo",
    description="a backend of another package",
    capabilities=Capabilities(
        needs_credentials=False, http=False, cacheable=False, batch_api=False, uses_prompt=True
    ),
    serves=lambda model: model.startswith("echo-"),
    create=lambda settings, http_client=None, memory=None: EchoBackend(),
    names=("echo-small",),
)
NOT_A_SPEC = 42
"""


def install(folder: Path, entry: str) -> None:
    """A distribution on ``folder`` (on sys.path) that declares ``entry``."""
    (folder / "echo_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = folder / "echo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: echo-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry}\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    plugins.cache_clear()
    yield folder
    plugins.cache_clear()
    sys.modules.pop("echo_plugin", None)


def test_a_plugin_backend_serves_its_names(site: Path, tmp_path: Path) -> None:
    install(site, "echo = echo_plugin:SPEC")
    assert spec_for("echo-small").name == "echo"
    assert spec_for("rules").name == "rules"  # the built-in backends come first
    assert spec_for("gpt-4o-mini").name == "openai"
    report = tmp_path / "r1.txt"
    text = Path(__file__).resolve().parents[1] / "evals" / "reports" / "month_116.txt"
    report.write_text(text.read_text(encoding="utf-8"), encoding="utf-8")
    done = CliRunner().invoke(app, ["extract", str(report), "--model", "echo-small"])
    assert done.exit_code == 0, done.output
    assert '"model": "echo-small"' in done.stdout and '"status": "ok"' in done.stdout
    assert "did you mean" not in done.stderr  # a name the plug-in serves by name


def test_plugins_are_not_imported_for_built_in_names(site: Path) -> None:
    install(site, "echo = echo_plugin:SPEC")
    assert spec_for("rules").name == "rules"
    assert "echo_plugin" not in sys.modules


def test_a_broken_plugin_is_named(site: Path) -> None:
    install(site, "echo = echo_plugin:NOT_A_SPEC")
    with pytest.raises(UsageError, match=r"backend plug-in 'echo'.*not a BackendSpec"):
        spec_for("gpt-4o-mini")
