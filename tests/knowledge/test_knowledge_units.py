"""Pure parts of the knowledge service: query words, workflow tables, script graphs, diffs,
file parsing and the sample content. No database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.problems import InvalidInput
from services.knowledge.catalogue import CONTENT_FIELDS, changed_fields
from services.knowledge.demo_seed import demo_bundle
from services.knowledge.exchange import parse_file
from services.knowledge.script_graph import script_problems
from services.knowledge.synonyms import normalised
from services.knowledge.text_search import MAX_WORDS, all_of, any_of, query_words
from services.knowledge.workflow import (
    FAQ_ACTIONS,
    NOTICE_ACTIONS,
    TransitionRefused,
    next_state,
)


def test_query_words_fold_case_and_yo_and_drop_punctuation() -> None:
    assert query_words("Ещё раз: ЗАПИСЬ в МФЦ — «учёт»!") == [
        "еще",
        "раз",
        "запись",
        "в",
        "мфц",
        "учет",
    ]
    assert query_words("паспорт паспорт Паспорт") == ["паспорт"]
    assert query_words("3-НДФЛ 45 лет") == ["3-ндфл", "45", "лет"]


@given(st.text(max_size=300))
def test_query_words_never_carry_tsquery_syntax(text: str) -> None:
    words = query_words(text)
    assert len(words) <= MAX_WORDS
    for word in words:
        assert word and not set(word) & set("&|!():*'\"\\<> ")


def test_tsquery_composition() -> None:
    assert any_of(["'а'", "'б' | 'в'"]) == "('а') | ('б' | 'в')"
    assert all_of(["'а'", "'б'"]) == "('а') & ('б')"


def test_normalised_synonym_terms() -> None:
    assert normalised(["Ёлка", " елка ", "Новый   Год"]) == ["елка", "новый год"]


def test_faq_workflow_table() -> None:
    assert next_state(FAQ_ACTIONS, "draft", "submit") == "review"
    assert next_state(FAQ_ACTIONS, "review", "publish") == "published"
    assert next_state(FAQ_ACTIONS, "review", "return") == "draft"
    assert next_state(FAQ_ACTIONS, "published", "withdraw") == "draft"
    with pytest.raises(TransitionRefused) as refused:
        next_state(FAQ_ACTIONS, "draft", "publish")
    assert refused.value.allowed_from == ["review"]


@pytest.mark.parametrize("state", ["draft", "review", "published", "archived"])
def test_every_faq_state_can_leave(state: str) -> None:
    assert any(state in sources for sources, _ in FAQ_ACTIONS.values())


def test_notice_workflow_table() -> None:
    assert next_state(NOTICE_ACTIONS, "open", "take") == "in_progress"
    assert next_state(NOTICE_ACTIONS, "in_progress", "resolve") == "resolved"
    assert next_state(NOTICE_ACTIONS, "dismissed", "reopen") == "open"
    with pytest.raises(TransitionRefused):
        next_state(NOTICE_ACTIONS, "resolved", "take")


def test_script_graph_checks() -> None:
    good = [
        ("a", "greeting", "b", [], False),
        ("b", "satisfaction", "c", [], False),
        ("c", "closing", None, [], False),
    ]
    assert script_problems("a", good) == []
    cycle_without_end = [("a", "greeting", "b", [], False), ("b", "question", None, ["a"], False)]
    problems = script_problems("a", cycle_without_end)
    assert "the script has no closing step" in problems


def test_changed_fields_keep_catalogue_order() -> None:
    old = dict.fromkeys(CONTENT_FIELDS, "x")
    new = {**old, "appeal": "y", "fee": "z"}
    assert changed_fields(old, new) == ["fee", "appeal"]
    assert changed_fields(old, dict(old)) == []


def test_parse_file_names_the_bad_row() -> None:
    with pytest.raises(InvalidInput) as bad:
        parse_file(
            "topic,question,answer,spoken\nmfc,Вопрос номер один?,Ответ,\n".encode(),
            filename="faq.csv",
        )
    assert bad.value.details["errors"][0]["field"] == "row 2: spoken"
    empty = parse_file(b"", filename="faq.csv")
    assert empty.faq == [] and empty.catalogue == []


def test_sample_content_is_large_enough_and_marked() -> None:
    bundle = demo_bundle()
    assert bundle.sample_data
    assert len(bundle.catalogue) >= 40
    assert len(bundle.faq) >= 150
    topics = {"mfc", "social", "passports", "health", "housing", "status", "complaints", "techhelp"}
    assert {entry.topic for entry in bundle.faq} == topics
    assert {entry.topic for entry in bundle.catalogue} == topics
    assert all(entry.status == "published" and entry.sample_data for entry in bundle.faq)
    assert all(len(entry.spoken) < len(entry.answer) for entry in bundle.faq)
    questions = [(entry.topic, entry.question) for entry in bundle.faq]
    assert len(set(questions)) == len(questions)
