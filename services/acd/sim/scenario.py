"""Scenario files for the simulator: YAML validated by pydantic, errors that name file and field."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.acd.config import RouterConfig

Policy = Literal["full", "queue_only", "plain"]
HALF_HOUR = 1800.0


class ScenarioError(Exception):
    """A scenario file that cannot be used; the message names the file and the field."""


class Distribution(BaseModel):
    """``exponential`` / ``lognormal`` (mean, sd) / ``fixed`` (value) / ``infinite`` seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["exponential", "lognormal", "fixed", "infinite"]
    mean: float | None = Field(default=None, gt=0)
    sd: float | None = Field(default=None, gt=0)
    value: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _parameters_present(self) -> Distribution:
        needed = {
            "exponential": ("mean",),
            "lognormal": ("mean", "sd"),
            "fixed": ("value",),
            "infinite": (),
        }[self.kind]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.kind} distribution needs {', '.join(missing)}")
        return self

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        """A draw function bound to ``rng`` (closures keep the simulator's hot loop lean)."""
        if self.kind == "exponential":
            assert self.mean is not None
            rate = 1.0 / self.mean
            uniform, log = rng.random, math.log
            # ``rng.expovariate(rate)`` spelled out (the same draw, one call fewer per draw).
            return lambda: -log(1.0 - uniform()) / rate
        if self.kind == "lognormal":
            assert self.mean is not None and self.sd is not None
            sigma2 = math.log(1.0 + (self.sd / self.mean) ** 2)
            mu, sigma = math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)
            lognormvariate = rng.lognormvariate
            return lambda: lognormvariate(mu, sigma)
        constant = math.inf if self.kind == "infinite" else float(self.value or 0.0)
        return lambda: constant

    def draws(self, rng: random.Random, count: int) -> list[float]:
        """``count`` draws at once: the same values, in order, as ``count`` calls of a sampler."""
        if self.kind == "exponential":
            assert self.mean is not None
            rate = 1.0 / self.mean
            uniform, log = rng.random, math.log
            return [-log(1.0 - uniform()) / rate for _ in range(count)]
        sample = self.sampler(rng)
        return [sample() for _ in range(count)]


INFINITE = Distribution(kind="infinite")


class AgentGroup(BaseModel):
    """``count`` identical agents; ``shift`` is [start, end) in hours from the scenario start."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "agent"
    count: int = Field(ge=1)
    skills: dict[str, int]
    languages: dict[str, int] = {"ru": 5}
    shift: tuple[float, float] | None = None
    answer_probability: float = Field(default=1.0, ge=0, le=1)


class Stream(BaseModel):
    """Poisson arrivals of one topic with a rate per half-hour interval."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str = "general"
    language: str = "ru"
    priority: int = 0
    per_half_hour: list[float] = Field(min_length=1)
    handle: Distribution
    patience: Distribution = INFINITE
    callback_accept_probability: float = Field(default=0.6, ge=0, le=1)
    callback_answer_probability: float = Field(default=0.8, ge=0, le=1)
    callback_busy_probability: float = Field(default=0.1, ge=0, le=1)
    callback_dial: Distribution = Distribution(kind="fixed", value=20.0)

    @model_validator(mode="after")
    def _rates_non_negative(self) -> Stream:
        if any(rate < 0 for rate in self.per_half_hour):
            raise ValueError("per_half_hour rates must be >= 0")
        if self.callback_answer_probability + self.callback_busy_probability > 1:
            raise ValueError("callback answer and busy probabilities must sum to at most 1")
        return self


class Centre(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    neighbours: list[str] = []
    router: RouterConfig = RouterConfig()
    agents: list[AgentGroup] = Field(min_length=1)
    arrivals: list[Stream] = Field(min_length=1)
    ring_seconds: Distribution = Distribution(kind="fixed", value=3.0)


class Scenario(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    start: datetime = datetime.fromisoformat("2026-11-30T08:00:00+07:00")
    seed: int = 1
    policy: Policy = "full"
    status_interval_seconds: float = Field(default=15.0, gt=0)
    drain_hours: float = Field(default=2.0, ge=0)
    pause_recovery_seconds: float = Field(default=60.0, ge=0)
    centres: list[Centre] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.start.tzinfo is None:
            raise ValueError("start must carry a UTC offset, e.g. 2026-11-30T08:00:00+07:00")
        names = [c.name for c in self.centres]
        if len(set(names)) != len(names):
            raise ValueError("centre names must be unique")
        for centre in self.centres:
            unknown = sorted(set(centre.neighbours) - set(names))
            if unknown or centre.name in centre.neighbours:
                wrong = unknown or [centre.name]
                raise ValueError(f"centre {centre.name}: neighbours must be other centres: {wrong}")
        return self

    @property
    def intervals(self) -> int:
        return max(len(s.per_half_hour) for c in self.centres for s in c.arrivals)

    @property
    def horizon_seconds(self) -> float:
        return self.intervals * HALF_HOUR


def parse_scenario(data: object, source: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ScenarioError(f"{source}: {problems}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; ``ScenarioError`` explains what is wrong and where."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{source}: cannot read file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML ({exc})") from None
    return parse_scenario(data, source)
