"""Prometheus metrics of one centre's router (names and meanings: docs/metrics.md).

Counters and histograms are fed by `RouterMetrics.observe` with every event the router applies
and the outputs it produced, INCLUDING the events replayed from the router log at start, so
totals, service level and callbacks on time are right after a restart or a takeover. Live gauges
(waiting, longest wait, agents by state, callbacks pending and overdue) are read from the router
state at scrape time. Every process has its own registry so that tests can run several routers
at once.

A callback is made on time when the citizen's phone first rings (the operator answered the
callback leg: `AgentAnswered` on the callback, after which the bridge dials the citizen) no later
than the deadline first promised — a retry's later deadline does not count.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.acd import commands as c
from services.acd import events as e
from services.acd.callbacks import RESULTS
from services.acd.model import CALL, CALLBACK, DIALLING, TALKING, WAITING
from services.acd.router import RouterState
from services.acd.wallboard import wallboard

#: Wait buckets: every 5 s up to the 40-second promise (R6), then coarser.
WAIT_BUCKETS = (5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 60.0, 90.0, 120.0, 300.0, 600.0)
HANDLE_BUCKETS = (30.0, 60.0, 120.0, 180.0, 240.0, 300.0, 450.0, 600.0, 900.0, 1200.0, 1800.0)
#: Actual wait minus the estimate given on arrival: negative = answered sooner than promised.
ERROR_BUCKETS = (-300.0, -120.0, -60.0, -30.0, -15.0, -5.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)
ROLLING_WINDOW_S = 15 * 60
CALL_OUTCOMES = (
    "answered", "abandoned", "overflowed", "callback", "self_service", "night", "ended",
    "transferred",
)  # fmt: skip
CALLBACK_OUTCOMES = (
    "callback_done", "callback_failed", "callback_cancelled", "callback_merged", "callback_closed",
)  # fmt: skip
ATTEMPT_RESULTS = tuple(r for r in RESULTS if r != "answered")  # a failed try's results
FALLBACKS = (c.OverflowTo, c.OfferCallback, c.PlaySelfService, c.EndCall, c.PlayAutoAttendant)


@dataclass(slots=True)
class _Call:
    topic: str
    arrived: float
    estimate: float | None = None  # the first position estimate, if the call queued
    answered_at: float | None = None
    acted: bool = False  # answered, or a fallback (overflow, callback offer…) reached the caller
    settled: bool = False  # counted for the service level: answered, or left unanswered
    late: bool = False  # passed the target without an answer or an offer


@dataclass(slots=True)
class _Callback:
    topic: str
    promised: float  # the first promised deadline (a merged duplicate may bring it forward)
    scheduled: bool = False  # the core has recorded the promise (`CallbackScheduled`)
    ringing: str | None = None  # the agent whose seat rings for it (`DialCallback`)
    dialled: bool = False  # the citizen's phone has rung once


class RouterMetrics:
    """Counters of one centre's router outputs and the live collector of its state."""

    def __init__(
        self,
        centre: str,
        *,
        answer_within: float = 40.0,
        callback_within: float = 600.0,
        timezone: str = "UTC",
    ) -> None:
        self.centre = centre
        self.answer_within = answer_within
        self.callback_within = callback_within
        self.zone = ZoneInfo(timezone)
        self.registry = CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "okno_acd_events_applied", "Router events applied, by type.", ["centre", "type"],
            registry=r,
        )  # fmt: skip
        self.arrived = Counter(
            "okno_acd_calls_arrived", "Calls that asked for an operator.", ["centre", "topic"],
            registry=r,
        )  # fmt: skip
        self.finished = Counter(
            "okno_acd_calls_finished",
            "Calls that left the router, by outcome (answered, abandoned, overflowed, callback, "
            "self_service, night, ended, transferred).",
            ["centre", "topic", "outcome"],
            registry=r,
        )
        self.wait = Histogram(
            "okno_acd_answer_wait_seconds",
            "Wait from arrival until an operator answered.",
            ["centre", "topic"],
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.late = Counter(
            "okno_acd_waits_over_target",
            "Callers who passed the answer target (40 s) without an answer or an offer.",
            ["centre", "topic"],
            registry=r,
        )
        self.overflows = Counter(
            "okno_acd_overflows",
            "Calls sent to a neighbouring centre, by target centre and reason.",
            ["centre", "topic", "target", "reason"],
            registry=r,
        )
        self.handle = Histogram(
            "okno_acd_handle_seconds",
            "Talk time of answered calls (answer to hang-up).",
            ["centre", "topic"],
            buckets=HANDLE_BUCKETS,
            registry=r,
        )
        self.estimate_error = Histogram(
            "okno_acd_wait_estimate_error_seconds",
            "Actual wait minus the wait estimated on arrival, for queued calls that were answered.",
            ["centre", "topic"],
            buckets=ERROR_BUCKETS,
            registry=r,
        )
        self.cb_scheduled = Counter(
            "okno_acd_callbacks_requested",
            "Callback requests accepted, by source (queue, callback_line, night, operator).",
            ["centre", "topic", "source"],
            registry=r,
        )
        self.cb_attempts = Counter(
            "okno_acd_callback_attempts",
            "Callback dialling attempts that did not reach the citizen, by result.",
            ["centre", "topic", "result"],
            registry=r,
        )
        self.cb_dialled = Counter(
            "okno_acd_callbacks_first_dialled",
            "Callbacks whose citizen's phone rang for the first time, by whether it was by the "
            "first promised deadline.",
            ["centre", "topic", "on_time"],
            registry=r,
        )
        self.cb_finished = Counter(
            "okno_acd_callbacks_finished",
            "Callbacks that left the router, by outcome (callback_done, callback_failed, "
            "callback_cancelled, callback_merged, callback_closed).",
            ["centre", "topic", "outcome"],
            registry=r,
        )
        self._calls: dict[str, _Call] = {}
        self._callbacks: dict[str, _Callback] = {}
        self._window: deque[tuple[float, str, bool]] = deque()
        self._day: date | None = None
        self._today: dict[str, list[int]] = {}
        self._outcomes: dict[str, int] = {}
        self._topics: set[str] = set()
        self._init_topic("general")

    def _init_topic(self, topic: str) -> None:
        """Create a topic's series at zero when it is first seen, so that ratios and rates
        have data (0, not "no data") before the first call of each outcome."""
        if topic in self._topics:
            return
        self._topics.add(topic)
        labels = (self.centre, topic)
        for counter in (self.arrived, self.late):
            counter.labels(*labels)
        for histogram in (self.wait, self.handle, self.estimate_error):
            histogram.labels(*labels)
        for outcome in CALL_OUTCOMES:
            self.finished.labels(*labels, outcome)
        for outcome in CALLBACK_OUTCOMES:
            self.cb_finished.labels(*labels, outcome)
        for result in ATTEMPT_RESULTS:
            self.cb_attempts.labels(*labels, result)
        for on_time in ("true", "false"):
            self.cb_dialled.labels(*labels, on_time)

    # ------------------------------------------------------------------ outputs
    def observe(self, event: e.Event, now: float, outputs: Iterable[c.Command]) -> None:
        """Count one applied event and its outputs (live or replayed: the same code)."""
        self.events.labels(self.centre, type(event).__name__).inc()
        if isinstance(event, e.CallArrived) and event.call_id not in self._calls:
            self._init_topic(event.topic)
            self._calls[event.call_id] = _Call(event.topic, now)
            self.arrived.labels(self.centre, event.topic).inc()
        elif isinstance(event, e.CallbackRequested):
            self._init_topic(event.topic)
            # Its outputs record the core's own deadline (CallbackScheduled) or end it (merged).
            self._callbacks.setdefault(
                event.callback_id, _Callback(event.topic, now + self.callback_within)
            )
        elif isinstance(event, e.AgentAnswered | e.AgentNoAnswer):
            self._callback_leg(event, now)
        for output in outputs:
            self._output(output, now)
        if isinstance(event, e.CallbackRequested):
            callback = self._callbacks.get(event.callback_id)
            if callback is not None and not callback.scheduled:
                del self._callbacks[event.callback_id]  # ignored: the caller was being served
        self._expire(now)

    def _output(self, output: c.Command, now: float) -> None:
        if isinstance(output, c.CallbackScheduled):
            self._callback_scheduled(output)
            return
        call_id = str(getattr(output, "call_id", "") or getattr(output, "callback_id", ""))
        call = self._calls.get(call_id)
        if call is not None:
            if isinstance(output, c.Queued) and call.estimate is None:
                call.estimate = output.expected_wait
            elif isinstance(output, c.CallAnswered) or (
                isinstance(output, c.ConnectAgent) and output.auto_answer
            ):
                self._answered(call, output.waited, now)
            elif isinstance(output, FALLBACKS):
                if isinstance(output, c.OverflowTo):
                    self.overflows.labels(
                        self.centre, call.topic, output.centre, output.reason
                    ).inc()
                self._acted(call, now)
            elif isinstance(output, c.CallFinished):
                self._finished(call_id, call, output.outcome, now)
            return
        callback = self._callbacks.get(call_id)
        if callback is None:
            return
        if isinstance(output, c.DialCallback):
            callback.ringing = output.agent_id
        elif isinstance(output, c.StopRinging) and callback.ringing == output.agent_id:
            callback.ringing = None  # e.g. the operator logged out while the seat rang
        elif isinstance(output, c.CallbackAttempted):
            callback.ringing = None
            self.cb_attempts.labels(self.centre, callback.topic, output.result).inc()
        elif isinstance(output, c.CallFinished):
            self.cb_finished.labels(self.centre, callback.topic, output.outcome).inc()
            del self._callbacks[call_id]

    def _callback_scheduled(self, output: c.CallbackScheduled) -> None:
        """A request, an earlier promise from a merged duplicate, or a retry. Only a promise
        made before the first dial is the one kept: a retry's deadline is not."""
        self._init_topic(output.topic)
        callback = self._callbacks.get(output.callback_id)
        if callback is None:  # its request is older than the router log replayed at start
            callback = self._callbacks[output.callback_id] = _Callback(
                output.topic, output.deadline, dialled=output.attempt > 1
            )
        callback.topic = output.topic
        if not callback.scheduled:
            callback.scheduled = True
            callback.promised = output.deadline
            if output.attempt <= 1:
                self.cb_scheduled.labels(self.centre, output.topic, output.source).inc()
        elif output.attempt <= 1 and not callback.dialled:
            callback.promised = min(callback.promised, output.deadline)

    def _callback_leg(self, event: e.AgentAnswered | e.AgentNoAnswer, now: float) -> None:
        """The operator's seat answered the callback leg (the core dials the citizen now) or
        did not (the callback goes back to its line); the same checks as the core's."""
        callback = self._callbacks.get(event.call_id)
        if callback is None or callback.ringing != event.agent_id:
            return
        if isinstance(event, e.AgentNoAnswer):
            callback.ringing = None
            return
        callback.ringing = None
        if not callback.dialled:
            callback.dialled = True
            on_time = "true" if now <= callback.promised else "false"
            self.cb_dialled.labels(self.centre, callback.topic, on_time).inc()

    def _answered(self, call: _Call, waited: float, now: float) -> None:
        if call.answered_at is not None:
            return
        call.answered_at = now
        self.wait.labels(self.centre, call.topic).observe(waited)
        if call.estimate is not None:
            self.estimate_error.labels(self.centre, call.topic).observe(waited - call.estimate)
        self._acted(call, now)
        self._settle(call, now, met=waited <= self.answer_within)

    def _acted(self, call: _Call, now: float) -> None:
        """An answer or a fallback reached the caller: late if it came after the target."""
        if not call.acted:
            call.acted = True
            if now - call.arrived > self.answer_within:
                self._mark_late(call)

    def _settle(self, call: _Call, now: float, *, met: bool) -> None:
        """Count the call once for the service level: answered (in time or not) or gone."""
        if call.settled:
            return
        call.settled = True
        self._window.append((now, call.topic, met))
        day = self._today_counts(now, call.topic)
        day[0] += int(met)
        day[1] += 1

    def _finished(self, call_id: str, call: _Call, outcome: str, now: float) -> None:
        self.finished.labels(self.centre, call.topic, outcome).inc()
        self._roll_day(now)
        self._outcomes[outcome] = self._outcomes.get(outcome, 0) + 1
        if call.answered_at is not None:
            self.handle.labels(self.centre, call.topic).observe(now - call.answered_at)
        elif outcome != "night":  # never offered to an operator: not part of the service level
            self._acted(call, now)
            self._settle(call, now, met=False)
        del self._calls[call_id]

    def _mark_late(self, call: _Call) -> None:
        if not call.late:
            call.late = True
            self.late.labels(self.centre, call.topic).inc()

    def _expire(self, now: float) -> None:
        """Forget settled calls older than the rolling window."""
        window = self._window
        while window and window[0][0] < now - ROLLING_WINDOW_S:
            window.popleft()

    def check_late(self, now: float) -> None:
        """Count callers waiting past the target right now (called every second and on scrape)."""
        for call in self._calls.values():
            if not call.acted and not call.late and now - call.arrived > self.answer_within:
                self._mark_late(call)

    def _roll_day(self, now: float) -> None:
        day = datetime.fromtimestamp(now, self.zone).date()
        if day != self._day:
            self._day, self._today, self._outcomes = day, {}, {}

    def _today_counts(self, now: float, topic: str) -> list[int]:
        self._roll_day(now)
        return self._today.setdefault(topic, [0, 0])

    def outcomes_today(self, now: float) -> dict[str, int]:
        """Calls finished today by outcome."""
        self._roll_day(now)
        return dict(self._outcomes)

    def figures(self, now: float) -> dict[str, float | int | None]:
        """The wallboard's counted figures: service level (None without calls) and today's
        outcomes in the centre's time zone."""
        levels = self.service_level(now)
        ratios: dict[str, float | None] = {}
        for window, topics in levels.items():
            met = sum(m for m, _ in topics.values())
            total = sum(n for _, n in topics.values())
            ratios[window] = round(met / total, 4) if total else None
        today = levels["today"].values()
        self._roll_day(now)
        return {
            "service_level_15m": ratios["15m"],
            "service_level_today": ratios["today"],
            "service_level_today_met": sum(m for m, _ in today),
            "service_level_today_calls": sum(n for _, n in today),
            "answered_today": self._outcomes.get("answered", 0),
            "abandoned_today": self._outcomes.get("abandoned", 0),
            "overflowed_today": self._outcomes.get("overflowed", 0),
        }

    def service_level(self, now: float) -> dict[str, dict[str, tuple[int, int]]]:
        """Per window ("15m", "today") and topic: (answered within target, settled calls)."""
        rolling: dict[str, list[int]] = {}
        for at, topic, met in self._window:
            if at >= now - ROLLING_WINDOW_S:
                counts = rolling.setdefault(topic, [0, 0])
                counts[0] += int(met)
                counts[1] += 1
        today = self._today if datetime.fromtimestamp(now, self.zone).date() == self._day else {}
        return {
            "15m": {t: (m, n) for t, (m, n) in rolling.items()},
            "today": {t: (m, n) for t, (m, n) in today.items()},
        }


class LiveCollector(Collector):
    """Live gauges read from the router state at scrape time (only while holding the lease:
    a standby's empty state must not add zeros to the active router's figures)."""

    def __init__(
        self,
        centre: str,
        source: Callable[[], tuple[RouterState, RouterMetrics, float] | None],
        lease_held: Callable[[], bool],
    ) -> None:
        self.centre = centre
        self.source = source
        self.lease_held = lease_held

    def collect(self) -> Iterator[Metric]:
        centre = self.centre
        held = GaugeMetricFamily(
            "okno_acd_router_lease_held",
            "1 while this router process holds its centre's lease and routes.",
            labels=["centre"],
        )
        held.add_metric([centre], 1.0 if self.lease_held() else 0.0)
        yield held
        live = self.source()
        if live is None:
            return
        state, metrics, now = live
        yield from _state_gauges(centre, state, now)
        yield from _service_level_gauges(centre, metrics, now)


def _never_dialled(attempt: int, state: int) -> bool:
    """The citizen's phone has not rung yet: the first attempt, not dialling nor talking. Such
    a callback's `Item.deadline` is still the first promise (only a retry moves it later)."""
    return attempt == 1 and state not in (DIALLING, TALKING)


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def _state_gauges(centre: str, state: RouterState, now: float) -> Iterator[Metric]:
    board = wallboard(state, now)
    topics = sorted({topic for topic, _language in state.buckets} | {"general"})
    waiting = _gauge(
        "okno_acd_calls_waiting", "Calls waiting for an operator.", ["centre", "topic"]
    )
    longest = _gauge(
        "okno_acd_longest_wait_seconds",
        "Wait so far of the longest-waiting caller (0 when nobody waits).",
        ["centre", "topic"],
    )
    expected = _gauge(
        "okno_acd_expected_wait_seconds",
        "Expected wait of a new caller, per topic that has agents logged in and ready to work.",
        ["centre", "topic"],
    )
    oldest_wait: dict[str, float] = {}
    pending: dict[str, int] = {}
    oldest_callback = 0.0
    overdue = 0
    for item in state.items.values():
        if item.kind == CALL and item.state == WAITING:
            oldest_wait[item.topic] = max(oldest_wait.get(item.topic, 0.0), now - item.arrived)
        elif item.kind == CALLBACK:
            pending[item.topic] = pending.get(item.topic, 0) + 1
            oldest_callback = max(oldest_callback, now - item.arrived)
            overdue += int(_never_dialled(item.attempt, item.state) and now > item.deadline)
    for topic in topics:
        waiting.add_metric([centre, topic], float(board["waiting_by_topic"].get(topic, 0)))
        longest.add_metric([centre, topic], round(oldest_wait.get(topic, 0.0), 3))
    for topic, wait in board["expected_wait_by_topic"].items():
        expected.add_metric([centre, topic], float(wait))
    yield waiting
    yield longest
    yield expected
    agents = _gauge("okno_acd_agents", "Logged-in operators by state.", ["centre", "state"])
    for name, count in board["agents"].items():
        agents.add_metric([centre, name], float(count))
    yield agents
    callbacks = _gauge(
        "okno_acd_callbacks_pending",
        "Open callback requests (waiting, ringing the operator or dialling the citizen).",
        ["centre", "topic"],
    )
    for topic in topics:
        callbacks.add_metric([centre, topic], float(pending.get(topic, 0)))
    yield callbacks
    age = _gauge(
        "okno_acd_callback_oldest_age_seconds",
        "Age of the oldest open callback request (0 when none).",
        ["centre"],
    )
    age.add_metric([centre], round(oldest_callback, 3))
    yield age
    late = _gauge(
        "okno_acd_callbacks_overdue",
        "Open callbacks never dialled yet and past the deadline first promised.",
        ["centre"],
    )
    late.add_metric([centre], float(overdue))
    yield late
    night = _gauge("okno_acd_night_mode", "1 while night mode is in force.", ["centre"])
    night.add_metric([centre], 1.0 if board["night_mode"] else 0.0)
    yield night
    emergency = _gauge(
        "okno_acd_emergency_mode", "1 while the emergency announcement plays.", ["centre"]
    )
    emergency.add_metric([centre], 1.0 if board["emergency"] else 0.0)
    yield emergency


def _service_level_gauges(centre: str, metrics: RouterMetrics, now: float) -> Iterator[Metric]:
    metrics.check_late(now)
    levels = metrics.service_level(now)
    met = _gauge(
        "okno_acd_service_level_met",
        "Calls answered within the target (40 s), in the window (15m rolling, or today).",
        ["centre", "topic", "window"],
    )
    settled = _gauge(
        "okno_acd_service_level_calls",
        "Calls answered, handed to a fallback or abandoned, in the window.",
        ["centre", "topic", "window"],
    )
    ratio = _gauge(
        "okno_acd_service_level_ratio",
        "Share of the window's calls answered within the target; 1 when there were none.",
        ["centre", "window"],
    )
    for window, topics in levels.items():
        total_met = total = 0
        for topic, (answered, count) in sorted(topics.items()):
            met.add_metric([centre, topic, window], float(answered))
            settled.add_metric([centre, topic, window], float(count))
            total_met += answered
            total += count
        ratio.add_metric([centre, window], total_met / total if total else 1.0)
    yield met
    yield settled
    yield ratio
    today = _gauge(
        "okno_acd_calls_today",
        "Calls finished today (centre's time zone), by outcome; resets at local midnight.",
        ["centre", "outcome"],
    )
    outcomes = metrics.outcomes_today(now)
    for outcome in CALL_OUTCOMES:
        today.add_metric([centre, outcome], float(outcomes.get(outcome, 0)))
    yield today
