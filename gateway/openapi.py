"""``/openapi.json``: the HTTP APIs agencies and the core call, generated from the request models.

The JSON schemas come from the same pydantic models that validate the requests
(each channel's ``ChannelSpec.openapi``, e.g. the generic channel's ``ComplaintIn``), so the
document cannot drift from what is enforced.
Adding an API (e.g. the outbound API) is one more ``Operation`` in ``OPERATIONS``.
Provider webhooks are not listed: their formats belong to the providers.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from channels import registry
from channels.core.openapi import Operation
from config.version import __version__


def _operations() -> list[Operation]:
    """The channels' APIs (from their specs), then the gateway's own."""
    return [
        *registry.openapi_operations(),
        # the outbound API adds its Operation here
    ]


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        doc = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(doc.pop("$defs", {}))
        schemas[model.__name__] = doc
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    for op in _operations():
        item: dict[str, Any] = {"summary": op.summary, "tags": list(op.tags), "responses": {}}
        if op.security:
            item["security"] = [{op.security: []}]
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
