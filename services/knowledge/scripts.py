"""Operator call scripts (R8): stored as validated step graphs, versioned on every change."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import record_audit
from services.common.problems import InvalidInput
from services.knowledge.models import CallScript, FaqEntry
from services.knowledge.schemas import ScriptIn


async def _check_faq_links(session: AsyncSession, data: ScriptIn) -> None:
    wanted = {faq_id for step in data.steps for faq_id in step.faq_ids}
    if not wanted:
        return
    found = set(await session.scalars(select(FaqEntry.id).where(FaqEntry.id.in_(wanted))))
    missing = sorted(wanted - found)
    if missing:
        raise InvalidInput(
            f"Unknown FAQ entries: {', '.join(map(str, missing))}", field="steps.faq_ids"
        )


async def get_script(session: AsyncSession, code: str) -> CallScript | None:
    return await session.scalar(select(CallScript).where(CallScript.code == code))


async def save_script(
    session: AsyncSession,
    data: ScriptIn,
    *,
    actor: str,
    actor_id: int | None,
    now: dt.datetime,
) -> tuple[CallScript, bool]:
    """Create or replace a script by code; returns it and whether it was created."""
    await _check_faq_links(session, data)
    steps = [step.model_dump(mode="json") for step in data.steps]
    script = await get_script(session, data.code)
    created = script is None
    if script is None:
        script = CallScript(code=data.code, version=1)
        session.add(script)
    elif (script.topic, script.title, script.start, script.steps, script.sample_data) != (
        data.topic,
        data.title,
        data.start,
        steps,
        data.sample_data,
    ):
        script.version += 1
        script.updated_at = now
    script.topic, script.title, script.start = data.topic, data.title, data.start
    script.steps, script.sample_data, script.updated_by = steps, data.sample_data, actor
    await session.flush()
    await session.refresh(script)
    await record_audit(
        session,
        actor=actor,
        actor_id=actor_id,
        action="knowledge.script.create" if created else "knowledge.script.update",
        subject_type="script",
        subject_id=data.code,
        details={"version": script.version},
    )
    return script, created


async def list_scripts(session: AsyncSession, topic: str | None) -> list[CallScript]:
    query = select(CallScript).order_by(CallScript.topic, CallScript.code)
    if topic:
        query = query.where(CallScript.topic == topic)
    return list(await session.scalars(query))
