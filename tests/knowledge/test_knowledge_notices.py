"""Outdated-information notices: flagged by staff, answered by the addressed agency, shown
as warnings to operators until resolved."""

from __future__ import annotations

import httpx
import pytest

from tests.knowledge.conftest import Staff, catalogue_body, faq_body, marker_word, unique_code

pytestmark = pytest.mark.integration


async def _entry(http: httpx.AsyncClient, base: str, staff: Staff, **changes: str) -> str:
    code = unique_code("test-notice")
    reply = await http.put(
        f"{base}/knowledge/catalogue/{code}",
        json=catalogue_body(code, **changes),
        headers=staff.supervisor,
    )
    assert reply.status_code == 201
    return code


async def test_notice_lifecycle_and_warning(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    code = await _entry(http, knowledge_url, staff)
    flagged = await http.post(
        f"{knowledge_url}/knowledge/notices",
        json={
            "subject_type": "catalogue",
            "subject_key": code,
            "comment": "Госпошлина изменилась с 1 января",
        },
        headers=staff.operator,
    )
    assert flagged.status_code == 201, flagged.text
    notice = flagged.json()
    assert (notice["agency_code"], notice["status"]) == ("mfc-kem-sovetsky", "open")
    url = f"{knowledge_url}/knowledge/notices/{notice['id']}"

    entry = f"{knowledge_url}/knowledge/catalogue/{code}"
    warnings = (await http.get(entry, headers=staff.operator)).json()["warnings"]
    assert [w["notice_id"] for w in warnings] == [notice["id"]]
    public = (await http.get(f"{knowledge_url}/knowledge/public/catalogue/{code}")).json()
    assert public["warnings"] == []

    inbox = await http.get(
        f"{knowledge_url}/knowledge/notices", params={"status": "open"}, headers=staff.agency
    )
    assert notice["id"] in {item["id"] for item in inbox.json()["items"]}
    assert {item["agency_code"] for item in inbox.json()["items"]} == {"mfc-kem-sovetsky"}
    other_inbox = await http.get(f"{knowledge_url}/knowledge/notices", headers=staff.other_agency)
    assert notice["id"] not in {item["id"] for item in other_inbox.json()["items"]}
    assert (await http.get(url, headers=staff.other_agency)).status_code == 404

    act = f"{url}/actions"
    assert (
        await http.post(act, json={"action": "take"}, headers=staff.operator)
    ).status_code == 403
    assert (
        await http.post(act, json={"action": "take"}, headers=staff.other_agency)
    ).status_code == 404
    taken = await http.post(act, json={"action": "take"}, headers=staff.agency)
    assert taken.json()["status"] == "in_progress"
    no_comment = await http.post(act, json={"action": "resolve"}, headers=staff.agency)
    assert no_comment.status_code == 422
    resolved = await http.post(
        act, json={"action": "resolve", "comment": "Карточка обновлена"}, headers=staff.agency
    )
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolution"] == "Карточка обновлена"
    assert resolved.json()["resolved_by"].startswith("agency-")
    assert (await http.get(entry, headers=staff.operator)).json()["warnings"] == []

    twice = await http.post(act, json={"action": "resolve", "comment": "ещё"}, headers=staff.agency)
    assert twice.status_code == 409
    assert (
        await http.post(act, json={"action": "reopen"}, headers=staff.agency)
    ).status_code == 403
    reopened = await http.post(act, json={"action": "reopen"}, headers=staff.supervisor)
    assert reopened.json()["status"] == "open"
    assert reopened.json()["resolution"] is None
    assert len((await http.get(entry, headers=staff.operator)).json()["warnings"]) == 1


async def test_faq_and_office_notices_find_their_agency(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    code = await _entry(http, knowledge_url, staff, responsible_agency_code="uszn-kem-central")
    faq = await http.post(
        f"{knowledge_url}/knowledge/faq",
        json=faq_body(marker_word(), service_code=code),
        headers=staff.supervisor,
    )
    faq_id = str(faq.json()["id"])
    notices = f"{knowledge_url}/knowledge/notices"
    by_faq = await http.post(
        notices,
        json={"subject_type": "faq", "subject_key": faq_id, "comment": "Неверный срок"},
        headers=staff.supervisor,
    )
    assert by_faq.json()["agency_code"] == "uszn-kem-central"
    seen = await http.get(f"{knowledge_url}/knowledge/faq/{faq_id}", headers=staff.supervisor)
    assert [w["notice_id"] for w in seen.json()["warnings"]] == [by_faq.json()["id"]]
    inbox = await http.get(notices, headers=staff.other_agency)
    assert by_faq.json()["id"] in {item["id"] for item in inbox.json()["items"]}

    by_office = await http.post(
        notices,
        json={"subject_type": "agency", "subject_key": "zags-osn", "comment": "Сменился телефон"},
        headers=staff.operator,
    )
    assert by_office.json()["agency_code"] == "zags-osn"
    marks = await http.get(
        f"{knowledge_url}/knowledge/warnings",
        params={"subject_type": "agency", "key": ["zags-osn", "mfc-osn"]},
        headers=staff.operator,
    )
    assert by_office.json()["id"] in {w["notice_id"] for w in marks.json()["zags-osn"]}
    assert "mfc-osn" not in marks.json()


async def test_bad_notices(http: httpx.AsyncClient, knowledge_url: str, staff: Staff) -> None:
    orphan = await http.post(
        f"{knowledge_url}/knowledge/faq",
        json=faq_body(marker_word()),
        headers=staff.supervisor,
    )
    url = f"{knowledge_url}/knowledge/notices"
    orphan_id = str(orphan.json()["id"])
    cases = [
        {"subject_type": "faq", "subject_key": orphan_id, "comment": "Устарело"},
        {"subject_type": "faq", "subject_key": "abc", "comment": "Устарело"},
        {"subject_type": "catalogue", "subject_key": "no-such", "comment": "Устарело"},
        {"subject_type": "agency", "subject_key": "no-such", "comment": "Устарело"},
        {"subject_type": "weather", "subject_key": "x", "comment": "Устарело"},
        {"subject_type": "faq", "subject_key": orphan_id, "comment": "!"},
        {
            "subject_type": "faq",
            "subject_key": orphan_id,
            "comment": "Устарело",
            "agency_code": "no-such",
        },
    ]
    for body in cases:
        reply = await http.post(url, json=body, headers=staff.operator)
        assert reply.status_code == 422, body
    addressed = await http.post(
        url,
        json={
            "subject_type": "faq",
            "subject_key": orphan_id,
            "comment": "Устарело",
            "agency_code": "mfc-osn",
        },
        headers=staff.operator,
    )
    assert addressed.status_code == 201
    assert (await http.post(url, json=cases[0], headers=staff.agency)).status_code == 403
    assert (await http.post(url, json=cases[0])).status_code == 401
    assert (await http.get(f"{url}/999999999", headers=staff.admin)).status_code == 404
