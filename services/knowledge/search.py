"""FAQ search in PostgreSQL: Russian stemming, synonym expansion, ranking and snippets.

Two statements per search. The first turns each query word into a tsquery alternative list
(the word itself plus the members of any synonym group sharing its stem), stemmed by
PostgreSQL; stop words drop out there. The second ranks published entries: entries that
contain more of the query's terms come first, then by cover density (`ts_rank_cd`), with the
question weighted above the answer. Snippets are built only for the returned page.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.knowledge.text_search import any_of, headline_options, query_words

_TERMS_SQL = text(
    """
    WITH words AS (
        SELECT ord, word,
               tsvector_to_array(to_tsvector('russian'::regconfig, word)) AS stems
        FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS w(word, ord)
    ),
    alternatives AS (
        SELECT ord, word AS alt FROM words WHERE cardinality(stems) > 0
        UNION
        SELECT w.ord, member
        FROM words w
        JOIN knowledge_synonyms s ON s.keys && w.stems
        CROSS JOIN LATERAL unnest(s.terms) AS member
        WHERE cardinality(w.stems) > 0
    )
    SELECT ord, string_agg(DISTINCT '(' || q::text || ')', ' | ') AS query
    FROM (
        SELECT ord, plainto_tsquery('russian'::regconfig, translate(alt, 'Ёё', 'Ее')) AS q
        FROM alternatives
    ) stemmed
    WHERE numnode(q) > 0
    GROUP BY ord
    ORDER BY ord
    """
)


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked FAQ entry with its highlighted snippets."""

    id: int
    topic: str
    service_code: str | None
    municipality: str | None
    question: str
    answer: str
    spoken: str
    status: str
    rank: float
    matched_terms: int
    question_snippet: str
    answer_snippet: str


@dataclass(frozen=True, slots=True)
class Filters:
    """What a search is restricted to; `statuses` lets staff editors search drafts too."""

    topic: str | None = None
    service_code: str | None = None
    municipality: str | None = None
    statuses: tuple[str, ...] = ("published",)


async def term_queries(session: AsyncSession, query: str) -> list[str]:
    """One tsquery text per meaningful query word, synonyms included."""
    words = query_words(query)
    if not words:
        return []
    rows = await session.execute(_TERMS_SQL, {"words": words})
    return [row.query for row in rows]


def ranked_sql(term_count: int, filters: Filters) -> str:
    """The ranking statement for `term_count` terms; the benchmark runs it directly too."""
    matched = " + ".join(f"(f.search @@ CAST(:t{i} AS tsquery))::int" for i in range(term_count))
    conditions = ["f.search @@ CAST(:q AS tsquery)", "f.status = ANY(CAST(:statuses AS text[]))"]
    if filters.topic:
        conditions.append("f.topic = :topic")
    if filters.service_code:
        conditions.append("f.service_code = :service_code")
    if filters.municipality:
        conditions.append(
            "(f.municipality IS NULL OR lower(f.municipality) = lower(:municipality))"
        )
    # Rank narrow rows only (id, rank, matched terms); the text and the snippets are read
    # for the returned page alone, so a broad query does not drag every answer through a sort.
    # The count comes out even for a page past the last match (one row without an entry).
    return f"""
        WITH matches AS MATERIALIZED (
            SELECT f.id,
                   ts_rank_cd(f.search, CAST(:q AS tsquery)) AS rank,
                   {matched} AS matched_terms
            FROM knowledge_faq f
            WHERE {" AND ".join(conditions)}
        ),
        page AS (
            SELECT id, rank, matched_terms
            FROM matches
            ORDER BY matched_terms DESC, rank DESC, id
            LIMIT :limit OFFSET :offset
        )
        SELECT counted.total, f.id, f.topic, f.service_code, f.municipality, f.question,
               f.answer, f.spoken, f.status, page.rank, page.matched_terms,
               ts_headline('russian', f.question, CAST(:q AS tsquery), :opts)
                   AS question_snippet,
               ts_headline('russian', f.answer, CAST(:q AS tsquery), :opts) AS answer_snippet
        FROM (SELECT count(*) AS total FROM matches) counted
        LEFT JOIN page ON true
        LEFT JOIN knowledge_faq f ON f.id = page.id
        ORDER BY page.matched_terms DESC, page.rank DESC, page.id
    """


def ranked_params(
    terms: list[str], filters: Filters, *, limit: int, offset: int
) -> dict[str, object]:
    """Bound parameters of `ranked_sql`."""
    params: dict[str, object] = {f"t{i}": term for i, term in enumerate(terms)}
    params.update(
        q=any_of(terms),
        statuses=list(filters.statuses),
        limit=limit,
        offset=offset,
        opts=headline_options(),
    )
    if filters.topic:
        params["topic"] = filters.topic
    if filters.service_code:
        params["service_code"] = filters.service_code
    if filters.municipality:
        params["municipality"] = filters.municipality
    return params


async def search_faq(
    session: AsyncSession, query: str, filters: Filters, *, limit: int, offset: int
) -> tuple[list[Hit], int]:
    """A page of matching entries, best first, and the number of matches."""
    terms = await term_queries(session, query)
    if not terms:
        return [], 0
    rows = (
        await session.execute(
            text(ranked_sql(len(terms), filters)),
            ranked_params(terms, filters, limit=limit, offset=offset),
        )
    ).mappings()
    hits: list[Hit] = []
    total = 0
    for row in rows:
        total = int(row["total"])
        if row["id"] is None:  # the one row of a page past the last match carries the total
            continue
        hits.append(
            Hit(
                id=row["id"],
                topic=row["topic"],
                service_code=row["service_code"],
                municipality=row["municipality"],
                question=row["question"],
                answer=row["answer"],
                spoken=row["spoken"],
                status=row["status"],
                rank=float(row["rank"]),
                matched_terms=int(row["matched_terms"]),
                question_snippet=row["question_snippet"],
                answer_snippet=row["answer_snippet"],
            )
        )
    return hits, total
