"""Contract v1 additive fields, end to end through the real app and dispatcher (records validated
against the shipped schema by ``wait_for_records``): provider names, ``conversation.in_reply_to``
always a record id, ``source.parent_message_id`` for the provider's parent, and the flags
``sender_unparsable``, ``edited`` and ``public_confidential_request`` where they apply."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from channels.email.hooks import thread_key
from channels.meta.tests.test_flow import feed_comment
from channels.meta.tests.test_flow import post as meta_post
from channels.sms.tests.test_kannel import get_url
from normalizer.contract import schema
from normalizer.models import InboundMessage, Sender
from normalizer.normalize import NormalizeContext, normalize
from tests.support.core import wait_for_records

EMAIL = Path(__file__).resolve().parents[1] / "channels" / "email" / "fixtures"
AUTH = {"Authorization": "Bearer test-email-token", "Content-Type": "message/rfc822"}
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def _mail(message_id: str, in_reply_to: str | None, text: str) -> bytes:
    head = (f"From: Budi Santoso <budi.santoso@gmail.com>\r\nTo: pengaduan@lapor.go.id\r\n"
            f"Subject: Re: Jalan rusak\r\nMessage-ID: <{message_id}>\r\nDate: Mon, 1 Dec 2025 10:00:00 +0700\r\n")
    if in_reply_to:
        head += f"In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n"
    return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n").encode()


async def records(rsync: Any, n: int) -> list[dict[str, Any]]:
    recs = await asyncio.to_thread(wait_for_records, rsync, n, 15.0)
    assert len(recs) == n
    for rec in recs:
        in_reply_to = (rec["conversation"] or {}).get("in_reply_to")
        assert in_reply_to is None or ULID.match(in_reply_to), f"in_reply_to {in_reply_to!r} is no record id"
    return recs


def test_shipped_schema_knows_the_v1_additions() -> None:
    s = schema()
    assert "parent_message_id" in s["properties"]["source"]["properties"]
    flags = set(s["properties"]["flags"]["items"]["enum"])
    assert {"sender_unparsable", "edited", "public_confidential_request"} <= flags
    assert "http-mime" in s["properties"]["source"]["properties"]["provider"]["description"]


async def test_raw_mime_records_say_http_mime_and_email_parents_are_parent_message_ids(gateway, rsync, r):
    await gateway.start_worker(senders={})
    status, _b, _h = await gateway.post("/channels/email/inbound", data=_mail("first@mail.id", None, "Jalan rusak"),
                                        headers=AUTH)
    assert status == 202
    (first,) = await records(rsync, 1)
    assert first["source"]["provider"] == "http-mime"
    assert first["conversation"]["in_reply_to"] is None and first["source"].get("parent_message_id") is None

    # a reply to someone else's mail: the parent is the mail's, no record of ours is named
    await gateway.post("/channels/email/inbound", data=_mail("second@mail.id", "elsewhere@mail.id", "Masih rusak"),
                       headers=AUTH)
    # a reply to our acknowledgement of the first record: linked to that record
    await r.set(thread_key("ack.first@lapor.go.id"), first["id"])
    await gateway.post("/channels/email/inbound", data=_mail("third@mail.id", "ack.first@lapor.go.id", "Tambahan"),
                       headers=AUTH)
    _first, other, follow = await records(rsync, 3)
    assert other["conversation"]["in_reply_to"] is None and "follow_up" not in other["flags"]
    assert other["source"]["parent_message_id"] == "elsewhere@mail.id"
    assert follow["conversation"]["in_reply_to"] == first["id"] and "follow_up" in follow["flags"]
    assert follow["source"]["parent_message_id"] == "ack.first@lapor.go.id"


async def test_sms_from_an_alphanumeric_sender_is_flagged_sender_unparsable(gateway, rsync):
    await gateway.start_worker(senders={})
    status, _b, _h = await gateway.get(get_url(kid="k-v1-alpha", frm="TELKOMSEL"))
    assert status == 202
    status, _b, _h = await gateway.get(get_url(kid="k-v1-number", frm="081234567890", data=b"Jalan+berlubang"))
    (alpha, number) = sorted(await records(rsync, 2), key=lambda rec: rec["reporter"]["identity"] != "TELKOMSEL")
    assert "sender_unparsable" in alpha["flags"] and "possible_spam" not in alpha["flags"]
    assert "sender_unparsable" not in number["flags"]


async def test_meta_public_rahasia_and_edits(gateway, rsync):
    await gateway.start_worker(senders={})
    cid = "101010101010101_919191"
    await meta_post(gateway, feed_comment("101010101010101_929292", "#rahasia Kepala desa minta uang Rp500.000."))
    await meta_post(gateway, feed_comment(cid, "Lampu jalan mati"))
    secret, plain = await records(rsync, 2)
    assert secret["confidential"] is True and "public_confidential_request" in secret["flags"]
    assert "public_confidential_request" not in plain["flags"]
    await meta_post(gateway, feed_comment(cid, "Lampu jalan mati sejak seminggu", verb="edited"))
    *_, edit = await records(rsync, 3)
    assert edit["flags"] == ["edited"] and edit["conversation"]["in_reply_to"] == plain["id"]
    assert edit["body"] == "Lampu jalan mati sejak seminggu" and edit["reply_to"] is None


def test_a_provider_id_never_becomes_in_reply_to() -> None:
    """Entries stored before the field existed carried the provider's parent in conversation.in_reply_to:
    it moves to source.parent_message_id; a record id there (or from a preprocessor) stays."""
    def msg(in_reply_to: str | None) -> InboundMessage:
        m = InboundMessage.model_validate({
            "channel": "twitter", "provider": "x-webhook", "kind": "reply", "native_id": "1992000000000000102",
            "sender": Sender(kind="twitter", id="42").model_dump(), "text": "Masih rusak",
            "conversation": {"thread_id": "t", "in_reply_to": in_reply_to}})
        m.stamp("01JDAAAAAAAAAAAAAAAAAAAAAB", datetime(2025, 12, 1, tzinfo=UTC))
        return m

    legacy = normalize([msg("1992000000000000101")])
    assert legacy.conversation is not None and legacy.conversation.in_reply_to is None
    assert legacy.source.parent_message_id == "1992000000000000101"
    linked = normalize([msg(None)], NormalizeContext(in_reply_to="01JDAAAAAAAAAAAAAAAAAAAAAA"))
    assert linked.conversation is not None and linked.conversation.in_reply_to == "01JDAAAAAAAAAAAAAAAAAAAAAA"
    assert linked.source.parent_message_id is None
