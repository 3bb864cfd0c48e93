"""Pure helpers of the FAQ search: splitting what a caller typed into words and composing
the PostgreSQL `tsquery` text from the per-word alternatives PostgreSQL stemmed for us."""

from __future__ import annotations

import re

MAX_WORDS = 8
_WORD = re.compile(r"[0-9a-zа-я]+(?:-[0-9a-zа-я]+)*")


def query_words(text: str) -> list[str]:
    """Lower-cased words of a query with "ё" folded to "е", duplicates and excess dropped.

    Punctuation and tsquery operators are not words, so user input can never inject
    tsquery syntax: only PostgreSQL's own stemmer output reaches the query."""
    folded = text.lower().replace("ё", "е")
    words = list(dict.fromkeys(_WORD.findall(folded)))
    return words[:MAX_WORDS]


def any_of(term_queries: list[str]) -> str:
    """A tsquery text matching documents that contain any of the terms."""
    return " | ".join(f"({q})" for q in term_queries)


def all_of(term_queries: list[str]) -> str:
    """A tsquery text matching documents that contain every term."""
    return " & ".join(f"({q})" for q in term_queries)


def headline_options(*, max_words: int = 35, min_words: int = 15) -> str:
    """`ts_headline` options: the snippet marks matches with <b>…</b>."""
    return f"StartSel=<b>, StopSel=</b>, MaxWords={max_words}, MinWords={min_words}, MaxFragments=2"
