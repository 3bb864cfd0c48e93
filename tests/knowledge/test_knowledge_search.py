"""FAQ search quality and behaviour over HTTP against real PostgreSQL with the sample content."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.knowledge.conftest import Staff, faq_body, marker_word
from tests.knowledge.search_cases import CASES

pytestmark = pytest.mark.integration


async def _search(
    http: httpx.AsyncClient, base: str, q: str, **params: str
) -> list[dict[str, object]]:
    reply = await http.get(
        f"{base}/knowledge/public/faq/search", params={"q": q, "limit": "3", **params}
    )
    assert reply.status_code == 200, reply.text
    items: list[dict[str, object]] = reply.json()["items"]
    return items


def test_the_fixed_set_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({query for query, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q for q, _ in CASES])
async def test_expected_answer_in_top_three(
    http: httpx.AsyncClient, knowledge_url: str, query: str, expected: str
) -> None:
    top = [item["question"] for item in await _search(http, knowledge_url, query)]
    assert expected in top, f"{query!r} gave {top}"


async def test_morphology_finds_the_same_answer_for_different_forms(
    http: httpx.AsyncClient, knowledge_url: str
) -> None:
    for forms in (("записаться", "запись", "записи"), ("паспорт", "паспорта", "паспортом")):
        firsts = {
            str((await _search(http, knowledge_url, f"{form} мфц"))[0]["id"]) for form in forms
        }
        assert len(firsts) == 1, forms


async def test_snippets_highlight_matched_words(
    http: httpx.AsyncClient, knowledge_url: str
) -> None:
    first = (await _search(http, knowledge_url, "загранпаспорт"))[0]
    assert "<b>" in str(first["question_snippet"])
    assert "<b>" in str(first["answer_snippet"]) or "<b>" in str(first["question_snippet"])


async def test_topic_and_municipality_filters(http: httpx.AsyncClient, knowledge_url: str) -> None:
    health = await _search(http, knowledge_url, "записаться", topic="health")
    assert health and {item["topic"] for item in health} == {"health"}
    novokuznetsk = await _search(
        http, knowledge_url, "загранпаспорт мфц кемерово", municipality="Новокузнецк"
    )
    assert all(item["municipality"] in (None, "Новокузнецк") for item in novokuznetsk)
    kemerovo = await _search(http, knowledge_url, "загранпаспорт мфц", municipality="кемерово")
    assert any(item["municipality"] == "Кемерово" for item in kemerovo)


async def test_queries_without_meaningful_words_find_nothing(
    http: httpx.AsyncClient, knowledge_url: str
) -> None:
    for query in ("и в на", "!!! ???", "& | ! :*"):
        reply = await http.get(f"{knowledge_url}/knowledge/public/faq/search", params={"q": query})
        assert reply.status_code == 200
        assert reply.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_bad_search_parameters_are_problems(
    http: httpx.AsyncClient, knowledge_url: str
) -> None:
    url = f"{knowledge_url}/knowledge/public/faq/search"
    for params in ({}, {"q": ""}, {"q": "x" * 201}, {"q": "паспорт", "topic": "weather"}):
        reply = await http.get(url, params=params)
        assert reply.status_code == 422
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert reply.json()["error_id"] == "invalid-input"


async def test_drafts_are_found_by_editors_only(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    marker = marker_word()
    created = await http.post(
        f"{knowledge_url}/knowledge/faq", json=faq_body(marker), headers=staff.supervisor
    )
    assert created.status_code == 201
    assert await _search(http, knowledge_url, marker) == []
    as_operator = await http.get(
        f"{knowledge_url}/knowledge/faq/search", params={"q": marker}, headers=staff.operator
    )
    assert as_operator.json()["total"] == 0
    as_editor = await http.get(
        f"{knowledge_url}/knowledge/faq/search", params={"q": marker}, headers=staff.supervisor
    )
    assert [item["id"] for item in as_editor.json()["items"]] == [created.json()["id"]]


async def test_synonyms_added_by_an_editor_take_effect(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    marker, alias = marker_word(), marker_word()
    created = await http.post(
        f"{knowledge_url}/knowledge/faq", json=faq_body(marker), headers=staff.supervisor
    )
    faq_id = created.json()["id"]
    for action in ("submit", "publish"):
        await http.post(
            f"{knowledge_url}/knowledge/faq/{faq_id}/transitions",
            json={"action": action},
            headers=staff.supervisor,
        )
    assert await _search(http, knowledge_url, alias) == []
    group = await http.post(
        f"{knowledge_url}/knowledge/synonyms",
        json={"terms": [marker, alias]},
        headers=staff.supervisor,
    )
    assert group.status_code == 201
    assert [item["id"] for item in await _search(http, knowledge_url, alias)] == [faq_id]
    await http.delete(
        f"{knowledge_url}/knowledge/synonyms/{group.json()['id']}", headers=staff.supervisor
    )
    assert await _search(http, knowledge_url, alias) == []


async def test_bad_synonym_groups_are_refused(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    url = f"{knowledge_url}/knowledge/synonyms"
    for terms in (["одно"], ["Паспорт", "паспорт"], ["и", "в"]):
        reply = await http.post(url, json={"terms": terms}, headers=staff.supervisor)
        assert reply.status_code == 422, terms
    forbidden = await http.post(url, json={"terms": ["а1", "б1"]}, headers=staff.operator)
    assert forbidden.status_code == 403


async def test_empty_searches_are_counted_for_the_wallboard(
    http: httpx.AsyncClient, knowledge_url: str
) -> None:
    def empty_count(metrics: str) -> float:
        for family in text_string_to_metric_families(metrics):
            for sample in family.samples:
                if sample.name == "okno_knowledge_searches_total" and sample.labels == {
                    "audience": "public",
                    "outcome": "empty",
                }:
                    return sample.value
        return 0.0

    before = empty_count((await http.get(f"{knowledge_url}/metrics")).text)
    await _search(http, knowledge_url, marker_word())
    after = empty_count((await http.get(f"{knowledge_url}/metrics")).text)
    assert after == before + 1


async def test_paging_keeps_order_and_total(http: httpx.AsyncClient, knowledge_url: str) -> None:
    url = f"{knowledge_url}/knowledge/public/faq/search"
    pages = [
        (await http.get(url, params={"q": "паспорт", "limit": 3, "offset": offset})).json()
        for offset in (0, 3, 1000)
    ]
    assert pages[0]["total"] == pages[1]["total"] == pages[2]["total"] > 6
    first, second = ([item["id"] for item in page["items"]] for page in pages[:2])
    assert len(first) == len(second) == 3 and not set(first) & set(second)
    assert pages[2]["items"] == []
    assert pages[0]["items"][0]["rank"] >= pages[1]["items"][0]["rank"] or (
        pages[0]["items"][0]["matched_terms"] > pages[1]["items"][0]["matched_terms"]
    )
