"""Operator call scripts served as step graphs, and the checks that keep them runnable."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.knowledge.conftest import Staff, unique_code

pytestmark = pytest.mark.integration


def script(code: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "topic": "techhelp",
        "title": "Тестовый сценарий",
        "start": "hello",
        "steps": [
            {"id": "hello", "kind": "greeting", "text": "Здравствуйте!", "next": "ask"},
            {
                "id": "ask",
                "kind": "identify",
                "text": "Чем помочь?",
                "options": [
                    {"label": "Перезвонить", "next": "callback"},
                    {"label": "Всё ясно", "next": "rate"},
                ],
            },
            {
                "id": "callback",
                "kind": "offer",
                "text": "Перезвоним за 10 минут.",
                "offer": "callback",
                "next": "rate",
            },
            {"id": "rate", "kind": "satisfaction", "text": "Оцените от 1 до 5.", "next": "bye"},
            {"id": "bye", "kind": "closing", "text": "До свидания!"},
        ],
    }
    body.update(changes)
    return body


async def test_sample_scripts_are_served_step_by_step(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    listing = await http.get(f"{knowledge_url}/knowledge/scripts", headers=staff.operator)
    assert {"general-inbound", "passports", "application-status"} <= {
        s["code"] for s in listing.json()
    }
    general = (
        await http.get(f"{knowledge_url}/knowledge/scripts/general-inbound", headers=staff.operator)
    ).json()
    steps = {step["id"]: step for step in general["steps"]}
    assert steps[general["start"]]["kind"] == "greeting"
    offers = {step["offer"] for step in general["steps"] if step["offer"]}
    assert offers == {"booking", "transfer", "complaint", "callback"}
    assert any(step["kind"] == "satisfaction" for step in general["steps"])
    assert (await http.get(f"{knowledge_url}/knowledge/scripts")).status_code == 401


async def test_saving_versions_and_permissions(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    code = unique_code("test-script")
    url = f"{knowledge_url}/knowledge/scripts/{code}"
    assert (await http.put(url, json=script(code), headers=staff.operator)).status_code == 403
    created = await http.put(url, json=script(code), headers=staff.supervisor)
    assert created.status_code == 201
    same = await http.put(url, json=script(code), headers=staff.supervisor)
    assert (same.status_code, same.json()["version"]) == (200, 1)
    retitled = await http.put(url, json=script(code, title="Новое название"), headers=staff.admin)
    assert retitled.json()["version"] == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["steps"][3].update(kind="answer"), "satisfaction"),
        (lambda s: s["steps"][0].update(next="nowhere"), "unknown step"),
        (lambda s: s["steps"][4].update(next="hello"), "must end the call"),
        (lambda s: s["steps"][3].pop("next"), "dead end"),
        (lambda s: s["steps"][2].pop("offer"), "must say what it offers"),
        (lambda s: s.update(start="missing"), "start step"),
        (lambda s: s["steps"].append(dict(s["steps"][4])), "duplicate"),
        (
            lambda s: s["steps"].append({"id": "lost", "kind": "closing", "text": "Пока"}),
            "never reached",
        ),
    ],
    ids=[
        "no-satisfaction",
        "unknown-target",
        "closing-continues",
        "dead-end",
        "offer-without-kind",
        "missing-start",
        "duplicate-id",
        "unreachable",
    ],
)
async def test_broken_scripts_are_refused(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff, change: Any, message: str
) -> None:
    code = unique_code("test-broken")
    body = script(code)
    change(body)
    reply = await http.put(
        f"{knowledge_url}/knowledge/scripts/{code}", json=body, headers=staff.supervisor
    )
    assert reply.status_code == 422
    assert message in reply.text


async def test_scripts_link_only_existing_answers(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    code = unique_code("test-links")
    body = script(code)
    body["steps"][1]["faq_ids"] = [999999999]
    reply = await http.put(
        f"{knowledge_url}/knowledge/scripts/{code}", json=body, headers=staff.supervisor
    )
    assert reply.status_code == 422
    assert (
        await http.get(f"{knowledge_url}/knowledge/scripts/{code}", headers=staff.operator)
    ).status_code == 404
