"""The floor of the harness: a bare httpx client sending recorded request bodies.

    python benchmarks/floor_client.py BODIES --base-url URL [--concurrency 16] [--n N]

Sends the first N bodies of BODIES (one JSON request body per line, as recorded by
benchmarks/loopback_server.py --record from a run of ``llm-extract extract``) to
``URL/chat/completions``, at most ``--concurrency`` at a time, and reads each answer as JSON.
No SDK, no validation, no cache, no output: what any client must at least do to send the
same requests. Timed as a whole command by benchmarks/bench_throughput.py; prints the wall and
CPU seconds of the sending alone as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import httpx


async def send_all(bodies: list[bytes], url: str, concurrency: int) -> int:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    semaphore = asyncio.Semaphore(concurrency)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer floor-key"}
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:

        async def one(body: bytes) -> bool:
            async with semaphore:
                response = await client.post(url, content=body, headers=headers)
                return response.status_code == 200 and bool(json.loads(response.content))

        done = await asyncio.gather(*(one(b) for b in bodies))
    return sum(done)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bodies")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--n", type=int, default=0, help="bodies to send (default: all)")
    args = parser.parse_args()
    with open(args.bodies, "rb") as handle:
        bodies = [line.rstrip(b"\n") for line in handle if line.strip()]
    if args.n:
        bodies = bodies[: args.n]
    cpu, start = time.process_time(), time.perf_counter()
    ok = asyncio.run(send_all(bodies, f"{args.base_url}/chat/completions", args.concurrency))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"ok": ok, "sent": len(bodies), "wall_s": wall, "cpu_s": cpu}))
    return 0 if ok == len(bodies) else 1


if __name__ == "__main__":
    sys.exit(main())
