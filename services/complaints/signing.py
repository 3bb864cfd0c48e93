"""Signed webhooks: HMAC-SHA256 over "<timestamp>.<body>" with the agency's secret.

Headers: `X-Okno-Timestamp` (Unix seconds), `X-Okno-Signature: v1=<hex>`, and
`Idempotency-Key`, on which the receiver drops repeats. A receiver checks the signature with
`verify` and refuses timestamps older than its tolerance, which stops replays."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Okno-Signature"
TIMESTAMP_HEADER = "X-Okno-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `v1=` signature of a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(
    secret: str, timestamp: int, body: bytes, idempotency_key: str
) -> dict[str, str]:
    """Every header a webhook request carries."""
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        IDEMPOTENCY_HEADER: idempotency_key,
    }


def verify(
    secret: str, *, timestamp: str, body: bytes, received: str, now: int, tolerance: int = 300
) -> bool:
    """Whether a request is authentic and fresh (for receivers, and for our own tests)."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), received)
