"""End to end over real sockets: callers go through the voice menus run by the bridge.

Fake PBX → bridge (menus on) → router → bridge → fake PBX, with real Redis and PostgreSQL. The
test watches what the caller hears through a second ARI WebSocket of the same application
(``PlaybackStarted`` events), and presses keys on the caller's handset like a citizen would.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from ari_bridge.ari_events_ws import events_url
from ari_bridge.menus import MODES
from fakepbx.control import InjectedCall
from fakepbx.pbx import FakePbx, PbxOptions
from services.acd import events as r
from services.common.db import create_engine, session_factory, transaction
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.ivr.media import prompt_hash, prompt_media
from services.ivr.outputs import spoken_information
from services.ivr.schema import load_library
from services.ivr.streams import CALL_VARIABLES, IVR_OUTCOMES
from services.knowledge.demo_seed import seed_knowledge
from services.router.wire import EVENTS, event_from_fields
from tests.conftest import ServiceStarter
from tests.e2e.test_call_flow import centre, records, tell_router, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

__all__ = ["records"]  # the call-records fixture, shared with test_call_flow

FLOWS_DIR = Path(__file__).resolve().parents[2] / "ivr_scripts"
FLOWS = load_library(FLOWS_DIR)
MAIN_DID = "88005550100"
SPEED = 4.0


def prompt(flow: str, name: str) -> str:
    return prompt_media(FLOWS.flows[flow].prompts[name])


@pytest.fixture
async def pbx() -> AsyncIterator[FakePbx]:
    options = PbxOptions(speed=SPEED, default_sound_seconds=0.4)
    async with FakePbx.start(options=options) as fake:
        for seat in fake.options.operators:
            fake.register(seat)
        yield fake
        assert fake.errors == []


def menu_centre(settings: Settings, pbx: FakePbx, folder: Path, knowledge_url: str) -> Settings:
    """Its own centre; menus from ivr_scripts/ with waits shortened like the fake's clock."""
    bridge_config = folder / "bridge.yaml"
    bridge_config.write_text(
        f"menus: true\n"
        f"ivr_folder: {FLOWS_DIR}\n"
        f"sounds_dir: {folder / 'sounds'}\n"
        f"knowledge_url: {knowledge_url}\n"
        f"timer_scale: {1 / SPEED}\n",
        encoding="utf-8",
    )
    return settings.model_copy(
        update={
            "centre_id": f"ivr-{secrets.token_hex(4)}",
            "ari_url": f"{pbx.ari_url}/ari",
            "ami_port": pbx.ami_port,
            "bridge_config": bridge_config,
        }
    )


@pytest.fixture
def centre_settings(settings: Settings, pbx: FakePbx, tmp_path: Path) -> Settings:
    """A centre whose knowledge service is down (port 9 refuses): self-service says "no
    ready answer" and offers the operator."""
    return menu_centre(settings, pbx, tmp_path, "http://127.0.0.1:9")


@pytest.fixture
async def knowledge_url(service_url: ServiceStarter, database_url: str) -> str:
    """The real knowledge service on loopback, with the sample FAQ (imported once)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with transaction(session_factory(engine)) as session:
            await seed_knowledge(session)
    finally:
        await engine.dispose()
    return await service_url("knowledge")


class Ear:
    """What each caller hears: every ``PlaybackStarted`` of the application, per channel."""

    def __init__(self) -> None:
        self.heard: dict[str, list[tuple[str, str]]] = {}  # channel -> [(first, next) media]

    async def listen(self, url: str) -> None:
        async with websockets.connect(url) as socket:
            async for raw in socket:
                message = json.loads(raw)
                if message.get("type") == "PlaybackStarted":
                    playback = message["playback"]
                    channel = str(playback["target_uri"]).removeprefix("channel:")
                    pair = (playback["media_uri"], playback.get("next_media_uri", ""))
                    self.heard.setdefault(channel, []).append(pair)

    async def hears(self, call: InjectedCall, media: str, *, times: int = 1) -> None:
        async def check() -> bool:
            started = [first for first, _next in self.heard.get(call.channel_id, [])]
            return started.count(media) >= times

        await wait_for(check, within=10.0)


@asynccontextmanager
async def ear(pbx: FakePbx) -> AsyncIterator[Ear]:
    listener = Ear()
    url = events_url(f"ws://{pbx.ari_url.removeprefix('http://')}/ari", "okno")
    task = asyncio.ensure_future(listener.listen(f"{url}&api_key=okno:okno"))
    app = pbx.engine.bus.app("okno")

    async def both_connected() -> bool:  # the bridge's socket and this one
        return len(app.sockets) >= 2

    try:
        await wait_for(both_connected, within=10.0)
        yield listener
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def router_events_of(settings: Settings, call_id: str) -> list[r.Event]:
    """Everything the bridge told the router about one call."""
    client = create_redis(settings.redis_url or "")
    try:
        entries = await client.xrange(Streams(client, settings.stream_prefix()).key(EVENTS))
    finally:
        await client.aclose()
    found = [event_from_fields(fields) for _id, fields in entries]
    return [
        e for e in found if call_id in (getattr(e, "call_id", None), getattr(e, "caller", None))
    ]


async def set_modes(settings: Settings, **fields: str) -> None:
    client = create_redis(settings.redis_url or "")
    await client.hset(f"{settings.stream_prefix()}:{MODES}", mapping=fields)
    await client.aclose()


async def stream_entries(settings: Settings, stream: str, call_id: str) -> list[dict[str, str]]:
    client = create_redis(settings.redis_url or "")
    try:
        entries = await client.xrange(Streams(client, settings.stream_prefix()).key(stream))
    finally:
        await client.aclose()
    return [fields for _id, fields in entries if fields.get("call_id") == call_id]


async def call_variables(settings: Settings, call_id: str) -> dict[str, str] | None:
    entries = await stream_entries(settings, CALL_VARIABLES, call_id)
    if not entries:
        return None
    variables: dict[str, str] = json.loads(entries[0]["variables"])
    return variables


async def operator_ready(settings: Settings, agent: str) -> None:
    skills = {"general": 3, "mfc": 3}
    await tell_router(settings, r.AgentLoggedIn(agent, skills, {"ru": 5}), r.AgentReady(agent))


async def answered_record(records: Callable[[str], Awaitable[Any]], call_id: str) -> Any:
    async def ended() -> Any:
        record, _kinds = await records(call_id)
        return record if record is not None and record.ended_at else None

    return await wait_for(ended)


async def test_a_topic_key_leads_through_self_service_to_an_operator_of_that_topic(
    pbx: FakePbx, centre_settings: Settings, records: Callable[[str], Awaitable[Any]]
) -> None:
    pbx.set_operator("op1001", answers_after=0.5, hangs_up_after=0.5)
    async with centre(centre_settings), ear(pbx) as heard:
        await operator_ready(centre_settings, "1001")
        call = pbx.control.inject_call(did=MAIN_DID, caller="+79130000011")
        await heard.hears(call, prompt("main", "topic_menu"))
        await pbx.control.press(call.handset_id, "1")
        # The knowledge service is down: the menu says so and offers the operator.
        await heard.hears(call, prompt("main", "info_empty"))
        await heard.hears(call, prompt("main", "after_info"))
        await pbx.control.press(call.handset_id, "0")
        record = await answered_record(records, call.channel_id)
    assert record.topic == "mfc" and record.outcome == "answered" and record.agent_id == "1001"
    variables = await call_variables(centre_settings, call.channel_id)
    assert variables is not None and variables["topic"] == "mfc"
    assert variables["choice_topic_menu"] == "1" and variables["choice_after_info"] == "0"


async def test_self_service_reads_the_knowledge_base_answers_of_the_chosen_topic(
    pbx: FakePbx, settings: Settings, tmp_path: Path, knowledge_url: str
) -> None:
    centre_settings = menu_centre(settings, pbx, tmp_path, knowledge_url)
    async with httpx.AsyncClient(base_url=knowledge_url) as client:
        reply = await client.get("/knowledge/public/faq/top", params={"topic": "mfc", "limit": 3})
    answers = spoken_information(reply.raise_for_status().json())
    assert answers, "the sample FAQ has answers about the MFC"
    async with centre(centre_settings), ear(pbx) as heard:
        call = pbx.control.inject_call(did=MAIN_DID, caller="+79130000017")
        await heard.hears(call, prompt("main", "topic_menu"))
        await pbx.control.press(call.handset_id, "1")
        await heard.hears(call, prompt("main", "info_intro_mfc"))
        await heard.hears(call, prompt("main", "after_info"))
    intro = [
        pair for pair in heard.heard[call.channel_id] if pair[0] == prompt("main", "info_intro_mfc")
    ]
    if shutil.which("espeak-ng") and shutil.which("sox"):
        assert intro == [(prompt("main", "info_intro_mfc"), prompt_media(answers))]
        assert (tmp_path / "sounds" / f"{prompt_hash(answers)}.wav").stat().st_size > 0


async def test_wrong_keys_end_in_the_menu_default_an_operator_for_general_questions(
    pbx: FakePbx, centre_settings: Settings, records: Callable[[str], Awaitable[Any]]
) -> None:
    pbx.set_operator("op1002", answers_after=0.5, hangs_up_after=0.5)
    retry = prompt("main", "invalid_choice")
    async with centre(centre_settings), ear(pbx) as heard:
        await operator_ready(centre_settings, "1002")
        call = pbx.control.inject_call(did=MAIN_DID, caller="+79130000012")
        await heard.hears(call, prompt("main", "topic_menu"))
        for attempt in range(1, 4):
            await pbx.control.press(call.handset_id, "*")
            if attempt < 3:
                await heard.hears(call, retry, times=attempt)
        await heard.hears(call, prompt("main", "connecting"))
        record = await answered_record(records, call.channel_id)
    assert record.topic == "general" and record.agent_id == "1002"


async def test_a_caller_who_hangs_up_in_the_menu_never_reaches_the_router(
    pbx: FakePbx, centre_settings: Settings, records: Callable[[str], Awaitable[Any]]
) -> None:
    async with centre(centre_settings), ear(pbx) as heard:
        call = pbx.control.inject_call(did=MAIN_DID, caller="+79130000013")
        await heard.hears(call, prompt("main", "topic_menu"))
        pbx.control.hangup_handset(call.handset_id)
        later = pbx.control.inject_call(did=MAIN_DID, caller="+79130000014")
        await heard.hears(later, prompt("main", "topic_menu"))  # the bridge has moved on
        await asyncio.sleep(0.3)
    assert await router_events_of(centre_settings, call.channel_id) == []
    # Its record comes from the menu's own entry, not from the router: not an abandonment.
    (entry,) = await stream_entries(centre_settings, CALL_VARIABLES, call.channel_id)
    assert entry["outcome"] == "hangup" and entry["caller"] == "+79130000013"

    async def recorded() -> Any:
        record, _kinds = await records(call.channel_id)
        return record

    record = await wait_for(recorded)
    assert record.outcome == "menu_hangup"


async def test_night_mode_switched_by_a_supervisor_runs_the_night_menu(
    pbx: FakePbx, centre_settings: Settings
) -> None:
    await set_modes(centre_settings, night_override="night")
    async with centre(centre_settings), ear(pbx) as heard:
        call = pbx.control.inject_call(did=MAIN_DID, caller="+79130000015")
        await heard.hears(call, prompt("night", "night_hello"))
        await heard.hears(call, prompt("night", "night_menu"))
        await pbx.control.press(call.handset_id, "2")  # a callback in the morning
        await heard.hears(call, prompt("night", "callback_morning"))

        async def requested() -> list[r.Event]:
            return await router_events_of(centre_settings, call.channel_id)

        (request,) = await wait_for(requested)
    # The router gets the request with the night source; it makes it due from the morning.
    assert isinstance(request, r.CallbackRequested)
    assert request.source == "night" and request.caller == "79130000015"
    assert request.topic == "general" and request.requested_at > 0
    assert await stream_entries(centre_settings, IVR_OUTCOMES, call.channel_id) == []


async def test_in_an_emergency_the_announcement_is_heard_first(
    pbx: FakePbx, centre_settings: Settings
) -> None:
    text = "Паводок. Офисы МФЦ в Новокузнецке сегодня закрыты."
    await set_modes(centre_settings, emergency="1", announcement=text)
    async with centre(centre_settings), ear(pbx) as heard:
        call = pbx.control.inject_call(did=MAIN_DID, caller="+79130000016")
        await heard.hears(call, prompt("main", "greeting"))
    first, following = heard.heard[call.channel_id][0]
    assert first == prompt("main", "emergency_intro")
    if shutil.which("espeak-ng") and shutil.which("sox"):
        assert following == prompt_media(text)
        sounds = Path(str(centre_settings.bridge_config)).parent / "sounds"
        assert (sounds / f"{prompt_hash(text)}.wav").stat().st_size > 0
