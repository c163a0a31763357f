"""``json_object``: JSON mode with the schema inside ``response_format`` (llama.cpp).

Sent as ``{"type": "json_object", "schema": {...}}``: llama-cpp-python's server and the
llama.cpp server turn the schema into a grammar, so the answer follows it. Servers that know
JSON mode but not this extension (OpenAI, vLLM, Ollama) ignore the schema: there the answer is
some JSON, held to the schema only by validation and re-asks.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from llm_extract.backends.modes.base import ModeHandler, plain_messages, report_schema


@functools.cache
def _response_format() -> dict[str, Any]:
    return {"type": "json_object", "schema": report_schema()}


class JsonObjectMode(ModeHandler):
    name = "json_object"
    params = ("response_format", "json_object")

    def request(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return {"messages": plain_messages(messages), "response_format": _response_format()}
