"""No page, redirect or DNS answer leads the fetcher into loopback, private, link-local or
other non-public addresses unless the URL given is in that range (issue 19, item 3).

No test here can send a packet beyond loopback: every fetch goes through a
:class:`GuardedTransport` whose inner transport is :class:`LoopbackOnly`, which connects to
127.0.0.1 only and records (never connects) anything else, and names are answered by a stub
resolver, never by DNS.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from web_pages import Answer, WebServer, html_answer

from llm_extract.cli import app
from llm_extract.errors import InputError
from llm_extract.sources.netguard import GuardedTransport, address_range, literal_address
from llm_extract.sources.web import Fetched, FetchSettings, fetch_urls

FAST = FetchSettings(timeout_s=2, attempts=1, use_cache=False)
PUBLIC_IP = "93.184.216.34"
#: refused by the guard, or not even a URL for httpx (``012.0.0.1``)
REFUSED = re.compile(
    r"refused to connect to \S+ \(\S+, an? (loopback|private|link-local|"
    r"multicast|unspecified|reserved) address\)|Invalid IPv4 address"
)
PAGE = "<html><body><article><p>" + "نص التقرير " * 40 + "</p></article></body></html>"


class LoopbackOnly(httpx.AsyncBaseTransport):
    """The last stop before the network: a request to 127.0.0.1 goes to the test server;
    any other is recorded and answered by ``answers`` (a canned response), never sent."""

    def __init__(self, answers: dict[str, httpx.Response] | None = None) -> None:
        self.real = httpx.AsyncHTTPTransport()
        self.answers = answers or {}
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if request.url.host == "127.0.0.1":
            return await self.real.handle_async_request(request)
        canned = self.answers.get(request.url.host)
        if canned is None:
            raise httpx.ConnectError("the test transport connects to 127.0.0.1 only")
        # A fresh streamed body each time, as a real transport answers (the fetcher reads
        # the raw stream and decodes it itself).
        return httpx.Response(
            canned.status_code,
            headers=canned.headers,
            stream=httpx.ByteStream(canned.content),
        )

    def hosts(self) -> list[str]:
        return [r.url.host for r in self.sent]

    async def aclose(self) -> None:
        await self.real.aclose()


class StubResolver:
    """Names answered from a table, each lookup counted; no DNS."""

    def __init__(self, table: dict[str, list[str] | list[list[str]]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        answer = self.table.get(host)
        if answer is None:
            raise OSError(f"cannot resolve {host!r}")
        if answer and isinstance(answer[0], list):  # one answer per lookup (rebinding)
            return answer[min(self.calls.count(host), len(answer)) - 1]
        return answer  # type: ignore[return-value]


def fetch(
    url: str, inner: LoopbackOnly, resolver: StubResolver | None = None
) -> Fetched | InputError:
    transport = GuardedTransport(inner, resolver=resolver or StubResolver({}))
    (result,) = fetch_urls([url], FAST, transport=transport)
    return result


@pytest.fixture
def web() -> Iterator[WebServer]:
    with WebServer() as server:
        server.routes["/page.html"] = html_answer(PAGE)
        server.routes["/moved"] = Answer(302, headers={"Location": "/page.html"})
        yield server


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/secret",
        "http://169.254.169.254/latest/meta-data/",
        "//169.254.169.254/latest/meta-data/",
        "http://192.168.1.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://0x0a000001/",
        "http://167772161/",
        "http://012.0.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://internal.example/",
    ],
)
def test_a_loopback_page_cannot_redirect_out_of_loopback(web: WebServer, target: str) -> None:
    web.routes["/jump"] = Answer(302, headers={"Location": target})
    inner = LoopbackOnly()
    resolver = StubResolver({"internal.example": ["10.9.8.7"]})
    result = fetch(web.url("/jump"), inner, resolver)
    assert isinstance(result, InputError), result
    assert REFUSED.search(result.reason), result.reason
    assert inner.hosts() == ["127.0.0.1"]  # the first page only: nothing else was attempted


def test_a_loopback_page_may_redirect_within_loopback(web: WebServer) -> None:
    inner = LoopbackOnly()
    result = fetch(web.url("/moved"), inner)
    assert isinstance(result, Fetched), result
    assert result.final_url.endswith("/page.html")
    assert inner.hosts() == ["127.0.0.1", "127.0.0.1"]


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:9/secret",
        "http://0x7f000001/secret",
        "http://2130706433/secret",
        "http://0177.0.0.1/secret",
        "http://127.1/secret",
        "//127.0.0.1/secret",
        "http://[::1]/secret",
        "http://[::ffff:127.0.0.1]/secret",
        "http://[::ffff:7f00:1]/secret",
        "http://[64:ff9b::7f00:1]/secret",
        "http://[2002:7f00:1::]/secret",
        "http://localhost/secret",
        "http://0.0.0.0/secret",
        "http://[::]/secret",
        "http://10.0.0.1/secret",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_a_public_page_cannot_redirect_into_internal_addresses(target: str) -> None:
    inner = LoopbackOnly({PUBLIC_IP: httpx.Response(302, headers={"Location": target})})
    resolver = StubResolver({"news.example": [PUBLIC_IP], "localhost": ["127.0.0.1", "::1"]})
    result = fetch("http://news.example/story", inner, resolver)
    assert isinstance(result, InputError), result
    assert REFUSED.search(result.reason), result.reason
    assert inner.hosts() == [PUBLIC_IP]


def test_a_name_that_resolves_to_a_private_address_is_refused_before_connecting() -> None:
    inner = LoopbackOnly({PUBLIC_IP: httpx.Response(302, headers={"Location": "http://x.evil/"})})
    resolver = StubResolver({"news.example": [PUBLIC_IP], "x.evil": ["169.254.169.254"]})
    result = fetch("http://news.example/a", inner, resolver)
    assert isinstance(result, InputError)
    assert "link-local" in result.reason
    assert inner.hosts() == [PUBLIC_IP]


def test_the_checked_address_is_the_one_connected_to_dns_rebinding() -> None:
    """The name is resolved once per request and the connection goes to that address, with
    the name kept in Host: a second answer (127.0.0.1) is never asked for."""
    inner = LoopbackOnly({PUBLIC_IP: httpx.Response(200, html=PAGE)})
    resolver = StubResolver({"rebind.example": [[PUBLIC_IP], ["127.0.0.1"]]})
    result = fetch("http://rebind.example/a", inner, resolver)
    assert isinstance(result, Fetched), result
    assert resolver.calls == ["rebind.example"]
    (sent,) = inner.sent
    assert sent.url.host == PUBLIC_IP
    assert sent.headers["Host"] == "rebind.example"
    assert result.final_url == "http://rebind.example/a"


def test_a_mixed_answer_connects_to_a_public_address_only() -> None:
    inner = LoopbackOnly({PUBLIC_IP: httpx.Response(200, html=PAGE)})
    resolver = StubResolver({"mixed.example": ["127.0.0.1", "10.0.0.2", PUBLIC_IP]})
    result = fetch("https://mixed.example/a", inner, resolver)
    assert isinstance(result, Fetched), result
    (sent,) = inner.sent
    assert sent.url.host == PUBLIC_IP
    assert sent.extensions["sni_hostname"] == "mixed.example"


def test_a_url_given_in_a_private_range_may_stay_in_it_but_not_reach_loopback() -> None:
    inner = LoopbackOnly(
        {
            "10.0.0.5": httpx.Response(302, headers={"Location": "http://10.0.0.6/next"}),
            "10.0.0.6": httpx.Response(302, headers={"Location": "http://127.0.0.1:9/"}),
        }
    )
    result = fetch("http://10.0.0.5/start", inner)
    assert isinstance(result, InputError)
    assert "loopback" in result.reason
    assert inner.hosts() == ["10.0.0.5", "10.0.0.6"]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("example.org", None),
        ("0xdeadbeefcafe", None),
    ],
)
def test_numeric_hosts_in_every_spelling(host: str, expected: str | None) -> None:
    found = literal_address(host)
    assert (str(found) if found else None) == expected


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", "public"),
        ("2606:4700::1111", "public"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.0.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "reserved"),
    ],
)
def test_address_ranges(address: str, kind: str) -> None:
    assert address_range(ipaddress.ip_address(address)) == kind


def test_the_command_line_fetches_through_the_guard(web: WebServer, tmp_path: Path) -> None:
    """``extract URL`` with no transport given: a loopback page's redirect to 0.0.0.0 (the
    unspecified address, which would still reach this machine only) is refused before any
    connection, and the server never sees the request."""
    web.routes["/secret"] = html_answer(PAGE)
    elsewhere = web.url("/secret").replace("127.0.0.1", "0.0.0.0")
    web.routes["/jump"] = Answer(302, headers={"Location": elsewhere})
    out = tmp_path / "o.jsonl"
    done = CliRunner().invoke(
        app, ["extract", web.url("/jump"), "-o", str(out), "--model", "rules"]
    )
    assert done.exit_code == 2
    assert "refused to connect to 0.0.0.0" in done.output
    assert [s.path for s in web.seen] == ["/jump"]


def test_the_next_checked_address_is_tried_when_one_cannot_connect() -> None:
    second = "93.184.216.35"
    inner = LoopbackOnly({second: httpx.Response(200, html=PAGE)})
    resolver = StubResolver({"two.example": [PUBLIC_IP, "10.0.0.1", second]})
    result = fetch("http://two.example/a", inner, resolver)
    assert isinstance(result, Fetched), result
    assert inner.hosts() == [PUBLIC_IP, second]  # never the private one


def test_a_redirect_to_the_same_name_answered_differently_gains_nothing() -> None:
    """DNS rebinding across a redirect: the name given was public when first resolved; its
    later answer (127.0.0.1) is not the range of the URL given."""
    inner = LoopbackOnly({PUBLIC_IP: httpx.Response(302, headers={"Location": "/again"})})
    resolver = StubResolver({"rebind.example": [[PUBLIC_IP], ["127.0.0.1"]]})
    result = fetch("http://rebind.example/a", inner, resolver)
    assert isinstance(result, InputError)
    assert "refused to connect to rebind.example (127.0.0.1, a loopback address)" in result.reason
    assert inner.hosts() == [PUBLIC_IP]
