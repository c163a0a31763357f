"""``md_json``: no constraint at all; the schema goes into the system message and the answer
is asked for in a fenced ```json block. Every server takes it (it sends messages only), and
nothing holds the model to the schema but validation and re-asks.

The text added to the messages is the one this tool always sent in this mode (it came from
instructor's MD_JSON mode), so cached answers of earlier runs stay the answers of the same
request.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from textwrap import dedent
from typing import Any

from llm_extract.backends.base import Message
from llm_extract.backends.modes.base import ModeHandler, schema_json
from llm_extract.backends.salvage import answer_json

_ASK = "Return the correct JSON response within a ```json codeblock. not the JSON_SCHEMA"


@functools.cache
def _instruction() -> str:
    # dedent() of an f-string whose JSON lines start at column 0 changes nothing: the text is
    # kept byte for byte as it was sent before.
    return dedent(
        f"""
            As a genius expert, your task is to understand the content and provide
            the parsed objects in json that match the following json_schema:\n

            {schema_json(indent=2)}

            Make sure to return an instance of the JSON, not the schema itself
            """
    )


def _merge_neighbours(messages: list[Message]) -> list[Message]:
    """Consecutive plain messages of one role become one (joined by a blank line)."""
    merged: list[Message] = []
    for message in messages:
        plain = set(message) <= {"role", "content"} and isinstance(message.get("content"), str)
        last = merged[-1] if merged else None
        if (
            plain
            and last is not None
            and last.get("role") == message.get("role")
            and set(last) <= {"role", "content"}
            and isinstance(last.get("content"), str)
        ):
            last["content"] += f"\n\n{message['content']}"
        else:
            merged.append(dict(message))
    return merged


class MdJsonMode(ModeHandler):
    name = "md_json"
    params = ()  # messages only: no server refuses the mode itself

    def request(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        sent = [dict(m) for m in messages]
        if sent and sent[0].get("role") == "system" and isinstance(sent[0].get("content"), str):
            sent[0]["content"] += f"\n\n{_instruction()}"
        else:
            sent.insert(0, {"role": "system", "content": _instruction()})
        sent.append({"role": "user", "content": _ASK})
        return {"messages": _merge_neighbours(sent)}

    def json_text(self, answer: str) -> str:
        return answer_json(answer)  # the last JSON object: the rule salvage uses too
