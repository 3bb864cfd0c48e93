"""Every table of Okno, imported in one place so Alembic sees the whole schema."""

from services.appointments.models import (
    AppointmentOffice,
    Booking,
    Resource,
    ScheduleException,
    Seat,
    ServiceDuration,
)
from services.auth.models import User
from services.callbacks.models import Callback, CallbackAttempt
from services.calls.models import CallEvent, CallRecord
from services.common.audit import AuditEntry
from services.common.db import Base
from services.complaints.models import (
    Complaint,
    ComplaintEvent,
    DeliveryPreference,
    OutboxMessage,
)
from services.directory.models import (
    Agency,
    AgencyHoliday,
    AgencyHours,
    AgencyService,
    Municipality,
    PublicHoliday,
    Service,
)
from services.knowledge.models import (
    CallScript,
    CatalogueEntry,
    CatalogueVersion,
    FaqEntry,
    FaqUsage,
    Notice,
    SynonymGroup,
)
from services.workspace.models import JournalEntry, OperatorSeat

__all__ = [
    "Callback",
    "CallbackAttempt",
    "CallEvent",
    "CallRecord",
    "AppointmentOffice",
    "Booking",
    "Resource",
    "ScheduleException",
    "Seat",
    "ServiceDuration",
    "Agency",
    "AgencyHoliday",
    "AgencyHours",
    "AgencyService",
    "AuditEntry",
    "Base",
    "CallScript",
    "CatalogueEntry",
    "CatalogueVersion",
    "Complaint",
    "ComplaintEvent",
    "DeliveryPreference",
    "FaqEntry",
    "FaqUsage",
    "JournalEntry",
    "Municipality",
    "Notice",
    "OperatorSeat",
    "OutboxMessage",
    "PublicHoliday",
    "Service",
    "SynonymGroup",
    "User",
]
