"""The conversation end to end: webhook → stream → conversation hook → core queue, acks to a fake Bot API."""

from __future__ import annotations

import asyncio

from channels.core.reference import reference
from channels.telegram import texts
from channels.telegram.tests.conftest import (
    CHAT,
    SECRET_HEADERS,
    T0,
    WEBHOOK,
    location,
    photo,
    text,
    update,
    wait_until,
)
from tests.support.core import wait_for_records


async def post(gw, *updates):
    for u in updates:
        status, body, _h = await gw.post(WEBHOOK, json=u, headers=SECRET_HEADERS)
        assert status == 200, body


def by_message(records):
    return sorted(records, key=lambda rec: int(rec["source"]["message_ids"][0].split(":")[1]))


async def records(rsync, n, timeout=20.0):
    recs = await asyncio.to_thread(wait_for_records, rsync, n, timeout)
    assert len(recs) == n, f"expected {n} records, got {len(recs)}"
    return by_message(recs)


async def test_text_photo_location_make_one_record_and_two_linked_follow_ups(make_gateway, rsync, bot_api):
    gw = await make_gateway(telegram_api_url=bot_api.url)
    await gw.start_worker()
    await post(gw, text(201, "Jalan di depan SDN 3 Sukamaju berlubang besar."),
               photo(202, "ini fotonya", date=T0 + 40), location(203, date=T0 + 90))
    first, pic, loc = await records(rsync, 3)
    assert "follow_up" not in first["flags"] and first["conversation"] == {"thread_id": first["id"],
                                                                           "in_reply_to": None}
    for rec in (pic, loc):
        assert "follow_up" in rec["flags"]
        assert rec["conversation"] == {"thread_id": first["id"], "in_reply_to": first["id"]}
    assert pic["attachments"][0]["url"] == "AgACAgUAAxkBAAIBm" and pic["attachments"][0]["kind"] == "image"
    assert (loc["location"]["lat"], loc["location"]["lon"]) == (-6.914744, 107.60981)
    # three acknowledgements via sendMessage, each answering the citizen's message
    await wait_until(lambda: len(bot_api.sent) >= 3, what="3 sendMessage calls")
    sent = sorted(bot_api.sent, key=lambda s: s.reply_parameters["message_id"])
    assert [s.chat_id for s in sent] == [CHAT] * 3
    assert [s.reply_parameters["message_id"] for s in sent] == [201, 202, 203]
    assert reference(first["id"]) in sent[0].text and "Terima kasih" in sent[0].text
    assert sent[1].text == texts.follow_up_ack(reference(pic["id"]), reference(first["id"]))
    assert reference(first["id"]) in sent[2].text  # the citizen is told which complaint it was added to
    # Telegram's per-chat pace (~1 msg/s) is kept
    times = sorted(s.at for s in sent)
    assert times[2] - times[0] >= 1.5


async def test_restart_in_the_middle_of_a_conversation(make_gateway, rsync, bot_api):
    gw1 = await make_gateway(telegram_api_url=bot_api.url)
    await gw1.start_worker(senders={})
    await post(gw1, text(301, "Pungli di loket pembuatan SIM."))
    [first] = await records(rsync, 1)
    await gw1.stop()  # gateway and worker gone; the conversation lives in Redis only
    gw2 = await make_gateway(telegram_api_url=bot_api.url)
    await gw2.start_worker(senders={})
    await post(gw2, photo(302, date=T0 + 60, file_id="AgACAgUAAxkBAAIC2"))
    _first, pic = await records(rsync, 2)
    assert pic["conversation"] == {"thread_id": first["id"], "in_reply_to": first["id"]}
    assert "follow_up" in pic["flags"] and "media_only" in pic["flags"]


async def test_media_after_the_window_starts_a_new_complaint(make_gateway, rsync):
    gw = await make_gateway(telegram_followup_window_s=300)
    await gw.start_worker(senders={})
    await post(gw, text(401, "Lampu jalan mati di Jl. Merdeka."), photo(402, date=T0 + 301))
    first, pic = await records(rsync, 2)
    assert "follow_up" not in pic["flags"] and pic["conversation"]["thread_id"] != first["id"]
    assert pic["conversation"] == {"thread_id": pic["id"], "in_reply_to": None}


async def test_new_text_outside_lapor_is_a_new_complaint(make_gateway, rsync):
    gw = await make_gateway()
    await gw.start_worker(senders={})
    await post(gw, text(451, "Lampu jalan mati di Jl. Merdeka."), text(452, "Sampah menumpuk di pasar.", date=T0 + 20))
    a, b = await records(rsync, 2)
    assert a["conversation"]["thread_id"] != b["conversation"]["thread_id"] and "follow_up" not in b["flags"]


async def test_lapor_rahasia_anonim_then_kirim(make_gateway, rsync, bot_api):
    gw = await make_gateway(telegram_api_url=bot_api.url, telegram_send_per_chat_per_s=50)
    await gw.start_worker()
    await post(gw, text(501, "/start", date=T0), text(502, "/lapor", date=T0 + 1), text(503, "/rahasia", date=T0 + 2),
               text(504, "/anonim@LAPOR1708_bot", date=T0 + 3),
               text(505, "Petugas puskesmas meminta uang untuk surat sehat.", date=T0 + 10),
               text(506, "Kejadiannya kemarin pagi.", date=T0 + 600), photo(507, date=T0 + 700),
               text(508, "/kirim", date=T0 + 710), text(509, "Ada laporan lain: trotoar rusak.", date=T0 + 720))
    recs = await records(rsync, 4)
    first, second_text, pic, after = recs
    assert first["confidential"] and first["anonymous"] and "follow_up" not in first["flags"]
    for rec in (second_text, pic):  # inside /lapor even a later text belongs to the report (idle limit 30 min)
        assert rec["confidential"] and rec["anonymous"] and "follow_up" in rec["flags"]
        assert rec["conversation"]["in_reply_to"] == first["id"]
    assert not after["confidential"] and not after["anonymous"] and "follow_up" not in after["flags"]
    assert after["conversation"]["thread_id"] == after["id"]
    # no command became a record; every command was answered
    assert all("/" not in rec["original_text"][:1] for rec in recs)
    await wait_until(lambda: len(bot_api.sent) >= 9, what="4 acks + 5 replies")
    got = [s.text for s in bot_api.sent]
    for reply in (texts.HELP, texts.REPORT_OPENED, texts.CONFIDENTIAL_SET, texts.ANONYMOUS_SET,
                  texts.submitted(reference(first["id"]))):
        assert reply in got, reply[:40]


async def test_batal_cancels_an_open_report(make_gateway, rsync, bot_api, r):
    gw = await make_gateway(telegram_api_url=bot_api.url, telegram_send_per_chat_per_s=50)
    await gw.start_worker()
    await post(gw, text(601, "/lapor"), text(602, "/batal", date=T0 + 5), text(603, "/kirim", date=T0 + 6),
               text(604, "/bantuan", date=T0 + 7))
    await wait_until(lambda: len(bot_api.sent) >= 4, what="4 replies")
    got = [s.text for s in bot_api.sent]
    assert texts.REPORT_OPENED in got and texts.CANCELLED in got and texts.NOTHING_TO_SUBMIT in got
    assert texts.HELP in got
    assert rsync.llen("rq:queue:lapor-core") == 0
    assert await r.exists(f"lapor:tg:conv:{{{CHAT}}}") == 0


async def test_lapor_with_text_is_the_first_message(make_gateway, rsync):
    gw = await make_gateway()
    await gw.start_worker(senders={})
    await post(gw, text(651, "/lapor Jembatan desa ambruk sejak minggu lalu"),
               text(652, "Warga harus memutar 5 km.", date=T0 + 30))
    first, more = await records(rsync, 2)
    assert first["body"] == "Jembatan desa ambruk sejak minggu lalu"
    assert more["conversation"]["in_reply_to"] == first["id"]


async def test_edited_message_is_recorded_as_an_edit(make_gateway, rsync, bot_api):
    gw = await make_gateway(telegram_api_url=bot_api.url)
    await gw.start_worker()
    await post(gw, text(701, "Jalan rusak sejak sebulan."))
    [orig] = await records(rsync, 1)
    await post(gw, update(701, text="Jalan rusak sejak dua bulan.", edited=True, edit_date=T0 + 120),
               update(799, text="/start", edited=True, edit_date=T0 + 130))  # edit of something unknown
    orig, edit = await records(rsync, 2)
    assert edit["source"]["message_ids"] == [f"{CHAT}:701:edit:{T0 + 120}"]
    assert edit["idempotency_key"] == f"telegram:{CHAT}:701:edit:{T0 + 120}"
    assert "follow_up" in edit["flags"] and "edited" in edit["flags"] and "edited" not in orig["flags"]
    assert edit["conversation"] == {"thread_id": orig["id"], "in_reply_to": orig["id"]}
    assert edit["original_text"] == "Jalan rusak sejak dua bulan."
    await wait_until(lambda: len(bot_api.sent) >= 2, what="2 acks")
    assert texts.edit_ack(reference(edit["id"]), reference(orig["id"])) in [s.text for s in bot_api.sent]


async def test_shared_phone_number_becomes_reporter_msisdn(make_gateway, rsync, bot_api):
    gw = await make_gateway(telegram_api_url=bot_api.url)
    await gw.start_worker()
    own = {"phone_number": "6281234567890", "first_name": "Siti", "user_id": CHAT}
    # alone: no complaint, remembered, thanked
    await post(gw, update(801, contact=own))
    await wait_until(lambda: texts.CONTACT_SAVED in [s.text for s in bot_api.sent], what="contact reply")
    assert rsync.llen("rq:queue:lapor-core") == 0
    await post(gw, text(802, "Air PDAM tidak mengalir tiga hari.", date=T0 + 1000),
               update(803, date=T0 + 1030, contact=own))
    complaint, contact_follow_up = await records(rsync, 2)
    assert complaint["reporter"]["msisdn"] == "+6281234567890"
    assert complaint["reporter"]["identity"] == str(CHAT) and complaint["reporter"]["operator"] == "Telkomsel"
    assert contact_follow_up["reporter"]["msisdn"] == "+6281234567890"
    assert contact_follow_up["conversation"]["in_reply_to"] == complaint["id"]


async def test_two_workers_agree_on_one_thread(make_gateway, rsync):
    """Several dispatcher processes handling follow-ups of the same chat at once link them to one
    first record (the chat's state changes with WATCH/MULTI)."""
    gw = await make_gateway(dispatch_batch=1)
    await gw.start_worker(senders={})
    await gw.start_worker(senders={})
    chats = [4100000000 + i for i in range(5)]
    await asyncio.gather(*(post(gw, text(10, "Sekolah rusak.", chat=c)) for c in chats))
    await records(rsync, 5)
    await asyncio.gather(*(post(gw, photo(11 + j, chat=c, date=T0 + 5 + j)) for c in chats for j in range(2)),
                         *(post(gw, location(13, chat=c, date=T0 + 9)) for c in chats))
    recs = await records(rsync, 20, timeout=30)
    threads: dict[str, set[str]] = {}
    for rec in recs:
        threads.setdefault(rec["reply_to"]["address"], set()).add(rec["conversation"]["thread_id"])
    assert all(len(t) == 1 for t in threads.values()), threads
    assert sum(1 for rec in recs if "follow_up" not in rec["flags"]) == 5


async def test_concurrent_first_messages_open_one_thread(make_gateway, rsync):
    """Two media messages of a new conversation handled at the same moment by two workers: exactly one
    opens the thread, the other links to it (without WATCH both would see an empty state)."""
    gw = await make_gateway(dispatch_batch=1)
    await gw.start_worker(senders={})
    await gw.start_worker(senders={})
    chats = [4200000000 + i for i in range(8)]
    await asyncio.gather(*(post(gw, photo(20 + j, chat=c, date=T0 + j, file_id=f"AgACAgUAAxkBAAIX{j}"))
                           for c in chats for j in range(2)))
    recs = await records(rsync, 16, timeout=30)
    for c in chats:
        mine = [rec for rec in recs if rec["reply_to"]["address"] == str(c)]
        firsts = [rec for rec in mine if "follow_up" not in rec["flags"]]
        assert len(firsts) == 1, mine
        assert {rec["conversation"]["thread_id"] for rec in mine} == {firsts[0]["id"]}


async def test_an_expired_lapor_leaves_no_flags_behind(make_gateway, rsync):
    """After an open /lapor fell silent for longer than the idle limit, a new complaint starts clean."""
    gw = await make_gateway(telegram_report_idle_s=600)
    await gw.start_worker(senders={})
    await post(gw, text(901, "/lapor"), text(902, "/rahasia", date=T0 + 1),
               text(903, "Guru sering absen.", date=T0 + 5),
               text(904, "Pasar becek dan kotor.", date=T0 + 5000), photo(905, date=T0 + 5030),
               text(906, "Juga lampu pasar mati.", date=T0 + 5060))
    secret, fresh, pic, more = await records(rsync, 4)
    assert secret["confidential"]
    assert not any(rec["confidential"] for rec in (fresh, pic, more))
    assert pic["conversation"]["in_reply_to"] == fresh["id"]
    assert "follow_up" not in more["flags"], "outside /lapor a new text is a new complaint"


async def test_command_flood_gets_a_bounded_number_of_answers(make_gateway, rsync, r):
    from channels.telegram.hooks import COMMAND_REPLIES_PER_MINUTE

    gw = await make_gateway()
    await gw.start_worker(senders={})
    await post(gw, *(text(1000 + i, "/start", date=T0 + i) for i in range(COMMAND_REPLIES_PER_MINUTE + 5)))
    await wait_until(lambda: rsync.xlen("lapor:inbound") == COMMAND_REPLIES_PER_MINUTE + 5, what="stored")
    for _ in range(200):
        pending = await r.xpending("lapor:inbound", "dispatchers")
        if await r.xlen("lapor:outbound") and not pending["pending"]:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert await r.xlen("lapor:outbound") == COMMAND_REPLIES_PER_MINUTE
    assert rsync.llen("rq:queue:lapor-core") == 0


async def test_group_members_have_separate_conversations(make_gateway, rsync):
    gw = await make_gateway(telegram_allow_groups=True)
    await gw.start_worker(senders={})
    group = {"id": -1001234567890, "type": "supergroup", "title": "Warga RW 05"}

    def in_group(u: dict, user: int) -> dict:
        msg = u["message"]
        msg["chat"], msg["from"] = group, {**msg["from"], "id": user}
        return u

    await post(gw, in_group(text(61, "Lampu jalan mati."), 4300000001),
               in_group(photo(62, date=T0 + 10), 4300000002),  # another member's photo: not a follow-up
               in_group(photo(63, date=T0 + 20, file_id="AgACAgUAAxkBAAIG3"), 4300000001))
    a, b, c = await records(rsync, 3)
    assert "follow_up" not in b["flags"] and b["reporter"]["identity"] == "4300000002"
    assert c["conversation"]["in_reply_to"] == a["id"] and "follow_up" in c["flags"]


async def test_reprocessing_after_a_worker_crash_gives_the_same_decision(settings, r):
    """A worker that dies after the hook ran but before its commit: the entry is processed again."""
    from channels.telegram.hooks import ConversationPreprocessor
    from channels.telegram.updates import parse_update

    pre = ConversationPreprocessor(settings)

    def msg(u, rid):
        m = parse_update(u, allow_groups=False).messages[0]
        m.stamp(rid)
        return m

    t, p = text(1101, "Pagar sekolah roboh."), photo(1102, date=T0 + 30)
    first_ids = "01JD0000000000000000000001", "01JD0000000000000000000002"
    for _ in range(2):
        d1 = await pre.prepare(r, msg(t, first_ids[0]))
        conv = d1.emit[0].messages[0].conversation
        assert d1.emit[0].ctx.in_reply_to is None and conv is not None and conv.thread_id == first_ids[0]
        d2 = await pre.prepare(r, msg(p, first_ids[1]))
        assert d2.emit[0].ctx.in_reply_to == first_ids[0] and d2.emit[0].ctx.extra_flags == ["follow_up"]


async def test_a_telegram_reply_to_an_earlier_complaint_adds_to_it(make_gateway, rsync):
    gw = await make_gateway()
    await gw.start_worker(senders={})
    await post(gw, text(1201, "Jembatan retak."), text(1202, "Sampah menumpuk.", date=T0 + 60))
    a, b = await records(rsync, 2)
    original = text(1201, "Jembatan retak.")["message"]
    await post(gw, photo(1203, date=T0 + 86400, reply_to_message=original),  # a day later, replying to 1201
               text(1204, "Sudah sebulan begini.", date=T0 + 86500, reply_to_message=original))
    _a, _b, pic, more = await records(rsync, 4)
    for rec in (pic, more):
        assert "follow_up" in rec["flags"]
        assert rec["conversation"] == {"thread_id": a["id"], "in_reply_to": a["id"]}  # record ids
        assert rec["source"]["parent_message_id"] == f"{CHAT}:1201"  # Telegram's own id of the message answered
    assert b["conversation"]["thread_id"] == b["id"] and b["source"].get("parent_message_id") is None
