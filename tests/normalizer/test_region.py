"""Province, regency/city and district from the text, with Kemendagri codes."""

from __future__ import annotations

import pytest

from normalizer.models import GeoPoint
from normalizer.normalize import normalize
from normalizer.region import find_region
from tests.normalizer.helpers import msg

# text, province code, regency code, district
CASES = [
    ("jalan rusak di Kec. Coblong Kota Bandung", "32", "32.73", "Coblong"),
    ("bansos di kab bandung gk cair", "32", "32.04", None),
    ("KABUPATEN BANDUNG kec. Baleendah", "32", "32.04", "Baleendah"),
    ("Kab. Malang, Kec. Dau", "35", "35.07", "Dau"),
    ("kabupaten malang", "35", "35.07", None),
    ("kota malang", "35", "35.73", None),
    ("banjir di jaksel", "31", "31.74", None),
    ("macet parah daerah jakut", "31", "31.72", None),
    ("pdam mati di Sleman jogja", "34", "34.04", None),
    ("di Kota Jogja", "34", "34.71", None),
    ("warga gunungkidul", "34", "34.03", None),
    ("di Solo", "33", "33.72", None),
    ("ktp di dukcapil kota Tangerang Selatan", "36", "36.74", None),
    ("Prov. Jawa Timur", "35", None, None),
    ("jalan rusak di Jatim", "35", None, None),
    ("warga kec. cibinong kab bogor", "32", "32.01", "Cibinong"),
    ("di Cibinong", "32", None, None),  # Kab. Bogor and Kab. Cianjur both have one: province only
    ("banjir di Cibinong, Cianjur", "32", "32.03", "Cibinong"),
    ("Kota Banjar", "32", "32.79", None),
]

AMBIGUOUS = [
    # Kabupaten vs Kota Bandung: province known, regency left open rather than guessed
    ("di Bdg jalan rusak", "32"),
    ("di bandung", "32"),
    ("di Malang jalan rusak", "35"),
    ("di Jakarta", "31"),
    ("di jogja", "34"),
]

NOTHING = [
    "sungai penuh sampah",  # Kota Sungai Penuh, but here a river full of rubbish
    "nasib kami malang sekali",
    "tebing tinggi longsor",
    "batu bara berserakan",
    "di pinggir jalan",  # Pinggir is a district in Bengkalis
    "rapat di balai desa",  # Balai is a district in Sanggau
    "bau bau busuk",
    "Jl. Sudirman no 5",
    "",
]


@pytest.mark.parametrize(("text", "prov", "reg", "dist"), CASES)
def test_region(text, prov, reg, dist):
    m = find_region(text)
    assert (m.province_code, m.regency_code, m.district) == (prov, reg, dist)


@pytest.mark.parametrize(("text", "prov"), AMBIGUOUS)
def test_ambiguous_names_leave_regency_unresolved(text, prov):
    m = find_region(text)
    assert m.province_code == prov and m.regency_code is None


@pytest.mark.parametrize("text", NOTHING)
def test_everyday_words_are_not_places(text):
    assert not find_region(text).found


def test_district_in_many_regencies_resolved_by_regency_named_nearby():
    # Sukajadi exists in several regencies; with Kota Bandung named it is the Bandung one
    m = find_region("Kec. Sukajadi, Kota Bandung")
    assert (m.regency_code, m.district) == ("32.73", "Sukajadi")


def test_district_in_many_regencies_without_regency_is_left_open():
    m = find_region("kec. sukajadi")
    assert m.regency_code is None and m.district is None


def test_ambiguous_city_resolved_by_district():
    m = find_region("Kec. Kepanjen, Malang")  # Kepanjen is in Kabupaten Malang
    assert m.regency_code == "35.07" and m.district == "Kepanjen"


def test_names_do_not_span_punctuation():
    assert find_region("Permisi pak, Kalsel, jalan rusak").province_code == "63"


def test_record_location_names_and_codes():
    rec = normalize([msg("jalan rusak di kec coblong kota bandung")])
    loc = rec.location
    assert loc is not None
    assert (loc.province_code, loc.province, loc.regency_code, loc.regency, loc.district) == (
        "32", "Jawa Barat", "32.73", "Kota Bandung", "Coblong")
    assert loc.lat is None and loc.text is None


def test_channel_coordinates_fill_lat_lon_and_place_text_is_used():
    rec = normalize([msg("jalan berlubang di sini", channel="telegram",
                         location=GeoPoint(lat=-7.7956, lon=110.3695, text="Kota Yogyakarta, DIY"))])
    loc = rec.location
    assert loc is not None
    assert (loc.lat, loc.lon, loc.text) == (-7.7956, 110.3695, "Kota Yogyakarta, DIY")
    assert (loc.province_code, loc.regency_code) == ("34", "34.71")


def test_no_place_no_location():
    assert normalize([msg("air mati sudah 3 hari")]).location is None


def test_sms_routing_keyword_names_the_regency():
    m = find_region("TANGKAB jalan rusak di depan pasar")
    assert (m.province_code, m.regency_code) == ("36", "36.03")


def test_regency_name_that_is_a_district_of_the_named_regency():
    # Depok is a city in West Java and a district of Sleman; with Sleman named it is the district
    m = find_region("jalan rusak di Depok, Sleman")
    assert (m.province_code, m.regency_code, m.district) == ("34", "34.04", "Depok")
    assert find_region("jalan rusak di Depok").regency_code == "32.76"


def test_gazetteer_spelling_corrections():
    from normalizer.region import DISTRICTS

    assert DISTRICTS["32.03.20"].name == "Cibinong"
    assert DISTRICTS["32.03.06"].name == "Bojongpicung"
    assert DISTRICTS["32.03.18"].name == "Pagelaran"
    assert DISTRICTS["32.09.22"].name == "Kapetakan" and DISTRICTS["16.06.13"].name == "Lawang Wetan"
    names = {d.name for d in DISTRICTS.values()}
    assert not names & {"Cubinong", "Bonjogpicung", "Pagelarang", "Kepetakan", "Lawan Wetan"}
    assert find_region("jalan rusak di kec. bojongpicung").regency_code == "32.03"


@pytest.mark.parametrize(("text", "prov", "reg"), [
    ("banjir di Cibinong", "32", None),  # Kab. Bogor and Kab. Cianjur: both Jawa Barat
    ("warga Cibinong, Kab. Cianjur", "32", "32.03"),
    ("lampu jalan mati di Pagelaran", None, None),  # Cianjur, Malang, Pandeglang, Pringsewu: several provinces
])
def test_ambiguous_name_in_one_province_sets_the_province(text, prov, reg):
    m = find_region(text)
    assert (m.province_code, m.regency_code) == (prov, reg)


def test_city_district_names_without_a_cue_and_medan_as_a_word():
    m = find_region("jalan berlubang Medan Sunggal dekat pasar")
    assert (m.regency_code, m.district, m.district_code) == ("12.71", "Medan Sunggal", "12.71.02")
    assert not find_region("medan jalannya berat sekali, banyak tanjakan").found
    assert find_region("warga medan mengeluh").regency_code == "12.71"


@pytest.mark.parametrize(("address", "prov", "reg"), [
    ("pengaduan@bogorkab.go.id", "32", "32.01"),
    ("dinkes@bogorkota.go.id", "32", "32.71"),
    ("humas@dinkes.bogorkab.go.id", "32", "32.01"),
    ("admin@surabaya.go.id", "35", "35.78"),
    ("lapor@slemankab.go.id", "34", "34.04"),
    ("ppid@jakarta.go.id", "31", None),
    ("set@jabarprov.go.id", "32", None),
    ("info@kemkes.go.id", None, None),
    ("warga@gmail.com", None, None),
    (None, None, None),
])
def test_region_from_agency_email(address, prov, reg):
    from normalizer.region import region_from_email

    m = region_from_email(address)
    assert (m.province_code, m.regency_code) == (prov, reg)


def test_forward_without_a_place_takes_the_agency_domain():
    from normalizer.models import ForwardedBy
    from normalizer.normalize import normalize
    from tests.normalizer.helpers import msg

    fwd = ForwardedBy(identity="pengaduan@bogorkab.go.id", organization="bogorkab.go.id")
    rec = normalize([msg("jalan rusak parah sudah setahun", channel="email", forwarded_by=fwd)])
    assert rec.location is not None and rec.location.regency_code == "32.01"
    named = normalize([msg("jalan rusak parah di kota bandung", channel="email", forwarded_by=fwd)])
    assert named.location.regency_code == "32.73"  # the text's place wins
    plain = normalize([msg("jalan rusak parah sudah setahun", channel="email")])
    assert plain.location is None
