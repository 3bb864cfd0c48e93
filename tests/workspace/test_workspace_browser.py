"""The workspace in a real browser (Debian's chromium) against a whole centre: fake PBX, bridge
with the voice menus, router, the services, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select

from fakepbx.control import InjectedCall
from services.acd import events as r
from services.auth.models import Role, User
from services.common.audit import AuditEntry
from services.common.db import transaction
from services.common.redis_client import create_redis
from services.common.streams import Streams
from services.router.wire import EVENTS, ROUTER_LOG
from services.workspace.models import JournalEntry
from tests.conftest import PASSWORD, UserFactory
from tests.e2e.test_call_flow import tell_router, wait_for
from tests.e2e.test_voice_menus import MAIN_DID, Ear, ear, prompt
from tests.support.browser import needs_chromium
from tests.workspace.conftest import (
    WRAP_UP_SECONDS,
    Centre,
    Screenshot,
    SeatedUser,
    log_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration, needs_chromium]

#: R-level promise of the workspace: the card is on screen within 2 s of the router's offer.
CARD_WITHIN_MS = 2000


async def offers_to(centre: Centre, agent_id: str) -> list[str]:
    """Call ids the router has offered to an agent so far (from the router log)."""
    client = create_redis(centre.settings.redis_url or "")
    try:
        entries = await client.xrange(
            Streams(client, centre.settings.stream_prefix()).key(ROUTER_LOG)
        )
    finally:
        await client.aclose()
    found = []
    for _id, fields in entries:
        for output in json.loads(fields.get("outputs", "[]")):
            if output.get("type") == "ConnectAgent" and output.get("agent_id") == agent_id:
                found.append(output["call_id"])
    return found


async def alone(centre: Centre, agent_id: str) -> None:
    """Log every other seat of the module's centre out, so the next call is offered to this one."""
    others = [f"10{n:02d}" for n in range(1, 11) if f"10{n:02d}" != agent_id]
    await tell_router(centre.settings, *(r.AgentLoggedOut(other) for other in others))


async def call_to_mfc_operator(heard: Ear, centre: Centre, caller: str) -> InjectedCall:
    """A citizen calls, picks the MFC topic, hears the answers and asks for an operator."""
    call = centre.pbx.control.inject_call(did=MAIN_DID, caller=caller)
    await heard.hears(call, prompt("main", "topic_menu"))
    await centre.pbx.control.press(call.handset_id, "1")
    await heard.hears(call, prompt("main", "after_info"))
    await centre.pbx.control.press(call.handset_id, "0")
    return call


async def card_pops(page: Page, centre: Centre, agent_id: str, call: InjectedCall) -> None:
    async def offered() -> bool:
        return call.channel_id in await offers_to(centre, agent_id)

    await wait_for(offered, within=20.0)
    card = page.locator(f'#call-card[data-call-id="{call.channel_id}"]')
    await card.wait_for(state="visible", timeout=CARD_WITHIN_MS)


async def test_an_operator_serves_a_call_from_the_card_to_the_next_call(
    page: Page, ws_centre: Centre, seated: SeatedUser, screenshot: Screenshot
) -> None:
    centre = ws_centre
    centre.pbx.set_operator("op1001", answers_after=0.5, hangs_up_after=None)
    username = await seated(Role.OPERATOR, "1001")
    await log_in(page, centre, username)
    await expect(page).to_have_url(re.compile(r"/operator$"))
    await expect(page.locator("#state-name")).to_have_text("Не в системе")

    await page.keyboard.press("Alt+r")  # the "ready" button's access key
    await expect(page.locator("#state-name")).to_have_text("Готов")
    await screenshot(page, "operator-ready")
    await alone(centre, "1001")

    async with ear(centre.pbx) as heard:
        call = await call_to_mfc_operator(heard, centre, "+79130000031")
        await card_pops(page, centre, "1001", call)
        await expect(page.locator("#card-topic")).to_have_text("МФЦ")
        await expect(page.locator("#card-caller")).to_have_text("+79130000031")
        # The caller's choices under the menus' Russian names, never raw variable names.
        await expect(page.locator("#card-variables")).to_contain_text("Выбор темы")
        await expect(page.locator("#card-variables")).not_to_contain_text("choice_")
        await expect(page.locator("#state-name")).to_have_text("Разговор")
        # The call script, step by step: greeting first, then on to the next step.
        script = page.locator("#card-script")
        await expect(script).to_contain_text("Входящий звонок — общий сценарий")
        await expect(script.locator(".step:not([hidden]) .say")).to_contain_text("Здравствуйте")
        await script.get_by_role("button", name="Дальше →").click()
        await expect(script.locator(".step:not([hidden]) .say")).to_contain_text("Уточните")

        # A booking during the call.
        await page.keyboard.press("Alt+4")  # the "booking" tab
        await page.locator("#booking-service").fill("passport-rf")
        await page.locator("#booking-municipality").fill(centre.municipality)
        await page.get_by_role("button", name="Ближайшие слоты").click()
        booking = page.locator("#tab-booking")
        await booking.get_by_label("Имя").fill("Иванова Мария")
        await expect(booking.locator("input[name=phone]")).to_have_value("+79130000031")
        await booking.get_by_label("согласие на обработку данных получено").check()
        await booking.get_by_role("button", name="Записать").click()
        await expect(page.locator("#booking-result")).to_contain_text("Записан: код")

        # A complaint during the same call.
        await page.keyboard.press("Alt+5")  # the "complaint" tab
        complaint = page.locator("#tab-complaint")
        await expect(complaint.locator("input[name=phone]")).to_have_value("+79130000031")
        await complaint.get_by_label("Код услуги").fill("passport-rf")
        await complaint.get_by_label("Город или район").fill(centre.municipality)
        await complaint.get_by_label("Суть жалобы").fill("В МФЦ не работает электронная очередь.")
        await complaint.get_by_role("button", name="Зарегистрировать жалобу").click()
        await expect(page.locator("#complaint-result")).to_contain_text("Жалоба зарегистрирована")
        first = await page.locator("#complaint-result strong").inner_text()
        # A second complaint in the same call is a new one, not a repeat of the first.
        await complaint.get_by_label("Суть жалобы").fill("И талоны в МФЦ выдают с опозданием.")
        await complaint.get_by_role("button", name="Зарегистрировать жалобу").click()
        await expect(page.locator("#complaint-result strong")).not_to_have_text(first)
        await expect(page.locator("#complaint-result")).to_contain_text("Жалоба зарегистрирована")

        # The consultation in the journal, with the caller's satisfaction (R17).
        await page.keyboard.press("Alt+7")  # the "journal" tab
        journal = page.locator("#tab-journal")
        await journal.get_by_label("Содержание консультации").fill("Документы на паспорт, запись.")
        await journal.get_by_label("да").check()
        await journal.get_by_role("button", name="Записать в журнал").click()
        await expect(page.locator("#journal-result")).to_contain_text("записана в журнал")
        await page.keyboard.press("Alt+4")
        await screenshot(page, "operator-call")

        # The caller hangs up: wrap-up counts down.
        centre.pbx.control.hangup_handset(call.handset_id)
        await expect(page.locator("#state-name")).to_have_text("Обработка после вызова")
        await expect(script.locator(".step:not([hidden]) .say")).to_contain_text("Уточните")
        countdown = page.locator("#wrap-countdown")
        first = _seconds(await countdown.inner_text())
        assert 0 < first <= WRAP_UP_SECONDS
        await expect(countdown).not_to_have_text(await countdown.inner_text(), timeout=3000)
        assert _seconds(await countdown.inner_text()) < first
        await screenshot(page, "operator-wrapup")

        # The next caller waits while the operator wraps up; "done" offers them the call.
        following = await call_to_mfc_operator(heard, centre, "+79130000032")

        async def queued() -> bool:
            return await _waiting(centre, following.channel_id)

        await wait_for(queued, within=20.0)
        assert following.channel_id not in await offers_to(centre, "1001")
        await page.keyboard.press("Alt+d")
        await card_pops(page, centre, "1001", following)
        await expect(page.locator("#state-name")).to_have_text("Разговор")
        centre.pbx.control.hangup_handset(following.handset_id)
        await expect(page.locator("#state-name")).to_have_text("Обработка после вызова")
        await page.locator("#btn-done").click()
        await expect(page.locator("#state-name")).to_have_text("Готов")
        # The journal written after the call still belongs to it (and to its caller).
        await page.keyboard.press("Alt+7")
        written = await page.locator("#journal-result strong").inner_text()
        await journal.get_by_label("Содержание консультации").fill("Справка о записи к врачу.")
        await journal.get_by_label("да").check()
        await journal.get_by_role("button", name="Записать в журнал").click()
        await expect(page.locator("#journal-result strong")).not_to_have_text(written)
        await expect(page.locator("#journal-result")).to_contain_text("записана в журнал")

    async with centre.sessions() as session:
        views = await session.scalar(
            select(func.count()).where(
                AuditEntry.action == "workspace.call_card.view",
                AuditEntry.actor == username,
                AuditEntry.subject_id == call.channel_id,
            )
        )
        entry = await session.scalar(
            select(JournalEntry).where(JournalEntry.call_id == call.channel_id)
        )
        bookings = await session.scalar(
            select(func.count()).where(
                AuditEntry.action == "appointments.booking.create", AuditEntry.actor == username
            )
        )
    assert views and views >= 1
    assert (
        entry is not None
        and entry.satisfied
        and entry.caller == "+79130000031"
        and entry.topic == "mfc"
    )
    assert bookings == 1
    async with centre.sessions() as session:
        later = await session.scalar(
            select(JournalEntry).where(JournalEntry.call_id == following.channel_id)
        )
    assert later is not None and (later.caller, later.topic) == ("+79130000032", "mfc")


def _seconds(text: str) -> int:
    minutes, seconds = text.strip().split(":")
    return int(minutes) * 60 + int(seconds)


async def _waiting(centre: Centre, call_id: str) -> bool:
    """Whether the router has queued the call (a CallArrived in its log)."""
    client = create_redis(centre.settings.redis_url or "")
    try:
        entries = await client.xrange(
            Streams(client, centre.settings.stream_prefix()).key(ROUTER_LOG)
        )
    finally:
        await client.aclose()
    return any(
        fields.get("type") == "CallArrived" and json.loads(fields["body"]).get("call_id") == call_id
        for _id, fields in entries
    )


async def test_a_supervisor_switches_emergency_mode_and_the_next_caller_hears_it(
    page: Page, ws_centre: Centre, make_user: UserFactory, screenshot: Screenshot
) -> None:
    centre = ws_centre
    username = await make_user(Role.SUPERVISOR)
    await log_in(page, centre, username)
    await expect(page).to_have_url(re.compile(r"/supervisor$"))
    await expect(page.locator("#wallboard-link")).to_have_attribute("href", "/supervisor/wallboard")
    board = await page.request.get(f"{centre.url}/supervisor/wallboard")
    assert board.ok and board.url.startswith(f"{centre.urls['supervision']}/supervision/wallboard?")
    assert "табло контакт-центра" in await board.text()
    await page.locator("#emergency").check()
    await page.locator("#announcement").fill("Паводок: офисы МФЦ в Новокузнецке сегодня закрыты.")
    await page.keyboard.press("Alt+m")
    await expect(page.locator("#modes-result")).to_contain_text("Режим ЧС включён")
    await screenshot(page, "supervisor")
    try:
        async with ear(centre.pbx) as heard:
            call = centre.pbx.control.inject_call(did=MAIN_DID, caller="+79130000033")
            await heard.hears(call, prompt("main", "greeting"))
            centre.pbx.control.hangup_handset(call.handset_id)
        first, _following = heard.heard[call.channel_id][0]
        assert first == prompt("main", "emergency_intro")
    finally:
        await page.locator("#emergency").uncheck()
        await page.locator("#modes-form button[type=submit]").click()
        await expect(page.locator("#modes-result")).to_contain_text("Режим ЧС выключен")
    async with centre.sessions() as session:
        audited = await session.scalar(
            select(func.count()).where(
                AuditEntry.action == "supervision.modes", AuditEntry.actor == username
            )
        )
    assert audited == 2


async def test_an_operator_cannot_open_the_supervisor_console(
    page: Page, ws_centre: Centre, seated: SeatedUser
) -> None:
    username = await seated(Role.OPERATOR, "1003")
    await log_in(page, ws_centre, username)
    reply = await page.goto(f"{ws_centre.url}/supervisor")
    assert reply is not None and reply.status == 403
    await expect(page.locator("h1")).to_have_text("Нет доступа")
    assert (await page.request.get(f"{ws_centre.url}/supervisor/live")).status == 403
    await expect(page.locator("nav")).not_to_contain_text("Супервизор")


async def test_posts_without_the_sessions_csrf_token_are_refused_and_change_nothing(
    page: Page, ws_centre: Centre, seated: SeatedUser
) -> None:
    username = await seated(Role.OPERATOR, "1004")
    await log_in(page, ws_centre, username)
    before = await _events(ws_centre)
    form = {"action": "ready"}
    missing = await page.request.post(f"{ws_centre.url}/operator/state", form=form)
    forged = await page.request.post(
        f"{ws_centre.url}/operator/state", form={**form, "csrf": "0" * 64}
    )
    assert missing.status == 403 and forged.status == 403
    assert await _events(ws_centre) == before
    token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    accepted = await page.request.post(
        f"{ws_centre.url}/operator/state", form={**form, "csrf": token or ""}
    )
    assert accepted.status == 204 and await _events(ws_centre) == before + 2  # login + ready
    await page.get_by_role("button", name="Выйти", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    assert {"agent_id": "1004"} in await _router_events(ws_centre, "AgentLoggedOut")


async def test_a_login_form_without_its_cookie_is_refused(page: Page, ws_centre: Centre) -> None:
    reply = await page.request.post(
        f"{ws_centre.url}/login", form={"username": "x", "password": "y", "csrf": "z" * 40}
    )
    assert reply.status == 403


async def test_an_administrator_gives_an_operator_a_seat_and_skills(
    page: Page,
    ws_centre: Centre,
    make_user: UserFactory,
    seated: SeatedUser,
    screenshot: Screenshot,
) -> None:
    operator = await make_user(Role.OPERATOR)
    await seated(Role.OPERATOR, "1006")
    admin = await make_user(Role.ADMINISTRATOR)
    await log_in(page, ws_centre, admin)
    await page.goto(f"{ws_centre.url}/admin/seats")
    form = page.locator("#seat-form")
    await form.get_by_label("Пользователь").fill(operator)
    await form.get_by_label("Место (номер агента)").fill("1005")
    await form.get_by_label("Навыки").fill("general:3, mfc:4")
    await form.get_by_role("button", name="Сохранить").click()
    await expect(page.locator(".result")).to_contain_text("Место 1005 закреплено")
    row = page.locator("#seats-table tr", has_text=operator)
    await expect(row).to_contain_text("1005")
    await expect(row).to_contain_text("general:3, mfc:4")
    await screenshot(page, "seats")
    await form.get_by_label("Пользователь").fill(operator)
    await form.get_by_label("Место (номер агента)").fill("1005")
    await form.get_by_label("Навыки").fill("mfc:9")
    await form.get_by_role("button", name="Сохранить").click()
    await expect(page.locator(".result")).to_contain_text("уровень — число от 1 до 5")
    await form.get_by_label("Пользователь").fill(operator)
    await form.get_by_label("Место (номер агента)").fill("1006")  # another operator's
    await form.get_by_label("Навыки").fill("mfc:3")
    await form.get_by_role("button", name="Сохранить").click()
    await expect(page.locator(".result")).to_contain_text("Место 1006 уже занято")
    await expect(page.locator("#seats-table tr", has_text=operator)).to_contain_text("1005")


async def _events(centre: Centre) -> int:
    client = create_redis(centre.settings.redis_url or "")
    try:
        return int(await client.xlen(Streams(client, centre.settings.stream_prefix()).key(EVENTS)))
    finally:
        await client.aclose()


async def test_the_tools_during_a_call_and_the_supervisor_watching(
    page: Page,
    browser: Browser,
    ws_centre: Centre,
    seated: SeatedUser,
    make_user: UserFactory,
    screenshot: Screenshot,
) -> None:
    centre = ws_centre
    centre.pbx.set_operator("op1002", answers_after=0.5, hangs_up_after=None)
    await log_in(page, centre, await seated(Role.OPERATOR, "1002"))
    await page.locator("#btn-ready").click()
    await expect(page.locator("#state-name")).to_have_text("Готов")

    # Searches need no call.
    await page.keyboard.press("/")
    await page.locator("#faq-q").fill("загранпаспорт")
    await page.keyboard.press("Enter")
    await expect(page.locator("#faq-result .hit").first).to_be_visible()
    await page.keyboard.press("Alt+2")
    await page.locator("#tab-catalogue").get_by_label("Услуга").fill("паспорт")
    await page.keyboard.press("Enter")
    await expect(page.locator("#catalogue-result")).to_contain_text("passport-rf")
    await page.keyboard.press("Alt+3")
    directory = page.locator("#tab-directory")
    await directory.get_by_label("Город или район").fill(centre.municipality)
    await directory.get_by_role("button", name="Найти").click()
    office = page.locator("#directory-result .hit")
    await expect(office).to_have_count(1)
    await expect(office).to_contain_text("открыто")
    await expect(office).to_contain_text("+73842000000")
    await page.keyboard.press("Alt+9")
    notice = page.locator("#tab-notice")
    await notice.get_by_label("Код услуги, номер ответа или код учреждения").fill("passport-rf")
    await notice.get_by_label("Что не так").fill("Размер госпошлины изменился с 1 января.")
    await notice.get_by_role("button", name="Сообщить").click()
    await expect(page.locator("#notice-result")).to_contain_text("отправлено")

    supervisor = await browser.new_context(viewport={"width": 1366, "height": 768})
    console = await supervisor.new_page()
    try:
        await log_in(console, centre, await make_user(Role.SUPERVISOR))
        await alone(centre, "1002")
        async with ear(centre.pbx) as heard:
            call = await call_to_mfc_operator(heard, centre, "+79130000034")
            await card_pops(page, centre, "1002", call)
            await expect(page.locator("#state-name")).to_have_text("Разговор")
            row = console.locator("#agents-table tr", has_text="1002")
            await expect(row).to_contain_text("Разговор")
            await expect(row).to_contain_text(call.channel_id)

            await page.keyboard.press("Alt+6")
            callback = page.locator("#tab-callback")
            await expect(callback.get_by_label("Номер")).to_have_value("+79130000034")
            await callback.get_by_role("button", name="Заказать обратный звонок").click()
            await expect(page.locator("#callback-result")).to_contain_text(
                "Обратный звонок заказан"
            )
            await page.keyboard.press("Alt+0")
            await (
                page.locator("#tab-callbacks").get_by_role("button", name="Обновить список").click()
            )
            mine = page.locator("#callbacks-table tr", has_text="+7********34")
            await expect(mine).to_contain_text("МФЦ")  # the topic of the call it was asked on
            await expect(mine).to_contain_text("ожидает")

            await page.keyboard.press("Alt+8")
            transfer = page.locator("#tab-transfer")
            await transfer.get_by_label("Номер ведомства или МФЦ").fill("+44 20 7946 0000")
            await transfer.get_by_role("button", name="Перевести вызов").click()
            await expect(page.locator("#transfer-result")).to_contain_text("российский номер")
            await transfer.get_by_label("Номер ведомства или МФЦ").fill("8 (3842) 00-00-00")
            await transfer.get_by_role("button", name="Перевести вызов").click()
            await expect(page.locator("#transfer-result")).to_contain_text("переводится")
            asked = await _router_events(centre, "TransferRequested")
            assert [e["number"] for e in asked if e["call_id"] == call.channel_id] == [
                "73842000000"  # as the trunk dials it; the refused number never left
            ]
            assert asked[-1]["agent_id"] == "1002"
            await screenshot(console, "supervisor-live")
            if await page.locator("#state-name").inner_text() == "Разговор":
                await asyncio.sleep(2)  # the bridge may be transferring the caller right now
            if await page.locator("#state-name").inner_text() == "Разговор":
                centre.pbx.control.hangup_handset(call.handset_id)
            await expect(page.locator("#state-name")).to_have_text("Обработка после вызова")

        await console.locator("#force-form").get_by_label("Место оператора").fill("1002")
        await console.locator("#force-form").get_by_label("Перевести в").select_option("pause")
        await console.locator("#force-form").get_by_role("button", name="Применить").click()
        await expect(console.locator("#force-result")).to_contain_text("Оператор 1002: пауза")
        await page.locator("#btn-done").click()
        await expect(page.locator("#state-name")).to_have_text("Пауза")
        await expect(console.locator("#agents-table tr", has_text="1002")).to_contain_text("Пауза")
    finally:
        await supervisor.close()


async def _router_events(centre: Centre, kind: str) -> list[dict[str, Any]]:
    client = create_redis(centre.settings.redis_url or "")
    try:
        key = Streams(client, centre.settings.stream_prefix()).key(EVENTS)
        entries = await client.xrange(key)
    finally:
        await client.aclose()
    return [json.loads(fields["body"]) for _id, fields in entries if fields.get("type") == kind]


async def test_pages_need_a_live_session_and_operator_pages_a_seat(
    page: Page, ws_centre: Centre, make_user: UserFactory
) -> None:
    await page.goto(f"{ws_centre.url}/operator")
    await expect(page).to_have_url(re.compile(r"/login$"))
    username = await make_user(Role.SUPERVISOR)
    await log_in(page, ws_centre, username)
    reply = await page.goto(f"{ws_centre.url}/operator")
    assert reply is not None and reply.status == 409
    await expect(page.locator("h1")).to_have_text("Рабочее место не назначено")
    async with transaction(ws_centre.sessions) as session:
        user = (await session.scalars(select(User).where(User.username == username))).one()
        user.is_active = False  # disabled by an administrator: access ends at once
    await page.goto(f"{ws_centre.url}/supervisor")
    await expect(page).to_have_url(re.compile(r"/login$"))
    agency = await make_user(Role.AGENCY, "mfc-kem-sovetsky")
    await log_in_expecting_refusal(page, ws_centre, agency)
    await expect(page.locator(".error")).to_have_text("Рабочее место — для сотрудников центра.")


async def log_in_expecting_refusal(page: Page, centre: Centre, username: str) -> None:
    await page.goto(f"{centre.url}/login")
    await page.get_by_label("Имя пользователя").fill(username)
    await page.get_by_label("Пароль").fill(PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
