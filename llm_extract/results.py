"""Network-free data types that travel between the pipeline, backends, outputs and the eval.

One :class:`ExtractionResult` is one line of the JSON Lines output of ``extract``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llm_extract.schemas import ReportExtraction

Status = Literal["ok", "failed"]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Report:
    """One input report: its id (file stem, or ``stdin``), text and where it came from."""

    report_id: str
    text: str
    path: str
    sha256: str = field(default="")

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", sha256_text(self.text))

    @classmethod
    def from_path(cls, path: Path, text: str) -> Report:
        return cls(report_id=path.stem, text=text, path=str(path))


class Usage(BaseModel):
    """Tokens spent on one report, summed over every attempt (retries and re-asks included)."""

    model_config = ConfigDict(extra="forbid")

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_prompt_tokens: int = 0
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
    model_config = ConfigDict(extra="forbid")

    path: str
    sha256: str


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
