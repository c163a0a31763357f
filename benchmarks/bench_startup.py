"""Start-up of the command line: ``llm-extract --help`` and one report with ``--model rules``.

    .venv/bin/python benchmarks/bench_startup.py [--runs 20]

Each command runs ``--runs`` times, each time in a fresh process (the interpreter, every
import and the exit: what a user waits for; the operating system's file cache is warm after
the first run, as it is for anyone who runs the tool twice). Printed: the best, the median and
the worst, against the targets (``--help`` <= 0.3 s, ``extract one.txt --model rules`` <= 0.6
s, the median held to them). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus import REPORTS

CLI = Path(sys.executable).with_name("llm-extract")
TARGETS = {"--help": 0.3, "extract one.txt --model rules": 0.6}


def times(command: list[str], runs: int, cwd: Path) -> list[float]:
    found = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        found.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)}: exit {done.returncode}: {done.stderr!r}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        work = Path(tmp)
        (work / "one.txt").write_text(
            (REPORTS / "month_116.txt").read_text(encoding="utf-8"), encoding="utf-8"
        )
        for name, target in TARGETS.items():
            found = times([str(CLI), *name.split()], args.runs, work)
            median = statistics.median(found)
            met = median <= target
            ok &= met
            print(
                f"llm-extract {name:<30} best {min(found):.3f} s, median {median:.3f} s, "
                f"worst {max(found):.3f} s over {args.runs} runs "
                f"(target <= {target} s): {'met' if met else 'MISSED'}"
            )
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
