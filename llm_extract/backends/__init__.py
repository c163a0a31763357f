"""Model backends behind one interface (:class:`~llm_extract.backends.base.Backend`), found
through one registry.

Each entry says which model names it serves, what it can do (:class:`Capabilities`) and how
to build it. Adding a backend means writing its module and adding one line to
:data:`REGISTRY`; nothing else compares model names. Backends are imported only when one is
built, so listing capabilities costs no import of ``httpx`` or ``pydantic`` models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from llm_extract.backends.base import Backend, Capabilities, ModelSettings

if TYPE_CHECKING:
    import httpx

    from llm_extract.backends.chat.auto import ModeMemory


class Factory(Protocol):
    """Builds a backend; the HTTP client (when given) carries the run's transport layers, and
    ``memory`` keeps what ``--mode auto`` learns about a server between runs."""

    def __call__(
        self,
        settings: ModelSettings,
        http_client: httpx.AsyncClient | None = None,
        memory: ModeMemory | None = None,
    ) -> Backend: ...


@dataclass(frozen=True)
class BackendSpec:
    """One registered backend."""

    name: str
    description: str
    capabilities: Capabilities
    #: True for the model names this backend serves
    serves: Callable[[str], bool]
    #: builds the backend; the HTTP client (when given) carries the run's transport layers
    create: Factory


def _rules(
    settings: ModelSettings,
    http_client: httpx.AsyncClient | None = None,
    memory: ModeMemory | None = None,
) -> Backend:
    from llm_extract.backends.rules import RulesBackend

    return RulesBackend()


def _openai(
    settings: ModelSettings,
    http_client: httpx.AsyncClient | None = None,
    memory: ModeMemory | None = None,
) -> Backend:
    from llm_extract.backends.openai_compat import OpenAIBackend

    return OpenAIBackend(settings, http_client=http_client, memory=memory)


def _instructor(
    settings: ModelSettings,
    http_client: httpx.AsyncClient | None = None,
    memory: ModeMemory | None = None,
) -> Backend:
    from llm_extract.backends.instructor_backend.backend import InstructorBackend

    return InstructorBackend(settings, http_client=http_client)


def _prefixed(prefix: str) -> Callable[[str], bool]:
    return lambda model: model.startswith(prefix)


#: Model name of the offline pattern extractor.
RULES_MODEL = "rules"

#: First match wins; the last entry serves every other name.
REGISTRY: tuple[BackendSpec, ...] = (
    BackendSpec(
        name=RULES_MODEL,
        description="offline pattern extractor for this report series: no key, no network",
        capabilities=Capabilities(
            needs_credentials=False, http=False, cacheable=False, batch_api=False, uses_prompt=False
        ),
        serves=lambda model: model == RULES_MODEL,
        create=_rules,
    ),
    BackendSpec(
        name="anthropic",
        description="Anthropic's Messages API through instructor (anthropic/<model>)",
        capabilities=Capabilities(
            needs_credentials=True,
            http=True,
            cacheable=True,
            batch_api=True,
            uses_prompt=True,
            credentials="anthropic",
            fixed_mode="tools",
        ),
        serves=_prefixed("anthropic/"),
        create=_instructor,
    ),
    BackendSpec(
        name="google",
        description="Google's Gemini API through instructor (google/<model>)",
        capabilities=Capabilities(
            needs_credentials=True,
            http=True,
            cacheable=True,
            batch_api=True,
            uses_prompt=True,
            credentials="google",
            fixed_mode="tools",
        ),
        serves=_prefixed("google/"),
        create=_instructor,
    ),
    BackendSpec(
        name="openai",
        description="OpenAI or any OpenAI-compatible chat-completions server",
        capabilities=Capabilities(
            needs_credentials=True, http=True, cacheable=True, batch_api=True, uses_prompt=True
        ),
        serves=lambda model: True,
        create=_openai,
    ),
)


def spec_for(model: str) -> BackendSpec:
    """The registered backend that serves ``model``."""
    return next(spec for spec in REGISTRY if spec.serves(model))


def capabilities(model: str) -> Capabilities:
    return spec_for(model).capabilities


def get_backend(
    settings: ModelSettings,
    http_client: httpx.AsyncClient | None = None,
    memory: ModeMemory | None = None,
) -> Backend:
    """A new backend for ``settings.model`` (the caller closes it with ``aclose``)."""
    return spec_for(settings.model).create(settings, http_client, memory)
