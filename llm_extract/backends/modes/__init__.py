"""The modes: one module per way a server holds its answer to the schema, registered here.

=====================  =======================================================================
``json_schema``        ``response_format`` json_schema, strict (OpenAI's structured outputs)
``json_object``        ``response_format`` json_object with the schema (llama.cpp's servers)
``tools``              one forced function whose parameters are the schema
``structured_outputs`` vLLM's ``structured_outputs.json`` (vLLM 0.10.2 and later)
``guided_json``        vLLM's ``guided_json`` (vLLM before 0.12)
``md_json``            the schema in the messages, the answer in a ```json block
=====================  =======================================================================

``auto`` tries :data:`AUTO_ORDER` in turn and keeps the first mode the server does not refuse
(see :mod:`llm_extract.backends.chat.auto`). The vLLM parameters are not in that order: a
server that does not know them ignores them without a word, so trying them would "succeed"
with an unconstrained answer; vLLM takes ``json_schema``, which comes first.
"""

from __future__ import annotations

from llm_extract.backends.modes.base import ModeHandler
from llm_extract.backends.modes.guided_json import GuidedJsonMode
from llm_extract.backends.modes.json_object import JsonObjectMode
from llm_extract.backends.modes.json_schema import JsonSchemaMode
from llm_extract.backends.modes.md_json import MdJsonMode
from llm_extract.backends.modes.structured_outputs import StructuredOutputsMode
from llm_extract.backends.modes.tools import ToolsMode
from llm_extract.errors import UsageError
from llm_extract.settings import AUTO_ORDER, CONCRETE_MODES, ConcreteMode

#: Every concrete mode's handler, by name.
HANDLERS: dict[ConcreteMode, ModeHandler] = {
    handler.name: handler
    for handler in (
        JsonSchemaMode(),
        JsonObjectMode(),
        ToolsMode(),
        StructuredOutputsMode(),
        GuidedJsonMode(),
        MdJsonMode(),
    )
}
assert tuple(HANDLERS) == CONCRETE_MODES, "settings.CONCRETE_MODES and HANDLERS must agree"


def handler_for(mode: str) -> ModeHandler:
    """The handler of a concrete mode; :class:`UsageError` for any other name."""
    handler: ModeHandler | None = next((h for n, h in HANDLERS.items() if n == mode), None)
    if handler is None:
        raise UsageError(f"unknown mode {mode!r}: choose one of auto, {', '.join(CONCRETE_MODES)}")
    return handler


__all__ = ["AUTO_ORDER", "HANDLERS", "ModeHandler", "handler_for"]
