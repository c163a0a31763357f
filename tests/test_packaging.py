"""The package as users install it: a wheel built from this checkout, installed into a fresh
virtual environment, run from a folder that is not the checkout.

The wheel's dependencies are taken from the test environment (a ``.pth`` file names its
site-packages folder), so nothing is downloaded; ``llm_extract`` itself comes from the wheel
alone, never from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openai_server import OpenAIServer, Reply
from paths import EVALS, REPO, REPORTS_DIR

PIP = (sys.executable, "-m", "pip")


@dataclass(frozen=True)
class Installed:
    venv: Path
    site: Path

    def run(
        self, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "llm-extract"), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(work), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = work.glob("llm_extract-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [*PIP, "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "zz_test_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    yield Installed(venv=venv, site=site)


@pytest.fixture
def elsewhere(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder that is not the checkout, and an environment with nothing of the checkout."""
    folder = tmp_path / "analyst"
    folder.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LLM_EXTRACT_", "OPENAI_", "PYTHON"))
    }
    env["LLM_EXTRACT_CACHE_DIR"] = str(tmp_path / "cache")
    return folder, env


def test_the_wheel_carries_the_prompts_and_the_data(installed: Installed) -> None:
    package = installed.site / "llm_extract"
    assert sorted(p.name for p in (package / "bundled_prompts").glob("*.toml")) == sorted(
        p.name for p in (REPO / "prompts").glob("*.toml")
    )
    for prompt in (REPO / "prompts").glob("*.toml"):
        assert (package / "bundled_prompts" / prompt.name).read_bytes() == prompt.read_bytes()
    for data in ("data/gazetteer.csv", "data/prices.toml", "py.typed"):
        assert (package / data).is_file(), data
    assert list((package / "reporting" / "templates").glob("*.j2"))
    assert list((package / "evaluation" / "templates").glob("*.j2"))
    for name in ("index.html", "app.js", "app.css"):  # the annotation page, served locally
        assert (package / "reporting" / "annotate" / "static" / name).is_file(), name


def test_prompts_are_found_outside_the_checkout(
    installed: Installed, elsewhere: tuple[Path, dict[str, str]]
) -> None:
    folder, env = elsewhere
    listed = installed.run("prompts", cwd=folder, env=env)
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert {"guided", "minimal"} <= set(names)
    assert str(installed.site / "llm_extract" / "bundled_prompts") in listed.stdout
    assert str(REPO) not in listed.stdout


def test_extract_with_the_offline_extractor_outside_the_checkout(
    installed: Installed, elsewhere: tuple[Path, dict[str, str]]
) -> None:
    folder, env = elsewhere
    shutil.copy(REPORTS_DIR / "month_116.txt", folder / "report.txt")
    done = installed.run("extract", "report.txt", "--model", "rules", cwd=folder, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "ok" and result["report_id"] == "report"
    assert result["prompt"]["name"] == "guided"
    assert result["extraction"]["convoys"], "the offline extractor found the convoys"


def test_extract_against_the_loopback_server_outside_the_checkout(
    installed: Installed, elsewhere: tuple[Path, dict[str, str]], openai_server: OpenAIServer
) -> None:
    folder, env = elsewhere
    shutil.copy(REPORTS_DIR / "month_116.txt", folder / "report.txt")
    evidence = "نحو 160 شاحنة"
    assert evidence in (folder / "report.txt").read_text(encoding="utf-8")
    openai_server.default = Reply(
        {
            "convoys": [
                {"mode": "ground", "vehicles": 160, "approximate": True, "evidence": evidence}
            ]
        }
    )
    env["OPENAI_BASE_URL"] = openai_server.base_url
    out = folder / "out.jsonl"
    done = installed.run(
        "extract", "report.txt", "-o", str(out), "--model", "local-model", cwd=folder, env=env
    )
    assert done.returncode == 0, done.stderr
    (line,) = out.read_text(encoding="utf-8").splitlines()
    result = json.loads(line)
    assert result["status"] == "ok" and result["model"] == "local-model"
    assert result["extraction"]["convoys"][0]["vehicles"] == 160
    (request,) = openai_server.chat_requests()
    assert "نحو 160 شاحنة" in request.user_messages()[-1]


def test_eval_reads_the_eval_folder_of_the_current_directory(
    installed: Installed, elsewhere: tuple[Path, dict[str, str]]
) -> None:
    folder, env = elsewhere
    for sub in ("gold", "reports"):
        (folder / "evals" / sub).mkdir(parents=True)
    for report_id in ("month_116", "item_convoy_walid"):
        shutil.copy(REPORTS_DIR / f"{report_id}.txt", folder / "evals" / "reports")
        shutil.copy(EVALS / "gold" / f"{report_id}.json", folder / "evals" / "gold")
    done = installed.run("eval", "--model", "rules", "--no-html", cwd=folder, env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    (run,) = (folder / "evals" / "runs").glob("*/run.json")
    saved = json.loads(run.read_text(encoding="utf-8"))
    assert saved["config"]["report_ids"] == ["item_convoy_walid", "month_116"]
