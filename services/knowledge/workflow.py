"""Pure state machines of FAQ entries (draft → review → published) and notices."""

from __future__ import annotations

# action: (states it may start from, resulting state)
FAQ_ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft"}), "review"),
    "publish": (frozenset({"review"}), "published"),
    "return": (frozenset({"review"}), "draft"),
    "withdraw": (frozenset({"published"}), "draft"),
    "archive": (frozenset({"draft", "review", "published"}), "archived"),
    "restore": (frozenset({"archived"}), "draft"),
}

NOTICE_ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "take": (frozenset({"open"}), "in_progress"),
    "resolve": (frozenset({"open", "in_progress"}), "resolved"),
    "dismiss": (frozenset({"open", "in_progress"}), "dismissed"),
    "reopen": (frozenset({"resolved", "dismissed"}), "open"),
}

#: Only drafts are edited: what callers hear changes only through review and publication.
EDITABLE_FAQ_STATES = frozenset({"draft"})
#: Notices that still warn operators about their entry.
ACTIVE_NOTICE_STATES = ("open", "in_progress")


class TransitionRefused(ValueError):
    """The action does not apply to the current state."""

    def __init__(self, action: str, state: str, allowed_from: frozenset[str]) -> None:
        super().__init__(f"cannot {action} from {state}")
        self.action = action
        self.state = state
        self.allowed_from = sorted(allowed_from)


def next_state(table: dict[str, tuple[frozenset[str], str]], state: str, action: str) -> str:
    """The state after `action`, or TransitionRefused."""
    sources, target = table[action]
    if state not in sources:
        raise TransitionRefused(action, state, sources)
    return target
