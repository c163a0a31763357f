"""Model backends behind one interface (:class:`~llm_extract.backends.base.Backend`), found
through one registry.

Each entry says which model names it serves, what it can do (:class:`Capabilities`) and how
to build it. Adding a backend means writing its module and adding one line to
:data:`REGISTRY`; nothing else compares model names. Backends are imported only when one is
built, so listing capabilities imports no backend module and no HTTP client (``base`` imports
the data contract, which every command loads anyway).
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
    #: the model names it serves by name (offered when a name given is close to one)
    names: tuple[str, ...] = ()


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


#: Model name of the offline pattern extractor.
RULES_MODEL = "rules"

#: First match wins; the last entry serves every other name.
REGISTRY: tuple[BackendSpec, ...] = (
    BackendSpec(
        name=RULES_MODEL,
        description="offline pattern extractor for this report series: no key, no network",
        capabilities=Capabilities(
            needs_credentials=False,
            http=False,
            cacheable=False,
            batch_api=False,
            uses_prompt=False,
            written_from_gold=True,
        ),
        serves=lambda model: model == RULES_MODEL,
        create=_rules,
        names=(RULES_MODEL,),
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


def known_model_names() -> list[str]:
    """The model names the backends serve by name (the price table knows the others)."""
    return [name for spec in REGISTRY for name in spec.names]


def capabilities(model: str) -> Capabilities:
    return spec_for(model).capabilities


def get_backend(
    settings: ModelSettings,
    http_client: httpx.AsyncClient | None = None,
    memory: ModeMemory | None = None,
) -> Backend:
    """A new backend for ``settings.model`` (the caller closes it with ``aclose``)."""
    return spec_for(settings.model).create(settings, http_client, memory)
