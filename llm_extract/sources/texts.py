"""The exact text each result was extracted from, for the review page, the eval and exports.

The text of a web page, a PDF or stdin exists nowhere on disk once it is extracted, yet
evidence offsets point into it. :func:`save_text` keeps it in a content-addressed store,
``<cache folder>/texts/<sha256>.txt``, when the report is read; :func:`report_text` is the
one function that gives the text of a result back (used by ``view`` and by the annotation
app): from the store, else from the ``--reports`` folders, then the result's source file
(its absolute ``source.path``; a relative one, written before, as written and then relative
to the results file), read the way ``extract`` read it, and only when its sha256 is the one
recorded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from llm_extract.errors import InputError
from llm_extract.outputs import write_text
from llm_extract.paths import child_path, private_dir
from llm_extract.report import sha256_text
from llm_extract.results import ExtractionResult
from llm_extract.settings import environment

TEXT_OK = "ok"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def default_text_store() -> Path:
    return private_dir(environment().cache_dir) / "texts"


def text_path(sha256: str, store: Path | None = None) -> Path | None:
    """Where the text of this hash is kept (None for a string that is not a sha256)."""
    if not _SHA256.fullmatch(sha256):
        return None  # a hash from a hand-edited file never becomes a path
    return (store if store is not None else default_text_store()) / f"{sha256}.txt"


def save_text(text: str, store: Path | None = None) -> Path | None:
    """Keep ``text`` under its sha256 (atomic write); None when the store is not writable."""
    path = text_path(sha256_text(text), store)
    assert path is not None
    if path.is_file():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
    except OSError:
        return None
    return path


def stored_text(sha256: str, store: Path | None = None) -> str | None:
    """The stored text with this sha256, or None (absent, unreadable or altered)."""
    path = text_path(sha256, store)
    if path is None:
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text if sha256_text(text) == sha256 else None


def report_text(
    result: ExtractionResult,
    reports_dirs: Sequence[Path] = (),
    base: Path | None = None,
    store: Path | None = None,
) -> tuple[str | None, str, str | None]:
    """``(text, state, message)``: the text ``result`` was extracted from, if it can be had.

    ``state`` is ``"ok"``, ``"missing"`` or ``"changed"`` (a file whose sha256 differs from
    the recorded one), with a message saying why when it is not ``"ok"``.
    """
    text = stored_text(result.source.sha256, store)
    if text is not None:
        return text, TEXT_OK, None
    from llm_extract.sources.files import read_source_text
    from llm_extract.sources.urls import is_url

    if result.source.path == "-":
        return None, "missing", "the report came from stdin and its text was not kept"
    if is_url(result.source.path) and not reports_dirs:
        return None, "missing", "the text of this web page was not kept on this machine"
    candidates = _candidates(result, reports_dirs, base)
    changed: str | None = None
    for path in candidates:
        if not path.is_file():
            continue
        try:
            text = read_source_text(path)
        except InputError as exc:
            return None, "missing", f"cannot read the report text ({exc})"
        if sha256_text(text) == result.source.sha256:
            return text, TEXT_OK, None
        changed = changed or str(path)
    if changed is not None:
        return (
            None,
            "changed",
            f"{changed} has changed since the extraction (sha256 differs); highlights are off",
        )
    tried = ", ".join(str(p) for p in candidates)
    return None, "missing", f"report text not found ({tried}); highlights are off"


def _candidates(
    result: ExtractionResult, reports_dirs: Sequence[Path], base: Path | None
) -> list[Path]:
    from llm_extract.sources.files import SUPPORTED_SUFFIXES
    from llm_extract.sources.urls import is_url

    source = Path(result.source.path)
    paths: list[Path] = []
    for folder in reports_dirs:
        if not is_url(result.source.path) and source.name not in ("", ".", ".."):
            paths.append(folder / source.name)  # a name, never a path (Path.name)
        paths.extend(  # an unsafe report id is an error, never a file read elsewhere
            child_path(folder, result.report_id, suffix, what="report id")
            for suffix in SUPPORTED_SUFFIXES
        )
    if not is_url(result.source.path):  # the --reports folders add to source.path
        paths.append(source)
        if not source.is_absolute() and base is not None:  # a result written before: relative
            paths.append(base / source)
    return list(dict.fromkeys(paths))
