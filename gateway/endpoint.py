"""One wrapper for every channel handler: limits, errors, intake, answer, channel log, metrics.

Adapters stay small and alike because everything that is the same for all providers lives
here: a body over the limit is 413 before it is parsed; adapter errors map to 4xx; the
provider's success answer is built only after intake has stored every message of the batch;
an unexpected parser failure stores the raw request in ``lapor:quarantine`` (202) rather than
dropping it or answering 500 (which would make the provider retry forever).
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from channels.base import ChannelError, ChannelRequest, Endpoint, ParseOutcome, PayloadTooLarge
from gateway import keys, metrics
from gateway.context import ctx_of
from gateway.intake import REDIS_ERRORS, Accepted, IntakeUnavailable, quarantine_fields
from gateway.logging import get_logger

log = get_logger("gateway.endpoint")


async def read_body(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None:
        if request.content_length > limit:
            raise PayloadTooLarge(f"body of {request.content_length} bytes exceeds {limit}")
        return await request.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def body_limit(endpoint: Endpoint, settings: Any) -> int:
    """The endpoint's own limit, a limit named by a settings field, or the default."""
    if isinstance(endpoint.max_body, str):
        return int(getattr(settings, endpoint.max_body))
    return endpoint.max_body or settings.max_body_bytes


def default_respond(results: list[Accepted]) -> web.Response:
    return web.json_response({
        "status": "ok",
        "accepted": sum(1 for r in results if not r.duplicate),
        "duplicates": sum(1 for r in results if r.duplicate),
    })


def record_respond(results: list[Accepted]) -> web.Response:
    """The answer for a request that carries one complaint: its record id, 202 new / 200 duplicate."""
    if len(results) != 1:
        return default_respond(results)
    res = results[0]
    if res.duplicate:
        return web.json_response({"id": res.record_id, "status": "duplicate"}, status=200)
    return web.json_response({"id": res.record_id, "status": "accepted"}, status=202)


def wrap(endpoint: Endpoint) -> Any:
    """Turn an adapter ``Endpoint`` into an aiohttp handler."""
    channel = endpoint.channel

    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = ctx_of(request.app)
        t0 = time.perf_counter()
        limit = body_limit(endpoint, ctx.settings)
        status: int = 500
        error: str | None = None
        counts: dict[str, int] = {}
        try:
            body = await read_body(request, limit) if request.body_exists else b""
            outcome: ParseOutcome = await endpoint.parse(ChannelRequest(request, body, ctx.settings))
            if outcome.response is not None:
                status = outcome.response.status
                return outcome.response
            for reason, n in outcome.skipped.items():
                metrics.count(channel, f"skipped_{reason}", n)
                counts[f"skipped_{reason}"] = n
            results: list[Accepted] = []
            if outcome.messages:
                metrics.count(channel, "received", len(outcome.messages))
                try:
                    results = await ctx.intake.accept(outcome.messages)
                except IntakeUnavailable as exc:
                    metrics.count(channel, "error", len(outcome.messages))
                    status, error = 503, str(exc)
                    return web.json_response({"error": "temporarily unavailable, retry"}, status=503,
                                             headers={"Retry-After": "5"})
                new = sum(1 for r in results if r.status == "new")
                dup = sum(1 for r in results if r.status == "duplicate")
                spooled = sum(1 for r in results if r.status == "spooled")
                metrics.count(channel, "stored", new)
                metrics.count(channel, "duplicate", dup)
                metrics.count(channel, "spooled", spooled)
                counts.update(stored=new, duplicates=dup, spooled=spooled)
                metrics.ACCEPT_LATENCY.labels(channel).observe(time.perf_counter() - t0)
            response = (outcome.respond or default_respond)(results)
            status = response.status
            return response
        except ChannelError as exc:
            status, error = exc.status, exc.reason
            metrics.count(channel, "rejected_auth" if exc.kind == "auth" else "rejected_invalid")
            doc: dict[str, Any] = {"error": exc.reason}
            if exc.details is not None:
                doc["details"] = exc.details
            return web.json_response(doc, status=exc.status)
        except Exception as exc:  # a parser bug: keep the request, flag it, do not make the provider loop
            error = f"parser failure: {type(exc).__name__}"
            log.exception("endpoint.parser_failure", channel=channel, error=type(exc).__name__)
            try:
                await ctx.redis.xadd(keys.QUARANTINE_STREAM, quarantine_fields(  # type: ignore[arg-type]
                    channel, f"{type(exc).__name__}: {exc}", locals().get("body", b""),
                    request.content_type), maxlen=100_000, approximate=True)
            except REDIS_ERRORS:
                status = 503
                return web.json_response({"error": "temporarily unavailable, retry"}, status=503)
            metrics.count(channel, "quarantined")
            status = 202
            return web.json_response({"status": "quarantined"}, status=202)
        finally:
            ctx.channel_log.record(channel, status=status, latency_ms=(time.perf_counter() - t0) * 1000,
                                   method=request.method, path=request.path, error=error, **counts)

    handler.__name__ = f"{channel}_handler"
    return handler
