"""``extract`` at a provider's rate limit: fixed concurrency against ``--concurrency auto``.

    .venv/bin/python benchmarks/bench_ratelimit.py [--n 1000] [--rpm 3000] [--tpm 15000000]
        [--latency 0.5] [--free-latency 0.2] [--settings 8 16 64 auto]
        [--skip-limited | --skip-free] [--repeat 3]

Reports: N copies of the two real reports of the series (``../shared/seeds``; else the two
longest reports of ``evals/reports``), each with a distinct last line, in a folder; the
``guided`` prompt. Each setting runs the real command as a subprocess (``llm-extract extract
FOLDER -o OUT --model gpt-4o-mini -j SETTING``, the defaults otherwise, a fresh response
cache) against benchmarks/loopback_server.py, which answers every request with the report's
gold records after a latency, in two phases:

1. **Rate-limited**: the server admits ``--rpm`` requests and ``--tpm`` tokens a minute (a
   one-second bucket each, OpenAI's ``x-ratelimit-*`` headers on every answer, 429 with
   ``Retry-After`` past them), latency ``--latency``. Printed per setting: seconds, the
   limit's ideal (the time the limit alone imposes: the requests and the tokens the server
   admitted, at its rates, whichever is longer), the seconds from the first request to the
   last answer (the command's start-up and reading of the reports left out), the share of
   the limit's throughput reached (ideal / those seconds), requests answered 429 (and their
   share of the requests sent), reports that failed. Targets for ``auto``: >= 90 % of the
   limit's throughput, <= 2 % answered 429, every report ok.
2. **Unlimited**: the same server without a limit, latency ``--free-latency``, each setting
   run ``--repeat`` times, the settings taken in turn (so a slower minute of the machine
   falls on all of them). Printed: each run's seconds and the best per setting; target:
   ``auto``'s best within 10 % of the best fixed setting's best.

Exits 1 when a target is missed. The machine's load average is printed first: on a shared
machine the unlimited phase (which is CPU-bound at high concurrency) is noisy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from corpus import LoopbackServer, answers, base_reports, write_copies

TARGET_SHARE = 0.90
TARGET_429 = 0.02
TARGET_FREE = 1.10
MODEL = "gpt-4o-mini"
CLI = Path(sys.executable).with_name("llm-extract")


@dataclass
class Run:
    setting: str
    seconds: float
    ok: int
    failed: int
    answered: int
    refused: int
    tokens: int
    summary: str
    #: seconds from the server's first request to its last answer (the run without start-up)
    span_s: float = 0.0

    @property
    def refused_share(self) -> float:
        sent = self.answered + self.refused
        return self.refused / sent if sent else 0.0


def run_cli(folder: Path, work: Path, server: LoopbackServer, setting: str, n: int) -> Run:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    out = work / f"out-{setting}.jsonl"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "bench-key",
        "LLM_EXTRACT_CACHE_DIR": str(cache),
    }
    command = [str(CLI), "extract", str(folder), "-o", str(out), "--model", MODEL]
    command += ["--prompt", "guided", "--concurrency", setting]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    ok = sum('"status":"ok"' in line for line in lines)
    summary = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    if done.returncode not in (0, 1):
        print(done.stderr[-2000:], file=sys.stderr)
    return Run(setting, seconds, ok, n - ok, 0, 0, 0, summary)


def measure(
    folder: Path,
    work: Path,
    table: list[dict[str, object]],
    setting: str,
    n: int,
    latency: float,
    options: list[str],
) -> Run:
    """One command against a fresh server (its counts are this run's alone)."""
    server = LoopbackServer(table, latency, options=options)
    try:
        run = run_cli(folder, work, server, setting, n)
    finally:
        server.close()
    run.answered = int(server.stats.get("answered", 0))
    run.refused = int(server.stats.get("refused", 0))
    run.tokens = int(server.stats.get("tokens", 0))
    run.span_s = float(server.stats.get("span_s", 0.0))
    return run


def limited_phase(
    folder: Path, work: Path, table: list[dict[str, object]], args: argparse.Namespace
) -> bool:
    """Phase 1 (see the module doc): whether ``auto`` met its targets."""
    limits = ["--rpm", str(args.rpm), "--tpm", str(args.tpm)]
    print(
        f"\n1. rate-limited server: {args.rpm:,} requests and {args.tpm:,} tokens a minute "
        f"(one-second buckets), latency {args.latency} s"
    )
    print(
        f"{'setting':>8} {'seconds':>8} {'ideal':>7} {'sending':>8} {'of limit':>9} "
        f"{'429s':>12} {'failed':>7}  limit bound by"
    )
    ok = True
    limited: dict[str, Run] = {}
    for setting in args.settings:
        run = measure(folder, work, table, setting, args.n, args.latency, limits)
        limited[setting] = run
        by_requests = run.answered / (args.rpm / 60)
        by_tokens = run.tokens / (args.tpm / 60)
        ideal = max(by_requests, by_tokens)
        share = ideal / run.span_s if run.span_s else 0.0
        met = None
        if setting == "auto":
            met = share >= TARGET_SHARE and run.refused_share <= TARGET_429
            met &= run.failed == 0
            ok &= met
        verdict = "" if met is None else ("  met" if met else "  MISSED")
        print(
            f"{setting:>8} {run.seconds:8.1f} {ideal:7.1f} {run.span_s:8.1f} {share:8.0%} "
            f"{run.refused:5d} ({run.refused_share:5.1%}) {run.failed:7d}  "
            f"{'tokens' if by_tokens > by_requests else 'requests'}{verdict}"
        )
    if "auto" in limited:
        print(f"   auto's summary line: {limited['auto'].summary}")
        print(
            f"   targets for auto: >= {TARGET_SHARE:.0%} of the limit's throughput, "
            f"<= {TARGET_429:.0%} answered 429, every report ok"
        )
    return ok


def free_phase(
    folder: Path, work: Path, table: list[dict[str, object]], args: argparse.Namespace
) -> bool:
    """Phase 2 (see the module doc): whether ``auto`` met its target."""
    print(
        f"\n2. unlimited server, latency {args.free_latency} s "
        f"({args.repeat} runs of each setting, taken in turn)"
    )
    free: dict[str, list[Run]] = {setting: [] for setting in args.settings}
    for _ in range(args.repeat):
        for setting in args.settings:
            run = measure(folder, work, table, setting, args.n, args.free_latency, [])
            free[setting].append(run)
    for setting, runs in free.items():
        times = ", ".join(f"{run.seconds:.1f}" for run in runs)
        failed = sum(run.failed for run in runs)
        print(f"{setting:>8} best {min(r.seconds for r in runs):5.1f} s ({times}), {failed} failed")
    fixed = [min(r.seconds for r in runs) for name, runs in free.items() if name != "auto"]
    if "auto" not in free or not fixed:
        return True
    auto = free["auto"]
    ratio = min(r.seconds for r in auto) / min(fixed)
    met = ratio <= TARGET_FREE and all(run.failed == 0 for run in auto)
    print(
        f"   auto / best fixed, best runs: {ratio:.2f} (target <= {TARGET_FREE:.2f}): "
        f"{'met' if met else 'MISSED'}"
    )
    print(f"   auto's summary line: {auto[-1].summary}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="reports")
    parser.add_argument("--rpm", type=int, default=3000, help="the server's requests/minute")
    parser.add_argument("--tpm", type=int, default=15_000_000, help="its tokens/minute")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds, rate-limited")
    parser.add_argument("--free-latency", type=float, default=0.2, help="seconds, unlimited")
    parser.add_argument("--settings", nargs="+", default=["8", "16", "64", "auto"])
    parser.add_argument("--skip-free", action="store_true", help="the rate-limited phase only")
    parser.add_argument("--skip-limited", action="store_true", help="the unlimited phase only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per setting, unlimited")
    args = parser.parse_args()
    bases, origin = base_reports()
    table = answers(bases)
    print(f"reports: {args.n} copies of {origin}")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-ratelimit-") as tmp:
        work = Path(tmp)
        folder = write_copies(bases, args.n, work / "reports")
        if not args.skip_limited:
            ok &= limited_phase(folder, work, table, args)
        if not args.skip_free:
            ok &= free_phase(folder, work, table, args)
    print("\nall targets met" if ok else "\nTARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
