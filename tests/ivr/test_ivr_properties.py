"""Any sequence of keys, silences, prompt ends, answers, statuses and hang-ups: the session
never crashes, never produces a second outcome, never acts after its outcome, and while
unfinished always waits for something (a prompt, a timer or a recording) — it cannot get stuck
in silence."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ivr_support import CALLBACK_DID, LIBRARY, NOON, Caller, context

from services.ivr.engine import IvrSession
from services.ivr.outputs import CallContext

KEYS = "0123456789*#"
inputs = st.lists(
    st.one_of(
        st.tuples(st.just("key"), st.sampled_from(KEYS)),
        st.tuples(st.just("listen"), st.none()),
        st.tuples(st.just("wait"), st.none()),
        st.tuples(st.just("answer"), st.sampled_from(["", "Ответ на вопрос."])),
        st.tuples(st.just("recorded"), st.sampled_from([None, 0, 12])),
        st.tuples(st.just("status"), st.sampled_from(["found", "not_found", "unavailable"])),
        st.tuples(st.just("stale"), st.none()),
        st.tuples(st.just("hang_up"), st.none()),
    ),
    max_size=60,
)
calls = st.builds(
    lambda did, night, emergency, hours, caller: context(
        did=did,
        night=night,
        emergency=emergency,
        announcement="Экстренное сообщение." if emergency else "",
        now=NOON + timedelta(hours=hours),
        caller=caller,
    ),
    did=st.sampled_from(["88005550100", CALLBACK_DID]),
    night=st.booleans(),
    emergency=st.booleans(),
    hours=st.integers(0, 23),
    caller=st.sampled_from(["+79131234567", ""]),
)


@settings(max_examples=300, deadline=None)
@given(ctx=calls, script=inputs, survey=st.booleans())
def test_any_input_sequence_ends_in_at_most_one_outcome(
    ctx: CallContext, script: list[tuple[str, object]], survey: bool
) -> None:
    caller = Caller(ctx, LIBRARY.flows["survey"] if survey else None)
    for action, value in script:
        session: IvrSession = caller.session
        if action == "key":
            caller.press(str(value))
        elif action == "listen" and caller.playing:
            caller.listen()
        elif action == "wait" and caller.timer:
            caller.wait()
        elif action == "answer" and caller.fetches:
            caller.answer(str(value))
        elif action == "status" and caller.lookups:
            caller.status(value, "Жалоба номер 123 456 789: зарегистрирована.")
        elif action == "recorded" and caller.recording:
            caller.recorded(value if isinstance(value, int) else None)
        elif action == "stale":
            assert session.on_playback_finished("c1-pb0") == []
            assert session.on_timeout("c1-t0") == []
            assert session.on_recording_finished("other", 5) == []
        elif action == "hang_up":
            caller.hang_up()
        assert len(caller.outcomes) <= 1
        if session.finished:
            assert caller.playing is None and caller.timer is None
        else:
            assert caller.playing or caller.timer or caller.recording, session.node
    assert caller.session.outcome == (caller.outcomes[0] if caller.outcomes else None)


def test_context_must_carry_the_centres_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        context(now=datetime(2026, 12, 1, 12, 0))
