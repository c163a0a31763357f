"""Result files and gold files for the dataset tests: the offline extractor (``--model
rules``) run over reports of the eval folder and the links gold, copied to a test folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from paths import EVALS
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.jsonl import JsonlWriter, read_results

LINKS = EVALS / "links"


def copy_reports(folder: Path, ids: list[str]) -> list[Path]:
    """The reports ``ids`` (eval folder or links gold) copied into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for report_id in ids:
        source = EVALS / "reports" / f"{report_id}.txt"
        if not source.is_file():
            source = LINKS / "reports" / f"{report_id}.txt"
        copied.append(Path(shutil.copy(source, folder / source.name)))
    return copied


def copy_gold(folder: Path, ids: list[str]) -> Path:
    """The gold files of ``ids`` copied into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for report_id in ids:
        source = EVALS / "gold" / f"{report_id}.json"
        if not source.is_file():
            source = LINKS / "gold" / f"{report_id}.json"
        shutil.copy(source, folder / source.name)
    return folder


def extract_rules(paths: list[Path], output: Path, *extra: str) -> None:
    """``llm-extract extract PATHS --model rules -o OUTPUT``, which must succeed."""
    done = CliRunner().invoke(
        app, ["extract", *map(str, paths), "--model", "rules", "-o", str(output), *extra]
    )
    assert done.exit_code == 0, done.output


def as_model(source: Path, target: Path, model: str) -> Path:
    """``source``'s results as if another model had answered them (a second configuration)."""
    with JsonlWriter(target) as writer:
        for result in read_results(source):
            writer.write(result.model_copy(update={"model": model}))
    return target
