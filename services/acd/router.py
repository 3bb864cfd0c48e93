"""The ACD core: a deterministic state machine with no I/O, no clock and no randomness.

``RouterState.apply(event, now)`` (or ``step(state, event, now)``) updates the state and returns
the commands to execute. ``now`` is Unix time in seconds (UTC) as a float, supplied by the caller;
timers (hard deadlines, relaxation steps, wrap-up ends) live in the state and fire at the start
of the next ``apply`` whose ``now`` has reached them, using their own due time, so a shell only
has to deliver a ``ScheduleTick`` at ``next_timer()``. For speed the state is updated in place;
replaying the same event log into a fresh state rebuilds it exactly (see ``replay``).
The per-event handlers live in ``handlers``; this module holds the state and the operations
they share (matching, offering, queueing, timers, the 40-second rule).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from services.acd import callbacks
from services.acd import commands as c
from services.acd import events as e
from services.acd.config import RouterConfig, TopicPolicy
from services.acd.estimate import HandleTimes, expected_wait
from services.acd.fallback import choose_fallback
from services.acd.handlers import HANDLERS
from services.acd.model import (
    BUSY_RINGING,
    BUSY_TALKING,
    CALL,
    CALLBACK,
    DONE,
    IDLE,
    OFFLINE,
    READY,
    RINGING,
    SCHEDULED,
    T_CALLBACK,
    T_DEADLINE,
    T_HOURS,
    T_WRAP,
    TALKING,
    WAITING,
    WRAPUP,
    Agent,
    Bucket,
    Item,
)

# Records on the hot path are built with tuple.__new__ directly: the generated NamedTuple
# __new__ is a Python-level function and costs about twice as much per call.
_new = tuple.__new__


class RouterState:
    """All live state of one centre's router."""

    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self.seq = 0
        self.items: dict[str, Item] = {}
        self.agents: dict[str, Agent] = {}
        self.buckets: dict[tuple[str, str], Bucket] = {}
        self.timers: list[tuple[float, int, int, str]] = []
        self.handle_times = HandleTimes(config.handle_time_window)
        self.neighbours: dict[str, e.NeighbourStatus] = {}
        self.night_override = "auto"
        self.emergency: str | None = None
        self._night_minute = -1
        self._night_value = False
        self._night_possible = config.night.enabled
        self._policies = dict(config.topics)
        self._auto_answer = config.auto_answer
        self._ring_timeout = config.ring_timeout_seconds
        self._centre = config.centre
        self._answer_within = config.answer_within_seconds
        self._relaxation = config.relaxation
        self._guarantee = config.guarantee
        self._deadline = config.deadline_seconds
        self._default_topic = config.default_topic
        self._announce = config.announce_position
        self.pending_callers: dict[str, Item] = {}
        """Unfinished callbacks by the citizen's number: duplicates merge into these."""
        self._callback_lead = config.callback_lead_seconds
        self._hours_minute = -1
        self._hours_value = False
        self._hours_timer = 0.0

    # ----------------------------------------------------------------- public API
    def apply(self, event: e.Event, now: float) -> list[c.Command]:
        """Fire due timers, then handle ``event``; return the commands in order."""
        out: list[c.Command] = []
        if self.timers and self.timers[0][0] <= now:
            self.fire_timers(now, out)
        HANDLERS[type(event)](self, event, now, out)
        return out

    def next_timer(self) -> float | None:
        """When the shell should deliver a ``ScheduleTick`` (stale timers included)."""
        return self.timers[0][0] if self.timers else None

    def is_night(self, now: float) -> bool:
        """Night mode: the supervisor override, else the schedule (cached per minute)."""
        if self.night_override != "auto":
            return self.night_override == "night"
        minute = int(now // 60)
        if minute != self._night_minute:
            self._night_minute = minute
            self._night_value = self.config.night.is_night(now)
        return self._night_value

    def estimate(self, bucket: Bucket, priority: int) -> float:
        """Expected wait of a new arrival in ``bucket`` at ``priority``."""
        policy = self._policies.get(bucket.topic) or self._default_topic
        return self._estimate(bucket, bucket.calls_ahead(priority), policy)

    def _estimate(self, bucket: Bucket, ahead: int, policy: TopicPolicy) -> float:
        handle = bucket.handle
        cycle = sum(handle) / len(handle) if handle else policy.default_handle_seconds
        return expected_wait(ahead, bucket.staffed, cycle + policy.wrap_up_seconds)

    # ----------------------------------------------------------------- helpers
    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _bucket(self, topic: str, language: str) -> Bucket:
        bucket = self.buckets.get((topic, language))
        if bucket is None:
            handle = self.handle_times.samples(topic)
            bucket = self.buckets[(topic, language)] = Bucket(topic, language, handle)
        return bucket

    def _push_timer(self, due: float, kind: int, ref: str) -> int:
        token = self._next_seq()
        heapq.heappush(self.timers, (due, token, kind, ref))
        return token

    def fire_timers(self, now: float, out: list[c.Command]) -> None:
        """Fire the timers due by ``now``, each at its own due time (the first half of ``apply``).

        ``apply`` is this plus the event's handler; the simulator spells that out for its two
        hot events rather than pay for the extra call.
        """
        timers = self.timers
        due_now: list[Item] = []
        while timers and timers[0][0] <= now:
            due, token, kind, ref = heapq.heappop(timers)
            if kind == T_WRAP:
                agent = self.agents.get(ref)
                if agent is not None and agent.wrap_token == token:
                    self._after_call(agent, due, out)
                continue
            if kind == T_HOURS:
                self._hours_timer = 0.0
                callbacks.dispatch_callbacks(self, due, out)
                continue
            item = self.items.get(ref)
            if kind == T_CALLBACK:
                # Callbacks due at the same moment all join the line before any is placed,
                # so agents take them in deadline order, not in timer order.
                if item is not None and item.state == SCHEDULED and item.token == token:
                    callbacks.queue(self, item)
                    due_now.append(item)
                if not timers or timers[0][0] != due or timers[0][2] != T_CALLBACK:
                    for waiting in due_now:
                        self._place(waiting, due, out)
                    due_now.clear()
                continue
            if item is None or item.state != WAITING:
                continue
            if kind == T_DEADLINE:
                if not item.acted:
                    self._act_before_deadline(item, due, "deadline", out)
            else:
                self._place(item, due, out)

    def _find_agent(self, item: Item, now: float) -> tuple[Agent, int] | None:
        """Longest-idle agent among the best-qualified ready agents the item accepts."""
        bucket = item.bucket
        ready = bucket.ready
        lowest = item.min_level(now) if item.relax else item.level
        for level in bucket.levels:
            if level < lowest:
                break
            agents = ready[level]
            if agents:
                return next(iter(agents.values())), level
        return None

    def _best_item(self, agent: Agent, now: float) -> tuple[Item, int] | None:
        """Highest priority first, then earliest due (longest wait), over all the agent's lanes.

        The earliest-deadline callback the agent can take competes by its line position, and
        wins outright once its slack is under ``callback_lead_seconds``.
        """
        best: Item | None = None
        best_key = (0, 0.0)
        best_level = 0
        callback: Item | None = None
        callback_level = 0
        for bucket, level in agent.memberships:
            if not bucket.waiting:
                continue
            if bucket.callbacks_live:
                head = bucket.callback_head()
                if callback is None or callbacks.edf_key(head) < callbacks.edf_key(callback):
                    callback, callback_level = head, level
            for lane in bucket.lanes:
                if not lane.live:
                    continue
                head = lane.head()
                if (head.min_level(now) if head.relax else head.level) > level:
                    continue
                key = (-lane.priority, head.due)
                if best is None or key < best_key:
                    best, best_key, best_level = head, key, level
        if callback is not None and callbacks.callback_first(self, callback, best, best_key, now):
            return callback, callback_level
        return None if best is None else (best, best_level)

    def _place(self, item: Item, now: float, out: list[c.Command]) -> None:
        """Serve agents that became eligible for ``item`` (each takes its own best item)."""
        while item.state == WAITING:
            found = self._find_agent(item, now)
            if found is None:
                return
            agent = found[0]
            best = self._best_item(agent, now)
            if best is None:
                return
            self._offer(best[0], agent, best[1], now, out, from_ready=True)

    def _unready(self, agent: Agent) -> None:
        for bucket, level in agent.memberships:
            del bucket.ready[level][agent.id]
            bucket.ready_count -= 1

    def _set_staffed(self, agent: Agent, delta: int) -> None:
        for bucket, _ in agent.memberships:
            bucket.staffed += delta

    def _make_idle(self, agent: Agent, now: float, out: list[c.Command]) -> None:
        """The agent is free: take the best waiting item, or join the ready lists."""
        agent.activity = IDLE
        agent.item = None
        if agent.intent != READY:
            return
        memberships = agent.memberships
        if len(memberships) > 1 or (memberships and memberships[0][0].waiting):
            best = self._best_item(agent, now)
            if best is not None:
                self._offer(best[0], agent, best[1], now, out, from_ready=False)
                return
        agent.idle_since = now
        for bucket, level in agent.memberships:
            bucket.ready[level][agent.id] = agent
            bucket.ready_count += 1

    def _dequeue(self, item: Item) -> None:
        lane = item.lane
        if lane is not None:
            lane.live -= 1
            item.bucket.waiting -= 1
            item.lane = None

    def _offer(
        self,
        item: Item,
        agent: Agent,
        level: int,
        now: float,
        out: list[c.Command],
        from_ready: bool,
    ) -> None:
        if item.lane is not None:  # offers from a line always take its head
            item.lane.items.popleft()
            self._dequeue(item)
        if from_ready:
            self._unready(agent)
        agent.item = item
        item.agent = agent
        self.seq += 1
        waited = now - item.arrived
        if item.kind == CALLBACK:
            callbacks.unqueue(self, item)
            item.state = RINGING
            agent.activity = BUSY_RINGING
            dial = c.DialCallback(
                self.seq,
                item.id,
                agent.id,
                item.caller,
                waited,
                item.attempt,
                item.topic,
                self._ring_timeout,
            )
            out.append(dial)
            return
        auto = self._auto_answer
        if auto:
            item.state = TALKING
            agent.activity = BUSY_TALKING
            item.connected_at = now
            agent.misses = 0
            if item.caller and self.pending_callers:
                callbacks.close_callback(self, item.caller, out)
        else:
            item.state = RINGING
            agent.activity = BUSY_RINGING
        connect = (
            self.seq,
            item.id,
            agent.id,
            self._ring_timeout,
            auto,
            waited,
            item.expected_wait,
            level,
        )
        out.append(_new(c.ConnectAgent, connect))

    def _finish(self, item: Item, outcome: str, out: list[c.Command]) -> None:
        if item.kind == CALLBACK:
            if item.state == WAITING:
                callbacks.unqueue(self, item)
            if self.pending_callers.get(item.caller) is item:
                del self.pending_callers[item.caller]
        elif item.state == WAITING:
            self._dequeue(item)
        item.state = DONE
        del self.items[item.id]
        self.seq += 1
        out.append(_new(c.CallFinished, (self.seq, item.id, outcome)))

    def _act_before_deadline(
        self, item: Item, now: float, reason: str, out: list[c.Command]
    ) -> None:
        """The 40-second rule: overflow, offer a callback or hand to self-service."""
        if reason == "deadline":
            item.expected_wait = self.estimate(item.bucket, item.priority)
        choice = choose_fallback(
            self.config,
            item.policy,
            neighbours=self.neighbours,
            topic=item.topic,
            own_wait=item.expected_wait,
            may_overflow=not item.overflowed_from,
            may_offer_callback=not item.offered,
        )
        seq = self._next_seq()
        if choice is None:
            if not item.bucket.staffed:
                # Nobody logged in can ever take it: say so and end rather than hold forever.
                out.append(c.EndCall(seq, item.id, f"{reason}: no agent for this topic"))
                item.acted = True
                self._finish(item, "ended", out)
                return
            out.append(c.Decision(seq, item.id, "none", f"{reason}: no fallback available"))
            return
        action, centre, neighbour_wait = choice
        item.acted = True
        if action == "overflow":
            out.append(
                c.OverflowTo(seq, item.id, centre, reason, item.expected_wait, neighbour_wait)
            )
            self._finish(item, "overflowed", out)
        elif action == "callback":
            item.offered = True
            out.append(c.OfferCallback(seq, item.id, reason, item.expected_wait))
        else:
            out.append(c.PlaySelfService(seq, item.id, item.topic, reason))
            self._finish(item, "self_service", out)

    def _requeue(self, item: Item) -> None:
        """Back to the head of its line: it keeps its place and its original wait."""
        item.agent = None
        if item.kind == CALLBACK:
            callbacks.queue(self, item)
            return
        item.state = WAITING
        lane = item.bucket.lane(item.priority)
        lane.items.appendleft(item)
        lane.live += 1
        item.bucket.waiting += 1
        item.lane = lane

    def _after_requeue(self, item: Item, now: float, out: list[c.Command]) -> None:
        config = self.config
        past_deadline = now >= item.arrived + config.deadline_seconds
        if config.guarantee and past_deadline and not item.acted and item.kind == CALL:
            self._act_before_deadline(item, now, "deadline", out)
        if item.state == WAITING:
            self._place(item, now, out)

    def _wrap_up(self, agent: Agent, item: Item, now: float, out: list[c.Command]) -> None:
        """After a conversation: the topic's wrap-up time, then the next item."""
        wrap = item.policy.wrap_up_seconds
        if agent.intent == OFFLINE:
            self._after_call(agent, now, out)
        elif wrap:
            agent.activity = WRAPUP
            agent.item = None
            agent.wrap_token = self._push_timer(now + wrap, T_WRAP, agent.id)
        else:
            self._make_idle(agent, now, out)

    def _after_call(self, agent: Agent, now: float, out: list[c.Command]) -> None:
        agent.wrap_token = 0
        if agent.intent == OFFLINE:
            del self.agents[agent.id]
            return
        self._make_idle(agent, now, out)


def step(state: RouterState, event: e.Event, now: float) -> tuple[RouterState, list[c.Command]]:
    """Functional spelling of ``state.apply``; the same (updated) state object is returned."""
    return state, state.apply(event, now)


def replay(config: RouterConfig, log: Iterable[tuple[float, e.Event]]) -> RouterState:
    """Rebuild a router's state after a restart from its recorded ``(now, event)`` log."""
    state = RouterState(config)
    for now, event in log:
        state.apply(event, now)
    return state
