"""A report being annotated: the draft (its records, decisions and report-level fields), how a
draft starts, how an edit is validated, and the gold document it becomes. No I/O.

A draft starts from the existing gold file when there is one, else from the model's output.
Each record keeps a stable ``uid`` (``<category>-<index>`` for the records it started with,
``added-<n>`` for records the analyst added), its ``origin`` (``model``, ``gold`` or
``added``), the analyst's ``decision`` (``pending``, ``accepted`` or ``rejected``) and its
``data``: one record of :mod:`llm_extract.schemas`, evidence offsets included. The values it
started from (``base_records``, ``base_report``) stay in the draft, so the corrections can
be told from it alone.

Every edit is validated by the pipeline's own models: the records that are not rejected
form a :class:`~llm_extract.schemas.ReportExtraction` validated with the report text as
context (so each evidence is grounded; a date is kept as the analyst gave it, and one outside
the report's period is flagged, not moved), and a rejected record is validated on its own.
Nothing invalid is ever kept.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llm_extract.errors import InvalidAnnotation
from llm_extract.evaluation.gold import ANNOTATION_KEY
from llm_extract.results import ExtractionResult, SourceInfo
from llm_extract.schemas import CATEGORIES, RECORD_TYPES, ReportExtraction, StatedTotals

Decision = Literal["pending", "accepted", "rejected"]
Origin = Literal["model", "gold", "added"]
Base = Literal["model", "gold", "blank"]
OFFSETS = ("evidence_start", "evidence_end")
_ADDED = re.compile(r"added-(\d{1,6})")
TOOL = "llm-extract annotate"


class DraftRecord(BaseModel):
    """One record of a draft."""

    model_config = ConfigDict(extra="forbid")

    uid: str
    category: Literal["convoys", "drills", "strikes", "arrests"]
    origin: Origin
    decision: Decision = "pending"
    data: dict[str, Any]


class Finishing(BaseModel):
    """A "done" under way: written into the draft before the gold file, so that a process
    killed between the gold file and the draft leaves enough to finish the job (see
    :meth:`llm_extract.reporting.annotate.session.Workspace.done`)."""

    model_config = ConfigDict(extra="forbid")

    gold_sha256: str  # of the gold file being written
    done: str  # the snapshot id of its audit lines
    time: str


class Draft(BaseModel):
    """The saved state of one report's annotation (``.annotate/drafts/<id>.json``)."""

    model_config = ConfigDict(extra="forbid")

    report_id: str
    version: int = Field(default=0, ge=0)
    status: Literal["in_progress", "done"] = "in_progress"
    base: Base
    model: str | None = None
    source: SourceInfo
    gold_sha256: str | None = None
    coalition_month: int | None = None
    stated_totals: dict[str, int | None] = Field(default_factory=dict)
    records: list[DraftRecord] = Field(default_factory=list)
    base_report: dict[str, Any] = Field(default_factory=dict)
    base_records: dict[str, dict[str, Any]] = Field(default_factory=dict)
    updated_at: str | None = None
    finishing: Finishing | None = None

    def pending(self) -> list[DraftRecord]:
        return [r for r in self.records if r.decision == "pending"]


class RecordEdit(BaseModel):
    """One record as the page sends it (``uid`` null for a record being added)."""

    model_config = ConfigDict(extra="forbid")

    uid: str | None = None
    category: Literal["convoys", "drills", "strikes", "arrests"]
    decision: Decision = "pending"
    data: dict[str, Any]


class DraftEdit(BaseModel):
    """The body of ``PUT /api/reports/{id}/draft``: the whole draft as the page has it."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=0)
    gold_sha256: str | None = None  # checked when given: the gold file the page was shown
    coalition_month: Any = None
    stated_totals: dict[str, Any] = Field(default_factory=dict)
    records: list[RecordEdit] = Field(default_factory=list)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _record_data(record: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = record.model_dump(mode="json")
    return data


def _report_fields(extraction: ReportExtraction | None) -> dict[str, Any]:
    if extraction is None:
        return {"coalition_month": None, "stated_totals": StatedTotals().model_dump()}
    return {
        "coalition_month": extraction.coalition_month,
        "stated_totals": extraction.stated_totals.model_dump(mode="json"),
    }


def start_draft(
    result: ExtractionResult,
    gold: ReportExtraction | None,
    *,
    gold_sha256: str | None = None,
    gold_offsets: dict[str, tuple[int, int]] | None = None,
    blank: bool = False,
) -> Draft:
    """A fresh draft: from the gold file when there is one (its records accepted), else from
    the model's records (pending), or from no record at all with ``blank``. ``gold_offsets``
    restores the exact spans a gold file recorded (the loader grounds each evidence at its
    first occurrence)."""
    start: ReportExtraction | None = None
    base: Base = "blank"
    if gold is not None:
        start, base = gold, "gold"
    elif not blank:
        start, base = (result.extraction if result.status == "ok" else None), "model"
    origin: Origin = "gold" if gold is not None else "model"
    decision: Decision = "accepted" if gold is not None else "pending"
    records: list[DraftRecord] = []
    if start is not None:
        for category in CATEGORIES:
            for index, record in enumerate(start.records(category)):
                uid = f"{category}-{index}"
                data = _record_data(record)
                if gold_offsets and uid in gold_offsets:
                    data["evidence_start"], data["evidence_end"] = gold_offsets[uid]
                records.append(
                    DraftRecord(
                        uid=uid, category=category, origin=origin, decision=decision, data=data
                    )
                )
    fields = _report_fields(start)
    return Draft(
        report_id=result.report_id,
        base=base,
        model=result.model,
        source=result.source,
        gold_sha256=gold_sha256,
        coalition_month=fields["coalition_month"],
        stated_totals=fields["stated_totals"],
        records=records,
        base_report=fields,
        base_records={r.uid: dict(r.data) for r in records},
    )


def exact_offsets(raw: Any, text: str) -> dict[str, tuple[int, int]]:
    """``uid -> (start, end)`` for each record of a raw gold document whose stored offsets
    point at its evidence exactly."""
    out: dict[str, tuple[int, int]] = {}
    if not isinstance(raw, dict):
        return out
    for category in CATEGORIES:
        items = raw.get(category)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            span = _stored_span(item, text)
            if span is not None:
                out[f"{category}-{index}"] = span
    return out


def _stored_span(item: Any, text: str) -> tuple[int, int] | None:
    if not isinstance(item, dict):
        return None
    start, end, evidence = (
        item.get("evidence_start"),
        item.get("evidence_end"),
        item.get("evidence"),
    )
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(evidence, str)):
        return None
    if 0 <= start < end <= len(text) and text[start:end] == evidence:
        return start, end
    return None


# --- validation -----------------------------------------------------------------------------


def _error(
    message: str,
    path: str,
    *,
    index: int | None = None,
    uid: str | None = None,
    category: str | None = None,
) -> dict[str, Any]:
    return {"index": index, "uid": uid, "category": category, "path": path, "message": message}


def _loc(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def _message(error: Any) -> str:
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _record_path(message: str, loc: Sequence[int | str]) -> str:
    """The field an error belongs to; a record-level grounding error belongs to evidence."""
    if loc:
        return _loc(loc)
    return "evidence" if message.startswith("evidence ") else ""


def _assign_uids(draft: Draft, edit: DraftEdit) -> list[str]:
    """The uid of each edited record (new ones numbered after the draft's); checks that no
    record the draft started with was dropped or duplicated (reject it instead)."""
    known = {r.uid: r for r in draft.records}
    used = [int(m.group(1)) for r in draft.records if (m := _ADDED.fullmatch(r.uid))]
    counter = max(used, default=0)
    seen: set[str] = set()
    uids: list[str] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(edit.records):
        if item.uid is None:
            counter += 1
            uids.append(f"added-{counter}")
            continue
        record = known.get(item.uid)
        if record is None or item.uid in seen:
            problems.append(_error("unknown or repeated record id", "uid", index=index))
        elif record.category != item.category:
            problems.append(_error("a record cannot change category", "category", index=index))
        seen.add(item.uid)
        uids.append(item.uid)
    missing = [uid for uid in draft.base_records if uid not in seen]
    for uid in missing:
        problems.append(_error("record missing from the draft: reject it instead", "", uid=uid))
    if problems:
        raise InvalidAnnotation("the draft does not match the saved one", problems)
    return uids


def apply_edit(draft: Draft, edit: DraftEdit, text: str) -> Draft:
    """The draft after ``edit``, validated against the report ``text``.

    Raises :class:`InvalidAnnotation` with every failing field (``index`` and ``uid`` of the
    record, ``path`` of the field, ``message``) when anything is invalid; the draft itself
    is not changed.
    """
    uids = _assign_uids(draft, edit)
    kept = [i for i, item in enumerate(edit.records) if item.decision != "rejected"]
    document: dict[str, Any] = {
        "coalition_month": edit.coalition_month,
        "stated_totals": edit.stated_totals,
    }
    positions: dict[tuple[str, int], int] = {}  # (category, place in the extraction) -> index
    for category in CATEGORIES:
        members = [i for i in kept if edit.records[i].category == category]
        document[category] = [_strip(edit.records[i].data) for i in members]
        for at, i in enumerate(members):
            positions[(category, at)] = i
    places = {i: key for key, i in positions.items()}
    errors: list[dict[str, Any]] = []
    extraction: ReportExtraction | None = None
    context = _context(draft, text)
    try:
        extraction = ReportExtraction.model_validate(document, context=context)
    except ValidationError as exc:
        for error in exc.errors():
            loc = list(error["loc"])
            message = _message(error)
            if len(loc) >= 2 and loc[0] in CATEGORIES and isinstance(loc[1], int):
                slot = positions.get((str(loc[0]), loc[1]))
                errors.append(
                    _error(
                        message,
                        _record_path(message, loc[2:]),
                        index=slot,
                        uid=uids[slot] if slot is not None else None,
                        category=str(loc[0]),
                    )
                )
            else:
                errors.append(_error(message, _loc(loc) or "(report)"))
    rejected: dict[int, dict[str, Any]] = {}
    for i, item in enumerate(edit.records):
        if item.decision != "rejected":
            continue
        try:
            record = RECORD_TYPES[item.category].model_validate(
                _strip(item.data), context={"source": text, "published": draft.source.published}
            )
            rejected[i] = _record_data(record)
        except ValidationError as exc:
            for error in exc.errors():
                message = _message(error)
                path = _record_path(message, list(error["loc"]))
                errors.append(_error(message, path, index=i, uid=uids[i], category=item.category))
    if errors or extraction is None:
        raise InvalidAnnotation(_summary(errors), errors)
    records: list[DraftRecord] = []
    known = {r.uid: r for r in draft.records}
    for i, item in enumerate(edit.records):
        if i in rejected:
            data = rejected[i]
        else:
            category, at = places[i]
            data = _record_data(extraction.records(category)[at])
        span = _stored_span({**item.data, "evidence": data["evidence"]}, text)
        if span is not None:  # the analyst's exact selection, not the first occurrence
            data["evidence_start"], data["evidence_end"] = span
        previous = known.get(uids[i])
        origin: Origin = previous.origin if previous is not None else "added"
        records.append(
            DraftRecord(
                uid=uids[i],
                category=item.category,
                origin=origin,
                decision=item.decision,
                data=data,
            )
        )
    return draft.model_copy(
        update={
            "coalition_month": extraction.coalition_month,
            "stated_totals": extraction.stated_totals.model_dump(mode="json"),
            "records": _ordered(records),
        }
    )


def _strip(data: dict[str, Any]) -> dict[str, Any]:
    """A record's fields without its offsets (validation recomputes them)."""
    return {k: v for k, v in data.items() if k not in OFFSETS}


def _ordered(records: list[DraftRecord]) -> list[DraftRecord]:
    """Category order of the data contract; within a category, the order they came in."""
    return sorted(records, key=lambda r: CATEGORIES.index(r.category))


def _summary(errors: list[dict[str, Any]]) -> str:
    first = errors[0] if errors else {"path": "", "message": "invalid"}
    where = ".".join(str(p) for p in (first.get("category"), first["path"]) if p)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['message']}{more}" if where else f"{first['message']}{more}"


# --- gold -----------------------------------------------------------------------------------


def _context(draft: Draft, text: str) -> dict[str, Any]:
    """What an edit is validated with: the text, the id and the publication date that anchors
    yearless and relative dates (the pipeline's own context), and ``keep_dates``: a date the
    analyst gave is kept as given (a ``date_text`` only fills an empty one)."""
    return {
        "source": text,
        "report_id": draft.report_id,
        "published": draft.source.published,
        "keep_dates": True,
    }


def extraction_of(draft: Draft, text: str) -> ReportExtraction:
    """The draft's records that are not rejected, as a validated extraction of ``text``."""
    document: dict[str, Any] = {
        "coalition_month": draft.coalition_month,
        "stated_totals": draft.stated_totals,
    }
    for category in CATEGORIES:
        document[category] = [
            _strip(r.data)
            for r in draft.records
            if r.category == category and r.decision != "rejected"
        ]
    try:
        return ReportExtraction.model_validate(document, context=_context(draft, text))
    except ValidationError as exc:
        errors = [_error(_message(e), _loc(e["loc"])) for e in exc.errors()]
        raise InvalidAnnotation(_summary(errors), errors) from exc


def gold_document(
    draft: Draft, text: str, result: ExtractionResult, *, saved_at: str
) -> dict[str, Any]:
    """The gold file of a finished draft: a :class:`ReportExtraction` the gold loader
    accepts, the exact evidence offsets, and where it came from under ``annotation``."""
    extraction = extraction_of(draft, text)
    document: dict[str, Any] = extraction.model_dump(mode="json", exclude={"period", "flags"})
    for category in CATEGORIES:
        kept = [r for r in draft.records if r.category == category and r.decision != "rejected"]
        for record, data in zip(kept, document[category], strict=True):
            span = _stored_span(record.data, text)
            if span is not None:
                data["evidence_start"], data["evidence_end"] = span
    document[ANNOTATION_KEY] = {
        "tool": TOOL,
        "source": result.source.model_dump(mode="json", exclude_none=True),
        "model": result.model,
        "prompt": result.prompt.model_dump(),
        "started_from": draft.base,
        "saved_at": saved_at,
    }
    return document


def gold_text(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
