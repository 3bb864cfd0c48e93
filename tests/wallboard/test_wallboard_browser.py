"""The built-in wallboard in a real browser (Debian's chromium) against a running centre.

With OKNO_SCREENSHOTS=1 the test refreshes docs/img/wallboard.png; otherwise the screenshot
goes to the test's temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from services.auth.models import Role
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.router.live import live_key, read_live
from services.supervision.wallboard import board
from tests.conftest import TokenFactory
from tests.support.browser import DOC_IMAGES, chromium, needs_chromium, refresh_screenshots
from tests.wallboard.centre import DID, running_centre, simulate_traffic, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    needs_chromium,
]


async def test_the_wallboard_shows_the_centre_live(
    settings: Settings, tmp_path: Path, token_for: TokenFactory
) -> None:
    async with running_centre(settings, tmp_path) as centre, httpx.AsyncClient(timeout=10) as http:
        supervision = centre.services["supervision"]
        token = await token_for(Role.SUPERVISOR)
        reply = await http.post(
            f"{supervision}/supervision/wallboard/key",
            headers={"Authorization": f"Bearer {token}"},
        )
        link = f"{supervision}{reply.json()['url']}"
        await simulate_traffic(centre)

        async def calm() -> bool:  # the five callers answered and their talks over
            board = await live_board(centre.settings)
            return board["answered_today"] >= 5 and board["agents"]["ready"] == 2

        await wait_for(calm, within=90)
        # Now both operators take endless calls and three more callers have to wait.
        for seat in ("op1001", "op1002"):
            centre.pbx.set_operator(seat, answers_after=0.5, hangs_up_after=None)
        for n in range(5):
            centre.pbx.control.inject_call(did=DID, caller=f"+7913111000{n}")

        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1920, "height": 1080})
            await page.goto(link)
            await expect(page.locator("#waiting")).to_have_text("3", timeout=30_000)
            await expect(page.locator("#busy")).to_have_text("2")
            await expect(page.locator("#ready")).to_have_text("0")
            await expect(page.locator("#abandoned")).to_have_text("1")
            await expect(page.locator("#emergency")).to_be_hidden()
            await expect(page.locator("#topics tr")).to_have_count(1)  # only "general" staffed
            await expect(page.locator("#topics tr").first).to_contain_text("Общие вопросы")
            shot = tmp_path / "wallboard.png"
            await page.screenshot(path=str(shot))
    if refresh_screenshots():
        shutil.copyfile(shot, DOC_IMAGES / "wallboard.png")


async def live_board(settings: Settings) -> dict[str, Any]:
    """What the wallboard shows now, from the router's live state."""
    client = create_redis(settings.redis_url or "")
    try:
        return board(await read_live(client, live_key(settings.stream_prefix())))
    finally:
        await client.aclose()
