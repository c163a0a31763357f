"""Typed errors raised by the library. Only the CLI turns them into messages and exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class LlmExtractError(Exception):
    """Base class of every error the library raises on purpose."""


class InputError(LlmExtractError):
    """A report that cannot be read or is not a report (missing, empty, binary, too long...)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class UnsafeNameError(InputError):
    """A name taken from data (a report id...) that would leave its folder as a file name:
    it holds a path separator, is empty, is ``.`` or ``..``, or is an absolute path."""

    def __init__(self, folder: str | Path, name: str, reason: str, *, what: str = "name") -> None:
        self.folder = str(folder)
        self.name = name
        super().__init__(folder, f"{what} {name!r} cannot name a file in this folder ({reason})")


class UsageError(LlmExtractError):
    """A bad option or configuration (unknown prompt, unknown model, bad value)."""


class PromptError(UsageError):
    """A prompt file that is missing or malformed."""


class GoldError(LlmExtractError):
    """A gold file that does not load or does not validate; names the file and field path."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ExtractionError(LlmExtractError):
    """A report whose extraction failed after every retry and re-ask.

    Carries the attempt count, the last raw completion (if any), the tokens spent and the
    mode the request was sent in (when one was).
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "extraction_failed",
        attempts: int = 0,
        last_completion: Any = None,
        usage: Any = None,
        mode: str | None = None,
    ) -> None:
        self.kind = kind
        self.attempts = attempts
        self.last_completion = last_completion
        self.usage = usage
        self.mode = mode
        super().__init__(message)


class ProviderError(ExtractionError):
    """The model server could not be reached or kept failing (HTTP errors, timeouts)."""


#: The kind of :class:`ServerUnreachable`: reports that failed with it were never answered,
#: so a run leaves them for ``--resume`` instead of writing a failed line for each.
UNREACHABLE_KIND = "server_unreachable"


class ServerUnreachable(ProviderError):
    """The server of a run cannot be connected to at all (connection refused, no such host,
    TLS handshake failed) and never answered in this run: every report of the run stops.
    ``server`` is its ``host:port``, without credentials."""

    def __init__(self, server: str, reason: str) -> None:
        self.server = server
        self.reason = reason
        super().__init__(f"cannot connect to the server {server} ({reason})", kind=UNREACHABLE_KIND)


class CacheError(LlmExtractError):
    """The response cache cannot be opened, read or written (corrupt file, locked too long).

    ``entry_only``: one stored entry does not load; the cache itself works.
    """

    def __init__(self, path: str | Path, reason: str, *, entry_only: bool = False) -> None:
        self.path = str(path)
        self.reason = reason
        self.entry_only = entry_only
        super().__init__(f"{self.path}: {reason}")


class BudgetExceeded(LlmExtractError):
    """A run reached ``--max-cost`` or ``--max-tokens-total``; finished work is kept."""


class AnnotationError(LlmExtractError):
    """An ``annotate`` request that cannot be carried out; the app answers it with a status."""


class UnknownReport(AnnotationError):
    """A report id that is not in the output file being annotated."""


class ReadOnlyReport(AnnotationError):
    """A report that can be looked at but not annotated (text missing or changed, ...)."""


class AnnotationConflict(AnnotationError):
    """The draft or gold file changed since the page loaded it (another tab, another process)."""


class InvalidAnnotation(AnnotationError):
    """A draft that does not validate; ``errors`` holds one dict per failing field."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__(message)
