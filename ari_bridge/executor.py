"""Carries out the call controller's actions through ARI — the only I/O of a decision.

Failures that mean "already done" are not errors: hanging up a channel that is gone (404),
leaving a bridge one already left, stopping a playback that ended, originating a leg whose
fixed id already rings (409). An originate Asterisk refuses (unknown or unregistered endpoint)
ends that leg at once: the translator's ending event comes back from :meth:`Executor.run` for
the controller, as if Asterisk had said so. Anything else propagates so the command that
caused it is not acknowledged and is retried.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable

import structlog

from ari_bridge import actions as a
from ari_bridge.ari_client import AriClient
from ari_bridge.ari_errors import AriConflict, AriError, AriNotFound, AriUnavailable
from ari_bridge.events import DomainEvent
from ari_bridge.translate import Translator

_log = structlog.get_logger(__name__)


Speaker = Callable[[str], object]
"""Synthesises one text into the prompt folder (blocking; run in a worker thread)."""


class Executor:
    """Runs actions in order against one Asterisk."""

    def __init__(
        self, ari: AriClient, translator: Translator, speaker: Speaker | None = None
    ) -> None:
        self._ari = ari
        self._translator = translator
        self._speaker = speaker

    async def run(self, actions: list[a.Action]) -> list[DomainEvent]:
        """Run the actions in order; returns the endings of legs Asterisk refused to dial."""
        refused: list[DomainEvent] = []
        for action in actions:
            try:
                await self._one(action)
            except AriConflict:
                if not isinstance(action, a.OriginateOperator | a.OriginateCitizen):
                    raise
                _log.info("leg already dialled", leg=action.leg_id)
            except AriUnavailable:
                raise
            except AriError as exc:
                if not isinstance(action, a.OriginateOperator | a.OriginateCitizen):
                    raise
                _log.warning("originate refused", leg=action.leg_id, status=exc.status)
                refused += self._translator.leg_refused(action.leg_id)
        return refused

    async def _one(self, action: a.Action) -> None:
        ari = self._ari
        match action:
            case a.Answer(channel_id):
                await ari.answer(channel_id)
            case a.Hangup(channel_id):
                await _already_done_ok(ari.hangup(channel_id))
            case a.EnsureHoldingBridge(bridge_id):
                existing = {str(b.get("id")) for b in await ari.list_bridges()}
                if bridge_id not in existing:
                    await ari.create_bridge("holding", name=bridge_id, bridge_id=bridge_id)
            case a.AddToBridge(bridge_id, channel_ids):
                await ari.add_channels(bridge_id, *channel_ids)
            case a.RemoveFromBridge(bridge_id, channel_id):
                await _already_done_ok(ari.remove_channels(bridge_id, channel_id))
            case a.StartMusicOnHold(bridge_id):
                await ari.start_moh(bridge_id)
            case a.CreateMixingBridge(bridge_id):
                await ari.create_bridge("mixing", name=bridge_id, bridge_id=bridge_id)
            case a.DestroyBridge(bridge_id):
                await _already_done_ok(ari.destroy_bridge(bridge_id))
            case a.Play(channel_id, playback_id, media, texts):
                for _media, text in texts:
                    await self._speak(text)
                await _already_done_ok(
                    ari.play(channel_id, ",".join(media), playback_id=playback_id)
                )
            case a.Record(channel_id, name, max_seconds, terminate_on, beep):
                await _already_done_ok(
                    ari.record(
                        channel_id,
                        name,
                        max_duration_s=max_seconds,
                        beep=beep,
                        terminate_on=terminate_on,
                        if_exists="overwrite",
                    )
                )
            case a.StopPlayback(playback_id):
                await _already_done_ok(ari.stop_playback(playback_id))
            case a.OriginateOperator():
                # Before the request: the leg's first events can arrive before the response.
                self._translator.expect_agent_leg(
                    action.leg_id, agent=action.agent, call_id=action.call_id
                )
                await ari.originate(
                    action.endpoint,
                    channel_id=action.leg_id,
                    app_args=action.app_args,
                    caller_id=action.caller_id,
                    timeout_s=action.timeout_s,
                )
            case a.OriginateCitizen():
                self._translator.expect_citizen_leg(action.leg_id, callback_id=action.callback_id)
                await ari.originate(
                    action.endpoint,
                    channel_id=action.leg_id,
                    app_args=action.app_args,
                    caller_id=action.caller_id,
                    timeout_s=action.timeout_s,
                )
            case a.ContinueInDialplan(channel_id, context, extension, variables):
                for name, value in variables.items():
                    await ari.set_channel_var(channel_id, name, value)
                await ari.continue_in_dialplan(channel_id, context=context, extension=extension)

    async def _speak(self, text: str) -> None:
        """Make the prompt of a text known only now; a failure leaves Asterisk to skip it."""
        if self._speaker is None:
            return
        try:
            await asyncio.to_thread(self._speaker, text)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            _log.warning("runtime prompt not synthesised", error=str(exc))


async def _already_done_ok(request: object) -> None:
    """Await an ARI call whose 404/409 means its goal is already met."""
    try:
        await request  # type: ignore[misc]
    except (AriNotFound, AriConflict) as exc:
        _log.info("ari action already done", route=exc.route, status=exc.status)
