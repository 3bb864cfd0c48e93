"""The node kinds of a voice-menu flow, and the ways out of each.

Kinds: play a prompt, menu (one key), collect digits, say information from the knowledge base,
say a complaint's status, branch (time, night, holiday, emergency, variables), queue, callback,
record, transfer, survey, hang up, and goto another flow. A node's ``say`` lists prompt ids
(texts in the flow's ``prompts``) and spoken values (``{digits: var}``, ``{number: var}``,
``{announcement: emergency}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from services.ivr.outputs import CallContext

DIGIT_KEYS = frozenset("0123456789*#")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class DigitsOf(_Model):
    """Say a variable's value digit by digit (a phone or application number)."""

    digits: str


class NumberOf(_Model):
    """Say a variable's value as a number."""

    number: str


class Announcement(_Model):
    """The supervisor's current emergency announcement (R5); nothing when there is none."""

    announcement: Literal["emergency"]


PromptItem: TypeAlias = str | DigitsOf | NumberOf | Announcement


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str | dict) else value


Say: TypeAlias = Annotated[tuple[PromptItem, ...], BeforeValidator(_as_list)]
"""What a node says: prompt ids and spoken values, in order (a single id may be written alone)."""


def _check_digit(key: str) -> str:
    if len(key) != 1 or key not in DIGIT_KEYS:
        raise ValueError(f"key {key!r} is not one of 0-9, * or #")
    return key


class _Node(_Model):
    assign: dict[str, str] = Field(default_factory=dict, alias="set")
    """Variables set on entering the node; a value ``$name`` copies another variable."""
    label: str = Field(default="", max_length=80)
    """A short Russian name for operators: the call card shows what the caller chose or typed
    here under it (menus and digit collection)."""


class PlayNode(_Node):
    kind: Literal["play"]
    say: Say
    next: str | None = None


class Option(_Model):
    next: str
    assign: dict[str, str] = Field(default_factory=dict, alias="set")


def _option(value: Any) -> Any:
    return {"next": value} if isinstance(value, str) else value


class MenuNode(_Node):
    """Choose by one key; a key pressed during the prompt stops it (barge-in)."""

    kind: Literal["menu"]
    say: Say
    options: dict[str, Annotated[Option, BeforeValidator(_option)]]
    timeout: float = Field(default=6.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=5)
    invalid: Say = ()
    no_input: Say = ()
    default: str | None = None
    """Where to go when the retries run out; without it the call ends (reason ``no_input``)."""

    @field_validator("options")
    @classmethod
    def _keys(cls, value: dict[str, Option]) -> dict[str, Option]:
        for key in value:
            _check_digit(key)
        if not value:
            raise ValueError("a menu needs at least one option")
        return value


class CollectNode(_Node):
    """Collect several digits into a variable: ended by the terminator, the maximum length, or
    a pause once the minimum length is reached."""

    kind: Literal["collect"]
    say: Say
    variable: str
    min_length: int = Field(default=1, ge=1, le=32)
    max_length: int = Field(default=20, ge=1, le=32)
    terminator: str = "#"
    pattern: str | None = None
    timeout: float = Field(default=7.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=5)
    invalid: Say = ()
    next: str | None = None
    default: str | None = None

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(
                    f"pattern {value!r} is not a valid regular expression: {exc}"
                ) from None
        return value

    @model_validator(mode="after")
    def _lengths(self) -> CollectNode:
        if self.min_length > self.max_length:
            raise ValueError("min_length is greater than max_length")
        _check_digit(self.terminator)
        return self


class InfoNode(_Node):
    """Read aloud the knowledge base's most asked answers of a topic (self-service, R7)."""

    kind: Literal["say_info"]
    topic: str
    service: str | None = None
    limit: int = Field(default=3, ge=1, le=10)
    intro: Say = ()
    empty: Say = ()
    wait: float = Field(default=4.0, gt=0, le=30)
    next: str | None = None


class StatusNode(_Node):
    """Read the status of a complaint by its registration number (R9): the shell asks the
    complaints service with the last four digits of ``phone_from`` (the caller's number, or
    digits the caller typed) as the second factor."""

    kind: Literal["say_status"]
    number: str
    """The variable holding the registration number the caller typed."""
    phone_from: str = "caller"
    intro: Say = ()
    not_found: str | None = None
    """Where to go when no complaint matches (e.g. to ask for the phone's digits); without
    it ``unknown`` is said and the flow goes on to ``next``."""
    unknown: Say = ()
    unavailable: Say = ()
    """Said when the look-up fails, is refused (too many attempts) or takes over ``wait``."""
    wait: float = Field(default=5.0, gt=0, le=30)
    next: str | None = None


class Condition(_Model):
    """One branch: a context flag, a local-time window ``[from, to)``, or a variable's value."""

    flag: Literal["night", "emergency", "holiday", "weekend"] | None = None
    time_from: str | None = Field(default=None, alias="from")
    time_to: str | None = Field(default=None, alias="to")
    variable: str | None = None
    equals: str | None = None
    next: str

    @field_validator("time_from", "time_to")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d|24:00", value):
            raise ValueError(f"time {value!r} is not HH:MM")
        return value

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [self.flag is not None, self.time_from is not None, self.variable is not None]
        if sum(tests) != 1 or (self.time_from is None) != (self.time_to is None):
            raise ValueError("a branch tests exactly one of: flag, from/to, variable")
        return self

    def holds(self, ctx: CallContext, variables: Mapping[str, str]) -> bool:
        """Whether the branch is taken for this call (time windows may cross midnight)."""
        if self.flag is not None:
            return {
                "night": ctx.night,
                "emergency": ctx.emergency,
                "holiday": ctx.now.date() in ctx.holidays,
                "weekend": ctx.now.weekday() >= 5,
            }[self.flag]
        if self.time_from is not None and self.time_to is not None:
            minute = ctx.now.hour * 60 + ctx.now.minute
            start, end = _minutes(self.time_from), _minutes(self.time_to)
            return start <= minute < end if start <= end else minute >= start or minute < end
        value = variables.get(self.variable or "", "")
        return value == self.equals if self.equals is not None else bool(value)


class BranchNode(_Node):
    kind: Literal["branch"]
    branches: tuple[Condition, ...]
    default: str | None = None


class QueueNode(_Node):
    """Hand the call to the ACD queue; ``topic`` defaults to the ``topic`` variable."""

    kind: Literal["queue"]
    topic: str | None = None
    language: str = "ru"
    priority: int = Field(default=0, ge=0, le=9)


class CallbackNode(_Node):
    """Register a callback to the number in ``number_from``, then say goodbye."""

    kind: Literal["callback"]
    number_from: str = "caller"
    when: Literal["now", "morning"] = "now"
    say: Say = ()


class RecordNode(_Node):
    """Invite, then record a voice message (a complaint, R9); ``farewell`` follows it."""

    kind: Literal["record"]
    say: Say
    max_seconds: int = Field(default=120, ge=5, le=600)
    terminate_on: str = "#"
    message: Literal["complaint", "message"] = "complaint"
    farewell: Say = ()


class TransferNode(_Node):
    kind: Literal["transfer"]
    number: str = Field(pattern=r"^\+?\d{2,15}$")
    say: Say = ()


class Question(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    say: Say


class SurveyNode(_Node):
    """Questions answered on a 1..scale keypad scale (R15); answers go to ``survey_<id>``."""

    kind: Literal["survey"]
    questions: tuple[Question, ...] = Field(min_length=1)
    scale: int = Field(default=5, ge=2, le=9)
    timeout: float = Field(default=7.0, gt=0, le=60)
    next: str | None = None


class HangupNode(_Node):
    kind: Literal["hangup"]
    say: Say = ()
    reason: str = "completed"


class GotoNode(_Node):
    """Continue in another flow file (e.g. the night flow), from its start."""

    kind: Literal["goto"]
    flow: str


Node: TypeAlias = Annotated[
    PlayNode
    | MenuNode
    | CollectNode
    | InfoNode
    | StatusNode
    | BranchNode
    | QueueNode
    | CallbackNode
    | RecordNode
    | TransferNode
    | SurveyNode
    | HangupNode
    | GotoNode,
    Field(discriminator="kind"),
]
TERMINAL_KINDS = frozenset({"queue", "callback", "record", "transfer", "hangup", "goto"})


def edges(node: Node) -> Iterator[tuple[str, str | None]]:
    """The node's ways out as ``(label, target)``; ``None`` is a missing ``next``."""
    match node:
        case PlayNode() | CollectNode() | InfoNode() | SurveyNode():
            yield "next", node.next
            if isinstance(node, CollectNode) and node.default is not None:
                yield "default", node.default
        case StatusNode():
            yield "next", node.next
            if node.not_found is not None:
                yield "not_found", node.not_found
        case MenuNode():
            for key, option in node.options.items():
                yield f"option '{key}'", option.next
            if node.default is not None:
                yield "default", node.default
        case BranchNode():
            for condition in node.branches:
                yield f"branch '{describe(condition)}'", condition.next
            yield "default", node.default
        case _:
            pass


def describe(condition: Condition) -> str:
    if condition.flag is not None:
        return condition.flag
    if condition.time_from is not None:
        return f"{condition.time_from}-{condition.time_to}"
    return (
        f"{condition.variable}={condition.equals}" if condition.equals else f"{condition.variable}"
    )


def prompt_ids(node: Node) -> Iterator[str]:
    """Every prompt id the node may say."""
    says: list[tuple[PromptItem, ...]] = []
    fields = ("say", "invalid", "no_input", "intro", "empty", "farewell", "unknown", "unavailable")
    for field in fields:
        value = getattr(node, field, None)
        if value is not None:
            says.append(value)
    if isinstance(node, SurveyNode):
        says.extend(question.say for question in node.questions)
    for say in says:
        yield from (item for item in say if isinstance(item, str))


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)
