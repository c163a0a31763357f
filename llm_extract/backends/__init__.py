"""Model backends behind one interface (:class:`~llm_extract.backends.base.Backend`), found
through one registry.

Each entry says which model names it serves, what it can do (:class:`Capabilities`) and how
to build it. Adding a backend means writing its module and adding one line to
:data:`REGISTRY`; nothing else compares model names. Another package adds one without editing
this one: it declares an entry point in the group :data:`ENTRY_POINT_GROUP` whose object is a
:class:`BackendSpec` (``[project.entry-points."llm_extract.backends"] mine =
"my_pkg.backend:SPEC"``). Entry points are read the first time a model name is looked up
past the built-in backends that serve names of their own, and each is imported then.
Backends are imported only when one is built, so listing capabilities imports no backend
module and no HTTP client (``base`` imports the data contract, which every command loads
anyway).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from llm_extract.backends.base import Backend, Capabilities, ModelSettings
from llm_extract.errors import UsageError
from llm_extract.settings import Credentials

if TYPE_CHECKING:
    from llm_extract.backends.chat.auto import ModeMemory
    from llm_extract.backends.chat.client import HttpClient


class Factory(Protocol):
    """Builds a backend; the HTTP client (when given) carries the run's transport layers, and
    ``memory`` keeps what ``--mode auto`` learns about a server between runs."""

    def __call__(
        self,
        settings: ModelSettings,
        http_client: HttpClient | None = None,
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
    http_client: HttpClient | None = None,
    memory: ModeMemory | None = None,
) -> Backend:
    from llm_extract.backends.rules import RulesBackend

    return RulesBackend()


def _openai(
    settings: ModelSettings,
    http_client: HttpClient | None = None,
    memory: ModeMemory | None = None,
) -> Backend:
    from llm_extract.backends.openai_compat import OpenAIBackend

    return OpenAIBackend(settings, http_client=http_client, memory=memory)


def _instructor(
    settings: ModelSettings,
    http_client: HttpClient | None = None,
    memory: ModeMemory | None = None,
) -> Backend:
    from llm_extract.backends.instructor_backend.backend import InstructorBackend

    return InstructorBackend(settings, http_client=http_client)


def _prefixed(prefix: str) -> Callable[[str], bool]:
    return lambda model: model.startswith(prefix)


def _instructor_spec(provider: Credentials, api: str) -> BackendSpec:
    """A provider served through instructor: ``<provider>/<model>``, its own key and base
    URL, tool use as its one mode."""
    return BackendSpec(
        name=provider,
        description=f"{api} through instructor ({provider}/<model>)",
        capabilities=Capabilities(
            needs_credentials=True,
            http=True,
            cacheable=True,
            batch_api=True,
            uses_prompt=True,
            credentials=provider,
            fixed_mode="tools",
        ),
        serves=_prefixed(f"{provider}/"),
        create=_instructor,
    )


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
    _instructor_spec("anthropic", "Anthropic's Messages API"),
    _instructor_spec("google", "Google's Gemini API"),
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


#: The entry-point group through which other packages register backends.
ENTRY_POINT_GROUP = "llm_extract.backends"


@functools.cache
def plugins() -> tuple[BackendSpec, ...]:
    """The backends other packages register (entry points of :data:`ENTRY_POINT_GROUP`),
    imported on first use. Raises :class:`UsageError` naming an entry point that does not
    load or is not a :class:`BackendSpec`."""
    from importlib.metadata import entry_points

    found: list[BackendSpec] = []
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        try:
            spec = point.load()
        except Exception as exc:  # a broken plugin is named, not a traceback
            raise UsageError(
                f"backend plug-in {point.name!r} ({point.value}) does not load: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if not isinstance(spec, BackendSpec):
            raise UsageError(f"backend plug-in {point.name!r} ({point.value}) is not a BackendSpec")
        found.append(spec)
    return tuple(found)


def _specs() -> tuple[BackendSpec, ...]:
    """Every backend, in the order names are matched: the built-in ones that serve names of
    their own, the plug-ins, then the one that serves every other name."""
    *own, fallback = REGISTRY
    return (*own, *plugins(), fallback)


def spec_for(model: str) -> BackendSpec:
    """The registered backend that serves ``model`` (the plug-ins are read only when no
    built-in backend serves it by name)."""
    for spec in REGISTRY[:-1]:
        if spec.serves(model):
            return spec
    return next(spec for spec in _specs() if spec.serves(model))


def known_model_names() -> list[str]:
    """The model names the backends serve by name (the price table knows the others)."""
    return [name for spec in _specs() for name in spec.names]


def capabilities(model: str) -> Capabilities:
    return spec_for(model).capabilities


def get_backend(
    settings: ModelSettings,
    http_client: HttpClient | None = None,
    memory: ModeMemory | None = None,
) -> Backend:
    """A new backend for ``settings.model`` (the caller closes it with ``aclose``)."""
    return spec_for(settings.model).create(settings, http_client, memory)
