"""Import and export in JSON, YAML and CSV; a bad row rejects the whole file."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
import yaml

from tests.knowledge.conftest import Staff, catalogue_body, marker_word, unique_code

pytestmark = pytest.mark.integration


async def _import(
    http: httpx.AsyncClient, base: str, staff: Staff, name: str, content: bytes
) -> httpx.Response:
    return await http.post(
        f"{base}/knowledge/import", files={"file": (name, content)}, headers=staff.supervisor
    )


async def test_export_in_three_formats(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    url = f"{knowledge_url}/knowledge/export"
    as_json = await http.get(url, headers=staff.supervisor)
    data = as_json.json()
    assert len(data["catalogue"]) >= 40 and len(data["faq"]) >= 150
    assert data["scripts"] and data["synonyms"]
    as_yaml = await http.get(url, params={"format": "yaml"}, headers=staff.supervisor)
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert len(yaml.safe_load(as_yaml.text)["faq"]) == len(data["faq"])
    as_csv = await http.get(
        url, params={"format": "csv", "part": "catalogue"}, headers=staff.supervisor
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == len(data["catalogue"])
    passport = next(row for row in rows if row["code"] == "passport-rf")
    assert "Свидетельство о рождении" in passport["documents"].split("\n")
    assert (await http.get(url, headers=staff.operator)).status_code == 403


async def test_reimporting_an_export_changes_nothing(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    exported = await http.get(f"{knowledge_url}/knowledge/export", headers=staff.supervisor)
    report = (await _import(http, knowledge_url, staff, "k.json", exported.content)).json()
    assert report["catalogue_created"] == report["catalogue_updated"] == 0
    assert report["faq_created"] == report["synonym_groups"] == 0
    assert report["faq_skipped"] == len(exported.json()["faq"])


async def test_csv_faq_import_creates_entries_in_the_given_state(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    marker = marker_word()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["topic", "service_code", "question", "answer", "spoken", "status"])
    writer.writerow(
        ["mfc", "", f"Тестовый вопрос {marker}?", f"Тестовый ответ {marker}.", "Ответ.", ""]
    )
    writer.writerow(
        ["social", "snils", f"Второй вопрос {marker}?", f"Ответ {marker}.", "Да.", "published"]
    )
    report = await _import(http, knowledge_url, staff, "faq.csv", out.getvalue().encode())
    assert report.json()["faq_created"] == 2
    found = await http.get(
        f"{knowledge_url}/knowledge/faq/search", params={"q": marker}, headers=staff.supervisor
    )
    assert sorted(item["status"] for item in found.json()["items"]) == ["draft", "published"]


async def test_yaml_bundle_import_versions_the_catalogue(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    code = unique_code("test-import")
    bundle = {"catalogue": [catalogue_body(code)]}
    first = await _import(
        http, knowledge_url, staff, "k.yaml", yaml.safe_dump(bundle, allow_unicode=True).encode()
    )
    assert first.json()["catalogue_created"] == 1
    bundle["catalogue"][0]["fee"] = "100 рублей."
    second = await _import(
        http, knowledge_url, staff, "k.yml", yaml.safe_dump(bundle, allow_unicode=True).encode()
    )
    assert second.json()["catalogue_updated"] == 1
    history = await http.get(
        f"{knowledge_url}/knowledge/catalogue/{code}/versions", headers=staff.operator
    )
    assert [(v["version"], v["changed_fields"], v["note"]) for v in history.json()][0] == (
        2,
        ["fee"],
        "import",
    )


async def test_bad_files_are_rejected_whole(
    http: httpx.AsyncClient, knowledge_url: str, staff: Staff
) -> None:
    good_code, marker = unique_code("test-whole"), marker_word()
    bad_bundle = {
        "catalogue": [catalogue_body(good_code)],
        "faq": [{"topic": "mfc", "question": f"Вопрос {marker}?", "answer": "Ответ", "spoken": ""}],
    }
    reply = await _import(
        http, knowledge_url, staff, "k.json", json.dumps(bad_bundle, ensure_ascii=False).encode()
    )
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"] == "faq.0.spoken"
    missing = await http.get(
        f"{knowledge_url}/knowledge/public/catalogue/{good_code}", headers=staff.operator
    )
    assert missing.status_code == 404

    bad_csv = (
        "topic,question,answer,spoken\n"
        "mfc,Хороший вопрос?,Ответ,Кратко\n"
        "weather,Вопрос?,Ответ,Кратко\n"
    )
    reply = await _import(http, knowledge_url, staff, "faq.csv", bad_csv.encode())
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"].startswith("row 3: topic")

    for name, content in (
        ("k.txt", b"{}"),
        ("k.json", b"{not json"),
        ("k.yaml", b"faq: [unclosed"),
        ("k.csv", b"\xff\xfe\x00"),
        ("k.csv", b"colour,size\nred,1\n"),
    ):
        reply = await _import(http, knowledge_url, staff, name, content)
        assert reply.status_code == 422, name
    forbidden = await http.post(
        f"{knowledge_url}/knowledge/import",
        files={"file": ("k.json", b"{}")},
        headers=staff.operator,
    )
    assert forbidden.status_code == 403
