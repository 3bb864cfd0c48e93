"""Mutable bookkeeping objects inside the router state (never shared outside the core).

Lanes hold waiting items of one bucket (topic, language), one priority and one kind, oldest
first. Items leave a lane from its head only; items that leave from the middle (abandoned,
overflowed) are marked done and skipped when they reach the head, so every removal is O(1).
Ready agents of a bucket are kept per qualification level in insertion-ordered dicts, which
makes "longest idle" the first key and removal O(1).
"""

from __future__ import annotations

from collections import deque

from services.acd.config import MAX_LEVEL, TopicPolicy

# Item states.
WAITING, RINGING, TALKING, DONE = 0, 1, 2, 3
# Item kinds.
CALL, CALLBACK = 0, 1
# Agent intents (what the agent asked for) and activities (what the agent is doing).
READY, PAUSED, OFFLINE = 0, 1, 2
IDLE, BUSY_RINGING, BUSY_TALKING, WRAPUP = 0, 1, 2, 3
# Timer kinds.
T_WRAP, T_DEADLINE, T_RELAX = 0, 1, 2


class Lane:
    __slots__ = ("items", "kind", "live", "priority")

    def __init__(self, priority: int, kind: int) -> None:
        self.items: deque[Item] = deque()
        self.priority = priority
        self.kind = kind
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
    """Everything about one (topic, language) pair: its lanes and its ready agents."""

    __slots__ = (
        "handle",
        "language",
        "lane_index",
        "lanes",
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
        self.lane_index: dict[tuple[int, int], Lane] = {}
        self.ready: list[dict[str, Agent]] = [{} for _ in range(MAX_LEVEL + 1)]
        self.ready_count = 0
        self.staffed = 0
        self.waiting = 0

    def lane(self, priority: int, kind: int) -> Lane:
        lane = self.lane_index.get((priority, kind))
        if lane is None:
            lane = self.lane_index[(priority, kind)] = Lane(priority, kind)
            self.lanes.append(lane)
            self.lanes.sort(key=lambda ln: (-ln.priority, ln.kind))
        return lane

    def calls_ahead(self, priority: int) -> int:
        ahead = 0
        for lane in self.lanes:
            if lane.kind == CALL and lane.priority >= priority:
                ahead += lane.live
        return ahead


class Item:
    """A live call or a callback request, from arrival until it leaves the router."""

    __slots__ = (
        "acted",
        "agent",
        "arrived",
        "bucket",
        "caller",
        "connected_at",
        "due",
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
        "state",
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
