"""The outside channels a message leaves by: a signed webhook POST and SMTP mail.

Each is a small Protocol with one real adapter. A refusal or an unreachable endpoint raises
`DeliveryFailed`; the worker then schedules a retry. SMTP settings are the ones the
appointments service already uses (`OKNO_SMTP_*`, `services.appointments.notify.NotifySettings`).
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
import httpx

from services.appointments.notify import NotifySettings
from services.complaints.signing import signed_headers


class DeliveryFailed(Exception):
    """The endpoint did not take the message; the text is safe to store and log."""


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    path: Path


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to one endpoint, built from an outbox row."""

    channel: str
    endpoint: str
    idempotency_key: str
    payload: dict[str, Any]
    subject: str
    text: str
    secret: str | None = None
    attachment: Attachment | None = None


class WebhookSender(Protocol):
    async def post(self, message: Outgoing, *, timestamp: int) -> None: ...


class MailSender(Protocol):
    async def mail(self, message: Outgoing) -> None: ...


class HttpWebhookSender:
    """POSTs the JSON payload with its signature; any 2xx is delivery, anything else a failure."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def post(self, message: Outgoing, *, timestamp: int) -> None:
        if message.secret is None:
            raise DeliveryFailed("webhook secret missing")
        body = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = signed_headers(message.secret, timestamp, body, message.idempotency_key)
        try:
            reply = await self._client.post(message.endpoint, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryFailed(f"webhook timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"webhook unreachable ({type(exc).__name__})") from exc
        if not reply.is_success:
            raise DeliveryFailed(f"webhook answered {reply.status_code}")


class SmtpSender:
    """Mail with the recording attached, through the SMTP server configured for Okno."""

    def __init__(self, config: NotifySettings, *, timeout: float = 10.0) -> None:
        self._config, self._timeout = config, timeout

    def build(self, message: Outgoing) -> EmailMessage:
        """The e-mail; its Message-ID comes from the idempotency key, so a mail system can
        drop a repeat of the same message."""
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = (
            self._config.mail_from,
            message.endpoint,
            message.subject,
        )
        mail["Message-ID"] = f"<{message.idempotency_key}@okno>"
        mail.set_content(message.text)
        if message.attachment is not None:
            data = message.attachment.path.read_bytes()
            kind = mimetypes.guess_type(message.attachment.name)[0] or "application/octet-stream"
            maintype, subtype = kind.split("/", 1)
            mail.add_attachment(
                data, maintype=maintype, subtype=subtype, filename=message.attachment.name
            )
        return mail

    async def mail(self, message: Outgoing) -> None:
        if self._config.smtp_host is None:
            raise DeliveryFailed("no SMTP server configured (OKNO_SMTP_HOST)")
        password = self._config.smtp_password
        try:
            await aiosmtplib.send(
                self.build(message),
                hostname=self._config.smtp_host,
                port=self._config.smtp_port,
                username=self._config.smtp_username,
                password=password.get_secret_value() if password else None,
                start_tls=self._config.smtp_starttls,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP failed ({type(exc).__name__})") from exc
