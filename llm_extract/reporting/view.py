"""The review page: one self-contained HTML file (no network) for checking extractions.

Each report's text is shown right to left with the evidence of every record highlighted in
its category's colour (``<mark data-kind="pred">``, one per record; a span that crosses
another is split and its later parts carry the class ``cont``). A side table lists the
records; clicking a row scrolls the text to its span. With gold files, predicted records are
matched to gold records with :mod:`llm_extract.evaluation.matching` and marked matched,
``wrong`` (matched, but a field differs from the gold: the field comparison of
:func:`llm_extract.evaluation.fields.field_verdicts`, the one ``score`` counts) or spurious,
and missed gold records are listed and outlined in the text (``data-kind="gold"``). Each
record's details list its fields, the model's and the gold's values side by side, each value
in its own direction (``dir="auto"``: Arabic right to left).

The report text is not in the JSONL: it comes from the text store (the text of a web page,
PDF or stdin is kept there when it is read), else from ``source.path`` (or ``--reports
DIR``), and is used only if its sha256 is the one recorded at extraction; otherwise the
records are shown without highlights and the page says why
(:func:`llm_extract.sources.texts.report_text`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment
from markupsafe import Markup, escape

from llm_extract.errors import InputError
from llm_extract.evaluation.gold import GOLD_SUFFIX, load_gold_file
from llm_extract.normalize import find_span
from llm_extract.outputs import SNIFFERS, refuse_foreign, write_text
from llm_extract.paths import child_path
from llm_extract.results import ExtractionResult
from llm_extract.schemas import (
    CATEGORIES,
    Arrest,
    Casualty,
    Convoy,
    Drill,
    Grounded,
    ReportExtraction,
    Strike,
    Target,
    strip_controls,
)
from llm_extract.sources.texts import TEXT_OK, report_text

CATEGORY_COLOURS: dict[str, str] = {
    "convoys": "#8ec5ff",
    "drills": "#9be3a6",
    "strikes": "#ff9f9f",
    "arrests": "#f7c873",
}
_Item = TypeVar("_Item")


@dataclass(frozen=True)
class FieldRow:
    """One field of a record's details: the model's value and, for a gold record or a matched
    pair, the gold's (each a list of parts, shown one by one in their own direction)."""

    name: str
    model: list[str] | None
    gold: list[str] | None
    #: "" (not scored), "correct", "wrong", "fabricated" (no gold value) or "absent"
    verdict: str = ""


@dataclass
class ViewRecord:
    """One row of a report's record table (a prediction, or a gold record that was missed)."""

    rid: str
    category: str
    index: int
    kind: str  # "pred" or "gold"
    status: str  # "unscored", "matched", "wrong" (matched, some field wrong), "spurious", "missed"
    summary: list[str]
    evidence: str
    fields: list[FieldRow]
    start: int | None = None
    end: int | None = None
    similarity: float | None = None

    @property
    def wrong_fields(self) -> list[str]:
        """The fields the model got wrong, or filled where the gold has nothing."""
        return [f.name for f in self.fields if f.verdict in {"wrong", "fabricated"}]


@dataclass
class ViewReport:
    """Everything the page shows for one report."""

    number: int
    report_id: str
    status: str
    error: str | None
    source_path: str
    coalition_month: int | None
    period: str | None
    text_state: str  # "ok", "missing", "changed", "failed"
    text_message: str | None
    body: Markup
    records: list[ViewRecord]
    flags: list[str]
    dropped: list[str]
    gold: str  # "none" (no --gold), "absent" (no gold file), "ok"
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def n_pred(self) -> int:
        return sum(r.kind == "pred" for r in self.records)

    @property
    def n_highlighted(self) -> int:
        return sum(r.kind == "pred" and r.start is not None for r in self.records)

    def n_status(self, status: str) -> int:
        return sum(r.status == status for r in self.records)


# --- report text ----------------------------------------------------------------------------


def load_text(
    result: ExtractionResult, reports_dirs: Sequence[Path] = (), base: Path | None = None
) -> tuple[str | None, str, str | None]:
    """``(text, state, message)``: the report text if it is the one that was extracted
    (:func:`llm_extract.sources.texts.report_text`)."""
    return report_text(result, reports_dirs, base)


# --- record summaries -----------------------------------------------------------------------


def _d(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def _n(number: int | None, approximate: bool = False, at_least: bool = False) -> str:
    if number is None:
        return "?"
    return f"{'≥' if at_least else '~' if approximate else ''}{number}"


def summarize_record(record: Grounded) -> list[str]:
    """The parts of a one-line description of a record for the side table."""
    parts: list[str] = []
    if isinstance(record, Convoy):
        unit = "vehicles" if record.mode.value == "ground" else "aircraft"
        parts = [
            record.mode.value,
            f"{_n(record.vehicles, record.approximate, record.at_least)} {unit}",
            f"{record.batches} batches" if record.batches is not None else "",
            ", ".join(d.isoformat() for d in record.dates),
        ]
    elif isinstance(record, Drill):
        parts = [
            _d(record.date),
            record.location or "",
            f"×{record.count}" if record.count != 1 else "",
            "live fire" if record.live_fire else "",
        ]
    elif isinstance(record, Strike):
        killed = sum(c.killed or 0 for c in record.casualties)
        parts = [
            _d(record.date),
            record.kind.value,
            f"×{record.count}" if record.count is not None else "",
            record.attacker.value if record.attacker else "",
            record.location or "",
            ", ".join(f"{t.name} {t.count or ''}".strip() for t in record.targets),
            f"{killed} killed" if killed else "",
        ]
    elif isinstance(record, Arrest):
        parts = [
            _d(record.date),
            record.location or "",
            f"{record.operations} ops" if record.operations is not None else "",
            f"{record.detained} detained" if record.detained is not None else "",
            f"{record.killed} killed" if record.killed else "",
        ]
    return [p for p in parts if p]


_NOT_SHOWN = frozenset({"evidence", "evidence_start", "evidence_end"})


def value_parts(value: object) -> list[str]:
    """A field's value as the parts the page shows (one per list element); none for null."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [part for item in value for part in value_parts(item)]
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, Enum):
        return [str(value.value)]
    if isinstance(value, dt.date):
        return [value.isoformat()]
    if isinstance(value, Target):
        return [value.name if value.count is None else f"{value.name} ×{value.count}"]
    if isinstance(value, Casualty):
        numbers = [
            f"{n} {word}"
            for n, word in ((value.killed, "killed"), (value.injured, "injured"))
            if n is not None
        ]
        return [f"{value.party.value}: {', '.join(numbers) or value.note or '?'}"]
    return [str(value)]


def _fields(record: Grounded, kind: str) -> list[FieldRow]:
    """The fields of a lone record (a prediction without gold, or a missed gold record)."""
    rows: list[FieldRow] = []
    for name in type(record).model_fields:
        if name in _NOT_SHOWN:
            continue
        parts = value_parts(getattr(record, name))
        model, gold = (parts, None) if kind == "pred" else (None, parts)
        rows.append(FieldRow(name, model, gold))
    return rows


def _pair_fields(pred: Grounded, gold: Grounded) -> list[FieldRow]:
    """The fields of a matched pair, side by side, with the verdict ``score`` counts."""
    from llm_extract.evaluation.fields import field_verdicts  # with --gold only

    return [
        FieldRow(v.name, value_parts(v.pred), value_parts(v.gold), v.verdict)
        for v in field_verdicts(pred, gold)
    ]


def _offsets(record: Grounded, text: str | None) -> tuple[int | None, int | None]:
    if text is None:
        return None, None
    start, end = record.evidence_start, record.evidence_end
    if start is None or end is None:
        span = find_span(text, record.evidence)
        if span is None:
            return None, None
        start, end = span
    if not 0 <= start < end <= len(text):
        return None, None
    return start, end


# --- highlighting ---------------------------------------------------------------------------


def span_segments(
    length: int, spans: Sequence[tuple[int, int, _Item]]
) -> list[tuple[int, int, list[_Item]]]:
    """Cut ``[0, length)`` at every span boundary: ``(start, end, items)`` for each piece,
    with the items whose span covers it, outer spans first (earlier start, later end; ties
    keep the order of ``spans``). The review page and the annotation app both draw from it."""
    ordered = sorted(spans, key=lambda x: (x[0], -x[1]))
    bounds = sorted({0, length, *(s for s, _, _ in ordered), *(e for _, e, _ in ordered)})
    return [
        (a, b, [item for s, e, item in ordered if s <= a and e >= b]) for a, b in pairwise(bounds)
    ]


def highlight(text: str, records: Sequence[ViewRecord]) -> Markup:
    """``text`` as HTML with one ``<mark>`` per record span (split where spans cross)."""
    spans = [(r.start, r.end, r) for r in records if r.start is not None and r.end is not None]
    # A gold span encloses an equal prediction.
    spans.sort(key=lambda x: (x[2].kind != "gold", x[2].rid))
    out: list[str] = []
    stack: list[ViewRecord] = []
    opened: set[str] = set()
    for a, b, active in span_segments(len(text), spans):
        keep = 0
        while keep < min(len(stack), len(active)) and stack[keep] is active[keep]:
            keep += 1
        out.extend("</mark>" for _ in stack[keep:])
        stack = stack[:keep]
        for record in active[keep:]:
            out.append(_open_mark(record, continued=record.rid in opened))
            opened.add(record.rid)
            stack.append(record)
        out.append(str(escape(text[a:b])))
    out.extend("</mark>" for _ in stack)
    return Markup("".join(out))


def _open_mark(record: ViewRecord, *, continued: bool) -> str:
    classes = f"hl cat-{record.category} st-{record.status} k-{record.kind}"
    if continued:
        classes += " cont"
    return (
        f'<mark class="{classes}" data-rid="{escape(record.rid)}" data-kind="{record.kind}" '
        f'data-category="{record.category}" data-status="{record.status}">'
    )


# --- building the page ----------------------------------------------------------------------


def _records(
    number: int,
    extraction: ReportExtraction | None,
    gold: ReportExtraction | None,
    text: str | None,
) -> list[ViewRecord]:
    rows: list[ViewRecord] = []
    for category in CATEGORIES:
        predicted = extraction.records(category) if extraction is not None else []
        statuses = ["unscored"] * len(predicted)
        similarity: dict[int, float] = {}
        fields = [_fields(record, "pred") for record in predicted]
        missed: list[int] = []
        truth = gold.records(category) if gold is not None else []
        if gold is not None:
            from llm_extract.evaluation.matching import match_records  # scipy: with --gold only

            matching = match_records(category, predicted, truth)
            for pair in matching.pairs:
                fields[pair.pred] = _pair_fields(predicted[pair.pred], truth[pair.gold])
                wrong = any(f.verdict in {"wrong", "fabricated"} for f in fields[pair.pred])
                statuses[pair.pred] = "wrong" if wrong else "matched"
                similarity[pair.pred] = pair.similarity
            for index in matching.spurious:
                statuses[index] = "spurious"
            missed = matching.missed
        for index, record in enumerate(predicted):
            start, end = _offsets(record, text)
            rows.append(
                ViewRecord(
                    rid=f"r{number}-{category}-{index}",
                    category=category,
                    index=index,
                    kind="pred",
                    status=statuses[index],
                    summary=summarize_record(record),
                    evidence=record.evidence,
                    fields=fields[index],
                    start=start,
                    end=end,
                    similarity=similarity.get(index),
                )
            )
        for index in missed:
            record = truth[index]
            start, end = _offsets(record, text)
            rows.append(
                ViewRecord(
                    rid=f"r{number}-gold-{category}-{index}",
                    category=category,
                    index=index,
                    kind="gold",
                    status="missed",
                    summary=summarize_record(record),
                    evidence=record.evidence,
                    fields=_fields(record, "gold"),
                    start=start,
                    end=end,
                )
            )
    return rows


def build_report(
    number: int,
    result: ExtractionResult,
    *,
    gold_dir: Path | None = None,
    reports_dirs: Sequence[Path] = (),
    base: Path | None = None,
) -> ViewReport:
    """The view of one result: its text (if unchanged), records, gold statuses and warnings."""
    text, state, message = load_text(result, reports_dirs, base)
    extraction = result.extraction if result.status == "ok" else None
    gold: ReportExtraction | None = None
    gold_state = "none"
    if gold_dir is not None:
        gold_path = child_path(gold_dir, result.report_id, GOLD_SUFFIX, what="report id")
        gold_state = "absent"
        if gold_path.is_file():
            gold = load_gold_file(gold_path, text)
            gold_state = "ok"
    records = _records(number, extraction, gold, text)
    period = extraction.period if extraction is not None else None
    counts = {c: sum(r.category == c and r.kind == "pred" for r in records) for c in CATEGORIES}
    return ViewReport(
        number=number,
        report_id=result.report_id,
        status=result.status,
        error=f"{result.error.kind}: {result.error.message}" if result.error else None,
        source_path=result.source.path,
        coalition_month=extraction.coalition_month if extraction is not None else None,
        period=f"{period.start} – {period.end}" if period is not None else None,
        text_state=state,
        text_message=message,
        body=highlight(text, records) if text is not None else Markup(""),
        records=records,
        flags=list(extraction.flags) if extraction is not None else [],
        dropped=[f"{d.category}: {d.reason}" for d in result.dropped],
        gold=gold_state,
        counts=counts,
    )


def build_view(
    results: Sequence[ExtractionResult],
    *,
    gold_dir: str | Path | None = None,
    reports_dirs: Sequence[str | Path] = (),
    base: str | Path | None = None,
) -> list[ViewReport]:
    """One :class:`ViewReport` per result, in file order.

    Report texts are looked up in ``reports_dirs`` (by file name, then ``<id>.txt``) when
    given, else at ``source.path`` (as written, then relative to ``base``).
    """
    gold = Path(gold_dir) if gold_dir is not None else None
    if gold is not None and not gold.is_dir():
        raise InputError(gold, "gold folder not found")
    reports = [Path(d) for d in reports_dirs]
    for folder in reports:
        if not folder.is_dir():
            raise InputError(folder, "reports folder not found")
    where = Path(base) if base is not None else None
    return [
        build_report(n, r, gold_dir=gold, reports_dirs=reports, base=where)
        for n, r in enumerate(results)
    ]


def _template() -> str:
    return (
        resources.files("llm_extract.reporting")
        .joinpath("templates/review.html.j2")
        .read_text("utf-8")
    )


def _without_controls(value: Any) -> Any:
    """Every value printed into the page, without control characters (NUL, ESC...)."""
    if isinstance(value, Markup):
        return Markup(strip_controls(str(value)))
    return strip_controls(value) if isinstance(value, str) else value


def render_html(reports: Sequence[ViewReport], *, title: str, scored: bool) -> str:
    """The page's HTML (inline CSS and JS, no external resource)."""
    env = Environment(
        autoescape=True, trim_blocks=True, lstrip_blocks=True, finalize=_without_controls
    )
    template = env.from_string(_template())
    context: dict[str, Any] = {
        "title": title,
        "reports": reports,
        "scored": scored,
        "categories": CATEGORIES,
        "colours": CATEGORY_COLOURS,
        "totals": {
            "reports": len(reports),
            "failed": sum(r.status != "ok" for r in reports),
            "records": sum(r.n_pred for r in reports),
            "highlighted": sum(r.n_highlighted for r in reports),
            "no_text": sum(r.text_state != TEXT_OK for r in reports),
            "matched": sum(r.n_status("matched") for r in reports),
            "wrong": sum(r.n_status("wrong") for r in reports),
            "spurious": sum(r.n_status("spurious") for r in reports),
            "missed": sum(r.n_status("missed") for r in reports),
        },
    }
    return template.render(**context)


def write_view(
    results: Sequence[ExtractionResult],
    out: str | Path,
    *,
    gold_dir: str | Path | None = None,
    reports_dirs: Sequence[str | Path] = (),
    base: str | Path | None = None,
    title: str = "llm-extract review",
    force: bool = False,
) -> tuple[Path, list[ViewReport]]:
    """Build and write the review page; returns its path and the reports shown. An existing
    file that is not an HTML page is not replaced unless ``force``."""
    target = Path(out)
    refuse_foreign(target, "an HTML page", SNIFFERS["html"], force=force)
    reports = build_view(results, gold_dir=gold_dir, reports_dirs=reports_dirs, base=base)
    html = render_html(reports, title=title, scored=gold_dir is not None)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text(target, html)
    except OSError as exc:
        raise InputError(target, f"cannot write the page ({exc.strerror or exc})") from exc
    return target, reports
