"""Simulator throughput against Ciw and a bare heapq M/M/c loop, on the same M/M/c queue.

    python bench/bench_acd_sim.py [--quick] [--calls N] [--repeat R] [--sl-runs S]

All three run M/M/50 at 90 % load (AHT 180 s) in this process with the same seeds; the table
shows simulated calls per second (best run, CPU time so that other load on the machine
matters less), the ratio to Ciw, and each one's service level (answered within 40 s): the mean
over the runs with a 95 % confidence interval from their spread, next to Erlang C. One run of
100,000 calls at this load has a standard deviation of about 1.5 points (busy periods are long),
so a few runs cannot show agreement to within 1 point; ``--sl-runs S`` (default 195, about a
minute and a half) adds S runs of our simulator alone (seeds after the timed ones), so the
service level is judged over 200 runs (±0.2 points). Our simulator drives the real ACD core
(``policy: plain``).
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.acd.erlang import erlang_c_figures  # noqa: E402
from services.acd.sim.engine import simulate  # noqa: E402
from services.acd.sim.scenario import parse_scenario  # noqa: E402

AGENTS, LOAD, AHT, WITHIN = 50, 0.9, 180.0, 40.0
RATE = LOAD * AGENTS / AHT  # arrivals per second


def run_okno(calls: int, seed: int) -> tuple[int, float, float]:
    per_half_hour = RATE * 1800
    scenario = parse_scenario(
        {
            "name": "M/M/50 at 90 %",
            "policy": "plain",
            "drain_hours": 24,
            "centres": [
                {
                    "name": "main",
                    "router": {"auto_answer": True, "announce_position": False},
                    "agents": [{"count": AGENTS, "skills": {"general": 1}}],
                    "arrivals": [
                        {
                            "per_half_hour": [per_half_hour] * round(calls / per_half_hour),
                            "handle": {"kind": "exponential", "mean": AHT},
                        }
                    ],
                }
            ],
        },
        "bench",
    )
    started = time.process_time()
    summary = simulate(scenario, seed=seed).summary
    elapsed = time.process_time() - started
    return summary["calls"], elapsed, summary["answered_within_40s_ratio"]


def run_ciw(calls: int, seed: int) -> tuple[int, float, float]:
    import ciw

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(RATE)],
        service_distributions=[ciw.dists.Exponential(1 / AHT)],
        number_of_servers=[AGENTS],
    )
    ciw.seed(seed)
    started = time.process_time()
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(calls / RATE)
    elapsed = time.process_time() - started
    records = simulation.get_all_records()
    within = sum(1 for r in records if r.waiting_time <= WITHIN)
    return len(records), elapsed, within / len(records)


def run_bare(calls: int, seed: int) -> tuple[int, float, float]:
    """The bound for pure Python: a heap of departures, a FIFO of arrival times, nothing else."""
    rng = random.Random(seed)
    draw = rng.expovariate
    started = time.process_time()
    departures: list[float] = []
    queue: deque[float] = deque()
    free, within, arrived = AGENTS, 0, 0
    next_arrival = draw(RATE)
    while arrived < calls or departures:
        if arrived < calls and (not departures or next_arrival < departures[0]):
            now = next_arrival
            arrived += 1
            if free:
                free -= 1
                within += 1
                heapq.heappush(departures, now + draw(1 / AHT))
            else:
                queue.append(now)
            next_arrival = now + draw(RATE)
        else:
            now = heapq.heappop(departures)
            if queue:
                within += now - queue.popleft() <= WITHIN
                heapq.heappush(departures, now + draw(1 / AHT))
            else:
                free += 1
    return calls, time.process_time() - started, within / calls


# Two-sided 95 % quantiles of Student's t by degrees of freedom (a missing one takes the next
# lower listed one, which is wider); above 30, the normal 1.96.
T95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    12: 2.179,
    15: 2.131,
    20: 2.086,
    30: 2.042,
}


def interval(values: list[float]) -> tuple[float, float | None]:
    """Mean and the half-width of its 95 % confidence interval (None from a single run)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None
    df = len(values) - 1
    t = 1.96 if df > 30 else T95[max(k for k in T95 if k <= df)]
    return mean, t * statistics.stdev(values) / math.sqrt(len(values))


def measure(calls: int, repeat: int) -> dict[str, tuple[float, list[float]]]:
    """Best calls/s (CPU time) and the service level of every run, per simulator.

    Runs are interleaved (ours, Ciw, bare, ours, ...) so that load from other processes on
    the machine hits all three alike; seeds 1..repeat are the same for every simulator.
    """
    runners = {"okno": run_okno, "ciw": run_ciw, "bare": run_bare}
    results: dict[str, list[tuple[int, float, float]]] = {name: [] for name in runners}
    for seed in range(1, repeat + 1):
        for name, runner in runners.items():
            results[name].append(runner(calls, seed))
    return {
        name: (max(n / elapsed for n, elapsed, _ in runs), [sl for _, _, sl in runs])
        for name, runs in results.items()
    }


def describe(levels: list[float], theory: float) -> str:
    mean, half = interval(levels)
    if half is None:
        return f"{mean:>8.4f}{'':>9}{(mean - theory) * 100:>+9.2f} pt"
    verdict = "inside" if abs(mean - theory) <= half else "OUTSIDE"
    return f"{mean:>8.4f} ±{half:.4f}{(mean - theory) * 100:>+9.2f} pt  (Erlang C {verdict})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 calls, one run each")
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--sl-runs",
        type=int,
        default=195,
        help="extra runs of okno sim for the service level (0: the timed runs only)",
    )
    args = parser.parse_args()
    calls, repeat = (20_000, 1) if args.quick else (args.calls, args.repeat)
    if args.quick:
        args.sl_runs = 0
    theory = erlang_c_figures(AGENTS, RATE * 3600, AHT, WITHIN).service_level

    results = measure(calls, repeat)
    ciw_rate = results["ciw"][0]
    print(
        f"M/M/{AGENTS} at {LOAD:.0%} load, AHT {AHT:g} s, ~{calls:,} calls per run, "
        f"{repeat} run(s) each (seeds 1..{repeat}); calls/s = best run, CPU time"
    )
    print(f"Erlang C service level (answered within {WITHIN:g} s): {theory:.4f}")
    print(f"{'simulator':<28}{'calls/s':>12}{'vs Ciw':>9}   service level, 95 % CI   - Erlang C")
    for key, name in (
        ("okno", "okno sim (real ACD core)"),
        ("ciw", "Ciw"),
        ("bare", "bare heapq loop (bound)"),
    ):
        rate, levels = results[key]
        print(f"{name:<28}{rate:>12,.0f}{rate / ciw_rate:>8.1f}x   {describe(levels, theory)}")
    print(f"okno sim / bare bound: {results['okno'][0] / results['bare'][0]:.3f}")
    if args.sl_runs:
        seeds = range(repeat + 1, repeat + args.sl_runs + 1)
        levels = results["okno"][1] + [run_okno(calls, seed)[2] for seed in seeds]
        print(f"okno sim, service level over {len(levels)} runs: {describe(levels, theory)}")


if __name__ == "__main__":
    main()
