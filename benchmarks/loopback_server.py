"""A minimal, fast OpenAI-protocol server for benchmarks: every chat completion after L seconds.

    python benchmarks/loopback_server.py --latency 0.2 --answer answer.json

Prints its port on the first line of stdout and serves until stdin closes. Plain asyncio, HTTP/1.1
keep-alive, one write per response and TCP_NODELAY, so that the server adds as little as
possible to what the client measures. The answer is shaped after each request like the test
server's (tests/openai_server.py): a forced tool call when the request has ``tools``, message
content for ``response_format``, else a fenced JSON block.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from typing import Any


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
    prompt_tokens = max(1, len(json.dumps(request.get("messages", []))) // 4)
    completion_tokens = max(1, len(text) // 4)
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


class Server:
    def __init__(self, latency: float, answer: str) -> None:
        self.latency = latency
        self.answer = answer
        self.count = 0

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
                if self.latency > 0:
                    await asyncio.sleep(self.latency)
                self.count += 1
                try:
                    request = json.loads(raw) if raw else {}
                except ValueError:
                    request = {}
                data = completion(request, self.answer, self.count)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def serve(latency: float, answer: str) -> None:
    server = Server(latency, answer)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, backlog=1024)
    port = listener.sockets[0].getsockname()[1]
    print(port, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    listener.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--answer", required=True, help="JSON file of the answer to send")
    args = parser.parse_args()
    with open(args.answer, encoding="utf-8") as handle:
        answer = json.dumps(json.load(handle), ensure_ascii=False)
    asyncio.run(serve(args.latency, answer))


if __name__ == "__main__":
    main()
