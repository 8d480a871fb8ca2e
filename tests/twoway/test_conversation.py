"""Hold-and-ask and reply linking end to end: the real app over sockets, a real redis-server, the
dispatcher and acknowledgement workers, the loopback fake Kannel ``sendsms`` and fake Bot API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote_plus

import orjson
import pytest
import redis

from channels.core.reference import question_text, reference
from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_kannel import get_url
from channels.sms.tests.test_outbound import FakeSmsApi, routes
from channels.telegram.tests.conftest import CHAT, SECRET_HEADERS, T0, WEBHOOK, location, text
from channels.telegram.tests.fake_bot_api import FakeBotApi
from dispatcher.delivery import StatusEngine, status_queue
from tests.support.core import core_records, wait_for_records
from tests.support.fixtures import TOKENS
from tests.twoway.support import AUTH, OUT_TOKEN, _async, core_worker, outbound, status_jobs

PLACELESS = "Jalan rusak parah banyak lubang besar membahayakan pengendara motor"
ANSWER = "Jl. Raya Cibinong, Kec. Cibinong, Kab. Bogor"
COMPLETE = "Lampu penerangan jalan umum mati total sejak seminggu di Jl. Merdeka, Kota Bandung"
_kids = iter(range(10_000))


async def sms(gw: Any, body: str, frm: str = "081234567890") -> None:
    status, _, _ = await gw.get(get_url(kid=f"conv-{next(_kids)}", frm=frm, data=quote_plus(body).encode()))
    assert status in (200, 202)


def held_ids(rsync: redis.Redis) -> list[str]:
    return [x.decode() for x in rsync.zrange("lapor:held:due", 0, -1)]


def texts_to(api: FakeSmsApi, number: str = "6281234567890") -> list[str]:
    return [q["text"] for q in api.kannel if q["to"].lstrip("+").endswith(number[-10:])]


async def hold_one(gw: Any, api: FakeSmsApi, rsync: redis.Redis, body: str = PLACELESS) -> str:
    """A place-less SMS complaint: held, one question with its reference, nothing in the core."""
    await sms(gw, body)
    [rid] = await eventually(lambda: _async(held_ids(rsync)))
    question = question_text(reference(rid), short=True)
    await eventually(lambda: _async(question in texts_to(api)))
    assert len(question) <= 160 and question.isascii()
    assert rsync.llen("rq:queue:lapor-core") == 0
    return rid


@pytest.fixture
async def tg_api() -> AsyncIterator[FakeBotApi]:
    fake = await FakeBotApi(token=TOKENS["telegram_bot_token"]).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def asking(make_gateway: Callable[..., Any], api: FakeSmsApi) -> Any:
    gw = await make_gateway(completeness_wait_s=60, **routes(api))
    await gw.start_worker()
    return gw


async def test_placeless_sms_is_held_asked_once_then_merged_with_the_answer(asking: Any, api: FakeSmsApi,
                                                                           rsync: redis.Redis) -> None:
    rid = await hold_one(asking, api, rsync)
    await asyncio.sleep(0.5)
    assert rsync.llen("rq:queue:lapor-core") == 0  # still held
    await sms(asking, ANSWER)
    [rec] = await asyncio.to_thread(wait_for_records, rsync, 1)
    assert rec["id"] == rid
    assert rec["body"] == f"{PLACELESS}\n\n{ANSWER}"
    assert rec["location"]["regency"] == "Kabupaten Bogor" and rec["location"]["district"] == "Cibinong"
    assert rec["completeness"]["answered"] is True and rec["completeness"]["asked"] == ["location"]
    assert "location" not in rec["completeness"]["missing"] and "incomplete" not in rec["flags"]
    assert len(rec["source"]["message_ids"]) == 2
    await asyncio.sleep(1.0)
    assert len(core_records(rsync)) == 1  # the answer made no record of its own, the record went once
    sent = texts_to(api)
    assert sent == [question_text(reference(rid), short=True)]  # one question, no plain acknowledgement
    assert held_ids(rsync) == [] and not rsync.exists(f"lapor:held:{rid}")
    assert not rsync.exists("lapor:expect:sms:+6281234567890")  # the answer used the reply link up


async def test_no_answer_dispatches_incomplete_and_a_late_answer_is_a_follow_up(
        make_gateway: Callable[..., Any], api: FakeSmsApi, rsync: redis.Redis) -> None:
    gw = await make_gateway(completeness_wait_s=1, **routes(api))
    await gw.start_worker()
    rid = await hold_one(gw, api, rsync)
    [rec] = await asyncio.to_thread(wait_for_records, rsync, 1, 15)
    assert rec["id"] == rid and "incomplete" in rec["flags"]
    assert rec["completeness"] == {"missing": rec["completeness"]["missing"], "asked": ["location"],
                                   "answered": False}
    assert "location" in rec["completeness"]["missing"] and rec["body"] == PLACELESS
    await sms(gw, ANSWER)  # too late: a follow-up of the record, linked to the question
    _, late = await asyncio.to_thread(wait_for_records, rsync, 2)
    assert "follow_up" in late["flags"] and late["body"] == ANSWER
    assert late["conversation"]["in_reply_to"] == rid
    assert late["conversation"]["outbound_id"] == f"question-{rid}"
    await asyncio.sleep(0.5)
    assert held_ids(rsync) == [] and len(core_records(rsync)) == 2


async def test_complete_sms_goes_at_once_with_the_plain_acknowledgement(asking: Any, api: FakeSmsApi,
                                                                       rsync: redis.Redis) -> None:
    await sms(asking, COMPLETE)
    [rec] = await asyncio.to_thread(wait_for_records, rsync, 1)
    assert rec["completeness"]["asked"] == [] and rec["completeness"]["answered"] is None
    sent = await eventually(lambda: _async(texts_to(api)))
    assert reference(rec["id"]) in sent[0] and "Di mana" not in sent[0]
    assert held_ids(rsync) == []


async def test_two_complaints_while_one_is_held_the_answer_goes_to_the_held_one(
        asking: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    rid = await hold_one(asking, api, rsync)
    await sms(asking, COMPLETE)  # a full complaint with its own place: its own record at once, no question
    [other] = await asyncio.to_thread(wait_for_records, rsync, 1)
    assert other["id"] != rid and other["body"] == COMPLETE and "follow_up" not in other["flags"]
    assert held_ids(rsync) == [rid]
    await sms(asking, ANSWER)
    recs = await asyncio.to_thread(wait_for_records, rsync, 2)
    held = next(r for r in recs if r["id"] == rid)
    assert held["body"] == f"{PLACELESS}\n\n{ANSWER}" and held["completeness"]["answered"] is True
    await asyncio.sleep(1.0)
    assert len(core_records(rsync)) == 2 and held_ids(rsync) == []
    assert sum("Di mana" in t for t in texts_to(api)) == 1


async def test_question_statuses_are_reported_under_its_own_id(asking: Any, api: FakeSmsApi,
                                                              rsync: redis.Redis, r: Any) -> None:
    rid = await hold_one(asking, api, rsync)  # the acknowledgement worker reports the question's "sent"
    [(jid, doc)] = await eventually(lambda: _async(status_jobs(rsync, own=True)))
    engine = StatusEngine(r, status_queue(asking.settings), 3600)
    assert await engine.report(f"question-{rid}", "sent", channel="sms") == "stale"  # each status once
    assert jid == f"question-{rid}-sent" and doc["kind"] == "question_completeness" and doc["record_id"] == rid


# ---------------------------------------------------------------------------- reply linking
async def test_reply_to_an_outbound_that_expects_one_is_a_follow_up_only_within_the_window(
        make_gateway: Callable[..., Any], api: FakeSmsApi, rsync: redis.Redis) -> None:
    gw = await make_gateway(outbound_token=OUT_TOKEN, **routes(api))
    await gw.start_worker()
    async with core_worker(gw, strict=True):
        await sms(gw, COMPLETE)
        [first] = await asyncio.to_thread(wait_for_records, rsync, 1)
        doc = outbound("ask-1", first["id"], text="Apakah lampu sudah menyala lagi? Balas YA atau TIDAK.",
                       kind="question", expects_reply=True)
        status, _, _ = await gw.post("/outbound/messages", json=doc, headers=AUTH)
        assert status == 202
        await eventually(lambda: _async(rsync.hget("lapor:out:ask-1", "status") == b"sent"))
        await sms(gw, "Belum pak, masih mati")
        _, reply = await asyncio.to_thread(wait_for_records, rsync, 2)
        assert "follow_up" in reply["flags"]
        assert reply["conversation"]["in_reply_to"] == first["id"]
        assert reply["conversation"]["outbound_id"] == "ask-1"
        await sms(gw, "Ada juga sampah menumpuk di pasar Kota Bandung tidak diangkut sejak minggu lalu")
        third = (await asyncio.to_thread(wait_for_records, rsync, 3))[-1]
        assert "follow_up" not in third["flags"]  # only the next message is the reply
        # a second question, then the window runs out (its end moved into the past)
        doc2 = outbound("ask-2", first["id"], text="Kapan terakhir menyala?", kind="question", expects_reply=True)
        assert (await gw.post("/outbound/messages", json=doc2, headers=AUTH))[0] == 202
        await eventually(lambda: _async(rsync.hget("lapor:out:ask-2", "status") == b"sent"))
        key = "lapor:expect:sms:+6281234567890"
        assert rsync.hget(key, "outbound_id") == b"ask-2"
        assert 71 * 3600 < float(rsync.hget(key, "until") or 0) - time.time() <= 72 * 3600
        rsync.hset(key, "until", "1")
        await sms(gw, "Sudah lama sekali tidak menyala")
        fourth = (await asyncio.to_thread(wait_for_records, rsync, 4))[-1]
        assert "follow_up" not in fourth["flags"] and (fourth["conversation"] or {}).get("in_reply_to") is None


# ---------------------------------------------------------------------------- Telegram
async def test_telegram_question_has_a_location_button_and_a_pin_answers(
        make_gateway: Callable[..., Any], tg_api: FakeBotApi, rsync: redis.Redis) -> None:
    gw = await make_gateway(telegram_api_url=tg_api.url, completeness_wait_s=60)
    await gw.start_worker()
    status, _, _ = await gw.post(WEBHOOK, json=text(501, PLACELESS), headers=SECRET_HEADERS)
    assert status == 200
    [rid] = await eventually(lambda: _async(held_ids(rsync)))
    [call] = await eventually(lambda: _async(tg_api.calls_of("sendMessage")))
    assert reference(rid) in call["text"] and "lokasi" in call["text"]
    markup = orjson.loads(call["reply_markup"])
    assert markup["keyboard"][0][0]["request_location"] is True and markup["one_time_keyboard"] is True
    assert rsync.llen("rq:queue:lapor-core") == 0
    status, _, _ = await gw.post(WEBHOOK, json=location(502, lat=-6.4817, lon=106.8540, date=T0 + 60),
                                 headers=SECRET_HEADERS)
    assert status == 200
    [rec] = await asyncio.to_thread(wait_for_records, rsync, 1)
    assert rec["id"] == rid and (rec["location"]["lat"], rec["location"]["lon"]) == (-6.4817, 106.854)
    assert rec["completeness"]["answered"] is True and "location" not in rec["completeness"]["missing"]
    assert rec["source"]["message_ids"] == [f"{CHAT}:501", f"{CHAT}:502"]
    await asyncio.sleep(1.0)
    assert len(core_records(rsync)) == 1 and len(tg_api.calls_of("sendMessage")) == 1


async def test_telegram_reply_to_our_message_links_natively_without_a_window(
        make_gateway: Callable[..., Any], tg_api: FakeBotApi, rsync: redis.Redis) -> None:
    gw = await make_gateway(telegram_api_url=tg_api.url, outbound_token=OUT_TOKEN)
    await gw.start_worker()
    async with core_worker(gw, strict=True):
        assert (await gw.post(WEBHOOK, json=text(601, COMPLETE), headers=SECRET_HEADERS))[0] == 200
        [first] = await asyncio.to_thread(wait_for_records, rsync, 1)
        doc = outbound("tg-status-1", first["id"], text="Laporan Anda diteruskan ke Dinas PU Kota Bandung.")
        assert (await gw.post("/outbound/messages", json=doc, headers=AUTH))[0] == 202
        await eventually(lambda: _async(rsync.hget("lapor:out:tg-status-1", "status") == b"sent"))
        [ours] = [c for c in tg_api.calls_of("sendMessage") if "Dinas PU" in c["text"]]
        our_id = 9000 + len(tg_api.sent)  # the fake numbers its messages 9001, 9002, ...
        assert any(s.text == ours["text"] for s in tg_api.sent[-1:])
        replied = {"message_id": our_id, "date": T0 + 100, "chat": {"id": CHAT, "type": "private"},
                   "from": {"id": 1, "is_bot": True, "first_name": "LAPOR"}, "text": ours["text"]}
        # a day later (no expects_reply, no window): the Telegram reply itself links it
        u = text(602, "Terima kasih, tapi sampai sekarang belum ada perbaikan", date=T0 + 86_400,
                 reply_to_message=replied)
        assert (await gw.post(WEBHOOK, json=u, headers=SECRET_HEADERS))[0] == 200
        _, reply = await asyncio.to_thread(wait_for_records, rsync, 2)
        assert "follow_up" in reply["flags"] and reply["conversation"]["in_reply_to"] == first["id"]
        assert reply["conversation"]["outbound_id"] == "tg-status-1"
        assert reply["source"]["parent_message_id"] == f"{CHAT}:{our_id}"


async def test_complaint_and_answer_in_one_batch_are_merged_before_any_question(
        make_gateway: Callable[..., Any], api: FakeSmsApi, rsync: redis.Redis) -> None:
    gw = await make_gateway(completeness_wait_s=60, **routes(api))
    await sms(gw, PLACELESS)  # both wait in the stream: the worker reads them in one batch
    await sms(gw, ANSWER)
    await gw.start_worker()
    [rec] = await asyncio.to_thread(wait_for_records, rsync, 1)
    assert rec["body"] == f"{PLACELESS}\n\n{ANSWER}" and rec["completeness"]["answered"] is True
    assert rec["location"]["regency"] == "Kabupaten Bogor"
    sent = await eventually(lambda: _async(texts_to(api)))
    assert reference(rec["id"]) in sent[0] and "Di mana" not in sent[0]  # the usual acknowledgement
    await asyncio.sleep(1.0)
    assert len(core_records(rsync)) == 1 and held_ids(rsync) == [] and len(texts_to(api)) == 1
