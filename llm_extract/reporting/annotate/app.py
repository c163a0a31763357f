"""The annotation app: a Starlette ASGI application serving the page and its JSON API.

Routes (every ``/api`` call carries the session token in the ``X-Annotate-Token`` header, or
``Authorization: Bearer <token>``; the page itself is opened with ``/?token=<token>``)::

    GET    /                                the page (static HTML, CSS and JS of the package)
    GET    /api/schema                      edit controls per category, category colours
    GET    /api/reports                     every report with its status, and the progress
    GET    /api/reports/{id}                one report: text, draft, highlight segments
    PUT    /api/reports/{id}/draft          save the whole draft   {version, coalition_month,
                                            stated_totals, records: [{uid, category,
                                            decision, data}]}
    DELETE /api/reports/{id}/draft          discard the draft      {version}
    POST   /api/reports/{id}/done           write the gold file    {version}
    GET    /api/reports/{id}/find?q=TEXT    where TEXT occurs (normalised), for selection

Answers: 200 with the report (as ``GET /api/reports/{id}``); 400 a body that is not JSON;
413 a body over :data:`MAX_BODY`; 403 without the token, from a
foreign ``Host`` (DNS rebinding) or ``Origin`` (another site); 404 unknown report; 409
``conflict`` (saved elsewhere since the page loaded it, or the gold file changed) or
``read_only``; 422 ``invalid`` with ``errors`` (``index``/``uid`` of the record, ``path`` of
the field, ``message``); nothing is saved then.

Every endpoint is ``async`` and does its small file work inline, so requests are handled one
at a time: two tabs cannot interleave a read and a write. Between processes, the gold
folder's lock does the same (:mod:`.lock`).

Bodies are hostile: read in chunks up to :data:`MAX_BODY` bytes (413 as soon as a body,
declared or streamed, goes over; nothing larger is ever held), and decoded strictly by orjson:
a body that is not UTF-8, not JSON, nested deeper than orjson's 1024 levels or holding a
number no float can hold is refused with 400, never a traceback. Answers are encoded by orjson
too (dates and times as ISO 8601 text, pydantic models as their JSON).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable
from importlib import resources
from typing import Any

import orjson
from pydantic_core import to_jsonable_python
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from llm_extract.errors import (
    AnnotationConflict,
    InputError,
    InvalidAnnotation,
    ReadOnlyReport,
    UnknownReport,
)
from llm_extract.reporting.annotate.forms import form_schema
from llm_extract.reporting.annotate.session import Workspace
from llm_extract.reporting.view import CATEGORY_COLOURS

TOKEN_HEADER = "x-annotate-token"
MAX_BODY = 4 * 1024 * 1024
_MAX_LENGTH_DIGITS = 18
STATIC_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "cross-origin-resource-policy": "same-origin",
}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def loopback_hosts(host: str, port: int) -> set[str]:
    """The ``Host`` headers a browser on this machine sends to the app."""
    names = {"127.0.0.1", "localhost", "[::1]", f"[{host}]" if ":" in host else host}
    return {f"{name}:{port}" for name in names}


def _static() -> dict[str, bytes]:
    folder = resources.files("llm_extract.reporting.annotate").joinpath("static")
    return {name: folder.joinpath(name).read_bytes() for name in STATIC_TYPES}


class JSONAnswer(Response):
    """A JSON answer encoded by orjson: dates and times as ISO 8601, pydantic models and
    other values through pydantic's JSON mode."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=to_jsonable_python)


def _forbidden(reason: str) -> Response:
    return JSONAnswer({"error": "forbidden", "message": reason}, status_code=403)


class Guard:
    """Token, Host and Origin checks in front of the app, and the security headers."""

    def __init__(self, app: ASGIApp, *, token: str, hosts: Iterable[str] | None) -> None:
        self.app = app
        self.token = token
        self.hosts = set(hosts) if hosts is not None else None
        self.origins = {f"http://{h}" for h in self.hosts} if self.hosts is not None else None

    def _refusal(self, scope: Scope) -> str | None:
        headers = Headers(scope=scope)
        if self.hosts is not None and headers.get("host") not in self.hosts:
            return "unexpected Host header"
        path: str = scope["path"]
        origin = headers.get("origin")
        if origin is not None and self.origins is not None and origin not in self.origins:
            return "requests from other sites are not accepted"
        # Opening the page from a link or a file is a navigation; the API is the page's own.
        if path.startswith("/api/") and headers.get("sec-fetch-site") == "cross-site":
            return "requests from other sites are not accepted"
        if path == "/" or path.startswith("/api/"):
            given = headers.get(TOKEN_HEADER) or _bearer(headers.get("authorization"))
            if given is None and path == "/":
                given = QueryParams(scope.get("query_string", b"")).get("token")
            if not given or not secrets.compare_digest(given.encode(), self.token.encode()):
                return "missing or wrong token"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await _forbidden(refusal)(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _bearer(value: str | None) -> str | None:
    if value and value.lower().startswith("bearer "):
        return value[7:].strip()
    return None


def _error(status: int, kind: str, message: str, **extra: Any) -> JSONAnswer:
    return JSONAnswer({"error": kind, "message": message, **extra}, status_code=status)


class _BadBody(Exception):
    """A request body refused before it reaches the workspace."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


def _too_large() -> _BadBody:
    return _BadBody(413, "too_large", f"the body is over {MAX_BODY} bytes")


async def _body(request: Request) -> Any:
    """The JSON body of ``request`` (``{}`` when empty), read in chunks and refused as soon as
    it is over :data:`MAX_BODY` bytes; :class:`_BadBody` when it cannot be one."""
    length = request.headers.get("content-length")
    if length is not None and (
        not length.isdigit() or len(length) > _MAX_LENGTH_DIGITS or int(length) > MAX_BODY
    ):
        raise _too_large() if length.isdigit() else _BadBody(400, "bad_body", "bad length")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise _too_large()
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadBody(
            400, "bad_body", f"the body is not UTF-8 text (byte {exc.start} is not)"
        ) from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _BadBody(400, "bad_json", f"the body is not JSON ({exc.msg})") from None


Handler = Callable[[Request], Awaitable[Any]]


def _api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Run ``handler``; its typed errors become JSON answers with their status code."""

    async def endpoint(request: Request) -> Response:
        try:
            return JSONAnswer(await handler(request))
        except _BadBody as exc:
            return _error(exc.status, exc.kind, str(exc))
        except UnknownReport as exc:
            return _error(404, "not_found", str(exc))
        except ReadOnlyReport as exc:
            return _error(409, "read_only", str(exc))
        except AnnotationConflict as exc:
            return _error(409, "conflict", str(exc))
        except InvalidAnnotation as exc:
            return _error(422, "invalid", str(exc), errors=exc.errors)
        except InputError as exc:
            return _error(500, "io", str(exc))

    return endpoint


def create_app(workspace: Workspace, *, token: str, hosts: Iterable[str] | None) -> ASGIApp:
    """The app for ``workspace``; ``hosts`` are the accepted ``Host`` headers (``None``:
    any, for a server reachable from other machines, where the token alone protects)."""
    static = _static()
    schema = {**form_schema(), "colours": CATEGORY_COLOURS}

    async def page(request: Request) -> Response:
        return Response(static["index.html"], media_type=STATIC_TYPES["index.html"])

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in static or name == "index.html":
            return _error(404, "not_found", "no such file")
        return Response(static[name], media_type=STATIC_TYPES[name])

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    async def get_schema(request: Request) -> Any:
        return schema

    async def list_reports(request: Request) -> Any:
        return workspace.reports()

    async def get_report(request: Request) -> Any:
        return workspace.report(request.path_params["report_id"])

    async def put_draft(request: Request) -> Any:
        return workspace.save(request.path_params["report_id"], await _body(request))

    async def delete_draft(request: Request) -> Any:
        return workspace.discard(request.path_params["report_id"], await _body(request))

    async def post_done(request: Request) -> Any:
        return workspace.done(request.path_params["report_id"], await _body(request))

    async def find(request: Request) -> Any:
        return workspace.find(request.path_params["report_id"], request.query_params.get("q", ""))

    routes = [
        Route("/", page),
        Route("/static/{name}", asset),
        Route("/favicon.ico", no_icon),
        Route("/api/schema", _api(get_schema)),
        Route("/api/reports", _api(list_reports)),
        Route("/api/reports/{report_id}", _api(get_report)),
        Route("/api/reports/{report_id}/draft", _api(put_draft), methods=["PUT"]),
        Route("/api/reports/{report_id}/draft", _api(delete_draft), methods=["DELETE"]),
        Route("/api/reports/{report_id}/done", _api(post_done), methods=["POST"]),
        Route("/api/reports/{report_id}/find", _api(find)),
    ]
    return Guard(Starlette(routes=routes), token=token, hosts=hosts)
