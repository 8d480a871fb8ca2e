"""SSRF end to end: attachment URLs chosen by a sender never make the worker reach other hosts.

A Messenger DM (correctly signed: any Page visitor can send one) names an internal service, the
cloud metadata address and a non-https link next to a real CDN attachment. The dispatcher's
enricher copies the CDN file and leaves the others as URLs, and the internal service sees nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest

from channels.meta.tests.test_flow import PAGE, dm, post
from tests.support.core import wait_for_records
from tests.test_media_fetch import Cdn


@pytest.fixture
async def internal() -> AsyncIterator[Cdn]:
    c = await Cdn().start()
    yield c
    await c.stop()


async def test_payload_urls_outside_meta_media_hosts_are_not_fetched(make_gateway, graph, internal, rsync):
    photo = b"\xff\xd8\xff\xe0" + b"p" * 500
    graph.files["foto.jpg"] = (photo, "image/jpeg")
    gw = await make_gateway(meta_graph_url=graph.url, meta_page_id=PAGE, meta_fetch_attachments=True)
    await gw.start_worker()
    doc = dm("m_ssrf_1", "Lihat lampiran")
    hostile = [f"{internal.url}/admin/api/dead", "http://169.254.169.254/latest/meta-data/",
               "https://fbcdn.net@127.0.0.1/x", "https://evil.example/x.jpg"]
    doc["entry"][0]["messaging"][0]["message"]["attachments"] = (
        [{"type": "image", "payload": {"url": f"{graph.root}/cdn/foto.jpg"}}]
        + [{"type": "fallback", "payload": {"url": u}} for u in hostile])
    await post(gw, doc)
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 15.0)
    first, *others = rec["attachments"]
    assert first["sha256"] == hashlib.sha256(photo).hexdigest()
    assert len(others) == len(hostile)
    assert all(a["sha256"] is None and a["ref"] is None for a in others)
    assert internal.hits == []
