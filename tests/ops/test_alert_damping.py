"""Alerts tell the truth: no alert in the start-up grace, a state must hold, flapping is said once."""

from __future__ import annotations

import smtplib

import pytest

from gateway.alerts import FLAPPING, AlertWatcher, Damping, EmailSink
from gateway.health_model import ChannelHealth, HealthReport, PipelineHealth


class Script:
    """A health model whose answer the test sets (the watcher under test is the real one, on real Redis)."""

    def __init__(self) -> None:
        self.state = {"sms": "ok", "pipeline": "ok"}
        self.now = 1_000_000.0

    async def report(self) -> HealthReport:
        ch = [ChannelHealth("sms", self.state["sms"], f"sms {self.state['sms']}", "-", True)]
        return HealthReport(self.now, "ok", ch, PipelineHealth(self.state["pipeline"], "p", "p"))


@pytest.fixture
def script():
    return Script()


def watcher(script: Script, r, **damping) -> AlertWatcher:
    return AlertWatcher(script, r, [], damping=Damping(**damping), clock=lambda: script.now)  # type: ignore[arg-type]


async def test_no_alert_during_the_start_up_grace(script, r):
    w = watcher(script, r, startup_grace_s=120)
    script.state["pipeline"] = "failing"  # no worker yet: the usual first seconds
    assert await w.evaluate() == []
    script.now += 60
    script.state["pipeline"] = "ok"
    assert await w.evaluate() == []
    script.now += 61  # grace over, everything fine: still nothing to say
    assert await w.evaluate() == []
    script.state["pipeline"] = "failing"
    assert [a.state for a in await w.evaluate()] == ["failing"]


async def test_a_state_must_hold_before_it_alerts(script, r):
    w = watcher(script, r, hold_s=60)
    script.state["sms"] = "failing"
    assert await w.evaluate() == []
    script.now += 30
    script.state["sms"] = "ok"  # a blip: never alerted
    assert await w.evaluate() == []
    script.state["sms"] = "failing"
    script.now += 10
    assert await w.evaluate() == []
    script.now += 59
    assert await w.evaluate() == []
    script.now += 1
    (alert,) = await w.evaluate()
    assert (alert.component, alert.state) == ("sms", "failing")


async def test_flapping_is_said_once_and_then_where_it_settled(script, r):
    w = watcher(script, r, flap_window_s=600, flap_threshold=4)
    other = watcher(script, r, flap_window_s=600, flap_threshold=4)  # a second gateway process
    sent = []
    for i in range(10):
        script.state["sms"] = "failing" if i % 2 == 0 else "ok"
        script.now += 30
        sent += await w.evaluate()
        sent += await other.evaluate()
    states = [a.state for a in sent if a.component == "sms"]
    assert states == ["failing", "ok", "failing", FLAPPING]  # then silence while it flaps
    flap = sent[-1]
    assert "flapping" in flap.reason and not flap.recovered and "FLAPPING" in flap.text()
    script.now += 300
    assert await w.evaluate() == [] and await other.evaluate() == []  # not yet stable for a window
    script.now += 301
    settled = await w.evaluate() + await other.evaluate()
    assert [(a.previous, a.state) for a in settled] == [(FLAPPING, "ok")]  # once, from one process
    assert "stable again" in settled[0].reason
    script.state["sms"] = "failing"  # afterwards: ordinary alerts again
    script.now += 700
    assert [a.state for a in await w.evaluate()] == ["failing"]


# ------------------------------------------------------------------ the email sink never sends credentials in clear
def test_credentials_force_starttls_and_insecure_is_loopback_only():
    assert EmailSink("smtp://u:p@mail.example:587", "a@b", "c@d", 5).starttls is True
    assert EmailSink("smtps://u:p@mail.example", "a@b", "c@d", 5).starttls is False  # TLS from the start
    assert EmailSink("smtp://relay.example:25", "a@b", "c@d", 5).starttls is False  # no credentials to protect
    assert EmailSink("smtp://u:p@127.0.0.1:2525?insecure=1", "a@b", "c@d", 5).starttls is False
    with pytest.raises(ValueError, match="loopback"):
        EmailSink("smtp://u:p@mail.example:25?insecure=1", "a@b", "c@d", 5)


async def test_a_server_without_starttls_gets_no_credentials(smtp_plain):
    url, box = smtp_plain
    host_port = url.removeprefix("smtp://")
    sink = EmailSink(f"smtp://alerts:hunter2@{host_port}", "gw@lapor.go.id", "ops@lapor.go.id", 5)
    from gateway.alerts import Alert

    with pytest.raises(smtplib.SMTPNotSupportedError):
        await sink.send(Alert("sms", "ok", "failing", "r", "r", 0.0))
    assert box.messages == [] and box.auth_attempts == []
    # explicitly allowed on loopback (tests, a local relay): then it does log in without TLS
    insecure = EmailSink(f"smtp://alerts:hunter2@{host_port}?insecure=1", "gw@lapor.go.id", "ops@lapor.go.id", 5)
    await insecure.send(Alert("sms", "ok", "failing", "r", "r", 0.0))
    assert len(box.messages) == 1 and len(box.auth_attempts) == 1


async def test_a_starting_gateway_without_workers_sends_no_alert(make_gateway):
    from gateway.admin import ADMIN_KEY

    gw = await make_gateway(alert_startup_grace_s=120, alert_hold_s=60)  # the shipped defaults
    watcher = gw.app[ADMIN_KEY].watcher
    report_sent = await watcher.evaluate()
    assert watcher.last_report is not None and watcher.last_report.pipeline.state == "failing"  # no worker yet
    assert report_sent == [] and await gw.ctx.redis.llen("lapor:alert:log") == 0


def test_settings_refuse_insecure_smtp_to_a_remote_server(monkeypatch):
    from config.settings import SettingsError, load_settings

    monkeypatch.setenv("LAPOR_SMTP_URL", "smtp://u:secret-pw@mail.example:25?insecure=1")
    with pytest.raises(SettingsError, match="loopback") as exc:
        load_settings()
    assert "secret-pw" not in str(exc.value)
    monkeypatch.setenv("LAPOR_SMTP_URL", "smtp://u:p@127.0.0.1:2525?insecure=1")
    assert load_settings().smtp_url is not None
