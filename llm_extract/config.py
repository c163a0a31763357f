"""Where things live on disk, and the environment variables that move them."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from llm_extract.paths import private_dir

CACHE_DIR_ENV = "LLM_EXTRACT_CACHE_DIR"
PRICES_ENV = "LLM_EXTRACT_PRICES"


def cache_dir() -> Path:
    """The user's cache folder for llm-extract (``$LLM_EXTRACT_CACHE_DIR`` overrides it),
    created readable by the user only (0700) when it does not exist."""
    override = os.environ.get(CACHE_DIR_ENV)
    path = Path(override) if override else Path(platformdirs.user_cache_dir("llm-extract"))
    return private_dir(path)


def cache_db_path() -> Path:
    """The SQLite file that holds the response cache and the request log."""
    return cache_dir() / "cache.sqlite3"


def packaged_prompts_dir() -> Path | None:
    """The prompt files that ship with the package.

    A wheel carries them in ``llm_extract/bundled_prompts/`` (copied from the repository's
    ``prompts/`` at build time); an editable install from a checkout reads the checkout's
    ``prompts/``, the same files.
    """
    package = Path(__file__).resolve().parent
    bundled = package / "bundled_prompts"
    if bundled.is_dir():
        return bundled
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "prompts").is_dir():
        return checkout / "prompts"
    return None
