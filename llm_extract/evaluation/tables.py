"""Rich tables of eval results: configurations, paired comparisons, two saved runs."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from llm_extract.evaluation.compare import Comparison
from llm_extract.evaluation.metrics import OVERALL, Summary
from llm_extract.evaluation.runs import ConfigurationRun, Run
from llm_extract.schemas import CATEGORIES

DASH = "—"


def fmt(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def pct(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.0f}%"


def cost(value: float | None) -> str:
    return "n/a" if value is None else f"${value:.4f}"


def signed(value: float | None) -> str:
    return DASH if value is None else f"{value:+.2f}"


#: Marks a configuration scored on reports its author read (see :func:`seen_note`).
SEEN_MARK = " (seen)"


def seen_label(c: ConfigurationRun) -> str:
    """The label, marked when its scores come from reports its author has read."""
    return c.label + SEEN_MARK if c.seen else c.label


def seen_note(c: ConfigurationRun) -> str | None:
    """Why a configuration is marked, or ``None``."""
    if not c.seen:
        return None
    return (
        f"{c.label}{SEEN_MARK}: {len(c.seen)} of the {len(c.scores)} scored reports were read "
        "while it was written (splits.toml: dev, spent), so these scores do not measure how it "
        "does on new reports; --split holdout does"
    )


def results_table(configurations: Sequence[ConfigurationRun], title: str = "") -> Table:
    """One row per configuration: F1 per category (micro), overall, quality rates, usage."""
    table = Table(title=title or None, title_justify="left")
    table.add_column("configuration", style="bold")
    for category in CATEGORIES:
        table.add_column(category, justify="right")
    for name in ("overall F1", "macro F1", "fields", "totals", "grounding", "failures"):
        table.add_column(name, justify="right")
    for name in ("missed", "spurious", "wrong fields", "tokens", "cost", "time"):
        table.add_column(name, justify="right")
    for c in configurations:
        s = c.summary
        table.add_row(
            seen_label(c),
            *(fmt(s.micro[category].f1) for category in CATEGORIES),
            fmt(s.micro[OVERALL].f1),
            fmt(s.macro_f1[OVERALL]),
            pct(s.field_accuracy[OVERALL]),
            pct(s.totals_accuracy),
            pct(s.grounding_rate),
            f"{round((s.failure_rate or 0.0) * s.reports)}/{s.reports}",
            str(s.missed),
            str(s.spurious),
            str(s.wrong_fields),
            f"{s.total_tokens:,}",
            cost(s.cost_usd),
            f"{c.wall_s:.1f}s",
        )
    return table


def comparison_table(comparisons: Sequence[Comparison]) -> Table:
    """Paired differences A - B per metric with the bootstrap 95% interval and W/T/L."""
    table = Table(title="paired per-report differences (A - B), bootstrap 95% interval")
    table.title_justify = "left"
    for name in ("A", "B", "metric", "n", "mean A-B", "95% interval", "wins/ties/losses"):
        table.add_column(name, justify="left" if name in {"A", "B", "metric"} else "right")
    for comparison in comparisons:
        for d in comparison.diffs:
            if d.n == 0:
                continue
            interval = DASH if d.ci_low is None else f"[{d.ci_low:+.2f}, {d.ci_high or 0.0:+.2f}]"
            table.add_row(
                comparison.a,
                comparison.b,
                d.metric,
                str(d.n),
                signed(d.mean_diff),
                interval,
                f"{d.wins}/{d.ties}/{d.losses}",
                style="bold" if d.significant else None,
            )
    return table


def _summary_cells(s: Summary) -> list[str]:
    return [fmt(s.micro[c].f1) for c in (*CATEGORIES, OVERALL)]


def runs_category_table(a: Run, b: Run) -> Table:
    """Two saved runs side by side: micro F1 per category for every configuration."""
    table = Table(title=f"F1 per category: A = {a.run_id}, B = {b.run_id}", title_justify="left")
    table.add_column("run")
    table.add_column("configuration", style="bold")
    for name in (*CATEGORIES, OVERALL, "fields", "grounding", "tokens", "cost"):
        table.add_column(name, justify="right")
    for tag, run in (("A", a), ("B", b)):
        for c in run.configurations:
            s = c.summary
            table.add_row(
                tag,
                c.label,
                *_summary_cells(s),
                pct(s.field_accuracy[OVERALL]),
                pct(s.grounding_rate),
                f"{s.total_tokens:,}",
                cost(s.cost_usd),
            )
    return table


def runs_report_table(a: Run, b: Run) -> Table:
    """Per report: overall F1 of every configuration of both runs."""
    columns = [("A", c) for c in a.configurations] + [("B", c) for c in b.configurations]
    table = Table(title="overall F1 per report", title_justify="left")
    table.add_column("report")
    for tag, c in columns:
        table.add_column(f"{tag}:{c.label}", justify="right")
    ids = list(dict.fromkeys([s.report_id for _, c in columns for s in c.scores]))
    for report_id in ids:
        cells = []
        for _, c in columns:
            score = c.score(report_id)
            cells.append(DASH if score is None else fmt(score.f1()))
        table.add_row(report_id, *cells)
    return table


def category_table(configuration: ConfigurationRun) -> Table:
    """One configuration in detail: micro P/R/F1 and macro F1 per category, field accuracy."""
    s = configuration.summary
    table = Table(title=f"{configuration.label}: per category", title_justify="left")
    table.add_column("category")
    for name in ("matched", "spurious", "missed", "precision", "recall", "F1", "macro F1"):
        table.add_column(name, justify="right")
    table.add_column("fields", justify="right")
    for metric in (*CATEGORIES, OVERALL):
        m = s.micro[metric]
        table.add_row(
            metric,
            str(m.tp),
            str(m.fp),
            str(m.fn),
            fmt(m.precision),
            fmt(m.recall),
            fmt(m.f1),
            fmt(s.macro_f1[metric]),
            pct(s.field_accuracy[metric]),
        )
    return table
