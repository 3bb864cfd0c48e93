"""What an agency receives: the payload and mail text built from a complaint or a notice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from services.complaints.channels import Attachment, Outgoing
from services.complaints.models import Complaint, DeliveryPreference, OutboxMessage
from services.directory.models import Agency, Municipality, Service
from services.knowledge.models import Notice

_SOURCES = {
    "call": "звонок оператору",
    "voicemail": "голосовое сообщение",
    "api": "обращение через API",
}


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def complaint_message(
    row: OutboxMessage,
    complaint: Complaint,
    *,
    agency: Agency,
    service: Service | None,
    town: Municipality | None,
    preference: DeliveryPreference | None,
    recordings: Path,
) -> Outgoing:
    """The message forwarding a complaint; the recording is attached when it is on disk,
    and its absence is said in the text rather than failing the delivery."""
    payload: dict[str, Any] = {
        "type": "complaint",
        "number": complaint.number,
        "registered_at": _iso(complaint.created_at),
        "source": complaint.source,
        "agency_code": agency.code,
        "service": {"code": service.code, "name": service.name} if service else None,
        "municipality": town.name if town else None,
        "citizen": {
            "name": complaint.citizen_name,
            "phone": complaint.phone,
            "email": complaint.email,
        },
        "text": complaint.text,
        "recording": complaint.recording,
        "ack_due": _iso(complaint.ack_due),
        "answer_due": _iso(complaint.answer_due),
    }
    lines = [
        f"Жалоба № {complaint.number} от {complaint.created_at:%d.%m.%Y %H:%M} UTC",
        f"Источник: {_SOURCES[complaint.source]}",
        f"Услуга: {service.name if service else 'не указана'}",
        f"Муниципалитет: {town.name if town else 'не указан'}",
        f"Заявитель: {complaint.citizen_name or 'не представился'}",
        f"Телефон: {complaint.phone}",
        f"E-mail: {complaint.email or 'не указан'}",
        "",
        complaint.text,
        "",
        f"Подтвердить получение до: {complaint.ack_due:%d.%m.%Y %H:%M} UTC",
        f"Ответить до: {complaint.answer_due:%d.%m.%Y %H:%M} UTC",
    ]
    attachment = None
    if complaint.recording is not None:
        path = recordings / complaint.recording
        if path.is_file():
            attachment = Attachment(complaint.recording, path)
        else:
            lines.append(f"Запись {complaint.recording} не найдена в хранилище центра.")
    return Outgoing(
        channel=row.channel,
        endpoint=row.endpoint,
        idempotency_key=row.idempotency_key,
        payload=payload,
        subject=f"Жалоба № {complaint.number}",
        text="\n".join(lines),
        secret=preference.webhook_secret if preference else None,
        attachment=attachment,
    )


def notice_message(
    row: OutboxMessage, notice: Notice, *, agency: Agency, preference: DeliveryPreference | None
) -> Outgoing:
    """The message forwarding an outdated-information notice."""
    payload = {
        "type": "notice",
        "id": notice.id,
        "agency_code": agency.code,
        "subject_type": notice.subject_type,
        "subject_key": notice.subject_key,
        "comment": notice.comment,
        "created_at": _iso(notice.created_at),
    }
    text = (
        f"Уведомление № {notice.id} о неактуальной информации\n"
        f"Раздел: {notice.subject_type}, запись: {notice.subject_key}\n\n{notice.comment}\n"
    )
    return Outgoing(
        channel=row.channel,
        endpoint=row.endpoint,
        idempotency_key=row.idempotency_key,
        payload=payload,
        subject=f"Неактуальная информация: уведомление № {notice.id}",
        text=text,
        secret=preference.webhook_secret if preference else None,
    )
