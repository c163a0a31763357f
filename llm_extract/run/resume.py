"""``--resume``: which reports of a plan an output file already holds, done with the same
request (model, prompt, parameters and report text: the request key).

The plan of a resumed run is a set of report ids to leave out (:func:`done_ids`), computed
in one pass that prepares each report's request, compares its key and lets it go: never the
prepared requests of the whole run at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from llm_extract.backends.base import ExtractionRequest
from llm_extract.errors import UsageError
from llm_extract.jsonl import finished_results
from llm_extract.report import Report
from llm_extract.run.runner import Plan, Runner


@dataclass(frozen=True)
class Resumed:
    """The part of the plan still to run, and how many reports were already done."""

    plan: Plan
    skipped: int


@dataclass(frozen=True)
class _Done:
    """What a finished line says of its report: enough to tell whether it is still done."""

    sha256: str | None
    published: dt.date | dt.datetime | None
    request_key: str | None


def _finished(output: Path) -> dict[str, _Done]:
    return {
        report_id: _Done(r.source.sha256, r.source.published, r.request_key)
        for report_id, r in finished_results(output).items()
    }


def _skip(requests: Iterable[ExtractionRequest], done: dict[str, _Done], output: Path) -> set[str]:
    """Ids of the requests ``done`` holds with the same key (see :func:`resume`)."""
    skip: set[str] = set()
    stale: list[str] = []
    for request in requests:
        report = request.report
        previous = done.get(report.report_id)
        if previous is None:
            continue
        if previous.sha256 != report.sha256 or previous.published != report.published:
            continue  # new content: run it again
        if previous.request_key == request.key:
            skip.add(report.report_id)
        else:
            stale.append(report.report_id)
    if stale:
        raise UsageError(
            f"{output}: {len(stale)} report(s) (e.g. {stale[0]}) were extracted with another "
            "model, prompt, report text or parameters; use another -o, or drop --resume to "
            "start the file afresh"
        )
    return skip


def resume(plan: Plan, output: Path) -> Resumed:
    """Leave out of ``plan`` the reports that ``output`` holds with status ``ok`` under the
    same request key; failed ones run again, and so does a report whose text or publication
    date changed since (a web page updated since it was fetched: its new line wins). A report
    done with another key for the same content (another model, prompt or parameters) is a
    :class:`UsageError`: the file would mix two runs."""
    skip = _skip(plan.requests, _finished(output), output)
    return Resumed(plan=plan.without(skip), skipped=len(skip))


def done_ids(runner: Runner, reports: Iterable[Report], output: Path) -> frozenset[str]:
    """:func:`resume` for reports read as a stream: the ids to leave out, from one pass that
    prepares each request and lets it go."""
    done = _finished(output)
    if not done:
        return frozenset()
    ours = (report for report in reports if report.report_id in done)
    requests = (r for r in runner.prepared(ours) if isinstance(r, ExtractionRequest))
    return frozenset(_skip(requests, done, output))
