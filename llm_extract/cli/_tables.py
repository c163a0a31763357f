"""Tables that fit the terminal: the columns a table cannot show in full are dropped, least
important first, instead of every cell shrinking to ``0.…``.

The width is ``COLUMNS`` when set, else the terminal's; written to a pipe or a file (no
terminal, no ``COLUMNS``), a table keeps all its columns. Which columns go first is decided
here, by header, for every table of the tool: long headers are shortened first; then the
columns that say what a row is and the F1 scores stay longest, then failures and cost, then
the rest; among equals, the rightmost goes first. The columns left out are named under the
table; ``--json`` has them all.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from llm_extract.schemas import CATEGORIES
from llm_extract.settings import terminal_columns

#: Shorter headers, tried before any column is dropped.
SHORT: dict[str, str] = {
    "configuration": "config",
    "Coalition month (start)": "Month",
    "Calendar month": "Month",
    "Cargo flights": "Flights",
    "Attacks on bases": "Attacks",
    "Operations": "Ops",
    "Detainees": "Detained",
    "wins/ties/losses": "W/T/L",
    "95% interval": "95% CI",
    "wrong fields": "wrong",
    "grounding": "grnd",
    "precision": "P",
    "recall": "R",
    "overall F1": "F1",
    "macro F1": "mF1",
}
#: Headers that say what a row is: never dropped.
LABELS = frozenset({"configuration", "run", "report", "category", "field", "A", "B", "metric"})
#: Rank of each header (lower stays longer); a header not listed ranks :data:`OTHER`.
RANKS: dict[str, int] = {
    "overall F1": 0,
    "overall": 0,
    "F1": 0,
    "Reports": 0,
    **dict.fromkeys(CATEGORIES, 1),
    "macro F1": 3,
    "failures": 2,
    "Trucks": 2,
    "Cargo flights": 2,
    "Attacks on bases": 2,
    "Airstrikes": 2,
    "Drills": 2,
    "Operations": 3,
    "Detainees": 3,
    "Killed": 2,
    "Injured": 2,
    "cost": 3,
    "mean A-B": 0,
    "95% interval": 1,
    "wins/ties/losses": 2,
    "fields": 4,
    "grounding": 4,
    "precision": 4,
    "recall": 4,
    "totals": 5,
    "tokens": 5,
}
OTHER = 6


def _rank(table: Table, index: int) -> int:
    header = str(table.columns[index].header)
    if index == 0 or header in LABELS:
        return -1  # what each row is: never dropped
    return RANKS.get(header, OTHER)


def _natural_width(console: Console, table: Table) -> int:
    return Measurement.get(console, console.options.update(width=100_000), table).maximum


def _without(table: Table, keep: list[int], *, short: bool = False) -> Table:
    """A copy of ``table`` with only the columns at ``keep`` (``short``: short headers)."""
    narrow = Table(
        title=table.title,
        title_justify=table.title_justify,
        show_footer=table.show_footer,
        caption=table.caption,
    )
    columns = table.columns
    for i in keep:
        c = columns[i]
        header = str(c.header)
        narrow.add_column(
            SHORT.get(header, header) if short else c.header,
            footer=c.footer,
            justify=c.justify,
            style=c.style,
            no_wrap=c.no_wrap,
            overflow=c.overflow,
        )
    cells = [list(columns[i].cells) for i in keep]
    for n, row in enumerate(table.rows):
        cells_of_row = (column[n] for column in cells)
        narrow.add_row(*cells_of_row, style=row.style, end_section=row.end_section)
    return narrow


def fit(table: Table, width: int | None, console: Console) -> tuple[Table, list[str]]:
    """``table`` with the columns that fit ``width`` (all of them when ``width`` is None),
    and the headers of those left out."""
    for column in table.columns[1:]:
        column.no_wrap = True  # a number is shown whole or not at all
    if width is None or _natural_width(console, table) <= width:
        return table, []
    keep = list(range(len(table.columns)))
    if _natural_width(console, _without(table, keep, short=True)) <= width:
        return _without(table, keep, short=True), []
    dropped: list[str] = []
    by_rank = sorted(keep[1:], key=lambda i: (_rank(table, i), i), reverse=True)
    for index in by_rank:
        if _rank(table, index) <= 0:
            break  # the row names and the overall F1 stay; the rest shrinks to fit
        keep.remove(index)
        dropped.append(str(table.columns[index].header))
        if _natural_width(console, _without(table, keep, short=True)) <= width:
            break
    return _without(table, keep, short=True), dropped


def print_table(table: Table, *, console: Console | None = None) -> None:
    """Print ``table`` on stdout, fitted to the terminal (see the module doc)."""
    width = terminal_columns()
    if width is None and sys.stdout.isatty():
        width = Console().width
    out = console or Console(width=width or 100_000, markup=False, highlight=False)
    fitted, dropped = fit(table, width, out)
    if width is None:
        out = Console(width=_natural_width(out, fitted), markup=False, highlight=False)
    out.print(fitted)
    if dropped:
        out.print(f"(not shown at this width: {', '.join(dropped)}; --json has every column)")
