"""``--mode auto``: which mode a server takes, found once per run and remembered.

The first report of a run probes: it is sent in each mode of
:data:`~llm_extract.backends.modes.AUTO_ORDER` in turn until the server does not refuse one
(a refusal is a 400/422, or a 500 that is a request-validation error, naming a parameter of
the mode: see :meth:`~llm_extract.backends.chat.rejection.Rejection.refuses`). The other
reports wait for that answer (a single flight, not a probe each) and then go straight to the
mode found. The mode is remembered per server and model in a :class:`ModeMemory` (the run
layer keeps it in the cache database), so later runs do not probe at all; a remembered mode
the server refuses later (a different server on the same address) is forgotten and probed
again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from llm_extract.errors import LlmExtractError
from llm_extract.settings import CONCRETE_MODES, ConcreteMode


class ModeMemory(Protocol):
    """Where the working mode of each (server, model) is kept between runs. Implementations
    may raise any :class:`~llm_extract.errors.LlmExtractError`; a failing memory only costs
    a probe."""

    def recall(self, server: str, model: str) -> str | None: ...

    def remember(self, server: str, model: str, mode: str) -> None: ...

    def forget(self, server: str, model: str) -> None: ...


def server_id(base_url: str | None) -> str:
    """The server of a base URL as remembered: scheme, host, port and path, without any
    credentials or query (never stored)."""
    if not base_url:
        return "https://api.openai.com/v1"
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


class AutoMode:
    """The mode of one server and model for ``auto``, resolved by a single flight."""

    def __init__(self, server: str, model: str, memory: ModeMemory | None) -> None:
        self.server = server
        self.model = model
        self.memory = memory
        self.resolved: ConcreteMode | None = None
        self._flight: asyncio.Future[None] | None = None
        self._recalled = False

    async def acquire(self) -> ConcreteMode | None:
        """The mode to use, or ``None``: then the caller probes and must call :meth:`settle`
        (with the mode found, or ``None``) exactly once. Others wait meanwhile."""
        while True:
            if self.resolved is not None:
                return self.resolved
            if self._flight is None:
                self._flight = asyncio.get_running_loop().create_future()
                if not self._recalled:
                    self._recalled = True
                    recalled = await self._recall()
                    if recalled is not None:
                        self.resolved = recalled
                        self._land()
                        return recalled
                return None
            await asyncio.shield(self._flight)

    async def settle(self, mode: ConcreteMode | None) -> None:
        """The probe's outcome: the mode the server took (remembered), or ``None`` (nothing
        learnt: the next report probes)."""
        if mode is not None:
            self.resolved = mode
            self._land()
            await self._call(self._remember, mode)
        else:
            self._land()

    async def refused(self, mode: ConcreteMode) -> bool:
        """The server refused ``mode`` although it was resolved (remembered from another
        run, or the server changed): forget it. True when it was the resolved mode."""
        if self.resolved != mode:
            return False
        self.resolved = None
        await self._call(self._forget)
        return True

    def _land(self) -> None:
        flight, self._flight = self._flight, None
        if flight is not None and not flight.done():
            flight.set_result(None)

    async def known(self) -> ConcreteMode | None:
        """The mode resolved in this run, else the one remembered (no probe)."""
        return self.resolved or await self._recall()

    async def _recall(self) -> ConcreteMode | None:
        if self.memory is None:
            return None
        found = await self._call(self.memory.recall, self.server, self.model)
        return next((m for m in CONCRETE_MODES if m == found), None)

    def _remember(self, mode: str) -> None:
        if self.memory is not None:
            self.memory.remember(self.server, self.model, mode)

    def _forget(self) -> None:
        if self.memory is not None:
            self.memory.forget(self.server, self.model)

    @staticmethod
    async def _call(fn: Callable[..., object], *args: str) -> str | None:
        """Run a memory call in a thread; a failing memory is only a lost shortcut."""
        with contextlib.suppress(LlmExtractError, OSError):
            result = await asyncio.to_thread(fn, *args)
            return result if isinstance(result, str) else None
        return None
