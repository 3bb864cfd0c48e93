"""The discrete-event loop: synthetic callers and agents around unmodified ACD cores.

One ``RouterState`` per centre receives exactly the events a production router would (arrivals,
hang-ups, answers, call ends, logins, neighbour status, ticks at ``next_timer()``), and the
commands it returns are acted out: rings are answered or missed, calls end after a drawn handle
time, callers abandon after a drawn patience, offered callbacks are accepted with a probability,
overflowed calls arrive at the neighbour. Arrivals and call ends go in through the core's
``arrive`` and ``end_call`` (the handlers' code, without event records) in quiet mode: a call
connected on auto-answer, and an answered call's end, come back as results instead of records.
Each call is followed from its first centre to its final outcome; per-call data lives in flat
arrays indexed by call number (the call id is the int ``n``, the index ``n - 1``), because this
loop is the simulator's hot path and is benchmarked against Ciw.
"""

from __future__ import annotations

import gc
import heapq
import math
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from itertools import accumulate, chain, compress, count, islice, repeat
from operator import add, and_, sub
from typing import Any

from services.acd import commands as c
from services.acd import events as e
from services.acd.handlers import arrive, end_call
from services.acd.router import RouterState
from services.acd.sim.metrics import Tally, histogram, summarise
from services.acd.sim.scenario import HALF_HOUR, Policy, Scenario, Stream
from services.acd.wallboard import advertised_waits

END, HANGUP, ANSWER, NO_ANSWER, TICK, STATUS, LOGIN, LOGOUT, BACK, RESULT = range(10)
INF = math.inf
UNSET = -1.0
"""``answer_time`` and ``first_action`` of a call that has none (yet)."""
Queued = c.Queued


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


@dataclass(slots=True)
class SimCallback:
    """A simulated citizen waiting for a callback: where they called and the first promise."""

    origin: int
    stream: int
    deadline: float = INF
    attempt: int = 1
    dialled: bool = False


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
        self.callbacks: dict[str, SimCallback] = {}
        self.dial = [s.callback_dial.sampler(rng) for _, s in self.streams]
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
        self.arrival_at: list[float] = []
        self.arrival_stream: list[int] = []
        self.first_action: list[float] = []
        self.answer_time: list[float] = []
        self.moved: dict[int, int] = {}
        self.open_calls = 0

    # ------------------------------------------------------------------ setup
    def _handles_only_draws(self) -> bool:
        """Whether, once arrivals are drawn, the run draws nothing but one stream's handle times.

        That is so under ``plain`` (no patience, no callbacks) with auto-answer everywhere (no
        ring times, no missed rings) and a single stream (no interleaving of distributions).
        """
        auto = all(router.config.auto_answer for router in self.routers)
        return self.policy == "plain" and auto and len(self.streams) == 1

    def _arrival_times(self) -> tuple[list[float], list[int]]:
        """Poisson arrival times of every stream, merged in time order, and their streams."""
        times: list[float] = []
        streams: list[int] = []
        for index, (_, stream) in enumerate(self.streams):
            for interval, per_half_hour in enumerate(stream.per_half_hour):
                if per_half_hour <= 0:
                    continue
                start = self.epoch + interval * HALF_HOUR
                drawn = self._poisson(start, start + HALF_HOUR, per_half_hour / HALF_HOUR)
                times.extend(drawn)
                streams.extend([index] * len(drawn))
        if len(self.streams) > 1:  # a stable sort: at equal times the lower stream goes first
            merged = sorted(range(len(times)), key=times.__getitem__)
            times = [times[i] for i in merged]
            streams = [streams[i] for i in merged]
        return times, streams

    def _poisson(self, t: float, end: float, rate: float) -> list[float]:
        """Arrival times in [t, end): the draws and sums of ``t += expovariate(rate)`` until past
        ``end``, mostly drawn in blocks that stop short of the end, then one at a time."""
        rng, log = self.rng, math.log
        uniform = rng.random
        times: list[float] = []
        while True:
            expected = (end - t) * rate
            size = int(expected - 4 * math.sqrt(expected))
            if size < 16:
                break
            saved = rng.getstate()
            gaps = [-log(1.0 - uniform()) / rate for _ in range(size)]
            block = list(accumulate(gaps, initial=t))
            if block[-1] >= end:  # rare: the block went past the end; take its draws back
                rng.setstate(saved)
                break
            times.extend(islice(block, 1, None))
            t = block[-1]
        t += -log(1.0 - uniform()) / rate
        while t < end:
            times.append(t)
            t += -log(1.0 - uniform()) / rate
        return times

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
        collecting = gc.isenabled()
        gc.disable()  # reference counting frees what the loop drops; collector passes only cost
        try:
            return self._run()
        finally:
            if collecting:
                gc.enable()

    def _run(self) -> SimResult:
        self._schedule_agents()
        if any(self.neighbours) and self.policy == "full":
            self._push(self.epoch, STATUS, -1)
        self.arrival_at, self.arrival_stream = arrival_at, arrival_stream = self._arrival_times()
        n_arrivals = len(arrival_at)
        if self._handles_only_draws():
            # Every call is answered once, so at most one handle time per arrival: draw them all
            # now (in a comprehension, the same values in the same order), then one by one.
            sampler = self.handle[0]
            drawn = self.streams[0][1].handle.draws(self.rng, n_arrivals)
            self.handle[0] = chain(drawn, iter(sampler, None)).__next__
        self.first_action = [UNSET] * n_arrivals
        self.answer_time = answer_time = [UNSET] * n_arrivals
        heap = self.heap
        limit = self.epoch + self.scenario.horizon_seconds + self.scenario.drain_hours * 3600
        next_index = 0
        finished = 0  # calls answered and over, counted here rather than in ``open_calls``
        pop = heapq.heappop
        push = heapq.heappush
        replace = heapq.heapreplace
        order = self.order
        routers = self.routers
        fire = [router.fire_timers for router in routers]
        timers = [router.timers for router in routers]
        tick_at = self.tick_at
        execute = self._execute
        patience = self.patience
        handles, busy, wrap = self.handle, self.busy, self.wrap
        ewt_errors = self.ewt_errors
        per_stream = [  # what an arrival of each stream needs, in one tuple
            (
                centre,
                self.names[centre],
                s.topic,
                s.language,
                s.priority,
                wrap[centre][index],
                patience[index],
                routers[centre],
                timers[centre],
            )
            for index, (centre, s) in enumerate(self.streams)
        ]
        # Call ids are the call numbers 1..n: ints are cheaper than strings, and the core only
        # uses ids as keys. ``Any``, as the core's signatures say ``str``.
        call_ids = list(range(1, n_arrivals + 1))
        call_id: Any
        times = [*arrival_at, INF]  # INF: no arrival left
        push(heap, (INF, -1))  # never popped: ``heap[0]`` always exists
        t = self.epoch
        next_t = times[0]  # of the next arrival
        # Arrivals and call ends, the two events of every call, are inlined here, and so is
        # ``RouterState.apply`` for them: fire the router's due timers, then the handler.
        while True:
            if next_t <= heap[0][0]:  # an arrival goes before a simultaneous event
                if next_t == INF:
                    break
                t = next_t
                stream = arrival_stream[next_index]
                call_id = call_ids[next_index]
                next_index += 1
                next_t = times[next_index]
                centre, name, topic, language, priority, wrap_up, draw, router, router_timers = (
                    per_stream[stream]
                )
                if draw is not None:
                    wait = draw()
                    if wait != INF:
                        push(heap, (t + wait, next(order), HANGUP, centre, call_id))
                out: list[c.Command] = []
                if router_timers and router_timers[0][0] <= t:
                    router.fire_timers(t, out)
                if arrive(router, call_id, name, topic, language, priority, "", "", t, out, True):
                    # Answered on arrival (auto-answer), unrecorded: ``_execute`` spelled out
                    # for it, after what the due timers did. A fresh call has no estimate.
                    if out:
                        execute(centre, out, t)
                    answer_time[next_index - 1] = t
                    handle = handles[stream]()
                    busy[centre] += handle + wrap_up
                    push(heap, (t + handle, next(order), END, centre, call_id))
                elif len(out) != 1 or type(out[0]) is not Queued:  # queued: nothing to act out
                    execute(centre, out, t)
            else:
                entry = heap[0]  # popped below, or replaced by the end of the next call taken
                t = entry[0]
                if t > limit:
                    break
                kind = entry[2]
                centre = entry[3]
                router_timers = timers[centre]
                if kind == END:
                    out = []
                    if router_timers and router_timers[0][0] <= t:
                        fire[centre](t, out)
                    head = end_call(routers[centre], entry[4], t, out, True)
                    if head is True or head is False:
                        # Not a call's end (False), or its end (unrecorded) then what ``out``
                        # holds: the agent's wrap-up, idling or a recorded offer.
                        finished += head  # True counts one
                        pop(heap)
                        if out:
                            execute(centre, out, t)
                    else:
                        # The call's end, then its agent took the head of the line on
                        # auto-answer, both unrecorded (``_execute`` spelled out for them, after
                        # what the due timers did).
                        finished += 1
                        if out:
                            pop(heap)
                            execute(centre, out, t)
                        call_id = head.id
                        number = call_id - 1
                        stream = arrival_stream[number]
                        answer_time[number] = t
                        estimate = head.expected_wait
                        if estimate > 0:
                            ewt_errors.append(t - arrival_at[number] - estimate)
                        handle = handles[stream]()
                        busy[centre] += handle + wrap[centre][stream]
                        if out:
                            push(heap, (t + handle, next(order), END, centre, call_id))
                        else:
                            replace(heap, (t + handle, next(order), END, centre, call_id))
                else:
                    pop(heap)
                    if kind == TICK:
                        tick_at[centre] = INF
                        execute(centre, routers[centre].apply(e.ScheduleTick(), t), t)
                    else:
                        self._other(kind, entry, t)
                        continue
            if router_timers and router_timers[0][0] < tick_at[centre]:
                tick_at[centre] = due = router_timers[0][0]
                push(heap, (due, next(order), TICK, centre))
        self.open_calls += n_arrivals - finished
        self._tally_calls(next_index)
        self._staffed_time(min(t, limit))
        return self._result()

    def _tally_calls(self, arrived: int) -> None:
        """Per-call figures, tallied once at the end rather than in the hot loop.

        Whole-list passes (``map``, ``compress``) over the flat per-call lists in arrival order,
        so sums add up in the same order as a loop over the calls would. Half-hour intervals
        grow with arrival time: each interval's calls are one run of a sorted list (bisection).
        """
        epoch = self.epoch
        times = self.arrival_at[:arrived]
        streams = self.arrival_stream[:arrived]
        answer_time = self.answer_time[:arrived]
        first_action = self.first_action[:arrived]

        def interval_of(t: float) -> int:
            return int((t - epoch) // HALF_HOUR)

        all_waits = list(map(sub, answer_time, times))  # meaningless for unanswered calls
        if UNSET in answer_time:
            answered = list(map(UNSET.__ne__, answer_time))
            self.waits.extend(compress(all_waits, answered))
        else:
            answered = []
            self.waits.extend(all_waits)
        _count_runs(times, interval_of, self.interval_calls)
        single = len(self.stream_facts) == 1
        within_times: list[float] = []
        for stream, (tally, promise) in enumerate(self.stream_facts):
            if single and not answered:  # every call answered: all of them are this stream's
                at, waits, acted = times, all_waits, first_action
            else:
                mine = (
                    answered
                    if single
                    else list(map(and_, answered or repeat(True), map(stream.__eq__, streams)))
                )
                at = list(compress(times, mine))
                waits = list(compress(all_waits, mine))
                acted = list(compress(first_action, mine))
            tally.calls += arrived if single else streams.count(stream)
            tally.answered += len(waits)
            tally.wait_sum += reduce(add, waits, 0.0)
            within = list(compress(at, map(promise.__ge__, waits)))
            tally.within += len(within)
            within_times.extend(within)
            # Answered late: a violation unless an action came in time (unset: the late answer
            # was the first action).
            late = compress(zip(at, acted, strict=True), map(promise.__lt__, waits))
            tally.violations += len([t for t, first in late if not 0 <= first <= t + promise])
        within_times.sort()
        _count_runs(within_times, interval_of, self.interval_within)

    def _other(self, kind: int, entry: tuple[Any, ...], t: float) -> None:
        if kind == HANGUP:
            number = int(entry[4]) - 1
            if self.answer_time[number] < 0:
                centre = self.moved.get(number, entry[3])
                self._apply(centre, e.CallerHungUp(entry[4]), t)
        elif kind == ANSWER:
            self._apply(entry[3], e.AgentAnswered(entry[4], entry[5]), t)
            if entry[4] in self.callbacks:
                self._callback_answered_by_agent(entry[3], entry, t)
        elif kind == RESULT:
            self._apply(entry[3], e.CallbackResult(entry[4], entry[5], entry[6]), t)
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

    def _callback_answered_by_agent(self, index: int, entry: tuple[Any, ...], t: float) -> None:
        """The operator took the callback leg: the citizen's phone rings, with a drawn result."""
        callback = self.callbacks[entry[4]]
        if callback.attempt == 1 and not callback.dialled:
            callback.dialled = True
            if t <= callback.deadline:
                self.tallies[callback.origin].callbacks_dialled_in_time += 1
        stream = self.streams[callback.stream][1]
        draw = self.rng.random()
        if draw < stream.callback_answer_probability:
            result = "answered"
        elif draw < stream.callback_answer_probability + stream.callback_busy_probability:
            result = "busy"
        else:
            result = "no_answer"
        dial = self.dial[callback.stream]()
        self.busy[index] += dial
        self._push(t + dial, RESULT, index, entry[4], entry[5], result)

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
                call_id = cmd.call_id
                number = int(call_id) - 1
                if not cmd.auto_answer:
                    if self.first_action[number] < 0:
                        self.first_action[number] = t
                    self._ring(index, call_id, cmd.agent_id, cmd.ring_timeout, t)
                    continue
                # Answered at once (the common case goes through the quiet entries, not here).
                self._answered(index, number, call_id, cmd.expected_wait, t)
            elif type(cmd) is c.CallFinished:
                if cmd.outcome == "answered":
                    self.open_calls -= 1  # answered calls' violations are counted in _answered
                else:
                    self._finished(cmd, t)
            elif type(cmd) is c.Queued:
                continue
            elif isinstance(cmd, c.CallAnswered):
                callback = self.callbacks.get(cmd.call_id)
                if callback is None:
                    number = int(cmd.call_id) - 1
                    self._answered(index, number, cmd.call_id, cmd.expected_wait, t)
                    continue
                handle = self.handle[callback.stream]()
                self.busy[index] += handle + self.wrap[index][callback.stream]
                self._push(t + handle, END, index, cmd.call_id)
            elif isinstance(cmd, c.DialCallback):
                self.callbacks[cmd.callback_id].attempt = cmd.attempt
                self._ring(index, cmd.callback_id, cmd.agent_id, cmd.ring_timeout, t)
            elif isinstance(cmd, c.CallbackScheduled):
                if cmd.attempt == 1:
                    self.callbacks[cmd.callback_id].deadline = cmd.deadline
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
        arrived, stream = self.arrival_at[number], self.arrival_stream[number]
        self.answer_time[number] = t
        if estimate > 0:
            self.ewt_errors.append(t - arrived - estimate)
        handle = self.handle[stream]()
        self.busy[index] += handle + self.wrap[index][stream]
        heapq.heappush(self.heap, (t + handle, next(self.order), END, index, call_id))

    def _ring(self, index: int, item_id: str, agent_id: str, timeout: float, t: float) -> None:
        ring = self.ring[index]()
        if ring < timeout and self.rng.random() < self.answer_probability[agent_id]:
            self._push(t + ring, ANSWER, index, item_id, agent_id)
        else:
            self._push(t + timeout, NO_ANSWER, index, item_id, agent_id)

    def _finished(self, cmd: c.CallFinished, t: float) -> None:
        outcome = cmd.outcome
        if outcome == "overflowed":
            return
        if outcome.startswith("callback_"):
            callback = self.callbacks.get(cmd.call_id)
            if callback is not None and outcome == "callback_failed":
                self.tallies[callback.origin].callbacks_failed += 1
            elif callback is not None and outcome == "callback_done":
                self.tallies[callback.origin].callbacks_done += 1
            return
        self.open_calls -= 1
        number = int(cmd.call_id) - 1
        arrived, stream = self.arrival_at[number], self.arrival_stream[number]
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
        stream_index = self.arrival_stream[number]
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
        stream_index = self.arrival_stream[number]
        origin, stream = self.streams[stream_index]
        tally = self.tallies[origin]
        tally.callbacks_offered += 1
        if self.rng.random() < stream.callback_accept_probability:
            callback_id = f"cb-{cmd.call_id}"
            self.callbacks[callback_id] = SimCallback(origin, stream_index)
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


def _count_runs(times: list[float], interval_of: Callable[[float], int], counts: list[int]) -> None:
    """Add to ``counts[i]`` the number of sorted ``times`` whose ``interval_of`` is ``i``."""
    low = 0
    while low < len(times):
        interval = interval_of(times[low])
        high = bisect_right(times, interval, lo=low, key=interval_of)
        counts[interval] += high - low
        low = high


def simulate(
    scenario: Scenario, seed: int | None = None, policy: Policy | None = None
) -> SimResult:
    """Run ``scenario`` once; ``seed`` and ``policy`` override the file's values."""
    return Simulation(scenario, seed, policy).run()
