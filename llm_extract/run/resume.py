"""``--resume``: which reports of a plan an output file already holds, done with the same
request (model, prompt, parameters and report text: the request key).

The plan of a resumed run is a set of report ids to leave out (:func:`done_ids`), computed
in one pass that prepares each report's request, compares its key and lets it go: never the
prepared requests of the whole run at once. What the output file says of its reports is
read one line at a time (:func:`llm_extract.jsonl.prepare_for_append`), and kept as one
compact record per finished report (:func:`finished_records`): its id, 16 bytes of the
digest of its content (text sha256 and publication date) and 16 bytes of the digest of its
request key. No result of the file is held."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from llm_extract.backends.base import ExtractionRequest
from llm_extract.errors import UsageError
from llm_extract.jsonl import prepare_for_append
from llm_extract.report import Report
from llm_extract.results import ExtractionResult
from llm_extract.run.runner import Plan, Runner


@dataclass(frozen=True)
class Resumed:
    """The part of the plan still to run, and how many reports were already done."""

    plan: Plan
    skipped: int


_DIGEST_BYTES = 16


def finished_records(output: Path) -> dict[str, bytes]:
    """Per report id whose last ``ok`` line is in ``output`` (none when it does not exist):
    :func:`_content` of its source, then :func:`_key` of its request key; the file is checked
    and its end mended on the way (:func:`llm_extract.jsonl.prepare_for_append`)."""
    done: dict[str, bytes] = {}
    if not output.exists():
        return done

    def keep(_: int, result: ExtractionResult) -> None:
        if result.status == "ok":
            source = result.source
            done[result.report_id] = _content(source.sha256, source.published) + _key(
                result.request_key
            )

    prepare_for_append(output, keep)
    return done


def _content(sha256: str | None, published: dt.date | dt.datetime | None) -> bytes:
    """16 bytes that are equal for two reports when their texts (sha256) and publication
    dates are equal (an aware date-time by its instant; a date is never a date-time)."""
    if isinstance(published, dt.datetime) and published.tzinfo is not None:
        when = f"aware {published.astimezone(dt.UTC).isoformat()}"
    elif isinstance(published, dt.datetime):
        when = f"naive {published.isoformat()}"
    elif published is not None:
        when = f"date {published.isoformat()}"
    else:
        when = "none"
    return _digest(f"{sha256}\n{when}")


def _key(request_key: str | None) -> bytes:
    """16 bytes of the digest of a request key; a line without one has none (b"")."""
    return b"" if request_key is None else _digest(request_key)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()[:_DIGEST_BYTES]


def _skip(requests: Iterable[ExtractionRequest], done: dict[str, bytes], output: Path) -> set[str]:
    """Ids of the requests ``done`` holds with the same key (see :func:`resume`)."""
    skip: set[str] = set()
    stale: list[str] = []
    for request in requests:
        report = request.report
        previous = done.get(report.report_id)
        if previous is None:
            continue
        if previous[:_DIGEST_BYTES] != _content(report.sha256, report.published):
            continue  # new content: run it again
        if previous[_DIGEST_BYTES:] == _key(request.key):
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
    skip = _skip(plan.requests, finished_records(output), output)
    return Resumed(plan=plan.without(skip), skipped=len(skip))


def done_ids(runner: Runner, reports: Iterable[Report], output: Path) -> frozenset[str]:
    """:func:`resume` for reports read as a stream: the ids to leave out, from one pass that
    prepares each request and lets it go."""
    done = finished_records(output)
    if not done:
        return frozenset()
    ours = (report for report in reports if report.report_id in done)
    requests = (r for r in runner.prepared(ours) if isinstance(r, ExtractionRequest))
    return frozenset(_skip(requests, done, output))
