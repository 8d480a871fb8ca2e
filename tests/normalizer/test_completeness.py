"""completeness(): which of location/subject/time/evidence a record lacks; merge_answer and the timeout."""

from __future__ import annotations

from typing import get_args

from normalizer.completeness import completeness, mark_unanswered, merge_answer, needs_question
from normalizer.contract import validate_record
from normalizer.models import Attachment, Flag, ForwardedBy, GeoPoint, ReplyTo
from normalizer.normalize import normalize
from tests.normalizer.helpers import msg
from tests.support.core import assert_valid

PLACELESS = "jalan depan sekolah rusak parah banyak lubang sudah 2 tahun tidak diperbaiki"
PRIVATE = ReplyTo(channel="sms", address="+6281234567890", private=True)


def _valid(rec) -> None:
    d = rec.to_json_dict()
    validate_record(d)
    assert_valid(d)


def test_every_record_carries_completeness_not_asked():
    rec = normalize([msg(PLACELESS)])
    assert rec.completeness is not None
    assert rec.completeness.asked == [] and rec.completeness.answered is None
    assert rec.to_json_dict()["completeness"] == {"missing": ["location", "evidence"], "asked": [],
                                                  "answered": None}
    _valid(rec)


def test_regency_counts_as_location_province_alone_does_not():
    assert "location" not in normalize([msg(PLACELESS + " di kec coblong kota bandung")]).completeness.missing
    only_prov = normalize([msg(PLACELESS + " di Jawa Barat")])
    assert only_prov.location is not None and only_prov.location.province_code == "32"
    assert only_prov.location.regency_code is None
    assert "location" in only_prov.completeness.missing


def test_coordinates_count_as_location():
    rec = normalize([msg(PLACELESS, location=GeoPoint(lat=-6.9, lon=107.6))])
    assert "location" not in rec.completeness.missing


def test_subject_time_and_evidence_slots():
    bare = normalize([msg("tolong pak")])
    assert bare.completeness.missing == ["location", "subject", "time", "evidence"]
    full = normalize([msg("kemarin pagi lampu jalan di kota medan mati semua",
                          attachments=[Attachment(kind="image", mime="image/jpeg")])])
    assert full.completeness.missing == []
    dated = normalize([msg("air pdam mati sejak 12/05/2025")])
    assert "time" not in dated.completeness.missing


def test_needs_question_only_for_private_citizen_complaints_without_place():
    assert needs_question(normalize([msg(PLACELESS, reply_to=PRIVATE)])) == ["location"]
    assert needs_question(normalize([msg(PLACELESS + " di kota bandung", reply_to=PRIVATE)])) == []
    assert needs_question(normalize([msg(PLACELESS, channel="api", reply_to=PRIVATE)])) == []
    public = ReplyTo(channel="twitter", address="1234", private=False)
    assert needs_question(normalize([msg(PLACELESS, channel="twitter", reply_to=public)])) == []
    fwd = normalize([msg(PLACELESS, channel="email", reply_to=PRIVATE,
                         forwarded_by=ForwardedBy(identity="a@kemkes.go.id", organization="kemkes.go.id"))])
    assert needs_question(fwd) == []
    question = normalize([msg("bagaimana cara mengurus akta kelahiran yang hilang? syaratnya apa saja?",
                              reply_to=PRIVATE)])
    assert question.classification == "information_request" and needs_question(question) == []


def test_merge_answer_takes_the_place_from_the_answer():
    held = normalize([msg(PLACELESS + ", hub 0812-3456-7890", reply_to=PRIVATE)])
    merged = merge_answer(held, "di desa cibodas kec. lembang kab bandung barat", answer_id="n2")
    assert merged.body == held.body + "\n\ndi desa cibodas kec. lembang kab bandung barat"
    assert merged.source.message_ids == ["n1", "n2"]
    assert merged.location is not None and merged.location.regency_code == "32.17"
    assert merged.location.district == "Lembang"
    assert merged.completeness.asked == ["location"] and merged.completeness.answered is True
    assert "location" not in merged.completeness.missing
    assert "[NOMOR TELEPON]" in merged.public_body
    assert held.completeness.answered is None and held.source.message_ids == ["n1"]  # pure: input untouched
    _valid(merged)


def test_merge_answer_falls_back_to_the_original_text_and_takes_a_pin():
    held = normalize([msg(PLACELESS + " di Cibinong", reply_to=PRIVATE)])
    assert held.location.province_code == "32" and held.location.regency_code is None  # two Cibinongs
    merged = merge_answer(held, "kabupaten bogor pak")
    assert merged.location.regency_code == "32.01" and merged.location.district == "Cibinong"
    pinned = merge_answer(held, "", answer_id="loc1", answer_location=GeoPoint(lat=-6.48, lon=106.85))
    assert (pinned.location.lat, pinned.location.lon) == (-6.48, 106.85)
    assert "location" not in pinned.completeness.missing
    _valid(pinned)


def test_merge_answer_without_a_place_still_records_the_answer():
    held = normalize([msg(PLACELESS, reply_to=PRIVATE)])
    merged = merge_answer(held, "dekat pasar pak", answer_id="n2")
    assert merged.completeness.answered is True and "location" in merged.completeness.missing
    assert merged.body.endswith("dekat pasar pak")


def test_mark_unanswered():
    held = normalize([msg(PLACELESS, reply_to=PRIVATE)])
    out = mark_unanswered(held)
    assert out.to_json_dict()["completeness"] == {"missing": ["location", "evidence"], "asked": ["location"],
                                                  "answered": False}
    if "incomplete" in get_args(Flag):
        assert "incomplete" in out.flags
    _valid(out)


def test_completeness_is_recomputed_from_the_record():
    rec = normalize([msg(PLACELESS)])
    rec.attachments = []
    assert completeness(rec).missing == ["location", "evidence"]
