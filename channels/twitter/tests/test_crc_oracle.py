"""The CRC endpoint must not sign what an attacker chooses (issue: X CRC signing oracle).

``GET ?crc_token=T`` answers HMAC(consumer secret, T), the same signature X puts on POST bodies.
These tests play the attack over real sockets: ask the CRC endpoint to sign a forged Account
Activity body, post it with whatever signature could be obtained, and check nothing is stored.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.core.inbound import BadRequest, json_object
from channels.twitter.signature import CRC_TOKEN_MAX, crc_token_ok, sign
from tests.support.fixtures import TOKENS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PATH = "/channels/twitter/webhook"
SECRET = TOKENS["twitter_consumer_secret"]
JSON = {"Content-Type": "application/json"}
SIG = "x-twitter-webhooks-signature"


def forged_mention() -> bytes:
    """A mention 'from' a victim, compact JSON as an attacker would send it."""
    doc = json.loads((FIXTURES / "aaa-mention.json").read_bytes())
    doc["tweet_create_events"][0]["id_str"] = "1992000000000009999"
    doc["tweet_create_events"][0]["user"]["screen_name"] = "victim"
    return orjson.dumps(doc)


async def nothing_stored(r) -> None:
    assert await r.xlen("lapor:inbound") == 0
    assert await r.xlen("lapor:quarantine") == 0
    assert [k async for k in r.scan_iter("lapor:idem:*")] == []


async def test_forged_body_cannot_be_signed_through_crc(gateway, r):
    body = forged_mention()
    status, answer, _h = await gateway.get(PATH, params={"crc_token": body.decode()})
    assert status == 400
    assert b"sha256=" not in answer and b"response_token" not in answer
    # the attacker has no signature for the body; anything they could obtain is refused
    status, answered, _h = await gateway.get(PATH, params={"crc_token": "c21va2UtY3JjLXRva2Vu"})
    assert status == 200
    crc_sig = json.loads(answered)["response_token"]
    for header in (crc_sig, sign(body, "guess"), ""):
        status, _b, _h = await gateway.post(PATH, data=body, headers={**JSON, SIG: header})
        assert status in (401, 403), header
    await nothing_stored(r)


async def test_crc_answer_replayed_as_a_body_is_forbidden(gateway, r):
    token = base64.b64encode(b"\x00" * 33).decode()  # valid shape, but what could it sign?
    status, answer, _h = await gateway.get(PATH, params={"crc_token": token})
    assert status == 200
    sig = json.loads(answer)["response_token"]
    assert sig == sign(token.encode(), SECRET)  # a genuine signature of these bytes...
    status, body, _h = await gateway.post(PATH, data=token.encode(), headers={**JSON, SIG: sig})
    assert status == 403 and b"CRC token" in body  # ...refused as the replay it is
    await nothing_stored(r)


@pytest.mark.parametrize("token", [
    '{"for_user_id":"2818371708"}', " YWJj", "YWJj\n", "YWJj YWJj", "YWJj%", "YWJj=YWJj", "YWJj===",
    "A" * (CRC_TOKEN_MAX + 1), "éé", "\ufeffYWJj", "[1]", "1e5.0",
])
async def test_crc_refuses_tokens_not_shaped_like_x(gateway, r, token):
    status, answer, _h = await gateway.get(PATH, params={"crc_token": token})
    assert status == 400, token
    assert b"sha256=" not in answer
    await nothing_stored(r)


@pytest.mark.parametrize("token", [
    "c21va2UtY3JjLXRva2Vu", "9b4507b3-9040-4669-9ba9-3b1b5b8f4e2f", "ab+/cd==", "a_b-c=", "A" * CRC_TOKEN_MAX,
])
async def test_crc_answers_x_shaped_tokens(gateway, token):
    status, answer, _h = await gateway.get(PATH, params={"crc_token": token})
    assert status == 200, token
    assert json.loads(answer) == {"response_token": sign(token.encode(), SECRET)}


@given(st.text(alphabet="ABCXYZabcxyz0189+/-_=", min_size=1, max_size=CRC_TOKEN_MAX + 2))
def test_nothing_a_crc_answer_signs_is_a_json_object(token):
    if not crc_token_ok(token):
        return
    with pytest.raises(BadRequest):
        json_object(token.encode())
