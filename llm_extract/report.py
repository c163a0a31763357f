"""The input of an extraction: one report's text and where it came from (network-free)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Report:
    """One input report: its id (file stem, or ``stdin``), text and where it came from."""

    report_id: str
    text: str
    path: str
    sha256: str = field(default="")

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", sha256_text(self.text))

    @classmethod
    def from_path(cls, path: Path, text: str) -> Report:
        return cls(report_id=path.stem, text=text, path=str(path))
