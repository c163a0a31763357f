"""The whole ``extract --model rules`` command on real-size reports: to a file and to stdout.

    .venv/bin/python benchmarks/bench_offline.py [--n 2000] [--runs 2]

Reports: N copies of the two real reports of the series (``../shared/seeds``; else the two
longest reports of ``evals/reports``), each with a distinct last line, in a folder. The real
command runs as a subprocess, ``llm-extract extract FOLDER --model rules`` with ``-o
OUT.jsonl`` (every line made durable: group commit) and with its lines on stdout (a pipe
read by this script), best of ``--runs``. Printed: seconds and reports per second (start-up
included) against the target of 150 reports/s to a file, the cores the command may use, and
that every report has its line. Exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus import base_reports, write_copies

TARGET_RATE = 150.0
CLI = Path(sys.executable).with_name("llm-extract")


def run(command: list[str], stdout: Path | None) -> tuple[float, int]:
    """(seconds, lines with status ok) of one command."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    text = stdout.read_text(encoding="utf-8") if stdout is not None else done.stdout
    if done.returncode not in (0, 1):
        print(done.stderr[-2000:], file=sys.stderr)
    return seconds, text.count('"status":"ok"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="reports")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    bases, origin = base_reports()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"reports: {args.n} copies of {origin}")
    print(f"machine: {cores} usable cores, load average {os.getloadavg()[0]:.2f} at start")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as tmp:
        work = Path(tmp)
        folder = write_copies(bases, args.n, work / "reports")
        out = work / "out.jsonl"
        for target in ("file", "stdout"):
            timings: list[float] = []
            lines = 0
            for _ in range(args.runs):
                out.unlink(missing_ok=True)
                command = [str(CLI), "extract", str(folder), "--model", "rules"]
                if target == "file":
                    command += ["-o", str(out)]
                seconds, lines = run(command, out if target == "file" else None)
                timings.append(seconds)
            best = min(timings)
            rate = args.n / best
            met = None
            if target == "file":
                met = rate >= TARGET_RATE and lines == args.n
                ok &= met
            verdict = "" if met is None else (": met" if met else ": MISSED")
            runs = ", ".join(f"{t:.1f}" for t in timings)
            print(
                f"to {target:<6} best {best:5.1f} s ({runs}), {rate:5.0f} reports/s"
                + (f" (target >= {TARGET_RATE:.0f})" if target == "file" else "")
                + f", {lines}/{args.n} ok lines{verdict}"
            )
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
