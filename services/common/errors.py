"""Start-up errors that are shown to the operator of a process as one clear line."""

from __future__ import annotations


class StartupError(Exception):
    """A configuration or environment problem that stops a process before it serves anything."""


class ServerUnreachable(StartupError):
    """A configured PostgreSQL or Redis server does not answer."""

    def __init__(self, what: str, where: str, cause: BaseException) -> None:
        reason = str(cause).strip() or type(cause).__name__
        super().__init__(
            f"Cannot reach {what} at {where}: {reason}. "
            f"Check OKNO_{'DATABASE' if what == 'PostgreSQL' else 'REDIS'}_URL, "
            f"or unset it to use the embedded server."
        )
