"""``json_schema``: OpenAI's structured outputs, the schema in ``response_format`` (strict).

Sent as ``{"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}``: the
OpenAI form, which vLLM, Ollama's OpenAI-compatible endpoint (its native ``format``), the
llama.cpp server (C++), LM Studio and OpenRouter also accept. llama-cpp-python refuses it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from llm_extract.backends.modes.base import (
    SCHEMA_NAME,
    ModeHandler,
    plain_messages,
    report_schema,
)


@functools.cache
def _response_format() -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": report_schema(), "strict": True},
    }


class JsonSchemaMode(ModeHandler):
    name = "json_schema"
    params = ("response_format", "json_schema")

    def request(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return {"messages": plain_messages(messages), "response_format": _response_format()}
