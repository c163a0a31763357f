"""Where an eval finds its gold set, reports, splits and saved runs.

An *eval folder* (``./evals`` by default, ``$LLM_EXTRACT_EVALS_DIR`` or ``--evals-dir``
elsewhere) holds::

    gold/<id>.json      gold files
    reports/<id>.txt    the reports they were made on
    splits.toml         named lists of report ids (optional)
    runs/               saved runs (written by ``eval``)
    evals.toml          optional: more report folders (see below)

``evals.toml`` may name more report folders, relative to the eval folder::

    report_dirs = ["more-reports"]             # must exist
    optional_report_dirs = ["../../shared/seeds"]  # may be absent

A gold file whose report is in none of the folders is an error, unless an optional folder is
absent: then that gold file is left out of the run, with a note. The package itself assumes
no folder outside the eval folder; this repository's ``evals/evals.toml`` names the real
reports that live beside the checkout.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from llm_extract.errors import GoldError
from llm_extract.settings import environment

CONFIG_FILE = "evals.toml"


def default_evals_dir() -> Path:
    """``$LLM_EXTRACT_EVALS_DIR``, else ``./evals`` (through the settings)."""
    return environment().evals_dir


@dataclass(frozen=True)
class EvalLayout:
    """The folders of one eval folder (see the module doc)."""

    root: Path
    report_dirs: tuple[Path, ...] = ()
    optional_report_dirs: tuple[Path, ...] = field(default=())

    @property
    def gold_dir(self) -> Path:
        return self.root / "gold"

    @property
    def splits_path(self) -> Path:
        return self.root / "splits.toml"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def all_report_dirs(self) -> list[Path]:
        """Report folders in search order: ``reports/``, the listed ones, the optional ones."""
        return [self.root / "reports", *self.report_dirs, *self.optional_report_dirs]

    @property
    def absent_optional_dirs(self) -> list[Path]:
        return [d for d in self.optional_report_dirs if not d.is_dir()]

    @classmethod
    def load(cls, root: str | Path | None = None) -> EvalLayout:
        """The layout of ``root`` (default :func:`default_evals_dir`), with its evals.toml."""
        base = Path(root) if root is not None else default_evals_dir()
        config = base / CONFIG_FILE
        if not config.is_file():
            return cls(root=base)
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise GoldError(config, f"cannot read eval configuration ({exc})") from exc
        unknown = set(data) - {"report_dirs", "optional_report_dirs"}
        if unknown:
            raise GoldError(config, f"unknown keys {sorted(unknown)}")
        return cls(
            root=base,
            report_dirs=tuple(base / d for d in _paths(data, "report_dirs", config)),
            optional_report_dirs=tuple(
                base / d for d in _paths(data, "optional_report_dirs", config)
            ),
        )


def _paths(data: dict[str, object], key: str, config: Path) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise GoldError(config, f"{key}: expected a list of folder names")
    return [str(v) for v in value]
