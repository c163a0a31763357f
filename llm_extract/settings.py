"""The one configuration object of a run, and the only code that reads the environment.

:class:`Settings` is built once per command from four sources; the first that gives a value
wins:

1. command-line options (``--temperature 0.2``);
2. environment variables: ``LLM_EXTRACT_<NAME>`` for every setting (``LLM_EXTRACT_MODEL``,
   ``LLM_EXTRACT_TEMPERATURE``, ``LLM_EXTRACT_CACHE_DIR``...), and ``OPENAI_API_KEY`` /
   ``OPENAI_BASE_URL`` for the server;
3. the prompt file's ``[params]`` (``temperature``, ``max_tokens``, ``max_reasks``, ``mode``);
4. the defaults below, each written here once.

Values are checked here (finite numbers, ranges, a base URL that is a URL, chunk sizes that
fit together), so a bad value is a usage error before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from llm_extract.errors import UsageError

ENV_PREFIX = "LLM_EXTRACT_"
API_KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"

#: How the answer is held to the schema: one way per server family (each is one module of
#: ``llm_extract.backends.modes``; ``docs/servers.md`` says which server takes which).
ConcreteMode = Literal[
    "json_schema", "json_object", "tools", "structured_outputs", "guided_json", "md_json"
]
#: ``auto`` finds the strongest concrete mode the server accepts (and remembers it).
Mode = Literal["auto", ConcreteMode]
CONCRETE_MODES: tuple[ConcreteMode, ...] = (
    "json_schema",
    "json_object",
    "tools",
    "structured_outputs",
    "guided_json",
    "md_json",
)
MODES: tuple[Mode, ...] = ("auto", *CONCRETE_MODES)
#: What ``auto`` means on OpenAI's own API (no base URL, or api.openai.com): every mode works
#: there, so nothing is probed; tools is what the tool always sent to OpenAI by default, so
#: existing caches of default runs stay valid.
OPENAI_AUTO_MODE: ConcreteMode = "tools"
OPENAI_HOST = "api.openai.com"

# The defaults of a model call (ModelSettings, built by the run layer, uses them too).
DEFAULT_MODE: Mode = "auto"
DEFAULT_TEMPERATURE = 0.0
DEFAULT_MAX_TOKENS = 4096
DEFAULT_MAX_REASKS = 2
DEFAULT_MAX_RETRIES = 4
DEFAULT_TIMEOUT_S = 120.0

# The defaults of the fetcher of web pages (sources.web.FetchSettings uses them too).
DEFAULT_FETCH_PER_HOST = 2
DEFAULT_FETCH_TIMEOUT_S = 20.0

#: The smallest chunk a long report may be cut into (``--chunk-chars``), in characters.
MIN_CHUNK_CHARS = 200
#: Overlap of two chunks when ``--chunk-overlap`` is not given: this fraction of a chunk.
DEFAULT_OVERLAP_FRACTION = 0.05


class Settings(BaseSettings):
    """Everything a command may be told, with its default (see the module doc)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        validate_default=True,
    )

    # --- the model call ---------------------------------------------------------------------
    model: str = Field("gpt-4o-mini", min_length=1, description="Model name, or 'rules'.")
    prompt: str = Field("guided", min_length=1, description="Prompt name or .toml file.")
    prompts_dir: Path | None = Field(None, description="Prompt folder searched first.")
    mode: Mode = Field(DEFAULT_MODE, description="How the answer is constrained to the schema.")
    temperature: float = Field(DEFAULT_TEMPERATURE, ge=0.0, le=2.0, allow_inf_nan=False)
    max_tokens: int = Field(DEFAULT_MAX_TOKENS, ge=1, description="Answer tokens per request.")
    max_reasks: int = Field(DEFAULT_MAX_REASKS, ge=0, le=20, description="Re-asks after errors.")
    max_retries: int = Field(DEFAULT_MAX_RETRIES, ge=0, le=20, description="Transport retries.")
    timeout: float = Field(DEFAULT_TIMEOUT_S, gt=0.0, le=3600.0, allow_inf_nan=False)

    # --- the run -----------------------------------------------------------------------------
    concurrency: Annotated[int, Field(ge=1, le=1024)] | Literal["auto"] = Field(
        "auto", description="Requests in flight at once, or 'auto' (found from the server)."
    )
    cache: bool = Field(True, description="Read and write the response cache.")
    log: bool = Field(False, description="Log every request and answer.")
    rpm: int | None = Field(None, ge=1, description="Requests per minute at most.")
    tpm: int | None = Field(None, ge=1, description="Tokens per minute at most.")
    max_cost: float | None = Field(None, gt=0.0, allow_inf_nan=False)
    max_tokens_total: int | None = Field(None, ge=1)
    chunk_chars: int = Field(30_000, ge=0, description="Longer reports are split; 0: never.")
    chunk_overlap: int | None = Field(None, ge=0, description="Characters shared by chunks.")
    max_chars: int = Field(100_000, ge=1, description="Longest report accepted.")
    fetch_concurrency: int = Field(
        DEFAULT_FETCH_PER_HOST, ge=1, le=64, description="Web pages fetched at once per host."
    )
    fetch_timeout: float = Field(
        DEFAULT_FETCH_TIMEOUT_S, gt=0.0, le=600.0, allow_inf_nan=False, description="Seconds."
    )

    # --- where things are --------------------------------------------------------------------
    cache_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir("llm-extract")),
        description="Response cache and request log.",
    )
    evals_dir: Path = Field(Path("evals"), description="The eval folder of eval and score.")
    prices: Path | None = Field(None, description="A price table of your own (TOML).")

    # --- the server --------------------------------------------------------------------------
    api_key: SecretStr | None = Field(None, validation_alias=API_KEY_ENV)
    base_url: str | None = Field(None, validation_alias=BASE_URL_ENV)

    @field_validator("api_key", "base_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("base_url")
    @classmethod
    def _is_a_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
        except ValueError as exc:
            raise ValueError(f"not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _chunks_fit(self) -> Settings:
        if self.chunk_chars and self.chunk_chars < MIN_CHUNK_CHARS:
            raise ValueError(f"chunk_chars: must be 0 (never split) or at least {MIN_CHUNK_CHARS}")
        overlap = self.chunk_overlap
        if overlap is not None and self.chunk_chars and overlap * 2 > self.chunk_chars:
            raise ValueError(
                f"chunk_overlap: {overlap} is more than half of the chunk size "
                f"({self.chunk_chars} characters)"
            )
        return self

    # --- derived -----------------------------------------------------------------------------

    @property
    def overlap(self) -> int:
        """The overlap of two chunks, in characters."""
        if self.chunk_overlap is not None:
            return self.chunk_overlap
        return math.floor(self.chunk_chars * DEFAULT_OVERLAP_FRACTION)

    @property
    def cache_db_path(self) -> Path:
        """The SQLite file of the response cache and the request log."""
        return self.cache_dir / "cache.sqlite3"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values never to be written anywhere: the API key, credentials in the base URL."""
        from llm_extract.redact import url_secrets

        key = (self.api_key.get_secret_value(),) if self.api_key is not None else ()
        return (*key, *url_secrets(self.base_url))

    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key is not None else None


#: Where each setting comes from on the command line (for messages).
OPTION_NAMES = {
    "model": "--model",
    "prompt": "--prompt",
    "prompts_dir": "--prompts-dir",
    "mode": "--mode",
    "temperature": "--temperature",
    "max_tokens": "--max-tokens",
    "max_reasks": "--max-reasks",
    "max_retries": "--max-retries",
    "timeout": "--timeout",
    "concurrency": "--concurrency",
    "cache": "--no-cache",
    "log": "--log",
    "rpm": "--rpm",
    "tpm": "--tpm",
    "max_cost": "--max-cost",
    "max_tokens_total": "--max-tokens-total",
    "chunk_chars": "--chunk-chars",
    "chunk_overlap": "--chunk-overlap",
    "max_chars": "--max-chars",
    "fetch_concurrency": "--fetch-concurrency",
    "fetch_timeout": "--fetch-timeout",
    "evals_dir": "--evals-dir",
}
#: The settings a prompt file's ``[params]`` may give.
PROMPT_PARAMS = frozenset({"temperature", "max_tokens", "max_reasks", "mode"})


def is_openai_api(base_url: str | None) -> bool:
    """True for OpenAI's own API: no base URL, or one whose host is api.openai.com."""
    if base_url is None:
        return True
    from urllib.parse import urlsplit

    try:
        return urlsplit(base_url).hostname == OPENAI_HOST
    except ValueError:
        return False


def static_mode(mode: Mode, base_url: str | None) -> Mode:
    """``mode``, with ``auto`` on OpenAI's own API replaced by :data:`OPENAI_AUTO_MODE` (the
    only resolution that needs no request); any other server keeps ``auto``."""
    if mode == "auto" and is_openai_api(base_url):
        return OPENAI_AUTO_MODE
    return mode


def load_settings(
    options: Mapping[str, Any] | None = None,
    *,
    prompt_params: Mapping[str, Any] | None = None,
    prompt_origin: str = "the prompt file",
) -> Settings:
    """:class:`Settings` from command-line ``options`` (``None`` values count as not given),
    the environment, a prompt's ``[params]`` and the defaults. Raises :class:`UsageError`
    naming the option, variable or file a bad value came from."""
    given = {k: v for k, v in (options or {}).items() if v is not None}
    try:
        explicit = Settings(**given)
    except ValidationError as exc:
        raise _usage_error(exc, given, {}, prompt_origin) from None
    params = {
        k: v
        for k, v in (prompt_params or {}).items()
        if k in PROMPT_PARAMS and k not in explicit.model_fields_set
    }
    if not params:
        return explicit
    chosen = {name: getattr(explicit, name) for name in explicit.model_fields_set}
    try:
        return Settings(**{**params, **chosen})
    except ValidationError as exc:
        raise _usage_error(exc, given, params, prompt_origin) from None


def environment() -> Settings:
    """The settings the environment alone gives (for library callers with no options)."""
    return load_settings()


def _usage_error(
    exc: ValidationError, given: Mapping[str, Any], params: Mapping[str, Any], prompt_origin: str
) -> UsageError:
    import os

    clauses = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        if not name and ":" in message:  # a check across fields names its field first
            name, _, message = message.partition(": ")
        if name in given:
            where = OPTION_NAMES.get(name, name)
        elif name in params:
            where = f"{prompt_origin}: [params] {name}"
        elif name in ("api_key", "base_url"):
            where = API_KEY_ENV if name == "api_key" else BASE_URL_ENV
        elif f"{ENV_PREFIX}{name.upper()}" in os.environ:
            where = f"{ENV_PREFIX}{name.upper()}"
        else:
            where = OPTION_NAMES.get(name, name)
        value = error.get("input")
        secretive = name in ("api_key", "base_url")  # a base URL may carry a password
        shown = "" if secretive or isinstance(value, dict) else f" (got {value!r})"
        clauses.append(f"{where}: {message}{shown}")
    return UsageError("; ".join(clauses))


def known_secrets() -> tuple[str, ...]:
    """The API key and the base URL's credentials of the environment, checked or not, to keep
    out of every message (also when the settings themselves do not load)."""
    import os

    from llm_extract.redact import url_secrets

    key = os.environ.get(API_KEY_ENV, "").strip()
    return (*((key,) if key else ()), *url_secrets(os.environ.get(BASE_URL_ENV)))
