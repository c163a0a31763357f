"""Peak memory of ``extract`` over 10,000 and 100,000 reports: the slope must be flat.

    .venv/bin/python benchmarks/bench_memory.py [--sizes 10000 100000] [--concurrency auto]
        [--backends rules server]

Reports: N copies of every report of ``evals/reports`` that has a gold file (and of the real
reports in ``../shared/seeds`` when present), each with a distinct last line, in one folder,
for each N of ``--sizes``.
Each backend runs the real command as a subprocess, ``llm-extract extract FOLDER -o OUT``:

- ``rules``: ``--model rules``;
- ``server``: ``--model gpt-4o-mini`` against the loopback server (benchmarks/
  loopback_server.py, latency 0, answering each report with its gold records), with the
  response cache on (a fresh one) and concurrency C.

Printed: seconds, reports per second, the command's peak resident memory (its own
``ru_maxrss``, read with wait4) against the target of 200 MB, and that every report has its
line in the output; then, per backend, the slope between the smallest and the largest size
(kilobytes of peak memory per report more), against the target of at most 0.5 KB per report
(a run that held each report would need about 15). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus import LoopbackServer, all_reports, answers, write_copies

TARGET_MB = 200.0
TARGET_SLOPE_KB = 0.5
CLI = Path(sys.executable).with_name("llm-extract")


def run_command(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit status) of one command."""
    start = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert child.stderr is not None
    errors = child.stderr.read()  # until the command ends (a progress bar and a summary)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    if child.returncode != 0:
        print(errors.strip()[-2000:], file=sys.stderr)
    return elapsed, usage.ru_maxrss / 1024, child.returncode  # KiB on Linux


def lines_ok(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum('"status":"ok"' in line for line in handle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--concurrency", default="auto")
    parser.add_argument("--backends", nargs="+", default=["rules", "server"])
    args = parser.parse_args()
    bases = all_reports()
    table = answers(bases)
    ok = True
    print(f"reports: copies of {len(bases)} reports (evals/reports, and the seeds)")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    peaks: dict[str, dict[int, float]] = {backend: {} for backend in args.backends}
    for n in sorted(args.sizes):
        with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
            work = Path(tmp)
            folder = write_copies(bases, n, work / "reports")
            for backend in args.backends:
                out = work / f"out-{backend}.jsonl"
                env = {**os.environ, "LLM_EXTRACT_CACHE_DIR": str(work / f"cache-{backend}")}
                command = [str(CLI), "extract", str(folder), "-o", str(out)]
                command += ["--concurrency", str(args.concurrency)]
                if backend == "rules":
                    seconds, peak, status = run_command([*command, "--model", "rules"], env)
                else:
                    with LoopbackServer(table, 0.0) as server:
                        env |= {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "bench-key"}
                        command += ["--model", "gpt-4o-mini", "--prompt", "guided"]
                        seconds, peak, status = run_command(command, env)
                done = lines_ok(out) if out.exists() else 0
                met = peak <= TARGET_MB and done == n and status == 0
                ok &= met
                peaks[backend][n] = peak
                print(
                    f"{backend:<7} {n:>7} reports: {seconds:7.1f} s, {n / seconds:6.0f} reports/s, "
                    f"peak RSS {peak:6.1f} MB (target <= {TARGET_MB:.0f} MB), "
                    f"{done}/{n} ok lines, exit {status}: {'met' if met else 'MISSED'}"
                )
    for backend, by_size in peaks.items():
        if len(by_size) < 2:
            continue
        low, high = min(by_size), max(by_size)
        slope = (by_size[high] - by_size[low]) * 1024 / (high - low)
        met = slope <= TARGET_SLOPE_KB
        ok &= met
        print(
            f"{backend:<7} slope {low:,} -> {high:,} reports: {slope:+.3f} KB per report "
            f"(target <= {TARGET_SLOPE_KB} KB): {'met' if met else 'MISSED'}"
        )
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
