"""End to end: signed notification → intake → dispatcher (media fetched, follow-ups linked) →
schema-valid record in the core queue → acknowledgement through the fake Cloud API."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import pytest

from channels.whatsapp.inbound import PATH
from gateway.blobs import FileBlobStore
from tests.support.core import wait_for_records
from tests.support.fixtures import TOKENS
from tests.support.hub_webhook import post_signed

RINA = "6281298765432"
PHONE_ID = TOKENS["whatsapp_phone_number_id"]
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


def notification(wamid: str, kind: str = "text", obj: Any = None, **extra: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"from": RINA, "id": wamid, "timestamp": str(int(time.time())), "type": kind,
                         kind: obj if obj is not None else {"body": "Jalan berlubang di depan SDN 3 Bekasi."}}
    m.update(extra)
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
        {"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "6281117081708", "phone_number_id": PHONE_ID},
            "contacts": [{"profile": {"name": "Rina"}, "wa_id": RINA}], "messages": [m]}}]}]}


async def post(gw: Any, doc: dict[str, Any]) -> None:
    await post_signed(gw, PATH, TOKENS["whatsapp_app_secret"], doc)


@pytest.fixture
async def wa(make_gateway, api) -> Any:
    gw = await make_gateway(whatsapp_graph_url=api.url)
    await gw.start_worker()
    return gw


async def records(rsync, n: int) -> list[dict[str, Any]]:
    return await asyncio.to_thread(wait_for_records, rsync, n, 15.0)


async def test_text_becomes_a_record_and_the_ack_quotes_it(wa, api, rsync):
    await post(wa, notification("wamid.FLOW0001"))
    (rec,) = await records(rsync, 1)
    assert rec["channel"] == "whatsapp" and rec["idempotency_key"] == "whatsapp:wamid.FLOW0001"
    assert rec["reporter"]["identity_kind"] == "whatsapp" and rec["reporter"]["identity"] == RINA
    assert rec["reporter"]["msisdn"] == "+" + RINA and rec["reporter"]["display_name"] == "Rina"
    assert rec["source"]["provider"] == "whatsapp-cloud" and rec["source"]["kind"] == "message"
    assert rec["reply_to"] == {"channel": "whatsapp", "address": RINA, "thread": None, "private": True}
    (ack,) = await api.wait_calls(1)
    assert ack["to"] == RINA and ack["context"] == {"message_id": "wamid.FLOW0001"}
    assert "LPR-" in ack["text"]["body"] and api.rejected == []


async def test_reply_quoting_our_ack_is_a_follow_up_of_that_record(wa, api, rsync):
    await post(wa, notification("wamid.FLOW0002"))
    (first,) = await records(rsync, 1)
    await api.wait_calls(1)
    await asyncio.sleep(0.3)  # the sender writes the wamid → record link right after the API's answer
    await post(wa, notification("wamid.FLOW0003", obj={"body": "Sampai hari ini belum diperbaiki."},
                                context={"from": "6281117081708", "id": "wamid.SENT0001"}))
    recs = await records(rsync, 2)
    second = next(r for r in recs if r["id"] != first["id"])
    assert "follow_up" in second["flags"]
    assert second["conversation"]["in_reply_to"] == first["id"]
    assert second["source"]["parent_message_id"] == "wamid.SENT0001"


async def test_media_is_fetched_at_once_into_the_blob_store(wa, api, rsync):
    api.media["7710001"] = (JPEG, "image/jpeg")
    await post(wa, notification("wamid.FLOW0004", "image", {"id": "7710001", "mime_type": "image/jpeg",
                                                            "sha256": "x", "caption": "Fotonya"}))
    (rec,) = await records(rsync, 1)
    (att,) = rec["attachments"]
    assert att["sha256"] == hashlib.sha256(JPEG).hexdigest() and att["size"] == len(JPEG)
    assert att["ref"] == f"sha256:{att['sha256']}" and att["mime"] == "image/jpeg"
    blobs = FileBlobStore(wa.settings.blobs_path, wa.settings.blob_max_bytes)
    assert await blobs.get(att["ref"]) == JPEG
    assert api.lookups == ["7710001"]
    assert api.media_gets == [("/media/7710001", True)]  # the download carried the token


async def test_media_fetch_failure_keeps_the_record_with_the_media_id(wa, api, rsync):
    await post(wa, notification("wamid.FLOW0005", "audio", {"id": "7710404", "mime_type": "audio/ogg",
                                                            "voice": True}))
    (rec,) = await records(rsync, 1)
    (att,) = rec["attachments"]
    assert att["url"] == "7710404" and att["ref"] is None and att["sha256"] is None
    assert "media_only" in rec["flags"]


async def test_media_over_the_cap_is_not_kept(make_gateway, api, rsync):
    api.media["7710002"] = (b"x" * 4096, "video/mp4")
    gw = await make_gateway(whatsapp_graph_url=api.url, blob_max_bytes=1024)
    await gw.start_worker()
    await post(gw, notification("wamid.FLOW0006", "video", {"id": "7710002", "mime_type": "video/mp4"}))
    (rec,) = await records(rsync, 1)
    assert rec["attachments"][0]["ref"] is None and rec["attachments"][0]["url"] == "7710002"
    assert api.media_gets == []  # the declared size was enough to refuse it


async def test_media_url_outside_metas_hosts_is_not_fetched(wa, api, rsync):
    api.media["7710003"] = (JPEG, "image/jpeg")
    api.urls["7710003"] = "http://127.0.0.2:9/steal"  # not Meta's, not the configured Graph origin
    await post(wa, notification("wamid.FLOW0007", "image", {"id": "7710003", "mime_type": "image/jpeg"}))
    (rec,) = await records(rsync, 1)
    assert rec["attachments"][0]["url"] == "7710003" and rec["attachments"][0]["ref"] is None
    assert api.media_gets == []


async def test_a_media_id_that_is_not_one_is_never_requested(wa, api, rsync):
    await post(wa, notification("wamid.FLOW0008", "image", {"id": "../../me/messages", "mime_type": "image/jpeg"}))
    (rec,) = await records(rsync, 1)
    assert rec["attachments"][0]["url"] == "../../me/messages" and rec["attachments"][0]["ref"] is None
    assert api.lookups == [] and api.media_gets == []
