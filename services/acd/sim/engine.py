"""The discrete-event loop: synthetic callers and agents around unmodified ACD cores.

One ``RouterState`` per centre receives exactly the events a production router would (arrivals,
hang-ups, answers, call ends, logins, neighbour status, ticks at ``next_timer()``), and the
commands it returns are acted out: rings are answered or missed, calls end after a drawn handle
time, callers abandon after a drawn patience, offered callbacks are accepted with a probability,
overflowed calls arrive at the neighbour. Each call is followed from its first centre to its
final outcome; per-call data lives in flat arrays indexed by call number (call id ``str(n)``),
because this loop is the simulator's hot path and is benchmarked against Ciw.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from services.acd import commands as c
from services.acd import events as e
from services.acd.router import RouterState
from services.acd.sim.metrics import Tally, histogram, summarise
from services.acd.sim.scenario import HALF_HOUR, Policy, Scenario, Stream
from services.acd.wallboard import advertised_waits

END, HANGUP, ANSWER, NO_ANSWER, TICK, STATUS, LOGIN, LOGOUT, BACK = range(9)
INF = math.inf
_new = tuple.__new__


@dataclass
class SimResult:
    """The JSON summary, plus the raw series the charts need (waits, per-interval counts)."""

    summary: dict[str, Any]
    waits: list[float] = field(default_factory=list)
    interval_calls: list[int] = field(default_factory=list)
    interval_within: list[int] = field(default_factory=list)


def routers_for(scenario: Scenario, policy: Policy) -> list[RouterState]:
    """One router per centre, with the policy's switches applied to its configuration."""
    routers = []
    for centre in scenario.centres:
        config = centre.router.model_copy(update={"centre": centre.name})
        if policy == "plain":
            config = config.plain()
        elif policy == "queue_only":
            config = config.model_copy(
                update={"guarantee": False, "overflow": False, "callbacks": False}
            )
        routers.append(RouterState(config))
    return routers


class Simulation:
    """One run of a scenario with one seed; ``run()`` returns the figures."""

    def __init__(
        self, scenario: Scenario, seed: int | None = None, policy: Policy | None = None
    ) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.policy: Policy = policy or scenario.policy
        self.rng = rng = random.Random(self.seed)
        self.epoch = scenario.start.timestamp()
        self.routers = routers_for(scenario, self.policy)
        self.names = [centre.name for centre in scenario.centres]
        self.neighbours = [
            [self.names.index(n) for n in centre.neighbours] for centre in scenario.centres
        ]
        self.tallies = [Tally() for _ in scenario.centres]
        self.streams: list[tuple[int, Stream]] = [
            (i, s) for i, centre in enumerate(scenario.centres) for s in centre.arrivals
        ]
        plain = self.policy == "plain"
        self.handle = [s.handle.sampler(rng) for _, s in self.streams]
        self.patience = [(None if plain else s.patience.sampler(rng)) for _, s in self.streams]
        self.ring = [centre.ring_seconds.sampler(rng) for centre in scenario.centres]
        self.answer_probability: dict[str, float] = {}
        self.callbacks: dict[str, tuple[int, int]] = {}
        self.heap: list[tuple[Any, ...]] = []
        self.order = count()
        self.tick_at = [INF] * len(self.routers)
        self.busy = [0.0] * len(self.routers)
        self.waits: list[float] = []
        self.ewt_errors: list[float] = []
        intervals = scenario.intervals
        self.interval_calls = [0] * intervals
        self.interval_within = [0] * intervals
        self.answer_within = [r.config.answer_within_seconds for r in self.routers]
        self.wrap = [
            [r.config.topic(s.topic).wrap_up_seconds for _, s in self.streams] for r in self.routers
        ]
        self.stream_facts = [
            (self.tallies[centre], self.answer_within[centre]) for centre, _ in self.streams
        ]
        # Per call, indexed by call number - 1 (filled in ``run``).
        self.arrivals: list[tuple[float, int]] = []
        self.first_action: list[float] = []
        self.answer_time: list[float] = []
        self.moved: dict[int, int] = {}
        self.open_calls = 0

    # ------------------------------------------------------------------ setup
    def _arrival_times(self) -> list[tuple[float, int]]:
        arrivals: list[tuple[float, int]] = []
        expovariate = self.rng.expovariate
        for index, (_, stream) in enumerate(self.streams):
            for interval, per_half_hour in enumerate(stream.per_half_hour):
                if per_half_hour <= 0:
                    continue
                rate = per_half_hour / HALF_HOUR
                t = self.epoch + interval * HALF_HOUR
                end = t + HALF_HOUR
                t += expovariate(rate)
                while t < end:
                    arrivals.append((t, index))
                    t += expovariate(rate)
        arrivals.sort()
        return arrivals

    def _schedule_agents(self) -> None:
        for index, centre in enumerate(self.scenario.centres):
            for group in centre.agents:
                start = 0.0 if group.shift is None else group.shift[0]
                for n in range(group.count):
                    agent_id = f"{group.name}-{n + 1}"
                    self.answer_probability[agent_id] = group.answer_probability
                    login = self.epoch + start * 3600
                    self._push(login, LOGIN, index, agent_id, group.skills, group.languages)
                    if group.shift is not None:
                        self._push(self.epoch + group.shift[1] * 3600, LOGOUT, index, agent_id)

    def _staffed_time(self, end: float) -> None:
        """Logged-in seconds per centre; agents without a shift stay until the run ends."""
        elapsed = max(self.scenario.horizon_seconds, end - self.epoch)
        for index, centre in enumerate(self.scenario.centres):
            for group in centre.agents:
                start, stop = (0.0, elapsed / 3600) if group.shift is None else group.shift
                window = min(stop * 3600, elapsed) - max(start * 3600, 0.0)
                self.tallies[index].staffed_seconds += group.count * max(0.0, window)

    def _push(self, t: float, kind: int, *payload: Any) -> None:
        heapq.heappush(self.heap, (t, next(self.order), kind, *payload))

    # ------------------------------------------------------------------ loop
    def run(self) -> SimResult:
        self._schedule_agents()
        if any(self.neighbours) and self.policy == "full":
            self._push(self.epoch, STATUS, -1)
        self.arrivals = arrivals = self._arrival_times()
        self.first_action = [-1.0] * len(arrivals)
        self.answer_time = [-1.0] * len(arrivals)
        self.open_calls = len(arrivals)
        heap = self.heap
        limit = self.epoch + self.scenario.horizon_seconds + self.scenario.drain_hours * 3600
        n_arrivals = len(arrivals)
        next_index = 0
        pop = heapq.heappop
        push = heapq.heappush
        order = self.order
        applies = [router.apply for router in self.routers]
        timers = [router.timers for router in self.routers]
        tick_at = self.tick_at
        execute = self._execute
        patience = self.patience
        arrived_fields = [
            (centre, (self.names[centre], s.topic, s.language, s.priority, "", "", ""))
            for centre, s in self.streams
        ]
        t = self.epoch
        while True:  # arrivals and call ends, the two events of every call, are inlined here
            if next_index < n_arrivals and (not heap or arrivals[next_index][0] <= heap[0][0]):
                t, stream = arrivals[next_index]
                next_index += 1
                centre, fields = arrived_fields[stream]
                call_id = str(next_index)
                draw = patience[stream]
                if draw is not None:
                    wait = draw()
                    if wait != INF:
                        push(heap, (t + wait, next(order), HANGUP, centre, call_id))
                execute(centre, applies[centre](_new(e.CallArrived, (call_id, *fields)), t), t)
            elif not heap:
                break
            else:
                entry = pop(heap)
                t = entry[0]
                if t > limit:
                    break
                kind = entry[2]
                centre = entry[3]
                if kind == END:
                    execute(centre, applies[centre](_new(e.CallEnded, (entry[4],)), t), t)
                elif kind == TICK:
                    tick_at[centre] = INF
                    execute(centre, applies[centre](e.ScheduleTick(), t), t)
                else:
                    self._other(kind, entry, t)
                    continue
            router_timers = timers[centre]
            if router_timers and router_timers[0][0] < tick_at[centre]:
                tick_at[centre] = due = router_timers[0][0]
                push(heap, (due, next(order), TICK, centre))
        self._tally_calls(next_index)
        self._staffed_time(min(t, limit))
        return self._result()

    def _tally_calls(self, arrived: int) -> None:
        """Per-call figures, tallied once at the end rather than in the hot loop."""
        epoch = self.epoch
        interval_calls = self.interval_calls
        interval_within = self.interval_within
        waits = self.waits
        for number, (t, stream) in enumerate(self.arrivals[:arrived]):
            tally, promise = self.stream_facts[stream]
            tally.calls += 1
            interval = int((t - epoch) // HALF_HOUR)
            interval_calls[interval] += 1
            answered_at = self.answer_time[number]
            if answered_at < 0:
                continue
            wait = answered_at - t
            tally.answered += 1
            tally.wait_sum += wait
            waits.append(wait)
            if wait <= promise:
                tally.within += 1
                interval_within[interval] += 1
            elif self.first_action[number] > t + promise:
                tally.violations += 1

    def _other(self, kind: int, entry: tuple[Any, ...], t: float) -> None:
        if kind == HANGUP:
            number = int(entry[4]) - 1
            if self.answer_time[number] < 0:
                centre = self.moved.get(number, entry[3])
                self._apply(centre, e.CallerHungUp(entry[4]), t)
        elif kind == ANSWER:
            self._apply(entry[3], e.AgentAnswered(entry[4], entry[5]), t)
        elif kind == NO_ANSWER:
            self._apply(entry[3], e.AgentNoAnswer(entry[4], entry[5]), t)
        elif kind == LOGIN:
            self._apply(entry[3], e.AgentLoggedIn(entry[4], entry[5], entry[6]), t)
            self._apply(entry[3], e.AgentReady(entry[4]), t)
        elif kind == LOGOUT:
            self._apply(entry[3], e.AgentLoggedOut(entry[4]), t)
        elif kind == BACK:
            self._apply(entry[3], e.AgentReady(entry[4]), t)
        elif kind == STATUS:
            for index, neighbours in enumerate(self.neighbours):
                for other in neighbours:
                    status = e.NeighbourStatus(
                        self.names[other], advertised_waits(self.routers[other])
                    )
                    self._apply(index, status, t)
            if t < self.epoch + self.scenario.horizon_seconds:
                self._push(t + self.scenario.status_interval_seconds, STATUS, -1)

    def _apply(self, index: int, event: e.Event, t: float) -> list[c.Command]:
        router = self.routers[index]
        commands = router.apply(event, t)
        self._execute(index, commands, t)
        due = router.next_timer()
        if due is not None and due < self.tick_at[index]:
            self.tick_at[index] = due
            self._push(due, TICK, index)
        return commands

    # ------------------------------------------------------------------ commands
    def _execute(self, index: int, commands: list[c.Command], t: float) -> None:
        for cmd in commands:
            if type(cmd) is c.ConnectAgent:
                number = int(cmd.call_id) - 1
                if self.first_action[number] < 0:
                    self.first_action[number] = t
                if not cmd.auto_answer:
                    self._ring(index, cmd, t)
                    continue
                self._answered(index, number, cmd.call_id, cmd.expected_wait, t)
            elif type(cmd) is c.CallFinished:
                if cmd.outcome == "answered":
                    self.open_calls -= 1  # answered calls' violations are counted in _answered
                else:
                    self._finished(cmd, t)
            elif type(cmd) is c.Queued:
                continue
            elif isinstance(cmd, c.CallAnswered):
                self._answered(index, int(cmd.call_id) - 1, cmd.call_id, cmd.expected_wait, t)
            elif isinstance(cmd, c.DialCallback):
                origin, stream = self.callbacks[cmd.callback_id]
                if cmd.waited <= self.routers[index].config.callback_within_seconds:
                    self.tallies[origin].callbacks_dialled_in_time += 1
                handle = self.handle[stream]()
                self.busy[index] += handle + self.wrap[index][stream]
                self._push(t + handle, END, index, cmd.callback_id)
            elif isinstance(cmd, c.OverflowTo):
                self._overflow(index, cmd, t)
            elif isinstance(cmd, c.OfferCallback):
                self._offer_callback(index, cmd, t)
            elif isinstance(cmd, c.PauseAgent):
                back = t + self.scenario.pause_recovery_seconds
                self._push(back, BACK, index, cmd.agent_id)
            elif isinstance(cmd, c.PlaySelfService | c.PlayAutoAttendant | c.EndCall):
                number = int(cmd.call_id) - 1
                if self.first_action[number] < 0:
                    self.first_action[number] = t

    def _answered(self, index: int, number: int, call_id: str, estimate: float, t: float) -> None:
        """An operator took the call: note when (figures are tallied at the end) and end it."""
        arrived, stream = self.arrivals[number]
        self.answer_time[number] = t
        if estimate > 0:
            self.ewt_errors.append(t - arrived - estimate)
        handle = self.handle[stream]()
        self.busy[index] += handle + self.wrap[index][stream]
        heapq.heappush(self.heap, (t + handle, next(self.order), END, index, call_id))

    def _ring(self, index: int, cmd: c.ConnectAgent, t: float) -> None:
        ring = self.ring[index]()
        if ring < cmd.ring_timeout and self.rng.random() < self.answer_probability[cmd.agent_id]:
            self._push(t + ring, ANSWER, index, cmd.call_id, cmd.agent_id)
        else:
            self._push(t + cmd.ring_timeout, NO_ANSWER, index, cmd.call_id, cmd.agent_id)

    def _finished(self, cmd: c.CallFinished, t: float) -> None:
        outcome = cmd.outcome
        if outcome == "overflowed" or outcome.startswith("callback_"):
            return
        self.open_calls -= 1
        number = int(cmd.call_id) - 1
        arrived, stream = self.arrivals[number]
        origin = self.streams[stream][0]
        tally = self.tallies[origin]
        if outcome == "abandoned":
            tally.abandoned += 1
        elif outcome == "self_service":
            tally.self_service += 1
        elif outcome == "night":
            tally.night += 1
        elif outcome == "ended":
            tally.ended += 1
        first = self.first_action[number]
        limit = arrived + self.answer_within[origin]
        if (first < 0 and t > limit) or first > limit:
            tally.violations += 1

    def _overflow(self, index: int, cmd: c.OverflowTo, t: float) -> None:
        number = int(cmd.call_id) - 1
        if self.first_action[number] < 0:
            self.first_action[number] = t
        _, stream_index = self.arrivals[number]
        origin, stream = self.streams[stream_index]
        self.tallies[origin].overflowed += 1
        target = self.names.index(cmd.centre)
        self.moved[number] = target
        event = e.CallArrived(
            cmd.call_id,
            cmd.centre,
            stream.topic,
            stream.language,
            stream.priority,
            overflowed_from=self.names[index],
        )
        self._apply(target, event, t)

    def _offer_callback(self, index: int, cmd: c.OfferCallback, t: float) -> None:
        number = int(cmd.call_id) - 1
        if self.first_action[number] < 0:
            self.first_action[number] = t
        _, stream_index = self.arrivals[number]
        origin, stream = self.streams[stream_index]
        tally = self.tallies[origin]
        tally.callbacks_offered += 1
        if self.rng.random() < stream.callback_accept_probability:
            callback_id = f"cb-{cmd.call_id}"
            self.callbacks[callback_id] = (origin, stream_index)
            request = e.CallbackRequested(
                callback_id, stream.topic, stream.language, call_id=cmd.call_id
            )
            answer = self._apply(index, request, t)
            if any(isinstance(x, c.Decision) and x.action == "keep_call" for x in answer):
                del self.callbacks[callback_id]  # an agent took the call in the meantime
            else:
                tally.callbacks_requested += 1
        else:
            self._apply(index, e.CallbackDeclined(cmd.call_id), t)

    # ------------------------------------------------------------------ result
    def _result(self) -> SimResult:
        overall = Tally()
        for tally, busy in zip(self.tallies, self.busy, strict=True):
            tally.busy_seconds = busy
        for tally in self.tallies:
            overall.add(tally)
        centres = {name: summarise(t) for name, t in zip(self.names, self.tallies, strict=True)}
        summary: dict[str, Any] = {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "policy": self.policy,
            **summarise(overall),
            "unfinished": self.open_calls,
            "centres": centres,
            "wait_estimate_error_histogram": histogram(self.ewt_errors, 10.0, -60.0, 120.0),
            "service_level_by_interval": [
                round(w / n, 4) if n else None
                for w, n in zip(self.interval_within, self.interval_calls, strict=True)
            ],
        }
        return SimResult(summary, self.waits, self.interval_calls, self.interval_within)


def simulate(
    scenario: Scenario, seed: int | None = None, policy: Policy | None = None
) -> SimResult:
    """Run ``scenario`` once; ``seed`` and ``policy`` override the file's values."""
    return Simulation(scenario, seed, policy).run()
