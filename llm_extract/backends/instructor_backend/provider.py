"""What differs between the providers behind instructor: one :class:`Provider` each
(:mod:`.anthropic`, :mod:`.google`). No network here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from llm_extract.results import Usage

if TYPE_CHECKING:
    import httpx2
    import instructor


@dataclass(frozen=True)
class ClientOptions:
    """How to reach the provider; ``api_key`` and ``base_url`` are never printed."""

    api_key: str
    base_url: str | None
    timeout_s: float
    max_retries: int
    #: first backoff of the SDK's own retries (seconds), where the SDK lets it be set
    retry_base_s: float
    retry_cap_s: float
    http: httpx2.AsyncClient


@dataclass(frozen=True)
class ProviderError:
    """A failed request, read from the SDK's exception: the error kind of the results,
    a one-line reason, and whether the SDK retried it."""

    kind: str
    reason: str
    retried: bool
    status: int | None = None


class Provider(Protocol):
    #: the model-name prefix (``anthropic/claude-...``) and the pip extra of its SDK
    name: str
    #: the SDK's import name and the pip extra that installs it
    sdk: str

    def client(self, options: ClientOptions) -> instructor.AsyncInstructor: ...

    def request(self, messages: list[dict[str, str]], params: dict[str, Any]) -> dict[str, Any]: ...

    def usage(self, response: Any) -> Usage: ...

    def answer(self, response: Any) -> tuple[dict[str, Any] | None, str]: ...

    def truncated(self, response: Any) -> bool: ...

    def error(self, exc: BaseException) -> ProviderError | None: ...


def count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
