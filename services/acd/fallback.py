"""The 40-second rule's choice of action, as pure functions over plain values."""

from __future__ import annotations

from collections.abc import Mapping

from services.acd.config import RouterConfig, TopicPolicy
from services.acd.events import NeighbourStatus


def best_neighbour(
    neighbours: Mapping[str, NeighbourStatus], topic: str, own_wait: float
) -> tuple[str, float] | None:
    """The accepting neighbour with the lowest advertised wait for ``topic`` below ours.

    Ties go to the centre name, so the choice never depends on the order updates arrived in.
    """
    best: tuple[float, str] | None = None
    for name, status in neighbours.items():
        wait = status.waits.get(topic)
        if not status.accepting or wait is None or wait >= own_wait:
            continue
        if best is None or (wait, name) < best:
            best = (wait, name)
    return None if best is None else (best[1], best[0])


def choose_fallback(
    config: RouterConfig,
    policy: TopicPolicy,
    *,
    neighbours: Mapping[str, NeighbourStatus],
    topic: str,
    own_wait: float,
    may_overflow: bool,
    may_offer_callback: bool,
) -> tuple[str, str, float] | None:
    """First fallback of the topic's list that applies: ``(action, centre, neighbour_wait)``."""
    for option in policy.fallbacks:
        if option == "overflow" and config.overflow and may_overflow:
            target = best_neighbour(neighbours, topic, own_wait)
            if target is not None:
                return ("overflow", target[0], target[1])
        elif option == "callback" and config.callbacks and may_offer_callback:
            return ("callback", "", 0.0)
        elif option == "self_service" and policy.self_service:
            return ("self_service", "", 0.0)
    return None
