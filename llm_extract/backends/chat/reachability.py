"""Whether the server of a run can be reached at all, decided once for the whole run.

A server that refuses connections, a host name that does not resolve or a TLS handshake that
fails is not a transient fault of one report: retrying each report with backoff would take
an hour to tell the analyst that the URL is wrong. :class:`Reachability` counts the attempts
that could not connect; once :data:`CONNECT_FAILURES` of them have failed and not one request
of the run was answered, the server is declared unreachable: the request that saw it, every
request waiting between retries (woken at once) and every later one raise
:class:`~llm_extract.errors.ServerUnreachable`. A server that answered once in the run is
only ever retried (it may be restarting).
"""

from __future__ import annotations

import asyncio
import math

from llm_extract.errors import ServerUnreachable

#: Connection failures, with no answer in the run, that make the server unreachable.
CONNECT_FAILURES = 3


def connect_reason(error: BaseException) -> str:
    """A short reason for a failed connection: refused, no such host, TLS."""
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(parts) < 8:  # the HTTP client's error, then its causes
        parts.append(f"{type(seen).__name__} {seen}")
        if isinstance(seen, ConnectionRefusedError):
            parts.append("refused")
        seen = seen.__cause__ or seen.__context__
    text = " ".join(parts).lower()
    if "refused" in text:
        return "connection refused"
    if any(
        sign in text for sign in ("name or service", "nodename", "name resolution", "getaddrinfo")
    ):
        return "host name not found"
    if any(sign in text for sign in ("ssl", "tls", "certificate", "handshake")):
        return "TLS handshake failed"
    if "timeout" in text:
        return "connection timed out"
    return f"connection failed ({type(error).__name__})"


class Reachability:
    """The connect failures and answers of one server in one run (see the module doc)."""

    def __init__(self, server: str, *, threshold: int = CONNECT_FAILURES) -> None:
        self.server = server
        self.threshold = threshold
        self.failures = 0
        self.answered = False
        self.error: ServerUnreachable | None = None
        self._down: asyncio.Event | None = None

    def answer(self) -> None:
        """A request got an HTTP answer (any status): the server is there."""
        self.answered = True

    def connect_failed(self, error: BaseException) -> None:
        """An attempt could not connect; raises :class:`ServerUnreachable` once the server
        counts as unreachable."""
        self.failures += 1
        if self.error is None and not self.answered and self.failures >= self.threshold:
            self.error = ServerUnreachable(self.server, connect_reason(error))
            if self._down is not None:
                self._down.set()
        self.check()

    def check(self) -> None:
        """Raises :class:`ServerUnreachable` when the server was found unreachable."""
        if self.error is not None:
            raise ServerUnreachable(self.error.server, self.error.reason)

    async def sleep(self, seconds: float) -> None:
        """The wait between two retries, cut short when the server is found unreachable."""
        if self.error is not None or seconds <= 0 or math.isnan(seconds):
            return
        if self._down is None:
            self._down = asyncio.Event()
        try:
            await asyncio.wait_for(self._down.wait(), timeout=seconds)
        except TimeoutError:
            return
