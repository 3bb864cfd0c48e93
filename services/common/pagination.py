"""The envelope of every paginated list response."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total so clients can page through it."""

    items: list[T]
    total: int
    limit: int
    offset: int
