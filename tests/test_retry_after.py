"""One reading of Retry-After for the retry loop and the rate limiter: milliseconds, seconds
and HTTP dates, never negative, nonsense ignored."""

from __future__ import annotations

import email.utils

import pytest

from llm_extract.retry_after import retry_after_seconds

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the finer one wins
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"retry-after": email.utils.formatdate(NOW - 30, usegmt=True)}, 0.0),
        ({"retry-after": "whenever"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after-ms": "inf"}, None),
        ({}, None),
    ],
)
def test_forms(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers, now=NOW) == expected


def test_the_transport_and_the_backend_read_the_same_header() -> None:
    from llm_extract.backends.chat import client
    from llm_extract.run import transport

    assert transport.retry_after_seconds is client.retry_after_seconds
