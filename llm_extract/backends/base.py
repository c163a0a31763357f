"""The one small interface every model backend implements. No network here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from llm_extract.report import Report
from llm_extract.results import DroppedRecord, PromptInfo, Usage
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import (
    DEFAULT_MAX_REASKS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_TOKENS,
    DEFAULT_MODE,
    DEFAULT_TEMPERATURE,
    DEFAULT_TIMEOUT_S,
    ConcreteMode,
    Credentials,
    Mode,
)

#: One chat message as sent: role and content, and for tool calls and tool results the fields
#: those carry. The one message type of the package (prompts render them, modes add to them).
Message = dict[str, Any]


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; the run layer and the commands ask these, never the model name."""

    #: needs an API key, or a base URL for a server that needs no key (``credentials`` says
    #: whose: ``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``...)
    needs_credentials: bool
    #: sends HTTP requests: rate limits, the request log and ``--dry-run`` bodies apply
    http: bool
    #: answers cost money or time: cached under the request key
    cacheable: bool
    #: can go through the OpenAI Batch API
    batch_api: bool
    #: renders the prompt (False: prompts are ignored, so an eval runs it once)
    uses_prompt: bool
    #: written by people who read the project's gold reports (the offline rules): its scores
    #: on the reports ``evals/splits.toml`` lists as ``dev`` or ``spent`` are not a measure
    #: of how it does on new reports
    written_from_gold: bool = False
    #: whose key and base URL it is given (settings.CREDENTIAL_ENVS)
    credentials: Credentials = "openai"
    #: the one mode it sends, which ``--mode auto`` means for it (None: it has several)
    fixed_mode: ConcreteMode | None = None


@dataclass(frozen=True)
class ModelSettings:
    """How to call a model. ``api_key`` and ``base_url`` are never printed (``repr=False``)
    nor stored. ``mode`` is taken as given: the run layer builds these settings
    (:func:`llm_extract.run.stack.model_settings`), with ``auto`` on OpenAI's own API already
    made ``tools`` there."""

    model: str
    mode: Mode = DEFAULT_MODE
    temperature: float = DEFAULT_TEMPERATURE
    max_tokens: int | None = DEFAULT_MAX_TOKENS
    max_reasks: int = DEFAULT_MAX_REASKS
    max_retries: int = DEFAULT_MAX_RETRIES
    timeout_s: float = DEFAULT_TIMEOUT_S
    base_url: str | None = field(default=None, repr=False)  # may carry a password
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ExtractionRequest:
    """One report, rendered into messages by a prompt, for one model, with its
    content-addressed request key (:func:`llm_extract.run.keys.request_key`), computed once
    by the run layer."""

    report: Report
    messages: list[Message]
    settings: ModelSettings
    prompt: PromptInfo
    key: str = ""


@dataclass
class BackendResponse:
    """A validated extraction with what it cost and which records had to be dropped."""

    extraction: ReportExtraction
    usage: Usage = field(default_factory=Usage)
    dropped: list[DroppedRecord] = field(default_factory=list)
    raw: str | None = None
    #: the concrete mode that produced the answer (None: unknown, e.g. an old cache entry)
    mode: str | None = None


class Backend(Protocol):
    """A model behind one call: request in, validated :class:`BackendResponse` out.

    Raises :class:`llm_extract.errors.ExtractionError` (or a subclass) when the report fails
    after every retry and re-ask.
    """

    name: str

    async def extract(self, request: ExtractionRequest) -> BackendResponse: ...

    async def aclose(self) -> None: ...
