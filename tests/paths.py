"""Where the tests find the repository's files, and the real reports beside the checkout.

The two real reports of the series are third-party text: they live in ``../shared/seeds``
beside the checkout, never in it. Tests that need them are marked :data:`requires_seeds` and
skip, with the reason, in a clone that has no such folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
EVALS = REPO / "evals"
GOLD_DIR = EVALS / "gold"
REPORTS_DIR = EVALS / "reports"
PROMPTS_DIR = REPO / "prompts"
SEEDS = REPO.parent / "shared" / "seeds"
SEED_IDS = ("000_2570466cde77c51c", "001_f9e462c09bfcd4f6")
HAVE_SEEDS = all((SEEDS / f"{seed}.txt").is_file() for seed in SEED_IDS)

requires_seeds = pytest.mark.skipif(
    not HAVE_SEEDS, reason=f"the real reports of the series are not beside the checkout ({SEEDS})"
)


def with_seed_marks(ids: Iterable[str]) -> list[Any]:
    """``pytest.param`` of each id, the real reports' ids marked :data:`requires_seeds`."""
    return [pytest.param(i, marks=requires_seeds) if i in SEED_IDS else i for i in ids]


def seed_text(seed: str) -> str:
    return (SEEDS / f"{seed}.txt").read_text(encoding="utf-8")
