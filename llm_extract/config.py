"""Where things live on disk, and the environment variables that move them."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

CACHE_DIR_ENV = "LLM_EXTRACT_CACHE_DIR"
PRICES_ENV = "LLM_EXTRACT_PRICES"


def cache_dir() -> Path:
    """The user's cache folder for llm-extract (``$LLM_EXTRACT_CACHE_DIR`` overrides it)."""
    override = os.environ.get(CACHE_DIR_ENV)
    path = Path(override) if override else Path(platformdirs.user_cache_dir("llm-extract"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_db_path() -> Path:
    """The SQLite file that holds the response cache and the request log."""
    return cache_dir() / "cache.sqlite3"


def project_root() -> Path:
    """The checkout's root (where ``prompts/`` and ``evals/`` are) when run from a clone."""
    return Path(__file__).resolve().parent.parent
