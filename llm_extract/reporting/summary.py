"""Time series across reports: per month, the trucks, cargo flights, drills, attacks,
airstrikes, operations, detainees, killed and injured.

A report's figure for an item is the total it states outright when it states one
(``stated_totals``), else the sum over its records:

==============  ================================================================
trucks          ``vehicles`` of ground convoys
cargo_flights   ``vehicles`` of air convoys (aircraft)
drills          stated total, else the sum of drill ``count``
attacks         stated total, else attack_on_base strikes (``count``, else the
                per-base counts, else 1 each)
airstrikes      stated total, else airstrike records (``count``, else 1 each)
operations      stated total, else arrest records (``operations``, else 1 each)
detainees       sum of ``detained``
killed          ``killed`` of strike casualties and of arrest records
injured         ``injured`` of strike casualties
==============  ================================================================

A month between the first and the last that no report covers is a *gap* (no report, so no
figure): it is shown as such, never as zeros, which would read as a month of no activity.

Months are coalition months (``--by coalition``: the report's ``coalition_month``, or for
short items the month of their first dated record) or calendar months (``--by calendar``: the
calendar month holding most of the report's period, or that of the first dated record). A
report counts whole in one month: monthly reports do not say how a stated total splits
across calendar months. Reports with neither a month nor a date are counted as undated. A
report counts once, however many lines hold it (the same text, or the same page under
another spelling of its URL: :func:`llm_extract.results.one_result_per_report`); the
duplicates left out are listed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.table import Table

from llm_extract.errors import InputError, UsageError
from llm_extract.normalize import coalition_month_of, coalition_period
from llm_extract.outputs import SNIFFERS, atomic_write, refuse_foreign
from llm_extract.report import Duplicate
from llm_extract.results import ExtractionResult, one_result_per_report
from llm_extract.schemas import Arrest, Drill, ReportExtraction, Strike, StrikeKind

ITEMS: tuple[str, ...] = (
    "trucks",
    "cargo_flights",
    "drills",
    "attacks",
    "airstrikes",
    "operations",
    "detainees",
    "killed",
    "injured",
)
ITEM_LABELS: dict[str, str] = {
    "trucks": "Trucks",
    "cargo_flights": "Cargo flights",
    "drills": "Drills",
    "attacks": "Attacks on bases",
    "airstrikes": "Airstrikes",
    "operations": "Operations",
    "detainees": "Detainees",
    "killed": "Killed",
    "injured": "Injured",
}
By = Literal["coalition", "calendar"]


@dataclass
class MonthRow:
    """One month of the series: its key, first day, the reports in it and the figures."""

    key: str
    start: dt.date
    reports: list[str] = field(default_factory=list)
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ITEMS, 0))

    @property
    def gap(self) -> bool:
        """No report covers this month: its figures are unknown, not zero."""
        return not self.reports


@dataclass
class Summary:
    by: By
    rows: list[MonthRow]
    undated: list[str]
    failed: list[str]
    #: lines left out as the same report as another (counted once)
    duplicates: list[Duplicate[ExtractionResult]] = field(default_factory=list)


def _strike_count(strike: Strike) -> int:
    if strike.count is not None:
        return strike.count
    counts = [t.count for t in strike.targets]
    if counts and all(c is not None for c in counts):
        return sum(c for c in counts if c is not None)
    return 1


def report_figures(extraction: ReportExtraction) -> dict[str, int]:
    """The seven figures of one report (stated totals first, else sums of records)."""
    stated = extraction.stated_totals

    def strikes(kind: StrikeKind) -> int:
        return sum(_strike_count(s) for s in extraction.strikes if s.kind is kind)

    return {
        "trucks": sum(c.vehicles or 0 for c in extraction.convoys if c.mode.value == "ground"),
        "cargo_flights": sum(c.vehicles or 0 for c in extraction.convoys if c.mode.value == "air"),
        "drills": stated.drills
        if stated.drills is not None
        else sum(d.count for d in extraction.drills),
        "attacks": stated.attacks
        if stated.attacks is not None
        else strikes(StrikeKind.ATTACK_ON_BASE),
        "airstrikes": stated.airstrikes
        if stated.airstrikes is not None
        else strikes(StrikeKind.AIRSTRIKE),
        "operations": stated.operations
        if stated.operations is not None
        else sum(a.operations if a.operations is not None else 1 for a in extraction.arrests),
        "detainees": sum(a.detained or 0 for a in extraction.arrests),
        "killed": sum(c.killed or 0 for s in extraction.strikes for c in s.casualties)
        + sum(a.killed or 0 for a in extraction.arrests),
        "injured": sum(c.injured or 0 for s in extraction.strikes for c in s.casualties),
    }


def _first_date(extraction: ReportExtraction) -> dt.date | None:
    dates = [d for c in extraction.convoys for d in c.dates]
    dated: list[Drill | Strike | Arrest] = [
        *extraction.drills,
        *extraction.strikes,
        *extraction.arrests,
    ]
    dates += [r.date for r in dated if r.date is not None]
    return min(dates) if dates else None


def _month_of(extraction: ReportExtraction, by: By) -> tuple[str, dt.date] | None:
    if by == "coalition":
        month = extraction.coalition_month
        if month is None:
            first = _first_date(extraction)
            if first is None:
                return None
            month = coalition_month_of(first)
        return f"{month}", coalition_period(month).start
    if extraction.period is not None:
        start, end = extraction.period.start, extraction.period.end
        days = Counter(
            (start + dt.timedelta(days=n)).replace(day=1) for n in range((end - start).days + 1)
        )
        first_of_month = max(days, key=lambda m: (days[m], m))
    else:
        first = _first_date(extraction)
        if first is None:
            return None
        first_of_month = first.replace(day=1)
    return first_of_month.strftime("%Y-%m"), first_of_month


def summarize(results: Iterable[ExtractionResult], by: By = "coalition") -> Summary:
    """Sum the figures of the successful results per month (months in time order)."""
    if by not in ("coalition", "calendar"):
        raise UsageError(f"--by must be coalition or calendar (got {by!r})")
    rows: dict[str, MonthRow] = {}
    undated: list[str] = []
    failed: list[str] = []
    kept, duplicates = one_result_per_report(results)
    for result in kept:
        extraction = result.extraction
        if result.status != "ok" or extraction is None:
            failed.append(result.report_id)
            continue
        month = _month_of(extraction, by)
        if month is None:
            undated.append(result.report_id)
            continue
        key, start = month
        row = rows.setdefault(key, MonthRow(key=key, start=start))
        row.reports.append(result.report_id)
        for item, value in report_figures(extraction).items():
            row.values[item] += value
    ordered = sorted(rows.values(), key=lambda r: r.start)
    return Summary(
        by=by,
        rows=_with_gaps(ordered, by),
        undated=undated,
        failed=failed,
        duplicates=duplicates,
    )


def _with_gaps(rows: list[MonthRow], by: By) -> list[MonthRow]:
    """``rows`` with a row for every month between the first and the last that no report
    covers (:attr:`MonthRow.gap`)."""
    if not rows:
        return rows
    known = {row.key: row for row in rows}
    filled: list[MonthRow] = []
    if by == "coalition":
        first, last = int(rows[0].key), int(rows[-1].key)
        for month in range(first, last + 1):
            key = str(month)
            filled.append(known.get(key) or MonthRow(key, coalition_period(month).start))
        return filled
    day = rows[0].start
    while day <= rows[-1].start:
        key = day.strftime("%Y-%m")
        filled.append(known.get(key) or MonthRow(key, day))
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return filled


def month_label(row: MonthRow, by: By) -> str:
    if by == "coalition":
        return f"{row.key} ({row.start:%Y-%m-%d})"
    return row.key


def rich_table(summary: Summary) -> Table:
    """The summary as a rich table, one row per month and a total row."""
    title = "coalition month (start)" if summary.by == "coalition" else "calendar month"
    table = Table(title=f"Per {title}", show_footer=True)
    table.add_column(title.capitalize(), footer="Total")
    table.add_column(
        "Reports", justify="right", footer=str(sum(len(r.reports) for r in summary.rows))
    )
    for item in ITEMS:
        total = sum(r.values[item] for r in summary.rows)
        table.add_column(ITEM_LABELS[item], justify="right", footer=f"{total:,}")
    for row in summary.rows:
        if row.gap:
            table.add_row(month_label(row, summary.by), "—", *("—" for _ in ITEMS), style="dim")
            continue
        table.add_row(
            month_label(row, summary.by),
            str(len(row.reports)),
            *(f"{row.values[item]:,}" for item in ITEMS),
        )
    return table


def summary_json(summary: Summary) -> dict[str, Any]:
    """The summary as plain data (``summary --json``): every month, the totals, and the
    reports left out."""
    return {
        "by": summary.by,
        "months": [
            {
                "month": row.key,
                "start": row.start.isoformat(),
                "reports": len(row.reports),
                # a month no report covers has no figures (null), not zeros
                **{item: None if row.gap else value for item, value in row.values.items()},
            }
            for row in summary.rows
        ],
        "total": {item: sum(r.values[item] for r in summary.rows) for item in ITEMS},
        "undated": summary.undated,
        "failed": summary.failed,
    }


CHART_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")


def chart_format(path: str | Path) -> str:
    """The format a chart file's suffix names (``.png``, ``.svg``, ``.pdf``, any case); any
    other suffix, or none, is a :class:`UsageError`: the file would not hold what it says."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in CHART_FORMATS:
        named = f"'.{suffix}'" if suffix else "no suffix"
        raise UsageError(
            f"{path}: a chart file must end in {', '.join('.' + f for f in CHART_FORMATS)} "
            f"(got {named})"
        )
    return suffix


def plot_summary(
    summary: Summary, path: str | Path, items: Sequence[str] = ITEMS, *, force: bool = False
) -> Path:
    """Draw one bar panel per item against the month (matplotlib's Agg backend), in the
    format the file's suffix names: PNG, SVG or PDF (see :func:`chart_format`). An existing
    file that is not a chart drawn so is not replaced unless ``force``."""
    fmt = chart_format(path)
    refuse_foreign(Path(path), f"a {fmt.upper()} chart", SNIFFERS[fmt], force=force)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import dates as mdates
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.ticker import MaxNLocator

    target = Path(path)
    if not summary.rows:
        raise UsageError("nothing to plot: no successful report with a month or a date")
    covered = [row for row in summary.rows if not row.gap]
    gaps = [row.start for row in summary.rows if row.gap]
    xs = [row.start for row in covered]
    figure, axes = plt.subplots(
        len(items), 1, sharex=True, figsize=(10, 1.6 * len(items) + 1), squeeze=False
    )
    for ax, item in zip(axes[:, 0], items, strict=True):
        values = [row.values[item] for row in covered]
        # One bar per month, from its first day over 27 days. A month no report covers is
        # shaded grey and hatched (no data), so that it is not read as a month of no activity.
        ax.bar(xs, values, width=27, align="edge", color="#3b6ea5")
        for start in gaps:
            ax.axvspan(
                mdates.date2num(start),  # type: ignore[no-untyped-call]  # matplotlib.dates is unannotated
                mdates.date2num(start + dt.timedelta(days=27)),  # type: ignore[no-untyped-call]
                color="#bbbbbb",
                alpha=0.35,
                hatch="//",
                linewidth=0,
            )
        ax.set_ylabel(ITEM_LABELS[item], rotation=0, ha="right", va="center")
        ax.grid(axis="y", alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom = axes[-1, 0]
    locator = AutoDateLocator(minticks=3, maxticks=14)  # type: ignore[no-untyped-call]  # matplotlib.dates is unannotated
    formatter = ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]  # same module
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(formatter)
    kind = (
        "coalition month (each bar starts on the month's first day)"
        if summary.by == "coalition"
        else "calendar month"
    )
    figure.suptitle(
        f"Coalition activity per {kind}" + ("; hatched: no report that month" if gaps else "")
    )
    figure.tight_layout()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda temporary: figure.savefig(temporary, format=fmt, dpi=100))
    except OSError as exc:
        raise InputError(target, f"cannot write chart ({exc.strerror or exc})") from exc
    finally:
        plt.close(figure)
    return target
