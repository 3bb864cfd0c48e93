"""The knowledge service's metrics, in one place so their names and labels stay consistent.

Empty searches are counted apart: they show which questions the FAQ does not answer yet."""

from __future__ import annotations

from typing import Literal

from prometheus_client import Counter

_SEARCHES = Counter(
    "okno_knowledge_searches_total",
    "FAQ searches, by audience (public, staff) and outcome (found, empty).",
    ["audience", "outcome"],
)
_ANSWERS_GIVEN = Counter(
    "okno_knowledge_answers_given_total", "FAQ answers given to callers (usage records)."
)
_NOTICES = Counter(
    "okno_knowledge_notice_events_total",
    "Outdated-information notices, by event (flagged, take, resolve, dismiss, reopen).",
    ["event"],
)


def searched(audience: Literal["public", "staff"], *, found: int) -> None:
    _SEARCHES.labels(audience, "found" if found else "empty").inc()


def answer_given() -> None:
    _ANSWERS_GIVEN.inc()


def notice_event(event: str) -> None:
    _NOTICES.labels(event).inc()
