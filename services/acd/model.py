"""Mutable bookkeeping objects inside the router state (never shared outside the core).

Lanes hold waiting live calls of one bucket (topic, language) and one priority, oldest first.
Items leave a lane from its head only; items that leave from the middle (abandoned,
overflowed) are marked done and skipped when they reach the head, so every removal is O(1).
Due callbacks wait in a deadline-ordered heap per bucket, with the same lazy removal.
Ready agents of a bucket are kept per qualification level in insertion-ordered dicts, which
makes "longest idle" the first key and removal O(1).
"""

from __future__ import annotations

import heapq
from collections import deque

from services.acd.config import MAX_LEVEL, TopicPolicy

# Item states. A callback is SCHEDULED until due, WAITING in its bucket's heap, RINGING while
# its agent's seat rings, DIALLING while the citizen is called, TALKING once they answer.
WAITING, RINGING, TALKING, DONE, SCHEDULED, DIALLING = 0, 1, 2, 3, 4, 5
STATE_NAMES = {
    WAITING: "waiting",
    RINGING: "ringing",
    TALKING: "talking",
    DONE: "done",
    SCHEDULED: "scheduled",
    DIALLING: "dialling",
}
# Item kinds.
CALL, CALLBACK = 0, 1
# Agent intents (what the agent asked for) and activities (what the agent is doing).
READY, PAUSED, OFFLINE = 0, 1, 2
IDLE, BUSY_RINGING, BUSY_TALKING, WRAPUP = 0, 1, 2, 3
# Timer kinds: wrap-up end, 40-second deadline, relaxation step, callback due, callback hours.
T_WRAP, T_DEADLINE, T_RELAX, T_CALLBACK, T_HOURS = 0, 1, 2, 3, 4


class Lane:
    """Waiting live calls of one bucket and priority, oldest first."""

    __slots__ = ("items", "live", "priority")

    def __init__(self, priority: int) -> None:
        self.items: deque[Item] = deque()
        self.priority = priority
        self.live = 0

    def head(self) -> Item:
        """First item still waiting; callers check ``live`` first."""
        items = self.items
        item = items[0]
        while item.state != WAITING:
            items.popleft()
            item = items[0]
        return item


class Bucket:
    """Everything about one (topic, language) pair: its lanes and its ready agents.

    Due callbacks wait in ``callbacks``, a heap ordered earliest deadline first (then line
    position, request time, sequence); entries whose item left or was re-pushed are stale and
    skipped (``callback_head``). ``waiting`` counts live calls in lanes plus due callbacks.
    """

    __slots__ = (
        "callbacks",
        "callbacks_live",
        "handle",
        "language",
        "lane_index",
        "lanes",
        "levels",
        "ready",
        "ready_count",
        "staffed",
        "topic",
        "waiting",
    )

    def __init__(self, topic: str, language: str, handle: deque[float]) -> None:
        self.topic = topic
        self.handle = handle
        self.language = language
        self.lanes: list[Lane] = []
        self.lane_index: dict[int, Lane] = {}
        self.ready: list[dict[str, Agent]] = [{} for _ in range(MAX_LEVEL + 1)]
        self.levels: list[int] = []
        """Levels some member agent has, highest first: the only ``ready`` lists worth a look."""
        self.ready_count = 0
        self.staffed = 0
        self.waiting = 0
        self.callbacks: list[tuple[float, float, float, int, Item]] = []
        self.callbacks_live = 0

    def lane(self, priority: int) -> Lane:
        lane = self.lane_index.get(priority)
        if lane is None:
            lane = self.lane_index[priority] = Lane(priority)
            self.lanes.append(lane)
            self.lanes.sort(key=lambda ln: -ln.priority)
        return lane

    def callback_head(self) -> Item:
        """The most urgent due callback; callers check ``callbacks_live`` first."""
        heap = self.callbacks
        while True:
            entry = heap[0]
            item = entry[4]
            if item.state == WAITING and item.token == entry[3]:
                return item
            heapq.heappop(heap)

    def push_callback(self, item: Item, token: int) -> None:
        item.token = token
        entry = (item.deadline, item.due, item.arrived, token, item)
        heapq.heappush(self.callbacks, entry)
        self.callbacks_live += 1
        self.waiting += 1

    def calls_ahead(self, priority: int) -> int:
        ahead = 0
        for lane in self.lanes:  # highest priority first
            if lane.priority < priority:
                break
            ahead += lane.live
        return ahead


class Item:
    """A live call or a callback request, from arrival until it leaves the router.

    ``arrived`` is the arrival (callbacks: the request time); ``due`` is the line position
    (calls: arrival + answer_within; callbacks: when the caller first joined the line, or when
    the callback became due); ``deadline`` is the promise (calls: arrival + answer_within;
    callbacks: due_at + callback_within).
    """

    __slots__ = (
        "acted",
        "agent",
        "arrived",
        "attempt",
        "bucket",
        "caller",
        "connected_at",
        "deadline",
        "due",
        "due_at",
        "expected_wait",
        "id",
        "kind",
        "lane",
        "level",
        "offered",
        "overflowed_from",
        "policy",
        "priority",
        "relax",
        "source",
        "state",
        "token",
        "topic",
    )

    def __init__(
        self,
        item_id: str,
        kind: int,
        bucket: Bucket,
        policy: TopicPolicy,
        priority: int,
        arrived: float,
        due: float,
        level: int,
        caller: str,
        overflowed_from: str,
    ) -> None:
        self.id = item_id
        self.kind = kind
        self.bucket = bucket
        self.topic = bucket.topic
        self.policy = policy
        self.priority = priority
        self.arrived = arrived
        self.due = due
        self.level = level
        self.relax: tuple[tuple[float, int], ...] = ()
        self.caller = caller
        self.overflowed_from = overflowed_from
        self.state = WAITING
        self.lane: Lane | None = None
        self.agent: Agent | None = None
        self.expected_wait = 0.0
        self.connected_at = 0.0
        self.acted = False
        self.offered = False
        self.deadline = due
        self.due_at = arrived
        self.attempt = 1
        self.source = ""
        self.token = 0

    def min_level(self, now: float) -> int:
        """The lowest agent level this item accepts after waiting until ``now``."""
        level = self.level
        for at, relaxed in self.relax:
            if now < at:
                break
            level = relaxed
        return level


class Agent:
    __slots__ = (
        "activity",
        "id",
        "idle_since",
        "intent",
        "item",
        "languages",
        "memberships",
        "misses",
        "pause_reason",
        "skills",
        "wrap_token",
    )

    def __init__(self, agent_id: str, skills: dict[str, int], languages: dict[str, int]) -> None:
        self.id = agent_id
        self.skills = skills
        self.languages = languages
        self.memberships: list[tuple[Bucket, int]] = []
        self.intent = PAUSED
        self.activity = IDLE
        self.item: Item | None = None
        self.idle_since = 0.0
        self.misses = 0
        self.pause_reason = "logged_in"
        self.wrap_token = 0


def qualification(topic_level: int, language_level: int) -> int:
    """An agent is as qualified for a bucket as the weaker of topic and language skill."""
    return max(0, min(topic_level, language_level, MAX_LEVEL))
