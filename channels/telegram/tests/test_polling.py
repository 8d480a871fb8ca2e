"""Long polling against the fake Bot API: store first, then move the offset."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import orjson
import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from channels.telegram.modes import polling_enabled
from channels.telegram.polling import OFFSET_KEY, TelegramPoller
from channels.telegram.service import services
from channels.telegram.tests.conftest import photo, text, update, wait_until
from gateway.channel_log import ChannelLog
from gateway.ingest import GatewayIngest
from gateway.intake import Intake, IntakeUnavailable
from gateway.services import read_states


def service_ctx(settings, r, intake) -> SimpleNamespace:
    """What a service gets from ``serve``: settings, Redis and the ingest path."""
    chlog = ChannelLog(r, size=50, ttl_s=600)
    return SimpleNamespace(settings=settings, redis=r, intake=intake, channel_log=chlog,
                           ingest=GatewayIngest(intake, chlog, r))


@pytest.fixture
async def poll_ctx(make_settings, r, bot_api, tmp_path):
    settings = make_settings(telegram_secret=None, telegram_api_url=bot_api.url, telegram_poll_timeout_s=0)
    intake = Intake(r, tmp_path / "spool", dedupe_ttl_s=3600)
    await intake.start()
    ctx = service_ctx(settings, r, intake)
    yield ctx
    await intake.close()


async def test_poll_stores_then_persists_offset(poll_ctx, r, bot_api):
    u1, u2 = text(31, "Jalan rusak di Jl. Asia Afrika."), photo(32)
    sticker = update(33, sticker={"file_id": "CAAC", "file_unique_id": "st", "type": "regular", "width": 512,
                                  "height": 512, "is_animated": False, "is_video": False})
    bot_api.push(u1, u2, sticker)
    poller = TelegramPoller(poll_ctx)
    assert await poller.poll_once() == 3
    assert await r.xlen("lapor:inbound") == 2
    assert int(await r.get(OFFSET_KEY)) == sticker["update_id"] + 1
    first_call = bot_api.calls_of("getUpdates")[0]
    assert "offset" not in first_call and orjson.loads(first_call["allowed_updates"]) == ["message", "edited_message"]
    # the next round confirms the batch to Telegram with the stored offset
    assert await poller.poll_once() == 0
    assert int(bot_api.calls_of("getUpdates")[1]["offset"]) == sticker["update_id"] + 1
    assert bot_api.updates == []


async def test_redelivered_updates_are_stored_once(poll_ctx, r, bot_api):
    u = text(41, "Pungli di kelurahan.")
    bot_api.push(u)
    poller = TelegramPoller(poll_ctx)
    await poller.poll_once()
    await r.delete(OFFSET_KEY)  # as if the process died after storing, before the checkpoint
    bot_api.push(u)
    await poller.poll_once()
    assert await r.xlen("lapor:inbound") == 1


async def test_redis_down_does_not_advance_the_offset(poll_ctx, r, bot_api, tmp_path):
    dead = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    dead_intake = Intake(dead, tmp_path / "spool2", dedupe_ttl_s=3600)
    await dead_intake.start()
    u = text(51, "Sampah tidak diangkut seminggu.")
    bot_api.push(u)
    try:
        with pytest.raises(IntakeUnavailable):
            await TelegramPoller(service_ctx(poll_ctx.settings, r, dead_intake)).poll_once()
    finally:
        await dead_intake.close()
        await dead.aclose()
    assert await r.get(OFFSET_KEY) is None
    assert dead_intake.stats.spooled == 0, "a poller must not spool: it would confirm what Redis does not hold"
    # Redis back: the same update is fetched again (never confirmed) and stored
    await TelegramPoller(poll_ctx).poll_once()
    assert await r.xlen("lapor:inbound") == 1
    assert int(await r.get(OFFSET_KEY)) == u["update_id"] + 1


async def test_unparseable_update_is_quarantined_and_confirmed(poll_ctx, r, bot_api):
    bad = {"update_id": 777000001, "message": {"message_id": "x", "chat": "nope"}}
    good = text(61, "Lampu mati.")
    bot_api.push(bad, good)
    await TelegramPoller(poll_ctx).poll_once()
    assert await r.xlen("lapor:quarantine") == 1 and await r.xlen("lapor:inbound") == 1
    assert int(await r.get(OFFSET_KEY)) == max(bad["update_id"], good["update_id"]) + 1


async def test_webhook_conflict_is_reported(make_gateway, r, bot_api):
    bot_api.webhook_set = True
    await make_gateway(telegram_secret=None, telegram_api_url=bot_api.url, telegram_poll_timeout_s=0)

    async def state():
        return (await read_states(r)).get("telegram-polling", {})

    for _ in range(200):
        st = await state()
        if st.get("error_kind"):
            break
        await asyncio.sleep(0.05)
    assert st["error_kind"] == "invalid" and "a webhook is set" in st["last_error"]


def test_the_two_conflicts_are_told_apart():
    from channels.telegram.polling import conflict_reason
    from channels.telegram.tests.fake_bot_api import CONFLICT

    assert "webhook is set" in conflict_reason("Conflict: can't use getUpdates method while webhook is active")
    other = conflict_reason(CONFLICT)
    assert "another program polls this bot" in other and "webhook" not in other


async def test_gateway_runs_the_poller_when_no_webhook_secret(make_gateway, r, bot_api):
    await make_gateway(telegram_secret=None, telegram_api_url=bot_api.url, telegram_poll_timeout_s=1)
    u = text(71, "Antrean BPJS sangat panjang.")
    bot_api.push(u)

    async def stored() -> int:
        return int(await r.xlen("lapor:inbound"))

    for _ in range(200):
        if await stored() and await r.get(OFFSET_KEY):
            break
        await asyncio.sleep(0.05)
    assert await stored() == 1
    assert int(await r.get(OFFSET_KEY)) == u["update_id"] + 1
    await wait_until(lambda: len(bot_api.calls_of("getUpdates")) >= 2, what="second long poll")


@pytest.mark.parametrize(("mode", "secret", "token", "expected"), [
    ("auto", None, "t", True), ("auto", "s", "t", False), ("on", "s", "t", True), ("off", None, "t", False),
    ("on", None, None, False),
])
def test_polling_mode(make_settings, mode, secret, token, expected):
    s = make_settings(telegram_polling=mode, telegram_secret=secret, telegram_bot_token=token)
    assert polling_enabled(s) is expected
    assert len(services(SimpleNamespace(settings=s, redis=None))) == int(expected)


async def test_only_one_process_polls(poll_ctx, r, bot_api):
    """Two gateway processes both run the service: one leads, the other stands by; nothing is lost."""
    a, b = TelegramPoller(poll_ctx), TelegramPoller(poll_ctx)
    a.standby_s = b.standby_s = 0.1
    await a.start()
    await b.start()
    try:
        bot_api.push(text(81, "Jalan rusak."), text(82, "Lampu mati.", date=1763800100))
        for _ in range(200):
            if await r.xlen("lapor:inbound") == 2 and {a.state["state"], b.state["state"]} == {"polling", "standby"}:
                break
            await asyncio.sleep(0.05)
        assert {a.state["state"], b.state["state"]} == {"polling", "standby"}
        leader, follower = (a, b) if a.state["state"] == "polling" else (b, a)
        await leader.stop()  # hands the lease over
        for _ in range(200):
            if follower.state["state"] == "polling":
                break
            await asyncio.sleep(0.05)
        assert follower.state["state"] == "polling"
        assert await r.xlen("lapor:inbound") == 2
    finally:
        await a.stop()
        await b.stop()
