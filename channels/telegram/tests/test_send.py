"""sendMessage acknowledgements and getFile fetching against the fake Bot API."""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest

from channels.core.outbound import OutboundMessage, PermanentSendError, TransientSendError
from channels.core.reference import reference
from channels.telegram import texts
from channels.telegram.send import TelegramSender
from channels.telegram.tests.conftest import CHAT, SECRET_HEADERS, WEBHOOK, text, update, wait_until
from gateway.blobs import FileBlobStore
from tests.support.core import wait_for_records

RID = "01JD0000000000000000000000"


def ack(address: str = str(CHAT), thread: str | None = "15", **kw) -> OutboundMessage:
    ref = reference(RID)
    return OutboundMessage(channel="telegram", address=address, text=f"Terima kasih … {ref}", record_id=RID,
                           reference=ref, thread=thread, meta={"flags": [], "message_ids": [f"{address}:15"]}, **kw)


@pytest.fixture
def sender(make_settings, bot_api):
    return TelegramSender(make_settings(telegram_api_url=bot_api.url))


async def test_ack_is_sent_as_a_reply_to_the_citizens_message(sender, bot_api):
    await sender(ack())
    [sent] = bot_api.sent
    assert sent.chat_id == CHAT and reference(RID) in sent.text
    assert sent.reply_parameters == {"message_id": 15, "allow_sending_without_reply": True}
    [call] = bot_api.calls_of("sendMessage")
    assert call["chat_id"] == str(CHAT)  # sent as form fields, as PTB does


async def test_flood_control_becomes_transient_with_telegrams_retry_after(sender, bot_api):
    bot_api.flood, bot_api.flood_retry_after = 1, 7
    with pytest.raises(TransientSendError) as exc:
        await sender(ack())
    assert exc.value.retry_after == 7
    assert bot_api.sent == []


@pytest.mark.parametrize(("setup", "msg"), [
    ("blocked", ack()),
    ("none", ack(address="not-a-chat")),
    ("wrong_token", ack()),
])
async def test_permanent_failures(make_settings, bot_api, setup, msg):
    token = "999:WRONG" if setup == "wrong_token" else None
    s = make_settings(telegram_api_url=bot_api.url, **({"telegram_bot_token": token} if token else {}))
    bot_api.blocked_chats.add(CHAT if setup == "blocked" else 0)
    with pytest.raises(PermanentSendError):
        await TelegramSender(s)(msg)


async def test_unreachable_api_is_transient(make_settings):
    s = make_settings(telegram_api_url="http://127.0.0.1:1")
    with pytest.raises(TransientSendError):
        await TelegramSender(s)(ack())


async def test_per_chat_pace(sender, bot_api):
    """Telegram allows about one message per second per chat: a burst to one chat is spread out."""
    await asyncio.gather(*(sender(ack()) for _ in range(3)))
    times = sorted(s.at for s in bot_api.sent)
    assert len(times) == 3 and times[2] - times[0] >= 1.5


def test_follow_up_and_edit_acks_say_what_they_acknowledge():
    from channels.telegram.send import message_text

    m = ack()
    assert message_text(m) == m.text
    m.meta["flags"] = ["follow_up"]
    assert message_text(m) == texts.follow_up_ack(reference(RID))
    m.meta["in_reply_to"] = "01JC0000000000000000000000"
    assert message_text(m) == texts.follow_up_ack(reference(RID), reference("01JC0000000000000000000000"))
    assert reference("01JC0000000000000000000000") in message_text(m)
    m.meta["message_ids"] = [f"{CHAT}:15:edit:1763800300"]
    assert message_text(m) == texts.edit_ack(reference(RID), reference("01JC0000000000000000000000"))


async def test_outbound_worker_retries_after_flood_control(make_gateway, rsync, bot_api):
    bot_api.flood, bot_api.flood_retry_after = 1, 1
    gw = await make_gateway(telegram_api_url=bot_api.url)
    await gw.start_worker()
    t0 = time.monotonic()
    status, _b, _h = await gw.post(WEBHOOK, json=text(91, "Jalan rusak parah."), headers=SECRET_HEADERS)
    assert status == 200
    await wait_until(lambda: len(bot_api.sent) == 1, what="ack after the 429")
    assert time.monotonic() - t0 >= 0.9  # waited Telegram's retry_after
    assert len(bot_api.calls_of("sendMessage")) == 2
    [rec] = await asyncio.to_thread(wait_for_records, rsync, 1, 5.0)
    assert reference(rec["id"]) in bot_api.sent[0].text


async def test_files_fetched_into_the_blob_store_size_capped(make_gateway, rsync, bot_api):
    small, big = b"\xff\xd8small-jpeg" * 50, b"\xff\xd8big-jpeg!" * 600
    bot_api.files = {"AgACsmall": small, "AgACbig": big}
    gw = await make_gateway(telegram_api_url=bot_api.url, telegram_fetch_files=True, blob_max_bytes=4096)
    await gw.start_worker(senders={})

    def pic(mid: int, file_id: str, date: int) -> dict:
        return update(mid, date=date, photo=[{"file_id": file_id, "file_unique_id": "u" + file_id,
                                              "width": 800, "height": 600}])

    for u in (text(95, "Banjir setinggi lutut."), pic(96, "AgACsmall", 1763800010),
              pic(97, "AgACbig", 1763800020)):
        status, _b, _h = await gw.post(WEBHOOK, json=u, headers=SECRET_HEADERS)
        assert status == 200
    recs = await asyncio.to_thread(wait_for_records, rsync, 3, 20.0)
    by_id = {rec["source"]["message_ids"][0]: rec for rec in recs}
    fetched = by_id[f"{CHAT}:96"]["attachments"][0]
    sha = hashlib.sha256(small).hexdigest()
    assert fetched["sha256"] == sha and fetched["ref"] == f"sha256:{sha}" and fetched["size"] == len(small)
    assert fetched["url"] == "AgACsmall"  # the file id stays alongside the stored bytes
    assert await FileBlobStore(gw.settings.blobs_path, 4096).get(fetched["ref"]) == small
    too_big = by_id[f"{CHAT}:97"]["attachments"][0]
    assert too_big["sha256"] is None and too_big["ref"] is None and too_big["url"] == "AgACbig"
    assert [c["file_id"] for c in bot_api.calls_of("getFile")] == ["AgACsmall", "AgACbig"]


async def test_a_long_queue_for_one_chat_goes_back_to_the_retry_schedule(make_settings, bot_api):
    s = make_settings(telegram_api_url=bot_api.url, telegram_send_per_chat_per_s=0.2)  # one per 5 s
    snd = TelegramSender(s)
    snd.max_wait_s = 0.3
    await snd(ack())
    with pytest.raises(TransientSendError) as exc:
        await snd(ack())
    assert exc.value.retry_after == 0.3 and len(bot_api.sent) == 1
    await snd(ack(address="4000000077"))  # other chats are not held up
    assert len(bot_api.sent) == 2


class _Rows:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def record(self, channel: str, **row) -> None:
        self.rows.append(dict(row, channel=channel))


async def test_calls_are_logged_without_the_bot_token_and_blocked_is_typed(make_settings, bot_api):
    from tests.support.fixtures import TOKENS

    sender = TelegramSender(make_settings(telegram_api_url=bot_api.url))
    rows = _Rows()
    sender.attach(rows)
    result = await sender(ack())
    bot_api.blocked_chats.add(CHAT)
    with pytest.raises(PermanentSendError) as blocked:
        await sender(ack())
    await sender.close()
    ok, refused = rows.rows
    assert result.provider_message_ids and result.parts == 1
    assert ok["channel"] == "telegram" and ok["status"] == 200 and ok["method"] == "POST"
    assert ok["path"] == f"{bot_api.url}/bot<redacted>/sendMessage"
    assert refused["status"] == 403 and blocked.value.code == "blocked"
    assert all(TOKENS["telegram_bot_token"] not in str(r) for r in rows.rows)
