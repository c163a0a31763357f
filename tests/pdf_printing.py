"""PDFs printed by headless Chromium (Debian's, through Playwright; no browser download)."""

from __future__ import annotations

import html
import shutil
from collections.abc import Mapping

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's)"
)


def report_html(text: str, title: str, *, font: str = "Noto Naskh Arabic") -> str:
    """An Arabic page holding ``text``, one paragraph per line, as a report would be printed."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line)
    return (
        f'<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body style=\"font-family: '{font}', serif; font-size: 14px\">{paragraphs}</body></html>"
    )


def print_pdfs(pages: Mapping[str, str]) -> dict[str, bytes]:
    """``{name: html}`` -> ``{name: pdf bytes}``, each page printed by Chromium."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None
    out: dict[str, bytes] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless"]
        )
        try:
            page = browser.new_page()
            for name, markup in pages.items():
                page.set_content(markup)
                out[name] = page.pdf(format="A4")
        finally:
            browser.close()
    return out
