"""The service catalogue: versioning, the directory link, permissions and bad input."""

from __future__ import annotations

import httpx
import pytest

from tests.knowledge.conftest import Staff, catalogue_body, unique_code

pytestmark = pytest.mark.integration


async def test_sample_catalogue_is_public_and_linked_to_the_directory(
    http: httpx.AsyncClient, knowledge_url: str
) -> None:
    listing = await http.get(f"{knowledge_url}/knowledge/public/catalogue", params={"limit": 200})
    assert listing.status_code == 200
    assert listing.json()["total"] >= 40
    entry = (await http.get(f"{knowledge_url}/knowledge/public/catalogue/passport-rf")).json()
    assert entry["sample_data"] is True
    assert entry["documents"] and entry["appeal"] and entry["fee"]
    places = {place["municipality"]: place["agencies"] for place in entry["provided_in"]}
    assert "Новокузнецк" in places
    assert "ovm-nkz-central" in {agency["code"] for agency in places["Новокузнецк"]}


async def test_municipality_and_topic_filters(http: httpx.AsyncClient, knowledge_url: str) -> None:
    url = f"{knowledge_url}/knowledge/public/catalogue"
    osinniki = {
        item["code"]
        for item in (await http.get(url, params={"municipality": "Осинники", "limit": 200})).json()[
            "items"
        ]
    }
    assert "zags-birth" in osinniki
    assert "migration-registration" not in osinniki
    health = (await http.get(url, params={"topic": "health"})).json()["items"]
    assert health and {item["topic"] for item in health} == {"health"}


async def test_edits_create_versions_with_who_and_what(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    code = unique_code("test-cert")
    url = f"{knowledge_url}/knowledge/catalogue/{code}"
    created = await http.put(url, json=catalogue_body(code), headers=staff.supervisor)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1

    changed = catalogue_body(code, fee="300 рублей.", terms="10 рабочих дней.", note="Новый тариф")
    updated = await http.put(url, json=changed, headers=staff.admin)
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assert updated.json()["fee"] == "300 рублей."

    again = await http.put(url, json=changed, headers=staff.admin)
    assert again.json()["version"] == 2

    history = (await http.get(f"{url}/versions", headers=staff.operator)).json()
    assert [v["version"] for v in history] == [2, 1]
    assert history[0]["changed_fields"] == ["terms", "fee"]
    assert history[0]["note"] == "Новый тариф"
    assert history[0]["changed_by"].startswith("administrator-")
    assert history[1]["changed_by"].startswith("supervisor-")
    first = (await http.get(f"{url}/versions/1", headers=staff.operator)).json()
    assert first["content"]["fee"] == "Бесплатно."
    missing = await http.get(f"{url}/versions/9", headers=staff.operator)
    assert missing.status_code == 404


async def test_a_new_code_becomes_a_directory_service(
    http: httpx.AsyncClient, knowledge_url: str, directory_url: str, staff: Staff
) -> None:
    code = unique_code("test-new")
    await http.put(
        f"{knowledge_url}/knowledge/catalogue/{code}",
        json=catalogue_body(code, topic="housing", name="Новая тестовая жилищная услуга"),
        headers=staff.supervisor,
    )
    services = (
        await http.get(f"{directory_url}/directory/services", params={"topic": "housing"})
    ).json()
    assert {"code": code, "name": "Новая тестовая жилищная услуга", "topic": "housing"} in services


async def test_only_editors_write_and_staff_read(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    code = unique_code("test-perm")
    url = f"{knowledge_url}/knowledge/catalogue/{code}"
    assert (await http.put(url, json=catalogue_body(code))).status_code == 401
    for headers in (staff.operator, staff.agency):
        assert (await http.put(url, json=catalogue_body(code), headers=headers)).status_code == 403
    assert (await http.get(f"{knowledge_url}/knowledge/catalogue/snils")).status_code == 401
    staff_view = await http.get(
        f"{knowledge_url}/knowledge/catalogue/snils", headers=staff.operator
    )
    assert staff_view.status_code == 200
    assert staff_view.json()["warnings"] == []


async def test_bad_catalogue_input(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    code = unique_code("test-bad")
    url = f"{knowledge_url}/knowledge/catalogue/{code}"
    cases = [
        (catalogue_body("other-code"), 422),
        (catalogue_body(code, topic="weather"), 422),
        (catalogue_body(code, description=""), 422),
        (catalogue_body(code, documents="Паспорт"), 422),
        (catalogue_body(code, responsible_agency_code="no-such-office"), 422),
        ({"code": code}, 422),
    ]
    for body, status in cases:
        reply = await http.put(url, json=body, headers=staff.supervisor)
        assert reply.status_code == status, body
        assert reply.json()["error_id"] == "invalid-input"
    assert (await http.get(f"{knowledge_url}/knowledge/public/catalogue/{code}")).status_code == 404
    bad_code = await http.put(
        f"{knowledge_url}/knowledge/catalogue/BAD CODE",
        json=catalogue_body("BAD CODE"),
        headers=staff.supervisor,
    )
    assert bad_code.status_code == 422
