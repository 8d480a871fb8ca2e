"""Province, regency/city and district named in a message, with Kemendagri codes.

The gazetteer (``normalizer/data``) is compiled at import into one dictionary from word
sequences to places, and a message is scanned once, longest name first, so the cost does
not grow with the number of regions. Each name found is weighed by the word before it
(``Kab.``/``Kota``/``Kec.``/``Prov.``, or a locative like "di"); a name that fits several
places is narrowed by the other names in the message and otherwise left unresolved.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from itertools import compress
from typing import Literal

from normalizer.text import place_tokens, raw_tokens

Level = Literal["prov", "reg", "dist"]


@dataclass(frozen=True)
class Place:
    level: Level
    code: str  # dotted Kemendagri code: "32", "32.73", "32.73.08"
    name: str  # as in the gazetteer: "Jawa Barat", "Kota Bandung", "Coblong"
    kind: str  # "prov", "kab", "kota", "kec"
    province_code: str
    regency_code: str | None


@dataclass(frozen=True)
class RegionMatch:
    province_code: str | None = None
    province: str | None = None
    regency_code: str | None = None
    regency: str | None = None
    district: str | None = None
    district_code: str | None = None

    @property
    def found(self) -> bool:
        return self.province_code is not None


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("normalizer").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


PROVINCES: dict[str, Place] = {}
REGENCIES: dict[str, Place] = {}
DISTRICTS: dict[str, Place] = {}
_INDEX: dict[tuple[str, ...], list[Place]] = {}

_PROVINCE_ALIASES = {
    "11": ["nad", "nanggroe aceh darussalam"], "12": ["sumut"], "13": ["sumbar"], "15": [], "16": ["sumsel"],
    "19": ["babel", "bangka belitung"], "21": ["kepri"], "31": ["jakarta", "dki", "dki jakarta", "jkt"],
    "32": ["jabar"], "33": ["jateng"], "34": ["diy", "yogyakarta", "jogja", "yogya", "jogjakarta", "jogjakarta",
                                              "djogja", "ygy"],
    "35": ["jatim"], "52": ["ntb"], "53": ["ntt"], "61": ["kalbar"], "62": ["kalteng"], "63": ["kalsel"],
    "64": ["kaltim"], "65": ["kaltara"], "71": ["sulut"], "72": ["sulteng"], "73": ["sulsel"],
    "74": ["sultra"], "76": ["sulbar"], "82": ["malut"], "92": ["pabar"], "96": ["pbd"],
}
# short forms of regencies/cities; several codes = ambiguous on purpose (Bdg: Kab. or Kota Bandung)
_REGENCY_ALIASES = {
    "jaksel": ["31.74"], "jakut": ["31.72"], "jakbar": ["31.73"], "jaktim": ["31.75"], "jakpus": ["31.71"],
    "bdg": ["32.04", "32.73"], "bandung": ["32.04", "32.73"], "sby": ["35.78"], "suroboyo": ["35.78"],
    "smg": ["33.22", "33.74"], "solo": ["33.72"], "mks": ["73.71"], "plg": ["16.71"], "pku": ["14.71"],
    "bks": ["32.16", "32.75"], "tng": ["36.03", "36.71"], "tangsel": ["36.74"], "bgr": ["32.01", "32.71"],
    "dpk": ["32.76"], "mdn": ["12.71"], "btm": ["21.71"], "jogja": ["34.71"], "yogya": ["34.71"],
    "jogjakarta": ["34.71"], "gunung kidul": ["34.03"], "kulonprogo": ["34.01"], "sidoarjo": ["35.15"],
    "tasik": ["32.06", "32.78"], "cirebon": ["32.09", "32.74"], "purwokerto": ["33.02"],
    "jember": ["35.09"], "banyuwangi": ["35.10"], "pontianak": ["61.71"],
    "balikpapan": ["64.71"], "samarinda": ["64.72"], "denpasar": ["51.71"], "lamongan": ["35.24"],
    "tangkab": ["36.03"],  # SMS routing keyword of Kabupaten Tangerang
}
# regency names that are everyday words ("sungai penuh sampah", "batu bara", "nasib malang"):
# only taken with a cue before them (Kab./Kota/di/dari/warga...)
_COMMON_NAMES = {
    "batang", "serang", "lebak", "batu", "banjar", "pati", "agam", "bima", "sigi", "karo", "belu", "ende",
    "muna", "buru", "kaur", "lingga", "bone", "metro", "palu", "padang", "puncak", "paser", "tapin",
    "landak", "tual", "toba", "kudus", "lahat", "malaka", "ketapang", "medan", "malang", "sungai penuh",
    "tebing tinggi", "padang panjang", "batu bara", "bau bau", "empat lawang", "tanah laut", "tanah datar",
    "kota", "tegal", "sampang", "depok", "pagar alam", "siak", "buol", "jambi", "kendal", "nias",
    "mimika", "kapuas", "dairi", "gowa", "maros", "luwu", "wajo", "barru", "tebo", "bungo", "berau",
    "natuna", "pidie", "sabang", "langsa", "pasaman", "solok", "dompu", "sumba", "lembata", "ngada",
    "manggarai", "poso", "buton", "tuban", "blora", "kediri", "madiun", "bangli", "binjai", "kampar",
    "bintan", "karimun", "jepara", "rembang", "grobogan", "pemalang", "paniai", "sarmi",
    "keerom", "nduga", "deiyai", "merangin", "seluma", "kepahiang", "lebong", "sintang", "melawi",
    "sekadau", "sambas", "sanggau", "katingan", "seruyan", "tabalong", "konawe", "kolaka", "bombana",
    "jeneponto", "takalar", "bantaeng", "sinjai", "soppeng", "pinrang", "enrekang", "majene", "mamasa",
}
_CUE_PROV = {"prov", "provinsi", "propinsi", "prop", "provinces", "province"}
_CUE_KAB = {"kab", "kabupaten", "kb", "kabupatn", "regency"}
_CUE_KOTA = {"kota", "kot", "kodya", "kotamadya", "kotamadia", "city", "pemkot"}
_CUE_KEC = {"kec", "kecamatan", "kcmtn", "kcm", "kecamtan", "distrik"}
_CUE_LOC = {"di", "dari", "ke", "daerah", "wilayah", "warga", "kawasan", "sekitar", "dr", "dri", "area",
            "domisili", "lokasi", "in"}
# the next name is a street, village, school or person, not a region ("Jl. Pemuda", "Desa Cibodas")
_BLOCK = {"jalan", "jl", "jln", "gang", "gg", "desa", "ds", "kel", "kelurahan", "dusun", "dsn", "perum",
          "perumahan", "komplek", "kompleks", "bank", "pt", "cv", "no", "nomor", "pak", "bu", "bapak", "ibu",
          "sdn", "smpn", "sman", "smkn", "universitas", "univ", "masjid", "kampung", "kp", "blok", "nasi",
          "rumah", "makan", "polda", "jurusan", "trayek", "toko", "hotel", "mas", "mbak", "bang", "sdr", "an"}
# district names that are also everyday words never count without "Kec."
_COMMON_WORDS = {
    "baru", "tengah", "utara", "selatan", "barat", "timur", "kota", "pusat", "pasar", "jaya", "raya", "indah",
    "makmur", "sejahtera", "merdeka", "kampung", "sungai", "gunung", "bukit", "pantai", "pulau", "teluk",
    "tanjung", "air", "batu", "danau", "hilir", "hulu", "laut", "muara", "pesisir", "rawa", "sawah", "kebun",
    "lubuk", "tanah", "kali", "pasir", "padang", "kuala", "bandar", "sukamaju", "kedung", "mulya", "mekar",
    "bumi", "karang", "lama", "kecil", "besar", "dua", "tiga", "satu", "empat", "lima", "enam",
    "sebelas", "tujuh", "delapan", "sembilan", "sepuluh", "bersatu", "mandiri", "damai", "sentosa",
    "harapan", "permai", "asri", "abadi", "sari", "rejo", "kulon", "wetan", "lor", "kidul", "bulan",
    "rusak", "jalan", "banjir", "sampah", "listrik", "sekolah", "desa", "kantor", "dinas", "rumah",
    "pagi", "siang", "malam", "sore", "hari", "minggu", "tahun", "senin", "selasa", "rabu", "kamis", "jumat",
    "sabtu", "bayar", "uang", "mati", "tidak", "sudah", "belum", "sama", "saja", "lagi", "juga", "bisa",
    "kami", "saya", "kita", "mereka", "warga", "rakyat", "ibu", "bapak", "anak", "orang", "lambat", "cepat",
    "tinggi", "rendah", "panjang", "pendek", "lurus", "simpang", "perbaungan", "kuta", "semua", "mana",
    "kampar", "bintang", "langit", "bunga", "melati", "mawar", "kelapa", "pinang", "durian",
    "mangga", "nangka", "jati", "beringin", "cempaka", "kenanga", "tebing", "lembah", "dataran",
    "pinggir", "balai", "tepi", "depan", "belakang", "samping", "dalam", "luar", "atas", "bawah", "ujung",
    "lapangan", "sekitar", "perempatan", "pertigaan", "jembatan", "pelabuhan", "bandara", "stasiun", "terminal",
    "masjid", "gereja", "pura", "puskesmas", "wilayah", "lokasi", "tempat", "sana", "sini", "situ", "rawan",
    "tanjakan", "turunan", "tikungan", "persawahan", "perkebunan", "hutan", "kolam", "irigasi",
    "sebelah", "dekat", "antara", "pojok", "kawasan", "lingkungan", "gunungsari", "sukajadi", "mulia",
}


def _base(name: str) -> tuple[str, str]:
    for prefix, kind in (("Kabupaten Administrasi ", "kab"), ("Kota Administrasi ", "kota"),
                         ("Kabupaten ", "kab"), ("Kota ", "kota")):
        if name.startswith(prefix):
            return name[len(prefix):], kind
    return name, "kab"


def _add(key: str, place: Place) -> None:
    toks = tuple(raw_tokens(key))
    if not toks:
        return
    lst = _INDEX.setdefault(toks, [])
    if place not in lst:
        lst.append(place)


def _load() -> None:
    for row in _rows("provinces.csv"):
        p = Place("prov", row["code"], row["name"], "prov", row["code"], None)
        PROVINCES[p.code] = p
        _add(row["name"], p)
    for code, aliases in _PROVINCE_ALIASES.items():
        for a in aliases:
            _add(a, PROVINCES[code])
    for row in _rows("regencies.csv"):
        base, kind = _base(row["name"])
        p = Place("reg", row["code"], row["name"], kind, row["province_code"], row["code"])
        REGENCIES[p.code] = p
        _add(base, p)
        if " " in base:
            _add(base.replace(" ", ""), p)  # "Kulonprogo", "Gunungkidul" written as one word and vice versa
    for alias, codes in _REGENCY_ALIASES.items():
        for c in codes:
            _add(alias, REGENCIES[c])
    for row in _rows("districts.csv"):
        reg = REGENCIES[row["regency_code"]]
        p = Place("dist", row["code"], row["name"], "kec", reg.province_code, reg.code)
        DISTRICTS[p.code] = p
        _add(row["name"], p)


_load()
_MAX_N = max(len(k) for k in _INDEX)
_FIRST: dict[str, tuple[int, ...]] = {}  # first word of a name -> the lengths of the names it begins, longest first
for _k in _INDEX:
    _FIRST[_k[0]] = tuple(sorted({*_FIRST.get(_k[0], ()), len(_k)}, reverse=True))


@dataclass
class _Mention:
    places: list[Place]
    alt_districts: list[Place]  # a regency-level name that is also a district somewhere ("Depok, Sleman")


_Picked = tuple[tuple[Place, ...], tuple[Place, ...]]  # (places a name is taken for, ``_Mention.alt_districts``)


def _mentions(toks: list[str]) -> list[_Picked]:
    """The places named in ``toks``, in order: one ``_PICKED`` entry per name (the same object each time)."""
    out: list[_Picked] = []
    n, after = len(toks), 0  # ``after``: the end of the last name found (names do not overlap)
    first = _FIRST
    for i in compress(range(n), map(first.__contains__, toks)):  # "," never starts a name, nor is in one
        prev = toks[i - 1] if i else ""
        if i < after or prev in _BLOCK:
            continue
        for size in first[toks[i]]:  # longest first, only lengths some name has
            if size > n - i:
                continue
            key = tuple(toks[i:i + size])
            places = _INDEX.get(key)
            if places is None:
                continue
            cue = prev if prev in _CUE_WORDS else ""  # any other word before a name picks as none does
            picked = _PICKED.get((key, cue))
            if picked is None:
                if len(_PICKED) >= _PICKED_MAX:
                    _PICKED.clear()
                picked = _PICKED[(key, cue)] = _picked(key, places, cue)
            if picked[0]:
                out.append(picked)
                after = i + size
                break
    return out


# (name, cue word before it or "") -> (``_by_cue``'s places, the districts a regency-level pick may also be):
# a pure function of the two, remembered (cleared when full)
_PICKED: dict[tuple[tuple[str, ...], str], tuple[tuple[Place, ...], tuple[Place, ...]]] = {}
_PICKED_MAX = 50_000
_CUE_WORDS = _CUE_PROV | _CUE_KAB | _CUE_KOTA | _CUE_KEC | _CUE_LOC


def _picked(key: tuple[str, ...], places: list[Place], cue: str) -> tuple[tuple[Place, ...], tuple[Place, ...]]:
    chosen = _by_cue(places, cue, " ".join(key))
    alt = [p for p in places if p.level == "dist"] if chosen and chosen[0].level == "reg" else []
    return tuple(chosen), tuple(alt)


def _by_cue(places: list[Place], prev: str, name: str) -> list[Place]:
    provs = [p for p in places if p.level == "prov"]
    regs = [p for p in places if p.level == "reg"]
    dists = [p for p in places if p.level == "dist"]
    if prev in _CUE_PROV:
        return provs
    if prev in _CUE_KAB:
        return [p for p in regs if p.kind == "kab"] or regs
    if prev in _CUE_KOTA:
        return [p for p in regs if p.kind == "kota"] or provs
    if prev in _CUE_KEC:
        return dists
    cued = prev in _CUE_LOC
    if provs:
        return provs
    if regs:
        return regs if cued or name not in _COMMON_NAMES else []
    if not dists or len(name) < 5 or all(t in _COMMON_WORDS for t in name.split()):
        return []
    if cued and len({d.province_code for d in dists}) == 1:
        return dists  # "di Cibinong": Kab. Bogor or Kab. Cianjur, Jawa Barat either way
    if len(dists) == 1 and _city_district(name, dists[0]):
        return dists  # "Medan Sunggal", "Palu Barat": the city's name plus a quarter, no cue needed
    return []


def _city_district(name: str, dist: Place) -> bool:
    """A district named after its own regency plus a second word ("Medan Sunggal" in Kota Medan):
    unmistakable even without a cue, while "medan" alone (= field) still needs one."""
    first, _, rest = name.partition(" ")
    reg = REGENCIES[dist.regency_code or ""]
    return bool(rest) and _base(reg.name)[0].lower() == first


def find_region(*texts: str | None, tokens: list[str] | None = None) -> RegionMatch:
    """The region named in ``texts`` (channel location text first, then the body), then in ``tokens``
    (``place_tokens`` of a text already tokenized by the caller)."""
    picks: list[_Picked] = []
    for text in texts:
        if text:
            picks.extend(_mentions(place_tokens(text)))
    if tokens:
        picks.extend(_mentions(tokens))
    if not picks:
        return _NOTHING
    # the answer depends only on the picks (objects of ``_PICKED``), so it is remembered by their identities;
    # each entry holds its picks, so no id in a key can be reused by another object while the entry lives
    key = tuple(map(id, picks))
    hit = _RESOLVED.get(key)
    if hit is None:
        if len(_RESOLVED) >= _RESOLVED_MAX:
            _RESOLVED.clear()
        hit = _RESOLVED[key] = (picks, _resolve([_Mention(list(chosen), list(alt)) for chosen, alt in picks]))
    return hit[1]


_NOTHING = RegionMatch()
_RESOLVED: dict[tuple[int, ...], tuple[list[_Picked], RegionMatch]] = {}
_RESOLVED_MAX = 20_000


def _resolve(mentions: list[_Mention]) -> RegionMatch:
    """The region the names in a message (``mentions``, in order) point to."""
    prov_named = [p.code for m in mentions for p in m.places if p.level == "prov"]

    # a name that is a regency but also a district of another regency named in the message is that district
    reg_codes = [{p.code for p in m.places if p.level == "reg"} for m in mentions]
    for idx, m in enumerate(mentions):
        if not m.alt_districts:
            continue
        others = set().union(*(c for j, c in enumerate(reg_codes) if j != idx and c))
        inside = [d for d in m.alt_districts if d.regency_code in others]
        if inside:
            m.places = inside
    reg_mentions = [c for c in ([p for p in m.places if p.level == "reg"] for m in mentions) if c]
    dist_mentions = [c for c in ([p for p in m.places if p.level == "dist"] for m in mentions) if c]
    dist_regs = {p.regency_code for c in dist_mentions for p in c}

    regency: Place | None = None
    ambiguous_prov: str | None = None
    for cands in reg_mentions:
        pick = _narrow(cands, dist_regs, prov_named)
        if pick is not None:
            regency = pick
            break
        if ambiguous_prov is None and len({c.province_code for c in cands}) == 1:
            ambiguous_prov = cands[0].province_code
    district: Place | None = None
    if regency is None:
        for cands in dist_mentions:
            narrowed = [d for d in cands if not prov_named or d.province_code in prov_named]
            amb = {c.code for cs in reg_mentions for c in cs}
            if amb:
                narrowed = [d for d in narrowed if d.regency_code in amb]
            if len(narrowed) == 1:
                district = narrowed[0]
                regency = REGENCIES[district.regency_code or ""]
                break
            if ambiguous_prov is None and len({d.province_code for d in narrowed}) == 1:
                ambiguous_prov = narrowed[0].province_code
    elif dist_mentions:
        district = next((d for c in dist_mentions for d in c if d.regency_code == regency.code), None)
    if regency is not None:
        prov = PROVINCES[regency.province_code]
    elif prov_named:
        prov = PROVINCES[prov_named[0]]
    elif ambiguous_prov is not None:
        prov = PROVINCES[ambiguous_prov]
    else:
        provs = {d.province_code for c in dist_mentions for d in c}
        if len(provs) != 1:
            return RegionMatch()
        prov = PROVINCES[provs.pop()]
    return RegionMatch(
        province_code=prov.code, province=prov.name,
        regency_code=regency.code if regency else None, regency=regency.name if regency else None,
        district=district.name if district else None, district_code=district.code if district else None,
    )


def _narrow(cands: list[Place], dist_regs: set[str | None], prov_named: list[str]) -> Place | None:
    if len(cands) == 1:
        return cands[0]
    by_dist = [c for c in cands if c.code in dist_regs]
    if len(by_dist) == 1:
        return by_dist[0]
    by_prov = [c for c in cands if c.province_code in prov_named]
    if len(by_prov) == 1:
        return by_prov[0]
    return None


_PROVINCE_DOMAINS: dict[str, str] = {}  # "jabar" -> "32" (jabarprov.go.id)
_REGENCY_DOMAINS: dict[str, str] = {}  # "bogorkab" -> "32.01", "surabaya"/"surabayakota" -> "35.78"


def _compact(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _load_domains() -> None:
    for code, p in PROVINCES.items():
        _PROVINCE_DOMAINS[_compact(p.name)] = code
        for alias in _PROVINCE_ALIASES.get(code, []):
            _PROVINCE_DOMAINS.setdefault(_compact(alias), code)
    _PROVINCE_DOMAINS["kalteng"] = "62"
    bare: dict[str, list[str]] = {}
    for code, r in REGENCIES.items():
        base = _compact(_base(r.name)[0])
        _REGENCY_DOMAINS[base + r.kind] = code
        bare.setdefault(base, []).append(code)
    for base, codes in bare.items():  # "surabaya.go.id": the only place of that name, or the city
        cities = [c for c in codes if REGENCIES[c].kind == "kota"]
        if len(codes) == 1 or len(cities) == 1:
            _REGENCY_DOMAINS.setdefault(base, codes[0] if len(codes) == 1 else cities[0])


_load_domains()


def region_from_email(address: str | None) -> RegionMatch:
    """The local government an official mailbox belongs to, from its ``.go.id`` domain.

    ``bogorkab.go.id`` → Kabupaten Bogor, ``bogorkota.go.id`` → Kota Bogor, ``surabaya.go.id`` →
    Kota Surabaya, ``jabarprov.go.id`` → Jawa Barat, ``jakarta.go.id`` → DKI Jakarta; subdomains
    (``dinkes.bogorkab.go.id``) count. Ministries and other domains give nothing.
    """
    if not address:
        return RegionMatch()
    domain = address.rpartition("@")[2].strip().lower().rstrip(".")
    if not domain.endswith(".go.id"):
        return RegionMatch()
    label = domain[: -len(".go.id")].rpartition(".")[2]
    reg_code = _REGENCY_DOMAINS.get(label)
    if reg_code is not None:
        reg = REGENCIES[reg_code]
        prov = PROVINCES[reg.province_code]
        return RegionMatch(province_code=prov.code, province=prov.name, regency_code=reg.code, regency=reg.name)
    prov_code = _PROVINCE_DOMAINS.get(label[:-4] if label.endswith("prov") else label)
    if prov_code is not None:
        prov = PROVINCES[prov_code]
        return RegionMatch(province_code=prov.code, province=prov.name)
    return RegionMatch()


def nik_region_valid(prefix6: str) -> bool:
    """Whether the first digits of a NIK name a known province and regency (``PPKK``)."""
    return f"{prefix6[:2]}.{prefix6[2:4]}" in REGENCIES
