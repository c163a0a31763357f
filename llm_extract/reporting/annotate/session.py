"""The annotation of one output file: what the JSON API does, without HTTP.

A :class:`Workspace` holds the results of an ``extract`` output (one per report id), the
text of each report (found and checked as the review page does,
:func:`llm_extract.sources.texts.report_text`) and the gold folder (:class:`GoldStore`). Every
method answers with plain JSON-ready dicts or raises a typed error
(:class:`~llm_extract.errors.UnknownReport`, :class:`~llm_extract.errors.ReadOnlyReport`,
:class:`~llm_extract.errors.AnnotationConflict`, :class:`~llm_extract.errors.InvalidAnnotation`,
:class:`~llm_extract.errors.InputError` when a file cannot be written).

Version check: every draft carries a version, bumped by each save. A save or "done" names
the version it was made on; another one on the server means another tab or process saved in
between, and the request is refused (:class:`AnnotationConflict`) instead of overwriting it.
A gold file is only written when it is still the one the draft started from (its sha256).
Each change reads, checks and writes under the gold folder's lock (:mod:`.lock`), so the
check holds between processes too: of two requests made on one version, one is accepted.

"Done" writes three files, in this order: the draft with a note of the gold file about to be
written (:class:`~llm_extract.reporting.annotate.drafts.Finishing`: its sha256 and the
snapshot id of its audit lines), the gold file, the audit lines, then the finished draft. A
process killed anywhere in between leaves a draft with that note; whoever reads the report
next finishes the job (the gold file on disk is the one noted: the audit lines are added if
they are missing and the draft marked done) or undoes it (the gold file is not the one
noted: the note is dropped and the draft is as before). A report is never stuck.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from llm_extract.errors import (
    AnnotationConflict,
    GoldError,
    InputError,
    InvalidAnnotation,
    ReadOnlyReport,
    UnknownReport,
)
from llm_extract.evaluation.gold import load_gold_file
from llm_extract.normalize import Period, coalition_period, find_spans
from llm_extract.reporting.annotate import audit
from llm_extract.reporting.annotate.drafts import (
    OFFSETS,
    Draft,
    DraftEdit,
    DraftRecord,
    Finishing,
    apply_edit,
    exact_offsets,
    extraction_of,
    gold_document,
    gold_text,
    now,
    start_draft,
)
from llm_extract.reporting.annotate.store import GoldStore, sha256_bytes, unsafe_id_reason
from llm_extract.reporting.view import span_segments, summarize_record
from llm_extract.results import ExtractionResult
from llm_extract.schemas import RECORD_TYPES, date_warnings
from llm_extract.sources.texts import TEXT_OK, report_text

MAX_QUERY = 500


@dataclass
class Item:
    """One report of the output file and its text (``None`` when missing or changed)."""

    result: ExtractionResult
    text: str | None
    text_state: str
    text_message: str | None

    @property
    def report_id(self) -> str:
        return self.result.report_id


@dataclass
class State:
    """Where a report stands now: its draft (saved, or fresh), or why it is read-only."""

    draft: Draft | None
    read_only: str | None
    notes: list[str]


class Workspace:
    """The reports of one output file being annotated into one gold folder."""

    def __init__(
        self,
        results: Sequence[ExtractionResult],
        store: GoldStore,
        *,
        reports_dirs: Sequence[Path] = (),
        base: Path | None = None,
        skipped_lines: Sequence[str] = (),
        blank: bool = False,
    ) -> None:
        self.store = store
        self.blank = blank
        self.skipped_lines = list(skipped_lines)
        self.items: dict[str, Item] = {}
        for result in results:
            text, state, message = report_text(result, reports_dirs, base)
            self.items[result.report_id] = Item(result, text, state, message)

    # --- reading ----------------------------------------------------------------------------

    def _item(self, report_id: str) -> Item:
        item = self.items.get(report_id)
        if item is None:
            raise UnknownReport(f"no report {report_id!r} in this output file")
        return item

    def _state(self, item: Item) -> State:
        unsafe = unsafe_id_reason(item.report_id)
        if unsafe is not None:
            return State(None, unsafe, [])
        notes: list[str] = []
        try:
            draft = self.store.read_draft(item.report_id)
            if draft is not None and draft.finishing is not None:
                draft = self._settle(item.report_id)
        except InputError as exc:
            return State(None, f"{exc}; start again (X) to drop it", [])
        if draft is not None:
            if draft.source.sha256 != item.result.source.sha256:
                return State(
                    draft,
                    f"the draft {self.store.draft_path(item.report_id)} was made on another "
                    "text of this report (sha256 differs); start again (X) to drop it",
                    [],
                )
            if draft.model != item.result.model:
                notes.append(f"this draft started from the output of model {draft.model}")
        if item.text is None:  # shown, not editable
            shown = draft if draft is not None else self._fresh(item, None).draft
            return State(shown, item.text_message or "the report text is not available", notes)
        if draft is not None:
            if self.store.gold_sha256(item.report_id) != draft.gold_sha256:
                notes.append(
                    "the gold file changed on disk since this draft started; saving it as done "
                    "will be refused (discard the draft to start from the gold file)"
                )
            return State(draft, None, notes)
        return self._fresh(item, item.text)

    def _settle(self, report_id: str) -> Draft | None:
        """The draft after finishing or undoing a "done" that a killed process left half
        made (see the module doc)."""
        with self.store.locked():
            draft = self.store.read_draft(report_id)  # again: another process may have settled it
            if draft is None or draft.finishing is None:
                return draft
            note = draft.finishing
            if self.store.gold_sha256(report_id) != note.gold_sha256:
                undone = draft.model_copy(update={"finishing": None})
                self.store.write_draft(undone)
                return undone
            finished = _finished(draft, note)
            if not audit.has_snapshot(self.store.audit_path, note.done):
                lines = audit.corrections(finished, done=note.done, time=note.time)
                audit.append_lines(self.store.audit_path, lines)
            self.store.write_draft(finished)
            return finished

    def _fresh(self, item: Item, text: str | None) -> State:
        raw = self.store.read_gold(item.report_id)
        if raw is None:
            return State(start_draft(item.result, None, blank=self.blank), None, [])
        path = self.store.gold_path(item.report_id)
        try:
            gold = load_gold_file(path, text)
        except GoldError as exc:
            return State(None, f"the existing gold file does not load: {exc}", [])
        try:
            offsets = exact_offsets(json.loads(raw), text) if text is not None else {}
        except ValueError:
            offsets = {}
        draft = start_draft(item.result, gold, gold_sha256=sha256_bytes(raw), gold_offsets=offsets)
        return State(draft, None, ["started from the existing gold file"])

    def _status(self, item: Item, state: State) -> str:
        if state.read_only is not None:
            return "read_only"
        draft = state.draft
        if draft is not None and draft.version > 0:
            if draft.status == "done" and self.store.gold_sha256(item.report_id) is not None:
                return "done"
            return "in_progress"
        return "done" if draft is not None and draft.base == "gold" else "todo"

    def _entry(self, item: Item, state: State) -> dict[str, Any]:
        records = state.draft.records if state.draft is not None else []
        return {
            "report_id": item.report_id,
            "status": self._status(item, state),
            "reason": state.read_only,
            "records": len(records),
            "pending": sum(r.decision == "pending" for r in records),
            "model": item.result.model,
            "extraction": item.result.status,
        }

    def reports(self) -> dict[str, Any]:
        """``GET /api/reports``: every report with its status, and the progress."""
        entries = [self._entry(item, self._state(item)) for item in self.items.values()]
        statuses = [e["status"] for e in entries]
        return {
            "reports": entries,
            "progress": {
                "total": len(entries),
                **{s: statuses.count(s) for s in ("todo", "in_progress", "done", "read_only")},
            },
            "gold_dir": str(self.store.root),
            "skipped_lines": self.skipped_lines,
        }

    def report(self, report_id: str, *, saved: str | None = None) -> dict[str, Any]:
        """``GET /api/reports/{id}``: the text, the draft and how to draw it."""
        item = self._item(report_id)
        state = self._state(item)
        draft = state.draft
        result = item.result
        payload: dict[str, Any] = {
            "report": self._entry(item, state),
            "read_only": state.read_only is not None,
            "reason": state.read_only,
            "notes": state.notes,
            "text": item.text if item.text_state == TEXT_OK else None,
            "source": result.source.model_dump(mode="json"),
            "model": result.model,
            "extraction_status": result.status,
            "extraction_error": result.error.model_dump(mode="json") if result.error else None,
            "gold_path": str(self.store.root / f"{report_id}.json"),
            "saved": saved,
            "draft": None,
            "segments": [],
            "period": None,
            "flags": [],
        }
        if draft is None:
            return payload
        payload["draft"] = self._draft_payload(draft)
        if draft.coalition_month is not None:
            period = coalition_period(draft.coalition_month)
            payload["period"] = {"start": str(period.start), "end": str(period.end)}
        if item.text is not None and state.read_only is None:
            try:
                payload["flags"] = extraction_of(draft, item.text).flags
            except InvalidAnnotation:
                payload["flags"] = []
            payload["segments"] = self._segments(draft, item.text)
        return payload

    def _draft_payload(self, draft: Draft) -> dict[str, Any]:
        records = []
        period = None if draft.coalition_month is None else coalition_period(draft.coalition_month)
        for record in draft.records:
            base = draft.base_records.get(record.uid)
            records.append(
                {
                    **record.model_dump(),
                    "edited": base is not None and _fields(base) != _fields(record.data),
                    "summary": _summary(record),
                    "warnings": _warnings(record, period),
                }
            )
        return {
            "version": draft.version,
            "status": draft.status,
            "base": draft.base,
            "coalition_month": draft.coalition_month,
            "stated_totals": draft.stated_totals,
            "records": records,
            "base_records": draft.base_records,
            "base_report": draft.base_report,
            "updated_at": draft.updated_at,
            "gold_sha256": draft.gold_sha256,
        }

    @staticmethod
    def _segments(draft: Draft, text: str) -> list[list[Any]]:
        spans = []
        for record in draft.records:
            start, end = record.data.get("evidence_start"), record.data.get("evidence_end")
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
                spans.append((start, end, record.uid))
        return [[text[a:b], uids] for a, b, uids in span_segments(len(text), spans)]

    def find(self, report_id: str, query: str) -> dict[str, Any]:
        """``GET /api/reports/{id}/find?q=``: where ``query`` occurs (normalised match)."""
        item = self._item(report_id)
        if item.text is None:
            return {"matches": []}
        spans = find_spans(item.text, query[:MAX_QUERY])
        return {"matches": [list(span) for span in spans]}

    # --- writing ----------------------------------------------------------------------------

    def _editable(self, report_id: str, body: Any) -> tuple[Item, Draft, str]:
        """The report's draft if it may be changed by a request made on ``body["version"]``
        (and, when the page sends it, ``body["gold_sha256"]``: the gold file it was shown)."""
        version = body.get("version") if isinstance(body, dict) else None
        item = self._item(report_id)
        state = self._state(item)
        if state.read_only is not None or state.draft is None or item.text is None:
            raise ReadOnlyReport(f"{report_id} is read-only: {state.read_only}")
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidAnnotation(
                "version: expected the draft version the page has",
                [_plain_error("version", "expected an integer")],
            )
        if version != state.draft.version:
            raise AnnotationConflict(
                f"{report_id} was saved from another tab or window since this page loaded it "
                f"(version {state.draft.version} on the server, {version} here); reload the "
                "report to continue from the saved state (changes made here were not saved)"
            )
        shown = body.get("gold_sha256", state.draft.gold_sha256)
        if shown != state.draft.gold_sha256:
            raise AnnotationConflict(
                f"{self.store.gold_path(report_id)} changed on disk since this page loaded "
                "it; reload the report (changes made here were not saved)"
            )
        return item, state.draft, item.text

    def save(self, report_id: str, body: Any) -> dict[str, Any]:
        """``PUT /api/reports/{id}/draft``: validate and keep the whole draft."""
        try:
            edit = DraftEdit.model_validate(body)
        except ValidationError as exc:
            raise InvalidAnnotation(
                "the request is not a draft", [_edit_error(e) for e in exc.errors()]
            ) from exc
        with self.store.locked():
            _, draft, text = self._editable(report_id, body)
            changed = apply_edit(draft, edit, text)
            saved = changed.model_copy(
                update={"version": draft.version + 1, "status": "in_progress", "updated_at": now()}
            )
            self.store.write_draft(saved)
        return self.report(report_id)

    def done(self, report_id: str, body: Any) -> dict[str, Any]:
        """``POST /api/reports/{id}/done``: write the gold file and log the corrections."""
        with self.store.locked():
            path = self._done(report_id, body)
        return self.report(report_id, saved=str(path))

    def _done(self, report_id: str, body: Any) -> Path:
        item, draft, text = self._editable(report_id, body)
        pending = draft.pending()
        if pending:
            raise InvalidAnnotation(
                f"{len(pending)} record(s) not reviewed yet: accept or reject each first",
                [
                    {
                        "index": None,
                        "uid": r.uid,
                        "category": r.category,
                        "path": "",
                        "message": "not reviewed",
                    }
                    for r in pending
                ],
            )
        current = self.store.gold_sha256(report_id)
        if current != draft.gold_sha256:
            raise AnnotationConflict(
                f"{self.store.gold_path(report_id)} changed on disk since this draft started "
                "(edited by hand, or saved by another annotate); it was not overwritten. "
                "Discard the draft to start again from that file"
            )
        time = now()
        document = gold_text(gold_document(draft, text, item.result, saved_at=time))
        note = Finishing(
            gold_sha256=sha256_bytes(document.encode("utf-8")),
            done=f"{time}/{uuid.uuid4().hex[:8]}",
            time=time,
        )
        finished = _finished(draft, note)
        lines = audit.corrections(finished, done=note.done, time=time)
        self.store.write_draft(draft.model_copy(update={"finishing": note}))
        try:
            path = self.store.write_gold(report_id, document)
        except InputError:
            self.store.write_draft(draft)  # nothing was written: as before
            raise
        audit.append_lines(self.store.audit_path, lines)
        self.store.write_draft(finished)
        return path

    def discard(self, report_id: str, body: Any) -> dict[str, Any]:
        """``DELETE /api/reports/{id}/draft``: drop the draft, start again from the gold file
        (or the model's output). The version check applies."""
        item = self._item(report_id)
        version = body.get("version") if isinstance(body, dict) else None
        if unsafe_id_reason(item.report_id) is not None:
            raise ReadOnlyReport(f"{report_id} is read-only: {unsafe_id_reason(report_id)}")
        with self.store.locked():
            try:
                draft = self.store.read_draft(report_id)
                if draft is not None and draft.finishing is not None:
                    draft = self._settle(report_id)
            except InputError:
                draft = None  # a broken draft may always be discarded
            if draft is not None and version != draft.version:
                raise AnnotationConflict(
                    f"{report_id} was saved from another tab or window since this page loaded "
                    "it; reload before discarding"
                )
            self.store.delete_draft(report_id)
        return self.report(report_id)


def _finished(draft: Draft, note: Finishing) -> Draft:
    """``draft`` once its gold file (``note``) is written."""
    return draft.model_copy(
        update={
            "version": draft.version + 1,
            "status": "done",
            "gold_sha256": note.gold_sha256,
            "updated_at": note.time,
            "finishing": None,
        }
    )


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in OFFSETS}


def _summary(record: DraftRecord) -> list[str]:
    try:
        model = RECORD_TYPES[record.category].model_validate(_fields(record.data))
    except ValidationError:
        return []
    return summarize_record(model)


def _warnings(record: DraftRecord, period: Period | None) -> list[dict[str, str]]:
    """What the analyst should look at twice, on the field it concerns (a date outside the
    report's period): shown, never changed."""
    if period is None:
        return []
    try:
        model = RECORD_TYPES[record.category].model_validate(_fields(record.data))
    except ValidationError:
        return []
    return [{"path": path, "message": message} for path, message in date_warnings(model, period)]


def _plain_error(path: str, message: str) -> dict[str, Any]:
    return {"index": None, "uid": None, "category": None, "path": path, "message": message}


def _edit_error(error: Any) -> dict[str, Any]:
    loc = list(error["loc"])
    message = str(error["msg"])
    if len(loc) >= 2 and loc[0] == "records" and isinstance(loc[1], int):
        path = ".".join(str(p) for p in loc[2:])
        return {"index": loc[1], "uid": None, "category": None, "path": path, "message": message}
    return _plain_error(".".join(str(p) for p in loc), message)
