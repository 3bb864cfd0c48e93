"""Who gets which call: qualification, idleness, relaxation, priorities, rings, wrap-up."""

from __future__ import annotations

from services.acd import commands as c
from services.acd import events as e
from services.acd.config import RelaxStep, TopicPolicy
from services.acd.model import RINGING
from services.acd.router import RouterState
from tests.acd.acd_support import T0, arrive, connected, login, make_router, only


def current_call(router: RouterState) -> str:
    (agent,) = router.agents.values()
    assert agent.item is not None
    return agent.item.id


def test_call_goes_to_longest_idle_among_best_qualified() -> None:
    router = make_router(guarantee=False, auto_answer=True)
    login(router, "junior", {"general": 1}, now=T0 - 30)
    login(router, "senior-a", {"general": 3}, now=T0 - 20)
    login(router, "senior-b", {"general": 3}, now=T0 - 10)
    assert connected(arrive(router, "c0", T0 - 9)) == [("c0", "senior-a")]
    router.apply(e.CallEnded("c0"), T0 - 2)
    assert connected(arrive(router, "c1")) == [("c1", "senior-b")]
    assert connected(arrive(router, "c2")) == [("c2", "senior-a")]
    assert connected(arrive(router, "c3")) == [("c3", "junior")]


def test_language_is_required_and_caps_the_level() -> None:
    router = make_router(guarantee=False)
    login(router, "ru-only", {"general": 5}, languages={"ru": 5}, now=T0 - 60)
    login(router, "weak-tt", {"general": 5}, languages={"tt": 1, "ru": 5}, now=T0 - 10)
    commands = arrive(router, "c1", language="tt")
    assert connected(commands) == [("c1", "weak-tt")]
    assert only(commands, c.ConnectAgent)[0].level == 1


def test_requirement_relaxes_with_waiting_time() -> None:
    policy = TopicPolicy(
        required_level=3,
        relax=(RelaxStep(after_seconds=15, min_level=2), RelaxStep(after_seconds=25, min_level=1)),
    )
    router = make_router(guarantee=False, topics={"pensions": policy})
    login(router, "level1", {"pensions": 1})
    login(router, "level2", {"pensions": 2})
    assert connected(arrive(router, "c1", topic="pensions")) == []
    assert router.next_timer() == T0 + 15
    assert connected(router.apply(e.ScheduleTick(), T0 + 14.9)) == []
    assert connected(router.apply(e.ScheduleTick(), T0 + 15)) == [("c1", "level2")]
    assert connected(arrive(router, "c2", T0 + 16, topic="pensions")) == []
    assert connected(router.apply(e.ScheduleTick(), T0 + 41)) == [("c2", "level1")]


def test_relaxation_off_keeps_the_requirement() -> None:
    policy = TopicPolicy(required_level=3, relax=(RelaxStep(after_seconds=15, min_level=1),))
    router = make_router(guarantee=False, relaxation=False, topics={"pensions": policy})
    login(router, "level1", {"pensions": 1})
    arrive(router, "c1", topic="pensions")
    assert connected(router.apply(e.ScheduleTick(), T0 + 600)) == []


def test_shared_agent_takes_highest_priority_then_longest_wait_across_queues() -> None:
    router = make_router(guarantee=False)
    login(router, "busy", {"general": 3, "pensions": 3})
    arrive(router, "first-general", T0)
    arrive(router, "older-pensions", T0 + 1, topic="pensions")
    arrive(router, "newer-general", T0 + 2)
    arrive(router, "vip-pensions", T0 + 3, topic="pensions", priority=5)
    router.apply(e.AgentAnswered("first-general", "busy"), T0 + 4)
    order = []
    now = T0 + 10
    for _ in range(3):
        (call_id, _agent) = connected(router.apply(e.CallEnded(current_call(router)), now))[0]
        order.append(call_id)
        router.apply(e.AgentAnswered(call_id, "busy"), now)
        now += 10
    assert order == ["vip-pensions", "older-pensions", "newer-general"]


def test_no_answer_requeues_at_head_and_pauses_after_misses() -> None:
    router = make_router(guarantee=False, max_missed_rings=2)
    login(router, "sleepy")
    arrive(router, "c1", T0)
    arrive(router, "c2", T0 + 1)
    first = router.apply(e.AgentNoAnswer("c1", "sleepy"), T0 + 15)
    assert connected(first) == [("c1", "sleepy")]
    second = router.apply(e.AgentNoAnswer("c1", "sleepy"), T0 + 30)
    assert [(p.agent_id, p.reason) for p in only(second, c.PauseAgent)] == [("sleepy", "no_answer")]
    assert connected(second) == []
    login(router, "awake", now=T0 + 31)
    assert router.items["c1"].state == RINGING  # c1 kept its place at the head of the line
    assert router.items["c1"].agent is router.agents["awake"]


def test_missed_call_goes_to_another_ready_agent_first() -> None:
    router = make_router(guarantee=False)
    login(router, "a", now=T0 - 10)
    arrive(router, "c1")
    login(router, "b", now=T0 + 1)
    assert connected(router.apply(e.AgentNoAnswer("c1", "a"), T0 + 15)) == [("c1", "b")]
    assert connected(arrive(router, "c2", T0 + 16)) == [("c2", "a")]


def test_agent_never_holds_two_calls_and_honours_wrap_up() -> None:
    policy = TopicPolicy(wrap_up_seconds=20)
    router = make_router(guarantee=False, topics={"general": policy})
    login(router, "a")
    arrive(router, "c1")
    arrive(router, "c2", T0 + 1)
    assert connected(router.apply(e.AgentReady("a"), T0 + 2)) == []
    router.apply(e.AgentAnswered("c1", "a"), T0 + 3)
    ended = router.apply(e.CallEnded("c1"), T0 + 60)
    assert connected(ended) == []
    assert router.next_timer() == T0 + 80
    assert connected(router.apply(e.ScheduleTick(), T0 + 79)) == []
    assert connected(router.apply(e.ScheduleTick(), T0 + 80)) == [("c2", "a")]


def test_wrap_up_can_end_early() -> None:
    router = make_router(guarantee=False, topics={"general": TopicPolicy(wrap_up_seconds=60)})
    login(router, "a")
    arrive(router, "c1")
    router.apply(e.AgentAnswered("c1", "a"), T0 + 1)
    router.apply(e.CallEnded("c1"), T0 + 30)
    arrive(router, "c2", T0 + 31)
    assert connected(router.apply(e.WrapUpEnded("a"), T0 + 40)) == [("c2", "a")]
    assert connected(router.apply(e.ScheduleTick(), T0 + 90)) == []


def test_caller_hanging_up_while_ringing_frees_the_agent() -> None:
    router = make_router(guarantee=False)
    login(router, "a")
    arrive(router, "c1")
    commands = router.apply(e.CallerHungUp("c1"), T0 + 5)
    assert [type(cmd) for cmd in commands] == [c.CallFinished, c.StopRinging]
    assert only(commands, c.CallFinished)[0].outcome == "abandoned"
    assert connected(arrive(router, "c2", T0 + 6)) == [("c2", "a")]


def test_logout_while_ringing_puts_the_call_back() -> None:
    router = make_router(guarantee=False)
    login(router, "a")
    login(router, "b", now=T0 + 1)
    arrive(router, "c1")
    commands = router.apply(e.AgentLoggedOut("a"), T0 + 2)
    assert connected(commands) == [("c1", "b")]
    assert "a" not in router.agents


def test_paused_agent_gets_nothing_until_ready() -> None:
    router = make_router(guarantee=False)
    login(router, "a")
    router.apply(e.AgentPaused("a", "lunch"), T0)
    assert connected(arrive(router, "c1")) == []
    assert connected(router.apply(e.AgentReady("a"), T0 + 5)) == [("c1", "a")]


def test_agent_logging_back_in_during_a_call_stays_logged_in() -> None:
    router = make_router(guarantee=False)
    login(router, "a")
    arrive(router, "c1")
    router.apply(e.AgentAnswered("c1", "a"), T0 + 1)
    router.apply(e.AgentLoggedOut("a"), T0 + 2)
    login(router, "a", now=T0 + 3)
    arrive(router, "c2", T0 + 4)
    assert connected(router.apply(e.CallEnded("c1"), T0 + 5)) == [("c2", "a")]
