"""Shared fixtures: test isolation, a leak check after every test, and the loopback
OpenAI-protocol server."""

from __future__ import annotations

import gc
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_server import OpenAIServer
from paths import EVALS

ISOLATED_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "LLM_EXTRACT_MODEL",
    "LLM_EXTRACT_PROMPTS_DIR",
    "LLM_EXTRACT_PRICES",
)


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own cache folder, the repository's eval folder wherever pytest
    runs from, and no key, server or prompt folder from the environment."""
    cache = tmp_path / "llm-extract-cache"
    cache.mkdir()
    monkeypatch.setenv("LLM_EXTRACT_CACHE_DIR", str(cache))
    monkeypatch.setenv("LLM_EXTRACT_EVALS_DIR", str(EVALS))
    for name in ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_leaks() -> Iterator[None]:
    """Fail the test that leaks a client, transport, socket, file or a running thread.

    Whatever a test left unclosed is collected right after it, so its ResourceWarning is
    charged to that test instead of surfacing, at random, in whichever test the garbage
    collector happens to run in later.
    """
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and not t.daemon]
    for thread in left:
        thread.join(timeout=5)
    alive = [t.name for t in left if t.is_alive()]
    if alive:
        pytest.fail(f"threads still running after the test: {', '.join(alive)}", pytrace=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    # What survives is moved out of the collector's sight, so the next test's collection
    # only walks the objects that test made (a full walk after every test costs minutes).
    gc.freeze()
    leaks = sorted({str(w.message) for w in caught if issubclass(w.category, ResourceWarning)})
    if leaks:
        pytest.fail("leaked resources: " + "; ".join(leaks), pytrace=False)


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A real HTTP server on 127.0.0.1 speaking the chat-completions protocol (see
    tests/openai_server.py for the scripted actions)."""
    with OpenAIServer() as server:
        yield server
