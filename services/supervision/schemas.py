"""Bodies of the supervision endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints, model_validator

NightOverride = Literal["auto", "night", "day"]
Announcement = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)
]


class ModesIn(BaseModel):
    """A change of modes; fields left out keep their value."""

    night_override: NightOverride | None = None
    emergency: bool | None = None
    announcement: Announcement | None = None

    @model_validator(mode="after")
    def _announcement_with_emergency(self) -> ModesIn:
        if self.emergency and not self.announcement:
            raise ValueError("announcement: an emergency needs the text callers will hear")
        return self


class ModesOut(BaseModel):
    """The centre's modes as the voice menus and the router apply them to new calls."""

    night_override: NightOverride
    emergency: bool
    announcement: str | None
    changed_at: datetime | None
    changed_by: str | None


class WallboardKeyOut(BaseModel):
    """A key that opens the wallboard page and its event stream (and nothing else)."""

    key: str
    url: str
    expires_at: datetime
