"""The input of an extraction: one report's text and where it came from (network-free), and
the one rule that says when two inputs or two result lines are the same report.

**One report, counted once.** Two reports are the same when their texts are (:func:`text_key`:
the sha256 of the text after :func:`llm_extract.normalize.normalize`, so a ``.txt`` and the
main text of a page that holds it are one report), or when they were fetched from the same URL
in another spelling (:func:`canonical_url`: no fragment, scheme and host lower-cased, dot
segments removed, default port dropped, the query string kept). :func:`one_per_report` keeps
the first of each report and names the others; ``extract``, ``batch prepare``, ``summary``,
``export`` and ``score`` all go through it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import unicodedata
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

from llm_extract.normalize import normalize

T = TypeVar("T")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def text_key(text: str) -> str:
    """The identity of a report's text: the sha256 of its normalised text (Unicode NFC, then
    :func:`~llm_extract.normalize.normalize`: white space, diacritics, tatweel, alef/hamza
    forms, Arabic-Indic digits), so line breaks and spelling variants do not make two
    reports of one."""
    return sha256_text(normalize(unicodedata.normalize("NFC", text)))


def canonical_url(url: str) -> str:
    """One spelling of ``url``: fragment dropped, scheme and host lower-cased, credentials
    dropped, dot segments removed (RFC 3986), the default port dropped, the query kept.
    A URL that cannot be parsed is returned as it is."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, _remove_dot_segments(parts.path) or "/", parts.query, ""))


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    for segment in path.split("/"):
        if segment == ".":
            continue
        if segment == "..":
            if len(out) > 1:
                out.pop()
            continue
        out.append(segment)
    cleaned = "/".join(out)
    if path.endswith(("/.", "/..")) and not cleaned.endswith("/"):
        cleaned += "/"
    return cleaned


@dataclass(frozen=True)
class Identity:
    """What makes a report the same as another: its :func:`text_key`, and the
    :func:`canonical_url` it was fetched from (None for a file or stdin)."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class Duplicate(Generic[T]):
    """An input or a result left out because it is the same report as ``kept``."""

    item: T
    kept: T
    #: "same text" or "same URL"
    reason: str


def one_per_report(
    items: Iterable[T],
    identity: Callable[[T], Identity],
    *,
    better: Callable[[T, T], bool] | None = None,
    scope: Callable[[T], Hashable] | None = None,
) -> tuple[list[T], list[Duplicate[T]]]:
    """The first item of each report, in order, and the duplicates left out.

    ``better(new, kept)`` says whether a later duplicate should take the kept one's place
    (a successful result over a failed one); ``scope`` separates items that are never the
    same report (one configuration's results from another's).
    """
    kept: list[T] = []
    duplicates: list[Duplicate[T]] = []
    seen: dict[tuple[Hashable, str, str], int] = {}
    for item in items:
        who = identity(item)
        where = scope(item) if scope is not None else None
        keys = [(where, "text", who.text)]
        if who.url is not None:
            keys.append((where, "url", who.url))
        at = next((seen[k] for k in keys if k in seen), None)
        if at is None:
            for k in keys:
                seen[k] = len(kept)
            kept.append(item)
            continue
        same_url = len(keys) > 1 and seen.get(keys[1]) == at
        reason = "same URL" if same_url else "same text"
        if better is not None and better(item, kept[at]):
            duplicates.append(Duplicate(kept[at], item, reason))
            kept[at] = item
        else:
            duplicates.append(Duplicate(item, kept[at], reason))
        for k in keys:
            seen.setdefault(k, at)
    return kept, duplicates


@dataclass(frozen=True)
class Report:
    """One input report: its id (file stem, or ``stdin``), text and where it came from.

    ``text`` is what is hashed, sent, grounded and offset: for a web page or a PDF it is
    the main text recovered from it. Provenance, when the source has it: ``url`` (the page
    fetched, after redirects, credentials masked), ``title``, ``published`` (the publication
    date from the page's metadata, the anchor of relative and yearless dates) and
    ``fetched_at``.
    """

    report_id: str
    text: str
    path: str
    sha256: str = field(default="")
    url: str | None = None
    title: str | None = None
    published: dt.date | dt.datetime | None = None
    fetched_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", sha256_text(self.text))

    @functools.cached_property
    def text_key(self) -> str:
        """The identity of this report's text (:func:`text_key`), computed once per report
        (the stream asks it to know a report given twice, the result to record it; each
        normalises the whole text)."""
        return text_key(self.text)

    def identity(self) -> Identity:
        """What makes another input the same report (see the module doc)."""
        return Identity(self.text_key, canonical_url(self.url) if self.url else None)

    @classmethod
    def from_path(cls, path: Path, text: str) -> Report:
        return cls(report_id=path.stem, text=text, path=str(path))

    @property
    def content_key(self) -> str:
        """What an answer about this report depends on, besides prompt and model: the sha256
        of its text and, when it has one, of its publication date too (relative dates are
        resolved against it, so the same text published another day is another answer)."""
        if self.published is None:
            return self.sha256
        return sha256_text(f"{self.sha256}\npublished={self.published.isoformat()}")

    def validation_context(self) -> dict[str, Any]:
        """The context an answer about this report is validated with (see ``schemas``):
        the text it must be grounded in, its id and its publication date."""
        return {"source": self.text, "report_id": self.report_id, "published": self.published}
