"""A complaint is held for its question only while that question can reach the citizen, end to end:
the real app over sockets, a real redis-server, the real workers, a fake Bot API that fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis

from channels import registry
from channels.core.reference import reference
from channels.sms.tests.conftest import eventually
from channels.telegram.tests.conftest import SECRET_HEADERS, WEBHOOK, text
from channels.telegram.tests.fake_bot_api import ApiError, FakeBotApi
from gateway import metrics
from tests.support.core import core_records, wait_for_records
from tests.support.fixtures import TOKENS
from tests.support.redis_proc import free_port
from tests.twoway.support import _async
from tests.twoway.test_conversation import PLACELESS, held_ids, sms


class FailingBotApi(FakeBotApi):
    """The Bot API answers every sendMessage with 500."""

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        raise ApiError(500, "Internal Server Error")


@pytest.fixture
async def failing_api() -> AsyncIterator[FailingBotApi]:
    fake = await FailingBotApi(token=TOKENS["telegram_bot_token"]).start()
    yield fake
    await fake.stop()


async def _question_failed_count(r: Any, channel: str) -> float:
    await metrics.flush(r)
    snap = await metrics.read_snapshot(r)
    return metrics.counter_value(snap, metrics.EVENTS.name, channel, "completeness_question_failed")


def _unasked(rec: dict[str, Any]) -> None:
    assert "location" in rec["completeness"]["missing"]
    assert rec["completeness"]["asked"] == [] and rec["completeness"]["answered"] is None
    assert "incomplete" not in rec["flags"] and rec["body"] == PLACELESS


async def test_placeless_sms_without_an_sms_sender_goes_at_once(make_gateway: Callable[..., Any],
                                                                rsync: redis.Redis) -> None:
    gw = await make_gateway(completeness_wait_s=1800)  # no Kannel/Jasmin/SMPP send route configured
    assert "sms" not in registry.senders(gw.settings)
    await gw.start_worker()
    await sms(gw, PLACELESS)
    [rec] = await asyncio.to_thread(wait_for_records, rsync, 1)
    _unasked(rec)
    assert held_ids(rsync) == [] and rsync.exists("lapor:held:" + rec["id"]) == 0


async def _released(gw: Any, rsync: redis.Redis, r: Any) -> dict[str, Any]:
    before = await _question_failed_count(r, "telegram")
    status, _, _ = await gw.post(WEBHOOK, json=text(601, PLACELESS), headers=SECRET_HEADERS)
    assert status == 200
    [rec] = await asyncio.to_thread(wait_for_records, rsync, 1, 15)  # not after the 1800 s wait
    _unasked(rec)
    await eventually(lambda: _async(held_ids(rsync) == []))
    await asyncio.sleep(1.5)  # a second sweep, a retried question: still one record
    assert len(core_records(rsync)) == 1 and held_ids(rsync) == []
    assert await _question_failed_count(r, "telegram") == before + 1
    assert rsync.xlen("lapor:outbound:dead") >= 1
    return rec


async def test_telegram_question_refused_releases_the_record_unasked(make_gateway: Callable[..., Any],
                                                                     rsync: redis.Redis, r: Any) -> None:
    gw = await make_gateway(telegram_api_url=f"http://127.0.0.1:{free_port()}", completeness_wait_s=1800)
    await gw.start_worker()
    await _released(gw, rsync, r)


async def test_telegram_question_answered_500_releases_the_record_unasked(
        make_gateway: Callable[..., Any], failing_api: FailingBotApi, rsync: redis.Redis, r: Any) -> None:
    gw = await make_gateway(telegram_api_url=failing_api.url, completeness_wait_s=1800)
    await gw.start_worker()
    rec = await _released(gw, rsync, r)
    asked = [c for c in failing_api.calls_of("sendMessage") if "lokasi" in c["text"]]
    assert len(asked) == 1  # the question was tried once, never retried
    # the released record is acknowledged like any other (tried: the fake answers 500 to every send)
    await eventually(lambda: _async(any("lokasi" not in c["text"] and reference(rec["id"]) in c["text"]
                                        for c in failing_api.calls_of("sendMessage"))))
