"""``llm-extract logs REPORT_ID``: what was sent to the model and what came back.

Rows come from the request log (``extract --log``), one per HTTP attempt, oldest first.
Exit codes: 0 rows shown; 2 nothing logged for that report, or no readable log (a ``--db``
that does not exist is an error: nothing is created). Secrets are masked again on the way out.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Annotated, Any

import typer

from llm_extract.cli._common import EXIT_USAGE, cli_errors, echo, echo_error, fail
from llm_extract.run.logstore import LogEntry, RequestLog

app = typer.Typer(add_completion=False)


def _messages(request: Any) -> list[tuple[str, str]]:
    if not isinstance(request, dict):
        return []
    out = []
    for message in request.get("messages") or []:
        if isinstance(message, dict):
            content = message.get("content")
            text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
            out.append((str(message.get("role")), text))
    return out


def _answer(response: Any) -> str:
    """The model's answer inside a chat.completion (tool arguments or content)."""
    if not isinstance(response, dict):
        return "" if response is None else str(response)
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices:
        return json.dumps(response, ensure_ascii=False)
    choice = choices[0]
    message = choice.get("message") or {}
    calls = message.get("tool_calls") or []
    text = (
        "\n".join(str(c.get("function", {}).get("arguments")) for c in calls)
        if calls
        else str(message.get("content"))
    )
    return f"[finish_reason={choice.get('finish_reason')}] {text}"


def _load(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _clip(text: str, full: bool, width: int = 400) -> str:
    if full or len(text) <= width:
        return text
    return f"{text[:width]}… [{len(text) - width} more characters; --full shows all]"


def _show(entry: LogEntry, number: int, full: bool) -> None:
    when = dt.datetime.fromtimestamp(entry.created).isoformat(timespec="seconds")
    status = entry.status + (f" HTTP {entry.http_status}" if entry.http_status else "")
    if entry.status == "cached":
        status = "from the response cache (no request sent)"
    tokens = (
        f", {entry.prompt_tokens}+{entry.completion_tokens} tokens"
        if entry.prompt_tokens is not None
        else ""
    )
    latency = f", {entry.latency_s:.2f} s" if entry.latency_s is not None else ""
    echo(f"#{number} {when} {entry.model or '?'} {status}{latency}{tokens}")
    if entry.request_key:
        echo(f"  request key {entry.request_key}")
    for role, text in _messages(_load(entry.request)):
        echo(f"  > {role}: {_clip(text, full)}")
    if entry.error:
        echo(f"  ! {entry.error}")
    if entry.response is not None:
        echo(f"  < {_clip(_answer(_load(entry.response)), full)}")


@app.command("logs")
def logs_command(
    report_id: Annotated[str, typer.Argument(help="Report id (the file name without .txt).")],
    last: Annotated[
        int | None, typer.Option("--last", "-n", min=1, help="Only the last N requests.")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Do not shorten long messages.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per request (as stored).")
    ] = False,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db", help="Log database (default: the cache's; see LLM_EXTRACT_CACHE_DIR)."
        ),
    ] = None,
) -> None:
    """Show every logged request and response of one report (run extract with --log)."""
    try:
        with cli_errors(), RequestLog.open_existing(db) as log:
            entries = log.for_report(report_id)
            known = [] if entries else log.report_ids()
    except sqlite3.Error as exc:
        fail(f"{db or 'request log'}: cannot read the request log ({exc})")
    if not entries:
        hint = f" (logged reports: {', '.join(known[:5])}{', ...' if len(known) > 5 else ''})"
        echo_error(
            f"error: nothing logged for {report_id!r}; run extract with --log"
            + (hint if known else "")
        )
        raise typer.Exit(EXIT_USAGE)
    if last is not None:
        entries = entries[-last:]
    for number, entry in enumerate(entries, start=1):
        if as_json:
            row = {**entry.__dict__, "request": _load(entry.request)}
            row["response"] = _load(entry.response)
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            _show(entry, number, full)
