"""What one report's extraction produced: one :class:`ExtractionResult` is one line of the JSON
Lines output of ``extract`` (network-free types shared by the run layer, outputs and the eval).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llm_extract.schemas import ReportExtraction

if TYPE_CHECKING:
    from llm_extract.report import Report

Status = Literal["ok", "failed"]


class Usage(BaseModel):
    """Tokens spent on one report, summed over every attempt (retries and re-asks included)."""

    model_config = ConfigDict(extra="forbid")

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_prompt_tokens: int = 0
    #: prompt tokens written to the provider's prompt cache (Anthropic bills them apart)
    cache_write_tokens: int = 0
    attempts: int = 0
    reasks: int = 0
    reask_tokens: int = 0
    cost_usd: float | None = None

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
            reasks=self.reasks + other.reasks,
            reask_tokens=self.reask_tokens + other.reask_tokens,
            cost_usd=cost,
        )


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
    """Where a result's text came from. ``sha256`` is the hash of the exact text extracted
    (for a page or a PDF, the recovered main text); ``url``, ``title``, ``published`` and
    ``fetched_at`` are set when the source has them."""

    model_config = ConfigDict(extra="forbid")

    path: str
    sha256: str
    url: str | None = None
    title: str | None = None
    published: dt.datetime | dt.date | None = None
    fetched_at: dt.datetime | None = None

    @classmethod
    def from_report(cls, report: Report) -> SourceInfo:
        return cls(
            path=report.path,
            sha256=report.sha256,
            url=report.url,
            title=report.title,
            published=report.published,
            fetched_at=report.fetched_at,
        )


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
