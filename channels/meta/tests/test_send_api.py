"""Send API acknowledgements against a local fake Graph API that checks every request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ulid import ULID

from channels.core.outbound import OutboundMessage, PermanentSendError, TransientSendError
from channels.meta.send import MetaSender
from tests.support.fixtures import TOKENS

PAGE = "101010101010101"
TOKEN = TOKENS["meta_page_token"]


def out(address: str = "6543210987654321", *, private: bool = True, thread: str | None = None,
        sent_at: datetime | None = None, channel: str = "facebook") -> OutboundMessage:
    sent = sent_at or datetime.now(UTC) - timedelta(minutes=3)
    return OutboundMessage(channel=channel, address=address, text="Terima kasih, nomor referensi LPR-ABCDE-FGHJK.",
                           record_id=str(ULID()), reference="LPR-ABCDE-FGHJK", private=private, thread=thread,
                           meta={"sent_at": sent.isoformat().replace("+00:00", "Z")})


@pytest.mark.parametrize(("msg", "recipient"), [
    (out(), {"id": "6543210987654321"}),
    (out("9988776655443322", channel="instagram"), {"id": "9988776655443322"}),
    (out("101010_303030", private=False, thread="101010_202020"), {"comment_id": "101010_303030"}),
    (out("17890000000000001", private=False, thread="17900000000000002", channel="instagram"),
     {"comment_id": "17890000000000001"}),
    (out("101010_505050", private=False), {"post_id": "101010_505050"}),
    (out("17890000000000002", private=False, channel="instagram"), {"comment_id": "17890000000000002"}),
], ids=["messenger", "instagram-dm", "fb-comment-private-reply", "ig-comment-private-reply", "visitor-post",
        "ig-comment-without-media"])
async def test_request_shape(graph, make_settings, msg, recipient):
    api = MetaSender(make_settings(meta_graph_url=graph.url, meta_page_id=PAGE))
    await api(msg)
    assert graph.rejected == []
    (call,) = graph.calls
    assert call["node"] == PAGE
    assert call["body"] == {"recipient": recipient, "messaging_type": "RESPONSE", "message": {"text": msg.text}}


async def test_without_page_id_posts_to_me(graph, make_settings):
    await MetaSender(make_settings(meta_graph_url=graph.url))(out())
    assert [c["node"] for c in graph.calls] == ["me"]


async def test_wrong_token_is_permanent(graph, make_settings):
    api = MetaSender(make_settings(meta_graph_url=graph.url, meta_page_id=PAGE, meta_page_token="revoked"))
    with pytest.raises(PermanentSendError, match="code 190"):
        await api(out())
    assert graph.calls == [] and graph.rejected[0][0].startswith("Invalid OAuth")


async def test_429_is_transient_with_retry_after(graph, make_settings):
    graph.failures.append((429, {"error": {"message": "too many", "code": 4}}, {"Retry-After": "7"}))
    with pytest.raises(TransientSendError) as exc:
        await MetaSender(make_settings(meta_graph_url=graph.url, meta_page_id=PAGE))(out())
    assert exc.value.retry_after == 7.0


async def test_page_rate_limit_in_a_400_is_transient(graph, make_settings):
    graph.failures.append((400, {"error": {"message": "(#613) Calls to this api have exceeded the rate limit.",
                                           "code": 613}}, {}))
    with pytest.raises(TransientSendError) as exc:
        await MetaSender(make_settings(meta_graph_url=graph.url, meta_page_id=PAGE))(out())
    assert exc.value.retry_after == 60.0


async def test_5xx_is_transient(graph, make_settings):
    graph.failures.append((503, {"error": {"message": "Service temporarily unavailable", "code": 2}}, {}))
    with pytest.raises(TransientSendError):
        await MetaSender(make_settings(meta_graph_url=graph.url, meta_page_id=PAGE))(out())


async def test_user_refusal_is_permanent(graph, make_settings):
    graph.failures.append((400, {"error": {"message": "(#551) This person isn't available right now.",
                                           "code": 551}}, {}))
    with pytest.raises(PermanentSendError, match="code 551"):
        await MetaSender(make_settings(meta_graph_url=graph.url, meta_page_id=PAGE))(out())


async def test_outside_24_hours_is_permanent_and_not_sent(graph, make_settings):
    api = MetaSender(make_settings(meta_graph_url=graph.url, meta_page_id=PAGE))
    with pytest.raises(PermanentSendError, match="24-hour"):
        await api(out(sent_at=datetime.now(UTC) - timedelta(hours=25)))
    old = out()
    old.meta = {}
    old.record_id = str(ULID.from_datetime(datetime.now(UTC) - timedelta(days=2)))  # receipt time as fallback
    with pytest.raises(PermanentSendError, match="24-hour"):
        await api(old)
    assert graph.calls == [] and graph.rejected == []


async def test_unreachable_graph_is_transient(make_settings):
    from tests.support.redis_proc import free_port

    api = MetaSender(make_settings(meta_graph_url=f"http://127.0.0.1:{free_port()}/v21.0", meta_page_id=PAGE))
    with pytest.raises(TransientSendError, match="unreachable"):
        await api(out())
