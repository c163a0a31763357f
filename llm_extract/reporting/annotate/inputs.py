"""The output file that ``annotate`` works on: one result per report id.

``extract --resume`` runs a failed report again and appends its new line after the old one:
that is a retry, and the last line counts, as for every reader of result files. Any other
repetition of a report id (two finished lines, as when two output files are concatenated or
two texts share a file name) would make two reports share one gold file, and the one the
analyst sees would depend on the order of the lines. Such a file is refused, naming the id
and both lines, before the app starts; nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from llm_extract.errors import InputError
from llm_extract.jsonl import scan
from llm_extract.results import ExtractionResult


def annotation_results(
    path: str | Path, *, skipped: list[str] | None = None
) -> list[ExtractionResult]:
    """The results of ``path`` in the order their ids first appear, a failed line replaced
    by its retry; :class:`InputError` when a report id follows a finished (``ok``) line of
    the same id (``skipped``: see :func:`llm_extract.jsonl.scan`)."""
    latest: dict[str, tuple[int, ExtractionResult]] = {}
    for number, result in scan(path, skipped=skipped).results:
        previous = latest.get(result.report_id)
        if previous is not None and previous[1].status == "ok":
            raise InputError(
                Path(path),
                f"report id {result.report_id!r} is on line {previous[0]} and on line {number}: "
                "annotate writes one gold file per report id; keep one of the two lines, or "
                "give the reports distinct ids",
            )
        latest[result.report_id] = (number, result)
    return [result for _, result in latest.values()]
