"""Throughput of the whole ``extract`` command on real-size reports, against the floor.

    .venv/bin/python benchmarks/bench_throughput.py [--n 200] [--concurrency 16]
        [--latency 0.2] [--modes tools json_schema md_json] [--runs 2] [--client-runs 5]

Reports: N copies of the two real reports of the series (``../shared/seeds``; else the two
longest reports of ``evals/reports``), each with a distinct last line, in a folder; the
``guided`` prompt (with its worked example). The loopback server (benchmarks/
loopback_server.py, a child process) answers every request after L seconds with the report's
gold records, so validation and grounding do their full work on every answer.

For each mode, printed side by side:

1. ``extract``: the real CLI as a subprocess (``llm-extract extract FOLDER -o OUT --model
   gpt-4o-mini --mode MODE -j C``), with validation, grounding, a fresh response cache (every
   answer written to it) and the JSONL writer (flushed and fsynced) all on; best of ``--runs``;
2. floor: benchmarks/floor_client.py, a bare httpx client sending the exact request bodies the
   CLI sent (recorded by the server) to the same server at the same concurrency, also timed as
   a whole command; best of ``--runs``;
3. ideal: ceil(N/C) x L, the time the server alone imposes.

Target: extract / floor <= 1.15. Then the client's own time per report at L = 0, measured in
this process (the same Runner, reader, cache and writer as the CLI, without start-up), best
of ``--client-runs`` with the spread, wall and CPU. Target: <= 3 ms wall per report. Beside
it, the bare httpx client's own sending time per report at L = 0 (what HTTP alone costs).
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus import ROOT, LoopbackServer, answers, base_reports, write_copies

TARGET_RATIO = 1.15
TARGET_CLIENT_MS = 3.0
MODEL = "gpt-4o-mini"
CLI = Path(sys.executable).with_name("llm-extract")


@dataclass
class ModeResult:
    mode: str
    cli: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    client: list[tuple[float, float]] = field(default_factory=list)  # (wall, cpu) per run
    floor_client: list[tuple[float, float]] = field(default_factory=list)  # the same, floor

    @property
    def ratio(self) -> float:
        return min(self.cli) / min(self.floor)


def run_cli(folder: Path, work: Path, base_url: str, mode: str, concurrency: int, n: int) -> float:
    """Seconds of one whole ``llm-extract extract`` command (fresh cache, fresh output)."""
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    out = work / "out.jsonl"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "OPENAI_BASE_URL": base_url,
        "OPENAI_API_KEY": "bench-key",
        "LLM_EXTRACT_CACHE_DIR": str(cache),
    }
    command = [str(CLI), "extract", str(folder), "-o", str(out), "--model", MODEL]
    command += ["--prompt", "guided", "--mode", mode, "--concurrency", str(concurrency)]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    ok = out.read_text(encoding="utf-8").count('"status":"ok"') if out.exists() else 0
    if done.returncode != 0 or ok != n:
        raise SystemExit(f"extract failed ({ok}/{n} ok, exit {done.returncode}): {done.stderr}")
    shutil.rmtree(cache)
    return elapsed


def run_floor(bodies: Path, base_url: str, concurrency: int, n: int) -> tuple[float, float, float]:
    """Seconds of one whole floor_client.py command sending the first ``n`` bodies, and the
    wall and CPU seconds of its sending alone."""
    command = [sys.executable, str(ROOT / "benchmarks" / "floor_client.py"), str(bodies)]
    command += ["--base-url", base_url, "--concurrency", str(concurrency), "--n", str(n)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"floor client failed: {done.stdout} {done.stderr}")
    sending = json.loads(done.stdout)
    return elapsed, sending["wall_s"], sending["cpu_s"]


def client_run(
    folder: Path, work: Path, base_url: str, mode: str, concurrency: int
) -> tuple[float, float, int]:
    """(wall, CPU seconds, ok results) of reading, preparing and running ``folder`` in this
    process, as ``extract -o`` does: fresh cache, JSONL writer."""
    from llm_extract.cli._common import configure
    from llm_extract.jsonl import JsonlWriter
    from llm_extract.run.runner import Runner
    from llm_extract.sources.files import read_reports

    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    values = {
        "model": MODEL,
        "prompt": "guided",
        "mode": mode,
        "concurrency": concurrency,
        "cache_dir": cache,
        "base_url": base_url,
        "api_key": "bench-key",
    }
    out = work / "client.jsonl"
    cpu, start = time.process_time(), time.perf_counter()
    settings, prompt = configure(values)
    reports, errors = read_reports([str(folder)], max_chars=settings.max_chars)
    runner = Runner(settings, prompt)
    with JsonlWriter(out, append=False) as writer:
        outcome = runner.run_sync(runner.prepare(reports), on_result=writer.write_async)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    shutil.rmtree(cache)
    ok = outcome.tally.ok if not errors else -1
    return wall, cpu, ok


def measure_mode(
    mode: str,
    args: argparse.Namespace,
    folders: dict[str, Path],
    work: Path,
    answer_table: list[dict[str, Any]],
) -> ModeResult:
    result = ModeResult(mode)
    n, c = args.n, args.concurrency
    bodies = work / f"bodies-{mode}.jsonl"
    bodies.unlink(missing_ok=True)
    with LoopbackServer(answer_table, args.latency, record=bodies) as server:
        for _ in range(args.runs):
            result.cli.append(run_cli(folders["main"], work, server.base_url, mode, c, n))
        for _ in range(args.runs):
            result.floor.append(run_floor(bodies, server.base_url, c, n)[0])
    with LoopbackServer(answer_table, 0.0) as server:
        client_run(folders["warm"], work, server.base_url, mode, c)  # imports, schemas, sockets
        for _ in range(args.client_runs):
            wall, cpu, ok = client_run(folders["main"], work, server.base_url, mode, c)
            if ok != n:
                raise SystemExit(f"client run: {ok}/{n} ok")
            result.client.append((wall, cpu))
        for _ in range(args.client_runs):
            result.floor_client.append(run_floor(bodies, server.base_url, c, n)[1:])
    return result


def startup(runs: int) -> dict[str, float]:
    """Best of ``runs`` seconds of what every model run pays before its first request:
    the command line itself, and the import of the model backend (the SDKs)."""
    commands = {
        "llm-extract --help": [str(CLI), "--help"],
        # what the first request imports; the exit skips the final collections, as the
        # command line's does (llm_extract.cli.main)
        "import of the model backend": [
            sys.executable,
            "-c",
            "import llm_extract.backends.openai_compat, gc; gc.freeze()",
        ],
        "python itself": [sys.executable, "-c", "pass"],
    }
    best: dict[str, float] = {}
    for name, command in commands.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        best[name] = min(times)
    return best


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="reports")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.2, help="server latency, seconds")
    parser.add_argument("--modes", nargs="+", default=["tools", "json_schema", "md_json"])
    parser.add_argument("--runs", type=int, default=2, help="runs of each command (best kept)")
    parser.add_argument("--client-runs", type=int, default=5, help="runs at L=0 (best kept)")
    args = parser.parse_args()
    bases, origin = base_reports()
    table = answers(bases)
    n, c, latency = args.n, args.concurrency, args.latency
    ideal = math.ceil(n / c) * latency
    sizes = ", ".join(f"{len(b.text):,}" for b in bases)
    print(f"reports: {n} copies of {origin} ({sizes} characters), prompt guided")
    print(f"concurrency C={c}, server latency L={latency} s, ideal ceil(N/C) x L = {ideal:.2f} s")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    results: list[ModeResult] = []
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        work = Path(tmp)
        folders = {
            "main": write_copies(bases, n, work / "reports"),
            "warm": write_copies(bases, c, work / "warm", tag="w"),
        }
        for mode in args.modes:
            results.append(measure_mode(mode, args, folders, work, table))
    print()
    print(f"whole command, best of {args.runs} (all runs in brackets), seconds:")
    head = f"{'mode':<12} {'extract':>18} {'floor (httpx)':>18} {'ideal':>7}"
    print(f"{head}  ratio extract/floor (target <= {TARGET_RATIO})")
    ok = True
    for r in results:
        runs_cli = "/".join(f"{t:.2f}" for t in r.cli)
        runs_floor = "/".join(f"{t:.2f}" for t in r.floor)
        met = r.ratio <= TARGET_RATIO
        ok &= met
        print(
            f"{r.mode:<12} {min(r.cli):>6.2f} ({runs_cli:>9}) {min(r.floor):>6.2f} "
            f"({runs_floor:>9}) {ideal:>7.2f}  {r.ratio:.2f} {verdict(met)}"
        )
    print()
    print(
        f"client time per report at L=0, in process, best of {args.client_runs} "
        f"(spread of wall in brackets), ms; target wall <= {TARGET_CLIENT_MS} ms:"
    )
    for r in results:
        walls = sorted(w / n * 1000 for w, _ in r.client)
        wall, cpu = min(r.client)
        per_wall, per_cpu = wall / n * 1000, cpu / n * 1000
        floor_wall, floor_cpu = (t / n * 1000 for t in min(r.floor_client))
        met = per_wall <= TARGET_CLIENT_MS
        ok &= met
        print(
            f"{r.mode:<12} wall {per_wall:5.2f} ({walls[0]:.2f}-{walls[-1]:.2f}), "
            f"CPU {per_cpu:5.2f}  {verdict(met)}; the bare httpx client's own: "
            f"wall {floor_wall:.2f}, CPU {floor_cpu:.2f}"
        )
    print()
    costs = startup(max(3, args.runs))
    sdk = costs["import of the model backend"] - costs["python itself"]
    print("start-up, best of 3, seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in costs.items()))
    for r in results:
        print(
            f"{r.mode:<12} extract without the backend's import ({sdk:.2f} s) / floor: "
            f"{(min(r.cli) - sdk) / min(r.floor):.2f} (for reading the figures, not a target)"
        )
    print()
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
