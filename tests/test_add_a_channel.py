"""The worked example of ``docs/architecture.md`` ("Adding a channel"), done for real: a toy channel
package in a temporary directory, added to the registry, shows up in routes, the status report,
the dashboard cards, the metrics, the channel log and the core queue (the record validates)."""

from __future__ import annotations

import asyncio
import textwrap

from channels import registry
from gateway import metrics
from gateway.health_model import HealthModel, cards
from tests.support.core import assert_valid, wait_for_records

TOY_INIT = '''
"""Toy: a partner system that posts plain-text complaints (the docs' worked example)."""

from channels.core.spec import ChannelSpec, Enablement
from toychan.inbound import endpoints

SPEC = ChannelSpec(
    key="toy", package=__name__, records=("api",), identity_kinds=("api",), providers=("toy",),
    labels={"api": "sistem instansi"},
    enabled_by=(Enablement("toy", ("http_token",)),),
    endpoints=endpoints,
)
'''

TOY_INBOUND = '''
"""``POST /channels/toy/inbound``: ``<reporter id>\\n<text>``, bearer ``LAPOR_HTTP_TOKEN``."""

import hashlib

from channels.core.inbound import BadRequest, ChannelRequest, Endpoint, ParseOutcome, record_respond
from channels.core.verify import Bearer
from normalizer.models import InboundMessage, Sender


async def parse(req: ChannelRequest) -> ParseOutcome:
    reporter, _, text = req.body.decode("utf-8", "replace").partition("\\n")
    if not reporter.strip() or not text.strip():
        raise BadRequest("expected <reporter id>\\\\n<text>")
    msg = InboundMessage(
        channel="api", provider="toy", kind="submission",
        native_id=hashlib.sha256(req.body).hexdigest()[:32],
        sender=Sender(kind="api", id=reporter.strip()), text=text.strip(),
        raw=req.body.decode("utf-8", "replace"))
    return ParseOutcome(messages=[msg], respond=record_respond)


def endpoints() -> list[Endpoint]:
    return [Endpoint(channel="toy", path="/channels/toy/inbound", methods=("POST",), parse=parse,
                     authenticate=Bearer("http_token"), max_body=16 * 1024)]
'''


async def test_a_toy_channel_package_is_seen_everywhere(tmp_path, monkeypatch, make_gateway, r, rsync):
    pkg = tmp_path / "toychan"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent(TOY_INIT))
    (pkg / "inbound.py").write_text(textwrap.dedent(TOY_INBOUND))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "CHANNEL_PACKAGES", (*registry.CHANNEL_PACKAGES, "toychan"))

    gw = await make_gateway()
    # routes and the status report
    assert any(getattr(route.resource, "canonical", "") == "/channels/toy/inbound"
               for route in gw.app.router.routes())
    assert {st.name: st.enabled for st in gw.settings.channel_statuses()}["toy"] is True
    assert cards()["toy"] == ("toy", "api")
    # a bad credential and a good request, through the shared wrapper
    assert (await gw.post("/channels/toy/inbound", data=b"r1\nx", headers={"Authorization": "Bearer no"}))[0] == 403
    await gw.start_worker()
    status, answer, _h = await gw.post("/channels/toy/inbound", data=b"warga-7\nJalan berlubang di depan SD",
                                       headers={"Authorization": "Bearer test-http-token"})
    assert status == 202, answer
    # metrics and channel log under the channel key
    await metrics.flush(r)
    snap = await metrics.read_snapshot(r)
    assert metrics.counter_value(snap, metrics.EVENTS.name, "toy", "stored") == 1
    assert metrics.counter_value(snap, metrics.EVENTS.name, "toy", "rejected_auth") == 1
    await gw.ctx.channel_log.flush()
    assert [row["status"] for row in await gw.ctx.channel_log.recent("toy")] == [202, 403]
    # the dashboard's card, fed by the toy's counts
    report = await HealthModel(gw.settings, r).report()
    toy = next(c for c in report.channels if c.channel == "toy")
    assert toy.enabled and toy.state != "disabled" and toy.day.get("stored") == 1
    # and the normalized record reached the core queue, valid against the contract
    (record,) = await asyncio.to_thread(wait_for_records, rsync, 1, 10.0)
    assert_valid(record)
    assert record["source"]["provider"] == "toy" and record["channel"] == "api"
