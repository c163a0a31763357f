"""Shared fixtures: test isolation and the loopback OpenAI-protocol server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_server import OpenAIServer

ISOLATED_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_EXTRACT_MODEL")


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own cache folder and no key or server from the environment."""
    cache = tmp_path / "llm-extract-cache"
    cache.mkdir()
    monkeypatch.setenv("LLM_EXTRACT_CACHE_DIR", str(cache))
    for name in ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A real HTTP server on 127.0.0.1 speaking the chat-completions protocol (see
    tests/openai_server.py for the scripted actions)."""
    with OpenAIServer() as server:
        yield server
