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

Answers: 200 with the report (as ``GET /api/reports/{id}``); 403 without the token, from a
foreign ``Host`` (DNS rebinding) or ``Origin`` (another site); 404 unknown report; 409
``conflict`` (saved elsewhere since the page loaded it, or the gold file changed) or
``read_only``; 422 ``invalid`` with ``errors`` (``index``/``uid`` of the record, ``path`` of
the field, ``message``); nothing is saved then.

Every endpoint is ``async`` and does its small file work inline, so requests are handled one
at a time: two tabs cannot interleave a read and a write.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Iterable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
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


def _forbidden(reason: str) -> Response:
    return JSONResponse({"error": "forbidden", "message": reason}, status_code=403)


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


def _error(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": kind, "message": message, **extra}, status_code=status)


async def _body(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise _TooLarge
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise _TooLarge
    if not raw:
        return {}
    return json.loads(raw)


class _TooLarge(Exception):
    pass


Handler = Callable[[Request], Awaitable[Any]]


def _api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Run ``handler``; its typed errors become JSON answers with their status code."""

    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(await handler(request))
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
        except json.JSONDecodeError as exc:
            return _error(400, "bad_json", f"the body is not JSON ({exc.msg})")
        except _TooLarge:
            return _error(413, "too_large", f"the body is over {MAX_BODY} bytes")

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
