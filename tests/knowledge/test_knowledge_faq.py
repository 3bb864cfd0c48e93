"""FAQ workflow (draft → review → published) and its permissions, usage counts and the
voice menu's top answers."""

from __future__ import annotations

import httpx
import pytest

from tests.knowledge.conftest import Headers, Staff, faq_body, marker_word

pytestmark = pytest.mark.integration


async def _create(http: httpx.AsyncClient, base: str, headers: Headers, **changes: str) -> int:
    reply = await http.post(
        f"{base}/knowledge/faq", json=faq_body(marker_word(), **changes), headers=headers
    )
    assert reply.status_code == 201, reply.text
    entry_id: int = reply.json()["id"]
    return entry_id


async def _act(
    http: httpx.AsyncClient, base: str, faq_id: int, action: str, headers: Headers
) -> httpx.Response:
    return await http.post(
        f"{base}/knowledge/faq/{faq_id}/transitions", json={"action": action}, headers=headers
    )


async def test_workflow_from_draft_to_published_and_back(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    faq_id = await _create(http, knowledge_url, staff.supervisor)
    public = f"{knowledge_url}/knowledge/public/faq/{faq_id}"
    staff_url = f"{knowledge_url}/knowledge/faq/{faq_id}"
    assert (await http.get(public)).status_code == 404
    assert (await http.get(staff_url, headers=staff.operator)).status_code == 404
    assert (await http.get(staff_url, headers=staff.supervisor)).json()["status"] == "draft"

    edited = await http.put(
        staff_url, json=faq_body(marker_word(), spoken="Новый короткий ответ."), headers=staff.admin
    )
    assert edited.status_code == 200
    assert edited.json()["version"] == 2

    assert (await _act(http, knowledge_url, faq_id, "submit", staff.supervisor)).json()[
        "status"
    ] == "review"
    in_review = await http.put(staff_url, json=faq_body(marker_word()), headers=staff.admin)
    assert in_review.status_code == 409
    published = await _act(http, knowledge_url, faq_id, "publish", staff.admin)
    assert published.json()["status"] == "published"
    assert published.json()["published_at"] is not None
    assert (await http.get(public)).json()["spoken"] == "Новый короткий ответ."
    assert (await http.get(staff_url, headers=staff.operator)).status_code == 200

    again = await _act(http, knowledge_url, faq_id, "publish", staff.admin)
    assert again.status_code == 409
    assert again.json()["state"] == "published"
    assert again.json()["allowed_from"] == ["review"]

    assert (await _act(http, knowledge_url, faq_id, "withdraw", staff.supervisor)).json()[
        "status"
    ] == "draft"
    assert (await http.get(public)).status_code == 404


async def test_only_editors_change_entries(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    url = f"{knowledge_url}/knowledge/faq"
    body = faq_body(marker_word())
    assert (await http.post(url, json=body)).status_code == 401
    assert (await http.post(url, json=body, headers=staff.operator)).status_code == 403
    assert (await http.post(url, json=body, headers=staff.agency)).status_code == 403
    faq_id = await _create(http, knowledge_url, staff.supervisor)
    for headers in (staff.operator, staff.agency):
        assert (await _act(http, knowledge_url, faq_id, "submit", headers)).status_code == 403
        reply = await http.put(f"{url}/{faq_id}", json=body, headers=headers)
        assert reply.status_code == 403
    listing = await http.get(url, params={"status": "draft"}, headers=staff.operator)
    assert listing.status_code == 422


async def test_bad_faq_input(http: httpx.AsyncClient, knowledge_url: str, staff: Staff) -> None:
    url = f"{knowledge_url}/knowledge/faq"
    for changes in (
        {"question": "Как?"},
        {"spoken": ""},
        {"spoken": "слово " * 200},
        {"topic": "weather"},
        {"service_code": "no-such-service"},
        {"municipality": "Атлантида"},
    ):
        reply = await http.post(url, json=faq_body(marker_word(), **changes), headers=staff.admin)
        assert reply.status_code == 422, changes
    missing = await http.get(f"{url}/999999999", headers=staff.admin)
    assert missing.status_code == 404
    unknown_action = await _act(http, knowledge_url, 1, "delete", staff.admin)
    assert unknown_action.status_code == 422


async def test_usage_counts_per_caller_group_and_the_voice_menu_top(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    service = "gosuslugi-help"
    ids = []
    for _ in range(2):
        faq_id = await _create(http, knowledge_url, staff.supervisor, service_code=service)
        await _act(http, knowledge_url, faq_id, "submit", staff.supervisor)
        await _act(http, knowledge_url, faq_id, "publish", staff.supervisor)
        ids.append(faq_id)
    usage = f"{knowledge_url}/knowledge/public/faq/{{}}/usage"
    group = "pensioner-" + marker_word()[2:8]
    for _ in range(3):
        reply = await http.post(usage.format(ids[1]), json={"caller_group": group})
        assert reply.status_code == 204
    await http.post(usage.format(ids[0]), json={"caller_group": group})
    await http.post(usage.format(ids[0]), json={})

    top = await http.get(
        f"{knowledge_url}/knowledge/public/faq/top", params={"service": service, "limit": 20}
    )
    spoken_ids = [item["id"] for item in top.json()]
    assert spoken_ids.index(ids[1]) < spoken_ids.index(ids[0])
    assert all(item["spoken"] for item in top.json())

    report = await http.get(
        f"{knowledge_url}/knowledge/faq/usage",
        params={"caller_group": group},
        headers=staff.supervisor,
    )
    assert [(row["faq_id"], row["count"]) for row in report.json()] == [(ids[1], 3), (ids[0], 1)]
    forbidden = await http.get(f"{knowledge_url}/knowledge/faq/usage", headers=staff.operator)
    assert forbidden.status_code == 403

    draft = await _create(http, knowledge_url, staff.supervisor)
    assert (await http.post(usage.format(draft), json={})).status_code == 404
    bad_group = await http.post(usage.format(ids[0]), json={"caller_group": "Пенсионер!"})
    assert bad_group.status_code == 422
    backwards = await http.get(
        f"{knowledge_url}/knowledge/faq/usage",
        params={"since": "2026-02-01", "until": "2026-01-01"},
        headers=staff.supervisor,
    )
    assert backwards.status_code == 422
