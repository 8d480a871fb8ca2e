"""setWebhook registration and the getWebhookInfo health monitor, against the fake Bot API."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import orjson
import pytest

from channels.telegram.service import services
from channels.telegram.tests.conftest import text
from channels.telegram.webhook_info import WebhookMonitor, set_webhook
from gateway.services import read_states

URL = "https://lapor.example.go.id/channels/telegram/webhook"


async def test_set_webhook_sends_secret_and_keeps_pending_updates(make_settings, bot_api):
    s = make_settings(telegram_api_url=bot_api.url, telegram_webhook_url=URL)
    assert await set_webhook(s) is True
    assert bot_api.webhook["url"] == URL and bot_api.webhook["secret_token"] == "test-telegram-secret"
    assert bot_api.webhook["allowed_updates"] == ["message", "edited_message"]
    assert bot_api.webhook["drop_pending_updates"] is False and bot_api.webhook["max_connections"] == 40


async def test_monitor_reports_pending_updates_and_telegrams_last_error(make_settings, bot_api, r):
    s = make_settings(telegram_api_url=bot_api.url, telegram_webhook_url=URL)
    await set_webhook(s)
    bot_api.push(text(1, "a"), text(2, "b"))
    bot_api.webhook_last_error = "Wrong response from the webhook: 503 Service Unavailable"
    mon = WebhookMonitor(SimpleNamespace(settings=s, redis=r))
    await mon.check_once()
    assert mon.state["state"] == "webhook" and mon.state["pending_update_count"] == 2
    assert "503" in mon.state["telegram_last_error"]
    await mon.publish()
    assert (await read_states(r))["telegram-webhook"]["pending_update_count"] == 2


@pytest.mark.parametrize(("registered", "state"), [(None, "no_webhook"),
                                                   ("https://elsewhere.example/hook", "webhook_elsewhere")])
async def test_monitor_flags_a_missing_or_foreign_webhook(make_settings, bot_api, r, registered, state):
    if registered:
        await set_webhook(make_settings(telegram_api_url=bot_api.url, telegram_webhook_url=registered))
    s = make_settings(telegram_api_url=bot_api.url, telegram_webhook_url=URL)
    mon = WebhookMonitor(SimpleNamespace(settings=s, redis=r))
    await mon.check_once()
    assert mon.state["error_kind"] == "invalid" and mon.state["state"] == state
    await set_webhook(s)  # fixed: the next check clears the error
    await mon.check_once()
    assert mon.state["state"] == "webhook" and mon.state["error_kind"] is None


def test_monitor_only_with_a_configured_webhook_url(make_settings):
    assert services(SimpleNamespace(settings=make_settings(), redis=None)) == []  # no network in tests by default
    svcs = services(SimpleNamespace(settings=make_settings(telegram_webhook_url=URL), redis=None))
    assert [type(x).__name__ for x in svcs] == ["WebhookMonitor"]


async def test_monitor_runs_in_the_gateway(make_gateway, bot_api, r):
    await make_gateway(telegram_api_url=bot_api.url, telegram_webhook_url=URL, telegram_webhook_check_s=0.2)
    for _ in range(200):
        st = (await read_states(r)).get("telegram-webhook", {})
        if st.get("state") == "no_webhook":
            break
        await asyncio.sleep(0.05)
    assert st["state"] == "no_webhook" and st["error_kind"] == "invalid"
    assert orjson.dumps(st)  # JSON-serializable for the admin API
