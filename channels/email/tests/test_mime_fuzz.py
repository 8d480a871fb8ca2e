"""Malformed MIME never crashes the parser: mutated fixtures and random bytes always give a result."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email.mime import build
from config.settings import Settings, load_settings
from gateway.blobs import FileBlobStore
from normalizer.models import InboundMessage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLES = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml")) if p.stat().st_size < 4000]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, FileBlobStore]:
    s = load_settings(data_dir=tmp_path_factory.mktemp("fuzz"), email_token="x")
    return s, FileBlobStore(s.blobs_path, s.blob_max_bytes)


def check(raw: bytes, env: tuple[Settings, FileBlobStore]) -> None:
    result = build(raw, env[0], env[1])
    assert (result.skipped is None) == bool(result.messages)
    for m in result.messages:
        InboundMessage.model_validate_json(m.model_dump_json())  # survives the stream round trip
        assert m.sender.id and m.native_id


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sample=st.sampled_from(SAMPLES), data=st.data())
def test_mutated_fixtures_never_crash(env, sample, data):
    raw = bytearray(sample)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip":
            raw[pos] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del raw[pos:pos + data.draw(st.integers(1, 200))]
        else:
            raw[pos:pos] = data.draw(st.sampled_from([b"\r\n--", b"=?utf-8?B?", b"\x00", b"\n\n", b"=\r\n", b">",
                                                      b"Content-Type: multipart/mixed; boundary=x\n"]))
        if not raw:
            raw = bytearray(b"x")
    check(bytes(raw), env)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(min_size=1, max_size=2000))
def test_random_bytes_never_crash(env, raw):
    check(raw, env)


def test_charset_label_with_a_nul_byte_is_treated_as_unknown():
    from channels.email.decoding import decode_bytes

    text, replaced = decode_bytes(b"Air PDAM mati", "utf-8\x00")
    assert text == "Air PDAM mati" and not replaced
