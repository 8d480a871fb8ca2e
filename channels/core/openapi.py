"""How an HTTP API describes itself for ``/openapi.json`` (neutral: channels and the gateway use it).

A channel whose endpoint is an API for other systems (not a provider's webhook) lists its
``Operation``s in its ``ChannelSpec.openapi``; the gateway adds its own APIs and renders them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel


class Accepted(BaseModel):
    """202: stored; 200: the same ``id`` was already stored (``duplicate``)."""

    id: str
    status: str


class Error(BaseModel):
    error: str
    details: list[dict[str, str]] | None = None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    request: type[BaseModel] | None
    responses: dict[int, tuple[str, type[BaseModel] | None]]
    security: str = "bearer"
    tags: tuple[str, ...] = field(default=())
