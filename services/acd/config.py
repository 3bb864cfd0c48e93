"""Router configuration: one immutable object per centre, loaded from YAML or built in code."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.acd.schedule import NightSchedule, minute_of_day

Fallback = Literal["overflow", "callback", "self_service"]
MAX_LEVEL = 5


class RelaxStep(BaseModel):
    """After ``after_seconds`` of waiting, accept agents with topic level >= ``min_level``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    after_seconds: float = Field(gt=0)
    min_level: int = Field(ge=1, le=MAX_LEVEL)


class TopicPolicy(BaseModel):
    """Routing policy of one topic (as chosen in the voice menu)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    required_level: int = Field(default=1, ge=1, le=MAX_LEVEL)
    relax: tuple[RelaxStep, ...] = ()
    wrap_up_seconds: float = Field(default=0.0, ge=0)
    default_handle_seconds: float = Field(default=180.0, gt=0)
    self_service: bool = False
    fallbacks: tuple[Fallback, ...] = ("overflow", "callback", "self_service")

    @model_validator(mode="after")
    def _relax_in_order(self) -> TopicPolicy:
        times = [s.after_seconds for s in self.relax]
        if times != sorted(times):
            raise ValueError("relax steps must be in increasing after_seconds order")
        return self


class RouterConfig(BaseModel):
    """Every knob of the router core; ``plain()`` gives the textbook M/M/c queue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    centre: str = "main"
    answer_within_seconds: float = Field(default=40.0, gt=0)
    deadline_seconds: float = Field(default=35.0, gt=0)
    guarantee: bool = True
    overflow: bool = True
    callbacks: bool = True
    callback_within_seconds: float = Field(default=600.0, gt=0)
    callback_lead_seconds: float = Field(default=120.0, ge=0)
    callback_max_attempts: int = Field(default=3, ge=1)
    callback_retry_seconds: float = Field(default=120.0, ge=0)
    callback_hours: tuple[str, str] = ("08:00", "21:00")
    relaxation: bool = True
    ring_timeout_seconds: float = Field(default=15.0, gt=0)
    auto_answer: bool = False
    max_missed_rings: int = Field(default=2, ge=1)
    handle_time_window: int = Field(default=50, ge=1)
    announce_position: bool = True
    topics: dict[str, TopicPolicy] = {}
    default_topic: TopicPolicy = TopicPolicy()
    night: NightSchedule = NightSchedule()

    @model_validator(mode="after")
    def _deadline_before_promise(self) -> RouterConfig:
        if self.deadline_seconds > self.answer_within_seconds:
            raise ValueError("deadline_seconds must not exceed answer_within_seconds")
        start, end = (minute_of_day(t) for t in self.callback_hours)
        if start >= end:
            raise ValueError("callback_hours must be a (start, end) pair with start before end")
        return self

    def topic(self, name: str) -> TopicPolicy:
        return self.topics.get(name, self.default_topic)

    def plain(self) -> RouterConfig:
        """No 40-second actions, no relaxation, no night mode: a pure skills-based queue."""
        return self.model_copy(
            update={
                "guarantee": False,
                "overflow": False,
                "callbacks": False,
                "relaxation": False,
                "night": self.night.model_copy(update={"enabled": False}),
            }
        )
