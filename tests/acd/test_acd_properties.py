"""Random event sequences against the core's promises (hypothesis stateful testing)."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.acd import commands as c
from services.acd import events as e
from services.acd.config import RelaxStep, RouterConfig, TopicPolicy
from services.acd.model import RINGING, TALKING
from services.acd.router import RouterState
from tests.acd.acd_support import T0

TOPICS = ("general", "pensions")
AGENTS = ("a1", "a2", "a3", "a4")
DEADLINE = 30.0
ACTIONS = (c.OverflowTo, c.OfferCallback, c.PlaySelfService, c.PlayAutoAttendant, c.EndCall)


def guarded_config() -> RouterConfig:
    """Every topic ends its fallback list with self-service, so an action is always possible."""
    return RouterConfig(
        deadline_seconds=DEADLINE,
        ring_timeout_seconds=10,
        max_missed_rings=2,
        topics={
            "general": TopicPolicy(wrap_up_seconds=5, self_service=True),
            "pensions": TopicPolicy(
                required_level=3,
                relax=(RelaxStep(after_seconds=10, min_level=1),),
                self_service=True,
            ),
        },
    )


class RouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.router = RouterState(guarded_config())
        self.now = T0
        self.counter = 0
        self.arrived: dict[str, float] = {}
        self.finished: dict[str, list[str]] = {}
        self.acted: set[str] = set()
        self.holding: dict[str, str] = {}

    # ------------------------------------------------------------ plumbing
    def send(self, event: e.Event) -> None:
        for cmd in self.router.apply(event, self.now):
            self.observe(cmd)

    def observe(self, cmd: c.Command) -> None:
        if isinstance(cmd, c.ConnectAgent | c.DialCallback):
            assert cmd.agent_id not in self.holding, f"{cmd.agent_id} got a second call"
            call_id = cmd.call_id if isinstance(cmd, c.ConnectAgent) else cmd.callback_id
            self.holding[cmd.agent_id] = call_id
            self.acted.add(call_id)
        elif isinstance(cmd, ACTIONS):
            self.acted.add(cmd.call_id)
        elif isinstance(cmd, c.StopRinging):
            self.release(cmd.call_id)
        elif isinstance(cmd, c.CallFinished):
            self.finished.setdefault(cmd.call_id, []).append(cmd.outcome)
            self.release(cmd.call_id)

    def release(self, call_id: str) -> None:
        for agent, held in list(self.holding.items()):
            if held == call_id:
                del self.holding[agent]

    def live_calls(self) -> list[str]:
        return sorted(cid for cid in self.arrived if cid not in self.finished)

    def in_state(self, state: int) -> list[tuple[str, str]]:
        return sorted(
            (item.id, item.agent.id)
            for item in self.router.items.values()
            if item.state == state and item.agent is not None
        )

    # ------------------------------------------------------------ rules
    @rule(dt=st.floats(min_value=0, max_value=25))
    def advance(self, dt: float) -> None:
        self.now += dt
        self.send(e.ScheduleTick())

    @rule(topic=st.sampled_from(TOPICS), priority=st.integers(0, 2))
    def arrive(self, topic: str, priority: int) -> None:
        self.counter += 1
        call_id = f"c{self.counter}"
        self.arrived[call_id] = self.now
        self.send(e.CallArrived(call_id, "main", topic, "ru", priority))

    @rule(agent=st.sampled_from(AGENTS), general=st.integers(0, 5), pensions=st.integers(0, 5))
    def log_in(self, agent: str, general: int, pensions: int) -> None:
        self.send(e.AgentLoggedIn(agent, {"general": general, "pensions": pensions}, {"ru": 5}))

    @rule(agent=st.sampled_from(AGENTS))
    def ready(self, agent: str) -> None:
        self.send(e.AgentReady(agent))

    @rule(agent=st.sampled_from(AGENTS))
    def pause(self, agent: str) -> None:
        self.send(e.AgentPaused(agent, "break"))

    @rule(agent=st.sampled_from(AGENTS))
    def log_out(self, agent: str) -> None:
        self.send(e.AgentLoggedOut(agent))
        if agent not in self.router.agents:
            self.holding.pop(agent, None)

    @rule(data=st.data())
    def hang_up(self, data: st.DataObject) -> None:
        live = self.live_calls()
        if live:
            self.send(e.CallerHungUp(data.draw(st.sampled_from(live))))

    @precondition(lambda self: bool(self.in_state(RINGING)))
    @rule(data=st.data(), answer=st.booleans())
    def ring_outcome(self, data: st.DataObject, answer: bool) -> None:
        call_id, agent = data.draw(st.sampled_from(self.in_state(RINGING)))
        if answer:
            self.send(e.AgentAnswered(call_id, agent))
        else:
            self.release(call_id)
            self.send(e.AgentNoAnswer(call_id, agent))

    @precondition(lambda self: bool(self.in_state(TALKING)))
    @rule(data=st.data())
    def end_call(self, data: st.DataObject) -> None:
        call_id, _agent = data.draw(st.sampled_from(self.in_state(TALKING)))
        self.send(e.CallEnded(call_id))

    @rule(agent=st.sampled_from(AGENTS))
    def wrap_up_done(self, agent: str) -> None:
        self.send(e.WrapUpEnded(agent))

    @rule(wait=st.floats(min_value=0, max_value=120), accepting=st.booleans())
    def neighbour(self, wait: float, accepting: bool) -> None:
        self.send(e.NeighbourStatus("kemerovo", {"general": wait}, accepting))

    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        live = self.live_calls()
        if not live:
            return
        call_id = data.draw(st.sampled_from(live))
        if accept:
            callback_id = f"cb-{call_id}"
            self.send(e.CallbackRequested(callback_id, "general", "ru", "", call_id))
            if callback_id in self.router.items or callback_id in self.finished:
                self.arrived[callback_id] = self.now
        else:
            self.send(e.CallbackDeclined(call_id))

    # ------------------------------------------------------------ promises
    @invariant()
    def every_call_finishes_at_most_once(self) -> None:
        for call_id, outcomes in self.finished.items():
            assert len(outcomes) == 1, f"{call_id} finished {outcomes}"

    @invariant()
    def no_agent_holds_two_calls(self) -> None:
        held = [item.agent.id for item in self.router.items.values() if item.agent is not None]
        assert len(held) == len(set(held))
        for item in self.router.items.values():
            if item.agent is not None:
                assert item.agent.item is item or item.agent.id not in self.router.agents

    @invariant()
    def nobody_passes_the_deadline_without_an_action(self) -> None:
        for call_id in self.live_calls():
            if call_id.startswith("cb-"):
                continue
            item = self.router.items.get(call_id)
            connecting = item is not None and item.state in (RINGING, TALKING)
            overdue = self.now >= self.arrived[call_id] + DEADLINE
            assert not overdue or call_id in self.acted or connecting, call_id

    def teardown(self) -> None:
        """Drain: every call that arrived ends exactly once with one outcome."""
        for call_id in self.live_calls():
            self.send(e.CallerHungUp(call_id))
        for _ in range(3):
            for call_id, _agent in self.in_state(TALKING):
                self.send(e.CallEnded(call_id))
            for call_id in self.live_calls():
                self.send(e.CallerHungUp(call_id))
        unfinished = [cid for cid in self.arrived if cid not in self.finished]
        assert unfinished == []
        assert all(len(outcomes) == 1 for outcomes in self.finished.values())
        assert set(self.finished) <= set(self.arrived)


RouterMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestRouterMachine = RouterMachine.TestCase
