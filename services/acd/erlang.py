"""Erlang C (M/M/n) and Erlang A (M/M/n+M, with abandonment) service figures.

Erlang C is closed form. Erlang A solves the birth-death chain of the queue (truncated where the
remaining probability is negligible) for the state an arrival sees, then the tagged caller's
progress to an agent by uniformisation: this gives the answered-within-t probability exactly,
without special functions, in a few milliseconds for centre-sized inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceFigures:
    agents: int
    service_level: float
    """Share of all calls answered within the target time."""
    mean_wait_seconds: float
    """Mean time in queue over all calls (zero for calls answered at once)."""
    occupancy: float
    abandoned_ratio: float
    probability_wait: float


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability, by the stable recurrence B(n) = a B(n-1) / (n + a B(n-1))."""
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def erlang_c(agents: int, load: float) -> float:
    """Probability that a caller has to wait (``load`` = arrival rate x handle time, Erlangs)."""
    if agents <= load:
        return 1.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1.0 - blocking))


def erlang_c_figures(
    agents: int, arrivals_per_hour: float, aht_seconds: float, answer_within: float
) -> ServiceFigures:
    rate = arrivals_per_hour / 3600.0
    load = rate * aht_seconds
    if agents <= load:
        return ServiceFigures(agents, 0.0, math.inf, 1.0, 0.0, 1.0)
    wait_probability = erlang_c(agents, load)
    drain = (agents - load) / aht_seconds
    return ServiceFigures(
        agents=agents,
        service_level=1.0 - wait_probability * math.exp(-drain * answer_within),
        mean_wait_seconds=wait_probability / drain,
        occupancy=load / agents,
        abandoned_ratio=0.0,
        probability_wait=wait_probability,
    )


def _queue_distribution(
    agents: int, rate: float, service: float, patience_rate: float
) -> list[float]:
    """Stationary probabilities of the number in system for M/M/n+M."""
    weights = [1.0]
    k = 0
    total = 1.0
    while True:
        k += 1
        departures = min(k, agents) * service + max(k - agents, 0) * patience_rate
        weight = weights[-1] * rate / departures
        weights.append(weight)
        total += weight
        if k > agents and weight < total * 1e-13:
            break
    return [w / total for w in weights]


def _answered_within(
    agents: int, queue_states: list[float], service: float, patience_rate: float, t: float
) -> float:
    """P(reach an agent within ``t`` and before giving up), for arrivals at each position.

    ``queue_states[j]`` is the probability an arrival finds ``j`` callers already queued; from
    position ``i`` (``i - 1`` ahead) the line moves at ``n*mu + (i-1)*theta`` and the caller
    leaves at ``theta``. Uniformisation turns this pure-death chain into matrix-free sweeps.
    """
    positions = len(queue_states)
    top = agents * service + positions * patience_rate + patience_rate
    steps_mean = top * t
    # served[i]: probability of having reached an agent, for a caller now at position i (1-based);
    # index 0 is the absorbing "served" state.
    current = [1.0] + [0.0] * positions
    weight = math.exp(-steps_mean)
    result = [weight * x for x in current]
    cumulative = weight
    m = 0
    while cumulative < 1.0 - 1e-12 and m < 100_000:
        m += 1
        nxt = [1.0]
        for i in range(1, positions + 1):
            move = (agents * service + (i - 1) * patience_rate) / top
            stay = 1.0 - move - patience_rate / top
            nxt.append(move * current[i - 1] + stay * current[i])
        current = nxt
        weight *= steps_mean / m
        cumulative += weight
        for i in range(positions + 1):
            result[i] += weight * current[i]
    return sum(p * result[j + 1] for j, p in enumerate(queue_states))


def erlang_a_figures(
    agents: int,
    arrivals_per_hour: float,
    aht_seconds: float,
    answer_within: float,
    patience_seconds: float,
) -> ServiceFigures:
    """Figures for M/M/n+M: exponential patience with mean ``patience_seconds``."""
    rate = arrivals_per_hour / 3600.0
    service = 1.0 / aht_seconds
    theta = 1.0 / patience_seconds
    states = _queue_distribution(agents, rate, service, theta)
    waiting = states[agents:]
    wait_probability = sum(waiting)
    queue_length = sum(j * p for j, p in enumerate(states[agents:]))
    mean_wait = queue_length / rate
    abandoned = theta * queue_length / rate
    served_later = _answered_within(agents, waiting, service, theta, answer_within)
    busy = sum(min(k, agents) * p for k, p in enumerate(states))
    return ServiceFigures(
        agents=agents,
        service_level=(1.0 - wait_probability) + served_later,
        mean_wait_seconds=mean_wait,
        occupancy=busy / agents,
        abandoned_ratio=abandoned,
        probability_wait=wait_probability,
    )


def figures(
    agents: int,
    arrivals_per_hour: float,
    aht_seconds: float,
    answer_within: float,
    patience_seconds: float | None = None,
) -> ServiceFigures:
    """Erlang A when a patience is given, else Erlang C."""
    if patience_seconds is None:
        return erlang_c_figures(agents, arrivals_per_hour, aht_seconds, answer_within)
    return erlang_a_figures(agents, arrivals_per_hour, aht_seconds, answer_within, patience_seconds)


def agents_needed(
    arrivals_per_hour: float,
    aht_seconds: float,
    answer_within: float,
    target: float,
    patience_seconds: float | None = None,
    max_agents: int = 5000,
) -> ServiceFigures:
    """The fewest agents whose service level reaches ``target``."""
    if arrivals_per_hour <= 0:
        return ServiceFigures(0, 1.0, 0.0, 0.0, 0.0, 0.0)
    load = arrivals_per_hour / 3600.0 * aht_seconds
    agents = math.floor(load) + 1 if patience_seconds is None else 1
    while agents <= max_agents:
        result = figures(agents, arrivals_per_hour, aht_seconds, answer_within, patience_seconds)
        if result.service_level >= target:
            return result
        agents += 1
    raise ValueError(f"target {target} needs more than {max_agents} agents")
