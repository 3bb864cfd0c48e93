"""The search's synonym groups. Each group's `keys` are the Russian stems of its one-word
members, computed by PostgreSQL so the lookup matches every form of those words."""

from __future__ import annotations

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.problems import InvalidInput, NotFound
from services.knowledge.models import SynonymGroup

_STEMS = text(
    """
    SELECT coalesce(array_agg(DISTINCT stem ORDER BY stem), '{}')
    FROM unnest(CAST(:terms AS text[])) AS term
    CROSS JOIN LATERAL unnest(
        tsvector_to_array(to_tsvector('russian'::regconfig, translate(term, 'Ёё', 'Ее')))
    ) AS stem
    WHERE term !~ '\\s'
    """
)


def normalised(terms: list[str]) -> list[str]:
    """Lower-cased, "ё" folded, duplicates removed, order kept."""
    return list(dict.fromkeys(" ".join(t.lower().replace("ё", "е").split()) for t in terms))


async def save_group(
    session: AsyncSession,
    terms: list[str],
    *,
    sample_data: bool = False,
    group_id: int | None = None,
) -> SynonymGroup:
    """Create a group (or replace group `group_id`)."""
    members = normalised(terms)
    if len(members) < 2:
        raise InvalidInput("A synonym group needs at least two different terms", field="terms")
    keys = list(await session.scalar(_STEMS, {"terms": members}) or [])
    if not keys:
        raise InvalidInput(
            "A group needs at least one single word that is not a stop word", field="terms"
        )
    if group_id is None:
        group = SynonymGroup(terms=members, keys=keys, sample_data=sample_data)
        session.add(group)
    else:
        found = await session.get(SynonymGroup, group_id)
        if found is None:
            raise NotFound(f"No synonym group {group_id}")
        group = found
        group.terms, group.keys = members, keys
    await session.flush()
    return group


async def list_groups(session: AsyncSession) -> list[SynonymGroup]:
    return list(await session.scalars(select(SynonymGroup).order_by(SynonymGroup.id)))


async def delete_group(session: AsyncSession, group_id: int) -> None:
    result = await session.execute(delete(SynonymGroup).where(SynonymGroup.id == group_id))
    if not getattr(result, "rowcount", 0):
        raise NotFound(f"No synonym group {group_id}")
