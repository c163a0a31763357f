"""Running a coroutine to the end from synchronous code."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)``, without rendering its result as text.

    On Python 3.11, ``asyncio.run`` in the main thread ends by reading the SIGINT handler,
    and the way ``signal.getsignal`` reads it formats the handler with ``%r``: a partial
    that holds the main task, whose repr holds the repr of the task's *result*. For a run
    that returns every result of thousands of reports that is a second of CPU spent on a
    string nobody reads. The main task here returns nothing; the result travels beside it.
    """
    box: list[T] = []

    async def main() -> None:
        box.append(await coroutine)

    asyncio.run(main())
    return box[0]
