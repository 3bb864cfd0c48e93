"""Metrics of complaints and their delivery, in one place so names stay consistent.

Alert on `okno_complaints_outbox_dead` > 0: a message gave up and waits for a supervisor."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

REGISTERED = Counter(
    "okno_complaints_registered_total", "Complaints registered, by source.", ["source"]
)
DELIVERED = Counter(
    "okno_complaints_delivered_total",
    "Messages delivered to agencies, by kind and channel.",
    ["kind", "channel"],
)
FAILED_ATTEMPTS = Counter(
    "okno_complaints_delivery_failures_total", "Failed delivery attempts, by channel.", ["channel"]
)
DEAD_LETTERS = Counter(
    "okno_complaints_dead_letters_total",
    "Messages moved to the dead letters, by channel.",
    ["channel"],
)
OUTBOX = Gauge(
    "okno_complaints_outbox", "Outbox rows waiting (pending) or given up (dead).", ["state"]
)
VOICE_SKIPPED = Counter(
    "okno_complaints_voice_skipped_total",
    "Menu outcomes the voice intake left to others or could not read, by kind.",
    ["kind"],
)
RECORDING_MISSING = Counter(
    "okno_complaints_voice_recording_missing_total",
    "Voice complaints registered without their recording file (flagged on the timeline).",
)
OVERDUE = Counter("okno_complaints_overdue_total", "Deadlines missed, by deadline.", ["deadline"])


def registered(source: str) -> None:
    REGISTERED.labels(source).inc()


def delivered(kind: str, channel: str) -> None:
    DELIVERED.labels(kind, channel).inc()


def attempt_failed(channel: str, state: str | None) -> None:
    FAILED_ATTEMPTS.labels(channel).inc()
    if state == "dead":
        DEAD_LETTERS.labels(channel).inc()


def backlog(counts: dict[str, int]) -> None:
    for state in ("pending", "dead"):
        OUTBOX.labels(state).set(counts.get(state, 0))


def overdue(deadline: str) -> None:
    OVERDUE.labels(deadline).inc()


def voice_skipped(kind: str) -> None:
    VOICE_SKIPPED.labels(kind).inc()


def recording_missing() -> None:
    RECORDING_MISSING.inc()
