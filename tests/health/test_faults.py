"""Faults driven for real — a wrong secret, Redis stopped, a poller's server down, silence — and the
states, reasons, metrics and alerts (webhook, Telegram, email) they must produce, once per transition."""

from __future__ import annotations

import asyncio
import time

import orjson
from aiohttp import web
from pydantic import SecretStr

from channels.core.service import Service
from gateway import metrics
from gateway.admin import ADMIN_KEY
from gateway.alerts import AlertWatcher, sinks_from
from gateway.health_model import HealthModel
from tests.health.history import DAY, HOUR, office_hours, seed
from tests.support.redis_proc import free_port

PATH = "/channels/http/complaints"
ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}
NOON = 1794807000.0  # Monday 2026-11-16 05:30 UTC = 12:30 WIB


def complaint(i: int) -> dict:
    return {"id": f"f-{i}", "text": "Sampah menumpuk di pasar.", "reporter": {"phone": "0811000002"}}


def alerts_for(sink, component: str) -> list[dict]:
    return [a for a in sink.webhook if a["component"] == component]


async def wait_until(pred, timeout: float = 30.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = await pred()
        if v:
            return v
        await asyncio.sleep(step)
    raise AssertionError("condition not reached in time")


async def workers_alive(gw) -> bool:
    return bool(await gw.ctx.redis.zcard("lapor:workers"))


async def test_wrong_secret_fails_with_auth_reason_and_alerts_once(make_gateway, sink):
    # the provider still signs with the old secret; we were configured with a rotated one
    gw = await make_gateway(http_token="rotated-secret", alert_webhook_url=sink.url + "/alert",
                            health_eval_interval_s=3600, health_window_s=60)
    await gw.start_worker()
    await wait_until(lambda: workers_alive(gw))
    watcher = gw.app[ADMIN_KEY].watcher
    for i in range(5):
        status, _b, _h = await gw.post(PATH, json=complaint(i), headers={"Authorization": "Bearer test-http-token"})
        assert status == 403
    await metrics.flush(gw.ctx.redis)
    await watcher.evaluate()
    await watcher.evaluate()  # nothing changed: no second alert

    status, body, _h = await gw.get("/admin/api/channels", headers=ADMIN)
    assert status == 200
    api = next(c for c in orjson.loads(body)["channels"] if c["channel"] == "api")
    assert api["state"] == "failing" and "needs new credentials" in api["reason"]
    assert api["recent"]["rejected_auth"] == 5
    sent = alerts_for(sink, "api")
    assert len(sent) == 1 and sent[0]["state"] == "failing" and "needs new credentials" in sent[0]["reason"]
    assert await gw.ctx.redis.xlen("lapor:inbound") == 0  # nothing of the refused requests was stored

    # later (the window has passed, the secret was fixed): one recovery alert, from whichever process
    later = HealthModel(gw.settings, gw.ctx.redis, clock=lambda: time.time() + 180)
    other_process = AlertWatcher(later, gw.ctx.redis, sinks_from(gw.settings))
    assert [a.component for a in await other_process.evaluate()] == ["api"]
    assert await other_process.evaluate() == []
    sent = alerts_for(sink, "api")
    assert len(sent) == 2 and sent[1]["previous"] == "failing" and sent[1]["state"] == "ok" and sent[1]["recovered"]


async def test_redis_stopped_spools_fails_pipeline_and_recovers(make_gateway, sink, redis_proc, rsync):
    gw = await make_gateway(alert_webhook_url=sink.url + "/alert", health_eval_interval_s=3600)
    await gw.start_worker()
    await wait_until(lambda: workers_alive(gw))
    watcher = gw.app[ADMIN_KEY].watcher
    await watcher.evaluate()
    assert not alerts_for(sink, "pipeline") or alerts_for(sink, "pipeline")[-1]["state"] != "failing"
    before = len(alerts_for(sink, "pipeline"))
    redis_proc.stop()
    try:
        status, _b, _h = await gw.post(PATH, json=complaint(1), headers={"Authorization": "Bearer test-http-token"})
        assert status == 202  # accepted into the local spool
        status, body, _h = await gw.get("/admin/api/health", headers=ADMIN)
        assert status == 200
        doc = orjson.loads(body)
        assert doc["status"] == "failing" and doc["pipeline"]["state"] == "failing"
        assert "Redis unreachable" in doc["pipeline"]["reason"] and doc["pipeline"]["numbers"]["spool_pending"] >= 1
        await watcher.evaluate()
        await watcher.evaluate()
        failing = alerts_for(sink, "pipeline")[before:]
        assert len(failing) == 1 and failing[0]["state"] == "failing" and "Redis" in failing[0]["reason"]
    finally:
        redis_proc.start()
    # the spool drains into the stream; the worker heartbeats again; one recovery alert
    await wait_until(lambda: gw.ctx.redis.xlen("lapor:inbound"))

    async def recovered() -> bool:
        await watcher.evaluate()
        return len(alerts_for(sink, "pipeline")) > before + 1

    await wait_until(recovered, timeout=40, step=0.5)
    rec = alerts_for(sink, "pipeline")[before + 1:]
    assert len(rec) == 1 and rec[0]["previous"] == "failing" and rec[0]["state"] in ("ok", "degraded")
    await metrics.flush(gw.ctx.redis)
    snap = await metrics.read_snapshot(gw.ctx.redis)
    assert metrics.counter_value(snap, "lapor_channel_events", "api", "spooled") == 1  # counted while Redis was down


class TcpPoller(Service):
    """A poller whose server is a TCP peer: connected while the peer is there, backoff when it is not."""

    name = "imap-main"
    channel = "email"

    def __init__(self, r, port: int) -> None:
        super().__init__(r)
        self.port = port
        self.backoff_initial_s = self.backoff_max_s = 0.2

    async def run_once(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.set_state("connected", last_error=None, error_kind=None)
        await self.publish()
        try:
            await reader.read()  # until the server goes away
        finally:
            writer.close()
        raise ConnectionResetError("server closed the connection")


async def test_poller_server_down_fails_after_grace_and_alerts_by_telegram_and_email(make_gateway, sink, smtp):
    smtp_url, box = smtp
    gw = await make_gateway(health_eval_interval_s=3600, health_service_grace_s=0.5,
                            alert_telegram_chat_id="-1001708", telegram_api_url=sink.url,
                            smtp_url=smtp_url, alert_email_to="ops@lapor.go.id")
    port = free_port()  # nobody listens: connection refused
    svc = TcpPoller(gw.ctx.redis, port)
    await svc.start()
    watcher = gw.app[ADMIN_KEY].watcher
    try:
        async def email_state() -> str:
            rep = await watcher.model.report()
            return next(c for c in rep.channels if c.channel == "email").state

        await wait_until(lambda: _eq(email_state(), "failing"), timeout=20)
        rep = await watcher.model.report()
        email = next(c for c in rep.channels if c.channel == "email")
        assert "imap-main: cannot reach its server" in email.reason and "ConnectionRefusedError" in email.reason
        await watcher.evaluate()
        await watcher.evaluate()
        tg = [m for m in sink.telegram if "email" in m["text"]]
        assert len(tg) == 1 and tg[0]["chat_id"] == "-1001708" and "FAILING" in tg[0]["text"]
        mails = [e for e in box.messages if b"email" in e.content]
        assert len(mails) == 1 and mails[0].rcpt_tos == ["ops@lapor.go.id"]

        # the server comes back: connected, ok, one recovery notice on each sink
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
        try:
            await wait_until(lambda: _eq(email_state(), "ok"), timeout=20)
            await watcher.evaluate()
            tg = [m for m in sink.telegram if "email" in m["text"]]
            assert len(tg) == 2 and "RECOVERED" in tg[1]["text"]
            await wait_until(lambda: _true(len([e for e in box.messages if b"email" in e.content]) == 2))
        finally:
            server.close()
    finally:
        await svc.stop()


async def _eq(aw, value) -> bool:
    return (await aw) == value


async def _true(v: bool) -> bool:
    return v


async def test_expired_token_of_a_poller_needs_new_credentials(make_gateway):
    hits = []

    async def mentions(request: web.Request) -> web.Response:  # the provider API: the token has expired
        hits.append(request.headers.get("Authorization"))
        return web.json_response({"title": "Unauthorized", "status": 401}, status=401)

    app = web.Application()
    app.router.add_get("/2/users/1/mentions", mentions)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = "http://{}:{}".format(*runner.addresses[0][:2])

    class AuthError(Exception):
        error_kind = "auth"

    class MentionsPoller(Service):
        name = "twitter-mentions"
        channel = "twitter"

        async def run_once(self) -> None:
            import aiohttp

            async with aiohttp.ClientSession() as s, \
                    s.get(base + "/2/users/1/mentions", headers={"Authorization": "Bearer old"}) as resp:
                if resp.status == 401:
                    raise AuthError(f"{resp.status} Unauthorized")

    gw = await make_gateway(health_eval_interval_s=3600)
    svc = MentionsPoller(gw.ctx.redis)
    await svc.start()
    try:
        model = gw.app[ADMIN_KEY].watcher.model

        async def tw():
            rep = await model.report()
            c = next(c for c in rep.channels if c.channel == "twitter")
            return c if c.state == "failing" else None

        c = await wait_until(tw, timeout=20)
        assert "twitter-mentions: needs new credentials" in c.reason and "perlu kredensial baru" in c.reason_id
        assert hits and hits[0] == "Bearer old"
    finally:
        await svc.stop()
        await runner.cleanup()


async def test_silence_alerts_once_and_recovers(settings, r, sink, smtp):
    smtp_url, box = smtp
    s = settings.model_copy(update={"alert_webhook_url": sink.url + "/alert", "alert_telegram_chat_id": "42",
                                    "telegram_api_url": sink.url, "alert_email_to": "ops@lapor.go.id",
                                    "smtp_url": SecretStr(smtp_url)})
    await seed(r, "sms", NOON - 21 * DAY, NOON - HOUR, office_hours(80))
    now = [NOON]
    watcher = AlertWatcher(HealthModel(s, r, clock=lambda: now[0]), r, sinks_from(s))
    first = await watcher.evaluate()
    assert [a.component for a in first if a.component == "sms"] == ["sms"]
    again = await watcher.evaluate()
    assert all(a.component != "sms" for a in again)
    sms = alerts_for(sink, "sms")
    assert len(sms) == 1 and sms[0]["state"] == "silent" and "no messages" in sms[0]["reason"]
    assert any("sms" in m["text"] and "SILENT" in m["text"] for m in sink.telegram)
    # messages flow again
    metrics.record_at("sms", "received", 3, at=NOON + 30)
    await metrics.flush(r)
    now[0] = NOON + 60
    await watcher.evaluate()
    sms = alerts_for(sink, "sms")
    assert len(sms) == 2 and sms[1]["recovered"] and sms[1]["previous"] == "silent"
    assert len([e for e in box.messages if b"sms" in e.content]) == 2
    recent = await r.lrange("lapor:alert:log", 0, -1)
    assert any(orjson.loads(x)["sinks"].get("webhook") == "sent" for x in recent)


async def test_a_broken_sink_does_not_stop_the_others(settings, r, sink):
    sink.fail_webhook = True
    s = settings.model_copy(update={"alert_webhook_url": sink.url + "/alert", "alert_telegram_chat_id": "42",
                                    "telegram_api_url": sink.url})
    metrics.count("api", "rejected_auth", 9)
    await metrics.flush(r)
    sent = await AlertWatcher(HealthModel(s, r), r, sinks_from(s)).evaluate()
    assert "api" in [a.component for a in sent]
    assert any("api" in m["text"] for m in sink.telegram)
    log = [orjson.loads(x) for x in await r.lrange("lapor:alert:log", 0, -1)]
    api = next(x for x in log if x["component"] == "api")
    assert api["sinks"] == {"webhook": "failed: RuntimeError", "telegram": "sent"}
