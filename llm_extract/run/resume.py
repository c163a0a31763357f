"""``--resume``: which reports of a plan an output file already holds, done with the same
request (model, prompt, parameters and report text: the request key)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llm_extract.errors import UsageError
from llm_extract.jsonl import finished_results
from llm_extract.run.runner import Plan


@dataclass(frozen=True)
class Resumed:
    """The part of the plan still to run, and how many reports were already done."""

    plan: Plan
    skipped: int


def resume(plan: Plan, output: Path) -> Resumed:
    """Leave out of ``plan`` the reports that ``output`` holds with status ``ok`` under the
    same request key; failed ones run again, and so does a report whose text or publication
    date changed since (a web page updated since it was fetched: its new line wins). A report
    done with another key for the same content (another model, prompt or parameters) is a
    :class:`UsageError`: the file would mix two runs."""
    done = finished_results(output)
    skip: set[str] = set()
    stale: list[str] = []
    for request in plan.requests:
        report = request.report
        previous = done.get(report.report_id)
        if previous is None:
            continue
        if previous.source.sha256 != report.sha256 or previous.source.published != report.published:
            continue  # new content: run it again
        if previous.request_key == request.key:
            skip.add(request.report.report_id)
        else:
            stale.append(request.report.report_id)
    if stale:
        raise UsageError(
            f"{output}: {len(stale)} report(s) (e.g. {stale[0]}) were extracted with another "
            "model, prompt, report text or parameters; use another -o, or drop --resume to "
            "start the file afresh"
        )
    return Resumed(plan=plan.without(skip), skipped=len(skip))
