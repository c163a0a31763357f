"""The OpenAI Batch API: request files out, results files in. No network here.

``prepare`` writes one request line per report::

    {"custom_id": REPORT_ID, "method": "POST", "url": "/v1/chat/completions", "body": {...}}

where ``body`` is exactly what the online path sends for that report (same messages, same
schema, same parameters: the backend renders it). Beside the requests goes a *manifest*
(``<requests>.manifest.json``) that maps each ``custom_id`` to its report: id, path, sha256,
text, and the content-addressed :func:`~llm_extract.run.keys.request_key` of the request. So:

- ``custom_id`` is the report id (readable in the provider's dashboard, unique in a file);
- the request key is kept in the manifest, written into every collected result, and the same
  key the online path would use: a collected answer can fill the response cache, and
  ``extract --resume`` and the batch agree on what is done.

``collect`` reads any results file in the Batch API output format, one JSON object per line::

    {"id": ..., "custom_id": ..., "response": {"status_code": 200, "request_id": ...,
     "body": <chat.completion>}, "error": null}

and turns each line into an :class:`~llm_extract.results.ExtractionResult`, validated like an
online answer (grounded against the report's text). Lines that failed at the provider, that
do not parse, that break the schema or that name an unknown ``custom_id`` become results with
status ``failed`` and the reason; requests of the manifest without a result line are reported
as missing. Nothing is dropped silently.

Anthropic models (``anthropic/<model>``) go through Anthropic's Message Batches instead: a
request line is ``{"custom_id": REPORT_ID, "params": <Messages API body>}`` (the body the
online path sends), a result line ``{"custom_id": ..., "result": {"type": "succeeded",
"message": <message>}}`` (or ``errored``, ``canceled``, ``expired``); the manifest's
``protocol`` says which (``openai`` for manifests written before it existed).

Google models (``google/<model>``) go through the Gemini API's batch jobs, in the line
format of its batch files: ``{"key": REPORT_ID, "request": <generateContent body>}`` out,
``{"key": ..., "response": <GenerateContentResponse>}`` (or ``"error"``) back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from llm_extract.backends.base import BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.errors import ExtractionError, InputError, UsageError
from llm_extract.outputs import refuse_foreign, write_bytes, write_text
from llm_extract.pricing import load_price_table
from llm_extract.report import Report
from llm_extract.results import ErrorInfo, ExtractionResult, PromptInfo, SourceInfo, Usage
from llm_extract.run.aio import run_async
from llm_extract.run.runner import Plan, Runner
from llm_extract.run.transport import ReplayTransport, tag_requests

BATCH_URL = "/v1/chat/completions"
MANIFEST_VERSION = 1
#: Limits of one Batch API input file (OpenAI: 50,000 requests, 200 MB).
MAX_REQUESTS_PER_FILE = 50_000
MAX_BYTES_PER_FILE = 190_000_000


class ManifestEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_id: str
    path: str
    sha256: str
    request_key: str
    text: str
    url: str | None = None
    title: str | None = None
    published: dt.date | dt.datetime | None = None
    fetched_at: dt.datetime | None = None

    def report(self) -> Report:
        """The report this entry was made from, provenance included."""
        return Report(
            report_id=self.report_id,
            text=self.text,
            path=self.path,
            sha256=self.sha256,
            url=self.url,
            title=self.title,
            published=self.published,
            fetched_at=self.fetched_at,
        )


class Manifest(BaseModel):
    """What ``collect`` needs to turn results back into validated extractions."""

    model_config = ConfigDict(extra="forbid")

    version: int = MANIFEST_VERSION
    model: str
    mode: str
    prompt: PromptInfo
    #: whose batch format: "openai" (Batch API) or "anthropic" (Message Batches)
    protocol: str = "openai"
    requests_files: list[str] = []
    entries: dict[str, ManifestEntry]

    def request_for(self, custom_id: str, settings: ModelSettings) -> ExtractionRequest:
        report = self.entries[custom_id].report()
        # The answer is replayed, whatever is asked; an SDK that checks its request (Gemini's)
        # wants one message.
        messages = [{"role": "user", "content": "(batch answer, replayed)"}]
        return ExtractionRequest(
            report=report, messages=messages, settings=settings, prompt=self.prompt
        )


def manifest_path(requests_path: str | Path) -> Path:
    """The manifest written beside a requests file: ``<requests>.manifest.json``."""
    path = Path(requests_path)
    return path.with_name(path.name + ".manifest.json")


def batch_line(custom_id: str, body: dict[str, Any], protocol: str = "openai") -> dict[str, Any]:
    if protocol == "anthropic":
        return {"custom_id": custom_id, "params": body}
    if protocol == "google":
        return {"key": custom_id, "request": body}
    return {"custom_id": custom_id, "method": "POST", "url": BATCH_URL, "body": body}


def line_body(line: dict[str, Any]) -> dict[str, Any]:
    """The request body of a request line, whichever the protocol."""
    body = line.get("body", line.get("params", line.get("request")))
    return body if isinstance(body, dict) else {}


@dataclass
class PreparedBatch:
    """Request lines (one per report) and the manifest that maps them back."""

    lines: list[dict[str, Any]]
    manifest: Manifest
    files: list[Path] = field(default_factory=list)


def check_unique_ids(requests: Sequence[ExtractionRequest]) -> None:
    """Raise UsageError naming both files when two reports share an id (= custom_id)."""
    paths: dict[str, str] = {}
    for request in requests:
        report = request.report
        if report.report_id in paths:
            raise UsageError(
                f"two reports share the id {report.report_id!r} ({paths[report.report_id]} and "
                f"{report.path}): a batch needs unique report ids"
            )
        paths[report.report_id] = report.path


def prepare_batch(
    requests: Sequence[ExtractionRequest],
    bodies: dict[str, dict[str, Any]],
    keys: dict[str, str],
    *,
    mode: str | None = None,
    protocol: str = "openai",
) -> PreparedBatch:
    """One Batch API request line per request (``bodies`` and ``keys`` by report id), rendered
    in ``mode`` (by default the requests' own; ``collect`` reads the answers in it).

    Raises UsageError on an empty batch or a repeated report id.
    """
    if not requests:
        raise UsageError("no reports to put in a batch")
    check_unique_ids(requests)
    first = requests[0]
    lines: list[dict[str, Any]] = []
    entries: dict[str, ManifestEntry] = {}
    for request in requests:
        report = request.report
        entries[report.report_id] = ManifestEntry(
            report_id=report.report_id,
            path=report.path,
            sha256=report.sha256,
            request_key=keys[report.report_id],
            text=report.text,
            url=report.url,
            title=report.title,
            published=report.published,
            fetched_at=report.fetched_at,
        )
        lines.append(batch_line(report.report_id, bodies[report.report_id], protocol))
    manifest = Manifest(
        model=first.settings.model,
        mode=mode or first.settings.mode,
        prompt=first.prompt,
        protocol=protocol,
        entries=entries,
    )
    return PreparedBatch(lines=lines, manifest=manifest)


async def prepare_reports(runner: Runner, plan: Plan) -> PreparedBatch:
    """Request lines for the plan's reports with exactly the bodies the online path would
    send (rendered by the model backend itself) and the same request keys."""
    from llm_extract.run.dryrun import render_bodies

    if not runner.capabilities.batch_api:
        raise UsageError(f"model {runner.settings.model!r} has no Batch API; use extract")
    requests = plan.requests
    check_unique_ids(requests)  # before rendering anything
    mode = runner.render_mode()
    bodies = await render_bodies(runner, requests, mode=mode)
    keys = {r.report.report_id: r.key for r in requests}
    return prepare_batch(
        requests, bodies, keys, mode=mode, protocol=runner.capabilities.credentials
    )


def _is_requests(head: bytes) -> bool:
    return head.lstrip().startswith(b'{"custom_id"')


def _is_manifest(head: bytes) -> bool:
    return head.lstrip().startswith(b"{") and b'"requests_files"' in head


def _part_path(path: Path, part: int, parts: int) -> Path:
    if parts == 1:
        return path
    return path.with_name(f"{path.stem}.part{part:03d}{path.suffix}")


def write_batch(
    prepared: PreparedBatch,
    path: str | Path,
    *,
    max_requests: int = MAX_REQUESTS_PER_FILE,
    max_bytes: int = MAX_BYTES_PER_FILE,
    force: bool = False,
) -> PreparedBatch:
    """Write the request lines to ``path`` (split into ``.partNNN`` files beyond the Batch API's
    limits) and the manifest beside ``path``. Returns ``prepared`` with ``files`` filled.

    Each file is written whole or not at all (:mod:`llm_extract.outputs`); an existing file
    that is not a request file (or a manifest) is not replaced unless ``force``."""
    target = Path(path)
    groups: list[list[bytes]] = [[]]
    size = 0
    for line in prepared.lines:
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        if groups[-1] and (len(groups[-1]) >= max_requests or size + len(data) > max_bytes):
            groups.append([])
            size = 0
        groups[-1].append(data)
        size += len(data)
    files = [_part_path(target, i + 1, len(groups)) for i in range(len(groups))]
    for file in files:
        refuse_foreign(file, "a Batch API request file", _is_requests, force=force)
    refuse_foreign(manifest_path(target), "a batch manifest", _is_manifest, force=force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for file, group in zip(files, groups, strict=True):
            write_bytes(file, b"".join(group))
        prepared.manifest.requests_files = [f.name for f in files]
        write_text(manifest_path(target), prepared.manifest.model_dump_json(indent=1))
    except OSError as exc:
        raise InputError(target, f"cannot write the batch file ({exc.strerror})") from exc
    prepared.files = files
    return prepared


def load_manifest(path: str | Path) -> Manifest:
    """The manifest at ``path`` (or beside the requests file ``path``)."""
    file = Path(path)
    if not file.name.endswith(".manifest.json"):
        file = manifest_path(file)
    try:
        return Manifest.model_validate_json(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(file, f"cannot read the batch manifest ({exc.strerror})") from exc
    except ValidationError as exc:
        raise InputError(file, f"not a batch manifest ({exc.errors()[0]['msg']})") from exc


# --- results -------------------------------------------------------------------------------


@dataclass
class ResultLine:
    """One line of a results file: its number, custom_id (if any) and the parsed object."""

    number: int
    custom_id: str | None
    data: dict[str, Any] | None
    problem: str | None = None


def read_batch_lines(lines: Iterable[str]) -> Iterator[ResultLine]:
    """Parse a Batch API output (or error) file; a line that is not a JSON object is reported."""
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield ResultLine(number, None, None, f"line {number}: not JSON ({exc.msg})")
            continue
        if not isinstance(data, dict):
            yield ResultLine(number, None, None, f"line {number}: not a JSON object")
            continue
        custom_id = data.get("custom_id", data.get("key"))  # key: Gemini's batch lines
        if not isinstance(custom_id, str) or not custom_id:
            yield ResultLine(number, None, data, f"line {number}: no custom_id")
            continue
        yield ResultLine(number, custom_id, data)


def _anthropic_failure(result: Any) -> tuple[str, str] | None:
    """(kind, message) when a Message Batches result is not a usable message, else None."""
    if not isinstance(result, dict):
        return "invalid_result", "the result is not an object"
    kind = result.get("type")
    if kind == "succeeded":
        return None if isinstance(result.get("message"), dict) else ("invalid_result", "no message")
    if kind == "errored":
        error = result.get("error")
        detail = error.get("error") if isinstance(error, dict) else None
        if isinstance(detail, dict):
            return str(detail.get("type") or "batch_error"), str(detail.get("message") or detail)
        return "batch_error", str(error)
    return str(kind or "invalid_result"), f"the request was not answered ({kind})"


def answer_of(data: dict[str, Any]) -> dict[str, Any]:
    """The model's answer (chat completion or message) of a result line without failure."""
    if "result" in data:
        message: dict[str, Any] = data["result"]["message"]
        return message
    if "key" in data:
        answer: dict[str, Any] = data["response"]
        return answer
    body: dict[str, Any] = data["response"]["body"]
    return body


def _line_failure(data: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, message) when the provider says the request failed, else None."""
    if "result" in data:
        return _anthropic_failure(data["result"])
    if "key" in data:  # Gemini
        error = data.get("error")
        if error:
            detail = error if isinstance(error, dict) else {}
            return f"http_{detail.get('code', 'error')}", str(detail.get("message") or error)
        if not isinstance(data.get("response"), dict):
            return "invalid_result", "the line has neither a response nor an error"
        return None
    error = data.get("error")
    if error:
        if isinstance(error, dict):
            code = error.get("code") or "batch_error"
            return str(code), str(error.get("message") or error)
        return "batch_error", str(error)
    response = data.get("response")
    if not isinstance(response, dict):
        return "invalid_result", "the line has neither a response nor an error"
    status = response.get("status_code")
    body = response.get("body")
    if status != 200:
        message = body
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            message = body["error"].get("message", body)
        return f"http_{status}", f"HTTP {status}: {message}"
    if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
        return "invalid_result", "the response body is not a chat completion"
    return _choice_problem(body["choices"])


def _choice_problem(choices: list[Any]) -> tuple[str, str] | None:
    """Why a chat completion's ``choices`` hold no answer to validate, or None."""
    if not choices:
        return "invalid_result", "the chat completion has no choices (choices is empty)"
    first = choices[0]
    if not isinstance(first, dict):
        return "invalid_result", "the first choice of the chat completion is not an object"
    message = first.get("message")
    if not isinstance(message, dict):
        return "invalid_result", "the first choice of the chat completion has no message"
    content, calls = message.get("content"), message.get("tool_calls")
    if not (isinstance(content, str) and content) and not (isinstance(calls, list) and calls):
        refusal = message.get("refusal")
        if isinstance(refusal, str) and refusal:
            return "refusal", f"the model refused: {refusal}"
        return (
            "invalid_result",
            "the message of the first choice has neither content nor tool calls",
        )
    return None


def _failed(
    entry: ManifestEntry | None,
    custom_id: str,
    manifest: Manifest,
    kind: str,
    message: str,
) -> ExtractionResult:
    return ExtractionResult(
        report_id=entry.report_id if entry else custom_id,
        source=(
            SourceInfo.from_report(entry.report()) if entry else SourceInfo(path="", sha256="")
        ),
        prompt=manifest.prompt,
        model=manifest.model,
        status="failed",
        error=ErrorInfo(kind=kind, message=message),
        request_key=entry.request_key if entry else None,
    )


@dataclass
class Collected:
    """Results of ``collect``: one per request of the manifest (plus unknown lines)."""

    results: list[ExtractionResult]
    problems: list[str]

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.status == "failed")


async def validate_answers(
    answers: dict[str, dict[str, Any]], manifest: Manifest, settings: ModelSettings
) -> dict[str, BackendResponse | ExtractionError]:
    """Validate chat.completion bodies (by custom_id) exactly as the online path does.

    Each body is handed to the OpenAI backend as the HTTP answer to its request (a replay
    transport), so parsing, grounding and salvage of valid records are the backend's own. No
    re-ask is possible for a batch answer: ``max_reasks`` is 0.
    """
    import httpx

    from llm_extract.backends import get_backend

    replay = ReplayTransport(answers)
    offline = replace(
        settings,
        api_key="batch-collect",
        base_url="http://batch.invalid/v1",
        max_retries=0,
        max_reasks=0,
    )
    backend = get_backend(offline, httpx.AsyncClient(transport=replay))
    out: dict[str, BackendResponse | ExtractionError] = {}
    try:
        for custom_id in answers:
            request = manifest.request_for(custom_id, offline)
            with tag_requests(custom_id):
                try:
                    out[custom_id] = await backend.extract(request)
                except ExtractionError as exc:
                    out[custom_id] = exc
    finally:
        await backend.aclose()
    return out


def collect_results(
    lines: Iterable[str], manifest: Manifest, *, settings: ModelSettings
) -> Collected:
    """Validated results of a Batch API output file (see the module doc)."""
    prices = load_price_table()
    failures: dict[str, ExtractionResult] = {}
    answers: dict[str, dict[str, Any]] = {}
    extra: list[ExtractionResult] = []
    problems: list[str] = []
    for line in read_batch_lines(lines):
        if line.custom_id is None:
            problems.append(line.problem or f"line {line.number}: unreadable")
            continue
        custom_id = line.custom_id
        entry = manifest.entries.get(custom_id)
        if entry is None:
            problems.append(f"line {line.number}: custom_id {custom_id!r} is not in the manifest")
            extra.append(
                _failed(None, custom_id, manifest, "unknown_custom_id", "not in the manifest")
            )
            continue
        if custom_id in answers:
            problems.append(f"line {line.number}: a second answer for {custom_id!r} (ignored)")
            continue
        assert line.data is not None  # read_batch_lines gives data with every custom_id
        failure = _line_failure(line.data)
        if failure is not None:
            problems.append(f"line {line.number} ({custom_id}): {failure[1]}")
            failures[custom_id] = _failed(entry, custom_id, manifest, *failure)
            continue
        answers[custom_id] = answer_of(line.data)
        failures.pop(custom_id, None)  # an answer after an error line (a retried request)
    validated = run_async(validate_answers(answers, manifest, settings)) if answers else {}
    ordered: list[ExtractionResult] = []
    for custom_id, entry in manifest.entries.items():
        outcome = validated.get(custom_id)
        if isinstance(outcome, BackendResponse):
            usage = outcome.usage.model_copy(
                update={"cost_usd": prices.cost(manifest.model, outcome.usage, batch=True)}
            )
            ordered.append(
                ExtractionResult(
                    report_id=entry.report_id,
                    source=SourceInfo.from_report(entry.report()),
                    prompt=manifest.prompt,
                    model=(
                        str(answers[custom_id].get("model") or manifest.model)
                        if manifest.protocol == "openai"
                        else manifest.model  # the provider stays named: anthropic/...
                    ),
                    status="ok",
                    extraction=outcome.extraction,
                    dropped=outcome.dropped,
                    usage=usage,
                    request_key=entry.request_key,
                )
            )
        elif isinstance(outcome, ExtractionError):
            problems.append(f"{custom_id}: {outcome.kind}: {outcome}")
            failed = _failed(entry, custom_id, manifest, outcome.kind, str(outcome))
            if isinstance(outcome.usage, Usage):
                failed.usage = outcome.usage.model_copy(
                    update={"cost_usd": prices.cost(manifest.model, outcome.usage, batch=True)}
                )
            ordered.append(failed)
        elif custom_id in failures:
            ordered.append(failures[custom_id])
        else:
            problems.append(f"{custom_id}: no result line in the results file")
            ordered.append(
                _failed(entry, custom_id, manifest, "missing", "no result line for this report")
            )
    return Collected(results=ordered + extra, problems=problems)
