"""The dataset in Datasette, served on 127.0.0.1 by the app ``db serve`` builds: the search
normalises Arabic ("الحسكة" finds "الحسكه"), and, in the system's headless Chromium, a table
is faceted by governorate and searched for an Arabic word."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dataset_helpers import copy_gold, copy_reports

from llm_extract.dataset.browse import build_datasette
from llm_extract.dataset.schema import open_store
from llm_extract.dataset.store import add_gold
from llm_extract.reporting.annotate.server import ThreadedServer, bind

pytest.importorskip("datasette")

# A news item of our own, with the governorate spelled with ه (as many sites write it).
VARIANT_TEXT = "الحسكه – أجرت قوات التحالف وقسد في 6 آب 2024 تدريباً قرب مدينة الحسكه.\n"
VARIANT_EVIDENCE = "أجرت قوات التحالف وقسد في 6 آب 2024 تدريباً قرب مدينة الحسكه"
IDS = ["links_ghwayran_arrests_0120", "links_omar_drones_1007"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    reports = tmp_path / "reports"
    copy_reports(reports, IDS)
    gold = copy_gold(tmp_path / "gold", IDS)
    (reports / "variant.txt").write_text(VARIANT_TEXT, encoding="utf-8")
    drill = {
        "date": "2024-08-06",
        "location": "الحسكه",
        "participants": ["International Coalition", "SDF"],
        "evidence": VARIANT_EVIDENCE,
    }
    (gold / "variant.json").write_text(json.dumps({"drills": [drill]}), encoding="utf-8")
    path = tmp_path / "events.db"
    db = open_store(path)
    assert add_gold(db, gold, [reports]).corrections == 3
    db.close()
    datasette = build_datasette(path)
    try:
        with ThreadedServer(datasette.app(), bind("127.0.0.1", 0)) as server:
            yield f"{server.base_url}/events"
    finally:
        datasette.executor.shutdown(wait=True)


def test_search_normalises_arabic(served: str) -> None:
    with httpx.Client(timeout=20) as client:
        found = client.get(
            f"{served}/records.json",
            params={"_search": "الحسكة", "_shape": "array", "_col": "evidence"},
        ).json()
        assert VARIANT_EVIDENCE in [row["evidence"] for row in found]
        # The canned query normalises in SQL (ar_norm) the same way.
        canned = client.get(
            f"{served}/search_evidence.json", params={"q": "الحسكة", "_shape": "array"}
        ).json()
        assert VARIANT_EVIDENCE in [row["evidence"] for row in canned]
        # The metadata: table descriptions and the facets.
        page = client.get(f"{served}/events")
        assert "One row per real event" in page.text
        facets = client.get(f"{served}/events.json").json()["facet_results"]
        assert {"category", "governorate", "month"} <= set(facets)


playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_facet_by_governorate_and_search_in_chromium(served: str) -> None:
    assert CHROMIUM is not None
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{served}/records")
            # Facet by governorate: the facet's link for Hasakah narrows the table to it.
            page.locator(
                ".facet-info[data-column='governorate'] a", has_text="Hasakah"
            ).first.click()
            page.wait_for_url("**governorate=Hasakah**")
            cells = page.locator("td.col-governorate").all_inner_texts()
            assert cells and set(cells) == {"Hasakah"}
            # Search for an Arabic word as the analyst types it, with ة.
            page.goto(f"{served}/records")
            page.fill("input#_search", "الحسكة")
            page.locator("input#_search").press("Enter")
            page.wait_for_url("**_search=**")
            evidence = page.locator("td.col-evidence").all_inner_texts()
            assert VARIANT_EVIDENCE in evidence
        finally:
            browser.close()
