"""Playbacks, recordings and channel DTMF reactions.

Recorded behaviour: a playback stopped with DELETE finishes ``done``, one cut by a hang-up
``failed``; RecordingStarted comes right after the POST (before the beep ends); a
terminating DTMF digit is reported before RecordingFinished, whose ``duration`` is whole
seconds after the beep.
"""

from __future__ import annotations

import asyncio
import io
import uuid
import wave
from typing import Any

from fakepbx.bridging import Bridging
from fakepbx.errors import AriError
from fakepbx.objects import Channel, LiveRecording, Playback

_BEEP_SECONDS = 0.6


class Media(Bridging):
    def _playback_subjects(self, playback: Playback) -> dict[str, Any]:
        kind, _, target = playback.target_uri.partition(":")
        return {"channels": [target]} if kind == "channel" else {"bridges": [target]}

    def _playback_event(self, event_type: str, playback: Playback) -> None:
        self.bus.emit(
            event_type, {"playback": playback.to_ari()}, **self._playback_subjects(playback)
        )

    def play(
        self, target_uri: str, media: list[str], language: str, playback_id: str | None
    ) -> Playback:
        if not media or not all(media):
            raise AriError(400, "Missing parameter media")
        if playback_id is not None and playback_id in self.playbacks:
            raise AriError(409, "Playback with the same id already exists")
        playback = Playback(playback_id or str(uuid.uuid4()), media, target_uri, language or "en")
        self.playbacks[playback.id] = playback
        snapshot = Playback(**playback.__dict__)
        lock = self.play_locks.setdefault(target_uri, asyncio.Lock())
        self.playback_tasks[playback.id] = self.supervisor.spawn(
            self._run_playback(playback, lock), f"playback-{playback.id}"
        )
        return snapshot

    async def _run_playback(self, playback: Playback, lock: asyncio.Lock) -> None:
        async with lock:  # a channel plays its queued playbacks one after another
            await asyncio.sleep(0)
            playback.state = "playing"
            self._playback_event("PlaybackStarted", playback)
            for index, uri in enumerate(playback.media):
                if index:
                    playback.index = index
                    self._playback_event("PlaybackContinuing", playback)
                await self.sleep(self.sound_length(uri))
            self._finish_playback(playback, "done")

    def _finish_playback(self, playback: Playback, state: str) -> None:
        if self.playbacks.pop(playback.id, None) is None:
            return
        task = self.playback_tasks.pop(playback.id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        if playback.state == "queued":
            return  # never started: Asterisk drops it silently
        playback.state = state
        self._playback_event("PlaybackFinished", playback)

    def stop_playback(self, playback_id: str) -> None:
        playback = self.playbacks.get(playback_id)
        if playback is None:
            raise AriError(404, "Playback not found")
        self._finish_playback(playback, "done")

    def playback(self, playback_id: str) -> Playback:
        playback = self.playbacks.get(playback_id)
        if playback is None:
            raise AriError(404, "Playback not found")
        return playback

    # --- recordings ---------------------------------------------------------------------------
    def record(
        self,
        ch: Channel,
        *,
        name: str,
        fmt: str,
        max_duration: float,
        terminate_on: str,
        if_exists: str,
        beep: bool,
    ) -> LiveRecording:
        if not name or not fmt:
            raise AriError(400, "Missing parameter name or format")
        if name in self.live_recordings:
            raise AriError(409, "Recording with the same name is already in progress")
        if name in self.stored_recordings and if_exists == "fail":
            raise AriError(422, "Recording already exists")
        recording = LiveRecording(
            name, fmt, f"channel:{ch.id}", ch.id, terminate_on, self.clock.sim_now()
        )
        self.live_recordings[name] = recording
        snapshot = LiveRecording(**recording.__dict__)
        self.recording_tasks[name] = self.supervisor.spawn(
            self._run_recording(recording, max_duration, beep), f"record-{name}"
        )
        return snapshot

    def _recording_event(self, event_type: str, recording: LiveRecording) -> None:
        self.bus.emit(
            event_type, {"recording": recording.to_ari()}, channels=[recording.channel_id]
        )

    async def _run_recording(
        self, recording: LiveRecording, max_duration: float, beep: bool
    ) -> None:
        await asyncio.sleep(0)
        recording.state = "recording"
        recording.started_at = self.clock.sim_now() + (_BEEP_SECONDS if beep else 0.0)
        self._recording_event("RecordingStarted", recording)
        if max_duration > 0:
            await self.sleep(max_duration + (_BEEP_SECONDS if beep else 0.0))
            self.finish_recording(recording, keep=True)

    def finish_recording(self, recording: LiveRecording, *, keep: bool) -> None:
        if self.live_recordings.pop(recording.name, None) is None:
            return
        task = self.recording_tasks.pop(recording.name, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        recording.state = "done" if keep else "canceled"
        recording.duration = max(int(self.clock.sim_now() - recording.started_at), 0)
        if keep:
            self.stored_recordings[recording.name] = recording.format
            self.recording_seconds[recording.name] = recording.duration or 0
        self._recording_event("RecordingFinished", recording)

    def recording_file(self, name: str) -> bytes:
        """The stored recording as Asterisk's ``wav`` format writes it: 8 kHz mono 16-bit
        PCM, as long as the recording (silence: nobody speaks into the fake)."""
        if name not in self.stored_recordings:
            raise AriError(404, "Recording not found")
        seconds = max(self.recording_seconds.get(name, 0), 1)
        out = io.BytesIO()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(8000)
            wav.writeframes(b"\x00\x00" * 8000 * seconds)
        return out.getvalue()

    def live_recording(self, name: str) -> LiveRecording:
        recording = self.live_recordings.get(name)
        if recording is None:
            raise AriError(404, "Recording not found")
        return recording

    def on_dtmf(self, ch: Channel, digit: str) -> None:
        for recording in list(self.live_recordings.values()):
            if (
                recording.channel_id == ch.id
                and recording.state == "recording"
                and (digit in recording.terminate_on or recording.terminate_on == "any")
            ):
                self.finish_recording(recording, keep=True)

    def end_media(self, ch: Channel) -> None:
        """The channel leaves Stasis: its playbacks fail, its recordings end."""
        uri = f"channel:{ch.id}"
        for playback in [p for p in self.playbacks.values() if p.target_uri == uri]:
            self._finish_playback(playback, "failed")
        for recording in [r for r in self.live_recordings.values() if r.channel_id == ch.id]:
            self.finish_recording(recording, keep=True)
