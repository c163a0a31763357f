"""Keep the valid records of an answer that failed validation after every re-ask.

Each record is validated on its own against the source; the valid ones are kept and the rest
come back as :class:`~llm_extract.results.DroppedRecord`. Only an answer whose top-level
structure (a JSON object with lists of records, a valid ``coalition_month`` and
``stated_totals``) is usable can be salvaged. No network here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from llm_extract.results import DroppedRecord
from llm_extract.schemas import RECORD_TYPES, ReportExtraction

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_MAX_REASON = 400


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in ``text`` (bare, or in a ```json fence), or None."""
    candidates = [text]
    candidates += [m.group(1) for m in _FENCE.finditer(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def json_block(text: str) -> str:
    """The JSON text of an answer written as prose: the last fenced block, else the span from
    the first ``{`` to the last ``}``, else the whole answer."""
    blocks = _FENCE.findall(text)
    if blocks:
        return str(blocks[-1]).strip()
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        return text[start : end + 1]
    return text


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
