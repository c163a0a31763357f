"""What one report's extraction produced: one :class:`ExtractionResult` is one line of the JSON
Lines output of ``extract`` (network-free types shared by the run layer, outputs and the eval).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llm_extract.report import Duplicate, Identity, Report, canonical_url, one_per_report
from llm_extract.schemas import ReportExtraction

Status = Literal["ok", "failed"]


class Usage(BaseModel):
    """Tokens spent on one report, summed over every attempt (retries and re-asks included).

    ``attempts`` counts every HTTP request sent for the report: each completion (re-asks
    included) and each transport retry. ``retries`` says why the requests that were sent
    again failed, counted by reason: an HTTP status (``"429"``, ``"500"``), ``"timeout"`` or
    ``"connection"``; ``{}`` when nothing was retried.
    """

    model_config = ConfigDict(extra="forbid")

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_prompt_tokens: int = 0
    #: prompt tokens written to the provider's prompt cache (Anthropic bills them apart)
    cache_write_tokens: int = 0
    attempts: int = 0
    retries: dict[str, int] = Field(default_factory=dict)
    reasks: int = 0
    reask_tokens: int = 0
    cost_usd: float | None = None

    @property
    def retried(self) -> int:
        """How many requests were sent again."""
        return sum(self.retries.values())

    def add(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_usd is None and other.cost_usd is None
            else (self.cost_usd or 0.0) + (other.cost_usd or 0.0)
        )
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cached_prompt_tokens=self.cached_prompt_tokens + other.cached_prompt_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            attempts=self.attempts + other.attempts,
            retries=add_counts(self.retries, other.retries),
            reasks=self.reasks + other.reasks,
            reask_tokens=self.reask_tokens + other.reask_tokens,
            cost_usd=cost,
        )


def add_counts(one: Mapping[str, int], other: Mapping[str, int]) -> dict[str, int]:
    """Two counts by reason added up (reasons in sorted order)."""
    return dict(sorted((Counter(one) + Counter(other)).items()))


class DroppedRecord(BaseModel):
    """A record the model returned that failed validation after every re-ask."""

    model_config = ConfigDict(extra="forbid")

    category: str
    reason: str
    record: dict[str, Any] | None = None


class ErrorInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    message: str


class SourceInfo(BaseModel):
    """Where a result's text came from. ``path`` is a file's absolute path (so that ``view``
    and the eval find it from any folder), else the URL fetched or ``-`` for stdin.
    ``sha256`` is the hash of the exact text extracted (for a page or a PDF, the recovered
    main text); ``text_key`` the report's identity (the hash of its normalised text,
    :func:`llm_extract.report.text_key`; None in results written before it was recorded);
    ``url``, ``title``, ``published`` and ``fetched_at`` are set when the source has them."""

    model_config = ConfigDict(extra="forbid")

    path: str
    sha256: str
    text_key: str | None = None
    url: str | None = None
    title: str | None = None
    published: dt.datetime | dt.date | None = None
    fetched_at: dt.datetime | None = None

    @classmethod
    def from_report(cls, report: Report) -> SourceInfo:
        return cls(
            path=recorded_path(report.path),
            sha256=report.sha256,
            text_key=report.text_key,
            url=report.url,
            title=report.title,
            published=report.published,
            fetched_at=report.fetched_at,
        )


def recorded_path(path: str) -> str:
    """A report's path as its result records it: a file's absolute path (a relative one is
    the folder the run started in); stdin (``-``) and an ``http(s)://`` URL as they are."""
    if path == "-" or path[:8].lower().startswith(("http://", "https://")):
        return path
    return os.path.abspath(path)


class PromptInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    hash: str


class ExtractionResult(BaseModel):
    """One line of ``extract``'s JSON Lines output."""

    model_config = ConfigDict(extra="forbid")

    report_id: str
    source: SourceInfo
    prompt: PromptInfo
    model: str
    status: Status
    error: ErrorInfo | None = None
    extraction: ReportExtraction | None = None
    dropped: list[DroppedRecord] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    cached: bool = False
    request_key: str | None = None
    #: how the answer was held to the schema (``--mode``; what ``auto`` chose); None in
    #: results written before modes were recorded, and for backends that have none
    mode: str | None = None


def result_identity(result: ExtractionResult) -> Identity:
    """The report a result is about (:class:`llm_extract.report.Identity`); a result written
    before ``text_key`` was recorded is known by the hash of its exact text."""
    source = result.source
    return Identity(
        source.text_key or source.sha256, canonical_url(source.url) if source.url else None
    )


def configuration(result: ExtractionResult) -> tuple[str, str]:
    """The (prompt, model) that produced ``result``."""
    return (result.prompt.name, result.model)


def one_result_per_report(
    results: Iterable[ExtractionResult],
    *,
    per_configuration: bool = False,
    known: Iterable[str] = (),
) -> tuple[list[ExtractionResult], list[Duplicate[ExtractionResult]]]:
    """One result per report (:func:`llm_extract.report.one_per_report`): the first successful
    one, else the first, one whose id is ``known`` (has a gold file) first; with
    ``per_configuration``, per prompt and model (``score``). Several lines of one report id
    (a run finished with ``--resume``) are one result, the last line winning, as in
    :func:`llm_extract.jsonl.read_results`; they are not duplicates."""
    ids = set(known)
    latest: dict[tuple[tuple[str, str] | None, str], ExtractionResult] = {}
    for result in results:
        where = configuration(result) if per_configuration else None
        latest[(where, result.report_id)] = result

    def rank(result: ExtractionResult) -> tuple[bool, bool]:
        return (result.report_id in ids, result.status == "ok")

    def better(new: ExtractionResult, kept: ExtractionResult) -> bool:
        return rank(new) > rank(kept)

    return one_per_report(
        latest.values(),
        result_identity,
        better=better,
        scope=configuration if per_configuration else None,
    )


def duplicate_note(duplicates: list[Duplicate[ExtractionResult]], *, limit: int = 10) -> str:
    """``2 duplicate report(s) counted once: b (same text as a), ...`` for a command's
    message; empty when there is none."""
    if not duplicates:
        return ""
    shown = [f"{d.item.report_id} ({d.reason} as {d.kept.report_id})" for d in duplicates[:limit]]
    more = " ..." if len(duplicates) > limit else ""
    return f"{len(duplicates)} duplicate report(s) counted once: {', '.join(shown)}{more}"
