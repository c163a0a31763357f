"""The one content-addressed key of a request: it serves the cache, resume and batch ids."""

from __future__ import annotations

import hashlib
import json
from typing import Any

KEY_VERSION = 1


def stable_hash(value: Any) -> str:
    """sha256 of the canonical JSON of ``value`` (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def request_key(
    *,
    model: str,
    messages: list[dict[str, str]],
    schema: dict[str, Any] | None = None,
    params: dict[str, Any],
    prompt_hash: str,
    report_sha256: str,
    schema_sha256: str | None = None,
    server: str | None = None,
) -> str:
    """Key of one extraction request. Same model, messages, schema, parameters and server:
    same key.

    ``schema_sha256`` is :func:`stable_hash` of ``schema``, for a caller that computed it
    once for many requests (give one or the other). ``server`` is the address of the server
    without credentials or query (``None`` for OpenAI's own API, so that the keys written
    before servers were part of them stay valid): the same model name on two servers is two
    models. The API key is deliberately not part of it.
    """
    if schema_sha256 is None:
        if schema is None:
            raise TypeError("request_key needs schema or schema_sha256")
        schema_sha256 = stable_hash(schema)
    server_part = {} if server is None else {"server": server}
    return stable_hash(
        {
            **server_part,
            "v": KEY_VERSION,
            "model": model,
            "messages": messages,
            "schema": schema_sha256,
            "params": params,
            "prompt": prompt_hash,
            "report": report_sha256,
        }
    )
