"""The agency directory over real HTTP against real PostgreSQL."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.auth.models import Role
from tests.conftest import TokenFactory

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def office(code: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "name": "МФЦ «Мои документы» тестовый офис",
        "kind": "mfc",
        "municipality": "Таштагол",
        "address": "652990, Таштагол, ул. Ленина, 1",
        "phones": ["+7 38473 0-00-01"],
        "email": "test-office@okno-demo.example",
        "hours": {
            day: [{"open": "09:00", "close": "18:00", "break_start": "13:00", "break_end": "14:00"}]
            for day in ("mon", "tue", "wed", "thu", "fri")
        },
        "holidays": ["2027-01-01"],
        "services": ["passport-rf", "snils"],
    }
    body.update(changes)
    return body


async def test_search_by_municipality(http: httpx.AsyncClient, directory_url: str) -> None:
    reply = await http.get(
        f"{directory_url}/directory/agencies", params={"municipality": "новокузнецк"}
    )
    assert reply.status_code == 200
    page = reply.json()
    assert page["total"] >= 3
    assert {item["municipality"] for item in page["items"]} == {"Новокузнецк"}


async def test_search_by_service_and_kind(http: httpx.AsyncClient, directory_url: str) -> None:
    reply = await http.get(
        f"{directory_url}/directory/agencies", params={"service": "passport-rf", "kind": "mfc"}
    )
    items = reply.json()["items"]
    assert items
    for item in items:
        assert item["kind"] == "mfc"
        assert "passport-rf" in {service["code"] for service in item["services"]}


async def test_pagination_pages_through_everything(
    http: httpx.AsyncClient, directory_url: str
) -> None:
    first = (await http.get(f"{directory_url}/directory/agencies", params={"limit": 10})).json()
    codes = [item["code"] for item in first["items"]]
    offset = 10
    while offset < first["total"]:
        page = await http.get(
            f"{directory_url}/directory/agencies", params={"limit": 10, "offset": offset}
        )
        codes += [item["code"] for item in page.json()["items"]]
        offset += 10
    assert len(codes) == len(set(codes)) == first["total"] >= 30


async def test_open_now_filter_keeps_only_open_offices(
    http: httpx.AsyncClient, directory_url: str
) -> None:
    everything = (
        await http.get(f"{directory_url}/directory/agencies", params={"limit": 200})
    ).json()
    open_codes = {i["code"] for i in everything["items"] if i["open_now"]["is_open"]}
    reply = await http.get(
        f"{directory_url}/directory/agencies", params={"limit": 200, "open_now": "true"}
    )
    assert {item["code"] for item in reply.json()["items"]} == open_codes
    assert reply.json()["total"] == len(open_codes)


async def test_unknown_office_is_a_404_problem(http: httpx.AsyncClient, directory_url: str) -> None:
    reply = await http.get(f"{directory_url}/directory/agencies/no-such-office")
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["error_id"] == "not-found"


async def test_bad_query_parameters_name_the_field(
    http: httpx.AsyncClient, directory_url: str
) -> None:
    reply = await http.get(
        f"{directory_url}/directory/agencies", params={"limit": 0, "kind": "bank"}
    )
    assert reply.status_code == 422
    assert {e["field"] for e in reply.json()["errors"]} == {"limit", "kind"}


async def test_administrator_creates_updates_and_deletes_an_office(
    http: httpx.AsyncClient, directory_url: str, token_for: TokenFactory
) -> None:
    admin = bearer(await token_for(Role.ADMINISTRATOR))
    code = f"test-office-{secrets.token_hex(3)}"
    url = f"{directory_url}/directory/agencies/{code}"
    created = await http.put(url, json=office(code), headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["hours"]["mon"][0]["break_start"] == "13:00:00"
    assert created.json()["hours"]["sun"] == []
    updated = await http.put(url, json=office(code, services=["snils"]), headers=admin)
    assert updated.status_code == 200
    assert [s["code"] for s in updated.json()["services"]] == ["snils"]
    found = await http.get(
        f"{directory_url}/directory/agencies", params={"municipality": "Таштагол"}
    )
    assert code in [item["code"] for item in found.json()["items"]]
    assert (await http.delete(url, headers=admin)).status_code == 204
    assert (await http.get(url)).status_code == 404


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY])
async def test_only_administrators_write(
    http: httpx.AsyncClient, directory_url: str, token_for: TokenFactory, role: Role
) -> None:
    token = await token_for(role)
    reply = await http.put(
        f"{directory_url}/directory/agencies/x-office",
        json=office("x-office"),
        headers=bearer(token),
    )
    assert reply.status_code == 403


async def test_writes_need_a_login(http: httpx.AsyncClient, directory_url: str) -> None:
    reply = await http.delete(f"{directory_url}/directory/agencies/mfc-kem-sovetsky")
    assert reply.status_code == 401


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hours": {"mon": [{"open": "18:00", "close": "09:00"}]}}, "hours.mon.0"),
        (
            {
                "hours": {
                    "mon": [
                        {
                            "open": "09:00",
                            "close": "18:00",
                            "break_start": "19:00",
                            "break_end": "20:00",
                        }
                    ]
                }
            },
            "hours.mon.0",
        ),
        ({"hours": {"funday": []}}, "hours.funday"),
        ({"phones": ["call me"]}, "phones.0"),
        ({"kind": "bank"}, "kind"),
        ({"email": "not-an-email"}, "email"),
        ({"holidays": ["2027-02-30"]}, "holidays.0"),
        ({"name": ""}, "name"),
    ],
)
async def test_bad_office_data_names_the_field(
    http: httpx.AsyncClient,
    directory_url: str,
    token_for: TokenFactory,
    changes: dict[str, Any],
    field: str,
) -> None:
    admin = bearer(await token_for(Role.ADMINISTRATOR))
    reply = await http.put(
        f"{directory_url}/directory/agencies/bad-office",
        json=office("bad-office", **changes),
        headers=admin,
    )
    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    assert field in {error["field"] for error in reply.json()["errors"]}


async def test_unknown_service_code_is_refused(
    http: httpx.AsyncClient, directory_url: str, token_for: TokenFactory
) -> None:
    admin = bearer(await token_for(Role.ADMINISTRATOR))
    reply = await http.put(
        f"{directory_url}/directory/agencies/odd-office",
        json=office("odd-office", services=["teleportation"]),
        headers=admin,
    )
    assert reply.status_code == 422
    assert "teleportation" in reply.json()["detail"]


async def test_csv_import_reports_the_bad_line_and_changes_nothing(
    http: httpx.AsyncClient, directory_url: str, token_for: TokenFactory
) -> None:
    admin = bearer(await token_for(Role.ADMINISTRATOR))
    header = "code,name,kind,municipality,address,phones,email,website,services,hours,holidays\n"
    good = (
        'csv-good,Офис,mfc,Юрга,"652050, Юрга, ул. Мира, 1",+7 38451 0-00-01,,,snils,'
        "mon=09:00-18:00,\n"
    )
    bad = 'csv-bad,Офис,mfc,Юрга,"652050, Юрга, ул. Мира, 2",,,,snils,mon=9-18,\n'
    reply = await http.post(
        f"{directory_url}/directory/import",
        files={"file": ("offices.csv", (header + good + bad).encode(), "text/csv")},
        headers=admin,
    )
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"] == "line 3: hours"
    assert (await http.get(f"{directory_url}/directory/agencies/csv-good")).status_code == 404


async def test_csv_import_creates_offices(
    http: httpx.AsyncClient, directory_url: str, token_for: TokenFactory
) -> None:
    admin = bearer(await token_for(Role.ADMINISTRATOR))
    header = "code,name,kind,municipality,address,phones,email,website,services,hours,holidays\n"
    row = (
        'csv-new,Офис соцзащиты,social_protection,Юрга,"652050, Юрга, ул. Мира, 3",'
        "+7 38451 0-00-03,,,social-large-family,"
        "mon=08:30-17:30/12:30-13:18;tue=08:30-17:30/12:30-13:18;sun=,2027-01-01\n"
    )
    reply = await http.post(
        f"{directory_url}/directory/import",
        files={"file": ("offices.csv", (header + row).encode(), "text/csv")},
        headers=admin,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["agencies_created"] == 1
    office_reply = await http.get(f"{directory_url}/directory/agencies/csv-new")
    assert office_reply.json()["hours"]["tue"][0]["break_end"] == "13:18:00"


async def test_import_rejects_unknown_file_types(
    http: httpx.AsyncClient, directory_url: str, token_for: TokenFactory
) -> None:
    admin = bearer(await token_for(Role.ADMINISTRATOR))
    reply = await http.post(
        f"{directory_url}/directory/import",
        files={"file": ("offices.xlsx", b"PK\x03\x04", "application/octet-stream")},
        headers=admin,
    )
    assert reply.status_code == 422 and "xlsx" in reply.json()["detail"]


async def test_oversized_bodies_are_refused(
    http: httpx.AsyncClient, directory_url: str, token_for: TokenFactory
) -> None:
    admin = bearer(await token_for(Role.ADMINISTRATOR))
    reply = await http.put(
        f"{directory_url}/directory/agencies/big",
        content=b"{" + b" " * (6 * 1024 * 1024) + b"}",
        headers={**admin, "content-type": "application/json"},
    )
    assert reply.status_code == 413
    assert reply.json()["error_id"] == "payload-too-large"


async def test_lists_of_municipalities_and_services(
    http: httpx.AsyncClient, directory_url: str
) -> None:
    municipalities = (await http.get(f"{directory_url}/directory/municipalities")).json()
    assert len(municipalities) >= 8
    services = (
        await http.get(f"{directory_url}/directory/services", params={"topic": "passports"})
    ).json()
    assert services and {s["topic"] for s in services} == {"passports"}


async def test_health_and_metrics(http: httpx.AsyncClient, directory_url: str) -> None:
    health = await http.get(f"{directory_url}/health")
    assert health.json() == {
        "status": "ok",
        "service": "directory",
        "checks": {"database": "ok", "redis": "ok"},
    }
    await http.get(f"{directory_url}/directory/agencies/no-such")
    metrics = (await http.get(f"{directory_url}/metrics")).text
    samples = [
        sample
        for family in text_string_to_metric_families(metrics)
        if family.name == "okno_http_requests"
        for sample in family.samples
        if sample.name == "okno_http_requests_total"
    ]
    wanted = {
        "service": "directory",
        "method": "GET",
        "route": "/directory/agencies/{code}",
        "status": "404",
    }
    assert any(sample.labels == wanted and sample.value >= 1 for sample in samples)
