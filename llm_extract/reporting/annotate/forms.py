"""Edit controls described from the data contract's JSON schema (what the page draws).

Each field of a record becomes one descriptor: ``{"name", "label", "kind", "nullable",
"description", ...}`` with ``kind`` one of ``string``, ``integer``, ``boolean``, ``date``,
``enum`` (with ``options``), ``list`` (with ``item``, a descriptor of one element) or
``objects`` (a list of small objects, with ``fields``, such as a strike's targets and
casualties). ``evidence`` has kind ``evidence``: it is set by selecting text in the report,
never typed. The page builds its controls from these descriptors alone, so a field added to
:mod:`llm_extract.schemas` shows up in the editor without touching the page.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from llm_extract.schemas import CATEGORIES, RECORD_TYPES, ReportExtraction, StatedTotals

Descriptor = dict[str, Any]
SCALAR_TYPES = {"string": "string", "integer": "integer", "boolean": "boolean"}


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """The plain (not strict) JSON schema: optional fields keep their defaults."""
    return model.model_json_schema(schema_generator=GenerateJsonSchema)


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str):
        return {**defs[ref.rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _unwrap(node: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The node without its ``null`` branch, and whether null is allowed."""
    node = _resolve(node, defs)
    branches = node.get("anyOf")
    if isinstance(branches, list):
        kept = [_resolve(b, defs) for b in branches if b.get("type") != "null"]
        nullable = len(kept) < len(branches)
        if len(kept) == 1:
            merged = {k: v for k, v in node.items() if k != "anyOf"}
            return {**kept[0], **merged}, nullable
    return node, False


def describe(name: str, node: dict[str, Any], defs: dict[str, Any]) -> Descriptor:
    """The descriptor of one property of a JSON schema."""
    inner, nullable = _unwrap(node, defs)
    out: Descriptor = {
        "name": name,
        "label": name.replace("_", " "),
        "nullable": nullable,
        "description": inner.get("description") or node.get("description") or "",
    }
    if "default" in node:
        out["default"] = node["default"]
    if name == "evidence":
        out["kind"] = "evidence"
    elif "enum" in inner:
        out["kind"] = "enum"
        out["options"] = list(inner["enum"])
    elif inner.get("type") == "string" and inner.get("format") == "date":
        out["kind"] = "date"
    elif inner.get("type") == "array":
        item = _resolve(inner.get("items", {}), defs)
        if item.get("type") == "object":
            out["kind"] = "objects"
            out["fields"] = describe_object(item, defs)
        else:
            out["kind"] = "list"
            out["item"] = describe("item", item, defs)
    elif inner.get("type") in SCALAR_TYPES:
        out["kind"] = SCALAR_TYPES[inner["type"]]
    else:
        raise ValueError(f"{name}: no edit control for schema {inner!r}")
    if "minimum" in inner:
        out["min"] = inner["minimum"]
    return out


def describe_object(schema: dict[str, Any], defs: dict[str, Any]) -> list[Descriptor]:
    """Descriptors of every property of an object schema, in declaration order."""
    required = set(schema.get("required", []))
    fields = []
    for name, node in schema.get("properties", {}).items():
        field = describe(name, node, defs)
        field["required"] = name in required
        fields.append(field)
    return fields


def record_fields(category: str) -> list[Descriptor]:
    """The edit controls of one category's records (evidence first, as in the schema)."""
    schema = _schema(RECORD_TYPES[category])
    return describe_object(schema, schema.get("$defs", {}))


def report_fields() -> list[Descriptor]:
    """The report-level controls: the coalition month and the stated totals."""
    schema = _schema(ReportExtraction)
    defs = schema.get("$defs", {})
    month = describe("coalition_month", schema["properties"]["coalition_month"], defs)
    totals_schema = _schema(StatedTotals)
    totals = describe_object(totals_schema, totals_schema.get("$defs", {}))
    return [month, {"name": "stated_totals", "kind": "group", "fields": totals}]


def form_schema() -> dict[str, Any]:
    """Everything the page needs to draw its editors."""
    return {
        "categories": list(CATEGORIES),
        "records": {category: record_fields(category) for category in CATEGORIES},
        "report": report_fields(),
    }
