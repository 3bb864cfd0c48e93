"""Hang-ups: who sees which ChannelHangupRequest / StasisEnd / ChannelDestroyed, in which order.

The sequences are the recorded ones (MANIFEST.md, "What ends a channel's life in ARI" and
"Hang-up causes"): an app-initiated DELETE is cause 32 soft, a far end hanging up is cause 16
without ``soft``, an originate timeout destroys the leg with cause 19, and a Local ``;2`` is
torn down after its ``;1`` in the order Asterisk's Local core uses.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

from fakepbx.base import EngineBase
from fakepbx.objects import Channel, Dialplan


class Teardown(EngineBase, ABC):
    # Hooks the other parts of the engine implement (the engine class mixes them all in).
    @abstractmethod
    def leave_stasis(self, ch: Channel, location: tuple[str, str, int] | None = None) -> None:
        """Implemented by another part of the engine."""

    @abstractmethod
    def endpoint_changed(self, resource: str) -> None:
        """Implemented by another part of the engine."""

    def app_hangup(self, ch: Channel, cause: int = 16) -> None:
        """DELETE /channels/{id}: works on any channel, in Stasis or not. The request is
        always the soft cause 32; ``cause`` (from ``reason``) is what the channel dies with."""
        if ch.hangup_started or ch.destroyed:
            return
        ch.hangup_started = True
        peer = self.peer(ch)
        self.notify.hangup_request(ch, 32, soft=True)
        if ch.stasis_app is not None:
            self.finish_stasis_channel(ch, cause)
        elif ch.originated_app is not None and ch.state != "Up" and ch.half != 2:
            self.notify.dial(ch, "NOANSWER")  # cancelling a ringing originated leg
            if peer is None:
                self.destroy(ch, cause)
            else:
                self.teardown_pair(ch, peer, request_cause=16, cause=cause)
        elif peer is not None and peer.stasis_app is not None and not peer.hangup_started:
            if ch.half == 2:
                self.notify.hangup_request(ch, 16, soft=True)
            self.far_end_hangup(peer, also_destroy=ch)
        else:
            self.destroy(ch, cause)
            if peer is not None:
                self.hangup_from_dialplan(peer)

    def hangup_from_dialplan(self, ch: Channel) -> None:
        """The channel's own side hangs up (dialplan Hangup(), a phone putting down)."""
        if ch.destroyed:
            return
        ch.hangup_started = True
        peer = self.peer(ch)
        if peer is not None and peer.stasis_app is not None and not peer.hangup_started:
            self.far_end_hangup(peer, also_destroy=ch)
            return
        if ch.stasis_app is not None:
            self.notify.hangup_request(ch, 16, soft=False)
            self.finish_stasis_channel(ch, 16)
            return
        self.destroy(ch, 16)
        if peer is not None and not peer.destroyed:
            peer.hangup_started = True
            self.destroy(peer, 16)

    def far_end_hangup(self, ch: Channel, also_destroy: Channel | None = None) -> None:
        """The other end of ``ch`` went away: cause 16 without the soft flag."""
        ch.hangup_started = True
        self.notify.hangup_request(ch, 16, soft=False)
        self.finish_stasis_channel(ch, 16, also_destroy)

    def finish_stasis_channel(
        self, ch: Channel, cause: int, also_destroy: Channel | None = None
    ) -> None:
        if ch.stasis_app is not None:
            self.leave_stasis(ch)
        if ch.originated_app is not None:
            self.notify.varset(ch, "STASISSTATUS", "SUCCESS")
            origin = self.origin_dialplans.get(ch.id)
            if origin is not None:
                ch.dialplan = origin
        peer = self.peer(ch)
        if (
            ch.half == 1
            and ch.originated_app is not None
            and peer is not None
            and peer is not also_destroy
            and not peer.destroyed
        ):
            self.teardown_pair(ch, peer, request_cause=16, cause=cause)
            return
        self.destroy(ch, cause)
        for other in (also_destroy, peer):
            if other is not None and not other.destroyed:
                other.hangup_started = True
                self.destroy(other, cause)

    def teardown_pair(self, one: Channel, two: Channel, *, request_cause: int, cause: int) -> None:
        """``;1`` is gone; the Local core hangs up ``;2`` (recorded order, flows 4-6)."""
        two.hangup_started = True
        self.notify.hangup_request(two, request_cause, soft=False)
        self.destroy(one, cause)
        self.notify.hangup_request(two, 16, soft=True)
        self.destroy(two, cause)

    def destroy(self, ch: Channel, cause: int) -> None:
        if ch.destroyed:
            return
        ch.destroyed = ch.hangup_started = True
        for registry, key in (
            (self.channel_tasks, ch.id),
            (self.channel_tasks, f"{ch.id}/stasis"),
            (self.timers, ch.id),
        ):
            task = registry.pop(key, None)
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        if ch.half == 2:
            ch.dialplan = Dialplan(ch.dialplan.context, ch.dialplan.exten, ch.dialplan.priority)
        pending, ch.pending_caller = ch.pending_caller, None
        if pending is not None:
            ch.caller = pending
        self.notify.destroyed(ch, cause)
        if pending is not None:
            self.notify.caller_id(ch)
        self.channels.pop(ch.id, None)
        self.deferred.pop(ch.id, None)
        self.unsubscribe_channel(ch, keep_originator=False)
        self.destroyed_events[ch.id].set()
        self.destroyed_events.pop(ch.id, None)
        exit_future = self.stasis_exits.pop(ch.id, None)
        if exit_future is not None and not exit_future.done():
            exit_future.set_result(None)
        waiter = self.answer_waiters.pop(ch.id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)  # a Dial() waiting for this leg stops waiting
        if ch.endpoint is not None:
            self.endpoint_changed(ch.endpoint)
