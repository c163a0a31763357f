"""The audit log of corrections: what the analyst changed in the model's output.

Each time a report is marked done, one line per value is appended to the log (JSON Lines,
``<gold-dir>/corrections.jsonl``)::

    {"time", "done", "report_id", "base", "model", "source_sha256",
     "category", "record", "field", "model_value", "value", "action"}

``action`` is ``kept`` or ``corrected`` for each field of a record that was kept,
``rejected`` for a record the analyst threw out (``field`` null, ``model_value`` the record),
``added`` for a record the model missed (``value`` the record). Report-level values
(``coalition_month``, ``stated_totals.*``) have category ``report``. ``base`` says what the
starting values were: ``model`` (the model's output), ``gold`` (an existing gold file) or
``blank`` (no record, ``--blank``); only ``model`` measures a model. ``done`` names the
snapshot; the last snapshot of a report is the one that counts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from llm_extract.errors import InputError
from llm_extract.reporting.annotate.drafts import OFFSETS, Draft

AUDIT_FILE = "corrections.jsonl"
REPORT_CATEGORY = "report"
ACTIONS = ("kept", "corrected", "rejected", "added")


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in OFFSETS}


def _action(before: Any, after: Any) -> str:
    return "kept" if before == after else "corrected"


def corrections(draft: Draft, *, done: str, time: str) -> list[dict[str, Any]]:
    """The audit lines of a finished draft: every starting value against the final one."""
    common = {
        "time": time,
        "done": done,
        "report_id": draft.report_id,
        "base": draft.base,
        "model": draft.model,
        "source_sha256": draft.source.sha256,
    }
    lines: list[dict[str, Any]] = []

    def line(
        category: str, record: str | None, field: str | None, before: Any, after: Any, action: str
    ) -> None:
        lines.append(
            {
                **common,
                "category": category,
                "record": record,
                "field": field,
                "model_value": before,
                "value": after,
                "action": action,
            }
        )

    base = draft.base_report
    month = base.get("coalition_month")
    after_month = draft.coalition_month
    line(REPORT_CATEGORY, None, "coalition_month", month, after_month, _action(month, after_month))
    totals = base.get("stated_totals") or {}
    for name in sorted(set(totals) | set(draft.stated_totals)):
        before, after = totals.get(name), draft.stated_totals.get(name)
        line(REPORT_CATEGORY, None, f"stated_totals.{name}", before, after, _action(before, after))
    by_uid = {r.uid: r for r in draft.records}
    for uid, start in draft.base_records.items():
        record = by_uid.get(uid)
        category = uid.rsplit("-", 1)[0]
        if record is None or record.decision == "rejected":
            line(category, uid, None, _fields(start), None, "rejected")
            continue
        before_fields, after_fields = _fields(start), _fields(record.data)
        for name in sorted(set(before_fields) | set(after_fields)):
            before, after = before_fields.get(name), after_fields.get(name)
            line(category, uid, name, before, after, _action(before, after))
    for record in draft.records:
        if record.uid not in draft.base_records and record.decision != "rejected":
            line(record.category, record.uid, None, None, _fields(record.data), "added")
    return lines


def append_lines(path: Path, lines: list[dict[str, Any]]) -> None:
    """Append ``lines`` to the log in one write, flushed and fsynced (after a newline when
    the log ends with a line cut short, so that the cut line alone is lost)."""
    if not lines:
        return
    payload = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in lines)
    try:
        with path.open("a+", encoding="utf-8", newline="\n") as handle:
            end = handle.seek(0, os.SEEK_END)
            if end and _last_byte(path) != b"\n":
                payload = "\n" + payload
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise InputError(path, f"cannot write the audit log ({exc.strerror or exc})") from exc


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as raw:
        raw.seek(-1, os.SEEK_END)
        return raw.read(1)


def has_snapshot(path: Path, done: str) -> bool:
    """Whether the log holds the lines of snapshot ``done``."""
    return any(item.get("done") == done for item in read_lines(path))


def read_lines(path: Path, problems: list[str] | None = None) -> list[dict[str, Any]]:
    """Every line of the log (none when it does not exist); broken lines are named in
    ``problems`` and skipped."""
    if not path.is_file():
        return []
    out: list[dict[str, Any]] = []
    try:
        raw_lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read the audit log ({exc})") from exc
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError:
            item = None
        if not isinstance(item, dict) or item.get("action") not in ACTIONS:
            if problems is not None:
                problems.append(f"{path}: line {number} is not a correction, skipped")
            continue
        out.append(item)
    return out
