"""Hostile request bodies to the annotation API, on the real server: each one is refused with
a 4xx and a one-line JSON message, never a 500 or a traceback, and nothing is saved. A body
larger than the limit is refused while it streams: the answer comes after a few MB of a body
announced as 300 MB, not after all of it has been held in memory."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from annotate_app import RunningApp, decide_all, draft_body, make_files

from llm_extract.reporting.annotate.app import MAX_BODY, TOKEN_HEADER

REPORT = "item_convoy_walid"
DRAFT = f"/api/reports/{REPORT}/draft"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningApp]:
    with RunningApp(make_files(tmp_path, ids=[REPORT])) as app:
        yield app


def _nothing_saved(app: RunningApp) -> None:
    payload = app.report(REPORT)
    assert payload["draft"]["version"] == 0 and payload["report"]["status"] == "todo"
    assert not list(app.files.gold.glob("*.json"))
    assert not list((app.files.gold / ".annotate" / "drafts").iterdir())


@pytest.mark.parametrize(
    ("body", "kind", "words"),
    [
        (b'{"version": 0, "records": [], "note": "\xff\xfe"}', "bad_body", "not UTF-8"),
        (b"\xc3\x28", "bad_body", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "bad_json", "depth"),
        (b'{"version": ' + b"9" * 5000 + b', "records": []}', "bad_json", "not JSON"),
        (b'{"version": 0, "records": [], "x": "\\ud800"}', "bad_json", "surrogate"),
        (b'{"version": NaN}', "bad_json", "not JSON"),
        (b'{"version": 0,', "bad_json", "not JSON"),
    ],
    ids=[
        "invalid-utf8",
        "invalid-utf8-only",
        "nested-100000",
        "5000-digits",
        "lone-surrogate",
        "nan",
        "cut-short",
    ],
)
def test_malformed_bodies_are_400(running: RunningApp, body: bytes, kind: str, words: str) -> None:
    for method, path in (("PUT", DRAFT), ("POST", f"/api/reports/{REPORT}/done")):
        answer = running.client.request(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400, answer.text
        error = answer.json()
        assert error["error"] == kind and words in error["message"], error
        assert "Traceback" not in answer.text and "\n" not in error["message"]
    _nothing_saved(running)


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, data
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        more = sock.recv(65536)
        assert more, data
        rest += more
    return head + b"\r\n\r\n" + rest


def _head(app: RunningApp, framing: str) -> bytes:
    host, port = app.server.host, app.server.port
    return (
        f"PUT {DRAFT} HTTP/1.1\r\nHost: {host}:{port}\r\n{TOKEN_HEADER}: {app.token}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()


def test_a_body_announced_too_large_is_413_before_it_is_sent(running: RunningApp) -> None:
    address = (running.server.host, running.server.port)
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(_head(running, f"Content-Length: {300 * 1024 * 1024}"))
        status, _, body = _answer(sock).partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 413") and json.loads(body)["error"] == "too_large"
    _nothing_saved(running)


def test_a_300_mb_chunked_body_is_refused_while_it_streams(running: RunningApp) -> None:
    """The client sends a chunked body (no length announced) 64 KiB at a time and looks for
    an answer before each chunk; the 413 must come while the body is still streaming, after
    the limit and the socket buffers (a few MB), far from the 300 MB announced."""
    head = _head(running, "Transfer-Encoding: chunked")
    chunk = b" " * 65536
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    total, patience = 300 * 1024 * 1024, 64 * 1024 * 1024
    sent = 0
    address = (running.server.host, running.server.port)
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(head)
        while not select.select([sock], [], [], 0)[0]:
            assert sent < patience, f"no answer after {sent} bytes: the body is being held"
            assert sent < total
            sock.sendall(framed)
            sent += len(chunk)
        answer = _answer(sock)
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 413"), answer[:200]
    assert json.loads(body)["error"] == "too_large"
    assert MAX_BODY < sent < patience
    _nothing_saved(running)
    # the server goes on answering
    saved = running.put(REPORT, decide_all(draft_body(running.report(REPORT))))
    assert saved.status_code == 200, saved.text
