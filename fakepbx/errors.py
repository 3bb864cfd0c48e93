"""ARI errors: the status code and the ``{"message": ...}`` body real Asterisk returns."""

from __future__ import annotations


class AriError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def channel_not_found() -> AriError:
    return AriError(404, "Channel not found")


def not_in_stasis() -> AriError:
    return AriError(409, "Channel not in Stasis application")
