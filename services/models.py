"""Every table of Okno, imported in one place so Alembic sees the whole schema."""

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

__all__ = [
    "Agency",
    "AgencyHoliday",
    "AgencyHours",
    "AgencyService",
    "AuditEntry",
    "Base",
    "Municipality",
    "PublicHoliday",
    "Service",
    "User",
]
