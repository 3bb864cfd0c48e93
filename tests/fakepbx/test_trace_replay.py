"""The fake, driven through each recorded flow, must answer and emit what Asterisk did.

Order is compared the way Asterisk guarantees it:
* events about one object (a channel, a bridge, a playback target) keep their order;
* across objects, the order of everything the app can act on (channels that enter Stasis,
  bridges, playbacks, endpoints) is compared too, except that events stamped in the same
  millisecond come from different Asterisk threads and were recorded in either order across
  flows (MANIFEST.md, "Other quirks"), so within one millisecond only per-object order counts;
* dialplan-side Local halves and never-answered legs (never in Stasis) run in their own
  threads: only their own order is compared.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import groupby
from typing import Any

import pytest

from tests.fakepbx.normalise import normalise, track
from tests.fakepbx.replay import parse_time, replay
from tests.fakepbx.shared import FLOWS, TRACES

pytestmark = pytest.mark.e2e


def _key(event: dict[str, Any]) -> str:
    return repr(sorted(event.items()))


def _assert_same_order(
    expected: list[dict[str, Any]], actual: list[dict[str, Any]], stamps: list[float]
) -> None:
    position = 0
    for _, group in groupby(zip(stamps, expected, strict=True), key=lambda p: round(p[0], 3)):
        wanted = [event for _, event in group]
        got = actual[position : position + len(wanted)]
        position += len(wanted)
        assert Counter(map(_key, got)) == Counter(map(_key, wanted)), (wanted, got)
        for name in {track(e) for e in wanted}:
            assert [e for e in got if track(e) == name] == [e for e in wanted if track(e) == name]


def _same_millisecond_tolerant(
    expected: list[dict[str, Any]], actual: list[dict[str, Any]], raw: list[dict[str, Any]]
) -> None:
    stamps = [parse_time(e["timestamp"]) for e in raw]
    for name in {track(e) for e in expected}:
        assert [e for e in actual if track(e) == name] == [
            e for e in expected if track(e) == name
        ], name
    stasis = {track(e) for e in expected if e["type"] == "StasisStart"}

    def is_main(event: dict[str, Any]) -> bool:
        return track(event) in stasis or not track(event).startswith("Local/")

    main = [i for i, e in enumerate(expected) if is_main(e)]
    _assert_same_order(
        [expected[i] for i in main],
        [e for e in actual if is_main(e)],
        [stamps[i] for i in main],
    )


@pytest.mark.parametrize("flow", FLOWS)
async def test_flow_is_reproduced(flow: str) -> None:
    """Same status codes, same events in the same order, same REST bodies (ids aside);
    the AMI mirror emits only event kinds the recording has (it omits some, e.g. LocalBridge)."""
    result, trace = await replay(flow)
    assert result.errors == []
    for call, status, _ in result.rest:
        assert status == call["status"], (call["method"], call["path"])
    expected, actual = normalise(trace), normalise(result.events)
    assert Counter(map(_key, actual)) == Counter(map(_key, expected))
    _same_millisecond_tolerant(expected, actual, trace)
    recorded_ami = re.findall(r"^Event: (\w+)", (TRACES / f"{flow}.ami.txt").read_text(), re.M)
    assert Counter(result.ami_events) - Counter(recorded_ami) == Counter()  # nothing invented
    recorded = normalise([{"body": call["response"]} for call, _, _ in result.rest], trace)
    answered = normalise([{"body": body} for _, _, body in result.rest], result.events)
    assert answered == recorded
