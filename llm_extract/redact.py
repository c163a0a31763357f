"""Keep secrets out of every message, log and output the package writes."""

from __future__ import annotations

from collections.abc import Iterable

MASK = "***"
_MIN_SECRET = 4  # shorter strings would mask ordinary text


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each secret (an API key...) replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET:
            text = text.replace(secret, MASK)
    return text
