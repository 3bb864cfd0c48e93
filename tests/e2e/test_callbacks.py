"""End to end over real sockets: callbacks dialled by the bridge, blind transfers, and the voice
menu's follow-ups (recorded messages copied out of Asterisk, one menu entry per call).

Fake PBX → bridge → router (`okno acd`, callbacks on, short retry delays) → bridge → fake PBX,
with real Redis and PostgreSQL. Citizens called back are numbers whose phones the fake PBX
makes answer, be busy or never answer.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ari_bridge.process import run_bridge
from fakepbx.pbx import FakePbx, PbxOptions
from services.acd import events as r
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.ivr.streams import CALL_VARIABLES, IVR_OUTCOMES
from services.router.process import run_router
from services.router.wire import EVENTS, ROUTER_LOG, event_from_fields
from tests.e2e.test_call_flow import centre, running, tell_router, wait_for
from tests.e2e.test_voice_menus import FLOWS_DIR, ear, prompt, stream_entries

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SPEED = 4.0
CALLBACK_DID = "88005550199"
MAIN_DID = "88005550100"


@pytest.fixture
async def pbx() -> AsyncIterator[FakePbx]:
    async with FakePbx.start(options=PbxOptions(speed=SPEED, default_sound_seconds=0.4)) as fake:
        for seat in fake.options.operators:
            fake.register(seat)
        yield fake
        assert fake.errors == []


def callback_centre(settings: Settings, pbx: FakePbx, folder: Path, *, menus: bool) -> Settings:
    """Its own centre, callbacks on in the bridge and the router; no night (any hour of the
    test run may dial), a retry 1.5 s after a failed attempt, a citizen's phone rings 5
    simulated seconds."""
    bridge_config = folder / "bridge.yaml"
    bridge_config.write_text(
        f"menus: {'true' if menus else 'false'}\n"
        f"ivr_folder: {FLOWS_DIR}\n"
        f"sounds_dir: {folder / 'sounds'}\n"
        "knowledge_url: http://127.0.0.1:9\n"
        f"timer_scale: {1 / SPEED}\n"
        "callback_caller_id: '88005550199'\n"
        "callback_ring_timeout_s: 5\n"
        "callback_settle_s: 2.0\n"
        f"recordings_dir: {folder / 'recordings'}\n"
        "night: {enabled: false}\n",
        encoding="utf-8",
    )
    router_config = folder / "router.yaml"
    router_config.write_text(
        "callbacks: true\n"
        "callback_retry_seconds: 1.5\n"
        "callback_max_attempts: 3\n"
        "callback_hours: ['00:00', '24:00']\n"
        "deadline_seconds: 1.0\n"
        "answer_within_seconds: 2.0\n"
        "overflow: false\n"
        "night: {enabled: false}\n",
        encoding="utf-8",
    )
    return settings.model_copy(
        update={
            "centre_id": f"cb-{secrets.token_hex(4)}",
            "ari_url": f"{pbx.ari_url}/ari",
            "ami_port": pbx.ami_port,
            "bridge_config": bridge_config,
            "router_config": router_config,
        }
    )


@pytest.fixture
def centre_settings(settings: Settings, pbx: FakePbx, tmp_path: Path) -> Settings:
    return callback_centre(settings, pbx, tmp_path, menus=False)


@pytest.fixture
def menu_settings(settings: Settings, pbx: FakePbx, tmp_path: Path) -> Settings:
    return callback_centre(settings, pbx, tmp_path, menus=True)


async def operator_ready(settings: Settings, agent: str, *, ready: bool = True) -> None:
    skills = {"general": 3, "complaints": 3}
    await tell_router(settings, r.AgentLoggedIn(agent, skills, {"ru": 5}))
    if ready:
        await tell_router(settings, r.AgentReady(agent))


async def router_outputs(settings: Settings, subject: str) -> list[dict[str, Any]]:
    """Every command and record the router produced about one call or callback, in order."""
    client = create_redis(settings.redis_url or "")
    try:
        entries = await client.xrange(Streams(client, settings.stream_prefix()).key(ROUTER_LOG))
    finally:
        await client.aclose()
    outputs = [o for _id, fields in entries for o in json.loads(fields.get("outputs", "[]"))]
    return [o for o in outputs if subject in (o.get("call_id"), o.get("callback_id"))]


async def bridge_told(settings: Settings, subject: str) -> list[r.Event]:
    """What the bridge told the router about one call or callback."""
    client = create_redis(settings.redis_url or "")
    try:
        entries = await client.xrange(Streams(client, settings.stream_prefix()).key(EVENTS))
    finally:
        await client.aclose()
    events = [event_from_fields(fields) for _id, fields in entries]
    return [
        e for e in events if subject in (getattr(e, "call_id", ""), getattr(e, "callback_id", ""))
    ]


async def finished(settings: Settings, subject: str) -> str:
    """The router's final outcome of a call or callback (waits for it)."""

    async def outcome() -> str | None:
        for output in await router_outputs(settings, subject):
            if output["type"] == "CallFinished":
                return str(output["outcome"])
        return None

    result: str = await wait_for(outcome, within=30.0)
    return result


def results(events: list[r.Event]) -> list[str]:
    return [e.result for e in events if isinstance(e, r.CallbackResult)]


async def test_a_citizen_on_the_callback_line_is_called_back_and_talks_to_an_operator(
    pbx: FakePbx, menu_settings: Settings
) -> None:
    settings = menu_settings
    pbx.set_operator("op1001", answers_after=0.4, hangs_up_after=None)
    pbx.set_number("79130000020", answers_after=1.0, hangs_up_after=4.0)
    async with centre(settings), ear(pbx) as heard:
        await operator_ready(settings, "1001")
        call = pbx.control.inject_call(did=CALLBACK_DID, caller="+79130000020")
        await heard.hears(call, prompt("callback", "number_is"))
        await pbx.control.press(call.handset_id, "1")  # yes, call me back on this number
        callback_id = f"cb-{call.channel_id}"
        outcome = await finished(settings, callback_id)
        told = await bridge_told(settings, callback_id)
        (variables,) = await stream_entries(settings, CALL_VARIABLES, call.channel_id)
    assert outcome == "callback_done"
    (request,) = [e for e in told if isinstance(e, r.CallbackRequested)]
    assert request.source == "callback_line" and request.caller == "79130000020"
    assert request.requested_at > 0
    outputs = await router_outputs(settings, callback_id)
    (dial,) = [o for o in outputs if o["type"] == "DialCallback"]
    assert dial["agent_id"] == "1001" and dial["attempt"] == 1
    order = [type(e).__name__ for e in told if not isinstance(e, r.CallbackRequested)]
    assert order == ["AgentAnswered", "CallbackResult", "CallEnded"]
    assert results(told) == ["answered"]
    assert variables["outcome"] == "callback" and variables["did"] == CALLBACK_DID
    assert float(variables["started_at"]) <= float(variables["ended_at"])


async def test_a_busy_citizen_is_tried_again_and_answers_the_second_time(
    pbx: FakePbx, centre_settings: Settings
) -> None:
    settings = centre_settings
    number = "79130000021"
    pbx.set_operator("op1002", answers_after=0.4, hangs_up_after=None)
    pbx.set_number(number, busy=True)
    async with centre(settings):
        await operator_ready(settings, "1002")
        await tell_router(settings, r.CallbackRequested("cb-busy", caller=number, source="queue"))

        async def first_attempt() -> Any:
            found = await router_outputs(settings, "cb-busy")
            return [o for o in found if o["type"] == "CallbackAttempted"]

        (attempt,) = await wait_for(first_attempt)
        pbx.set_number(number, answers_after=1.0, hangs_up_after=4.0)
        outcome = await finished(settings, "cb-busy")
        told = await bridge_told(settings, "cb-busy")
    assert (attempt["result"], attempt["attempt"]) == ("busy", 1)
    assert outcome == "callback_done"
    assert results(told) == ["busy", "answered"]
    assert [type(e).__name__ for e in told].count("AgentAnswered") == 2


async def test_a_citizen_who_never_answers_fails_after_every_attempt(
    pbx: FakePbx, centre_settings: Settings
) -> None:
    settings = centre_settings
    number = "79130000022"
    pbx.set_operator("op1003", answers_after=0.4, hangs_up_after=None)
    pbx.set_number(number, answers_after=None)
    async with centre(settings):
        await operator_ready(settings, "1003")
        await tell_router(settings, r.CallbackRequested("cb-never", caller=number))
        outcome = await finished(settings, "cb-never")
        told = await bridge_told(settings, "cb-never")
        attempts = [
            (o["attempt"], o["result"])
            for o in await router_outputs(settings, "cb-never")
            if o["type"] == "CallbackAttempted"
        ]

        async def operator_released() -> bool:
            return not any(c.endpoint == "op1003" for c in pbx.engine.channels.values())

        await wait_for(operator_released)
    assert outcome == "callback_failed"
    assert attempts == [(1, "no_answer"), (2, "no_answer"), (3, "no_answer")]
    assert results(told) == ["no_answer"] * 3


async def test_a_queued_caller_who_presses_1_is_called_back(
    pbx: FakePbx, centre_settings: Settings
) -> None:
    settings = centre_settings
    pbx.set_operator("op1004", answers_after=0.4, hangs_up_after=None)
    pbx.set_number("+79130000023", answers_after=1.0, hangs_up_after=4.0)
    async with centre(settings):
        await operator_ready(settings, "1004", ready=False)  # logged in, not free yet
        call = pbx.control.inject_call(did=MAIN_DID, caller="+79130000023")

        async def offered() -> bool:
            found = await router_outputs(settings, call.channel_id)
            return any(o["type"] == "OfferCallback" for o in found)

        await wait_for(offered)
        await pbx.control.press(call.handset_id, "1")
        callback_id = f"cb-{call.channel_id}"
        await wait_for(lambda: bridge_told(settings, callback_id))
        await tell_router(settings, r.AgentReady("1004"))
        outcome = await finished(settings, callback_id)
        told = await bridge_told(settings, callback_id)
    assert outcome == "callback_done"
    (request,) = [e for e in told if isinstance(e, r.CallbackRequested)]
    assert request.source == "queue" and request.call_id == call.channel_id
    assert results(told) == ["answered"]
    assert await finished(settings, call.channel_id) == "callback"


async def test_an_operator_transfers_a_caller_to_an_agency(
    pbx: FakePbx, centre_settings: Settings
) -> None:
    settings = centre_settings
    pbx.set_operator("op1005", answers_after=0.4, hangs_up_after=None)
    pbx.set_number("3843123456", answers_after=0.5, hangs_up_after=None)
    async with centre(settings):
        await operator_ready(settings, "1005")
        call = pbx.control.inject_call(did=MAIN_DID, caller="+79130000024")

        async def connected() -> bool:
            found = await router_outputs(settings, call.channel_id)
            return any(o["type"] == "CallAnswered" for o in found)

        await wait_for(connected)
        await tell_router(settings, r.TransferRequested(call.channel_id, "1005", "3843123456"))
        outcome = await finished(settings, call.channel_id)

        async def with_the_agency() -> bool:
            caller = pbx.engine.channels.get(call.channel_id)
            channels = list(pbx.engine.channels.values())
            agency = [c for c in channels if c.dialstring == "3843123456@provider"]
            operator = [c for c in channels if c.endpoint == "op1005"]
            return (
                caller is not None
                and caller.dialplan.context == "to-agency"
                and caller.stasis_app is None
                and bool(agency)
                and not operator
            )

        await wait_for(with_the_agency)
    assert outcome == "transferred"
    # The caller left the application alive: neither an abandonment nor an end of talk.
    told = await bridge_told(settings, call.channel_id)
    assert not [e for e in told if isinstance(e, r.CallerHungUp | r.CallEnded)]


async def test_a_recorded_complaint_is_copied_out_of_asterisk_for_its_follow_up(
    pbx: FakePbx, menu_settings: Settings, tmp_path: Path
) -> None:
    settings = menu_settings
    async with centre(settings), ear(pbx) as heard:
        call = pbx.control.inject_call(did=MAIN_DID, caller="+79130000025")
        await heard.hears(call, prompt("main", "topic_menu"))
        await pbx.control.press(call.handset_id, "7")
        await heard.hears(call, prompt("main", "complaint_menu"))
        await pbx.control.press(call.handset_id, "1")

        async def recording() -> bool:
            return any(x.channel_id == call.channel_id for x in pbx.engine.live_recordings.values())

        await wait_for(recording)
        await asyncio.sleep(0.8)  # a few simulated seconds of message: an empty one is dropped
        await pbx.control.press(call.handset_id, "#")

        async def noted() -> list[dict[str, str]]:
            return await stream_entries(settings, IVR_OUTCOMES, call.channel_id)

        (entry,) = await wait_for(noted)
        (variables,) = await stream_entries(settings, CALL_VARIABLES, call.channel_id)
    assert entry["kind"] == "complaint" and entry["file"] == f"{entry['recording']}.wav"
    with wave.open(str(tmp_path / "recordings" / entry["file"]), "rb") as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (1, 8000, 2)
        assert wav.getnframes() >= 8000
    assert entry["recording"] not in pbx.engine.stored_recordings  # taken out of Asterisk
    assert variables["outcome"] == "recorded" and variables["caller"] == "+79130000025"


async def test_a_bridge_restart_while_the_operator_rings_dials_the_citizen_once(
    pbx: FakePbx, centre_settings: Settings
) -> None:
    settings = centre_settings
    number = "79130000026"
    pbx.set_operator("op1006", answers_after=4.0, hangs_up_after=None)  # 1 s of real time
    pbx.set_number(number, answers_after=1.0, hangs_up_after=4.0)
    database_url, redis_url = settings.database_url or "", settings.redis_url or ""

    async def seat_rings() -> bool:
        return any(c.endpoint == "op1006" for c in pbx.engine.channels.values())

    async with running(run_router(settings, database_url=database_url, redis_url=redis_url)):
        async with running(run_bridge(settings, redis_url)):
            await operator_ready(settings, "1006")
            await tell_router(settings, r.CallbackRequested("cb-restart", caller=number))
            await wait_for(seat_rings)
        # No bridge listens when the operator picks up; the next one finds the answered leg.
        await asyncio.sleep(1.5)
        async with running(run_bridge(settings, redis_url)):
            outcome = await finished(settings, "cb-restart")
    dials = [o for o in await router_outputs(settings, "cb-restart") if o["type"] == "DialCallback"]
    assert outcome == "callback_done" and len(dials) == 1
    assert results(await bridge_told(settings, "cb-restart")) == ["answered"]


async def test_a_bridge_restart_mid_callback_keeps_the_conversation(
    pbx: FakePbx, centre_settings: Settings
) -> None:
    settings = centre_settings
    number = "79130000027"
    pbx.set_operator("op1007", answers_after=0.4, hangs_up_after=None)
    pbx.set_number(number, answers_after=1.0, hangs_up_after=12.0)  # 3 s of real time
    database_url, redis_url = settings.database_url or "", settings.redis_url or ""

    async def answered() -> bool:
        return "answered" in results(await bridge_told(settings, "cb-talk"))

    async with running(run_router(settings, database_url=database_url, redis_url=redis_url)):
        async with running(run_bridge(settings, redis_url)):
            await operator_ready(settings, "1007")
            await tell_router(settings, r.CallbackRequested("cb-talk", caller=number))
            await wait_for(answered)
        async with running(run_bridge(settings, redis_url)):
            outcome = await finished(settings, "cb-talk")

            async def operator_released() -> bool:
                return not any(c.endpoint == "op1007" for c in pbx.engine.channels.values())

            await wait_for(operator_released)
    dials = [o for o in await router_outputs(settings, "cb-talk") if o["type"] == "DialCallback"]
    assert outcome == "callback_done" and len(dials) == 1
    told = await bridge_told(settings, "cb-talk")
    assert [type(e).__name__ for e in told][-1] == "CallEnded"
