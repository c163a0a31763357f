"""Fetching report pages like a good citizen.

- httpx with a timeout per request and a user agent that names the tool and its version;
- retries (tenacity) with exponential backoff and jitter on 429, 5xx, timeouts and dropped
  connections, honouring ``Retry-After`` up to :attr:`FetchSettings.max_wait_s`; other HTTP
  errors (404, 403...) fail at once;
- redirects followed up to :attr:`FetchSettings.max_redirects` (a loop ends there), never
  into loopback, private, link-local or other non-public addresses unless the URL given is
  in that range itself (:mod:`llm_extract.sources.netguard`, checked before connecting);
- a deadline per URL (:attr:`FetchSettings.deadline_s`), every attempt and pause included:
  a server that drips its answer a byte at a time is cut there;
- a size limit, checked on ``Content-Length`` and while the body streams in, on the
  decoded bytes: ``Content-Encoding`` is undone a piece at a time
  (:mod:`llm_extract.sources.decoding`), so a compression bomb stops at the limit;
- HTML, plain text and PDF accepted (a body that starts with ``%PDF-`` is a PDF whatever its
  content type says); any other content type is a clear error;
- at most :attr:`FetchSettings.per_host` requests in flight per host, and
  :attr:`FetchSettings.concurrency` in all;
- an on-disk cache of pages revalidated with ``ETag`` / ``Last-Modified``
  (:mod:`llm_extract.sources.webcache`), of bounded size;
- pages handed on as they arrive (:func:`fetch_each`): at most
  :attr:`FetchSettings.concurrency` bodies are held at once, however many URLs there are.

Every failure is an :class:`~llm_extract.errors.InputError` naming the URL with its
credentials masked (:func:`llm_extract.redact.redact_url`); the other URLs still run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.message
import email.utils
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
)

from llm_extract import __version__
from llm_extract.errors import InputError
from llm_extract.redact import redact, redact_url
from llm_extract.sources.decoding import ACCEPT_ENCODING, BodyDecoder, DecodingError, TooLarge
from llm_extract.sources.fetch_settings import FetchSettings
from llm_extract.sources.netguard import ORIGIN, GuardedTransport
from llm_extract.sources.webcache import CachedPage, WebCache

USER_AGENT = f"llm-extract/{__version__} (report extraction for analysts; python-httpx)"
ContentKind = Literal["html", "pdf", "text"]
_KINDS: dict[str, ContentKind] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "text/plain": "text",
}
__all__ = [
    "USER_AGENT",
    "FetchSettings",
    "Fetched",
    "content_kind",
    "fetch_all",
    "fetch_each",
    "fetch_urls",
]
_TRANSIENT = frozenset({408, 425, 429, 500, 502, 503, 504})
_T = TypeVar("_T")


@dataclass(frozen=True)
class Fetched:
    """One page: its bytes, kind and where they came from."""

    url: str  # as given (may hold credentials: never print or store it)
    final_url: str  # after redirects, credentials masked
    kind: ContentKind
    body: bytes
    fetched_at: dt.datetime
    from_cache: bool = False  # True when the server answered 304 Not Modified
    charset: str | None = None  # the Content-Type's charset parameter, if any


class _Transient(Exception):
    """A failure worth retrying (429, 5xx, timeout, dropped connection)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def content_kind(content_type: str, body_start: bytes) -> ContentKind | None:
    """The kind of a response from its ``Content-Type`` (sniffed from the body if absent);
    a body that starts with ``%PDF-`` is a PDF whatever the type says."""
    if body_start.lstrip()[:5] == b"%PDF-":
        return "pdf"
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _KINDS:
        return _KINDS[media]
    if media and media not in {"application/octet-stream", "binary/octet-stream"}:
        return None
    head = body_start.lstrip()[:64].lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return None


async def fetch_all(
    urls: Sequence[str],
    settings: FetchSettings | None = None,
    cache: WebCache | None = None,
    *,
    transport: GuardedTransport | None = None,
) -> list[Fetched | InputError]:
    """Fetch every URL concurrently (within the limits); results in the order of ``urls``.
    Every connection goes through ``transport`` (by default a new :class:`GuardedTransport`)."""
    return await fetch_each(urls, _same, settings, cache, transport=transport)


def _same(page: Fetched) -> Fetched:
    return page


async def fetch_each(
    urls: Sequence[str],
    handle: Callable[[Fetched], _T],
    settings: FetchSettings | None = None,
    cache: WebCache | None = None,
    *,
    transport: GuardedTransport | None = None,
) -> list[_T | InputError]:
    """Fetch every URL concurrently (within the limits) and hand each page to ``handle`` as
    it arrives (in a worker thread, one page at a time; an :class:`InputError` it raises is
    that URL's): what ``handle`` returns, in the order of ``urls``. A page's body is let go
    once handled, and a fetch slot is held until then, so at most ``concurrency`` bodies
    are in memory whatever the number of URLs. Every connection goes through ``transport``
    (by default a new :class:`GuardedTransport`: no redirect into a private address)."""
    chosen = settings or FetchSettings()
    store = cache
    if store is None and chosen.use_cache:
        store = WebCache(max_bytes=chosen.cache_max_bytes)
    hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(chosen.per_host)
    )
    overall = asyncio.Semaphore(chosen.concurrency)
    handling = asyncio.Semaphore(1)
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(chosen.timeout_s),
        follow_redirects=True,
        max_redirects=chosen.max_redirects,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/pdf;q=0.9,*/*;q=0.5",
            "Accept-Encoding": ACCEPT_ENCODING,  # only what decoding.py undoes within limits
        },
        trust_env=False,  # no proxy or netrc credentials from the environment
        transport=transport if transport is not None else GuardedTransport(),
    ) as client:

        async def one(url: str) -> _T | InputError:
            host = (urlsplit(url).hostname or "").lower()
            async with overall:
                try:
                    page = await _fetch(client, url, chosen, store, hosts[host])
                    async with handling:
                        return await asyncio.to_thread(handle, page)
                except InputError as error:
                    return error

        return list(await asyncio.gather(*(one(u) for u in urls)))


def fetch_urls(
    urls: Sequence[str],
    settings: FetchSettings | None = None,
    cache: WebCache | None = None,
    *,
    transport: GuardedTransport | None = None,
) -> list[Fetched | InputError]:
    """Synchronous :func:`fetch_all` (runs its own event loop)."""
    return asyncio.run(fetch_all(urls, settings, cache, transport=transport))


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    settings: FetchSettings,
    cache: WebCache | None,
    host_slot: asyncio.Semaphore,
) -> Fetched:
    shown = redact_url(url)
    cached = cache.get(url) if cache is not None else None
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(_Transient),
        stop=stop_after_attempt(max(1, settings.attempts)),
        wait=_waiter(settings),
        reraise=True,
    )
    loop = asyncio.get_running_loop()
    try:
        # The deadline starts when the URL first gets its host's slot (not while it waits
        # behind other URLs of the host) and covers every attempt and pause after that.
        async with asyncio.timeout(None) as deadline:
            async for attempt in retrying:
                with attempt:
                    async with host_slot:
                        if deadline.when() is None:
                            deadline.reschedule(loop.time() + settings.deadline_s)
                        fetched = await _get(client, url, settings, cached)
        if cache is not None and not fetched.from_cache:
            cache.put(url, fetched.page)
        return fetched.result
    except TimeoutError as exc:
        raise InputError(
            shown,
            f"not fetched within the deadline of {settings.deadline_s:g} s (--fetch-deadline)",
        ) from exc
    except _Transient as exc:
        tries = settings.attempts
        raise InputError(shown, f"{exc.reason} (after {tries} attempt{'s' * (tries > 1)})") from exc
    except httpx.TooManyRedirects as exc:
        raise InputError(shown, f"too many redirects (more than {settings.max_redirects})") from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise InputError(shown, f"cannot fetch: {redact(str(exc), [url])}") from exc
    except httpx.HTTPError as exc:
        reason = redact(str(exc), [url]) or type(exc).__name__
        raise InputError(shown, f"cannot fetch: {reason}") from exc


@dataclass(frozen=True)
class _Got:
    result: Fetched
    page: CachedPage
    from_cache: bool


async def _get(
    client: httpx.AsyncClient, url: str, settings: FetchSettings, cached: CachedPage | None
) -> _Got:
    shown = redact_url(url)
    headers = cached.validators() if cached is not None else {}
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        given = {ORIGIN: url}  # the range the redirects may stay in (netguard)
        async with client.stream("GET", url, headers=headers, extensions=given) as response:
            final = redact_url(str(response.url))
            status = response.status_code
            if status == 304:
                if cached is None:
                    raise InputError(
                        shown, "server answered 304 Not Modified but no cached copy exists"
                    )
                kind = content_kind(cached.content_type, cached.body[:64])
                assert kind is not None  # only accepted pages are stored
                charset = _charset(cached.content_type)
                body = cached.body
                result = Fetched(
                    url, cached.final_url, kind, body, now, from_cache=True, charset=charset
                )
                return _Got(result, cached, from_cache=True)
            if status in _TRANSIENT:
                raise _Transient(f"HTTP {status}", _retry_after(response))
            if status >= 400 or status < 200:
                raise InputError(shown, f"HTTP {status} {response.reason_phrase}".strip())
            content_type = response.headers.get("content-type", "")
            length = response.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > settings.max_bytes:
                raise InputError(shown, _too_large(int(length), settings))
            body = await _read_limited(response, shown, settings)
            kind = content_kind(content_type, body[:64])
            if kind is None:
                media = content_type.split(";", 1)[0].strip() or "unknown"
                raise InputError(
                    shown, f"content type {media} is not a web page, text or PDF; skipped"
                )
            page = CachedPage(
                final_url=final,
                content_type=content_type
                or {"html": "text/html", "pdf": "application/pdf"}.get(kind, "text/plain"),
                body=body,
                fetched_at=now,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )
            result = Fetched(url, final, kind, body, now, charset=_charset(content_type))
            return _Got(result, page, from_cache=False)
    except httpx.TimeoutException as exc:
        raise _Transient(f"timed out ({settings.timeout_s:g} s per attempt)") from exc
    except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        reason = redact(str(exc), [url]) or type(exc).__name__
        raise _Transient(f"connection failed ({reason})") from exc


async def _read_limited(response: httpx.Response, shown: str, settings: FetchSettings) -> bytes:
    """The body, its ``Content-Encoding`` undone a piece at a time (httpx would inflate a
    whole chunk first), at most ``max_bytes`` sent and ``max_bytes`` decoded."""
    chunks: list[bytes] = []
    received = 0
    try:
        decoder = BodyDecoder(response.headers.get("content-encoding", ""), settings.max_bytes)
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > settings.max_bytes:
                raise InputError(shown, _too_large(received, settings, partial=True))
            chunks.extend(decoder.feed(chunk))
        chunks.extend(decoder.finish())
    except TooLarge as exc:
        limit = f"{settings.max_bytes:,}"
        raise InputError(shown, f"larger than the limit of {limit} bytes once decoded") from exc
    except DecodingError as exc:
        raise InputError(shown, f"cannot decode the page: {exc}") from exc
    return b"".join(chunks)


def _charset(content_type: str) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` value, lower case, or None."""
    message = email.message.Message()
    message["content-type"] = content_type
    charset = message.get_content_charset()
    return charset.strip() or None if charset else None


def _too_large(size: int, settings: FetchSettings, *, partial: bool = False) -> str:
    more = "more than " if partial else ""
    return f"{more}{size:,} bytes, larger than the limit of {settings.max_bytes:,} bytes"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _waiter(settings: FetchSettings) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        backoff: float = settings.backoff_s * 2.0 ** (state.attempt_number - 1)
        backoff = min(settings.max_wait_s, backoff * (0.5 + random.random()))  # jitter
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(settings.max_wait_s, max(exc.retry_after, backoff))
        return backoff

    return wait
