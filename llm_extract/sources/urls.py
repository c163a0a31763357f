"""URLs as inputs: recognising them, files that list them, and report ids made from them.

A *file of URLs* is recognised by its suffix, ``.urls``: one URL per line; blank lines and
lines starting with ``#`` are skipped, and so is anything after `` #`` on a line. A line that
is not an ``http://`` or ``https://`` URL is a bad input of its own (named by file and line
number), and the other lines still run.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from llm_extract.errors import InputError
from llm_extract.redact import redact_url

URLS_SUFFIX = ".urls"
_SCHEMES = ("http://", "https://")
_UNSAFE = re.compile(r"[^\w.-]+")
_MAX_ID = 80


def is_url(raw: str) -> bool:
    """True for an ``http://`` or ``https://`` URL (case-insensitive scheme)."""
    return raw[:8].lower().startswith(_SCHEMES)


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be fetched (no host, a space in it...), or None when it can."""
    if any(ch.isspace() for ch in url) or any(unicodedata.category(ch) == "Cc" for ch in url):
        return "not a valid URL (white space or control characters)"
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if not parts.hostname:
        return "not a valid URL (no host)"
    return None


def shown_url(url: str) -> str:
    """``url`` fit for a message: credentials masked, control characters (a terminal escape
    sequence hidden in a URL) written as ``\\xNN``."""
    masked = redact_url(url)
    return "".join(
        f"\\x{ord(ch):02x}" if unicodedata.category(ch) in {"Cc", "Cf"} else ch for ch in masked
    )


def read_url_file(path: Path) -> tuple[list[str], list[InputError]]:
    """The URLs listed in a ``.urls`` file, and one error per line that is not a URL."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [InputError(path, f"cannot read ({exc.strerror})")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [InputError(path, f"not UTF-8 text (bad byte at offset {exc.start})")]
    urls: list[str] = []
    errors: list[InputError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split(" #", 1)[0].strip()
        if not entry or entry.startswith("#"):
            continue
        problem = None if is_url(entry) else "not an http:// or https:// URL"
        problem = problem or check_url(entry)
        if problem is not None:
            shown = shown_url(entry)[:200]
            errors.append(InputError(f"{path}:{number}", f"{problem}: {shown}"))
            continue
        urls.append(entry)
    if not urls and not errors:
        errors.append(InputError(path, "lists no URL"))
    return urls, errors


def url_report_id(url: str) -> str:
    """A report id for a URL: its last path segment without the extension
    (``https://site/news/item-123.html`` -> ``item-123``), else the host; only letters,
    digits, ``_``, ``.`` and ``-``."""
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    stem = ""
    if segments:
        stem = segments[-1].rsplit(".", 1)[0] if "." in segments[-1] else segments[-1]
    if not _UNSAFE.sub("", stem):
        stem = parts.hostname or "page"
    cleaned = _UNSAFE.sub("-", stem).strip("-.") or "page"
    return cleaned[:_MAX_ID]


def url_host(url: str) -> str:
    """The host of ``url`` as a folder-like prefix for ids that collide (``site.org``)."""
    return _UNSAFE.sub("-", urlsplit(url).hostname or "web").strip("-.") or "web"
