"""The on-disk cache of fetched pages, so that a re-run downloads nothing that has not changed.

One entry per URL in ``<cache folder>/web/``: ``<key>.json`` (status, content type,
``ETag``, ``Last-Modified``, fetch time, the final URL with its credentials masked) and
``<key>.body`` (the bytes), where the key is the sha256 of the URL as given. The URL itself
is never written in clear, so a key in a query string stays out of the cache. A later fetch
of the same URL sends ``If-None-Match`` / ``If-Modified-Since`` and, on ``304 Not
Modified``, uses the stored body. Entries are written atomically (temporary file, then
rename); an unreadable entry counts as absent.

The cache holds at most ``max_bytes`` (the ``web_cache_max_mb`` setting): a read marks an
entry as used (its ``.json`` file's modification time), and each write removes the least
recently used entries until the rest fit. A page larger than the whole cache is not kept.

Written here rather than with an HTTP caching library: those store the request URL in clear
(secrets in query strings would reach the disk) and cache by HTTP freshness rules, where
this cache always revalidates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from llm_extract.paths import private_dir
from llm_extract.settings import DEFAULT_WEB_CACHE_MAX_MB, environment


def default_web_cache_dir() -> Path:
    return private_dir(environment().cache_dir) / "web"


@dataclass(frozen=True)
class CachedPage:
    final_url: str  # credentials masked
    content_type: str
    body: bytes
    fetched_at: dt.datetime
    etag: str | None = None
    last_modified: str | None = None

    def validators(self) -> dict[str, str]:
        """The conditional request headers that revalidate this entry."""
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class WebCache:
    """Fetched pages by URL (see the module doc)."""

    def __init__(self, root: Path | None = None, *, max_bytes: int | None = None) -> None:
        self.root = root if root is not None else default_web_cache_dir()
        self.max_bytes = DEFAULT_WEB_CACHE_MAX_MB * 1024 * 1024 if max_bytes is None else max_bytes

    @staticmethod
    def key(url: str) -> str:
        return hashlib.sha256(url.encode("utf-8")).hexdigest()

    def get(self, url: str) -> CachedPage | None:
        key = self.key(url)
        try:
            meta = json.loads((self.root / f"{key}.json").read_text(encoding="utf-8"))
            body = (self.root / f"{key}.body").read_bytes()
            page = CachedPage(
                final_url=str(meta["final_url"]),
                content_type=str(meta["content_type"]),
                body=body,
                fetched_at=dt.datetime.fromisoformat(str(meta["fetched_at"])),
                etag=meta.get("etag"),
                last_modified=meta.get("last_modified"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if hashlib.sha256(body).hexdigest() != meta.get("sha256"):
            return None  # a body cut off or changed by hand
        with contextlib.suppress(OSError):
            os.utime(self.root / f"{key}.json")  # used now: the last to be evicted
        return page

    def put(self, url: str, page: CachedPage) -> None:
        """Store ``page`` for ``url``; a cache that cannot be written is skipped silently
        (the page was fetched all the same)."""
        key = self.key(url)
        meta = {
            "final_url": page.final_url,
            "content_type": page.content_type,
            "fetched_at": page.fetched_at.isoformat(),
            "etag": page.etag,
            "last_modified": page.last_modified,
            "sha256": hashlib.sha256(page.body).hexdigest(),
            "size": len(page.body),
        }
        data = json.dumps(meta).encode("utf-8")
        if len(page.body) + len(data) > self.max_bytes:
            return  # larger than the whole cache
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.root / f"{key}.body", page.body)
            _write_atomic(self.root / f"{key}.json", data)
            self.evict(keep=key)
        except OSError:
            return

    def size(self) -> int:
        """The bytes the cache holds (entries and their metadata)."""
        return sum(size for _, _, size in self._entries())

    def evict(self, keep: str | None = None) -> None:
        """Remove the least recently used entries (never ``keep``) until the cache holds at
        most ``max_bytes``."""
        entries = sorted(self._entries())
        total = sum(size for _, _, size in entries)
        for _, key, size in entries:
            if total <= self.max_bytes:
                break
            if key == keep:
                continue
            for suffix in (".json", ".body"):
                (self.root / f"{key}{suffix}").unlink(missing_ok=True)
            total -= size

    def _entries(self) -> list[tuple[float, str, int]]:
        """``(last use, key, bytes)`` of every entry; a body without its metadata counts as
        the oldest entry."""
        found: dict[str, list[float]] = {}
        try:
            listing = list(os.scandir(self.root))
        except OSError:
            return []
        for entry in listing:
            key, dot, suffix = entry.name.partition(".")
            if not dot or suffix not in ("json", "body") or len(key) != 64:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            used, size = found.setdefault(key, [0.0, 0.0])
            found[key] = [info.st_mtime if suffix == "json" else used, size + info.st_size]
        return [(used, key, int(size)) for key, (used, size) in found.items()]


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
