"""A scripted caller that drives an `IvrSession` the way the bridge does, checking its outputs.

Playbacks end on `listen()`, timers fire on `wait()`, knowledge answers arrive on `answer()`,
complaint statuses on `status()`.
Every output is checked against what is pending: a stop names the playback that plays, a
cancel names a running timer, there is never more than one of each, and at most one outcome.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from services.ivr import outputs as o
from services.ivr.engine import IvrSession
from services.ivr.media import prompt_media
from services.ivr.schema import Flow, load_library

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = load_library(ROOT / "ivr_scripts", ROOT)
TZ = ZoneInfo("Asia/Novokuznetsk")
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=TZ)
MAIN_DID = "88005550100"
CALLBACK_DID = "88005550199"
CALLER = "+79131234567"


def context(
    *,
    did: str = MAIN_DID,
    caller: str = CALLER,
    now: datetime = NOON,
    night: bool = False,
    emergency: bool = False,
    announcement: str = "",
    holidays: frozenset[date] = frozenset(),
) -> o.CallContext:
    return o.CallContext(
        did=did,
        caller=caller,
        now=now,
        night=night,
        emergency=emergency,
        announcement=announcement,
        holidays=holidays,
        session_id="c1",
    )


def media(flow: str, *prompts: str) -> tuple[str, ...]:
    """The media names of prompt ids of a shipped flow."""
    texts = LIBRARY.flows[flow].prompts
    return tuple(prompt_media(texts[p]) for p in prompts)


class Caller:
    def __init__(self, ctx: o.CallContext | None = None, flow: Flow | None = None) -> None:
        ctx = ctx or context()
        self.session = IvrSession(flow or LIBRARY.for_did(ctx.did), ctx, flows=LIBRARY.flows)
        self.outputs: list[o.Output] = []
        self.plays: list[o.Play] = []
        self.fetches: list[o.FetchInformation] = []
        self.lookups: list[o.FetchStatus] = []
        self.recordings: list[o.StartRecording] = []
        self.outcomes: list[o.Outcome] = []
        self.playing: str | None = None
        self.timer: str | None = None
        self.recording: str | None = None
        self._take(self.session.start())

    # --- inputs -----------------------------------------------------------------------

    def listen(self) -> Caller:
        """Let the current prompt play to its end."""
        assert self.playing is not None, "nothing is playing"
        playback, self.playing = self.playing, None
        self._take(self.session.on_playback_finished(playback))
        return self

    def press(self, keys: str) -> Caller:
        for key in keys:
            self._take(self.session.on_dtmf(key))
        return self

    def wait(self) -> Caller:
        """Say nothing until the pending timer fires."""
        assert self.timer is not None, "no timer is running"
        timer, self.timer = self.timer, None
        self._take(self.session.on_timeout(timer))
        return self

    def answer(self, text: str) -> Caller:
        assert self.fetches, "no knowledge look-up was asked for"
        self._take(self.session.on_information(text))
        return self

    def status(self, result: o.StatusResult, text: str = "") -> Caller:
        assert self.lookups, "no status look-up was asked for"
        self._take(self.session.on_status(result, text))
        return self

    def recorded(self, duration: int | None) -> Caller:
        assert self.recording is not None, "nothing is being recorded"
        name, self.recording = self.recording, None
        self._take(self.session.on_recording_finished(name, duration))
        return self

    def hang_up(self) -> Caller:
        self.playing = None
        self._take(self.session.on_hangup())
        return self

    # --- what happened ------------------------------------------------------------------

    @property
    def outcome(self) -> o.Outcome:
        assert len(self.outcomes) == 1, self.outcomes
        return self.outcomes[0]

    @property
    def last_play(self) -> o.Play:
        return self.plays[-1]

    def _take(self, outputs: list[o.Output]) -> None:
        for output in outputs:
            assert not self.outcomes, f"{output} after the outcome {self.outcomes[0]}"
            match output:
                case o.Play():
                    assert self.playing is None, f"{output} while {self.playing} plays"
                    self.playing = output.playback_id
                    self.plays.append(output)
                case o.StopPlayback():
                    assert output.playback_id == self.playing
                    self.playing = None
                case o.StartTimer():
                    assert self.timer is None, f"{output} while {self.timer} runs"
                    self.timer = output.timer_id
                case o.CancelTimer():
                    assert output.timer_id == self.timer
                    self.timer = None
                case o.StartRecording():
                    assert self.recording is None
                    self.recording = output.name
                    self.recordings.append(output)
                case o.FetchInformation():
                    self.fetches.append(output)
                case o.FetchStatus():
                    self.lookups.append(output)
                case _:
                    self.outcomes.append(output)
        self.outputs.extend(outputs)
