"""Where the fetcher may connect: no page, redirect or DNS answer leads it into loopback,
private, link-local, multicast, unspecified or reserved addresses, unless the URL the user
gave is itself in that same range.

:class:`GuardedTransport` is the httpx transport of the fetcher. For every request, the first
and each redirect alike, it resolves the host once, classifies every address
(:func:`address_range`), keeps those the request may reach, and connects to the checked
address itself (the URL's host is replaced by the address; the ``Host`` header and the TLS
server name keep the name), so a second DNS answer (rebinding) is never asked for. The URL
the user gave travels with the request in the extension :data:`ORIGIN` (httpx keeps a
request's extensions across redirects): the ranges of its addresses (as first resolved, so a
redirect to the same name answered differently later gains nothing) may be reached besides
public ones. A request without it may reach public addresses only. When a checked address
cannot be connected to, the next checked one is tried.

A host written as a number in any form ``inet_aton`` reads (``2130706433``, ``0x7f000001``,
``0177.0.0.1``) is that address, with no DNS; an IPv6 address that carries an IPv4 one
(``::ffff:127.0.0.1``, 6to4, NAT64, Teredo) is judged by the IPv4 address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

import httpx

__all__ = [
    "ORIGIN",
    "BlockedAddress",
    "GuardedTransport",
    "Resolver",
    "address_range",
    "literal_address",
]

Range = Literal[
    "public", "loopback", "private", "link-local", "multicast", "unspecified", "reserved"
]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``host, port -> addresses``; the default asks the system (``getaddrinfo``) once.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
#: The request extension that holds the URL the user gave.
ORIGIN = "llm_extract.origin"

_NUMERIC_V4 = re.compile(r"^[0-9a-fA-FxX.]+$")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT: never public


class BlockedAddress(httpx.RequestError):
    """A request that would reach an address outside the range it may reach."""


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form a C library accepts (``127.1``,
    ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``[::1]``), or None for a name."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_V4.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d (IPv4-compatible)
        return ipaddress.IPv4Address(int(address))
    return None


def address_range(address: IPAddress) -> Range:
    """Which range ``address`` lies in (an IPv6 address carrying an IPv4 one: the IPv4's)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_v4(address)
        if inner is not None:
            return address_range(inner)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "reserved"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return "public"


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """Every address the system gives for ``host`` (one ``getaddrinfo``)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host!r} ({exc.strerror})") from exc
    return [str(info[4][0]) for info in infos]


class GuardedTransport(httpx.AsyncBaseTransport):
    """Resolves, checks and pins the address of every request (see the module doc), then
    hands the request to ``inner`` (by default httpx's own transport)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        resolver: Resolver | None = None,
    ) -> None:
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()
        self._resolve = resolver if resolver is not None else system_resolver
        self._origins: dict[str, set[Range]] = {}  # the ranges of each URL given

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses of ``host``: the literal it spells, or one resolution."""
        literal = literal_address(host)
        if literal is not None:
            return [literal]
        found: list[IPAddress] = []
        for raw in await self._resolve(host, port):
            address = literal_address(raw)
            if address is not None and address not in found:
                found.append(address)
        return found

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        found = await self._addresses_of(request, url)
        allowed = await self._allowed(request, url, found)
        reachable = [a for a in found if address_range(a) in allowed]
        reachable.sort(key=lambda a: address_range(a) != "public")  # public ones first
        if not reachable:
            address = found[0]
            raise BlockedAddress(
                f"refused to connect to {url.host} ({address}, a {address_range(address)} "
                "address): a page may lead only to public addresses or to the range of the "
                "URL given",
                request=request,
            )
        for address in reachable[:-1]:  # the next checked address when one cannot connect
            try:
                return await self._inner.handle_async_request(_pinned(request, address))
            except httpx.ConnectError:
                continue
        return await self._inner.handle_async_request(_pinned(request, reachable[-1]))

    async def _addresses_of(self, request: httpx.Request, url: httpx.URL) -> list[IPAddress]:
        try:
            found = await self.addresses(url.host, url.port or _default_port(url))
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        if not found:
            raise httpx.ConnectError(f"no address for {url.host!r}", request=request)
        return found

    async def _allowed(
        self, request: httpx.Request, url: httpx.URL, found: list[IPAddress]
    ) -> set[Range]:
        """Public, and the ranges of the URL the user gave."""
        allowed: set[Range] = {"public"}
        given = request.extensions.get(ORIGIN)
        if not isinstance(given, str):
            return allowed
        try:
            origin = httpx.URL(given)
        except httpx.InvalidURL:
            return allowed
        if origin.host not in self._origins:  # the first answer for it holds (rebinding)
            if origin.host == url.host:
                addresses = found
            else:
                try:
                    port = origin.port or _default_port(origin)
                    addresses = await self.addresses(origin.host, port)
                except OSError:
                    addresses = []
            self._origins[origin.host] = {address_range(a) for a in addresses}
        allowed.update(self._origins[origin.host])
        return allowed

    async def aclose(self) -> None:
        await self._inner.aclose()


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


def _pinned(request: httpx.Request, address: IPAddress) -> httpx.Request:
    """``request`` sent to ``address``: the name stays in ``Host`` and the TLS server name."""
    extensions = dict(request.extensions)
    if literal_address(request.url.host) is None:
        extensions.setdefault("sni_hostname", request.url.host)
    return httpx.Request(
        request.method,
        request.url.copy_with(host=str(address)),
        headers=request.headers,
        stream=request.stream,
        extensions=extensions,
    )
