"""Debian's Chromium for the browser tests: one launch, one skip rule, one screenshot folder."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
#: Browser tests skip where Debian's chromium is missing (`.ci/run` installs it).
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"
)
#: Where documentation screenshots live; tests write there only with OKNO_SCREENSHOTS=1, so a
#: test run leaves the work tree as it was.
DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"


def refresh_screenshots() -> bool:
    return os.environ.get("OKNO_SCREENSHOTS") == "1"


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Headless Chromium (no sandbox: tests may run as root in a container)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()
