"""Helpers for the tests of Meta-signed webhooks (Messenger/Instagram and WhatsApp).

Both channels sign the raw body with the app secret into ``X-Hub-Signature-256`` and are tested
with the same table of fixture cases and the same signed post."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from channels.core.verify import hmac_hex
from tests.support.harness import Case

JSON = {"Content-Type": "application/json"}


def hub_signed(secret: str) -> Callable[[bytes], dict[str, str]]:
    """The header Meta sends with ``body`` (the harness's ``sign=`` hook)."""
    return lambda body: {"X-Hub-Signature-256": hmac_hex(secret, body)}


def fixture_cases(path: str, signed: Callable[[bytes], dict[str, str]]) -> Callable[..., Case]:
    """``fx(name, status, messages, **kw)``: a signed case posting the fixture file ``name``."""

    def fx(name: str, status: int = 200, messages: list[dict] | None = None, **kw: Any) -> Case:
        return Case(name.removesuffix(".json"), path, headers=JSON, fixture=name, sign=signed, status=status,
                    messages=messages or [], **kw)

    return fx


async def post_signed(gw: Any, path: str, secret: str, doc: dict[str, Any]) -> bytes:
    """Post ``doc`` signed with ``secret``; the webhook must answer 200. Returns the answer's body."""
    body = json.dumps(doc, separators=(",", ":")).encode()
    status, resp, _h = await gw.post(path, data=body, headers={**JSON, **hub_signed(secret)(body)})
    assert status == 200, resp
    return resp
