"""How each server family takes or refuses the ways of constraining an answer, imitated by
the loopback server (``server.family = "llamacpp"``...).

Each function looks at a chat-completions body and returns the error answer that family
gives to a request it refuses, or None when it takes the request. Bodies and statuses are
those the families send (sources beside each); what a family does not check, it ignores, as
the real servers do (an unknown parameter such as ``guided_json`` passes without a word).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JsonDict = dict[str, Any]
Refusal = tuple[int, Any]

# OpenAI's chat-completions parameters; anything else is "Unrecognized request argument".
_OPENAI_PARAMS = frozenset(
    {
        "model", "messages", "audio", "frequency_penalty", "function_call", "functions",
        "logit_bias", "logprobs", "max_completion_tokens", "max_tokens", "metadata",
        "modalities", "n", "parallel_tool_calls", "prediction", "presence_penalty",
        "prompt_cache_key", "reasoning_effort", "response_format", "safety_identifier", "seed",
        "service_tier", "stop", "store", "stream", "stream_options", "temperature",
        "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity",
        "web_search_options",
    }
)  # fmt: skip


def _openai_error(message: str, param: str | None = None) -> JsonDict:
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": None,
        }
    }


def openai(body: JsonDict) -> Refusal | None:
    """OpenAI: unknown parameters are refused (400); ``response_format`` takes ``text``,
    ``json_object`` (nothing else beside the type) or ``json_schema``."""
    for name in body:
        if name not in _OPENAI_PARAMS:
            return 400, _openai_error(f"Unrecognized request argument supplied: {name}")
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        kind = response_format.get("type")
        if kind == "json_object" and set(response_format) != {"type"}:
            extra = sorted(set(response_format) - {"type"})
            return 400, _openai_error(
                f"Unrecognized request argument supplied: response_format.{extra[0]}",
                "response_format",
            )
        if kind not in ("text", "json_object", "json_schema"):
            return 400, _openai_error(
                f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object' and "
                "'json_schema'.",
                "response_format.type",
            )
    return None


def vllm(body: JsonDict) -> Refusal | None:
    """vLLM (0.12 and later): ``response_format`` of type text, json_object, json_schema or
    structural_tag (json_schema needs its ``json_schema``); ``structured_outputs`` is its own
    parameter; unknown ones (``guided_json``, removed in 0.12) are ignored. Errors:
    ``{"object": "error", "message", "type": "BadRequestError", "code": 400}``."""
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        kind = response_format.get("type")
        if kind not in ("text", "json_object", "json_schema", "structural_tag"):
            return 400, _vllm_error(f"response_format.type: unknown type {kind!r}")
        if kind == "json_schema" and not isinstance(response_format.get("json_schema"), dict):
            return 400, _vllm_error("response_format.json_schema is required")
    return None


def _vllm_error(message: str) -> JsonDict:
    return {
        "object": "error",
        "message": message,
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }


def ollama(body: JsonDict, *, tools: bool = True) -> Refusal | None:
    """Ollama's OpenAI endpoint: json_schema becomes its native ``format`` (the schema),
    json_object ``format: "json"``; other fields are ignored. A model without tool support
    refuses ``tools`` with 400 (ollama/ollama openai/openai.go, server/routes.go)."""
    if body.get("tools") and not tools:
        model = body.get("model", "model")
        return 400, {
            "error": {
                "message": f"registry.ollama.ai/library/{model} does not support tools",
                "type": "api_error",
                "param": None,
                "code": None,
            }
        }
    return None


def llamacpp(body: JsonDict) -> Refusal | None:
    """llama-cpp-python's server (0.3.36, as answered on this machine): ``response_format``
    types other than text and json_object fail its request validation, which it answers with
    HTTP 500 and the repr of pydantic's errors; unknown fields are ignored."""
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") not in (
        "text",
        "json_object",
    ):
        kind = response_format.get("type")
        errors = [
            {
                "type": "literal_error",
                "loc": ("body", "response_format", "type"),
                "msg": "Input should be 'text' or 'json_object'",
                "input": kind,
                "ctx": {"expected": "'text' or 'json_object'"},
            }
        ]
        message = (
            f"1 validation error:\n  {errors[0]!r}\n\n"
            '  File "/srv/llama_cpp/server/app.py", line 376, in create_chat_completion\n'
            "    POST /v1/chat/completions"
        )
        return 500, {
            "error": {
                "message": message,
                "type": "internal_server_error",
                "param": None,
                "code": None,
            }
        }
    return None


def lmstudio(body: JsonDict) -> Refusal | None:
    """LM Studio: ``response_format`` must be json_schema or text (400, a bare string error:
    lmstudio-ai/lmstudio-bug-tracker#189); other fields are ignored."""
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") not in (
        "json_schema",
        "text",
    ):
        return 400, {"error": "'response_format.type' must be 'json_schema' or 'text'"}
    return None


FAMILIES: dict[str, Callable[[JsonDict], Refusal | None]] = {
    "openai": openai,
    "vllm": vllm,
    "ollama": ollama,
    "ollama-no-tools": lambda body: ollama(body, tools=False),
    "llamacpp": llamacpp,
    "lmstudio": lmstudio,
}
