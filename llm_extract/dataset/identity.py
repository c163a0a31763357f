"""What makes two reports one report in the dataset: the project's one identity rule
(:func:`llm_extract.report.text_key`, the sha256 of the normalised text, and
:func:`llm_extract.report.canonical_url`), the same rule ``extract``, ``summary``, ``export``
and ``score`` use. A report whose text is not at hand is known by the ``text_key`` its result
line recorded, else by the sha256 of its exact text, until its text is seen.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from llm_extract.report import canonical_url, text_key


@dataclass(frozen=True)
class ReportIdentity:
    """The keys a report is known by. ``primary`` is its id in the dataset."""

    primary: str
    keys: tuple[str, ...]


def report_identity(
    *,
    text: str | None = None,
    sha256: str | None = None,
    url: str | None = None,
    recorded_key: str | None = None,
) -> ReportIdentity:
    """The identity of a report: ``norm:<text_key>`` when the text (or the key a result line
    recorded for it) is known, else ``sha:<sha256 of the exact text>``; every key it can be
    found by (the normalised hash, the exact hash, the canonical URL)."""
    keys: list[str] = []
    if text is not None:
        keys.append(f"norm:{text_key(text)}")
        keys.append(f"sha:{hashlib.sha256(text.encode('utf-8')).hexdigest()}")
    elif recorded_key:
        keys.append(f"norm:{recorded_key}")
    if text is None and sha256:
        keys.append(f"sha:{sha256}")
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        keys.append(f"url:{canonical_url(url)}")
    if not keys:
        raise ValueError("a report needs its text, its sha256 or its URL")
    return ReportIdentity(primary=keys[0], keys=tuple(dict.fromkeys(keys)))
