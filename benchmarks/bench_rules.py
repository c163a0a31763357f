"""Speed and memory of the offline extractor (``--model rules``) on one core.

Extracts the project's reports (evals/reports except the held-out splits, plus the two real
reports in ../shared/seeds when present), repeated until ``--reports`` extractions are
reached, and prints reports/s and peak memory against the targets (200 reports/s, 100 MB).
Every repeat gets a distinct trailing line so that no per-text cache can help. Exits 1 when
a target is missed.

    python benchmarks/bench_rules.py [--reports 2000]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llm_extract.backends.rules import extract  # noqa: E402  (after the path is set up)
from llm_extract.errors import GoldError  # noqa: E402  (after the path is set up)
from llm_extract.evaluation.gold import load_splits  # noqa: E402  (after the path is set up)

TARGET_RATE = 200.0
TARGET_MB = 100.0
#: Splits no rule writer reads: their texts stay out of the timing too.
HELD_OUT_SPLITS = ("holdout", "wide_test")


def held_out() -> set[str]:
    """Ids of the held-out splits: kept out so that nobody tunes on them, not even by speed."""
    try:
        splits = load_splits()
        return {i for name in HELD_OUT_SPLITS for i in splits.get(name, [])}
    except GoldError:
        return set()


def load_texts() -> list[str]:
    folders = [ROOT / "evals" / "reports", ROOT.parent / "shared" / "seeds"]
    skip = held_out()
    texts = [
        path.read_text(encoding="utf-8")
        for folder in folders
        if folder.is_dir()
        for path in sorted(folder.glob("*.txt"))
        if path.stem not in skip
    ]
    if not texts:
        raise SystemExit("no reports found in evals/reports or ../shared/seeds")
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000, help="extractions to time")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    texts = load_texts()
    batch = [f"{texts[i % len(texts)]}\n{i}" for i in range(args.reports)]
    extract(texts[0])  # warm up: imports and compiled patterns
    records = 0
    start = time.perf_counter()
    for i, text in enumerate(batch):
        extraction, _ = extract(text, f"r{i}")
        records += sum(
            len(extraction.records(c)) for c in ("convoys", "drills", "strikes", "arrests")
        )
    elapsed = time.perf_counter() - start
    rate = args.reports / elapsed

    tracemalloc.start()
    for i, text in enumerate(batch[: len(texts) * 3]):
        extract(text, f"m{i}")
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    traced_mb = traced_peak / 2**20

    print(f"reports: {args.reports} ({len(texts)} distinct texts), records: {records}")
    print(f"time: {elapsed:.2f} s on one core")
    print(f"speed: {rate:.0f} reports/s (target {TARGET_RATE:.0f}: x{rate / TARGET_RATE:.2f})")
    print(
        f"memory: peak RSS {maxrss_mb:.1f} MB, extraction peak {traced_mb:.1f} MB "
        f"(target {TARGET_MB:.0f} MB: x{maxrss_mb / TARGET_MB:.2f})"
    )
    ok = rate >= TARGET_RATE and maxrss_mb <= TARGET_MB
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
