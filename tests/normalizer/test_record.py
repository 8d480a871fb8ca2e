"""Whole records: every field from realistic messages, valid against the contract."""

from __future__ import annotations

from normalizer.contract import validate_record
from normalizer.normalize import NORMALIZER_VERSION, NormalizeContext, normalize
from tests.normalizer.helpers import msg
from tests.support.core import assert_valid


def test_sms_complaint_record():
    text = ("min tlg jln di depan SDN 2 rusak parah bnyk lubang udh 2 thn gk diperbaiki, di kec coblong "
            "kota bandung. hub 0812-3456-7890")
    rec = normalize([msg(text)])
    d = rec.to_json_dict()
    validate_record(d)
    assert_valid(d)
    assert d["classification"] == "complaint"
    assert d["topics"][0] == "roads" and d["suggested_agency"] == "Dinas PUPR kabupaten/kota"
    assert d["language"] == "id"
    assert d["location"]["regency_code"] == "32.73" and d["location"]["district"] == "Coblong"
    assert "0812-3456-7890" not in d["public_body"] and "[NOMOR TELEPON]" in d["public_body"]
    assert d["reporter"]["msisdn"] == "+6281234567890"
    assert d["gateway"]["normalizer"] == NORMALIZER_VERSION != "0.1.0"


def test_information_request_by_email():
    rec = normalize([msg("Dengan hormat, bagaimana cara mengurus akta kelahiran yang hilang? Syaratnya apa saja?",
                         channel="email", title="Pertanyaan akta kelahiran")])
    assert rec.classification == "information_request"
    assert rec.topics[0] == "population-documents"
    assert rec.title == "Pertanyaan akta kelahiran"
    assert_valid(rec.to_json_dict())


def test_multipart_parts_are_joined_before_understanding():
    parts = [msg("air pdam mati sudah 5 hari di kec. ", n=1), msg("Coblong kota bandung", n=2)]
    rec = normalize(parts)
    assert rec.topics[0] == "water"
    assert rec.location is not None and rec.location.district == "Coblong"
    assert rec.source.message_ids == ["n1", "n2"]


def test_follow_up_context_and_flags():
    rec = normalize([msg("sampai sekarang belum ada perbaikan")],
                    NormalizeContext(in_reply_to="01JD0000000000000000000000", extra_flags=["follow_up"]))
    assert rec.conversation is not None and rec.conversation.in_reply_to == "01JD0000000000000000000000"
    assert rec.flags == ["follow_up"]


def test_empty_text_is_flagged_and_valid():
    rec = normalize([msg("   ")])
    assert rec.flags == ["empty_text"] and rec.title == "Laporan via SMS 1708"
    assert rec.language == "und" and rec.topics == []
    assert_valid(rec.to_json_dict())


def test_normalize_is_deterministic():
    m = msg("#anonim pungli di kantor desa kab. lebak, hub 081234567890")
    assert normalize([m]).to_json_dict() == normalize([m]).to_json_dict()


def test_marker_in_email_subject_sets_flag_and_leaves_title():
    rec = normalize([msg("Petugas kelurahan minta uang 100rb untuk surat pengantar.", channel="email",
                         title="[RAHASIA] Pungli di kelurahan")])
    assert rec.confidential is True
    assert rec.title == "Pungli di kelurahan"
    assert rec.topics[0] == "illegal-levies"
