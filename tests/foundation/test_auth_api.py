"""Staff login, tokens and roles over real HTTP against real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.auth.models import Role
from services.auth.tokens import issue_token
from services.common.settings import Settings
from tests.conftest import PASSWORD, TokenFactory, UserFactory

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_login_returns_a_token_that_identifies_the_user(
    http: httpx.AsyncClient, auth_url: str, make_user: UserFactory
) -> None:
    username = await make_user(Role.OPERATOR)
    reply = await http.post(
        f"{auth_url}/auth/login", json={"username": username.upper(), "password": PASSWORD}
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["role"] == "operator" and body["token_type"] == "bearer"
    me = await http.get(f"{auth_url}/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == username


async def test_wrong_password_is_401_problem_and_audited(
    http: httpx.AsyncClient, auth_url: str, make_user: UserFactory, token_for: TokenFactory
) -> None:
    username = await make_user(Role.OPERATOR)
    reply = await http.post(
        f"{auth_url}/auth/login", json={"username": username, "password": "wrong-password"}
    )
    assert reply.status_code == 401
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["error_id"] == "unauthorized"
    admin = await token_for(Role.ADMINISTRATOR)
    audit = await http.get(
        f"{auth_url}/auth/audit", params={"action": "login.failed"}, headers=bearer(admin)
    )
    assert username in [entry["actor"] for entry in audit.json()["items"]]


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(
    http: httpx.AsyncClient, auth_url: str
) -> None:
    reply = await http.post(
        f"{auth_url}/auth/login", json={"username": "nobody-here", "password": "whatever-pass"}
    )
    assert reply.status_code == 401
    assert reply.json()["detail"] == "Wrong username or password"


async def test_repeated_failures_lock_the_account_even_for_the_right_password(
    http: httpx.AsyncClient, auth_url: str, make_user: UserFactory, settings: Settings
) -> None:
    username = await make_user(Role.OPERATOR)
    for _ in range(settings.login_max_failures):
        reply = await http.post(
            f"{auth_url}/auth/login", json={"username": username, "password": "not-it-at-all"}
        )
        assert reply.status_code == 401
    locked = await http.post(
        f"{auth_url}/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert locked.json()["retry_after_seconds"] > 0


async def test_admin_can_unlock_an_account(
    http: httpx.AsyncClient,
    auth_url: str,
    make_user: UserFactory,
    token_for: TokenFactory,
    settings: Settings,
) -> None:
    username = await make_user(Role.OPERATOR)
    for _ in range(settings.login_max_failures):
        await http.post(f"{auth_url}/auth/login", json={"username": username, "password": "x"})
    admin = await token_for(Role.ADMINISTRATOR)
    users = await http.get(f"{auth_url}/auth/users", params={"limit": 200}, headers=bearer(admin))
    user_id = next(u["id"] for u in users.json()["items"] if u["username"] == username)
    reply = await http.patch(
        f"{auth_url}/auth/users/{user_id}", json={"unlock": True}, headers=bearer(admin)
    )
    assert reply.status_code == 200 and reply.json()["locked_until"] is None
    login = await http.post(
        f"{auth_url}/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert login.status_code == 200


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "A bearer token is required"),
        ({"Authorization": "Bearer not-a-jwt"}, "token invalid"),
        ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "A bearer token is required"),
    ],
)
async def test_requests_without_a_valid_token_are_401(
    http: httpx.AsyncClient, auth_url: str, headers: dict[str, str], detail: str
) -> None:
    reply = await http.get(f"{auth_url}/auth/me", headers=headers)
    assert reply.status_code == 401
    assert detail in reply.json()["detail"]
    assert reply.headers["www-authenticate"] == "Bearer"


async def test_expired_token_is_refused(
    http: httpx.AsyncClient, auth_url: str, settings: Settings
) -> None:
    token, _ = issue_token(
        secret=settings.signing_secret(),
        user_id=1,
        username="someone",
        role="administrator",
        agency_id=None,
        ttl_seconds=60,
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    reply = await http.get(f"{auth_url}/auth/me", headers=bearer(token))
    assert reply.status_code == 401
    assert "expired" in reply.json()["detail"]


async def test_token_signed_with_another_secret_is_refused(
    http: httpx.AsyncClient, auth_url: str
) -> None:
    token, _ = issue_token(
        secret="x" * 40,
        user_id=1,
        username="a",
        role="administrator",
        agency_id=None,
        ttl_seconds=600,
    )
    reply = await http.get(f"{auth_url}/auth/me", headers=bearer(token))
    assert reply.status_code == 401


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY])
async def test_only_administrators_manage_users(
    http: httpx.AsyncClient, auth_url: str, token_for: TokenFactory, role: Role
) -> None:
    token = await token_for(role)
    reply = await http.get(f"{auth_url}/auth/users", headers=bearer(token))
    assert reply.status_code == 403
    assert reply.json()["required_roles"] == ["administrator"]


async def test_disabled_account_loses_access_at_once(
    http: httpx.AsyncClient, auth_url: str, token_for: TokenFactory
) -> None:
    admin = await token_for(Role.ADMINISTRATOR)
    operator = await token_for(Role.OPERATOR)
    me = (await http.get(f"{auth_url}/auth/me", headers=bearer(operator))).json()
    reply = await http.patch(
        f"{auth_url}/auth/users/{me['id']}", json={"is_active": False}, headers=bearer(admin)
    )
    assert reply.status_code == 200
    assert (await http.get(f"{auth_url}/auth/me", headers=bearer(operator))).status_code == 401


async def test_create_user_validates_with_field_names(
    http: httpx.AsyncClient, auth_url: str, token_for: TokenFactory
) -> None:
    admin = await token_for(Role.ADMINISTRATOR)
    reply = await http.post(
        f"{auth_url}/auth/users",
        json={"username": "a b", "full_name": "", "role": "king", "password": "short"},
        headers=bearer(admin),
    )
    assert reply.status_code == 422
    fields = {error["field"] for error in reply.json()["errors"]}
    assert fields == {"username", "full_name", "role", "password"}


async def test_agency_users_need_an_existing_agency(
    http: httpx.AsyncClient, auth_url: str, token_for: TokenFactory
) -> None:
    admin = await token_for(Role.ADMINISTRATOR)
    body = {"username": "agency-x", "full_name": "X", "role": "agency", "password": PASSWORD}
    missing = await http.post(f"{auth_url}/auth/users", json=body, headers=bearer(admin))
    assert missing.status_code == 422 and missing.json()["field"] == "agency_code"
    unknown = await http.post(
        f"{auth_url}/auth/users", json={**body, "agency_code": "no-such"}, headers=bearer(admin)
    )
    assert unknown.status_code == 422
    created = await http.post(
        f"{auth_url}/auth/users",
        json={**body, "agency_code": "mfc-kem-sovetsky"},
        headers=bearer(admin),
    )
    assert created.status_code == 201 and created.json()["agency_id"] is not None


async def test_usernames_are_unique_regardless_of_case(
    http: httpx.AsyncClient, auth_url: str, token_for: TokenFactory, make_user: UserFactory
) -> None:
    admin = await token_for(Role.ADMINISTRATOR)
    existing = await make_user(Role.OPERATOR)
    reply = await http.post(
        f"{auth_url}/auth/users",
        json={
            "username": existing.upper(),
            "full_name": "Дубль",
            "role": "operator",
            "password": PASSWORD,
        },
        headers=bearer(admin),
    )
    assert reply.status_code == 409
