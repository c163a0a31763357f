"""The annotation app's promises across processes: two ``annotate`` servers on one gold
folder accept exactly one change per draft version (the folder's lock), a process killed with
SIGKILL at any point of "done" never leaves a report stuck (the next reader finishes or undoes
it, and a later "done" works), and the temporary files of killed writers are removed when the
app starts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from annotate_app import Files, RunningApp, decide_all, draft_body, make_files
from processes import default_sigint

from llm_extract.errors import AnnotationConflict, InputError
from llm_extract.evaluation.gold import load_gold_file
from llm_extract.reporting.annotate.audit import AUDIT_FILE
from llm_extract.reporting.annotate.store import GoldStore

CLI = [sys.executable, "-c", "from llm_extract.cli import main; main()"]
REPORT = "item_convoy_walid"


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return make_files(tmp_path)


@contextmanager
def annotate_process(files: Files) -> Iterator[httpx.Client]:
    """``llm-extract annotate`` in a process of its own; a client with its URL and token."""
    command = [*CLI, "annotate", str(files.out), "--gold-dir", str(files.gold), "--no-browser"]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    ) as process:
        assert process.stdout is not None
        try:
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:"), process.stderr and process.stderr.read()
            base, token = url.split("/?token=")
            limits = httpx.Limits(max_connections=40)
            with httpx.Client(
                base_url=base, headers={"X-Annotate-Token": token}, timeout=60, limits=limits
            ) as client:
                yield client
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=30)


def _at_once(calls: list[Any]) -> list[int]:
    """Run ``calls`` (each returns an httpx response) together; their status codes."""
    start = threading.Barrier(len(calls))

    def run(call: Any) -> int:
        start.wait()
        status: int = call().status_code
        return status

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _audit_snapshots(gold: Path) -> Counter[str]:
    lines = (gold / AUDIT_FILE).read_text(encoding="utf-8").splitlines()
    return Counter(json.loads(line)["done"] for line in lines)


def test_two_processes_accept_one_change_per_version(files: Files) -> None:
    with ExitStack() as stack:
        first = stack.enter_context(annotate_process(files))
        second = stack.enter_context(annotate_process(files))
        payload = first.get(f"/api/reports/{REPORT}").json()
        body = decide_all(draft_body(payload))
        for version in range(3):
            body["version"] = version
            calls = [
                (lambda c=client: c.put(f"/api/reports/{REPORT}/draft", json=body))
                for client in (first, second) * 20
            ]
            statuses = Counter(_at_once(calls))
            assert statuses == {200: 1, 409: 39}, (version, statuses)
        calls = [
            (lambda c=client: c.post(f"/api/reports/{REPORT}/done", json={"version": 3}))
            for client in (first, second) * 20
        ]
        assert Counter(_at_once(calls)) == {200: 1, 409: 39}
        for client in (first, second):
            shown = client.get(f"/api/reports/{REPORT}").json()
            assert shown["report"]["status"] == "done" and shown["draft"]["version"] == 4
    assert len(_audit_snapshots(files.gold)) == 1
    text = (files.reports / f"{REPORT}.txt").read_text(encoding="utf-8")
    assert load_gold_file(files.gold / f"{REPORT}.json", text).convoys


# --- a process killed during "done" ---------------------------------------------------------

CRASH = """
import os, signal, sys
from pathlib import Path
from llm_extract.reporting.annotate import audit, session, store
from llm_extract.reporting.annotate.inputs import annotation_results

out, gold, report_id, version, point = sys.argv[1:]


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def then_die(owner, name):
    original = getattr(owner, name)

    def wrapped(*args, **kwargs):
        original(*args, **kwargs)
        die()

    setattr(owner, name, wrapped)


if point == "before-gold":
    store.GoldStore.write_gold = die
elif point == "gold-renamed":  # the gold file written, the draft not yet
    then_die(store.GoldStore, "write_gold")
elif point == "gold-temporary":  # killed between the gold's temporary file and its rename
    real_replace = os.replace
    def replace(src, dst):
        if str(dst).endswith(report_id + ".json") and ".annotate" not in str(dst):
            die()
        real_replace(src, dst)
    store.os.replace = replace
elif point == "audit-written":
    then_die(audit, "append_lines")
workspace = session.Workspace(
    annotation_results(out), store.GoldStore(gold), base=Path(out).parent
)
workspace.done(report_id, {"version": int(version)})
sys.exit(3)  # never reached
"""


def _crash_during_done(files: Files, version: int, point: str) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", CRASH, str(files.out), str(files.gold), REPORT, str(version), point],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr


@pytest.mark.parametrize(
    ("point", "written"),
    [
        ("before-gold", False),
        ("gold-temporary", False),
        ("gold-renamed", True),
        ("audit-written", True),
    ],
)
def test_a_kill_during_done_never_leaves_the_report_stuck(
    files: Files, point: str, written: bool
) -> None:
    with RunningApp(files) as app:
        saved = app.put(REPORT, decide_all(draft_body(app.report(REPORT))))
        assert saved.status_code == 200, saved.text
        version = saved.json()["draft"]["version"]
    _crash_during_done(files, version, point)
    assert (files.gold / f"{REPORT}.json").exists() is written
    if point == "gold-temporary":
        assert [p.name for p in files.gold.glob(f".{REPORT}.json.*.tmp")]

    with RunningApp(files) as app:  # the app starts again on the same folder
        leftovers = [p.name for p in files.gold.rglob("*.tmp")]
        assert leftovers == []
        shown = app.report(REPORT)
        if written:  # the gold file is the one being written: "done" is finished
            assert shown["report"]["status"] == "done"
            assert shown["draft"]["version"] == version + 1
            assert shown["notes"] == []
        else:  # nothing was written: the draft is as it was
            assert shown["report"]["status"] == "in_progress"
            assert shown["draft"]["version"] == version
        # A later "done" works (after an edit for a report already done).
        current = shown["draft"]["version"]
        if written:
            again = app.put(REPORT, draft_body(shown))
            assert again.status_code == 200, again.text
            current = again.json()["draft"]["version"]
        finished = app.done(REPORT, current)
        assert finished.status_code == 200, finished.text
        assert finished.json()["report"]["status"] == "done"
    text = (files.reports / f"{REPORT}.txt").read_text(encoding="utf-8")
    assert load_gold_file(files.gold / f"{REPORT}.json", text).convoys
    snapshots = _audit_snapshots(files.gold)
    assert len(snapshots) == (2 if written else 1)
    assert len(set(snapshots.values())) == 1, snapshots  # no snapshot logged twice or cut
    draft = json.loads((files.gold / ".annotate" / "drafts" / f"{REPORT}.json").read_text())
    assert draft["finishing"] is None


# --- the lock itself --------------------------------------------------------------------------

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(120)
"""


def test_a_change_waits_for_the_other_process(files: Files) -> None:
    with RunningApp(files) as app:
        body = decide_all(draft_body(app.report(REPORT)))
        app.store.lock.wait_s = 0.3
        with subprocess.Popen(
            [sys.executable, "-c", HOLD, str(app.store.lock.path)],
            stdout=subprocess.PIPE,
            text=True,
        ) as holder:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            try:
                refused = app.put(REPORT, body)
                assert refused.status_code == 409 and "held" in refused.json()["message"]
                with pytest.raises(AnnotationConflict):
                    app.workspace.done(REPORT, {"version": 0})
            finally:
                holder.kill()
        assert app.put(REPORT, body).status_code == 200
        assert app.report(REPORT)["draft"]["version"] == 1


def test_the_lock_is_never_taken_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    gold = tmp_path / "gold"
    (gold / ".annotate").mkdir(parents=True)
    os.symlink(victim, gold / ".annotate" / "lock")
    with pytest.raises(InputError, match="symbolic link"):
        GoldStore(gold).check_writable()
    assert victim.read_text(encoding="utf-8") == "keep me\n"
