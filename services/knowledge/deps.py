"""Who may do what in the knowledge service, as dependencies (one place for each rule)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.auth.deps import SupervisorUser, require_roles
from services.auth.models import Role, User

#: Operators, supervisors and administrators read everything staff may see, drafts excepted.
StaffUser = Annotated[
    User, Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR))
]
#: Supervisors and administrators edit and publish.
EditorUser = SupervisorUser
#: Everyone with an account: agency users reach only the notices addressed to their agency.
NoticeUser = Annotated[
    User,
    Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR, Role.AGENCY)),
]

EDITOR_ROLES = frozenset({Role.SUPERVISOR.value, Role.ADMINISTRATOR.value})


def is_editor(user: User) -> bool:
    """Whether the user may see drafts and change content."""
    return user.role in EDITOR_ROLES
