"""A minimal, fast OpenAI-protocol server for benchmarks: every chat completion after L seconds.

    python benchmarks/loopback_server.py --latency 0.2 --answers answers.json [--record bodies]
        [--rpm 1500] [--tpm 6000000] [--slots 4]

Prints its port on the first line of stdout and serves until stdin closes; then prints one
JSON line of counts (``answered``, ``refused``, ``tokens`` the rate limit admitted,
``peak_in_flight``, and ``span_s``: seconds from the first request to the last answer). Plain
asyncio, HTTP/1.1 keep-alive, one write per response and TCP_NODELAY, so that the server
adds as little as possible to what the client measures. It runs in its own process: its
work never shares the client's interpreter lock.

``answers.json`` is a list of ``{"needle": str, "answer": object}``: a request is answered with
the first answer whose needle occurs in its last user message (an empty needle matches every
request). The answer is shaped after each request like the test server's
(tests/openai_server.py): a forced tool call when the request has ``tools``, message content
for ``response_format``, else a fenced JSON block. With ``--record FILE``, the body of every
chat request is appended to FILE, one per line, exactly as received (the bare client of
benchmarks/floor_client.py sends them again).

``--rpm`` / ``--tpm``: a provider's rate limit (tests/rate_limits.py, the same as the test
server's): requests and tokens per minute, a one-second bucket, OpenAI's ``x-ratelimit-*``
headers on every answer and 429 with ``Retry-After`` past them (a refused request is
answered at once, without the latency). ``--slots N``: N parallel slots, like llama.cpp's
``--parallel``: an answer holds a slot for L seconds and a request that finds all N busy
waits for one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from rate_limits import ServerLimits


def completion(request: dict[str, Any], text: str, number: int) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    tools = request.get("tools") or []
    if tools:
        choice = request.get("tool_choice")
        name = (
            choice.get("function", {}).get("name")
            if isinstance(choice, dict)
            else tools[0].get("function", {}).get("name")
        )
        message["tool_calls"] = [
            {
                "id": f"call_{number}",
                "type": "function",
                "function": {"name": name, "arguments": text},
            }
        ]
    elif request.get("response_format"):
        message["content"] = text
    else:
        message["content"] = f"```json\n{text}\n```"
    prompt_chars = sum(len(str(m.get("content") or "")) for m in request.get("messages", []))
    prompt_tokens = max(1, prompt_chars // 3)
    completion_tokens = max(1, len(text) // 3)
    body = {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "bench"),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def total_tokens(data: bytes) -> int:
    usage = json.loads(data).get("usage") or {}
    return int(usage.get("total_tokens") or 1)


def last_user_text(request: dict[str, Any]) -> str:
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


class Server:
    def __init__(
        self,
        latency: float,
        answers: list[tuple[str, str]],
        record: IO[bytes] | None,
        limits: ServerLimits | None = None,
        slots: int | None = None,
    ):
        self.latency = latency
        self.answers = answers
        self.record = record
        self.count = 0
        self.limits = limits
        self.slots = asyncio.Semaphore(slots) if slots else None
        self.refused = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.first_request: float | None = None
        self.last_answer = 0.0

    async def wait(self) -> None:
        """The latency, holding a slot when the server has slots (waiting for one first)."""
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.slots is None:
                if self.latency > 0:
                    await asyncio.sleep(self.latency)
                return
            async with self.slots:
                await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1

    def answer_for(self, request: dict[str, Any]) -> str:
        text = last_user_text(request)
        for needle, answer in self.answers:
            if needle in text:
                return answer
        return json.dumps({"error": "loopback_server: no answer for this report"})

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                raw = await reader.readexactly(length) if length else b""
                if self.first_request is None:
                    self.first_request = time.monotonic()
                if self.record is not None and raw:
                    self.record.write(raw.replace(b"\n", b"") + b"\n")  # JSON: no raw newlines
                    self.record.flush()
                try:
                    request = json.loads(raw) if raw else {}
                except ValueError:
                    request = {}
                data = completion(request, self.answer_for(request), self.count + 1)
                status, extra = b"200 OK", b""
                if self.limits is not None:
                    admission = self.limits.admit(total_tokens(data))
                    extra = b"".join(f"{k}: {v}\r\n".encode() for k, v in admission.headers.items())
                    if not admission.admitted:
                        self.refused += 1
                        status = b"429 Too Many Requests"
                        data = b'{"error": {"message": "Rate limit reached (loopback)", '
                        data += b'"type": "requests", "code": "rate_limit_exceeded"}}'
                if status == b"200 OK":
                    await self.wait()
                    self.count += 1
                writer.write(
                    b"HTTP/1.1 "
                    + status
                    + b"\r\nContent-Type: application/json\r\n"
                    + extra
                    + b"Content-Length: "
                    + str(len(data)).encode()
                    + b"\r\n\r\n"
                    + data
                )
                await writer.drain()
                self.last_answer = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def serve(server: Server) -> None:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, backlog=1024)
    port = listener.sockets[0].getsockname()[1]
    print(port, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    listener.close()
    tokens = server.limits.tokens_admitted if server.limits is not None else 0
    span = server.last_answer - (server.first_request or server.last_answer)
    counts = {"answered": server.count, "refused": server.refused, "tokens": tokens}
    print(json.dumps({**counts, "peak_in_flight": server.peak_in_flight, "span_s": span}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--answers", required=True, help="JSON list of {needle, answer}")
    parser.add_argument("--record", help="append every request body to this file")
    parser.add_argument("--rpm", type=int, help="requests per minute at most (429 past it)")
    parser.add_argument("--tpm", type=int, help="tokens per minute at most (429 past it)")
    parser.add_argument("--slots", type=int, help="parallel slots (queueing beyond them)")
    args = parser.parse_args()
    with open(args.answers, encoding="utf-8") as handle:
        table = json.load(handle)
    answers = [(item["needle"], json.dumps(item["answer"], ensure_ascii=False)) for item in table]
    record = open(args.record, "ab") if args.record else None  # noqa: SIM115  (closed below)
    try:
        limits = ServerLimits(args.rpm, args.tpm) if args.rpm or args.tpm else None
        asyncio.run(serve(Server(args.latency, answers, record, limits, args.slots)))
    finally:
        if record is not None:
            record.close()


if __name__ == "__main__":
    main()
