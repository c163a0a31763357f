"""The annotation page end to end in headless Chromium (the system's, through Playwright's
``executable_path``; no browser is downloaded), against the real app on 127.0.0.1: reject,
an invalid edit refused on its field and fixed, a missed record added by selecting its text,
done, reload, the gold file loaded and scored; and both real reports corrected and saved with
the keyboard alone."""

from __future__ import annotations

import io
import json
import shutil
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from annotate_app import (
    PAGES,
    Files,
    RunningApp,
    edit_lines,
    extract_rules,
    make_files,
    make_page_files,
)
from paths import REPORTS_DIR, SEED_IDS, SEEDS, requires_seeds
from PIL import Image
from typer.testing import CliRunner

from llm_extract.cli import app as cli_app
from llm_extract.evaluation.gold import load_gold_file
from llm_extract.reporting.annotate.server import open_browser
from llm_extract.reporting.view import CATEGORY_COLOURS

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)

MISSED = "15 أيار، تدريب بالذخيرة الحية في قاعدة الشدادي"
SHORTER = "وفي 2 أيار، أسقطت الدفاعات الجوية للتحالف طائرة مسيرة"


@contextmanager
def browser_page() -> Iterator[Any]:
    """A page of a fresh headless Chromium. Playwright's sync API runs an event loop of its
    own: the CLI commands that run one (extract, eval) are invoked outside this block."""
    assert CHROMIUM is not None
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1400, "height": 950}, locale="en-US")
        try:
            tab = context.new_page()
            errors: list[str] = []
            tab.on("pageerror", lambda error: errors.append(str(error)))
            # The page must work under its own Content-Security-Policy (no inline code).
            tab.on(
                "console",
                lambda msg: errors.append(msg.text) if "Refused to" in msg.text else None,
            )
            yield tab
            assert not errors, errors
        finally:
            context.close()
            browser.close()


def _open(page: Any, running: RunningApp) -> None:
    page.goto(running.url)
    page.wait_for_selector("html[data-ready='1']")
    assert page.get_attribute("html", "data-errors") is None


def _idle(page: Any) -> None:
    page.wait_for_selector("html[data-busy='0']")


def _row(page: Any, category: str, index: int) -> Any:
    return page.locator(f'[data-testid="record"][data-category="{category}"][data-index="{index}"]')


def _drag_select(page: Any, phrase: str) -> None:
    """Select ``phrase``, which starts a line, with the mouse as an analyst does: from the
    line's start (its right end: the text is right to left) to the phrase's last letter."""
    points = page.evaluate(
        """(phrase) => {
            const box = document.querySelector('[data-testid="text"]');
            const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
            const nodes = []; let node; let all = "";
            while ((node = walker.nextNode())) { nodes.push([node, all.length]); all += node.data; }
            const start = all.indexOf(phrase);
            function rect(offset) {
                for (const [n, base] of nodes) {
                    if (offset < base + n.data.length) {
                        const r = document.createRange();
                        r.setStart(n, offset - base); r.setEnd(n, offset - base + 1);
                        return r.getBoundingClientRect();
                    }
                }
            }
            const first = rect(start), last = rect(start + phrase.length - 1);
            return {x1: box.getBoundingClientRect().right - 8, y1: first.top + first.height / 2,
                    x2: last.left + 1, y2: last.top + last.height / 2};
        }""",
        phrase,
    )
    page.mouse.move(points["x1"], points["y1"])
    page.mouse.down()
    page.mouse.move(points["x2"], points["y2"], steps=8)
    page.mouse.up()


def _colour_pixels(png: bytes, colour: str, tolerance: int = 6) -> int:
    want = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    return int((np.abs(pixels - want).max(axis=2) <= tolerance).sum())


@pytest.fixture
def files(tmp_path: Path) -> Files:
    made = make_files(tmp_path)

    def miss_a_drill(line: dict[str, Any]) -> dict[str, Any]:
        if line["report_id"] == "month_116":  # as if the model had missed the third drill
            drills = line["extraction"]["drills"]
            line["extraction"]["drills"] = [
                d for d in drills if not d["evidence"].startswith(MISSED)
            ]
            assert len(line["extraction"]["drills"]) == len(drills) - 1
        return line

    edit_lines(made.out, miss_a_drill)
    return made


def test_correct_a_report_in_the_browser(files: Files, tmp_path: Path) -> None:
    with RunningApp(files) as running, browser_page() as page:
        _open(page, running)
        items = page.locator('[data-testid="report-item"]')
        assert items.count() == 2
        assert page.locator('[data-testid="report-title"]').inner_text() == "month_116"
        assert page.locator('[data-testid="shortcuts"]').inner_text().count("accept") >= 1

        # The page draws the text with the records highlighted in their category's colour.
        text_png = page.locator('[data-testid="text"]').screenshot()
        assert _colour_pixels(text_png, CATEGORY_COLOURS["convoys"]) > 500
        assert _colour_pixels(text_png, CATEGORY_COLOURS["drills"]) > 500
        assert page.locator("mark.hl").count() >= 6

        # Reject the air convoy.
        _row(page, "convoys", 1).locator('[data-testid="reject"]').click()
        _idle(page)
        assert _row(page, "convoys", 1).get_attribute("data-decision") == "rejected"

        # Edit the ground convoy to an invalid value: refused on the field, nothing saved.
        _row(page, "convoys", 0).locator('[data-testid="edit"]').click()
        page.locator('[data-testid="field-vehicles"]').fill("-5")
        page.locator('[data-testid="apply-edit"]').click()
        _idle(page)
        error = page.locator('[data-testid="field-error"][data-path="vehicles"]')
        assert "greater than or equal to 0" in error.inner_text()
        assert (
            page.locator('[data-testid="field-vehicles"]').get_attribute("aria-invalid") == "true"
        )
        assert running.report("month_116")["draft"]["records"][0]["data"]["vehicles"] == 160
        # Fixed, it is saved.
        page.locator('[data-testid="field-vehicles"]').fill("165")
        page.locator('[data-testid="apply-edit"]').click()
        _idle(page)
        assert page.locator('[data-testid="editor"]').count() == 0
        assert _row(page, "convoys", 0).get_attribute("data-edited") == "1"
        assert "165" in _row(page, "convoys", 0).inner_text()

        # The missed drill: select its text, add a record, choose the category, fill it in.
        _drag_select(page, MISSED)
        page.locator('[data-testid="add-record"]').click()
        assert MISSED in page.locator('[data-testid="chooser"]').inner_text()
        page.locator('[data-testid="category-drills"]').click()
        assert page.locator('[data-testid="field-evidence"]').inner_text() == MISSED
        page.locator('[data-testid="field-date"]').fill("2024-05-15")
        page.locator('[data-testid="field-location"]').fill("قاعدة الشدادي")
        page.locator('[data-testid="field-governorate"]').select_option("Hasakah")
        page.locator('[data-testid="field-participants.International Coalition"]').check()
        page.locator('[data-testid="field-participants.SDF"]').check()
        page.locator('[data-testid="field-live_fire"]').select_option("true")
        page.locator('[data-testid="apply-edit"]').click()
        _idle(page)
        added = _row(page, "drills", 2)
        assert added.get_attribute("data-origin") == "added"
        assert MISSED in added.inner_text()

        # A shorter quote for the strike: select it, press v.
        _row(page, "strikes", 0).click()
        _drag_select(page, SHORTER)
        page.keyboard.press("v")
        _idle(page)
        strike = _row(page, "strikes", 0)
        assert strike.locator(".ev").inner_text() == SHORTER
        assert strike.get_attribute("data-edited") == "1"

        # The month and the stated totals: an invalid month is refused on its field.
        page.locator('[data-testid="edit-report"]').click()
        page.locator('[data-testid="field-coalition_month"]').fill("0")
        page.locator('[data-testid="field-stated_totals.attacks"]').fill("0")
        page.locator('[data-testid="apply-edit"]').click()
        _idle(page)
        error = page.locator('[data-testid="field-error"][data-path="coalition_month"]')
        assert "between 1 and 600" in error.inner_text()
        page.locator('[data-testid="field-coalition_month"]').fill("116")
        page.locator('[data-testid="apply-edit"]').click()
        _idle(page)
        assert "attacks 0" in page.locator('[data-testid="report-values"]').inner_text()

        # The rest is right: accept it, and mark the report done.
        page.locator('[data-testid="accept-all"]').click()
        _idle(page)
        assert page.locator('[data-testid="record"][data-decision="pending"]').count() == 0
        page.locator('[data-testid="save-report"]').click()
        _idle(page)
        assert "Saved" in page.locator('[data-testid="message"]').inner_text()
        gold_path = files.gold / "month_116.json"
        assert gold_path.is_file()
        # The page moved on to the next report to do.
        assert page.locator('[data-testid="report-title"]').inner_text() == "item_convoy_walid"
        page.locator('[data-testid="next-report"]').click()
        _idle(page)
        assert page.locator('[data-testid="report-title"]').inner_text() == "month_116"

        # Reloaded, the page finds the state kept.
        page.reload()
        page.wait_for_selector("html[data-ready='1']")
        assert page.locator('[data-testid="report-title"]').inner_text() == "month_116"
        done = page.locator('[data-testid="report-item"][data-report-id="month_116"]')
        assert done.get_attribute("data-status") == "done"
        assert page.locator('[data-testid="report-status"]').get_attribute("data-status") == "done"
        assert _row(page, "convoys", 1).get_attribute("data-decision") == "rejected"
        assert "165" in _row(page, "convoys", 0).inner_text()
        assert _row(page, "drills", 2).get_attribute("data-origin") == "added"
        assert "1 of 2 reports done" in page.locator('[data-testid="progress"]').inner_text()

    # The saved file is gold: it loads, and eval and score run on it.
    text = (files.reports / "month_116.txt").read_text(encoding="utf-8")
    gold = load_gold_file(gold_path, text)
    assert [(c.mode.value, c.vehicles) for c in gold.convoys] == [("ground", 165)]
    missed = gold.drills[2]
    assert text[missed.evidence_start or 0 : missed.evidence_end] == MISSED
    assert (str(missed.date), missed.live_fire, missed.governorate) == (
        "2024-05-15",
        True,
        "Hasakah",
    )
    assert [a.value for a in missed.participants] == ["International Coalition", "SDF"]
    assert gold.strikes[0].evidence == SHORTER and gold.stated_totals.attacks == 0
    scored = CliRunner().invoke(
        cli_app,
        ["score", str(files.out), "--gold", str(files.gold), "--reports", str(files.reports),
         "--json"],
    )  # fmt: skip
    assert scored.exit_code == 0, scored.output
    micro = json.loads(scored.stdout)["rules"]["micro"]
    assert (micro["convoys"]["tp"], micro["convoys"]["fp"]) == (1, 1)  # the rejected air convoy
    assert (micro["drills"]["tp"], micro["drills"]["fn"]) == (2, 1)  # the drill it missed
    runs = tmp_path / "runs"
    evaluated = CliRunner().invoke(
        cli_app,
        ["eval", "--model", "rules", "--gold", str(files.gold), "--reports", str(files.reports),
         "--runs-dir", str(runs), "--no-html"],
    )  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    (run,) = runs.glob("*/run.json")
    assert json.loads(run.read_text(encoding="utf-8"))["config"]["report_ids"] == ["month_116"]


# --- the two real reports, keyboard only -------------------------------------------------------


def _press(page: Any, *keys: str) -> None:
    """Press each key and wait for the page to finish what it started."""
    for key in keys:
        page.keyboard.press(key)
        _idle(page)


def _focused(page: Any) -> str | None:
    value: str | None = page.evaluate(
        "document.activeElement && document.activeElement.getAttribute('data-testid')"
    )
    return value


def _tab_to(page: Any, testid: str, limit: int = 120) -> None:
    """Move the focus with Tab alone until it is on the control ``testid``."""
    for _ in range(limit):
        if _focused(page) == testid:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {testid} (at {_focused(page)})")


def _active(page: Any) -> tuple[str | None, str | None]:
    row = page.locator('[data-testid="record"].active')
    return row.get_attribute("data-uid"), row.get_attribute("data-decision")


@requires_seeds
def test_a_typed_date_outside_the_period_is_kept_and_shown_with_a_warning(
    files: Files,
) -> None:
    """Issue 18: a drill date typed as 2019 in a report of 2024 is saved as typed (never moved
    to the period's year), and the page says so on the record and on the field."""
    with RunningApp(files) as running, browser_page() as page:
        _open(page, running)
        _row(page, "drills", 0).locator('[data-testid="edit"]').click()
        page.locator('[data-testid="field-date"]').fill("2019-05-04")
        page.locator('[data-testid="apply-edit"]').click()
        _idle(page)
        saved = running.report("month_116")["draft"]["records"]
        drill = next(r for r in saved if r["category"] == "drills")
        assert drill["data"]["date"] == "2019-05-04"
        shown = page.locator('[data-testid="message"]').inner_text()
        assert "Record saved." in shown and "2019-05-04 is outside the report's period" in shown
        warning = _row(page, "drills", 0).locator('[data-testid="record-warning"]')
        assert warning.get_attribute("data-path") == "date"
        assert "2024-04-23 – 2024-05-22" in warning.inner_text()
        _row(page, "drills", 0).locator('[data-testid="edit"]').click()
        assert page.locator('[data-testid="field-date"]').input_value() == "2019-05-04"
        field = page.locator('[data-testid="field-warning"][data-path="date"]')
        assert "outside the report's period" in field.inner_text()


@requires_seeds
def test_both_real_reports_corrected_with_the_keyboard_only(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    extract_rules([SEEDS / f"{seed}.txt" for seed in SEED_IDS], out)
    files = Files(out=out, reports=SEEDS, gold=tmp_path / "gold")
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    first, second = (r["extraction"] for r in results)
    missed = first["drills"][-1]["evidence"]  # rejected, then added again with a shorter quote
    with RunningApp(files) as running, browser_page() as page:
        _open(page, running)
        assert page.locator('[data-testid="report-title"]').inner_text() == SEED_IDS[0]
        assert _active(page) == ("convoys-0", "pending")

        # convoys-0: an invalid number is refused on its field, then corrected.
        _press(page, "e")
        _tab_to(page, "field-vehicles")
        _press(page, "Control+a")
        page.keyboard.type("-1")
        _press(page, "Control+Enter")
        error = page.locator('[data-testid="field-error"][data-path="vehicles"]')
        assert "greater than or equal to 0" in error.inner_text()
        assert _focused(page) == "field-vehicles"
        _press(page, "Control+a")
        page.keyboard.type("210")
        _press(page, "Control+Enter")
        assert page.locator('[data-testid="editor"]').count() == 0
        # Accepting moves on to the next record to review.
        assert _active(page) == ("convoys-1", "pending")
        _press(page, "a")
        for index in range(len(first["drills"]) - 1):
            assert _active(page) == (f"drills-{index}", "pending")
            _press(page, "a")
        last = f"drills-{len(first['drills']) - 1}"
        assert _active(page) == (last, "pending")
        _press(page, "r")
        assert (
            page.locator(f'[data-testid="record"][data-uid="{last}"]').get_attribute(
                "data-decision"
            )
            == "rejected"
        )

        # The rejected drill, added again from a selection made with the keyboard:
        # find its first words, then extend the selection with shift+arrows.
        _press(page, "/")
        assert _focused(page) == "find"
        page.keyboard.type(missed[:20])
        _press(page, "Enter")
        assert _focused(page) == "text"
        for _ in range(12):
            page.keyboard.press("Shift+ArrowLeft")  # right to left: the left arrow goes forward
        selected = page.evaluate("getSelection().toString()").strip()  # the page trims it
        assert missed.startswith(selected) and len(selected) > 25
        _press(page, "n")
        assert selected in page.locator('[data-testid="chooser"]').inner_text()
        _press(page, "2")  # drills
        assert page.locator('[data-testid="field-evidence"]').inner_text() == selected
        assert _focused(page) == "field-date_text"  # the date as written, then the date
        _tab_to(page, "field-date")
        page.keyboard.type("07182024")
        _tab_to(page, "field-location")
        page.keyboard.type("قاعدة تل بيدر")
        _tab_to(page, "field-governorate")
        page.keyboard.type("Hasakah")
        _tab_to(page, "field-participants.International Coalition")
        _press(page, "Space")
        _tab_to(page, "field-participants.SDF")
        _press(page, "Space")
        _tab_to(page, "field-live_fire")
        page.keyboard.type("yes")
        _press(page, "Control+Enter")
        added = page.locator('[data-testid="record"][data-origin="added"]')
        assert added.count() == 1 and added.get_attribute("data-category") == "drills"

        # The remaining records, then a stated total, then done.
        while page.locator('[data-testid="record"][data-decision="pending"]').count():
            _press(page, "a")
        _press(page, "m")
        _tab_to(page, "field-stated_totals.attacks")
        page.keyboard.type("0")
        _press(page, "Control+Enter")
        assert "attacks 0" in page.locator('[data-testid="report-values"]').inner_text()
        page.screenshot(path=str(tmp_path / "first.png"))
        _press(page, "D")
        assert "Saved" in page.locator('[data-testid="message"]').inner_text()

        # The second report opened by itself; a nested value corrected, the rest accepted.
        assert page.locator('[data-testid="report-title"]').inner_text() == SEED_IDS[1]
        while _active(page)[0] != "strikes-0":
            _press(page, "j")
        _press(page, "e")
        _tab_to(page, "field-casualties.0.injured")
        page.keyboard.type("30")
        _press(page, "Control+Enter")
        while page.locator('[data-testid="record"][data-decision="pending"]').count():
            _press(page, "a")
        _press(page, "D")
        assert "Every report is done" in page.locator('[data-testid="message"]').inner_text()
        assert "2 of 2 reports done" in page.locator('[data-testid="progress"]').inner_text()

    # The look of the page, once: text highlighted in the category colours.
    assert _colour_pixels((tmp_path / "first.png").read_bytes(), CATEGORY_COLOURS["drills"]) > 2000

    golds = {
        seed: load_gold_file(files.gold / f"{seed}.json", seed_text_of(seed)) for seed in SEED_IDS
    }
    one, two = golds[SEED_IDS[0]], golds[SEED_IDS[1]]
    assert one.convoys[0].vehicles == 210 and one.stated_totals.attacks == 0
    assert len(one.drills) == len(first["drills"])
    readded = one.drills[-1]
    assert readded.evidence == selected and str(readded.date) == "2024-07-18"
    assert readded.governorate is not None and readded.governorate.value == "Hasakah"
    assert readded.live_fire is True and [a.value for a in readded.participants] == [
        "International Coalition",
        "SDF",
    ]
    assert two.strikes[0].casualties[0].injured == 30
    assert len(two.strikes) == len(second["strikes"])

    runner = CliRunner()
    scored = runner.invoke(
        cli_app,
        ["score", str(out), "--gold", str(files.gold), "--reports", str(SEEDS), "--json"],
    )
    assert scored.exit_code == 0, scored.output
    micro = json.loads(scored.stdout)["rules"]["micro"]
    assert micro["overall"]["fn"] == 0 and micro["overall"]["fp"] == 0  # every record matched
    evaluated = runner.invoke(
        cli_app,
        ["eval", "--model", "rules", "--gold", str(files.gold), "--reports", str(SEEDS),
         "--runs-dir", str(tmp_path / "runs"), "--no-html"],
    )  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    stats = runner.invoke(
        cli_app, ["annotate", str(out), "--gold-dir", str(files.gold), "--stats", "--json"]
    )
    assert stats.exit_code == 0, stats.output
    figures = json.loads(stats.stdout)
    assert figures["reports"] == list(SEED_IDS)
    convoys, drills = figures["categories"]["convoys"], figures["categories"]["drills"]
    assert (convoys["corrected"], convoys["fields"]["vehicles"]["corrected"]) == (1, 1)
    assert (drills["rejected"], drills["added"]) == (1, 1)
    assert figures["categories"]["strikes"]["fields"]["casualties"]["corrected"] == 1
    assert figures["report_fields"]["stated_totals.attacks"]["corrected"] == 1
    total = sum(
        len(e[c]) for e in (first, second) for c in ("convoys", "drills", "strikes", "arrests")
    )
    assert sum(c["model_records"] for c in figures["categories"].values()) == total


def seed_text_of(seed: str) -> str:
    return (SEEDS / f"{seed}.txt").read_text(encoding="utf-8")


def test_reports_from_dated_pages_show_their_own_title(tmp_path: Path) -> None:
    """Reports extracted from saved news pages carry a title and a publication date: each
    opens with its own id, title and date (the app once answered 500 for them and the page
    went on showing the previous report); a report the server cannot answer for leaves
    nothing of the previous one on screen."""
    files = make_page_files(tmp_path)
    with RunningApp(files) as running, browser_page() as page:
        page.goto(running.url + "#r=month_116")
        page.wait_for_selector("html[data-ready='1']")
        title = page.locator('[data-testid="report-title"]')
        source = page.locator('[data-testid="report-source"]')
        assert title.inner_text() == "month_116"
        assert (
            source.inner_text() == f"{PAGES['month_116'][0]} · published 2024-05-23T10:00:00+03:00"
        )
        page.locator(
            '[data-testid="report-item"][data-report-id="item_convoy_walid"] button'
        ).click()
        _idle(page)
        assert title.inner_text() == "item_convoy_walid"
        assert source.inner_text() == f"{PAGES['item_convoy_walid'][0]} · published 2024-05-30"
        assert page.locator('[data-testid="message"]').inner_text() == ""
        assert page.locator('[data-testid="record"]').count() >= 1
        page.keyboard.press("A")
        _idle(page)
        page.keyboard.press("D")
        _idle(page)
        # done: the gold file is written and the next report to do opens, with its own title
        assert (files.gold / "item_convoy_walid.json").is_file()
        assert title.inner_text() == "month_116"
        assert source.inner_text().startswith(PAGES["month_116"][0])

        def refuse(route: Any) -> None:
            route.fulfill(
                status=500,
                content_type="application/json",
                body='{"error": "io", "message": "the disk is gone"}',
            )

        page.route("**/api/reports/item_convoy_walid", refuse)
        page.keyboard.press("]")
        _idle(page)
        assert page.locator("#report").is_hidden()
        assert page.locator("#empty").inner_text() == (
            "Could not open item_convoy_walid: the disk is gone (R tries again)."
        )
        active = page.locator('[data-testid="report-item"].active')
        assert active.get_attribute("data-report-id") == "item_convoy_walid"
        page.unroute("**/api/reports/item_convoy_walid")
        page.keyboard.press("R")
        _idle(page)
        assert title.inner_text() == "item_convoy_walid" and page.locator("#report").is_visible()
        status = page.locator('[data-testid="report-status"]')
        assert status.get_attribute("data-status") == "done"
    gold = json.loads((files.gold / "item_convoy_walid.json").read_text(encoding="utf-8"))
    assert gold["annotation"]["source"]["published"] == "2024-05-30"


HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"


def test_hostile_text_stays_text_and_unusable_reports_are_read_only(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    month = (REPORTS_DIR / "month_116.txt").read_text(encoding="utf-8")
    (reports / "month_116.txt").write_text(month + HOSTILE + "\n", encoding="utf-8")
    odd_id = "<img src=x onerror=alert(1)>"
    shutil.copy(REPORTS_DIR / "item_convoy_walid.txt", reports / "item_convoy_walid.txt")
    shutil.copy(REPORTS_DIR / "item_drone_conoco.txt", reports / f"{odd_id}.txt")
    out = tmp_path / "out.jsonl"
    extract_rules(sorted(reports.glob("*.txt")), out)
    (reports / "item_convoy_walid.txt").unlink()  # its text is gone since the extraction
    files = Files(out=out, reports=reports, gold=tmp_path / "gold")
    dialogs: list[str] = []
    with RunningApp(files) as running, browser_page() as page:
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(running.url + "#r=month_116")
        page.wait_for_selector("html[data-ready='1']")
        assert HOSTILE in page.locator('[data-testid="text"]').inner_text()
        assert page.locator("img, [data-testid='text'] script").count() == 0
        statuses = {
            item.get_attribute("data-report-id"): item.get_attribute("data-status")
            for item in page.locator('[data-testid="report-item"]').all()
        }
        assert statuses == {
            "month_116": "todo",
            "item_convoy_walid": "read_only",
            odd_id: "read_only",
        }
        page.locator(f'[data-testid="report-item"][data-report-id="{odd_id}"] button').click()
        _idle(page)
        assert page.locator('[data-testid="report-title"]').inner_text() == odd_id
        assert (
            "cannot be a gold file name" in page.locator('[data-testid="read-only"]').inner_text()
        )
        page.locator(
            '[data-testid="report-item"][data-report-id="item_convoy_walid"] button'
        ).click()
        _idle(page)
        assert "not found" in page.locator('[data-testid="read-only"]').inner_text()
        assert page.locator('[data-testid="record"]').count() == 1  # shown, not editable
        assert page.locator('[data-testid="accept"]').is_disabled()
        assert page.locator('[data-testid="save-report"]').is_disabled()
        page.keyboard.press("a")
        page.keyboard.press("D")
        _idle(page)
        assert page.title() == "llm-extract annotate"
        assert page.locator("img").count() == 0
    assert dialogs == []
    assert sorted(p.name for p in files.gold.iterdir()) == [".annotate"]


def test_the_browser_is_opened_through_a_private_redirect_file(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda uri: opened.append(uri) or True)
    with RunningApp(files) as running:
        redirect = open_browser(running.url)
        assert redirect is not None
        try:
            # Other local users can read a browser's command line: the token is not on it.
            assert opened == [redirect.as_uri()] and running.token not in opened[0]
            assert redirect.stat().st_mode & 0o077 == 0
            with browser_page() as page:
                page.goto(opened[0])
                page.wait_for_selector("html[data-ready='1']")
                assert page.url.startswith(running.url)
                assert page.locator('[data-testid="report-item"]').count() == 2
        finally:
            redirect.unlink()
