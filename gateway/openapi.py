"""``/openapi.json``: the HTTP APIs agencies and the core call, generated from the request models.

The JSON schemas come from what validates the requests — the pydantic models of each channel's
``ChannelSpec.openapi`` (e.g. the generic channel's ``ComplaintIn``), and for the core's outbound
API the ``lapor.outbound/1`` JSON schema its endpoint compiles (``normalizer.twoway_contract``) —
so the document cannot drift from what is enforced. Adding an API is one more ``Operation``.
Provider webhooks are not listed: their formats belong to the providers.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from channels import registry
from channels.core.openapi import Accepted, Error, JsonSchema, Operation
from config.version import __version__


class StatusEntry(BaseModel):
    status: Literal["queued", "sent", "delivered", "read", "failed"]
    at: str
    error: dict[str, str | None] | None = None


class OutboundView(BaseModel):
    """``GET /outbound/messages/{id}``: the message's current status and its history."""

    id: str
    record_id: str | None
    kind: str | None
    channel: str | None
    status: Literal["queued", "sent", "delivered", "read", "failed"] | None
    history: list[StatusEntry]
    parts: int | None
    truncated: bool
    public_notice: bool


def _operations() -> list[Operation]:
    """The channels' APIs (from their specs), then the gateway's own."""
    return [
        *registry.openapi_operations(),
        *_outbound_operations(),
    ]


def _outbound_operations() -> list[Operation]:
    """The core's outbound API (``gateway.outbound_api``): the schema its POST handler compiles."""
    from normalizer.twoway_contract import OUTBOUND_SCHEMA, schema

    body = {k: v for k, v in schema(OUTBOUND_SCHEMA).items() if k not in ("$schema", "$id")}
    auth = {401: ("missing bearer token (LAPOR_OUTBOUND_TOKEN)", Error),
            403: ("wrong token, or the outbound API is disabled (LAPOR_OUTBOUND_TOKEN unset)", Error)}
    return [
        Operation("post", "/outbound/messages", "Send a message to the citizen of a record",
                  JsonSchema("OutboundMessage", body),
                  {202: ("stored durably; statuses follow as RQ jobs on LAPOR_CORE_STATUS_QUEUE", Accepted),
                   200: ("this id was posted before: its current status; nothing is sent again", Accepted),
                   400: ("invalid JSON or fields (details name each wrong field)", Error), **auth,
                   404: ("unknown record_id and no reply_to", Error),
                   413: ("body over the limit", Error),
                   422: ("no way to reach the citizen (no_route: no reply_to, channel disabled)", Error),
                   503: ("storage unavailable, retry after the Retry-After seconds", Error)},
                  tags=("outbound",)),
        Operation("get", "/outbound/messages/{id}", "Status and history of a message to a citizen", None,
                  {200: ("the message", OutboundView), **auth, 404: ("unknown outbound message", Error),
                   503: ("storage unavailable, retry", Error)},
                  tags=("outbound",),
                  parameters=({"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},)),
    ]


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}

    def ref(model: type[BaseModel] | JsonSchema) -> dict[str, str]:
        if isinstance(model, JsonSchema):
            schemas[model.name] = model.schema
            return {"$ref": f"#/components/schemas/{model.name}"}
        doc = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(doc.pop("$defs", {}))
        schemas[model.__name__] = doc
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    for op in _operations():
        item: dict[str, Any] = {"summary": op.summary, "tags": list(op.tags), "responses": {}}
        if op.security:
            item["security"] = [{op.security: []}]
        if op.parameters:
            item["parameters"] = list(op.parameters)
        if op.request is not None:
            item["requestBody"] = {"required": True,
                                   "content": {"application/json": {"schema": ref(op.request)}}}
        for status, (desc, model) in sorted(op.responses.items()):
            resp: dict[str, Any] = {"description": desc}
            if model is not None:
                resp["content"] = {"application/json": {"schema": ref(model)}}
            item["responses"][str(status)] = resp
        paths.setdefault(op.path, {})[op.method] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "lapor-gateway", "version": __version__,
                 "description": "HTTP APIs of the SP4N-LAPOR! ingestion gateway for agencies' systems."},
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


async def openapi_view(_request: web.Request) -> web.Response:
    return web.json_response(document())
