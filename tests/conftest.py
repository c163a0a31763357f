"""Shared fixtures: test isolation, a leak check after every test, and the loopback
OpenAI-protocol server; the Hypothesis profiles of the property tests."""

from __future__ import annotations

import gc
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from openai_server import OpenAIServer
from paths import EVALS

# Property tests are deterministic: every run, here and in CI, tries the same examples (drawn
# from a seed derived from each test), so a counterexample fails every run instead of one in
# three. `derandomize` implies no example database: a counterexample is kept as an explicit
# @example in its test. To hunt for new ones, `pytest --hypothesis-profile=explore` draws
# fresh examples and keeps the failing ones in the example database (.hypothesis/, ignored
# by git), which replays them first on the next explore run.
settings.register_profile(
    "llm-extract",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    derandomize=False,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("llm-extract")

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
    # No configuration file of the user's (llm-extract.toml in ~/.config) reaches a test.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
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
