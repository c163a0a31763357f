"""The event dataset at scale: adding 10,000 results, and linking 100,000 records.

    .venv/bin/python benchmarks/bench_dataset.py [--results 10000] [--records 100000]

The corpus is synthetic but made of real records: the gold extractions of the eval folder
and of the links gold (monthly reports and news items that repeat their events), copied
again and again with every date moved by 11 days per copy (so a copy's events never fall
within a day of another copy's, and the density is a few dozen records a day over the
years, as in ten years of reports and news items). Each copy of a report is another report
(its own sha256; no text on disk), one result line each, as ``extract`` writes them.

Timed, each in its own process: ``llm-extract db add results.jsonl --db d.db`` (wall time and
peak memory of the process; targets: under 30 s and 300 MB for 10,000 results), then, once
more results bring the dataset to ``--records`` current records, ``llm-extract db link``
(target: minutes). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLD_DIRS = [ROOT / "evals" / "gold", ROOT / "evals" / "links" / "gold"]
CLI = Path(sys.executable).with_name("llm-extract")
ADD_TARGET_S, ADD_TARGET_MB, LINK_TARGET_S = 30.0, 300.0, 600.0
SHIFT_DAYS = 11


def gold_documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for folder in GOLD_DIRS:
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            data.pop("annotation", None)
            data.pop("report_id", None)
            docs.append((path.stem, data))
    return docs


def _shift(value: str, days: int) -> str:
    return (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()


def shifted(doc: dict[str, Any], days: int) -> dict[str, Any]:
    out: dict[str, Any] = {"coalition_month": None}
    for category in ("convoys", "drills", "strikes", "arrests"):
        records = []
        for record in doc.get(category, []):
            copy = {k: v for k, v in record.items() if k != "date_text"}
            if copy.get("date"):
                copy["date"] = _shift(copy["date"], days)
            if copy.get("dates"):
                copy["dates"] = [_shift(d, days) for d in copy["dates"]]
            records.append(copy)
        out[category] = records
    return out


def write_results(path: Path, count: int, start: int = 0) -> int:
    """``count`` result lines (copies ``start``...); returns the number of records."""
    docs = gold_documents()
    records = 0
    with path.open("w", encoding="utf-8") as handle:
        for number in range(start, start + count):
            copy, index = divmod(number, len(docs))
            name, doc = docs[index]
            extraction = shifted(doc, copy * SHIFT_DAYS)
            records += sum(len(extraction[c]) for c in ("convoys", "drills", "strikes", "arrests"))
            report_id = f"{name}__{copy}"
            line = {
                "report_id": report_id,
                "source": {
                    "path": f"synthetic/{report_id}.txt",
                    "sha256": hashlib.sha256(report_id.encode()).hexdigest(),
                },
                "prompt": {"name": "guided", "hash": "0" * 64},
                "model": "synthetic",
                "status": "ok",
                "extraction": extraction,
                "usage": {"prompt_tokens": 1500, "completion_tokens": 300, "total_tokens": 1800},
                "request_key": hashlib.sha256(f"key {report_id}".encode()).hexdigest(),
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    return records


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of ``command`` in its own process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed ({done.returncode}): {done.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("   ", done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "")
    # ru_maxrss of the children is the largest of any child so far; each step is larger.
    return elapsed, max(peak, before) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-dataset-") as tmp:
        work = Path(tmp)
        first = work / "results.jsonl"
        records = write_results(first, args.results)
        size = first.stat().st_size / 1e6
        print(f"{args.results} results, {records} records, {size:.1f} MB of JSONL")
        db = work / "events.db"
        seconds, peak = timed([str(CLI), "db", "add", str(first), "--db", str(db)])
        good = seconds < ADD_TARGET_S and peak < ADD_TARGET_MB
        ok &= good
        print(
            f"db add: {seconds:.1f} s, peak {peak:.0f} MB "
            f"(targets < {ADD_TARGET_S:.0f} s, < {ADD_TARGET_MB:.0f} MB) "
            + ("ok" if good else "MISSED")
        )
        per_result = records / args.results
        more = max(0, int((args.records - records) / per_result) + 1)
        if more:
            extra = work / "more.jsonl"
            records += write_results(extra, more, start=args.results)
            subprocess.run(
                [str(CLI), "db", "add", str(extra), "--db", str(db)],
                check=True,
                capture_output=True,
            )
        print(f"linking {records} records ({args.results + more} reports)")
        seconds, peak = timed([str(CLI), "db", "link", "--db", str(db)])
        good = seconds < LINK_TARGET_S
        ok &= good
        print(
            f"db link: {seconds:.1f} s, peak {peak:.0f} MB (target: minutes) "
            + ("ok" if good else "MISSED")
        )
        print(f"dataset file: {db.stat().st_size / 1e6:.0f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
