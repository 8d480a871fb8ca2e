"""Topics and suggested agency from config/topics.yaml, and validation of that file."""

from __future__ import annotations

import pytest

from normalizer import topics
from normalizer.normalize import normalize
from tests.normalizer.helpers import msg

CASES = [
    ("jln rusak parah berlubang", "roads"),
    ("air pdam mati sdh 3 hari", "water"),
    ("mati lampu trs tiap malam", "electricity"),
    ("kartu bpjs nonaktif padahal pbi", "health-insurance"),
    ("dokter puskesmas tidak ada di tempat", "health-services"),
    ("ektp blm jadi udh 6 bln blanko habis", "population-documents"),
    ("bansos pkh gk cair2", "social-aid"),
    ("ijazah ditahan sekolah krn blm bayar uang komite", "education"),
    ("ada pungli, dimintai uang pelicin", "illegal-levies"),
    ("sampah numpuk di tps gk diangkut", "waste"),
    ("kampung kami kebanjiran got mampet", "floods"),
    ("angkot ngetem sembarangan di terminal", "public-transport"),
    ("bikin SIM di polres dipersulit", "police"),
    ("sertifikat tanah ptsl blm jadi", "land"),
    ("tagihan pbb naik 3x lipat", "tax"),
]


@pytest.mark.parametrize(("text", "slug"), CASES)
def test_topic_top1(text, slug):
    assert topics.classify_topics(text)[0] == slug


def test_required_topics_are_shipped():
    shipped = {t.slug for t in topics.load_rules(None).topics}
    assert {"roads", "water", "electricity", "health-insurance", "population-documents", "social-aid",
            "education", "illegal-levies", "waste", "floods", "public-transport", "police", "land",
            "tax"} <= shipped


def test_short_stem_does_not_match_inside_longer_words():
    # "sim" (driving licence) must not fire on "simpang"; "got" (gutter) not on "gotong royong"
    assert "police" not in topics.classify_topics("simpang tiga macet")
    assert "floods" not in topics.classify_topics("gotong royong warga")


def test_no_topic_gives_no_agency():
    rec = normalize([msg("halo selamat pagi")])
    assert rec.topics == [] and rec.suggested_agency is None


def test_record_carries_agency_of_top_topic():
    rec = normalize([msg("listrik padam tiap hari, PLN tidak respon")])
    assert rec.topics[0] == "electricity"
    assert rec.suggested_agency == "PT PLN (Persero)"


def test_admin_rule_file_is_used(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("topics:\n  - slug: mbg\n    label: Makan Bergizi Gratis\n    agency: Badan Gizi Nasional\n"
                    "    phrases: [makan bergizi gratis]\n    stems: [mbg]\n", encoding="utf-8")
    topics.use_rules(topics.load_rules(path))
    try:
        rec = normalize([msg("menu MBG di sekolah basi, anak2 keracunan")])
        assert rec.topics == ["mbg"] and rec.suggested_agency == "Badan Gizi Nasional"
    finally:
        topics.use_rules(None)
    assert normalize([msg("menu MBG basi")]).topics != ["mbg"]


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("topics: []", "non-empty list `topics`"),
    ("just text", "non-empty list `topics`"),
    ("topics:\n  - slug: Roads!\n    agency: X\n    stems: [jalan]\n", "slug must match"),
    ("topics:\n  - slug: a\n    agency: X\n    stems: [x1]\n  - slug: a\n    agency: Y\n    stems: [y1]\n",
     "duplicate slug"),
    ("topics:\n  - slug: a\n    stems: [jalan]\n", "agency must be a non-empty string"),
    ("topics:\n  - slug: a\n    agency: X\n", "needs at least one phrase or stem"),
    ("topics:\n  - slug: a\n    agency: X\n    stems: jalan\n", "stems must be a list"),
    ("topics:\n  - slug: a\n    agency: X\n    stems: [two words]\n", "must be one word"),
    ("topics:\n  - slug: a\n    agency: X\n    stems: [x]\n    colour: red\n", "unknown key(s) colour"),
    ("topics: [\n", "not valid YAML"),
])
def test_invalid_rule_files_fail_with_a_clear_message(tmp_path, yaml_text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(topics.RulesError) as exc:
        topics.load_rules(path)
    assert message in str(exc.value)
    assert str(path) in str(exc.value)


def test_every_problem_is_listed_at_once(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("topics:\n  - slug: A\n  - slug: b\n    agency: ''\n    stems: [ok]\n", encoding="utf-8")
    with pytest.raises(topics.RulesError) as exc:
        topics.load_rules(path)
    text = str(exc.value)
    assert "topics[0] (A)" in text and "topics[1] (b)" in text


def test_missing_rule_file_is_a_clear_error(tmp_path):
    with pytest.raises(topics.RulesError, match="cannot read"):
        topics.load_rules(tmp_path / "nope.yaml")
