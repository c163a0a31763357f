"""The HTTP transport of ``--concurrency auto``: every chat-completions attempt waits for
:class:`~llm_extract.run.adaptive.AutoConcurrency` (a place in the window, the pacing) and
reports its answer back. :class:`AutoTransport` sits under the run's one ``httpx2`` client
(under the :class:`~llm_extract.run.transport.InstrumentedTransport` of ``--rpm``, ``--tpm``
and ``--log`` when they are asked for). Imported only when a run's first request is sent, so
a run answered from the cache imports no HTTP client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, TypeVar

import httpx2

from llm_extract.run.adaptive import AutoConcurrency, usage_total


class _Answer(Protocol):
    """What an httpx2 answer gives."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    async def aread(self) -> bytes: ...


_A = TypeVar("_A", bound=_Answer)


async def _gated(auto: AutoConcurrency, body: bytes, send: Callable[[], Awaitable[_A]]) -> _A:
    """``send()`` once ``auto`` lets it go; its answer, read whole, reported back."""
    ticket = await auto.enter(body)
    try:
        response = await send()
        await response.aread()
    except BaseException:
        await auto.leave(ticket, None, {}, None)
        raise
    used = usage_total(response.content) if auto.pacer.pacing else None
    await auto.leave(ticket, response.status_code, response.headers, used)
    return response


class AutoTransport(httpx2.AsyncBaseTransport):
    """Applies an :class:`AutoConcurrency` to every chat-completions attempt the run's
    ``httpx2`` client sends."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, auto: AutoConcurrency) -> None:
        self.inner = inner
        self.auto = auto

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method != "POST" or not request.url.path.endswith("/chat/completions"):
            return await self.inner.handle_async_request(request)
        return await _gated(
            self.auto, request.content, lambda: self.inner.handle_async_request(request)
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
