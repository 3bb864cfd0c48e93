"""The HTTP services `okno serve NAME` can run, each its own process."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, FastAPI

from services.appointments.router import router as appointments_router
from services.auth.router import router as auth_router
from services.callbacks.router import router as callbacks_router
from services.common.app import create_service_app
from services.common.settings import Settings
from services.complaints.router import router as complaints_router
from services.directory.router import router as directory_router
from services.knowledge.router import router as knowledge_router
from services.supervision.router import router as supervision_router
from services.workspace.router import router as workspace_router


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """What a service is called and which routers it serves."""

    title: str
    description: str
    routers: tuple[APIRouter, ...]


SERVICES: dict[str, ServiceSpec] = {
    "auth": ServiceSpec(
        "Okno auth", "Staff login, accounts, roles and the audit log.", (auth_router,)
    ),
    "directory": ServiceSpec(
        "Okno directory",
        "Agencies and MFC offices: addresses, phones, hours, services; open now.",
        (directory_router,),
    ),
    "knowledge": ServiceSpec(
        "Okno knowledge",
        "Service catalogue, FAQ with Russian search, call scripts, outdated-information notices.",
        (knowledge_router,),
    ),
    "appointments": ServiceSpec(
        "Okno appointments",
        "Booking appointments and consultations: slots, bookings, attendance, schedules.",
        (appointments_router,),
    ),
    "complaints": ServiceSpec(
        "Okno complaints",
        "Complaints and notices: registration, forwarding to agencies, status timelines.",
        (complaints_router,),
    ),
    "callbacks": ServiceSpec(
        "Okno callbacks",
        "Callbacks to citizens: scheduling by staff, their attempts, cancelling, the figures.",
        (callbacks_router,),
    ),
    "supervision": ServiceSpec(
        "Okno supervision",
        "Supervisors' switches (night mode, emergency mode) and the built-in live wallboard.",
        (supervision_router,),
    ),
    "workspace": ServiceSpec(
        "Okno workspace",
        "Operators' and supervisors' web pages: call card, state buttons, tools, live console.",
        (workspace_router,),
    ),
}


def build_app(name: str, settings: Settings, *, database_url: str, redis_url: str) -> FastAPI:
    """The FastAPI app of one service."""
    spec = SERVICES[name]
    return create_service_app(
        name=name,
        title=spec.title,
        description=spec.description,
        settings=settings,
        database_url=database_url,
        redis_url=redis_url,
        routers=spec.routers,
    )
