"""Property tests: any bytes, any coding — decoded or flagged, never an exception or a 500."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.sms import decoding, encoding
from channels.sms.keywords import strip_keywords

CODECS = ["gsm", "ucs2", "latin1", "ascii", "binary", "kannel-text", "py:utf-8", "py:cp1252", "py:nonexistent"]


@given(st.binary(max_size=300), st.sampled_from(CODECS))
def test_decode_never_raises(data, codec):
    dec = decoding.decode(data, codec)
    assert isinstance(dec.text, str)
    assert dec.error or "\ufffd" not in dec.text or "\ufffd".encode() in data


@given(st.binary(max_size=40))
def test_split_udh_never_raises(data):
    concat, rest, ok = decoding.split_udh(data)
    assert ok or rest == data
    if concat is not None:
        assert 1 <= concat.seq <= concat.total


@given(st.integers(min_value=0, max_value=255))
def test_every_data_coding_has_a_codec(dcs):
    assert decoding.codec_for_data_coding(dcs) in {"gsm", "ucs2", "latin1", "ascii", "binary"}


@given(st.text(max_size=700))
def test_split_round_trips(text):
    try:
        enc = encoding.split(text, ref=1)
    except ValueError:
        return  # more than 255 parts
    codec = "gsm03.38" if enc.data_coding == encoding.DC_GSM else "utf-16-be"
    body = [p[6:] if enc.esm_class else p for p in enc.parts]
    assert "".join(b.decode(codec, "surrogatepass") for b in body) == text


@given(st.text(max_size=60))
def test_keywords_only_strip_a_prefix(text):
    kw = strip_keywords(text)
    assert text.endswith(kw.body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200), udh=st.binary(max_size=12), coding=st.sampled_from(["", "0", "1", "2", "x"]),
       charset=st.sampled_from(["", "UTF-8", "UTF-16BE", "WINDOWS-1252", "nonsense", "ISO-8859-1"]))
async def test_kannel_any_bytes_is_stored_or_a_clear_400(gateway, data, udh, coding, charset):
    url = ("/channels/sms/kannel?token=test-sms-token&kid=fz&from=081234567890&to=1708&smsc=x&ts=1"
           f"&coding={coding}&charset={charset}&udh={quote_from_bytes(udh)}&bin={quote_from_bytes(data)}")
    status, _body, _h = await gateway.get(url)
    assert status in (202, 400)
