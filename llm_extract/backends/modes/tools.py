"""``tools``: function calling, one forced function whose parameters are the schema.

The answer is the call's arguments. OpenAI, vLLM (named ``tool_choice``), Ollama (models with
tool support), llama.cpp's servers (a grammar from the parameters), LM Studio and OpenRouter
take it. A re-ask answers the call with a ``tool`` message carrying the errors.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from llm_extract.backends.base import Message
from llm_extract.backends.modes.base import (
    SCHEMA_NAME,
    ModeHandler,
    message_text,
    plain_messages,
    report_schema,
)

_FIX = "Recall the function correctly, fix the errors"


@functools.cache
def _tools() -> list[dict[str, Any]]:
    schema = report_schema()
    parameters = {k: v for k, v in schema.items() if k not in ("title", "description")}
    parameters["required"] = sorted(schema.get("required", []))
    function = {
        "name": SCHEMA_NAME,
        "description": schema.get("description", f"Correctly extracted `{SCHEMA_NAME}`"),
        "parameters": parameters,
    }
    return [{"type": "function", "function": function}]


_TOOL_CHOICE = {"type": "function", "function": {"name": SCHEMA_NAME}}


def _calls(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        return []
    return [c for c in calls if isinstance(c, dict) and isinstance(c.get("function"), dict)]


class ToolsMode(ModeHandler):
    name = "tools"
    params = ("tools", "tool_choice", "function call", "function_call")

    def request(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return {
            "messages": plain_messages(messages),
            "tools": _tools(),
            "tool_choice": _TOOL_CHOICE,
        }

    def answer(self, message: Mapping[str, Any]) -> str:
        """The first call's arguments; the content when the server answered without a call."""
        for call in _calls(message):
            arguments = call["function"].get("arguments")
            if isinstance(arguments, str):
                return arguments
            if arguments is not None:  # a server that sends the arguments as an object
                import json

                return json.dumps(arguments, ensure_ascii=False)
        return message_text(message)

    def reask(self, message: Mapping[str, Any], error: str) -> list[Message]:
        text = f"Validation Error found:\n{error}\n{_FIX}"
        calls = _calls(message)
        said: Message = {"role": "assistant", "content": message_text(message)}
        if not calls:
            return [said, {"role": "user", "content": text}]
        said["tool_calls"] = [
            {
                "id": call.get("id"),
                "function": {
                    "arguments": call["function"].get("arguments"),
                    "name": call["function"].get("name"),
                },
                "type": call.get("type", "function"),
            }
            for call in calls
        ]
        answers: list[Message] = [
            {
                "role": "tool",
                "tool_call_id": call.get("id"),
                "name": call["function"].get("name"),
                "content": text,
            }
            for call in calls
        ]
        return [said, *answers]
