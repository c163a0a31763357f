"""``structured_outputs``: vLLM's parameter since 0.10.2, ``{"structured_outputs": {"json":
schema}}`` in the body (it replaced ``guided_json``).

https://docs.vllm.ai/en/latest/features/structured_outputs/
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from llm_extract.backends.modes.base import ModeHandler, plain_messages, report_schema


@functools.cache
def _structured_outputs() -> dict[str, Any]:
    return {"json": report_schema()}


class StructuredOutputsMode(ModeHandler):
    name = "structured_outputs"
    params = ("structured_outputs",)

    def request(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return {"messages": plain_messages(messages), "structured_outputs": _structured_outputs()}
