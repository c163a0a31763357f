"""Metadata of a text report: its publication date, title and URL, which a ``.txt`` file
cannot carry the way a web page does.

Two places, the sidecar first:

- a sidecar ``NAME.meta.json`` beside ``NAME.txt``: ``{"published": "2024-09-04",
  "title": "...", "url": "https://..."}`` (every key optional);
- front matter at the top of the text, between two ``---`` lines, one ``key: value`` per
  line (the same keys). The front matter stays in the text (the text is what is hashed,
  sent and grounded, so offsets and the review page keep working). A ``---`` first line
  without a closing one within 20 lines is a rule, not front matter.

``published`` (an ISO date, or date and time) anchors the report's relative and yearless
dates exactly as a web page's publication date does. A key that is not one of these, a date
that is not ISO, or a URL that is not http(s) is an :class:`InputError` naming the file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from llm_extract.errors import InputError, UsageError
from llm_extract.paths import stem
from llm_extract.report import Report

KEYS = frozenset({"published", "title", "url"})
SIDECAR_SUFFIX = ".meta.json"
_FENCE = "---"
_MAX_FRONT_LINES = 20


def sidecar_path(path: str | Path) -> Path:
    """``NAME.meta.json`` beside ``NAME.txt``."""
    return Path(_sidecar_name(str(path)))


def _sidecar_name(path: str) -> str:
    """:func:`sidecar_path` as a string, for a path spelt as pathlib spells it."""
    folder = path.rpartition("/")[0]
    name = stem(path) + SIDECAR_SUFFIX
    return f"{folder}/{name}" if folder or path.startswith("/") else name


def parse_published(value: str, origin: str | Path) -> dt.date | dt.datetime:
    """An ISO date (``2024-09-04``) or date and time; else :class:`InputError`."""
    text = value.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(origin, f"published: {value!r} is not an ISO date") from exc


def _checked(values: dict[str, Any], origin: str | Path) -> dict[str, Any]:
    unknown = sorted(set(values) - KEYS)
    if unknown:
        raise InputError(origin, f"unknown metadata key(s): {', '.join(unknown)}")
    found: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise InputError(origin, f"{key}: expected a non-empty string")
        if key == "published":
            found[key] = parse_published(value, origin)
        elif key == "url":
            if not value.strip().lower().startswith(("http://", "https://")):
                raise InputError(origin, f"url: {value!r} is not an http(s) URL")
            found[key] = value.strip()
        else:
            found[key] = " ".join(value.split())
    return found


def front_matter(text: str, origin: str | Path) -> dict[str, Any]:
    """The ``key: value`` lines between the two ``---`` lines that open ``text`` (empty when
    it does not open with one)."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != _FENCE:
        return {}
    head = lines[1 : _MAX_FRONT_LINES + 1]
    if not any(line.strip() == _FENCE for line in head):
        return {}  # a rule at the top of the text, not front matter
    values: dict[str, Any] = {}
    for line in head:
        if line.strip() == _FENCE:
            break
        key, sep, value = line.partition(":")
        if not sep:
            raise InputError(origin, f"front matter: {line.strip()!r} is not 'key: value'")
        values[key.strip().lower()] = value.strip()
    return _checked(values, origin)


def sidecar(path: str | Path) -> dict[str, Any]:
    """The metadata of ``path``'s sidecar (empty when it has none; a report without one
    makes no pathlib object, see :mod:`llm_extract.paths`)."""
    name = _sidecar_name(str(path))
    if not os.path.isfile(name):
        return {}
    side = Path(name)
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(side, f"cannot read the metadata ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(side, "expected a JSON object")
    return _checked(data, side)


def with_text_metadata(report: Report, path: str | Path | None) -> Report:
    """``report`` (a text report) with its sidecar's and front matter's metadata; values
    the report already has (from its source) are kept."""
    values = front_matter(report.text, report.path)
    if path is not None:
        values = {**values, **sidecar(path)}
    fill = {key: value for key, value in values.items() if getattr(report, key) is None}
    return replace(report, **fill) if fill else report


def with_published(reports: list[Report], value: str) -> Report:
    """The one report of ``reports`` published on ``value`` (``extract --published``);
    :class:`UsageError` when there is not exactly one."""
    if len(reports) != 1:
        raise UsageError(f"--published is for one report ({len(reports)} given)")
    return replace(reports[0], published=parse_published(value, "--published"))
