"""Demo data for `okno demo`: the sample directory, a holiday calendar and staff logins.

Passwords are generated on the first run and kept in the data folder (mode 0600), so the demo
has stable logins without any password in the repository.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import service as accounts
from services.auth.models import Role
from services.directory import service as directory
from services.directory.importer import parse_json
from services.directory.models import Agency, PublicHoliday
from services.workspace.models import OperatorSeat
from services.workspace.seats import assign_seat

DEMO_DIR = Path(__file__).resolve().parent / "directory" / "demo"
_LOGINS_FILE = "demo-logins.json"
#: Softphone seats of the demo's human operators; the operator bots answer seats 1001-1006.
DEMO_SEATS = {"operator1": "1007", "operator2": "1008"}
#: The voice menu's topics; every demo operator (bot or human) takes them all at level 3.
TOPICS = ("mfc", "social", "passports", "health", "housing", "status", "complaints", "techhelp")


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A demo staff account as printed to the person running the demo."""

    username: str
    password: str
    role: str
    full_name: str
    agency_code: str | None = None


_DEMO_STAFF = (
    ("admin", Role.ADMINISTRATOR, "Администратор демо-центра", None),
    ("supervisor", Role.SUPERVISOR, "Смирнова Елена Викторовна", None),
    ("operator1", Role.OPERATOR, "Иванова Анна Сергеевна", None),
    ("operator2", Role.OPERATOR, "Петров Дмитрий Андреевич", None),
    ("mfc-kemerovo", Role.AGENCY, "Сотрудник МФЦ Кемерово", "mfc-kem-sovetsky"),
)


def demo_logins(data_dir: Path) -> list[DemoLogin]:
    """The demo accounts, with passwords generated once per data folder."""
    path = data_dir / _LOGINS_FILE
    if path.exists():
        return [DemoLogin(**item) for item in json.loads(path.read_text())]
    logins = [
        DemoLogin(name, secrets.token_urlsafe(9), role.value, full_name, agency)
        for name, role, full_name, agency in _DEMO_STAFF
    ]
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(login) for login in logins], ensure_ascii=False, indent=2))
    path.chmod(0o600)
    return logins


async def seed_directory(session: AsyncSession) -> None:
    """Import the sample directory and holiday calendar unless offices already exist."""
    if await session.scalar(select(func.count()).select_from(Agency)):
        return
    data = parse_json((DEMO_DIR / "agencies.json").read_bytes())
    await directory.import_directory(session, data, actor="okno-demo", actor_id=None)
    calendar = json.loads((DEMO_DIR / "holidays.json").read_text())
    rows = [
        {"day": dt.date.fromisoformat(d["day"]), "kind": d["kind"], "name": d["name"]}
        for d in calendar["days"]
    ]
    await session.execute(insert(PublicHoliday).values(rows).on_conflict_do_nothing())


async def seed_staff(session: AsyncSession, logins: list[DemoLogin]) -> None:
    """Create the demo accounts that do not exist yet."""
    for login in logins:
        if await accounts.find_user(session, username=login.username) is None:
            await accounts.create_user(
                session,
                username=login.username,
                full_name=login.full_name,
                role=Role(login.role),
                password=login.password,
                agency_code=login.agency_code,
                actor="okno-demo",
                actor_id=None,
            )
    skills = dict.fromkeys(("general", *TOPICS), 3)
    for username, agent_id in DEMO_SEATS.items():
        user = await accounts.find_user(session, username=username)
        if user is not None and await session.get(OperatorSeat, user.id) is None:
            await assign_seat(
                session,
                username=username,
                agent_id=agent_id,
                skills=skills,
                languages={"ru": 5},
                actor="okno-demo",
                actor_id=None,
            )
