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
from services.common.audit import AuditEntry
from services.common.db import Base
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

__all__ = [
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
    "FaqEntry",
    "FaqUsage",
    "Municipality",
    "Notice",
    "PublicHoliday",
    "Service",
    "SynonymGroup",
    "User",
]
