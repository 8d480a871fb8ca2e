"""One wrapper for every channel handler: credentials, limits, errors, ingest, answer, channel log.

Adapters stay small and alike because everything that is the same for all providers lives here:
a credential carried in headers/query is checked before the body is read; the body — inflated
size included, for ``Content-Encoding: gzip/deflate`` — is read in bounded chunks and refused with
413 as soon as it passes the endpoint's limit; adapter errors map to 4xx; the provider's success
answer is built only after ingest has stored every message of the batch; an unexpected parser
failure stores the raw request in ``lapor:quarantine`` (202) rather than dropping it or answering
500 (which would make the provider retry forever). A refusal (``ChannelError``) never goes there.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError

from channels.core.inbound import (
    BadRequest,
    ChannelError,
    ChannelRequest,
    Endpoint,
    ParseOutcome,
    PayloadTooLarge,
    default_respond,
    record_respond,
)
from channels.core.ingest import REDIS_ERRORS, Accepted, IntakeUnavailable, tally
from gateway import metrics
from gateway.context import ctx_of
from gateway.logging import get_logger

__all__ = ["body_limit", "default_respond", "read_body", "record_respond", "wrap"]

log = get_logger("gateway.endpoint")
CHUNK = 64 * 1024


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body as the adapter sees it (inflated if the client compressed it), at most ``limit`` bytes.

    aiohttp inflates ``Content-Encoding`` in bounded steps as we read, so a compression bomb costs
    at most ``limit`` + one chunk of memory before it is refused.
    """
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(f"body of {length} bytes exceeds {limit}")
    if length is not None and hdrs.CONTENT_ENCODING not in request.headers:
        # the common case: the exact size is known and within the limit, nothing to inflate
        try:
            return await request.content.readexactly(length)
        except (HttpProcessingError, web.RequestPayloadError, asyncio.IncompleteReadError) as exc:
            raise BadRequest(f"unreadable body: {type(exc).__name__}") from None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"body exceeds {limit} bytes")
            chunks.append(chunk)
    except (HttpProcessingError, web.RequestPayloadError) as exc:  # broken gzip/deflate, bad chunking
        raise BadRequest(f"unreadable body: {type(exc).__name__}") from None
    return b"".join(chunks)


def body_limit(endpoint: Endpoint, settings: Any) -> int:
    """The endpoint's own limit, a limit named by a settings field, or the default."""
    if isinstance(endpoint.max_body, str):
        return int(getattr(settings, endpoint.max_body))
    return endpoint.max_body or settings.max_body_bytes


def wrap(endpoint: Endpoint) -> Any:
    """Turn an adapter ``Endpoint`` into an aiohttp handler."""
    channel = endpoint.channel

    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = ctx_of(request.app)
        ingest = ctx.ingest
        t0 = time.perf_counter()
        limit = body_limit(endpoint, ctx.settings)
        status: int = 500
        error: str | None = None
        counts: dict[str, int] = {}
        body = b""
        try:
            auth = endpoint.authenticate
            req = ChannelRequest(request, b"", ctx.settings)
            if auth is not None and auth.before_body:
                auth(req)
            if request.body_exists:
                req.body = body = await read_body(request, limit)
            if auth is not None and not auth.before_body:
                auth(req)
            outcome: ParseOutcome = await endpoint.parse(req)
            if outcome.response is not None:
                status = outcome.response.status
                return outcome.response
            ingest.skipped(channel, outcome.skipped)
            counts.update({f"skipped_{reason}": n for reason, n in outcome.skipped.items()})
            results: list[Accepted] = []
            if outcome.messages:
                try:
                    results = await ingest.store(channel, outcome.messages, started=t0)
                except IntakeUnavailable as exc:
                    status, error = 503, str(exc)
                    return web.json_response({"error": "temporarily unavailable, retry"}, status=503,
                                             headers={"Retry-After": "5"})
                counts.update(tally(results))
            if outcome.statuses:  # delivery reports: recorded before the provider hears 2xx
                try:
                    counts.update(await ingest.statuses(channel, outcome.statuses))
                except IntakeUnavailable as exc:
                    if not outcome.messages:  # reports alone: the provider retries them (no spool)
                        status, error = 503, str(exc)
                        return web.json_response({"error": "temporarily unavailable, retry"}, status=503,
                                                 headers={"Retry-After": "5"})
                    # with complaints in the same request the complaints' guarantee wins: they are
                    # stored (or spooled) and answered; the reports are lost, and counted
                    counts["status_lost"] = len(outcome.statuses)
                    metrics.count(channel, "status_lost", len(outcome.statuses))
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
                await ingest.quarantine(channel, f"{type(exc).__name__}: {exc}", body, request.content_type)
            except REDIS_ERRORS:
                status = 503
                return web.json_response({"error": "temporarily unavailable, retry"}, status=503)
            status = 202
            return web.json_response({"status": "quarantined"}, status=202)
        finally:
            ingest.log(channel, status=status, started=t0, method=request.method, path=request.path,
                       error=error, **counts)

    handler.__name__ = f"{channel}_handler"
    return handler
