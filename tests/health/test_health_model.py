"""The health model with an injected clock: silent vs. normal quiet, classified errors, disabled."""

from __future__ import annotations

import pytest

from channels.core.service import Service
from gateway import metrics
from gateway.health_model import HealthModel
from tests.health.history import DAY, HOUR, office_hours, seed

# Monday 2026-11-16 05:30 UTC = 12:30 WIB, and 20:30 UTC = 03:30 WIB (Tuesday)
NOON = 1794807000.0
NIGHT = NOON + 15 * HOUR


def model(settings, r, now):
    return HealthModel(settings, r, clock=lambda: now)


async def channel(settings, r, now, name="sms"):
    rep = await model(settings, r, now).report()
    return next(c for c in rep.channels if c.channel == name)


async def test_dead_channel_at_noon_is_silent(settings, r):
    await seed(r, "sms", NOON - 21 * DAY, NOON - HOUR, office_hours(60))
    c = await channel(settings, r, NOON)
    assert c.state == "silent"
    assert "no messages for 15 min" in c.reason and "60/h" in c.reason
    assert "tidak ada pesan" in c.reason_id
    assert c.expected_per_hour == pytest.approx(60)


async def test_traffic_at_noon_is_ok(settings, r):
    await seed(r, "sms", NOON - 21 * DAY, NOON - HOUR, office_hours(60))
    metrics.record_at("sms", "received", 4, at=NOON - 300)
    await metrics.flush(r)
    c = await channel(settings, r, NOON)
    assert c.state == "ok", c.reason
    assert c.last_message_at == pytest.approx(NOON - 300)


async def test_quiet_night_is_not_an_alarm(settings, r):
    await seed(r, "sms", NOON - 21 * DAY, NOON - HOUR, office_hours(60))
    c = await channel(settings, r, NIGHT)
    assert c.state == "ok", c.reason


async def test_floor_decides_for_a_thin_channel(make_settings, r):
    await seed(r, "sms", NOON - 21 * DAY, NOON - 6 * HOUR, lambda h: 2)
    assert (await channel(make_settings(silent_floor_per_hour=5), r, NOON)).state == "ok"
    c = await channel(make_settings(silent_floor_per_hour=1), r, NOON)
    assert c.state == "silent"
    assert "no messages for 3 h" in c.reason  # 2/h: three hours are needed before zero means something


async def test_a_few_days_of_history_use_hour_of_day(settings, r):
    await seed(r, "telegram", NOON - 4 * DAY, NOON - HOUR, office_hours(40))
    c = await channel(settings, r, NOON, "telegram")
    assert c.state == "silent"
    assert c.history_days == pytest.approx(4, abs=0.1)


async def test_no_history_is_learning_not_silent(settings, r):
    c = await channel(settings, r, NOON)
    assert c.state == "ok" and "learning" in c.reason


async def test_volume_far_below_normal_is_degraded(settings, r):
    await seed(r, "sms", NOON - 21 * DAY, NOON - HOUR, office_hours(600))
    metrics.record_at("sms", "received", 1, at=NOON - 60)
    await metrics.flush(r)
    c = await channel(settings, r, NOON)
    assert c.state == "degraded" and "only 1 message" in c.reason


async def test_disabled_channel_says_which_setting(make_settings, r):
    c = await channel(make_settings(sms_token=None), r, NOON)
    assert c.state == "disabled" and "LAPOR_SMS_TOKEN" in c.reason


async def test_email_card_is_enabled_by_imap_alone(make_settings, r):
    s = make_settings(email_token=None, imap_host="127.0.0.1", imap_user="lapor", imap_password="pw")
    c = await channel(s, r, NOON, "email")
    assert c.enabled and c.state != "disabled"


class _Svc(Service):
    name = "imap-test"
    channel = "email"


async def test_service_errors_are_classified(settings, r):
    import time

    now = time.time()
    svc = _Svc(r)
    svc.record_error(ConnectionRefusedError("connect refused"), "transient")
    svc.set_state("backoff")
    await svc.publish()
    c = await channel(settings, r, now, "email")
    assert c.state == "degraded" and "reconnecting" in c.reason  # a blip: no alarm
    c = await channel(settings, r, now + settings.health_service_grace_s + 5, "email")
    assert c.state == "failing" and "cannot reach its server" in c.reason
    svc.record_error(PermissionError("LOGIN failed: token expired"), "auth")
    await svc.publish()
    c = await channel(settings, r, now, "email")
    assert c.state == "failing" and "needs new credentials" in c.reason
    assert c.services[0]["name"] == "imap-test"
    svc.set_state("running")
    await svc.publish()
    assert (await channel(settings, r, now, "email")).state == "ok"


async def test_error_rates_from_counters(settings, r):
    import time

    now = time.time()
    metrics.count("api", "rejected_auth", 2)
    metrics.count("api", "received", 30)
    await metrics.flush(r)
    c = await channel(settings, r, now, "api")
    assert c.state == "degraded" and "unauthenticated" in c.reason  # forged requests next to good traffic
    metrics.count("api", "rejected_auth", 40)
    await metrics.flush(r)
    c = await channel(settings, r, now, "api")
    assert c.state == "failing" and "needs new credentials" in c.reason
    # the window passes: the alarm clears by itself
    c = await channel(settings, r, now + settings.health_window_s + 120, "api")
    assert c.state == "ok"


async def test_storage_errors_and_quarantine(settings, r):
    import time

    metrics.count("meta", "error", 5)
    metrics.count("facebook", "quarantined", 1)
    await metrics.flush(r)
    c = await channel(settings, r, time.time(), "meta")
    assert c.state == "failing" and "could not be stored" in c.reason
    assert c.recent["quarantined"] == 1 and c.day["error"] == 5
