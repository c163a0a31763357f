"""What the benchmarks share: real-size reports, grounded answers for them, the loopback server.

- :func:`base_reports`: the two real reports of the series (``../shared/seeds``) when they are
  beside the checkout, else the longest reports of ``evals/reports`` (written for the project);
  :func:`all_reports`: every report with a gold file (evals/reports and the seeds).
- :func:`answers`: for each report, the answer a model would give: its gold file validated
  against the text and dumped with exactly the fields of the JSON schema the model is sent.
- :func:`write_copies`: N report files made from those texts, each with a distinct last line
  (so that no cache can answer one copy with another's answer).
- :class:`LoopbackServer`: benchmarks/loopback_server.py in a child process (its own
  interpreter, so its work never holds the client's GIL).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
REPORTS = ROOT / "evals" / "reports"
GOLD = ROOT / "evals" / "gold"
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class BaseReport:
    report_id: str
    text: str


def _with_gold(folder: Path) -> list[BaseReport]:
    return [
        BaseReport(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.txt"))
        if (GOLD / f"{path.stem}.json").is_file()
    ]


def base_reports(count: int = 2) -> tuple[list[BaseReport], str]:
    """The reports to copy, and where they come from (for the printout)."""
    seeds = _with_gold(SEEDS) if SEEDS.is_dir() else []
    if seeds:
        return seeds, f"the {len(seeds)} real reports in {SEEDS}"
    longest = sorted(_with_gold(REPORTS), key=lambda r: len(r.text), reverse=True)[:count]
    return longest, f"the {len(longest)} longest reports of evals/reports (no {SEEDS})"


def all_reports() -> list[BaseReport]:
    """Every report that has a gold file: evals/reports, and the seeds when present."""
    return _with_gold(REPORTS) + (_with_gold(SEEDS) if SEEDS.is_dir() else [])


def _schema_fields(schema: dict[str, Any], node: dict[str, Any], value: Any) -> Any:
    """``value`` with only the properties the JSON schema ``node`` declares."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    for option in node.get("anyOf", []):
        if option.get("type") != "null" and value is not None:
            return _schema_fields(schema, option, value)
    if isinstance(value, dict) and "properties" in node:
        return {
            key: _schema_fields(schema, sub, value.get(key))
            for key, sub in node["properties"].items()
        }
    if isinstance(value, list) and "items" in node:
        return [_schema_fields(schema, node["items"], item) for item in value]
    return value


def answer_for(report: BaseReport) -> dict[str, Any]:
    """What a model answers for ``report``: its gold records, every schema field present."""
    from llm_extract.schemas import ReportExtraction

    gold = json.loads((GOLD / f"{report.report_id}.json").read_text(encoding="utf-8"))
    extraction = ReportExtraction.model_validate(
        gold, context={"source": report.text, "report_id": report.report_id}
    )
    schema = ReportExtraction.model_json_schema()
    dumped: dict[str, Any] = _schema_fields(schema, schema, extraction.model_dump(mode="json"))
    return dumped


def needle(report: BaseReport, others: Sequence[BaseReport]) -> str:
    """A line of ``report`` that no other report contains (how the server tells them apart)."""
    for line in report.text.splitlines():
        line = line.strip()
        if len(line) >= 20 and not any(line in o.text for o in others if o is not report):
            return line
    raise SystemExit(f"{report.report_id}: no line of its own to recognise it by")


def answers(reports: Sequence[BaseReport]) -> list[dict[str, Any]]:
    return [{"needle": needle(r, reports), "answer": answer_for(r)} for r in reports]


def copy_text(report: BaseReport, number: int) -> str:
    return f"{report.text.rstrip()}\n{number}\n"


def write_copies(reports: Sequence[BaseReport], n: int, folder: Path, tag: str = "r") -> Path:
    """``n`` report files in ``folder``, copies of ``reports`` in turn, each text distinct."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        report = reports[i % len(reports)]
        (folder / f"{tag}{i:05d}.txt").write_text(copy_text(report, i), encoding="utf-8")
    return folder


class LoopbackServer:
    """benchmarks/loopback_server.py in a child process; a context manager."""

    def __init__(
        self,
        answers_list: list[dict[str, Any]],
        latency: float,
        record: Path | None = None,
        *,
        options: Sequence[str] = (),
    ) -> None:
        """``options``: more of the server's options (``--rpm``, ``--tpm``, ``--slots``)."""
        self._dir = tempfile.TemporaryDirectory(prefix="bench-server-")
        path = Path(self._dir.name) / "answers.json"
        path.write_text(json.dumps(answers_list, ensure_ascii=False), encoding="utf-8")
        command = [
            sys.executable,
            str(ROOT / "benchmarks" / "loopback_server.py"),
            "--latency",
            str(latency),
            "--answers",
            str(path),
        ]
        if record is not None:
            command += ["--record", str(record)]
        command += list(options)
        #: the server's counts, read when it stops (answered, refused, peak_in_flight)
        self.stats: dict[str, float] = {}
        self.child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.child.stdout is not None
        port = int(self.child.stdout.readline())
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def close(self) -> None:
        if self.child.stdin is not None:
            self.child.stdin.close()
        if self.child.stdout is not None:
            line = self.child.stdout.readline()
            self.stats = json.loads(line) if line.strip() else {}
        self.child.wait(timeout=30)
        if self.child.stdout is not None:
            self.child.stdout.close()
        self._dir.cleanup()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
