"""A self-contained HTML page for one saved run (no scripts, no external files).

It holds the results table, the paired comparisons and their verdicts, an inline SVG chart of
F1 per category per configuration, and per report the gold and predicted records side by side
with missed and spurious records marked. Arabic values are laid out right to left.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from llm_extract.errors import UsageError
from llm_extract.evaluation.fields import SKIPPED_FIELDS, is_absent
from llm_extract.evaluation.metrics import OVERALL
from llm_extract.evaluation.runs import HTML_FILE, Run
from llm_extract.evaluation.tables import cost, fmt, pct, signed
from llm_extract.outputs import write_text
from llm_extract.schemas import CATEGORIES, RECORD_TYPES, Grounded

TEMPLATE = "eval_report.html.j2"
PALETTE = ("#3b6fb6", "#e07b39", "#4a9a5b", "#b8434e", "#7d5ba6", "#8c6d3f", "#d4a017")
CHART_METRICS: tuple[str, ...] = (*CATEGORIES, OVERALL)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


def chart(run: Run, *, height: int = 220, bar_width: int = 18) -> dict[str, Any]:
    """Geometry of a grouped bar chart: one group per metric, one bar per configuration."""
    n = max(1, len(run.configurations))
    group = n * bar_width + 24
    left, top = 40, 10
    bars: list[Bar] = []
    labels: list[dict[str, Any]] = []
    for g, metric in enumerate(CHART_METRICS):
        x0 = left + g * group + 12
        labels.append({"x": x0 + n * bar_width / 2, "text": metric})
        for i, configuration in enumerate(run.configurations):
            value = configuration.summary.micro[metric].f1
            h = (value or 0.0) * height
            bars.append(
                Bar(
                    x=x0 + i * bar_width,
                    y=top + height - h,
                    width=bar_width - 2,
                    height=h,
                    color=PALETTE[i % len(PALETTE)],
                    title=f"{configuration.label} · {metric}: {fmt(value)}",
                )
            )
    grid = [{"y": top + height * (1 - t / 4), "label": f"{t / 4:.2f}"} for t in range(5)]
    return {
        "width": left + len(CHART_METRICS) * group + 10,
        "height": top + height + 30,
        "base": top + height,
        "left": left,
        "bars": bars,
        "labels": labels,
        "grid": grid,
        "legend": [
            {"label": c.label, "color": PALETTE[i % len(PALETTE)]}
            for i, c in enumerate(run.configurations)
        ],
    }


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "، ".join(_value(v) for v in value)
    if isinstance(value, dict):
        parts = [f"{k}={_value(v)}" for k, v in value.items() if not is_absent(v)]
        return "(" + ", ".join(parts) + ")"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def record_fields(record: Grounded) -> list[tuple[str, str]]:
    """``(field, text)`` of each field that has a value, evidence last."""
    info = type(record).model_fields
    data = record.model_dump(mode="json")
    rows = [
        (name, _value(value))
        for name, value in data.items()
        if name not in SKIPPED_FIELDS and not is_absent(value, info[name].default)
    ]
    rows.append(("evidence", record.evidence))
    return rows


_NONE: dict[str, Any] = {"wrong": set(), "fabricated": set(), "similarity": 0.0}


def _with_blanks(rows: list[tuple[str, str]], wrong: list[str]) -> list[tuple[str, str]]:
    """Show a wrong field the prediction left empty as a dash (so it can be marked)."""
    present = {name for name, _ in rows}
    blanks = [(name, "—") for name in wrong if name not in present]
    return rows[:-1] + blanks + rows[-1:]


def _rows(run: Run, label: str, report_id: str, category: str) -> list[dict[str, Any]]:
    configuration = run.configuration(label)
    score = configuration.score(report_id)
    gold = run.gold.get(report_id)
    result = configuration.predictions.get(report_id)
    if score is None or gold is None:
        return []
    golds = gold.records(category)
    preds = result.extraction.records(category) if result and result.extraction else []
    match = score.matches[category]
    rows: list[dict[str, Any]] = []
    for pair in match.pairs:
        rows.append(
            {
                "kind": "matched",
                "gold": record_fields(golds[pair.gold]),
                "pred": _with_blanks(record_fields(preds[pair.pred]), pair.wrong_fields),
                "wrong": set(pair.wrong_fields),
                "fabricated": set(pair.fabricated_fields),
                "similarity": pair.similarity,
            }
        )
    for j in match.missed:
        rows.append({"kind": "missed", "gold": record_fields(golds[j]), "pred": None, **_NONE})
    for i in match.spurious:
        rows.append({"kind": "spurious", "gold": None, "pred": record_fields(preds[i]), **_NONE})
    return rows


def report_sections(run: Run) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    for report_id in run.gold:
        configs = []
        for configuration in run.configurations:
            score = configuration.score(report_id)
            if score is None:
                continue
            categories = [
                {
                    "name": category,
                    "rows": _rows(run, configuration.label, report_id, category),
                    "f1": score.f1(category),
                }
                for category in CATEGORIES
                if run.gold[report_id].records(category) or score.counts[category].fp
            ]
            configs.append(
                {
                    "label": configuration.label,
                    "status": score.status,
                    "error": score.error,
                    "f1": score.f1(),
                    "missed": score.overall().fn,
                    "spurious": score.overall().fp,
                    "categories": categories,
                }
            )
        sections.append({"report_id": report_id, "configs": configs})
    return sections


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    env.filters.update(fmt=fmt, pct=pct, cost=cost, signed=signed)
    return env


def render_html(run: Run) -> str:
    """The page of ``run`` as one HTML string."""
    source = (
        resources.files("llm_extract.evaluation")
        .joinpath(f"templates/{TEMPLATE}")
        .read_text("utf-8")
    )
    template = _environment().from_string(source)
    return template.render(
        run=run,
        categories=CATEGORIES,
        overall=OVERALL,
        record_types=RECORD_TYPES,
        chart=chart(run),
        sections=report_sections(run),
    )


def write_html(run: Run, path: str | Path) -> Path:
    """Write the page of ``run`` to ``path`` (a folder gets ``report.html``)."""
    target = Path(path)
    if target.is_dir():
        target = target / HTML_FILE
    try:
        write_text(target, render_html(run))
    except OSError as exc:
        raise UsageError(f"{target}: cannot write the HTML report ({exc.strerror or exc})") from exc
    return target
