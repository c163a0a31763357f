"""The annotation app as the tests run it: ``--model rules`` output of the project's own
reports (copied into a temporary folder, so a test may change or remove a text), and the real
app served by uvicorn on 127.0.0.1 from a thread, with an httpx client that carries the token.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from paths import REPORTS_DIR
from typer.testing import CliRunner
from web_pages import article_page

from llm_extract.cli import app as cli_app
from llm_extract.reporting.annotate.app import TOKEN_HEADER, create_app, loopback_hosts, new_token
from llm_extract.reporting.annotate.inputs import annotation_results
from llm_extract.reporting.annotate.server import ThreadedServer, bind
from llm_extract.reporting.annotate.session import Workspace
from llm_extract.reporting.annotate.store import GoldStore

REPORT_IDS = ("month_116", "item_convoy_walid")


@dataclass(frozen=True)
class Files:
    """An output file, the folder of its reports and an empty gold folder."""

    out: Path
    reports: Path
    gold: Path


def extract_rules(texts: Sequence[Path], out: Path) -> None:
    """``llm-extract extract TEXTS -o OUT --model rules``."""
    done = CliRunner().invoke(
        cli_app, ["extract", *map(str, texts), "-o", str(out), "--model", "rules"]
    )
    assert done.exit_code == 0, done.output


def make_files(base: Path, ids: Sequence[str] = REPORT_IDS, source: Path = REPORTS_DIR) -> Files:
    reports = base / "reports"
    reports.mkdir(parents=True)
    for report_id in ids:
        shutil.copy(source / f"{report_id}.txt", reports / f"{report_id}.txt")
    out = base / "out.jsonl"
    extract_rules([reports / f"{i}.txt" for i in ids], out)
    return Files(out=out, reports=reports, gold=base / "gold")


#: the title and publication date of the saved pages of :func:`make_page_files`
PAGES = {
    "month_116": ("التحالف في شهره 116", "2024-05-23T10:00:00+03:00"),
    "item_convoy_walid": ("قافلة إلى قاعدة الوليد", "2024-05-30"),
}


def make_page_files(base: Path) -> Files:
    """As :func:`make_files`, from the reports saved as news pages (``.html``) with a title
    and a publication date (a time for one, a day for the other)."""
    reports = base / "reports"
    reports.mkdir(parents=True)
    for report_id, (title, published) in PAGES.items():
        text = (REPORTS_DIR / f"{report_id}.txt").read_text(encoding="utf-8")
        page = article_page(text, title, published=published)
        (reports / f"{report_id}.html").write_text(page, encoding="utf-8")
    out = base / "out.jsonl"
    extract_rules([reports / f"{i}.html" for i in PAGES], out)
    return Files(out=out, reports=reports, gold=base / "gold")


def edit_lines(out: Path, change: Any) -> None:
    """Rewrite each JSON line of ``out`` through ``change(dict) -> dict``."""
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    out.write_text(
        "".join(json.dumps(change(line), ensure_ascii=False) + "\n" for line in lines),
        encoding="utf-8",
    )


class RunningApp:
    """The app on a real uvicorn server in a thread, and a client with the token."""

    def __init__(self, files: Files, *, skipped: Sequence[str] = (), blank: bool = False) -> None:
        self.files = files
        results = annotation_results(files.out)
        self.store = GoldStore(files.gold)
        self.store.check_writable()
        self.workspace = Workspace(
            results, self.store, base=files.out.parent, skipped_lines=skipped, blank=blank
        )
        self.token = new_token()
        sock = bind("127.0.0.1", 0)
        port = sock.getsockname()[1]
        hosts = loopback_hosts("127.0.0.1", port)
        self.server = ThreadedServer(
            create_app(self.workspace, token=self.token, hosts=hosts), sock
        )
        self.client = httpx.Client(
            base_url=self.server.base_url, headers={TOKEN_HEADER: self.token}, timeout=20
        )

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/?token={self.token}"

    def __enter__(self) -> RunningApp:
        self.server.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.client.close()
        self.server.__exit__(exc_type, exc, tb)

    # --- API shortcuts --------------------------------------------------------------------

    def report(self, report_id: str) -> dict[str, Any]:
        answer = self.client.get(f"/api/reports/{report_id}")
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    def put(self, report_id: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.put(f"/api/reports/{report_id}/draft", json=body)

    def done(self, report_id: str, version: int, **more: Any) -> httpx.Response:
        body = {"version": version, **more}
        return self.client.post(f"/api/reports/{report_id}/done", json=body)


def draft_body(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The PUT body of a report payload's draft (records as the page sends them)."""
    draft = copy.deepcopy(payload["draft"])
    body = {
        "version": draft["version"],
        "gold_sha256": draft["gold_sha256"],
        "coalition_month": draft["coalition_month"],
        "stated_totals": draft["stated_totals"],
        "records": [
            {k: r[k] for k in ("uid", "category", "decision", "data")} for r in draft["records"]
        ],
    }
    body.update(changes)
    return body


def decide_all(body: dict[str, Any], decision: str = "accepted") -> dict[str, Any]:
    for record in body["records"]:
        if record["decision"] == "pending":
            record["decision"] = decision
    return body
