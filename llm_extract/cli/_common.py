"""Helpers shared by the command modules: settings from options and environment, one-line
error messages on stderr, exit codes and the end-of-run summary."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

import typer

from llm_extract.backends import RULES_MODEL
from llm_extract.backends.base import Mode, ModelSettings
from llm_extract.errors import LlmExtractError, UsageError
from llm_extract.prompts import MODES, Prompt
from llm_extract.redact import redact, url_secrets
from llm_extract.results import ExtractionResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

MODEL_ENV = "LLM_EXTRACT_MODEL"
DEFAULT_MODEL = "gpt-4o-mini"
API_KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"


def default_model() -> str:
    """``$LLM_EXTRACT_MODEL``, else gpt-4o-mini."""
    return os.environ.get(MODEL_ENV) or DEFAULT_MODEL


def build_settings(
    *,
    model: str | None = None,
    prompt: Prompt | None = None,
    mode: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    max_reasks: int | None = None,
    timeout_s: float | None = None,
) -> ModelSettings:
    """Model settings: an option given on the command line wins over the prompt file's
    ``[params]``, which win over the defaults of :class:`ModelSettings`. The API key and
    server address come from ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``."""
    params = dict(prompt.params) if prompt is not None else {}
    defaults = ModelSettings(model="")

    def pick(option: object, name: str) -> object:
        return option if option is not None else params.get(name, getattr(defaults, name))

    chosen_mode = pick(mode, "mode")
    if chosen_mode not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)} (got {chosen_mode!r})")
    chosen_temperature = _number(pick(temperature, "temperature"), "temperature", low=0.0)
    chosen_max_tokens = pick(max_tokens, "max_tokens")
    tokens = (
        None if chosen_max_tokens is None else int(_number(chosen_max_tokens, "max-tokens", low=1))
    )
    reasks = int(_number(pick(max_reasks, "max_reasks"), "max-reasks", low=0))
    timeout = _number(
        timeout_s if timeout_s is not None else defaults.timeout_s, "timeout", low=0.001
    )
    base_url = os.environ.get(BASE_URL_ENV) or None
    # A local server named by OPENAI_BASE_URL needs no key: the backend sends a dummy one.
    api_key = os.environ.get(API_KEY_ENV) or None
    return ModelSettings(
        model=model or default_model(),
        mode=_mode(chosen_mode),
        temperature=chosen_temperature,
        max_tokens=tokens,
        max_reasks=reasks,
        timeout_s=timeout,
        base_url=base_url,
        api_key=api_key,
    )


def _number(value: object, option: str, *, low: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        raise UsageError(f"--{option} is out of range ({value!r})")
    return float(value)


def _mode(value: object) -> Mode:
    if value == "json_schema":
        return "json_schema"
    if value == "md_json":
        return "md_json"
    return "tools"


def require_credentials(settings: ModelSettings) -> None:
    """A remote model needs OPENAI_API_KEY or OPENAI_BASE_URL (a local server needs no key)."""
    if settings.model == RULES_MODEL:
        return
    if not os.environ.get(API_KEY_ENV) and not os.environ.get(BASE_URL_ENV):
        raise UsageError(
            f"model {settings.model!r} needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local "
            "server, which needs no key); use --model rules to run offline"
        )


def echo_error(message: str) -> None:
    """One line on stderr, never the API key nor the credentials of a URL."""
    secrets = (os.environ.get(API_KEY_ENV), *url_secrets(os.environ.get(BASE_URL_ENV)))
    message = redact(message, secrets)
    typer.echo(" ".join(message.split()), err=True)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    echo_error(f"error: {message}")
    raise typer.Exit(code)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Library errors become one line on stderr and exit code 2."""
    try:
        yield
    except LlmExtractError as exc:
        fail(str(exc))


def summary_line(
    results: Sequence[ExtractionResult],
    *,
    elapsed_s: float,
    bad_inputs: int = 0,
    skipped: int = 0,
) -> str:
    """``3 ok, 1 failed, ...; 12,345 tokens, $0.0021; 4.2 s`` (tokens and cost of new calls)."""
    ok = sum(r.status == "ok" for r in results)
    failed = len(results) - ok
    cached = sum(r.cached for r in results)
    fresh = [r for r in results if not r.cached]
    tokens = sum(r.usage.total_tokens for r in fresh)
    costs = [r.usage.cost_usd for r in fresh if r.usage.total_tokens]
    if any(c is None for c in costs):
        cost = "cost unknown"
    else:
        cost = f"${sum(c for c in costs if c is not None):.4f}"
    parts = [f"{ok} ok", f"{failed} failed"]
    if bad_inputs:
        parts.append(f"{bad_inputs} bad input{'s' if bad_inputs != 1 else ''}")
    if skipped:
        parts.append(f"{skipped} skipped (already done)")
    if cached:
        parts.append(f"{cached} from cache")
    return f"{', '.join(parts)}; {tokens:,} tokens, {cost}; {elapsed_s:.1f} s"
