"""The HTML report of a run: content, and that headless Chromium renders it."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from eval_samples import answer, gold_items

from llm_extract.evaluation.html_report import chart, render_html, write_html
from llm_extract.evaluation.runner import assemble_run, score_configuration
from llm_extract.evaluation.runs import Run
from llm_extract.results import ExtractionResult, PromptInfo, SourceInfo
from llm_extract.schemas import ReportExtraction


def make_run(tmp_path: Path) -> Run:
    """Two configurations: 'exact' (the gold) and 'sloppy' (a drill missing, a spurious
    strike, a wrong convoy count)."""
    items = gold_items(tmp_path / "set")
    configurations = []
    for label in ("exact", "sloppy"):
        results = []
        for item in items:
            rid = item.report.report_id
            data = answer(rid, drop_second_drill=label == "sloppy")
            if label == "sloppy" and rid == "t1":
                data["convoys"][0]["vehicles"] = 40
                data["strikes"] = [{"kind": "shelling", "evidence": "قاعدة خراب الجير"}]
            results.append(
                ExtractionResult(
                    report_id=rid,
                    source=SourceInfo(path=item.report.path, sha256=item.report.sha256),
                    prompt=PromptInfo(name=label, hash="f" * 64),
                    model="m",
                    status="ok",
                    extraction=ReportExtraction.model_validate(
                        data, context={"source": item.report.text, "report_id": rid}
                    ),
                )
            )
        info = PromptInfo(name=label, hash="f" * 64)
        configurations.append(score_configuration(label, "m", info, items, results))
    return assemble_run(items, configurations, {"command": "llm-extract eval"})


def test_page_content(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    html = render_html(run)
    assert html.startswith("<!DOCTYPE html>")
    assert 'id="results"' in html and 'id="chart"' in html and 'id="comparisons"' in html
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    # one bar per configuration per metric (4 categories + overall)
    assert html.count("<rect ") == 2 * 5 == len(chart(run)["bars"])
    assert html.count('<tr class="missed">') == 1  # t1's second drill, sloppy only
    assert html.count('<tr class="spurious">') == 1  # the shelling invented in t1
    assert html.count('<tr class="matched">') == 6 + 5  # 6 gold records, 1 missed by sloppy
    assert 'class="wrong"' in html  # the convoy's vehicles
    assert "قاعدة خراب الجير" in html and 'dir="auto"' in html
    assert run.comparisons[0].verdict in html


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return int(width), int(height)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run does)")
@pytest.mark.timeout(180)
def test_chromium_renders_the_page(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    page = write_html(make_run(tmp_path), tmp_path)
    flags = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    png = tmp_path / "page.png"
    shot = subprocess.run(
        [*flags, f"--screenshot={png}", "--window-size=1280,2000", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert png.is_file(), shot.stderr[-2000:]
    assert png.stat().st_size > 20_000  # a blank page is a few kilobytes
    assert _png_size(png) == (1280, 2000)
    dom = subprocess.run(
        [*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert 'id="results"' in dom.stdout
    assert "sloppy" in dom.stdout and "exact" in dom.stdout
    assert "tag missed" in dom.stdout and "tag spurious" in dom.stdout
    assert "حقل العمر" in dom.stdout
