"""Serving the annotation app with uvicorn on a socket bound here.

The socket is bound before uvicorn starts, so the real port (``--port 0`` picks a free one)
is known for the URL and a port already taken is a clear error at once. Only loopback
addresses are served unless the caller allows others. uvicorn's access log is off: the page
URL carries the session token, and nothing writes it anywhere but the first line of output.
"""

from __future__ import annotations

import errno
import html
import ipaddress
import os
import socket
import tempfile
import threading
import webbrowser
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from llm_extract.errors import UsageError

LOCALHOST = "localhost"


def is_loopback(host: str) -> bool:
    if host == LOCALHOST:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; :class:`UsageError` when that fails."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535 (got {port})")
    address = host.strip("[]")
    try:
        family, kind, proto, _, where = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)[
            0
        ]
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: cannot resolve ({exc.strerror})") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(where)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on {host} is already in use; choose another with --port "
                "(0 picks a free one)"
            ) from exc
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from exc
    return sock


def open_browser(url: str) -> Path | None:
    """Open ``url`` in the user's browser through a redirect file readable by this user only,
    so that the token never appears on a browser's command line (which other local users can
    list). Returns the file, to delete when the server stops; ``None`` if none was opened."""
    fd, name = tempfile.mkstemp(prefix="llm-extract-annotate-", suffix=".html")
    page = Path(name)
    target = html.escape(url, quote=True)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(
            '<!doctype html><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0;url={target}">'
            f'<p><a href="{target}">Open llm-extract annotate</a></p>\n'
        )
    if webbrowser.open(page.as_uri()):
        return page
    page.unlink(missing_ok=True)
    return None


def url_host(host: str) -> str:
    """``host`` as written in a URL (IPv6 addresses in brackets)."""
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def _config(app: ASGIApp) -> uvicorn.Config:
    # h11 (pure Python, always there) rather than httptools when installed: one behaviour
    # everywhere. It buffers at most 64 KiB of a body the app has not asked for yet, and
    # reads and drops the rest of a body the app refused (413) instead of resetting the
    # connection, so the client gets the answer.
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", http="h11")


def serve_forever(app: ASGIApp, sock: socket.socket) -> None:
    """Serve ``app`` on ``sock`` until interrupted (Ctrl+C stops it cleanly)."""
    try:
        uvicorn.Server(_config(app)).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn shut down gracefully, then re-raised the Ctrl+C it caught
    finally:
        sock.close()


class ThreadedServer:
    """The app served on ``sock`` (from :func:`bind`) from a background thread, for tests and
    scripts: a context manager that returns once the server accepts connections, and stops
    it, joins the thread and closes the socket on exit."""

    def __init__(self, app: ASGIApp, sock: socket.socket) -> None:
        self.sock = sock
        self.host: str = sock.getsockname()[0]
        self.port: int = sock.getsockname()[1]
        self.server = uvicorn.Server(_config(app))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="annotate-server"
        )

    @property
    def base_url(self) -> str:
        return f"http://{url_host(self.host)}:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            self.thread.join(0.01)
        if not self.server.started:
            self.sock.close()
            raise RuntimeError("the annotation server did not start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
