"""The one small interface every model backend implements. No network here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from llm_extract.report import Report
from llm_extract.results import DroppedRecord, PromptInfo, Usage
from llm_extract.schemas import ReportExtraction

Mode = Literal["tools", "json_schema", "md_json"]
Message = dict[str, str]


@dataclass(frozen=True)
class ModelSettings:
    """How to call a model. ``api_key`` is never printed (``repr=False``) nor stored."""

    model: str
    mode: Mode = "tools"
    temperature: float = 0.0
    max_tokens: int | None = 4096
    max_reasks: int = 2
    max_retries: int = 4
    timeout_s: float = 120.0
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ExtractionRequest:
    """One report, rendered into messages by a prompt, for one model."""

    report: Report
    messages: list[Message]
    settings: ModelSettings
    prompt: PromptInfo


@dataclass
class BackendResponse:
    """A validated extraction with what it cost and which records had to be dropped."""

    extraction: ReportExtraction
    usage: Usage = field(default_factory=Usage)
    dropped: list[DroppedRecord] = field(default_factory=list)
    raw: str | None = None


class Backend(Protocol):
    """A model behind one call: request in, validated :class:`BackendResponse` out.

    Raises :class:`llm_extract.errors.ExtractionError` (or a subclass) when the report fails
    after every retry and re-ask.
    """

    name: str
    #: False for backends whose answers cost nothing (the offline extractor): not cached.
    cacheable: bool

    async def extract(self, request: ExtractionRequest) -> BackendResponse: ...

    async def aclose(self) -> None: ...
