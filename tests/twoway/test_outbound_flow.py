"""The outbound API and the core-message worker end to end: the real app over sockets, a real
redis-server, the dispatcher writing routes, and the loopback fake Kannel ``sendsms``."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from typing import Any

import orjson
import pytest
import redis

from channels.core.reference import reference
from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_outbound import FakeSmsApi
from tests.support.core import wait_for_records
from tests.twoway.support import AUTH, OUT_TOKEN, _async, dlr_parts, outbound, sms_record, status_jobs


def core_texts(api: FakeSmsApi, marker: str) -> list[dict[str, str]]:
    return [q for q in api.kannel if marker in q["text"]]


async def test_posted_message_reaches_the_citizen_and_statuses_arrive(twoway: Any, api: FakeSmsApi,
                                                                      rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    assert rsync.get(f"lapor:route:{rid}") is not None  # written with the core job
    assert 0 < rsync.ttl(f"lapor:route:{rid}") <= 180 * 86400
    doc = outbound("msg-1", rid, text="Laporan Anda sudah diteruskan ke Dinas PU Kab. Bogor.")
    status, body, _ = await twoway.post("/outbound/messages", json=doc, headers=AUTH)
    assert status == 202 and orjson.loads(body) == {"id": "msg-1", "status": "queued"}
    sent = await eventually(lambda: _async(core_texts(api, "Dinas PU")))
    assert sent[0]["to"] == "081234567890".lstrip("+") or sent[0]["to"].endswith("81234567890")
    await eventually(lambda: _async(len(status_jobs(rsync)) >= 2))
    jobs = status_jobs(rsync)
    assert [j for j, _ in jobs] == ["msg-1-queued", "msg-1-sent"]
    assert all(d["record_id"] == rid and d["kind"] == "status" and d["channel"] == "sms" for _, d in jobs)
    status, body, _ = await twoway.get("/outbound/messages/msg-1", headers=AUTH)
    view = orjson.loads(body)
    assert status == 200 and view["status"] == "sent" and view["record_id"] == rid and view["parts"] == 1
    assert [h["status"] for h in view["history"]] == ["queued", "sent"]
    assert view["truncated"] is False and view["public_notice"] is False and view["kind"] == "status"


async def test_same_id_five_times_sends_once(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    doc = outbound("msg-dup", rid, text="Satu kali saja dikirim.")
    answers = [await twoway.post("/outbound/messages", json=doc, headers=AUTH) for _ in range(5)]
    assert [a[0] for a in answers] == [202, 200, 200, 200, 200]
    await eventually(lambda: _async(rsync.hget("lapor:out:msg-dup", "status") == b"sent"))
    # concurrent repeats after sending: still nothing new
    again = await asyncio.gather(*(twoway.post("/outbound/messages", json=doc, headers=AUTH) for _ in range(5)))
    assert {a[0] for a in again} == {200} and {orjson.loads(a[1])["status"] for a in again} == {"sent"}
    await asyncio.sleep(1.0)
    assert len(core_texts(api, "Satu kali")) == 1
    assert [j for j, _ in status_jobs(rsync)] == ["msg-dup-queued", "msg-dup-sent"]


async def test_long_sms_is_fitted_and_gzip_body_accepted(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    text = "Tindak lanjut laporan: " + "perbaikan jalan akan dilakukan bulan depan oleh dinas. " * 27
    assert len(text) > 1400
    body = gzip.compress(orjson.dumps(outbound("msg-long", rid, text=text, kind="answer")))
    status, _, _ = await twoway.post("/outbound/messages", data=body,
                                     headers={**AUTH, "Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert status == 202
    await eventually(lambda: _async(core_texts(api, "Tindak lanjut")))
    sent = await eventually(lambda: _async(dlr_parts(api.kannel, "msg-long")))
    whole = "".join(q["text"] for q in sent)  # one sendsms per part, each with its UDH and dlr-url
    assert len(sent) <= 4 and whole.endswith(reference(rid)) and len(whole) <= 4 * 153
    await eventually(lambda: _async(len(status_jobs(rsync)) >= 2))
    sent_status = status_jobs(rsync)[-1][1]
    assert sent_status["truncated"] is True and sent_status["parts"] == 4


async def raw_post(gw: Any, path: str, auth: bytes, body: bytes) -> int:
    """POST with an Authorization header of arbitrary bytes, written on the socket as they are."""
    host, port = gw.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + b"Authorization: " + auth + b"\r\nContent-Length: " + str(len(body)).encode()
                 + b"\r\nConnection: close\r\n\r\n" + body)
    await writer.drain()
    head = await reader.readline()
    writer.close()
    return int(head.split()[1])


@pytest.mark.parametrize("auth,expected", [
    (None, 401),
    (b"", 401),
    (b"Bearer wrong", 403),
    (b"Basic dGVzdA==", 403),
    (b"Bearer \xff\xfe\x80\xc3", 403),
    (b"Bearer " + OUT_TOKEN.encode() + b"\xff", 403),
    (b"Bearer " + OUT_TOKEN.encode()[:-1], 403),
])
async def test_bad_credentials_store_nothing(twoway: Any, rsync: redis.Redis, auth: bytes | None,
                                             expected: int) -> None:
    body = orjson.dumps(outbound("msg-auth", "01JD0000000000000000000000"))
    if auth is None:
        status, _, _ = await twoway.post("/outbound/messages", data=body)
    else:
        status = await raw_post(twoway, "/outbound/messages", auth, body)
    assert status == expected
    assert rsync.exists("lapor:out:msg-auth") == 0 and rsync.xlen("lapor:outbound") == 0
    assert status_jobs(rsync) == []
    if auth:
        status, _, _ = await twoway.get("/outbound/messages/msg-auth",
                                        headers={"Authorization": auth.decode("latin-1")})
        assert status == expected


async def test_disabled_without_token(make_gateway: Callable[..., Any], rsync: redis.Redis) -> None:
    gw = await make_gateway()
    status, body, _ = await gw.post("/outbound/messages", json=outbound("m", "r"), headers=AUTH)
    assert status == 403 and b"disabled" in body


async def test_bad_input_answers_and_sends_nothing(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    await eventually(lambda: _async(api.kannel))  # the record's acknowledgement is out
    before = len(api.kannel)
    cases: list[tuple[Any, int]] = [
        (b"{not json", 400),
        (b"[1,2]", 400),
        (orjson.dumps({"schema": "lapor.outbound/1", "id": "bad id!", "record_id": rid, "kind": "gossip",
                       "text": ""}), 400),
        (orjson.dumps(outbound("msg-404", "01JDUNKNOWN000000000000000")), 404),
        (orjson.dumps(outbound("msg-422", rid, reply_to={"channel": "line", "address": "62812",
                                                          "private": True})), 422),
    ]
    for body, expected in cases:
        status, answer, _ = await twoway.post("/outbound/messages", data=body,
                                              headers={**AUTH, "Content-Type": "application/json"})
        assert status == expected, (body, answer)
        if expected == 400 and body.startswith(b'{"schema"'):
            fields = {e["field"] for e in orjson.loads(answer)["details"]}
            assert {"id", "kind", "text"} <= fields
        if expected == 422:
            assert orjson.loads(answer)["error"] == "no_route"
    assert rsync.exists("lapor:out:msg-404", "lapor:out:msg-422") == 0
    status, _, _ = await twoway.get("/outbound/messages/msg-404", headers=AUTH)
    assert status == 404
    await asyncio.sleep(0.5)
    assert len(api.kannel) == before
    assert status_jobs(rsync) == []


async def test_record_without_reply_to_is_no_route(twoway: Any, rsync: redis.Redis) -> None:
    status, body, _ = await twoway.post("/channels/http/complaints", json={
        "id": "agency-1", "text": "Jalan rusak", "reporter": {"id": "agency-user-9"}},
        headers={"Authorization": "Bearer test-http-token"})
    assert status == 202
    rid = orjson.loads(body)["id"]
    await asyncio.to_thread(wait_for_records, rsync, 1)
    route = orjson.loads(rsync.get(f"lapor:route:{rid}") or b"{}")
    if route.get("reply_to"):
        pytest.skip("api records carry a reply_to in this build")
    status, body, _ = await twoway.post("/outbound/messages", json=outbound("msg-nr", rid), headers=AUTH)
    assert status == 422 and orjson.loads(body)["error"] == "no_route"




async def test_concurrent_posts_are_group_committed(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    """30 concurrent POSTs (new, a duplicate pair, an unknown record) cost fewer store batches than
    requests, and each gets its own answer."""
    from gateway.outbound_api import api_of

    rid = await sms_record(twoway, rsync)
    committer = api_of(twoway.runner.app).committer
    before = committer.batches
    docs = [outbound(f"gc-{i}", rid, text=f"Pesan kelompok {i}.") for i in range(28)]
    docs += [docs[0], outbound("gc-unknown", "LPR-NOPE-NOPE", text="Tidak ada.")]
    answers = await asyncio.gather(*(twoway.post("/outbound/messages", json=d, headers=AUTH) for d in docs))
    codes = [a[0] for a in answers]
    assert codes[28] in (200, 202) and codes[:29].count(202) == 28
    assert codes[29] == 404
    assert all(orjson.loads(a[1])["id"] == d["id"] for a, d in zip(answers[:29], docs[:29], strict=True))
    assert all(rsync.hget(f"lapor:out:gc-{i}", "status") is not None for i in range(28))
    assert rsync.exists("lapor:out:gc-unknown") == 0
    assert committer.batches - before < len(docs)
