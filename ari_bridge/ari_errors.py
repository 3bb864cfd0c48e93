"""Errors of ARI REST calls, one class per status family, each with a stable ``error_id``.

The command executor decides per class: a 404 on hang-up means the channel is already gone
(the command's goal is met), a 409 on stop-MOH means MOH already stopped with the last caller,
while :class:`AriUnavailable` means "retry after reconnecting".
"""

from __future__ import annotations

from typing import ClassVar


class AriError(Exception):
    """An ARI request failed; ``route`` is the name in :data:`ari_bridge.ari_client.ROUTES`."""

    error_id: ClassVar[str] = "ari.error"

    def __init__(self, *, route: str, status: int, message: str) -> None:
        super().__init__(f"{route}: HTTP {status} {message}".strip())
        self.route = route
        self.status = status
        self.message = message


class AriBadRequest(AriError):
    """400: a parameter was missing or invalid."""

    error_id = "ari.bad_request"


class AriNotFound(AriError):
    """404: the channel, bridge, playback or recording does not exist (any more)."""

    error_id = "ari.not_found"


class AriConflict(AriError):
    """409: wrong state, e.g. channel not in Stasis, bridge not playing music."""

    error_id = "ari.conflict"


class AriUnprocessable(AriError):
    """422: the request refers to something missing, e.g. an unknown endpoint or media."""

    error_id = "ari.unprocessable"


class AriServerError(AriError):
    """5xx: Asterisk failed."""

    error_id = "ari.server_error"


class AriUnavailable(AriError):
    """No HTTP answer at all (connection refused, timeout); ``status`` is 0."""

    error_id = "ari.unavailable"


_BY_STATUS: dict[int, type[AriError]] = {
    400: AriBadRequest,
    404: AriNotFound,
    409: AriConflict,
    422: AriUnprocessable,
}


def error_for_status(route: str, status: int, message: str) -> AriError:
    """The error for an HTTP status of ``route``."""
    kind = _BY_STATUS.get(status) or (AriServerError if status >= 500 else AriError)
    return kind(route=route, status=status, message=message)
