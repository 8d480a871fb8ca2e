"""Telegram end to end: the Bot API accepting ``sendMessage`` is ``sent`` (Telegram reports
nothing later). The core's message goes to the citizen's chat, answering their message; a text
the status carries the provider's message id."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import redis

from channels.sms.tests.conftest import eventually
from channels.telegram.tests.conftest import CHAT, SECRET_HEADERS, WEBHOOK, bot_api, text  # noqa: F401 (fixture)
from channels.telegram.tests.fake_bot_api import FakeBotApi
from dispatcher.outbound_worker import CoreMessageWorker
from tests.support.core import wait_for_records
from tests.twoway import support
from tests.twoway.support import AUTH, OUT_TOKEN, _async, outbound, status_ids, status_jobs


def core_worker(gw: Any) -> contextlib.AbstractAsyncContextManager[CoreMessageWorker]:
    return support.core_worker(gw, "tg-core", close_senders=True)


async def test_telegram_sent_in_the_chat(make_gateway: Callable[..., Any], bot_api: FakeBotApi,  # noqa: F811
                                         rsync: redis.Redis) -> None:
    gw = await make_gateway(outbound_token=OUT_TOKEN, telegram_api_url=bot_api.url)
    await gw.start_worker()
    status, _, _ = await gw.post(WEBHOOK, json=text(301, "Jalan di depan SDN 3 Sukamaju berlubang besar."),
                                 headers=SECRET_HEADERS)
    assert status == 200
    rid = str((await asyncio.to_thread(wait_for_records, rsync, 1))[-1]["id"])
    await eventually(lambda: _async(len(bot_api.sent) >= 1))  # the acknowledgement
    await eventually(lambda: _async([j for j, _ in status_jobs(rsync, own=True)] == [f"ack-{rid}-sent"]))
    async with core_worker(gw):
        assert (await gw.post("/outbound/messages", json=outbound("tg-1", rid), headers=AUTH))[0] == 202
        await eventually(lambda: _async(status_ids(rsync, "tg-1-") == ["tg-1-queued", "tg-1-sent"]))
    first = next(s for s in bot_api.sent if "Dinas PU" in s.text)
    assert first.chat_id == CHAT and (first.reply_parameters or {}).get("message_id") == 301  # in the thread
    sent = dict(status_jobs(rsync))
    assert sent["tg-1-sent"]["provider_message_ids"] and sent["tg-1-sent"]["parts"] == 1
    assert sent["tg-1-sent"]["channel"] == "telegram" and sent["tg-1-sent"]["record_id"] == rid
