"""Dispatcher-side Graph calls: Instagram mention text and (optional) attachment bytes."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

from channels.meta.tests.test_flow import IG, PAGE, dm, post
from tests.support.core import wait_for_records


def mention(media_id: str, comment_id: str | None = None) -> dict:
    value = {"media_id": media_id, **({"comment_id": comment_id} if comment_id else {})}
    return {"object": "instagram", "entry": [{"id": IG, "time": int(time.time()),
                                              "changes": [{"field": "mentions", "value": value}]}]}


async def test_mention_text_is_fetched_after_storing(make_gateway, graph, rsync):
    graph.mentions["17890000000000004"] = {"text": "@lapor1708 #rahasia ada pungli di kantor samsat",
                                           "username": "warga_depok", "timestamp": "2026-11-23T01:02:03+0000"}
    graph.media["17900000000000005"] = {"caption": "Jalan rusak parah @lapor1708", "media_type": "IMAGE",
                                        "media_url": "https://scontent.cdninstagram.com/x.jpg",
                                        "username": "warga_bogor",
                                        "timestamp": "2026-11-23T01:00:00+0000"}
    gw = await make_gateway(meta_graph_url=graph.url, meta_page_id=PAGE, meta_ig_user_id=IG)
    await gw.start_worker()
    await post(gw, mention("17900000000000003", "17890000000000004"))
    await post(gw, mention("17900000000000005"))
    records = await asyncio.to_thread(wait_for_records, rsync, 2, 15.0)
    by_key = {rec["idempotency_key"]: rec for rec in records}
    comment = by_key["instagram:17900000000000003:17890000000000004"]
    assert comment["source"]["kind"] == "mention"
    assert comment["body"] == "@lapor1708 ada pungli di kantor samsat" and comment["confidential"] is True
    assert comment["reporter"]["identity"] == "warga_depok" and comment["reporter"]["handle"] == "warga_depok"
    assert comment["source"]["sent_at"] == "2026-11-23T01:02:03.000Z"
    assert comment["reply_to"] is None and "empty_text" not in comment["flags"]
    caption = by_key["instagram:17900000000000005"]
    assert caption["body"] == "Jalan rusak parah @lapor1708" and caption["reporter"]["identity"] == "warga_bogor"
    assert caption["attachments"][0]["kind"] == "image"
    assert sorted(graph.gets) == sorted([
        "mentioned_comment.comment_id(17890000000000004){text,username,timestamp}",
        "mentioned_media.media_id(17900000000000005){caption,media_type,media_url,username,timestamp}"])
    await asyncio.sleep(0.3)
    assert graph.calls == [], "a mention is on someone else's media: no private reply is possible"


async def test_failed_mention_fetch_still_gives_a_record(make_gateway, graph, rsync):
    gw = await make_gateway(meta_graph_url=graph.url, meta_page_id=PAGE, meta_ig_user_id=IG)
    await gw.start_worker()
    await post(gw, mention("17900000000000099", "17890000000000099"))  # Graph does not know it
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 15.0)
    assert rec["source"]["message_ids"] == ["17900000000000099:17890000000000099"]
    assert "empty_text" in rec["flags"] and rec["reporter"]["identity"].startswith("unknown:")


async def test_attachments_are_copied_into_the_blob_store(make_gateway, graph, rsync):
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    graph.files["foto.jpg"] = (photo, "image/jpeg")
    gw = await make_gateway(meta_graph_url=graph.url, meta_page_id=PAGE, meta_fetch_attachments=True,
                            blob_max_bytes=4096 * 3)
    await gw.start_worker()
    doc = dm("m_media_1", "Ini fotonya")
    doc["entry"][0]["messaging"][0]["message"]["attachments"] = [
        {"type": "image", "payload": {"url": f"{graph.root}/cdn/foto.jpg"}},
        {"type": "video", "payload": {"url": f"{graph.root}/cdn/gone.mp4"}}]
    await post(gw, doc)
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 15.0)
    img, vid = rec["attachments"]
    sha = hashlib.sha256(photo).hexdigest()
    assert img["sha256"] == sha and img["size"] == len(photo) and img["ref"] == f"sha256:{sha}"
    assert img["mime"] == "image/jpeg" and img["url"].endswith("/cdn/foto.jpg")
    blob = Path(gw.settings.blobs_path) / sha[:2] / sha[2:4] / sha
    assert blob.read_bytes() == photo
    assert vid["sha256"] is None and vid["url"].endswith("/cdn/gone.mp4"), "a failed fetch keeps the URL"


async def test_attachment_over_the_cap_is_not_fetched(make_gateway, graph, rsync):
    graph.files["big.jpg"] = (b"\x01" * 5000, "image/jpeg")
    gw = await make_gateway(meta_graph_url=graph.url, meta_page_id=PAGE, meta_fetch_attachments=True,
                            blob_max_bytes=2048)
    await gw.start_worker()
    doc = dm("m_media_2", "Foto besar")
    doc["entry"][0]["messaging"][0]["message"]["attachments"] = [
        {"type": "image", "payload": {"url": f"{graph.root}/cdn/big.jpg"}}]
    await post(gw, doc)
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 15.0)
    assert rec["attachments"][0]["sha256"] is None and rec["attachments"][0]["url"].endswith("/cdn/big.jpg")
    assert not Path(gw.settings.blobs_path).exists() or not any(Path(gw.settings.blobs_path).rglob("*"))
