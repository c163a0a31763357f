"""The gold set: reports written for the project (and the two real ones) with their truth.

A gold file ``evals/gold/<id>.json`` is one :class:`~llm_extract.schemas.ReportExtraction`
document. It is validated against the text of report ``<id>`` (the first ``<dir>/<id>.txt``,
``.html``, ``.htm`` or ``.pdf`` found among the report folders, read as ``extract`` reads
it: the main text of a page, the logical text of a PDF), so every ``evidence`` must occur
in the report; a page's publication date anchors its relative dates. Problems
raise :class:`~llm_extract.errors.GoldError` naming the file and, for validation errors,
each failing field path.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from llm_extract.errors import GoldError, InputError
from llm_extract.evaluation.layout import EvalLayout
from llm_extract.paths import child_path
from llm_extract.report import Report
from llm_extract.schemas import ReportExtraction
from llm_extract.sources.files import SUPPORTED_SUFFIXES, read_report_file

GOLD_SUFFIX = ".json"
REPORT_SUFFIX = ".txt"
REPORT_SUFFIXES = SUPPORTED_SUFFIXES
# Optional top-level object of a gold file written by ``annotate``: where the gold came from
# (source path and sha256 of the text, model, time). Not part of the extraction; not scored.
ANNOTATION_KEY = "annotation"


@dataclass(frozen=True)
class GoldItem:
    """One report of the gold set with its gold extraction and the gold file's path."""

    report: Report
    gold: ReportExtraction
    path: Path


@dataclass(frozen=True)
class GoldSet:
    """The gold items that loaded, and the ids left out because their report folder is an
    optional one that is absent (see :mod:`llm_extract.evaluation.layout`)."""

    items: list[GoldItem]
    left_out: list[str]
    absent_dirs: list[Path]


def default_gold_dir() -> Path:
    """``gold/`` of the eval folder."""
    return EvalLayout.load().gold_dir


def default_report_dirs() -> list[Path]:
    """The eval folder's report folders, in search order."""
    return EvalLayout.load().all_report_dirs


def default_splits_path() -> Path:
    """``splits.toml`` of the eval folder."""
    return EvalLayout.load().splits_path


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise GoldError(path, "file not found") from exc
    except UnicodeDecodeError as exc:
        raise GoldError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise GoldError(path, f"cannot read: {exc.strerror or exc}") from exc


def _field_path(loc: Iterable[int | str]) -> str:
    return ".".join(str(part) for part in loc) or "(document)"


def describe_validation_error(error: ValidationError) -> str:
    """One ``field.path: message`` clause per failing field, joined by ``; ``."""
    return "; ".join(f"{_field_path(e['loc'])}: {e['msg']}" for e in error.errors())


def load_gold_file(
    path: str | Path, source_text: str | None = None, *, report: Report | None = None
) -> ReportExtraction:
    """Load and validate one gold file; with ``source_text`` every evidence is grounded.

    The report id is the file's stem. An optional top-level ``annotation`` object (the
    provenance ``annotate`` records) is set aside. Raises :class:`GoldError` for a missing
    or unreadable file, bad JSON (with line and column), a document that is not an object,
    a ``report_id`` that disagrees with the file name, or any validation error (with each
    field path).
    """
    path = Path(path)
    report_id = path.stem
    try:
        data: Any = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise GoldError(
            path, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(data, dict):
        raise GoldError(path, f"expected a JSON object, got {type(data).__name__}")
    annotation = data.pop(ANNOTATION_KEY, None)
    if annotation is not None and not isinstance(annotation, dict):
        raise GoldError(path, f"{ANNOTATION_KEY}: expected an object")
    written_id = data.get("report_id")
    if written_id is not None and written_id != report_id:
        raise GoldError(
            path, f"report_id: {written_id!r} does not match the file name ({report_id!r})"
        )
    context: dict[str, object] = {"report_id": report_id}
    if report is not None:
        context.update(report.validation_context(), report_id=report_id)
    if source_text is not None:
        context["source"] = source_text
    try:
        return ReportExtraction.model_validate(data, context=context)
    except ValidationError as exc:
        raise GoldError(path, describe_validation_error(exc)) from exc


def find_report(report_id: str, report_dirs: Sequence[Path]) -> Path | None:
    """The first ``<dir>/<report_id>.<suffix>`` that exists (``.txt``, ``.html``, ``.htm``,
    ``.pdf``, in that order in each folder), or ``None``."""
    for folder in report_dirs:
        for suffix in REPORT_SUFFIXES:
            candidate = child_path(folder, report_id, suffix, what="report id")
            if candidate.is_file():
                return candidate
    return None


def load_gold_set(
    gold_dir: str | Path | None = None,
    report_dirs: Sequence[str | Path] | None = None,
    *,
    ids: Iterable[str] | None = None,
) -> list[GoldItem]:
    """The items of :func:`load_gold`."""
    return load_gold(gold_dir, report_dirs, ids=ids).items


def load_gold(
    gold_dir: str | Path | None = None,
    report_dirs: Sequence[str | Path] | None = None,
    *,
    ids: Iterable[str] | None = None,
    layout: EvalLayout | None = None,
) -> GoldSet:
    """Every gold file of ``gold_dir`` (sorted by id) with its report, validated and grounded.

    Defaults come from ``layout`` (else the eval folder's). ``ids`` keeps only those reports;
    an id without a gold file is an error. A gold file whose report text is found in none of
    the report folders is an error, unless the folders are the layout's and one of its
    optional folders is absent: then it is left out (``GoldSet.left_out``).
    """
    chosen = layout if layout is not None else EvalLayout.load()
    gold_root = Path(gold_dir) if gold_dir is not None else chosen.gold_dir
    if report_dirs is not None:
        dirs, absent = [Path(d) for d in report_dirs], []
    else:
        dirs, absent = chosen.all_report_dirs, chosen.absent_optional_dirs
    if not gold_root.is_dir():
        raise GoldError(
            gold_root,
            "gold folder not found (give --gold or --evals-dir; `llm-extract annotate OUT.jsonl` "
            "creates it as it saves the first gold file)",
        )
    paths = sorted(gold_root.glob(f"*{GOLD_SUFFIX}"))
    if ids is not None:
        wanted = list(dict.fromkeys(ids))
        by_id = {p.stem: p for p in paths}
        missing = [i for i in wanted if i not in by_id]
        if missing:
            raise GoldError(gold_root, f"no gold file for: {', '.join(missing)}")
        paths = [by_id[i] for i in wanted]
    items: list[GoldItem] = []
    left_out: list[str] = []
    for path in paths:
        report_path = find_report(path.stem, dirs)
        if report_path is None:
            if absent:
                left_out.append(path.stem)
                continue
            searched = ", ".join(str(d) for d in dirs)
            raise GoldError(path, f"report text {path.stem}{REPORT_SUFFIX} not found in {searched}")
        report = _read_report(report_path)
        items.append(GoldItem(report, load_gold_file(path, report=report), path))
    return GoldSet(items=items, left_out=left_out, absent_dirs=absent if left_out else [])


def _read_report(path: Path) -> Report:
    if path.suffix == REPORT_SUFFIX:
        return Report.from_path(path, _read_text(path))
    try:
        return read_report_file(path)
    except InputError as exc:
        raise GoldError(path, exc.reason) from exc


def load_splits(path: str | Path | None = None) -> dict[str, list[str]]:
    """The named lists of report ids of ``evals/splits.toml`` (``dev``, ``spent``, ``holdout``)."""
    splits_path = Path(path) if path is not None else default_splits_path()
    try:
        data = tomllib.loads(_read_text(splits_path))
    except tomllib.TOMLDecodeError as exc:
        raise GoldError(splits_path, f"invalid TOML: {exc}") from exc
    splits: dict[str, list[str]] = {}
    for name, value in data.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise GoldError(splits_path, f"{name}: expected a list of report ids")
        splits[name] = list(value)
    return splits
