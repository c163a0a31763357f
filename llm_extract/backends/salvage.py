"""Keep the valid records of an answer that failed validation after every re-ask.

Each record is validated on its own against the source; the valid ones are kept and the rest
come back as :class:`~llm_extract.results.DroppedRecord`. Only an answer whose top-level
structure (a JSON object with lists of records, a valid ``coalition_month`` and
``stated_totals``) is usable can be salvaged. No network here.

:func:`answer_json` is the one reading of a model's answer as JSON: ``md_json`` validates
what it returns, and salvage keeps the valid records of the same object.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from llm_extract.results import DroppedRecord
from llm_extract.schemas import RECORD_TYPES, ReportExtraction

_FENCE = "```"
#: Inside an object: a JSON string (braces in it do not count; one cut off runs to the end)
#: or a brace.
_INSIDE = re.compile(r'"(?:[^"\\]|\\.?)*(?:"|\Z)|[{}]', re.DOTALL)
_MAX_REASON = 400


def answer_json(text: str) -> str:
    """The JSON text of a model's answer: the one rule for validation and salvage alike.

    The answer's JSON is its **last** JSON object. A model that writes prose, or repeats an
    example (the worked example of the prompt, a schema) before its answer, puts its answer
    last, so the last object wins, as reference libraries do against injected examples.

    The candidates are the top-level ``{...}`` spans of the answer (braces inside JSON strings
    are not counted, and objects nested in a span are part of it, not candidates). Fence
    markers (```` ``` ````) split the answer into parts read one by one, so a brace in the
    prose around a fenced block cannot swallow it. The last candidate that parses as a JSON
    object is the answer; when none does, the last candidate (from its ``{`` to its end, or
    to the end of the answer when it is cut off) is given, so the validation error speaks of
    what the model tried to write; with no ``{`` at all, the whole answer.
    """
    spans = [span for part in _parts(text) for span in _top_level_objects(part)]
    for span in reversed(spans):
        try:
            value = json.loads(span)
        except ValueError:
            continue
        if isinstance(value, dict):
            return span
    return spans[-1] if spans else text


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object of the answer ``text`` (see :func:`answer_json`), or None."""
    try:
        value = json.loads(answer_json(text))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _parts(text: str) -> list[str]:
    """``text`` split at its fence markers (the language tag stays with the block)."""
    return text.split(_FENCE)


def _top_level_objects(text: str) -> list[str]:
    """The top-level ``{...}`` spans of ``text``, in order; one cut off runs to the end."""
    spans: list[str] = []
    start = text.find("{")
    while start >= 0:
        depth, end = 0, -1
        for token in _INSIDE.finditer(text, start):
            if token.group() == "{":
                depth += 1
            elif token.group() == "}":
                depth -= 1
                if depth == 0:
                    end = token.end()
                    break
        if end < 0:
            spans.append(text[start:])
            break
        spans.append(text[start:end])
        start = text.find("{", end)
    return spans


def error_summary(exc: ValidationError) -> str:
    """One line per pydantic error: ``field.path: message`` (without echoing inputs)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"]) or "record"
        parts.append(f"{where}: {error['msg']}")
    summary = "; ".join(parts)
    return summary if len(summary) <= _MAX_REASON else summary[: _MAX_REASON - 3] + "..."


def salvage(
    text: str, context: dict[str, Any]
) -> tuple[ReportExtraction, list[DroppedRecord]] | None:
    """The valid part of the answer ``text`` and its dropped records; None when unusable."""
    data = parse_json_object(text)
    if data is None:
        return None
    return salvage_data(data, context)


def salvage_data(
    data: dict[str, Any], context: dict[str, Any]
) -> tuple[ReportExtraction, list[DroppedRecord]] | None:
    """The valid part of an extraction given as data (a model's parsed answer, or what the
    offline extractor built) and its dropped records; None when the document itself does not
    validate. The one way of keeping the valid records, for every backend."""
    kept: dict[str, list[Any]] = {}
    dropped: list[DroppedRecord] = []
    for category, model in RECORD_TYPES.items():
        items = data.get(category) or []
        if not isinstance(items, list):
            return None
        kept[category] = []
        for item in items:
            try:
                model.model_validate(item, context=context)
            except ValidationError as exc:
                dropped.append(
                    DroppedRecord(
                        category=category,
                        reason=error_summary(exc),
                        record=item if isinstance(item, dict) else None,
                    )
                )
            else:
                kept[category].append(item)
    try:
        extraction = ReportExtraction.model_validate({**data, **kept}, context=context)
    except ValidationError:
        return None
    return extraction, dropped
