"""The run layer's ``httpx`` client under an SDK that speaks ``httpx2``.

The Anthropic and Google SDKs send through an ``httpx2.AsyncClient``; the run layer hands
every HTTP backend an ``httpx.AsyncClient`` whose transport applies the rate limits, writes
the request log, or captures the bodies (``--dry-run``, ``batch prepare``) and replays
stored answers (``batch collect``). :class:`HttpxBridge` is an ``httpx2`` transport that sends
each request through that client, so the SDKs' requests go through the same layers as the
OpenAI-compatible backend's.
"""

from __future__ import annotations

import httpx
import httpx2


class HttpxBridge(httpx2.AsyncBaseTransport):
    """Sends each ``httpx2`` request through an ``httpx.AsyncClient``."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        try:
            answer = await self.client.send(
                httpx.Request(
                    request.method,
                    str(request.url),
                    headers=list(request.headers.multi_items()),
                    content=body,
                    extensions={"timeout": request.extensions.get("timeout")}
                    if request.extensions.get("timeout")
                    else None,
                )
            )
            content = await answer.aread()
        except httpx.TimeoutException as exc:
            raise httpx2.ReadTimeout(str(exc), request=request) from None
        except httpx.TransportError as exc:
            raise httpx2.ConnectError(str(exc), request=request) from None
        headers = [
            (name, value)
            for name, value in answer.headers.multi_items()
            if name.lower() not in ("content-encoding", "transfer-encoding", "content-length")
        ]
        return httpx2.Response(answer.status_code, headers=headers, content=content)

    async def aclose(self) -> None:
        await self.client.aclose()


def bridged(client: httpx.AsyncClient, timeout_s: float) -> httpx2.AsyncClient:
    """An ``httpx2`` client that sends through ``client`` (closed with it)."""
    return httpx2.AsyncClient(transport=HttpxBridge(client), timeout=timeout_s)
