"""Callbacks competing with live calls, under random event sequences (hypothesis stateful).

The machine extends the core's machine (``test_acd_properties``), so its promises still hold
with callbacks in the lines: no live caller passes the deadline without an action, no agent
holds two items, every item ends exactly once. On top: an agent is never given a callback
while one with an earlier, still reachable deadline waits in a line the agent serves.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from services.acd import commands as c
from services.acd import events as e
from services.acd.callbacks import RESULTS, SOURCES
from services.acd.model import CALLBACK, DIALLING, TALKING, WAITING
from tests.acd.test_acd_properties import TOPICS, RouterMachine

CALLERS = ("+79001", "+79002", "")


class CallbackMachine(RouterMachine):
    def send(self, event: e.Event) -> None:
        router = self.router
        waiting = {
            item.id: item
            for item in router.items.values()
            if item.kind == CALLBACK and item.state == WAITING
        }
        commands = router.apply(event, self.now)
        for cmd in commands:
            self.observe(cmd)
            if isinstance(cmd, c.CallbackAttempted):
                self.release(cmd.callback_id)
        for dial in (cmd for cmd in commands if isinstance(cmd, c.DialCallback)):
            chosen = router.items.get(dial.callback_id)
            agent = router.agents.get(dial.agent_id)
            if chosen is None or agent is None:
                continue
            served = {id(bucket) for bucket, _level in agent.memberships}
            for other in waiting.values():
                passed_over = (
                    other.state == WAITING
                    and id(other.bucket) in served
                    and self.now <= other.deadline < chosen.deadline
                )
                assert not passed_over, f"{dial.agent_id} dialled {chosen.id} before {other.id}"

    def dialling(self) -> list[tuple[str, str]]:
        return sorted(
            (item.id, item.agent.id)
            for item in self.router.items.values()
            if item.state == DIALLING and item.agent is not None
        )

    @rule(
        caller=st.sampled_from(CALLERS),
        source=st.sampled_from(SOURCES),
        topic=st.sampled_from(TOPICS),
        earlier=st.floats(min_value=0, max_value=500),
    )
    def request_callback(self, caller: str, source: str, topic: str, earlier: float) -> None:
        self.counter += 1
        callback_id = f"cb-line{self.counter}"
        requested_at = self.now - earlier if source == "operator" else 0.0
        event = e.CallbackRequested(callback_id, topic, "ru", caller, "", 0, requested_at, source)
        self.send(event)
        if callback_id in self.router.items or callback_id in self.finished:
            self.arrived[callback_id] = self.now

    @precondition(lambda self: bool(self.dialling()))
    @rule(data=st.data(), result=st.sampled_from(RESULTS))
    def citizen_outcome(self, data: st.DataObject, result: str) -> None:
        callback_id, agent = data.draw(st.sampled_from(self.dialling()))
        self.send(e.CallbackResult(callback_id, agent, result))

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        pending = sorted(i.id for i in self.router.items.values() if i.kind == CALLBACK)
        if pending:
            self.send(e.CallbackCancelled(data.draw(st.sampled_from(pending)), "staff"))

    @precondition(lambda self: bool(self.in_state(TALKING)))
    @rule(data=st.data(), right_agent=st.booleans())
    def transfer(self, data: st.DataObject, right_agent: bool) -> None:
        call_id, agent = data.draw(st.sampled_from(self.in_state(TALKING)))
        self.send(e.TransferRequested(call_id, agent if right_agent else "someone", "+73842"))


CallbackMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
TestCallbackMachine = CallbackMachine.TestCase
