"""The dataset in Datasette: table and column descriptions, facets, and Arabic search.

Search runs over ``records.evidence_norm`` (the evidence after
:func:`llm_extract.normalize.normalize`, indexed by ``records_fts``). The query is
normalised the same way before it reaches SQLite, so "الحسكة" finds "الحسكه" and
"أسقطت" finds "اسقطت": the plugin here rewrites the ``_search`` parameter of every request
(the search box of a table page), and registers ``ar_norm()`` for SQL, which the canned query
``search_evidence`` uses (``ar_norm(:q)``). Datasette is an optional dependency
(``pip install 'llm-extract[dataset]'``); this module imports it only when serving.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from llm_extract.errors import UsageError
from llm_extract.normalize import normalize

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_RECORD_COLUMNS = {
    "id": "Record id (derived from its run or correction, report, category and position)",
    "report_id": "The report (sha256 of its normalised text; see reports)",
    "run_id": "The run the record came from (empty for a correction)",
    "correction_id": "The analyst's correction (gold file) it came from (empty for a run)",
    "category": "convoys, drills, strikes or arrests",
    "date": "Date of the event (the first date of a convoy)",
    "governorate": "Governorate: from the text, or from the gazetteer (governorate_derived)",
    "governorate_derived": "1 when the governorate comes from the gazetteer, not the text",
    "latitude": "Latitude of the place (gazetteer; always derived, never from the text)",
    "longitude": "Longitude of the place (gazetteer; always derived, never from the text)",
    "place_id": "Gazetteer id of the place; empty when the gazetteer does not know it",
    "location": "Place as the report writes it (Arabic)",
    "fields": "Every field of the record (JSON)",
    "evidence": "The verbatim span of the report that supports the record",
    "evidence_norm": "The evidence after Arabic normalisation (what search matches)",
}


def metadata(database: str) -> dict[str, Any]:
    """Datasette's metadata for the dataset served as ``database`` (the file's stem)."""
    return {"title": TITLE, "description": DESCRIPTION, "databases": {database: _DATABASE}}


TITLE = "llm-extract event dataset"
DESCRIPTION = (
    "Reports, runs, records, corrections and linked events. Search the records' evidence "
    "in Arabic: spelling variants (ة/ه, أ/ا, diacritics, Arabic-Indic digits) match."
)
_DATABASE: dict[str, Any] = {
    "tables": {
        "reports": {
            "description": "One row per report (the same text added twice is one).",
            "facets": ["coalition_month"],
        },
        "runs": {
            "description": "One row per run: prompt, model, mode, tokens and cost.",
            "facets": ["model", "prompt_name"],
        },
        "records": {
            "description": "One row per extracted or corrected record.",
            "facets": ["category", "governorate"],
            "columns": _RECORD_COLUMNS,
            "fts_table": "records_fts",
            "fts_pk": "rowid",
            "searchmode": "raw",
        },
        "current_records": {
            "description": (
                "The records of each report's current view: its correction, else the "
                "preferred configuration, else its latest run (chosen_by)."
            ),
            "facets": ["category", "governorate", "chosen_by"],
        },
        "events": {
            "description": (
                "One row per real event, linked across reports; counts per mention in "
                "counts (never averaged)."
            ),
            "facets": ["category", "governorate", "month"],
            "columns": {
                "mentions": "How many records (in different reports) describe it",
                "reports": "How many reports mention it",
                "counts": "Each mention's counts (JSON), kept when they disagree",
                "counts_disagree": "1 when mentions give different counts",
                "month": "Calendar month of the event's date",
            },
        },
        "mentions": {"description": "Which record is a mention of which event."},
        "corrections": {"description": "Gold files added with `db add --gold`."},
        "failures": {"description": "Reports a run could not extract."},
        "dropped": {"description": "Records a model returned that failed validation."},
        "current": {"description": "Per report, where its current records come from."},
    },
    "queries": {
        "search_evidence": {
            "title": "Search the evidence (Arabic normalised)",
            "sql": (
                "SELECT records.report_id, records.category, records.date, "
                "records.governorate, records.evidence FROM records_fts "
                "JOIN records ON records.rowid = records_fts.rowid "
                "WHERE records_fts MATCH ar_norm(:q) ORDER BY records.date"
            ),
        }
    },
}


def ar_norm(text: object) -> str | None:
    """The SQL function ``ar_norm``: Arabic normalisation of a search query."""
    return None if text is None else normalize(str(text))


def normalise_query_string(query: bytes) -> bytes:
    """``_search`` (and ``_search_<column>``) parameters normalised; the rest untouched."""
    pairs = parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True)
    changed = [(k, normalize(v) if k.startswith("_search") else v) for k, v in pairs]
    return urlencode(changed).encode("ascii")


def search_middleware(app: App) -> App:
    """An ASGI wrapper that normalises the search parameters of every HTTP request."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http" and b"_search" in scope.get("query_string", b""):
            scope = dict(scope)
            scope["query_string"] = normalise_query_string(scope["query_string"])
        await app(scope, receive, send)

    return wrapped


class ArabicSearchPlugin:
    """The Datasette plugin (registered by :func:`build_datasette`)."""

    @staticmethod
    def prepare_connection(conn: sqlite3.Connection) -> None:
        conn.create_function("ar_norm", 1, ar_norm, deterministic=True)

    @staticmethod
    def asgi_wrapper() -> Callable[[App], App]:
        return search_middleware


def build_datasette(path: str | Path) -> Any:
    """A Datasette over the dataset at ``path``, with the metadata and the Arabic search
    plugin (serve its ``.app()``; its ``executor`` is shut down when done). Raises
    :class:`UsageError` when Datasette is missing."""
    try:
        from datasette import hookimpl
        from datasette.app import Datasette
        from datasette.plugins import pm
    except ImportError as exc:
        raise UsageError("db serve needs Datasette: pip install 'llm-extract[dataset]'") from exc
    name = "llm_extract_arabic_search"
    if pm.get_plugin(name) is None:
        plugin = type(
            "LlmExtractArabicSearch",
            (),
            {
                "prepare_connection": staticmethod(hookimpl(ArabicSearchPlugin.prepare_connection)),
                "asgi_wrapper": staticmethod(hookimpl(ArabicSearchPlugin.asgi_wrapper)),
            },
        )
        pm.register(plugin, name=name)
    return Datasette([str(path)], metadata=metadata(Path(path).stem))
