"""Every endpoint of the knowledge service, under /knowledge."""

from __future__ import annotations

from fastapi import APIRouter

from services.knowledge import (
    admin_router,
    catalogue_router,
    faq_router,
    notices_router,
    scripts_router,
)

router = APIRouter()
for part in (
    faq_router.public,
    catalogue_router.public,
    faq_router.staff,
    catalogue_router.staff,
    scripts_router.router,
    notices_router.router,
    admin_router.router,
):
    router.include_router(part)
