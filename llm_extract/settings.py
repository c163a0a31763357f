"""The one configuration object of a run, and the only code that reads the environment.

:class:`Settings` is built once per command from five sources; the first that gives a value
wins:

1. command-line options (``--temperature 0.2``);
2. environment variables: ``LLM_EXTRACT_<NAME>`` for every setting (``LLM_EXTRACT_MODEL``,
   ``LLM_EXTRACT_TEMPERATURE``, ``LLM_EXTRACT_CACHE_DIR``...), and ``OPENAI_API_KEY`` /
   ``OPENAI_BASE_URL`` for the server;
3. the configuration file ``llm-extract.toml`` of the current folder, then the one of the user
   configuration folder (``~/.config/llm-extract/llm-extract.toml`` on Linux): the settings
   by name (``model = "..."``, ``concurrency = 4``, ``base_url = "..."``), never the API key;
4. the prompt file's ``[params]`` (``temperature``, ``max_tokens``, ``max_reasks``, ``mode``);
5. the defaults below, each written here once.

Values are checked here (finite numbers, ranges, a base URL that is a URL, chunk sizes that
fit together), so a bad value is a usage error before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import platformdirs
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from llm_extract.errors import UsageError

ENV_PREFIX = "LLM_EXTRACT_"
#: The configuration file's name, in the current folder or the user configuration folder.
CONFIG_FILE = "llm-extract.toml"
API_KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"

#: Whose key and base URL a backend uses (``Capabilities.credentials``).
Credentials = Literal["openai", "anthropic", "google"]
#: Each provider's environment variables: the key (the first set wins), then the base URL.
CREDENTIAL_ENVS: dict[Credentials, tuple[tuple[str, ...], str]] = {
    "openai": ((API_KEY_ENV,), BASE_URL_ENV),
    "anthropic": (("ANTHROPIC_API_KEY",), "ANTHROPIC_BASE_URL"),
    "google": (("GEMINI_API_KEY", "GOOGLE_API_KEY"), "GOOGLE_GEMINI_BASE_URL"),
}
#: The settings that hold them (``<provider>_api_key``, ``<provider>_base_url``).
_CREDENTIAL_FIELDS: dict[Credentials, tuple[str, str]] = {
    "openai": ("api_key", "base_url"),
    "anthropic": ("anthropic_api_key", "anthropic_base_url"),
    "google": ("google_api_key", "google_base_url"),
}

#: How the answer is held to the schema: one way per server family (each is one module of
#: ``llm_extract.backends.modes``; ``docs/servers.md`` says which server takes which).
ConcreteMode = Literal[
    "json_schema", "json_object", "tools", "structured_outputs", "guided_json", "md_json"
]
#: ``auto`` finds the strongest concrete mode the server accepts (and remembers it).
Mode = Literal["auto", ConcreteMode]
#: The mode names, in the order above: the one list (the types and tuples derive from it).
CONCRETE_MODES: tuple[ConcreteMode, ...] = get_args(ConcreteMode)
MODES: tuple[Mode, ...] = ("auto", *CONCRETE_MODES)
#: What ``auto`` tries on a server other than OpenAI's, strongest first: a strict schema the
#: server enforces, then the llama.cpp form, then function calling, then the schema in the
#: prompt (always taken). The vLLM parameters are left out: a server that does not know them
#: ignores them without a word.
AUTO_ORDER: tuple[ConcreteMode, ...] = ("json_schema", "json_object", "tools", "md_json")
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
DEFAULT_FETCH_DEADLINE_S = 120.0  # one URL, every attempt and pause included
DEFAULT_FETCH_MAX_BYTES = 10_000_000  # one page, once decoded
DEFAULT_WEB_CACHE_MAX_MB = 500  # the cache of fetched pages; least recently used go first

# The limits of reading one PDF (sources.pdf_process.PdfLimits uses them too).
DEFAULT_PDF_MAX_PAGES = 500
DEFAULT_PDF_TIMEOUT_S = 120.0
DEFAULT_PDF_MEMORY_MB = 1024

#: The smallest chunk a long report may be cut into (``--chunk-chars``), in characters.
MIN_CHUNK_CHARS = 200
#: Overlap of two chunks when ``--chunk-overlap`` is not given: this fraction of a chunk.
DEFAULT_OVERLAP_FRACTION = 0.05


def config_files() -> list[Path]:
    """The configuration files that exist, the one that wins first: the current folder's,
    then the user configuration folder's."""
    candidates = [
        Path(CONFIG_FILE),
        Path(platformdirs.user_config_dir("llm-extract")) / CONFIG_FILE,
    ]
    return [path for path in candidates if path.is_file()]


def read_config() -> dict[str, tuple[Any, Path]]:
    """Each setting the configuration files give, with the file it comes from. Raises
    :class:`UsageError` for a file that cannot be read or is not TOML, and for an API key
    (a file a team shares must not hold one)."""
    import tomllib

    found: dict[str, tuple[Any, Path]] = {}
    for path in config_files():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: cannot read the configuration file ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: not valid TOML ({exc})") from None
        for name, value in data.items():
            if name.lower() in ("api_key", API_KEY_ENV.lower()):
                raise UsageError(
                    f"{path}: {name}: keep the API key out of the configuration file "
                    f"(set {API_KEY_ENV})"
                )
            found.setdefault(name, (value, path))
    return found


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
    fetch_deadline: float = Field(
        DEFAULT_FETCH_DEADLINE_S,
        gt=0.0,
        le=3600.0,
        allow_inf_nan=False,
        description="Seconds one URL may take, every attempt included.",
    )
    fetch_max_bytes: int = Field(
        DEFAULT_FETCH_MAX_BYTES, ge=1, description="Largest page accepted, once decoded."
    )
    web_cache_max_mb: int = Field(
        DEFAULT_WEB_CACHE_MAX_MB, ge=0, description="Size of the web page cache; 0: none kept."
    )
    pdf_max_pages: int = Field(
        DEFAULT_PDF_MAX_PAGES, ge=1, le=100_000, description="Longest PDF read, in pages."
    )
    pdf_timeout: float = Field(
        DEFAULT_PDF_TIMEOUT_S,
        gt=0.0,
        le=3600.0,
        allow_inf_nan=False,
        description="Seconds reading one PDF may take.",
    )
    pdf_memory_mb: int = Field(
        DEFAULT_PDF_MEMORY_MB,
        ge=256,
        le=1_048_576,
        description="Memory (address space) reading one PDF may take, in MB.",
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
    # a base URL may carry a password: never in repr()
    base_url: str | None = Field(None, validation_alias=BASE_URL_ENV, repr=False)
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices(*CREDENTIAL_ENVS["anthropic"][0], "anthropic_api_key")
    )
    anthropic_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices(CREDENTIAL_ENVS["anthropic"][1], "anthropic_base_url"),
        repr=False,
    )
    google_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices(*CREDENTIAL_ENVS["google"][0], "google_api_key")
    )
    google_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices(CREDENTIAL_ENVS["google"][1], "google_base_url"),
        repr=False,
    )

    @field_validator(
        "api_key",
        "base_url",
        "anthropic_api_key",
        "anthropic_base_url",
        "google_api_key",
        "google_base_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("base_url", "anthropic_base_url", "google_base_url")
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
        """Values never to be written anywhere: the API keys, credentials in the base URLs."""
        from llm_extract.redact import url_secrets

        found: list[str] = []
        for provider in CREDENTIAL_ENVS:
            key, base_url = self.server(provider)
            found += [key] if key else []
            found += url_secrets(base_url)
        return tuple(found)

    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Options, then the environment, then the configuration files (module doc)."""
        values = {name: value for name, (value, _) in read_config().items()}
        return init_settings, env_settings, InitSettingsSource(settings_cls, values)

    def server(self, provider: Credentials = "openai") -> tuple[str | None, str | None]:
        """The API key and base URL of ``provider`` (``Capabilities.credentials``)."""
        key_field, url_field = _CREDENTIAL_FIELDS[provider]
        key: SecretStr | None = getattr(self, key_field)
        base_url: str | None = getattr(self, url_field)
        return (key.get_secret_value() if key is not None else None), base_url


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
    "fetch_deadline": "--fetch-deadline",
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


def terminal_columns() -> int | None:
    """The width ``COLUMNS`` asks for, when it is set to a positive number (tables fit it)."""
    import os

    value = os.environ.get("COLUMNS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def environment() -> Settings:
    """The settings the environment alone gives (for library callers with no options)."""
    return load_settings()


#: Each credential setting and the environment variable it is read from (for messages).
_SECRET_FIELDS = {
    field: (envs[0][0] if field.endswith("api_key") else envs[1])
    for provider, envs in CREDENTIAL_ENVS.items()
    for field in _CREDENTIAL_FIELDS[provider]
}

#: The credential setting each of its environment variables fills.
_FIELD_OF_VARIABLE = {
    variable: field
    for provider, (keys, base_url) in CREDENTIAL_ENVS.items()
    for field, variables in zip(_CREDENTIAL_FIELDS[provider], (keys, (base_url,)), strict=True)
    for variable in variables
}


def _usage_error(
    exc: ValidationError, given: Mapping[str, Any], params: Mapping[str, Any], prompt_origin: str
) -> UsageError:
    import os

    clauses = []
    config = read_config()
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        name = _FIELD_OF_VARIABLE.get(name, name)  # an alias among choices names its variable
        message = str(error["msg"]).removeprefix("Value error, ")
        if not name and ":" in message:  # a check across fields names its field first
            name, _, message = message.partition(": ")
        if name in given:
            where = OPTION_NAMES.get(name, name)
        elif name in params:
            where = f"{prompt_origin}: [params] {name}"
        elif name in _SECRET_FIELDS:
            where = _SECRET_FIELDS[name]
        elif f"{ENV_PREFIX}{name.upper()}" in os.environ:
            where = f"{ENV_PREFIX}{name.upper()}"
        elif name in config:
            where = f"{config[name][1]}: {name}"
        else:
            where = OPTION_NAMES.get(name, name)
        value = error.get("input")
        # the error names the field or its variable; a key is never shown, and a base URL
        # (any provider's) only with its credentials masked
        shown = "" if isinstance(value, dict) else f" (got {value!r})"
        if name in _SECRET_FIELDS or name == API_KEY_ENV:
            shown = ""
            if name.endswith("base_url") and isinstance(value, str):
                from llm_extract.redact import redact_url

                shown = f" (got {redact_url(value)!r})"
        elif name == BASE_URL_ENV and isinstance(value, str):
            from llm_extract.redact import redact_url

            shown = f" (got {redact_url(value)!r})"
        clauses.append(f"{where}: {message}{shown}")
    return UsageError("; ".join(clauses))


def known_secrets() -> tuple[str, ...]:
    """The API key and the base URL's credentials of the environment, checked or not, to keep
    out of every message (also when the settings themselves do not load)."""
    import os

    from llm_extract.redact import url_secrets

    found: list[str] = []
    for keys, base_url in CREDENTIAL_ENVS.values():
        found += [v for v in (os.environ.get(k, "").strip() for k in keys) if v]
        found += url_secrets(os.environ.get(base_url))
    return tuple(found)
