"""The per-call voice-menu interpreter: pure, so every path is tested without a PBX.

`IvrSession` reads no clock, does no I/O and draws no random numbers: the bridge feeds it the
call's inputs (keys, playback and recording ends, timer expiries, knowledge answers) and carries
out the outputs it returns. A session produces at most one outcome; after it, or after the
caller hangs up, every input returns nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from services.ivr import nodes as n
from services.ivr import outputs as o
from services.ivr import schema as s
from services.ivr.media import prompt_media

MAX_HOPS = 64
"""Nodes passed without waiting for the caller before the flow is judged to loop."""


class IvrSession:
    """Runs one caller through a flow (and the flows it jumps to with ``goto``)."""

    def __init__(
        self,
        flow: s.Flow,
        context: o.CallContext,
        *,
        flows: Mapping[str, s.Flow] | None = None,
    ) -> None:
        self._flow = flow
        self._flows = dict(flows or {flow.name: flow})
        self._ctx = context
        self.variables: dict[str, str] = {"did": context.did, "caller": context.caller}
        self._node_id = ""
        self._phase = ""
        self._seq = 0
        self._playback: str | None = None
        self._timer: str | None = None
        self._recording: str | None = None
        self._attempts = 0
        self._digits = ""
        self._question = 0
        self._hung_up = False
        self.outcome: o.Outcome | None = None

    @property
    def finished(self) -> bool:
        """No input can produce anything any more."""
        return self.outcome is not None or (self._hung_up and self._recording is None)

    @property
    def node(self) -> str:
        """``flow:node`` where the caller is (for logs and the call record)."""
        return f"{self._flow.name}:{self._node_id}"

    # --- inputs -------------------------------------------------------------------------

    def start(self) -> list[o.Output]:
        out: list[o.Output] = []
        if not self._node_id and not self.finished:
            self._go(self._flow.start, out)
        return out

    def on_dtmf(self, digit: str) -> list[o.Output]:
        out: list[o.Output] = []
        if self.finished or self._phase not in ("prompt", "input", "info"):
            return out
        node = self._current()
        if self._phase == "info" and isinstance(node, n.InfoNode):  # a key skips the answers
            self._stop_playback(out)
            self._go(node.next, out)
        elif isinstance(node, n.MenuNode):
            self._interrupt(out)
            self._choose(node, digit, out)
        elif isinstance(node, n.SurveyNode):
            self._interrupt(out)
            self._answer(node, digit, out)
        elif isinstance(node, n.CollectNode):
            self._collect(node, digit, out)
        return out

    def on_playback_finished(self, playback_id: str) -> list[o.Output]:
        out: list[o.Output] = []
        if self.finished or playback_id != self._playback:
            return out
        self._playback = None
        node = self._current()
        match node:
            case n.PlayNode() | n.InfoNode() | n.StatusNode():
                self._go(node.next, out)
            case n.MenuNode() | n.CollectNode() | n.SurveyNode():
                self._start_timer(node.timeout, out)
                self._phase = "input"
            case n.RecordNode():
                self._seq += 1
                self._recording = f"{self._ctx.session_id}-rec{self._seq}"
                self._phase = "recording"
                out.append(o.StartRecording(self._recording, node.max_seconds, node.terminate_on))
            case _:
                pass
        return out

    def on_timeout(self, timer_id: str) -> list[o.Output]:
        out: list[o.Output] = []
        if self.finished or timer_id != self._timer:
            return out
        self._timer = None
        node = self._current()
        match node:
            case n.MenuNode():
                self._retry(node, node.no_input, "no_input", out)
            case n.CollectNode():
                self._end_of_digits(node, out)
            case n.SurveyNode():
                self._next_question(node, out)
            case n.InfoNode():
                self._information(node, "", out)
            case n.StatusNode():
                self._status(node, "unavailable", "", out)
            case _:
                pass
        return out

    def on_information(self, text: str) -> list[o.Output]:
        """The shell's knowledge answer for the last `FetchInformation` ("" when none)."""
        out: list[o.Output] = []
        if self.finished or self._phase != "fetch":
            return out
        node = self._current()
        if isinstance(node, n.InfoNode):
            self._cancel_timer(out)
            self._information(node, text, out)
        return out

    def on_status(self, result: o.StatusResult, text: str = "") -> list[o.Output]:
        """The shell's answer to the last `FetchStatus`: ``text`` is the spoken status when
        ``result`` is "found"."""
        out: list[o.Output] = []
        if self.finished or self._phase != "status":
            return out
        node = self._current()
        if isinstance(node, n.StatusNode):
            self._cancel_timer(out)
            self._status(node, result, text, out)
        return out

    def on_recording_finished(self, name: str, duration: int | None) -> list[o.Output]:
        out: list[o.Output] = []
        if self.outcome is not None or self._recording is None or name != self._recording:
            return out
        node = self._current()
        self._recording = None
        if not isinstance(node, n.RecordNode):
            return out
        farewell = () if self._hung_up else self._say(node.farewell)
        if duration is not None and duration < 1:
            self._finish(o.Hangup("empty_message", self._vars(), farewell), out)
        else:
            self._finish(
                o.RecordedMessage(name, node.message, duration, self._vars(), farewell), out
            )
        return out

    def on_hangup(self) -> list[o.Output]:
        """The caller left. A recording in progress still ends in `on_recording_finished`
        (a caller often hangs up instead of pressing #); anything else just stops."""
        out: list[o.Output] = []
        if not self.finished:
            self._hung_up = True
            self._playback = None
            self._cancel_timer(out)
        return out

    # --- moving through the flow ----------------------------------------------------------

    def _current(self) -> n.Node:
        return self._flow.nodes[self._node_id]

    def _go(self, target: str | None, out: list[o.Output]) -> None:
        """Enter ``target`` and pass through nodes that need no input until one waits."""
        for _ in range(MAX_HOPS):
            if target is None:
                self._finish(o.Hangup("dead_end", self._vars()), out)
                return
            self._node_id, self._phase, self._attempts = target, "", 0
            node = self._current()
            self._assign(node.assign)
            moving, target = self._enter(node, out)
            if not moving:
                return
        self._finish(o.Hangup("flow_loop", self._vars()), out)

    def _enter(self, node: n.Node, out: list[o.Output]) -> tuple[bool, str | None]:
        """Start a node; ``(True, next)`` when it needs no input, ``(False, None)`` when it
        waits (or ended the session)."""
        match node:
            case n.PlayNode():
                media, texts = self._media(node.say)
                if not media:
                    return True, node.next
                self._play(media, texts, "play", out)
            case n.MenuNode() | n.RecordNode():
                self._play_say(
                    node.say, "prompt" if isinstance(node, n.MenuNode) else "invite", out
                )
            case n.CollectNode():
                self._digits = ""
                self._play_say(node.say, "prompt", out)
            case n.SurveyNode():
                self._question = 0
                self._play_say(node.questions[0].say, "prompt", out)
            case n.InfoNode():
                self._phase = "fetch"
                out.append(o.FetchInformation(node.topic, node.service, node.limit))
                self._start_timer(node.wait, out)
            case n.StatusNode():
                number = _digits_only(self.variables.get(node.number, ""))
                last4 = _digits_only(self.variables.get(node.phone_from, ""))[-4:]
                if not number or len(last4) < 4:  # e.g. a hidden caller id: ask for digits
                    return self._status_said(node, "not_found", "", out)
                self._phase = "status"
                out.append(o.FetchStatus(number, last4))
                self._start_timer(node.wait, out)
            case n.BranchNode():
                return True, self._branch(node)
            case n.GotoNode():
                if node.flow not in self._flows:
                    self._finish(o.Hangup("unknown_flow", self._vars()), out)
                    return False, None
                self._flow = self._flows[node.flow]
                return True, self._flow.start
            case _:
                self._finish(self._outcome(node), out)
        return False, None

    def _outcome(self, node: n.Node) -> o.Outcome:
        match node:
            case n.QueueNode():
                topic = node.topic or self.variables.get("topic", "general")
                return o.RouteToQueue(topic, node.language, node.priority, self._vars())
            case n.CallbackNode():
                number = _digits_only(self.variables.get(node.number_from, ""))
                return o.RequestCallback(number, self._vars(), node.when, self._say(node.say))
            case n.TransferNode():
                return o.Transfer(node.number, self._vars(), self._say(node.say))
            case n.HangupNode():
                return o.Hangup(node.reason, self._vars(), self._say(node.say))
        return o.Hangup("dead_end", self._vars())

    def _finish(self, outcome: o.Outcome, out: list[o.Output]) -> None:
        if self.outcome is not None:
            return
        self._stop_playback(out)
        self._cancel_timer(out)
        self.outcome = outcome
        out.append(outcome)

    def _branch(self, node: n.BranchNode) -> str | None:
        for condition in node.branches:
            if condition.holds(self._ctx, self.variables):
                return condition.next
        return node.default

    # --- keys -------------------------------------------------------------------------------

    def _choose(self, node: n.MenuNode, digit: str, out: list[o.Output]) -> None:
        option = node.options.get(digit)
        if option is None:
            self._retry(node, node.invalid, "invalid", out)
            return
        self._assign(option.assign)
        self.variables[f"choice_{self._node_id}"] = digit
        self._go(option.next, out)

    def _retry(
        self, node: n.MenuNode | n.CollectNode, notice: n.Say, reason: str, out: list[o.Output]
    ) -> None:
        self._attempts += 1
        if self._attempts > node.retries:
            if node.default is None:
                self._finish(o.Hangup(reason, self._vars()), out)
            else:
                self._go(node.default, out)
            return
        self._digits = ""
        self._play_say((*notice, *node.say), "prompt", out)

    def _collect(self, node: n.CollectNode, digit: str, out: list[o.Output]) -> None:
        self._interrupt(out)
        if digit == node.terminator:
            self._end_of_digits(node, out)
            return
        self._digits += digit
        if len(self._digits) >= node.max_length:
            self._end_of_digits(node, out)
        else:
            self._phase = "input"
            self._start_timer(node.timeout, out)

    def _end_of_digits(self, node: n.CollectNode, out: list[o.Output]) -> None:
        digits = self._digits
        valid = node.min_length <= len(digits) <= node.max_length and digits.isdigit()
        if valid and node.pattern is not None:
            valid = re.fullmatch(node.pattern, digits) is not None
        if not valid:
            self._retry(
                node, node.invalid if digits else (), "invalid" if digits else "no_input", out
            )
            return
        self.variables[node.variable] = digits
        self._go(node.next, out)

    def _answer(self, node: n.SurveyNode, digit: str, out: list[o.Output]) -> None:
        if digit.isdigit() and 1 <= int(digit) <= node.scale:
            self.variables[f"survey_{node.questions[self._question].id}"] = digit
        self._next_question(node, out)

    def _next_question(self, node: n.SurveyNode, out: list[o.Output]) -> None:
        self._question += 1
        if self._question >= len(node.questions):
            self._go(node.next, out)
        else:
            self._play_say(node.questions[self._question].say, "prompt", out)

    def _information(self, node: n.InfoNode, text: str, out: list[o.Output]) -> None:
        media, texts = self._media(node.intro)
        if text.strip():
            spoken = prompt_media(text)
            media, texts = (*media, spoken), (*texts, (spoken, text))
            self._play(media, texts, "info", out)
            return
        empty, _ = self._media(node.empty)
        if empty:
            self._play(empty, (), "info", out)
        else:
            self._go(node.next, out)

    def _status(
        self, node: n.StatusNode, result: o.StatusResult, text: str, out: list[o.Output]
    ) -> None:
        """Act on a look-up's result: say the status (or why there is none) and go on, or go
        where an unmatched number leads."""
        moving, target = self._status_said(node, result, text, out)
        if moving:
            self._go(target, out)

    def _status_said(
        self, node: n.StatusNode, result: o.StatusResult, text: str, out: list[o.Output]
    ) -> tuple[bool, str | None]:
        """Start saying the result; ``(True, node)`` to go on at once, ``(False, None)`` while
        it plays (its end goes on to ``next``)."""
        self.variables["status_result"] = result
        if result == "not_found" and node.not_found is not None:
            return True, node.not_found
        if result == "found" and text.strip():
            media, texts = self._media(node.intro)
            spoken = prompt_media(text)
            media, texts = (*media, spoken), (*texts, (spoken, text))
        else:
            media, texts = self._media(node.unknown if result == "not_found" else node.unavailable)
        if not media:
            return True, node.next
        self._play(media, texts, "play", out)
        return False, None

    # --- media, playbacks, timers -------------------------------------------------------------

    def _media(self, say: n.Say) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        media: list[str] = []
        texts: list[tuple[str, str]] = []
        for item in say:
            match item:
                case str():
                    media.append(prompt_media(self._flow.prompts[item]))
                case n.DigitsOf():
                    value = _digits_only(self.variables.get(item.digits, ""))
                    media.extend([f"digits:{value}"] if value else [])
                case n.NumberOf():
                    value = _digits_only(self.variables.get(item.number, ""))
                    media.extend([f"number:{int(value)}"] if value else [])
                case n.Announcement():
                    text = self._ctx.announcement.strip()
                    if self._ctx.emergency and text:
                        media.append(prompt_media(text))
                        texts.append((media[-1], text))
        return tuple(media), tuple(texts)

    def _say(self, say: n.Say) -> tuple[str, ...]:
        return self._media(say)[0]

    def _play_say(self, say: n.Say, phase: str, out: list[o.Output]) -> None:
        media, texts = self._media(say)
        if media:
            self._play(media, texts, phase, out)
        else:  # nothing to say: listen at once
            self._phase = phase
            self._playback = f"{self._ctx.session_id}-silent{self._seq}"
            out.extend(self.on_playback_finished(self._playback))

    def _play(
        self,
        media: tuple[str, ...],
        texts: tuple[tuple[str, str], ...],
        phase: str,
        out: list[o.Output],
    ) -> None:
        self._seq += 1
        self._playback = f"{self._ctx.session_id}-pb{self._seq}"
        self._phase = phase
        out.append(o.Play(self._playback, media, texts))

    def _interrupt(self, out: list[o.Output]) -> None:
        """Barge-in: a key stops the prompt and the wait for a key."""
        self._stop_playback(out)
        self._cancel_timer(out)

    def _stop_playback(self, out: list[o.Output]) -> None:
        if self._playback is not None:
            out.append(o.StopPlayback(self._playback))
            self._playback = None

    def _start_timer(self, seconds: float, out: list[o.Output]) -> None:
        self._cancel_timer(out)
        self._seq += 1
        self._timer = f"{self._ctx.session_id}-t{self._seq}"
        out.append(o.StartTimer(self._timer, seconds))

    def _cancel_timer(self, out: list[o.Output]) -> None:
        if self._timer is not None:
            out.append(o.CancelTimer(self._timer))
            self._timer = None

    def _assign(self, assign: Mapping[str, str]) -> None:
        for name, value in assign.items():
            self.variables[name] = (
                self.variables.get(value[1:], "") if value.startswith("$") else value
            )

    def _vars(self) -> dict[str, str]:
        return dict(self.variables)


def _digits_only(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())
