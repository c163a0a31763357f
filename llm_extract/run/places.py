"""Places of which at most a changing number are held at a time: a semaphore whose size is
read from a callable whenever a place is asked for or freed.

Two users: ``--concurrency auto``'s window of requests in flight
(:class:`llm_extract.run.adaptive.AutoConcurrency`) and the reports a run holds in hand
(:func:`llm_extract.run.pipeline.stream_requests`). Places are handed to the waiters in
turn, one wake-up per place freed, never all at once (hundreds may wait); when the size
shrinks, places already held stay held and no new one is handed out until fewer are.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable


class Places:
    """At most ``size()`` places held at a time (None: no bound; at least one always)."""

    def __init__(self, size: Callable[[], int] | None) -> None:
        self._size = size
        #: places held now (handed to a waiter that has not run yet included)
        self.held = 0
        self._closed = False
        self._waiting: deque[asyncio.Future[bool]] = deque()

    @property
    def waiting(self) -> int:
        """Takers waiting for a place."""
        return len(self._waiting)

    @property
    def free(self) -> bool:
        """Whether a taker would get a place at once."""
        return not self._waiting and self._room()

    def _room(self) -> bool:
        return self._size is None or self.held < max(1, self._size())

    async def take(self) -> bool:
        """Wait for a place, in turn; False once :meth:`close` said there are no more."""
        if self._closed:
            return False
        if self.free:
            self.held += 1
            return True
        place: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(place)
        try:
            return await place  # handed a place (True), or told there are no more (False)
        except BaseException:
            if place.done() and not place.cancelled():
                if place.result():
                    self.give_back()  # a place handed over just as it was cancelled
            else:
                self._waiting.remove(place)
            raise

    def give_back(self) -> None:
        """Free a place; hand places to the waiters, in turn, while there is room."""
        self.held -= 1
        while self._waiting and self._room():
            place = self._waiting.popleft()
            if not place.done():
                self.held += 1
                place.set_result(True)

    def close(self) -> None:
        """No more places: every waiter, and every later taker, gets False."""
        self._closed = True
        while self._waiting:
            place = self._waiting.popleft()
            if not place.done():
                place.set_result(False)
