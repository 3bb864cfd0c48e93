"""A whole centre for the browser tests: fake PBX, bridge (voice menus on), router, the HTTP
services the workspace calls, the workspace itself, and Debian's chromium driven by Playwright.

Playwright's async API runs in the tests' own (session-scoped) event loop, the same loop that
serves the apps, so nothing blocks it; the sync API or pytest-playwright would need a loop of
their own. Everything here stays in tests/workspace.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fakepbx.pbx import FakePbx, PbxOptions
from services.appointments import schedule
from services.appointments.schemas import ScheduleIn
from services.apps import build_app
from services.auth.models import Role, User
from services.common.db import create_engine, session_factory, transaction
from services.common.settings import Settings
from services.directory import service as directory
from services.directory.schemas import AgencyIn, Interval
from services.knowledge.demo_seed import seed_knowledge
from services.workspace.models import OperatorSeat
from tests.conftest import PASSWORD, UserFactory
from tests.e2e.test_call_flow import centre
from tests.e2e.test_voice_menus import FLOWS_DIR
from tests.support.browser import DOC_IMAGES, chromium, refresh_screenshots
from tests.support.servers import serve_app

SPEED = 4.0
WRAP_UP_SECONDS = 30
BACKENDS = ("directory", "knowledge", "appointments", "complaints", "supervision", "callbacks")
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class Centre:
    settings: Settings
    pbx: FakePbx
    url: str  # the workspace
    urls: dict[str, str]  # the other services
    municipality: str  # where the test office takes bookings
    sessions: async_sessionmaker[AsyncSession]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU")
    tab = await context.new_page()
    yield tab
    await context.close()


async def _office(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> str:
    """An MFC office in a municipality of its own, open every day, taking passport bookings."""
    code = f"ws-{secrets.token_hex(4)}"
    municipality = f"Город {code}"
    hours = {day: [Interval(open=dt.time(0), close=dt.time(23, 59))] for day in WEEK}
    async with transaction(sessions) as session:
        await directory.save_agency(
            session,
            AgencyIn(
                code=code,
                name=f"МФЦ «Мои документы» {code}",
                kind="mfc",
                municipality=municipality,
                address="Кемерово, пр. Тестовый, 1",
                phones=["+73842000000"],
                hours=hours,
                services=["passport-rf"],
            ),
        )
        await schedule.save_schedule(
            session,
            office_code=code,
            data=ScheduleIn(slot_minutes=15, windows=3, durations={"passport-rf": 30}),
            now=dt.datetime.now(settings.tz),
        )
    return municipality


@pytest.fixture(scope="module")
async def ws_centre(
    settings: Settings, seeded: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    folder = tmp_path_factory.mktemp("workspace-centre")
    engine = create_engine(settings.database_url or "", pool_size=2)
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        await seed_knowledge(session)
    async with FakePbx.start(options=PbxOptions(speed=SPEED, default_sound_seconds=0.4)) as pbx:
        for seat in pbx.options.operators:
            pbx.register(seat)
        router_config = folder / "router.yaml"
        router_config.write_text(
            f"default_topic:\n  wrap_up_seconds: {WRAP_UP_SECONDS}\n", encoding="utf-8"
        )
        bridge_config = folder / "bridge.yaml"
        centre_settings = settings.model_copy(
            update={
                "centre_id": f"ws-{secrets.token_hex(4)}",
                "ari_url": f"{pbx.ari_url}/ari",
                "ami_port": pbx.ami_port,
                "bridge_config": bridge_config,
                "router_config": router_config,
            }
        )
        database_url, redis_url = settings.database_url or "", settings.redis_url or ""
        async with AsyncExitStack() as stack:
            urls = {
                name: await stack.enter_async_context(
                    serve_app(
                        build_app(
                            name, centre_settings, database_url=database_url, redis_url=redis_url
                        )
                    )
                )
                for name in BACKENDS
            }
            bridge_config.write_text(
                f"menus: true\n"
                f"ivr_folder: {FLOWS_DIR}\n"
                f"sounds_dir: {folder / 'sounds'}\n"
                f"knowledge_url: {urls['knowledge']}\n"
                f"timer_scale: {1 / SPEED}\n",
                encoding="utf-8",
            )
            workspace = build_app(
                "workspace", centre_settings, database_url=database_url, redis_url=redis_url
            )
            workspace.state.service_urls = urls
            url = await stack.enter_async_context(serve_app(workspace))
            municipality = await _office(sessions, centre_settings)
            await stack.enter_async_context(centre(centre_settings))
            yield Centre(centre_settings, pbx, url, urls, municipality, sessions)
        assert pbx.errors == []
    await engine.dispose()


SeatedUser = Callable[[Role, str], Awaitable[str]]


@pytest.fixture(scope="module")
async def seated(make_user: UserFactory, ws_centre: Centre) -> SeatedUser:
    """A staff user with a seat at the router (agent id) and skills in every topic."""

    async def make(role: Role, agent_id: str) -> str:
        username = await make_user(role)
        async with transaction(ws_centre.sessions) as session:
            user = (await session.scalars(select(User).where(User.username == username))).one()
            skills = dict.fromkeys(("general", "mfc", "social", "passports", "complaints"), 3)
            session.add(
                OperatorSeat(user_id=user.id, agent_id=agent_id, skills=skills, languages={"ru": 5})
            )
        return username

    return make


async def log_in(page: Page, centre: Centre, username: str) -> None:
    await page.goto(f"{centre.url}/login")
    await page.get_by_label("Имя пользователя").fill(username)
    await page.get_by_label("Пароль").fill(PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await page.wait_for_url(lambda url: not url.endswith("/login"))


Screenshot = Callable[[Page, str], Awaitable[None]]


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Screenshot:
    """Save a screen as workspace-NAME.png (see DOC_IMAGES)."""
    folder = DOC_IMAGES if refresh_screenshots() else tmp_path_factory.mktemp("screens")

    async def take(page: Page, name: str) -> None:
        await page.screenshot(path=str(folder / f"workspace-{name}.png"))

    return take
