"""``guided_json``: vLLM's own parameter, the schema as ``guided_json`` in the body.

vLLM up to 0.11 (deprecated in 0.10.2, removed in 0.12.0: newer servers ignore it, so use
``structured_outputs`` there). Other servers ignore an unknown parameter or refuse it (OpenAI).
https://docs.vllm.ai/en/v0.8.5/_sources/features/structured_outputs.md
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llm_extract.backends.modes.base import ModeHandler, plain_messages, report_schema


class GuidedJsonMode(ModeHandler):
    name = "guided_json"
    params = ("guided_json",)

    def request(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return {"messages": plain_messages(messages), "guided_json": report_schema()}
