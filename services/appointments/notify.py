"""Outgoing messages to citizens: SMS through an HTTP gateway, mail over SMTP.

Each is a small Protocol with one real adapter; a failure raises `NotificationFailed` so the
reminder worker can give the claim back and try again on its next round.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

import aiosmtplib
import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotificationFailed(Exception):
    """The gateway or mail server did not accept the message."""


class SmsGateway(Protocol):
    async def send(self, *, phone: str, text: str) -> None: ...


class Mailer(Protocol):
    async def send(self, *, to: str, subject: str, body: str) -> None: ...


class NotifySettings(BaseSettings):
    """Where reminders go out; unset gateways simply send nothing on that channel."""

    model_config = SettingsConfigDict(
        env_prefix="OKNO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    sms_gateway_url: str | None = Field(default=None, description="Base URL of the SMS gateway")
    sms_gateway_token: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "okno@localhost"


class HttpSmsGateway:
    """POST {base}/messages with {"to", "text"}; any 2xx is accepted, the rest is a failure."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = timeout

    async def send(self, *, phone: str, text: str) -> None:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                reply = await client.post(
                    f"{self._base_url}/messages",
                    json={"to": phone, "text": text},
                    headers=self._headers,
                )
        except httpx.HTTPError as exc:
            raise NotificationFailed(f"SMS gateway unreachable: {type(exc).__name__}") from exc
        if not reply.is_success:
            raise NotificationFailed(f"SMS gateway answered {reply.status_code}")


class SmtpMailer:
    """Plain-text mail through one SMTP server, in UTF-8."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._starttls, self._timeout = starttls, timeout

    async def send(self, *, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self._sender, to, subject
        message.set_content(body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise NotificationFailed(f"SMTP failed: {type(exc).__name__}") from exc


def gateways(settings: NotifySettings) -> tuple[SmsGateway | None, Mailer | None]:
    """The configured adapters, None for a channel that is not configured."""
    sms = (
        HttpSmsGateway(
            settings.sms_gateway_url,
            token=settings.sms_gateway_token.get_secret_value()
            if settings.sms_gateway_token
            else None,
        )
        if settings.sms_gateway_url
        else None
    )
    mailer = (
        SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
        )
        if settings.smtp_host
        else None
    )
    return sms, mailer
