"""The one interface of a mode: the part of a request that holds the answer to the schema,
and how the answer is read back out of the completion.

A mode never sends anything: :class:`~llm_extract.backends.openai_compat.OpenAIBackend`
builds each request body once from :meth:`ModeHandler.request` (plus model, temperature and
``max_tokens``), reads the answer with :meth:`ModeHandler.answer` and, after a validation
error, appends :meth:`ModeHandler.reask`'s messages. Every JSON structure a mode puts into a
body is built once and shared between requests (never mutated).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from llm_extract.backends.base import Message
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import ConcreteMode

SCHEMA_NAME = "ReportExtraction"
_CORRECT = "Correct your JSON ONLY RESPONSE, based on the following errors:"


@functools.cache
def report_schema() -> dict[str, Any]:
    """The strict JSON schema of :class:`ReportExtraction` (shared: never mutate it)."""
    return ReportExtraction.model_json_schema()


def message_text(message: Mapping[str, Any]) -> str:
    """The text content of a completion's message ("" when it has none)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


class ModeHandler:
    """One mode (subclasses set :attr:`name` and :attr:`params`, and build the request).

    The defaults are those of the modes whose answer is the message content: the answer is
    the content, and a re-ask repeats the answer as the assistant's message followed by the
    errors as the user's.
    """

    name: ConcreteMode
    #: The request parameters this mode sends: a server's refusal that names one of them
    #: refuses the mode (``auto`` then tries the next one).
    params: tuple[str, ...] = ()

    def request(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The mode's part of the request body: ``messages`` (as they will be sent) and the
        parameters that constrain the answer."""
        raise NotImplementedError

    def answer(self, message: Mapping[str, Any]) -> str:
        """The answer of a completion's message, as the model wrote it."""
        return message_text(message)

    def json_text(self, answer: str) -> str:
        """The JSON document in ``answer`` (what is validated)."""
        return answer

    def reask(self, message: Mapping[str, Any], error: str) -> list[Message]:
        """Messages that send ``error`` back after the answer in ``message``."""
        return [
            {"role": "assistant", "content": message_text(message)},
            {
                "role": "user",
                "content": f"{_CORRECT}\n{error}",
            },
        ]


def plain_messages(messages: Sequence[Mapping[str, Any]]) -> list[Message]:
    """A fresh list of fresh message dicts (the request's own are never changed)."""
    return [dict(m) for m in messages]


def schema_json(indent: int | None = None) -> str:
    """The schema as JSON text (for the modes that put it in the messages)."""
    return json.dumps(report_schema(), indent=indent, ensure_ascii=False)
