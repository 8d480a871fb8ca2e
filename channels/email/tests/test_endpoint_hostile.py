"""The raw MIME endpoint after a pathological mail: each 1 MB construction of ``pathological.MAILS``
is answered (stored, never quarantined) and a normal mail posted right after it is ingested.

``test_pathological`` proves each construction linear in work; this proves the HTTP path does not
stall or drop the next message behind it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from channels.email.tests.pathological import MAILS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PATH = "/channels/email/inbound"
AUTH = {"Authorization": "Bearer test-email-token", "Content-Type": "message/rfc822"}
MB = 1024 * 1024


async def _entries(r: Any) -> list[dict[str, Any]]:
    return [orjson.loads(fields[b"msg"]) for _id, fields in await r.xrange("lapor:inbound")]


@pytest.mark.parametrize("name", list(MAILS))
async def test_one_megabyte_pathological_mail_then_a_normal_one(gateway, r, name):
    hostile = MAILS[name](MB).replace(b"<patho@example.id>", f"<patho-{len(name)}-{hash(name)}@x.id>".encode())
    assert len(hostile) >= MB * 0.9 or name == "deeply nested multiparts"
    status, body, _h = await gateway.post(PATH, data=hostile, headers=AUTH, timeout=None)
    assert status == 202, body[:300]
    status, body, _h = await gateway.post(PATH, data=(FIXTURES / "citizen-plain.eml").read_bytes(), headers=AUTH)
    assert status == 202, body[:300]
    stored = await _entries(r)
    assert len(stored) == 2
    assert stored[1]["sender"]["email"] == "budi.santoso@gmail.com" and stored[1]["provider"] == "http-mime"
    assert await r.xlen("lapor:quarantine") == 0
