"""``llm-extract batch``: big, cheap runs through the OpenAI Batch API (half price, 24 h).

    llm-extract batch prepare reports/ -o requests.jsonl     # + requests.jsonl.manifest.json
    llm-extract batch submit requests.jsonl                  # prints the batch id
    llm-extract batch status BATCH_ID
    llm-extract batch download BATCH_ID -o results.jsonl
    llm-extract batch collect results.jsonl -m requests.jsonl -o out.jsonl

``custom_id`` is the report id; the manifest keeps each report's text and request key, so
``collect`` needs no other file. Exit codes: 0 ok; 1 some results failed or are missing;
2 usage or input error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from llm_extract.backends.base import BackendResponse, ModelSettings
from llm_extract.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    cli_errors,
    configure,
    echo,
    echo_duplicates,
    echo_error,
    fail,
    refuse_overwriting_inputs,
)
from llm_extract.cli._fetch import FETCH, fetch_settings, pdf_limits
from llm_extract.cli._options import BATCH_MODEL, CALL, INPUT, PROMPT, Options, with_options
from llm_extract.errors import InputError
from llm_extract.jsonl import JsonlWriter
from llm_extract.outputs import refuse_foreign, write_bytes
from llm_extract.report import Duplicate, Report
from llm_extract.results import ExtractionResult, Usage
from llm_extract.run.aio import run_async
from llm_extract.run.batch import (
    BATCH_URL,
    MAX_BYTES_PER_FILE,
    MAX_REQUESTS_PER_FILE,
    collect_results,
    line_body,
    load_manifest,
    manifest_path,
    prepare_reports,
    write_batch,
)
from llm_extract.run.ratelimit import estimate_body_tokens
from llm_extract.run.runner import Runner
from llm_extract.settings import (
    API_KEY_ENV,
    BASE_URL_ENV,
    CONCRETE_MODES,
    CREDENTIAL_ENVS,
    Mode,
    Settings,
    load_settings,
)
from llm_extract.sources.files import read_reports

app = typer.Typer(
    help="OpenAI Batch API or Anthropic Message Batches: prepare, submit, status, download, "
    "collect.",
    no_args_is_help=True,
    add_completion=False,  # completion is the top-level command's
)

#: Anthropic's message batch ids start so; status and download send them to Anthropic.
ANTHROPIC_BATCH_PREFIX = "msgbatch_"
#: The Gemini API's batch names start so; status and download send them to Google.
GOOGLE_BATCH_PREFIX = "batches/"


@contextmanager
def _client() -> Iterator[Any]:
    """An OpenAI client from OPENAI_API_KEY / OPENAI_BASE_URL, closed after use."""
    import openai

    with cli_errors():
        settings = load_settings()
    key, base_url = settings.api_key_value(), settings.base_url
    if not key and not base_url:
        fail(f"the Batch API needs {API_KEY_ENV} (or {BASE_URL_ENV} for a compatible server)")
    with openai.OpenAI(api_key=key or "no-key", base_url=base_url, max_retries=2) as client:
        yield client


@contextmanager
def _anthropic() -> Iterator[Any]:
    """An Anthropic client from ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL, closed after use."""
    with cli_errors():
        settings = load_settings()
    key, base_url = settings.server("anthropic")
    keys, base = CREDENTIAL_ENVS["anthropic"]
    if not key and not base_url:
        fail(f"Message Batches need {keys[0]} (or {base} for a compatible server)")
    try:
        import anthropic
    except ImportError:
        fail("Message Batches need the anthropic SDK: pip install 'llm-extract[anthropic]'")
    with anthropic.Anthropic(api_key=key or "no-key", base_url=base_url, max_retries=2) as client:
        yield client


def _anthropic_call(what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    import anthropic

    try:
        return call(*args, **kwargs)
    except anthropic.AnthropicError as exc:
        fail(f"{what}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


@contextmanager
def _google() -> Iterator[Any]:
    """A google-genai client from GEMINI_API_KEY / GOOGLE_GEMINI_BASE_URL."""
    with cli_errors():
        settings = load_settings()
    key, base_url = settings.server("google")
    keys, base = CREDENTIAL_ENVS["google"]
    if not key and not base_url:
        fail(f"Gemini batches need {keys[0]} (or {base} for a compatible server)")
    try:
        from google import genai
        from google.genai import types
    except ImportError:
        fail("Gemini batches need google-genai: pip install 'llm-extract[google]'")
    with genai.Client(
        api_key=key or "no-key", http_options=types.HttpOptions(base_url=base_url)
    ) as client:
        yield client


def _google_call(what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    from google.genai import errors

    try:
        return call(*args, **kwargs)
    except errors.APIError as exc:
        fail(f"{what}: {exc.code} {exc.message or exc.status}")


def _request_lines(file: Path) -> list[dict[str, Any]]:
    if not file.is_file():
        fail(f"{file}: no such request file")
    try:
        return [json.loads(t) for t in file.read_text(encoding="utf-8").splitlines() if t]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(f"{file}: not a request file of prepare ({type(exc).__name__})")


def _protocol(requests_file: Path) -> str:
    """The batch protocol of a request file, from its manifest ("openai" without one)."""
    if not manifest_path(requests_file).is_file():
        return "openai"
    with cli_errors():
        return load_manifest(requests_file).protocol


def _api_call(what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    import openai

    try:
        return call(*args, **kwargs)
    except openai.OpenAIError as exc:
        fail(f"{what}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


@app.command("prepare")
@with_options(BATCH_MODEL, PROMPT, CALL, INPUT, FETCH)
def prepare_command(
    paths: Annotated[
        list[str],
        typer.Argument(help="Report files (.txt, .html, .pdf), folders, globs, URLs, .urls, or -."),
    ],
    opts: Options,
    output: Annotated[Path, typer.Option("-o", "--output", help="Request file (JSONL).")],
    max_requests: Annotated[
        int,
        typer.Option(
            "--max-requests-per-file", min=1, help="Split the requests into files of this many."
        ),
    ] = MAX_REQUESTS_PER_FILE,
    force: Annotated[
        bool, typer.Option("--force", help="Replace existing files that are not request files.")
    ] = False,
) -> None:
    """Write one Batch API request per report (the same body the online path sends)."""
    with cli_errors():
        settings, prompt = configure(opts.settings_values())
        runner = Runner(settings, prompt)
        if not runner.capabilities.batch_api:
            model = settings.model
            fail(f"model {model!r} has no Batch API; run it with extract --model {model}")
    duplicates: list[Duplicate[Report]] = []
    reports, errors = read_reports(
        paths,
        max_chars=settings.max_chars,
        fetch=fetch_settings(settings),
        pdf=pdf_limits(settings),
        duplicates=duplicates,
    )
    for error in errors:
        echo_error(f"skipped: {error}")
    echo_duplicates(duplicates)
    if not reports:
        fail("no report to put in a batch")
    with cli_errors():
        refuse_overwriting_inputs([output], [*paths, *(r.path for r in reports)])
        prepared = run_async(prepare_reports(runner, runner.prepare(reports)))
        write_batch(
            prepared,
            output,
            max_requests=max_requests,
            max_bytes=MAX_BYTES_PER_FILE,
            force=force,
        )
    prompt_tokens = sum(estimate_body_tokens(line_body(line)) for line in prepared.lines)
    answer = settings.max_tokens * len(prepared.lines)
    cost = runner.prices.cost(
        settings.model, Usage(prompt_tokens=prompt_tokens, completion_tokens=answer), batch=True
    )
    for file in prepared.files:
        echo(str(file))
    echo_error(
        f"{len(prepared.lines)} request(s) in {len(prepared.files)} file(s); manifest "
        f"{manifest_path(output)}; ~{prompt_tokens:,} prompt tokens"
        + (f", at most ${cost:.4f} at batch prices" if cost is not None else "")
    )
    raise typer.Exit(EXIT_FAILED if errors else EXIT_OK)


@app.command("submit")
def submit_command(
    requests: Annotated[list[Path], typer.Argument(help="Request file(s) from prepare.")],
    window: Annotated[
        str, typer.Option("--completion-window", help="How long the batch may take (24h).")
    ] = "24h",
) -> None:
    """Upload request files and start one batch per file; prints the batch ids."""
    anthropic_files = [f for f in requests if _protocol(f) == "anthropic"]
    if anthropic_files:
        with _anthropic() as client:
            _submit_anthropic(client, anthropic_files)
    google_files = [f for f in requests if _protocol(f) == "google"]
    if google_files:
        with _google() as client:
            _submit_google(client, google_files)
    others = [f for f in requests if f not in anthropic_files and f not in google_files]
    if others:
        with _client() as client:
            _submit(client, others, window)


def _submit_google(client: Any, requests: list[Path]) -> None:
    """Each file as one batch job of inlined requests (the key travels as metadata)."""
    from google.genai import types

    for file in requests:
        with cli_errors():
            model = load_manifest(file).model.partition("/")[2]
        inlined = []
        for line in _request_lines(file):
            body = dict(line["request"])
            config = {
                k: body.pop(k) for k in ("systemInstruction", "tools", "toolConfig") if k in body
            }
            config.update(body.pop("generationConfig", {}))
            if "safetySettings" in body:
                config["safetySettings"] = body.pop("safetySettings")
            inlined.append(
                types.InlinedRequest.model_validate(
                    {**body, "config": config, "metadata": {"key": line["key"]}}
                )
            )
        batch = _google_call(
            f"{file}: create batch",
            client.batches.create,
            model=model,
            src=inlined,
            config={"display_name": f"llm-extract {file.name}"},
        )
        typer.echo(batch.name)
        echo_error(f"{file}: batch {batch.name} ({batch.state})")


def _submit_anthropic(client: Any, requests: list[Path]) -> None:
    for file in requests:
        lines = _request_lines(file)
        batch = _anthropic_call(
            f"{file}: create batch", client.messages.batches.create, requests=lines
        )
        typer.echo(batch.id)
        echo_error(f"{file}: message batch {batch.id} ({batch.processing_status})")


def _submit(client: Any, requests: list[Path], window: str) -> None:
    for file in requests:
        if not file.is_file():
            fail(f"{file}: no such request file")
        with file.open("rb") as handle:
            uploaded = _api_call(
                f"{file}: upload", client.files.create, file=handle, purpose="batch"
            )
        batch = _api_call(
            f"{file}: create batch",
            client.batches.create,
            input_file_id=uploaded.id,
            endpoint=BATCH_URL,
            completion_window=window,
            metadata={"source": "llm-extract", "requests": file.name},
        )
        typer.echo(batch.id)
        echo_error(f"{file}: batch {batch.id} ({batch.status}), input file {uploaded.id}")


@app.command("status")
def status_command(batch_id: Annotated[str, typer.Argument()]) -> None:
    """Show a batch's status and request counts."""
    if batch_id.startswith(ANTHROPIC_BATCH_PREFIX):
        with _anthropic() as client:
            batch = _anthropic_call(f"batch {batch_id}", client.messages.batches.retrieve, batch_id)
        c = batch.request_counts
        typer.echo(
            f"{batch.id}: {batch.processing_status} {c.succeeded} succeeded, {c.errored} "
            f"errored, {c.processing} processing, {c.canceled} canceled, {c.expired} expired"
        )
        return
    if batch_id.startswith(GOOGLE_BATCH_PREFIX):
        with _google() as client:
            job = _google_call(f"batch {batch_id}", client.batches.get, name=batch_id)
        state = getattr(job.state, "value", job.state)
        typer.echo(f"{job.name}: {state}")
        return
    with _client() as client:
        batch = _api_call(f"batch {batch_id}", client.batches.retrieve, batch_id)
    counts = batch.request_counts
    done = f"{counts.completed}/{counts.total} done, {counts.failed} failed" if counts else ""
    typer.echo(f"{batch.id}: {batch.status} {done}".rstrip())
    if batch.output_file_id:
        typer.echo(f"output file {batch.output_file_id}")
    if batch.error_file_id:
        typer.echo(f"error file {batch.error_file_id}")


@app.command("download")
def download_command(
    batch_id: Annotated[str, typer.Argument()],
    output: Annotated[Path, typer.Option("-o", "--output", help="Results file (JSONL).")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace existing files that are not batch results.")
    ] = False,
) -> None:
    """Save a finished batch's results (and its error file as <output>.errors.jsonl)."""
    if batch_id.startswith(ANTHROPIC_BATCH_PREFIX):
        with _anthropic() as client:
            _download_anthropic(client, batch_id, output, force=force)
        return
    if batch_id.startswith(GOOGLE_BATCH_PREFIX):
        with _google() as client:
            _download_google(client, batch_id, output, force=force)
        return
    with _client() as client:
        _download(client, batch_id, output, force=force)


def _is_batch_output(head: bytes) -> bool:
    """A results file of a batch: OpenAI's lines (``{"id", "custom_id"...}``), Anthropic's
    (``{"custom_id"...}``) or Gemini's (``{"key"...}``)."""
    start = head.lstrip()
    return (start.startswith(b'{"id"') and b'"custom_id"' in head) or start.startswith(
        (b'{"custom_id"', b'{"key"')
    )


def _save_lines(output: Path, lines: list[str], force: bool) -> None:
    """``lines`` as the whole of ``output``, atomically; never over a file of another kind."""
    with cli_errors():
        refuse_foreign(output, "a batch results file", _is_batch_output, force=force)
    try:
        write_bytes(output, "".join(line + "\n" for line in lines).encode("utf-8"))
    except OSError as exc:
        fail(f"{output}: cannot write ({exc.strerror})")
    echo(str(output))


def _download_google(client: Any, batch_id: str, output: Path, *, force: bool = False) -> None:
    """The inlined responses as Gemini batch result lines: ``{"key", "response" | "error"}``."""
    job = _google_call(f"batch {batch_id}", client.batches.get, name=batch_id)
    state = str(getattr(job.state, "value", job.state))
    if state != "JOB_STATE_SUCCEEDED" or job.dest is None:
        fail(f"batch {batch_id} has no results yet ({state})", EXIT_FAILED)
    lines = []
    for n, item in enumerate(job.dest.inlined_responses or []):
        key = (item.metadata or {}).get("key", f"#{n}")
        line: dict[str, Any] = {"key": key}
        if item.response is not None:
            line["response"] = item.response.model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
        else:
            line["error"] = (
                item.error.model_dump(mode="json", exclude_none=True) if item.error else {}
            )
        lines.append(json.dumps(line, ensure_ascii=False))
    _save_lines(output, lines, force)
    echo_error(f"batch {batch_id} ({state}): saved {len(lines)} result(s)")


def _download_anthropic(client: Any, batch_id: str, output: Path, *, force: bool = False) -> None:
    batch = _anthropic_call(f"batch {batch_id}", client.messages.batches.retrieve, batch_id)
    if batch.processing_status != "ended":
        fail(f"batch {batch_id} has no results yet ({batch.processing_status})", EXIT_FAILED)
    results = _anthropic_call(f"batch {batch_id}", client.messages.batches.results, batch_id)
    lines = [r.to_json(indent=None) for r in results]
    _save_lines(output, lines, force)
    echo_error(f"message batch {batch_id} (ended): saved {len(lines)} result(s)")


def _download(client: Any, batch_id: str, output: Path, *, force: bool = False) -> None:
    errors_file = output.with_name(output.stem + ".errors.jsonl")
    with cli_errors():
        for target in (output, errors_file):
            refuse_foreign(target, "a batch results file", _is_batch_output, force=force)
    batch = _api_call(f"batch {batch_id}", client.batches.retrieve, batch_id)
    if not batch.output_file_id and not batch.error_file_id:
        fail(f"batch {batch_id} has no results yet (status {batch.status})", EXIT_FAILED)
    saved = []
    for file_id, target in (
        (batch.output_file_id, output),
        (batch.error_file_id, errors_file),
    ):
        if not file_id:
            continue
        content = _api_call(f"file {file_id}", client.files.content, file_id)
        try:
            write_bytes(target, content.read())
        except OSError as exc:
            fail(f"{target}: cannot write ({exc.strerror})")
        saved.append(target)
        echo(str(target))
    echo_error(f"batch {batch_id} ({batch.status}): saved {len(saved)} file(s)")


def _fill_cache(results: list[ExtractionResult], settings: Settings) -> None:
    """Valid answers go to the response cache under their request keys, so that ``extract``
    with the same model, prompt and settings reuses them instead of paying again."""
    from llm_extract.run.cache import ResponseCache

    store = ResponseCache(settings.cache_db_path)
    for result in results:
        if result.status == "ok" and result.extraction is not None and result.request_key:
            answer = BackendResponse(
                extraction=result.extraction, usage=result.usage, dropped=result.dropped
            )
            store.put(result.request_key, answer, result.model)


@app.command("collect")
def collect_command(
    results: Annotated[list[Path], typer.Argument(help="Batch API results/error files.")],
    manifest: Annotated[
        Path, typer.Option("--manifest", "-m", help="Manifest, or the request file of prepare.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Validated JSONL output.")],
    cache: Annotated[
        bool,
        typer.Option(
            "--cache/--no-cache", help="Store valid answers in the response cache (for extract)."
        ),
    ] = True,
) -> None:
    """Turn Batch API results into the same validated JSONL as extract."""
    with cli_errors():
        refuse_overwriting_inputs([output], [*results, manifest])
        loaded = load_manifest(manifest)
        lines: list[str] = []
        for file in results:
            try:
                lines.extend(file.read_text(encoding="utf-8").splitlines())
            except OSError as exc:
                raise InputError(file, f"cannot read ({exc.strerror})") from exc
            except UnicodeDecodeError as exc:
                raise InputError(file, "not a UTF-8 results file") from exc
        mode: Mode = next((m for m in CONCRETE_MODES if m == loaded.mode), "tools")
        settings = ModelSettings(model=loaded.model, mode=mode)
        collected = collect_results(lines, loaded, settings=settings)
        with JsonlWriter(output, append=False) as writer:
            for result in collected.results:
                writer.write(result)
        if cache:
            _fill_cache(collected.results, load_settings())
    for problem in collected.problems:
        echo_error(f"failed: {problem}")
    ok = len(collected.results) - collected.failed
    cost = sum(r.usage.cost_usd or 0.0 for r in collected.results)
    echo_error(f"{ok} ok, {collected.failed} failed; ${cost:.4f} at batch prices; wrote {output}")
    raise typer.Exit(EXIT_FAILED if collected.failed or collected.problems else EXIT_OK)
