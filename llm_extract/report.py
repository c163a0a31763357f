"""The input of an extraction: one report's text and where it came from (network-free)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
