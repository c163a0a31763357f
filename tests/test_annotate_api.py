"""The annotation app's JSON API on a real uvicorn server on 127.0.0.1: the token, Host and
Origin checks, drafts and their version check, validation by the pipeline's models, gold
files written atomically, read-only reports and report ids that are not file names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from annotate_app import Files, RunningApp, decide_all, draft_body, edit_lines, make_files

from llm_extract.errors import InputError
from llm_extract.evaluation.gold import load_gold_file
from llm_extract.reporting.annotate import store as store_module
from llm_extract.reporting.annotate.audit import AUDIT_FILE
from llm_extract.reporting.annotate.store import GoldStore, atomic_write_text


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return make_files(tmp_path)


@pytest.fixture
def running(files: Files) -> Iterator[RunningApp]:
    with RunningApp(files) as app:
        yield app


def _text(files: Files, report_id: str) -> str:
    return (files.reports / f"{report_id}.txt").read_text(encoding="utf-8")


def _record(payload: dict[str, Any], uid: str) -> dict[str, Any]:
    return next(r for r in payload["draft"]["records"] if r["uid"] == uid)


# --- access ---------------------------------------------------------------------------------


def test_every_api_call_needs_the_token(running: RunningApp) -> None:
    base = running.server.base_url
    with httpx.Client(base_url=base, timeout=10) as anonymous:
        for method, path in [
            ("GET", "/api/reports"),
            ("GET", "/api/schema"),
            ("GET", "/api/reports/month_116"),
            ("PUT", "/api/reports/month_116/draft"),
            ("POST", "/api/reports/month_116/done"),
            ("DELETE", "/api/reports/month_116/draft"),
            ("GET", "/api/reports/month_116/find?q=x"),
            ("GET", "/"),
        ]:
            answer = anonymous.request(method, path, json={"version": 0})
            assert answer.status_code == 403, (method, path)
            assert answer.json()["error"] == "forbidden"
        wrong = anonymous.get("/api/reports", headers={"X-Annotate-Token": "not-the-token"})
        assert wrong.status_code == 403
        # A token in the query opens the page, not the API.
        assert anonymous.get(f"/api/reports?token={running.token}").status_code == 403
        page = anonymous.get(f"/?token={running.token}")
        assert page.status_code == 200 and "static/app.js" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "no-referrer"
        bearer = anonymous.get("/api/reports", headers={"Authorization": f"Bearer {running.token}"})
        assert bearer.status_code == 200
        assert anonymous.get("/static/app.js").status_code == 200
    assert not running.files.gold.joinpath("month_116.json").exists()
    assert not list(running.store.drafts_dir.iterdir())


def test_other_sites_and_rebound_names_are_refused(running: RunningApp) -> None:
    # DNS rebinding: a page of another site resolving to 127.0.0.1 sends its own Host.
    evil_host = running.client.get("/api/reports", headers={"Host": "evil.example:80"})
    assert evil_host.status_code == 403
    # CSRF: a request made by another site's page carries its Origin.
    body = draft_body(running.report("month_116"))
    evil_origin = running.client.put(
        "/api/reports/month_116/draft", json=body, headers={"Origin": "http://evil.example"}
    )
    assert evil_origin.status_code == 403
    cross = running.client.get("/api/reports", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    own = running.client.get("/api/reports", headers={"Origin": running.server.base_url})
    assert own.status_code == 200
    localhost = running.client.get(
        "/api/reports", headers={"Host": f"localhost:{running.server.port}"}
    )
    assert localhost.status_code == 200


# --- reading --------------------------------------------------------------------------------


def test_list_and_report_payload(running: RunningApp) -> None:
    listing = running.client.get("/api/reports").json()
    assert [r["report_id"] for r in listing["reports"]] == ["month_116", "item_convoy_walid"]
    assert all(r["status"] == "todo" for r in listing["reports"])
    assert listing["progress"] == {
        "total": 2,
        "todo": 2,
        "in_progress": 0,
        "done": 0,
        "read_only": 0,
    }
    payload = running.report("month_116")
    text = _text(running.files, "month_116")
    assert payload["text"] == text and not payload["read_only"]
    # The highlight segments cut the text without losing a character.
    assert "".join(piece for piece, _ in payload["segments"]) == text
    draft = payload["draft"]
    assert draft["version"] == 0 and draft["base"] == "model"
    assert [r["category"] for r in draft["records"]].count("drills") == 3
    first = draft["records"][0]
    assert first["uid"] == "convoys-0" and first["decision"] == "pending"
    assert first["summary"][0] == "ground"
    start, end = first["data"]["evidence_start"], first["data"]["evidence_end"]
    assert text[start:end] == first["data"]["evidence"]
    covered = [uids for piece, uids in payload["segments"] if piece == text[start:end]]
    assert covered == [["convoys-0"]]
    assert payload["period"] == {"start": "2024-04-23", "end": "2024-05-22"}
    assert running.client.get("/api/reports/nope").status_code == 404


def test_schema_describes_the_edit_controls(running: RunningApp) -> None:
    schema = running.client.get("/api/schema").json()
    strikes = {f["name"]: f for f in schema["records"]["strikes"]}
    assert strikes["kind"]["kind"] == "enum" and "airstrike" in strikes["kind"]["options"]
    assert strikes["date"]["kind"] == "date" and strikes["date"]["nullable"]
    assert strikes["count"]["kind"] == "integer"
    assert strikes["evidence"]["kind"] == "evidence"
    assert strikes["targets"]["kind"] == "objects"
    assert [f["name"] for f in strikes["casualties"]["fields"]][:3] == [
        "party",
        "killed",
        "injured",
    ]
    drills = {f["name"]: f for f in schema["records"]["drills"]}
    assert drills["participants"]["kind"] == "list"
    assert drills["participants"]["item"]["kind"] == "enum"
    assert drills["live_fire"]["kind"] == "boolean" and drills["live_fire"]["nullable"]
    convoys = {f["name"]: f for f in schema["records"]["convoys"]}
    assert convoys["dates"]["item"]["kind"] == "date"
    assert convoys["approximate"] == {
        **convoys["approximate"],
        "kind": "boolean",
        "nullable": False,
    }
    report = {f["name"]: f for f in schema["report"]}
    assert report["coalition_month"]["kind"] == "integer"
    assert [f["name"] for f in report["stated_totals"]["fields"]] == [
        "drills",
        "attacks",
        "airstrikes",
        "operations",
    ]
    assert schema["colours"]["strikes"].startswith("#")


def test_find_matches_after_normalisation(running: RunningApp) -> None:
    text = _text(running.files, "month_116")
    # Typed without hamza and with a ta marbuta written as ha: still found.
    found = running.client.get(
        "/api/reports/month_116/find", params={"q": "اسقطت الدفاعات الجويه"}
    ).json()
    ((start, end),) = found["matches"]
    assert text[start:end] == "أسقطت الدفاعات الجوية"
    several = running.client.get("/api/reports/month_116/find", params={"q": "قاعدة"}).json()
    assert len(several["matches"]) >= 3
    assert running.client.get("/api/reports/month_116/find", params={"q": " "}).json() == {
        "matches": []
    }


# --- saving ---------------------------------------------------------------------------------


def test_saving_a_draft_keeps_decisions_and_bumps_the_version(running: RunningApp) -> None:
    body = draft_body(running.report("month_116"))
    body["records"][0]["decision"] = "accepted"
    body["records"][1]["decision"] = "rejected"
    answer = running.put("month_116", body)
    assert answer.status_code == 200, answer.text
    saved = answer.json()
    assert saved["draft"]["version"] == 1 and saved["report"]["status"] == "in_progress"
    again = running.report("month_116")
    assert _record(again, "convoys-0")["decision"] == "accepted"
    assert _record(again, "convoys-1")["decision"] == "rejected"
    on_disk = json.loads(running.store.draft_path("month_116").read_text(encoding="utf-8"))
    assert on_disk["version"] == 1
    listing = running.client.get("/api/reports").json()
    assert listing["reports"][0]["status"] == "in_progress"
    assert listing["reports"][0]["pending"] == len(body["records"]) - 2


def test_a_second_tab_gets_a_conflict_instead_of_overwriting(running: RunningApp) -> None:
    payload = running.report("month_116")
    first_tab = draft_body(payload)
    second_tab = draft_body(payload)
    first_tab["records"][0]["decision"] = "rejected"
    assert running.put("month_116", first_tab).status_code == 200
    second_tab["records"][0]["decision"] = "accepted"
    conflict = running.put("month_116", second_tab)
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "conflict"
    assert "another tab" in conflict.json()["message"]
    assert _record(running.report("month_116"), "convoys-0")["decision"] == "rejected"
    # "done" carries the version too.
    assert running.done("month_116", 0).status_code == 409


def _invalid(answer: httpx.Response) -> list[dict[str, Any]]:
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid"
    errors: list[dict[str, Any]] = answer.json()["errors"]
    return errors


def test_invalid_edits_are_refused_with_the_field_path(running: RunningApp) -> None:
    before = running.report("month_116")
    body = draft_body(before)
    body["records"][0]["data"]["vehicles"] = -5
    (error,) = _invalid(running.put("month_116", body))
    assert error["uid"] == "convoys-0" and error["index"] == 0 and error["category"] == "convoys"
    assert error["path"] == "vehicles"
    assert "greater than or equal to 0" in error["message"]

    body = draft_body(before)
    body["records"][2]["data"]["evidence"] = "نص لا يرد في التقرير أبدا"
    (error,) = _invalid(running.put("month_116", body))
    assert error["path"] == "evidence" and "does not occur in the report" in error["message"]

    body = draft_body(before)
    strike = next(r for r in body["records"] if r["category"] == "strikes")
    strike["data"]["targets"] = [{"name": "حقل العمر", "count": "كثير"}]
    (error,) = _invalid(running.put("month_116", body))
    assert error["path"] == "targets.0.count"

    body = draft_body(before, coalition_month=0, stated_totals={"drills": "three"})
    errors = _invalid(running.put("month_116", body))
    assert {e["path"] for e in errors} == {"coalition_month", "stated_totals.drills"}
    assert all(e["uid"] is None for e in errors)

    body = draft_body(before)
    body["records"][1]["decision"] = "rejected"
    body["records"][1]["data"]["mode"] = "sea"
    (error,) = _invalid(running.put("month_116", body))
    assert error["uid"] == "convoys-1" and error["path"] == "mode"

    body = draft_body(before)
    del body["records"][0]
    (error,) = _invalid(running.put("month_116", body))
    assert error["uid"] == "convoys-0" and "reject it instead" in error["message"]

    body = draft_body(before)
    body["records"].append({"uid": None, "category": "drills", "decision": "accepted", "data": {}})
    errors = _invalid(running.put("month_116", body))
    assert {(e["index"], e["path"]) for e in errors} == {(len(body["records"]) - 1, "evidence")}

    bad_json = running.client.put(
        "/api/reports/month_116/draft",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400
    # Nothing was saved by any of these.
    assert not running.store.draft_path("month_116").exists()
    assert running.report("month_116")["draft"] == before["draft"]


def test_an_edit_is_validated_like_the_pipeline(running: RunningApp) -> None:
    text = _text(running.files, "month_116")
    body = draft_body(running.report("month_116"))
    drill = next(r for r in body["records"] if r["category"] == "drills")
    drill["data"]["date"] = "2021-05-04"  # outside the period: kept as typed, with a warning
    evidence = "تدريب على صد هجوم بري"
    at = text.index(evidence)
    body["records"].append(
        {
            "uid": None,
            "category": "arrests",
            "decision": "accepted",
            "data": {
                "evidence": evidence,
                "evidence_start": at,
                "evidence_end": at + len(evidence),
                "detained": 2,
            },
        }
    )
    saved = running.put("month_116", body).json()
    drills = [r for r in saved["draft"]["records"] if r["category"] == "drills"]
    assert drills[0]["data"]["date"] == "2021-05-04"
    assert drills[0]["warnings"] == [
        {
            "path": "date",
            "message": "2021-05-04 is outside the report's period 2024-04-23 – 2024-05-22",
        }
    ]
    assert "drills[0].date: 2021-05-04 is outside" in " ".join(saved["flags"])
    assert drills[0]["edited"] and drills[0]["decision"] == "pending"
    added = [r for r in saved["draft"]["records"] if r["origin"] == "added"]
    assert [(r["uid"], r["category"]) for r in added] == [("added-1", "arrests")]
    assert added[0]["data"]["evidence_start"] == at and added[0]["data"]["detained"] == 2


def test_the_selected_occurrence_of_an_evidence_is_kept(running: RunningApp) -> None:
    text = _text(running.files, "month_116")
    word = "قاعدة الشدادي"
    first = text.index(word)
    second = text.index(word, first + 1)
    body = draft_body(running.report("month_116"))
    body["records"].append(
        {
            "uid": None,
            "category": "drills",
            "decision": "accepted",
            "data": {"evidence": word, "evidence_start": second, "evidence_end": second + 13},
        }
    )
    saved = running.put("month_116", body).json()
    added = _record(saved, "added-1")
    assert (added["data"]["evidence_start"], added["data"]["evidence_end"]) == (second, second + 13)


def test_done_writes_a_gold_file_the_loader_accepts(running: RunningApp) -> None:
    files = running.files
    payload = running.report("month_116")
    pending = running.done("month_116", 0)
    assert pending.status_code == 422
    assert "not reviewed" in pending.json()["message"]
    assert len(pending.json()["errors"]) == len(payload["draft"]["records"])
    body = draft_body(payload)
    body["records"][1]["decision"] = "rejected"
    body["records"][0]["data"]["vehicles"] = 170
    body = decide_all(body)
    body["stated_totals"] = {**body["stated_totals"], "attacks": 1}
    version = running.put("month_116", body).json()["draft"]["version"]
    done = running.done("month_116", version)
    assert done.status_code == 200, done.text
    gold_path = files.gold / "month_116.json"
    assert done.json()["saved"] == str(gold_path)
    assert done.json()["report"]["status"] == "done"
    text = _text(files, "month_116")
    gold = load_gold_file(gold_path, text)
    assert gold.report_id == "month_116" and gold.coalition_month == 116
    assert [c.vehicles for c in gold.convoys] == [170]  # the air convoy was rejected
    assert len(gold.drills) == 3 and gold.stated_totals.attacks == 1
    document = json.loads(gold_path.read_text(encoding="utf-8"))
    annotation = document["annotation"]
    assert annotation["source"] == {
        "path": str(files.reports / "month_116.txt"),
        "sha256": payload["source"]["sha256"],
        "text_key": payload["source"]["text_key"],
    }
    assert annotation["model"] == "rules" and annotation["started_from"] == "model"
    assert "period" not in document and "flags" not in document
    # The corrections are in the audit log beside the gold.
    lines = [json.loads(x) for x in (files.gold / AUDIT_FILE).read_text("utf-8").splitlines()]
    actions = {(x["category"], x["record"], x["field"]): x["action"] for x in lines}
    assert actions[("convoys", "convoys-1", None)] == "rejected"
    assert actions[("convoys", "convoys-0", "vehicles")] == "corrected"
    assert actions[("convoys", "convoys-0", "mode")] == "kept"
    assert actions[("report", None, "stated_totals.attacks")] == "corrected"
    corrected = next(x for x in lines if x["field"] == "vehicles")
    assert (corrected["model_value"], corrected["value"]) == (160, 170)
    assert {x["report_id"] for x in lines} == {"month_116"}
    listing = running.client.get("/api/reports").json()
    assert listing["progress"]["done"] == 1


def test_reopening_resumes_and_an_existing_gold_file_is_the_start(files: Files) -> None:
    with RunningApp(files) as app:
        body = decide_all(draft_body(app.report("item_convoy_walid")))
        version = app.put("item_convoy_walid", body).json()["draft"]["version"]
        assert app.done("item_convoy_walid", version).status_code == 200
        body = draft_body(app.report("month_116"))
        body["records"][0]["decision"] = "rejected"
        assert app.put("month_116", body).status_code == 200
    with RunningApp(files) as app:  # the app started again: drafts are resumed
        statuses = {
            r["report_id"]: r["status"] for r in app.client.get("/api/reports").json()["reports"]
        }
        assert statuses == {"month_116": "in_progress", "item_convoy_walid": "done"}
        assert _record(app.report("month_116"), "convoys-0")["decision"] == "rejected"
        # Without its draft, a report with a gold file starts from that file.
        gone = app.client.request(
            "DELETE", "/api/reports/item_convoy_walid/draft", json={"version": 2}
        )
        assert gone.status_code == 200
        fresh = gone.json()
        assert fresh["draft"]["base"] == "gold" and fresh["draft"]["version"] == 0
        assert fresh["report"]["status"] == "done"
        assert all(
            r["decision"] == "accepted" and r["origin"] == "gold" for r in fresh["draft"]["records"]
        )
        assert "started from the existing gold file" in fresh["notes"]
        # The gold file changes on disk (edited by hand): it is not overwritten.
        gold_path = files.gold / "item_convoy_walid.json"
        hand_made = gold_path.read_text(encoding="utf-8").replace(
            '"approximate": false', '"approximate": true', 1
        )
        gold_path.write_text(hand_made, encoding="utf-8")
        shown = fresh["draft"]["gold_sha256"]
        refused = app.done("item_convoy_walid", 0, gold_sha256=shown)
        assert refused.status_code == 409 and "changed on disk" in refused.json()["message"]
        assert app.put("item_convoy_walid", draft_body(fresh)).status_code == 409
        assert gold_path.read_text(encoding="utf-8") == hand_made
        # A draft saved before the change is refused at "done" as well.
        again = app.report("item_convoy_walid")
        version = app.put("item_convoy_walid", draft_body(again)).json()["draft"]["version"]
        gold_path.write_text(hand_made.replace("true", "false", 1), encoding="utf-8")
        later = app.report("item_convoy_walid")
        assert any("changed on disk" in note for note in later["notes"])
        refused = app.done("item_convoy_walid", version)
        assert refused.status_code == 409 and "changed on disk" in refused.json()["message"]


def test_a_blank_start_shows_no_model_record(files: Files) -> None:
    with RunningApp(files, blank=True) as app:
        payload = app.report("item_convoy_walid")
        assert payload["draft"]["base"] == "blank" and payload["draft"]["records"] == []
        text = _text(files, "item_convoy_walid")
        evidence = "دخل رتل عسكري جديد للتحالف الدولي مؤلف من 45 شاحنة"
        at = text.index(evidence)
        body = draft_body(payload)
        body["records"] = [
            {
                "uid": None,
                "category": "convoys",
                "decision": "accepted",
                "data": {
                    "mode": "ground",
                    "evidence": evidence,
                    "evidence_start": at,
                    "evidence_end": at + len(evidence),
                },
            }
        ]
        version = app.put("item_convoy_walid", body).json()["draft"]["version"]
        assert app.done("item_convoy_walid", version).status_code == 200
    gold = json.loads((files.gold / "item_convoy_walid.json").read_text(encoding="utf-8"))
    assert gold["annotation"]["started_from"] == "blank" and len(gold["convoys"]) == 1


# --- atomic writes ----------------------------------------------------------------------------


def test_a_failure_mid_write_leaves_no_partial_gold_file(
    running: RunningApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = running.files
    body = decide_all(draft_body(running.report("item_convoy_walid")))
    version = running.put("item_convoy_walid", body).json()["draft"]["version"]

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module.os, "fsync", disk_full)
    failed = running.done("item_convoy_walid", version)
    monkeypatch.undo()
    assert failed.status_code == 500
    assert "No space left on device" in failed.json()["message"]
    assert sorted(p.name for p in files.gold.iterdir()) == [".annotate"]  # no gold, no temp file
    report = running.report("item_convoy_walid")
    assert report["report"]["status"] == "in_progress" and report["draft"]["version"] == version
    assert running.done("item_convoy_walid", version).status_code == 200
    assert load_gold_file(files.gold / "item_convoy_walid.json", _text(files, "item_convoy_walid"))


CRASH = """
import os, sys
from pathlib import Path
from llm_extract.reporting.annotate import store
def crash(fd):
    os._exit(9)  # the process dies between writing the temporary file and renaming it
store.os.fsync = crash
store.atomic_write_text(Path(sys.argv[1]), "new content, never seen\\n")
"""


def test_a_crash_mid_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    folder = tmp_path / "gold"
    folder.mkdir()
    target = folder / "gold.json"
    target.write_text('{"old": true}\n', encoding="utf-8")
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH, str(target)], capture_output=True, timeout=60, check=False
    )
    assert crashed.returncode == 9, crashed.stderr
    assert target.read_text(encoding="utf-8") == '{"old": true}\n'
    leftovers = [p.name for p in folder.iterdir() if p.name != "gold.json"]
    assert leftovers and all(
        name.startswith(".gold.json.") and name.endswith(".tmp") for name in leftovers
    )
    atomic_write_text(target, "replaced\n")
    assert target.read_text(encoding="utf-8") == "replaced\n"


# --- hostile or unusable inputs ---------------------------------------------------------------


@pytest.mark.parametrize("report_id", ["../escape", "a/b", ".hidden", "..", "x" * 300])
def test_report_ids_that_are_not_file_names_stay_read_only(tmp_path: Path, report_id: str) -> None:
    files = make_files(tmp_path / "work", ids=["item_convoy_walid"])
    edit_lines(files.out, lambda line: {**line, "report_id": report_id})
    with RunningApp(files) as app:
        (entry,) = app.client.get("/api/reports").json()["reports"]
        assert entry["status"] == "read_only"
        assert "cannot be a gold file name" in entry["reason"]
        body = {"version": 0, "records": []}
        quoted = httpx.URL(app.server.base_url).copy_with(
            raw_path=b"/api/reports/" + report_id.replace("/", "%2F").encode() + b"/draft"
        )
        answer = app.client.put(quoted, json=body)
        assert answer.status_code in (404, 409)
        answer = app.client.post(
            httpx.URL(app.server.base_url).copy_with(
                raw_path=b"/api/reports/" + report_id.replace("/", "%2F").encode() + b"/done"
            ),
            json={"version": 0},
        )
        assert answer.status_code in (404, 409)
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["gold", "out.jsonl", "reports"]
    assert sorted(p.name for p in files.gold.iterdir()) == [".annotate"]
    assert not list((files.gold / ".annotate" / "drafts").iterdir())
    with pytest.raises(InputError, match="cannot be a gold file name"):
        GoldStore(files.gold).gold_path(report_id)


def test_a_missing_or_changed_text_is_read_only_with_the_reason(files: Files) -> None:
    (files.reports / "month_116.txt").write_text(
        _text(files, "month_116") + "\nسطر أضيف بعد الاستخراج.\n", encoding="utf-8"
    )
    (files.reports / "item_convoy_walid.txt").unlink()
    with RunningApp(files) as app:
        listing = {r["report_id"]: r for r in app.client.get("/api/reports").json()["reports"]}
        assert listing["month_116"]["status"] == "read_only"
        assert "sha256 differs" in listing["month_116"]["reason"]
        assert listing["item_convoy_walid"]["status"] == "read_only"
        assert "not found" in listing["item_convoy_walid"]["reason"]
        payload = app.report("month_116")
        assert payload["read_only"] and payload["text"] is None
        assert len(payload["draft"]["records"]) == 7  # the records are still shown
        refused = app.put("month_116", draft_body(payload))
        assert refused.status_code == 409 and refused.json()["error"] == "read_only"
        assert app.done("month_116", 0).status_code == 409
    assert not (files.gold / "month_116.json").exists()


def test_a_broken_or_stale_draft_is_read_only_until_dropped(files: Files) -> None:
    with RunningApp(files) as app:
        body = draft_body(app.report("month_116"))
        body["records"][0]["decision"] = "rejected"
        assert app.put("month_116", body).status_code == 200
        draft_path = app.store.draft_path("month_116")
        saved = json.loads(draft_path.read_text(encoding="utf-8"))
        draft_path.write_text(
            json.dumps({**saved, "source": {**saved["source"], "sha256": "0" * 64}}),
            encoding="utf-8",
        )
        stale = app.report("month_116")
        assert stale["read_only"] and "made on another text" in stale["reason"]
        assert app.put("month_116", draft_body(stale)).status_code == 409
        draft_path.write_text("{broken", encoding="utf-8")
        broken = app.report("month_116")
        assert broken["read_only"] and "the draft is broken" in broken["reason"]
        dropped = app.client.request("DELETE", "/api/reports/month_116/draft", json={"version": 0})
        assert dropped.status_code == 200
        fresh = dropped.json()
        assert not fresh["read_only"] and fresh["draft"]["version"] == 0
        assert not draft_path.exists()


def test_gold_store_checks_that_the_folder_can_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be written"):
        GoldStore(blocker).check_writable()
    with pytest.raises(InputError, match="cannot be written"):
        GoldStore(blocker / "gold").check_writable()
    fine = GoldStore(tmp_path / "new" / "gold")
    fine.check_writable()
    assert fine.drafts_dir.is_dir()
    assert not [p for p in fine.root.iterdir() if p.name != ".annotate"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_gold_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "gold"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(InputError, match="cannot be written"):
            GoldStore(folder).check_writable()
    finally:
        folder.chmod(0o700)
