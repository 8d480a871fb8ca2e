# ruff: noqa: E501  (hand-written message cores are kept one per line)
"""Builds tests/data/devset.jsonl: labelled messages written the way people write to SMS 1708 and @LAPOR1708.

How the set was made (honestly): no real citizen messages were available offline. The messages
are hand-written sentence cores (per topic and class, in the registers seen on 1708/X: formal
letters, chat spelling, all caps, no punctuation, Javanese/Sundanese mixing), combined by this
script with openers, closers, place phrases, personal data and numeric distractors, then run
through spelling "styles" (abbreviations, letter floods, lower/upper case). Labels are set by the
script from what it inserted, so they are exact by construction.

Two disjoint pools: ``dev`` (cores pool A, used while writing the rules) and ``heldout`` (cores
pool B, different wording, written separately and NOT used to tune rules). Deterministic (seed).
Run: python tests/data/make_devset.py  (rewrites devset.jsonl)
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE.parent.parent / "normalizer" / "data"

# ---------------------------------------------------------------- sentence cores (class, topic, text)
# pool A: dev
POOL_A: list[tuple[str, str | None, str]] = [
    ("complaint", "roads", "jalan di depan sekolah rusak parah banyak lubang, sudah 2 tahun tidak diperbaiki"),
    ("complaint", "roads", "jalan provinsi berlubang dan sering bikin pengendara motor jatuh tolong segera diperbaiki"),
    ("complaint", "roads", "jembatan penghubung antar desa putus sejak banjir kemarin, anak2 sekolah harus memutar jauh"),
    ("complaint", "roads", "lampu jalan (PJU) di sepanjang jalan raya mati semua, rawan begal kalau malam"),
    ("complaint", "roads", "aspal baru 3 bulan sudah mengelupas lagi, kualitas proyek jalan ini patut dipertanyakan"),
    ("information_request", "roads", "mau tanya kapan jalan kabupaten yang rusak ini masuk jadwal perbaikan?"),
    ("aspiration", "roads", "usul pak sebaiknya dibangun trotoar di sepanjang jalan menuju pasar biar pejalan kaki aman"),
    ("complaint", "water", "air PDAM mati sudah 4 hari tidak ada pemberitahuan sama sekali"),
    ("complaint", "water", "air pdam keruh dan bau, tapi tagihan air tetap naik terus"),
    ("complaint", "water", "pipa PDAM bocor di pinggir jalan airnya terbuang percuma sudah seminggu"),
    ("information_request", "water", "bagaimana cara pasang baru sambungan air PDAM dan berapa biayanya?"),
    ("complaint", "electricity", "listrik padam terus hampir tiap hari, alat elektronik warga banyak yang rusak"),
    ("complaint", "electricity", "tiang listrik PLN miring mau roboh di depan rumah warga, bahaya sekali"),
    ("complaint", "electricity", "sudah beli token listrik tapi angka tidak masuk2, CS PLN tidak bisa dihubungi"),
    ("information_request", "electricity", "mohon info syarat tambah daya listrik PLN untuk rumah tangga apa saja?"),
    ("complaint", "health-insurance", "kartu BPJS kesehatan saya tiba2 nonaktif padahal PBI, ditolak waktu berobat"),
    ("complaint", "health-insurance", "pasien BPJS disuruh beli obat sendiri di luar, katanya obat tidak ditanggung"),
    ("information_request", "health-insurance", "mau tanya cara pindah faskes BPJS kesehatan gimana ya?"),
    ("complaint", "health-services", "pelayanan puskesmas sangat lambat, dokter tidak ada di tempat dari pagi"),
    ("complaint", "health-services", "ibu saya ditolak di IGD RSUD dengan alasan kamar penuh padahal kondisi kritis"),
    ("complaint", "population-documents", "sudah rekam KTP elektronik 8 bulan tapi KTP belum jadi, alasannya blanko habis"),
    ("complaint", "population-documents", "urus akta kelahiran anak di dukcapil dipingpong terus, disuruh bolak balik"),
    ("information_request", "population-documents", "bagaimana caranya mengurus kartu keluarga yang hilang? syaratnya apa saja?"),
    ("complaint", "population-documents", "data KK saya salah nama ibu, sudah lapor ke capil tapi tidak ada perbaikan"),
    ("complaint", "social-aid", "bansos PKH keluarga kami tidak cair lagi sejak awal tahun padahal masih terdaftar"),
    ("complaint", "social-aid", "BLT dana desa dibagikan ke keluarga perangkat desa, warga miskin malah tidak dapat"),
    ("complaint", "social-aid", "bantuan sembako BPNT dipotong oleh pendamping, kami cuma terima setengahnya"),
    ("information_request", "social-aid", "gimana cara daftar DTKS supaya bisa dapat bantuan sosial?"),
    ("aspiration", "social-aid", "saran saya data penerima bansos diperbarui tiap tahun dan diumumkan di balai desa"),
    ("complaint", "education", "sekolah minta uang gedung 3 juta untuk siswa baru, katanya wajib"),
    ("complaint", "education", "ijazah anak saya ditahan sekolah karena belum lunas uang komite"),
    ("complaint", "education", "PPDB jalur zonasi tidak transparan, rumah dekat sekolah malah tidak diterima"),
    ("information_request", "education", "kapan pendaftaran PPDB SMP negeri dibuka dan apa saja persyaratannya?"),
    ("aspiration", "education", "mohon dibangun SD negeri baru di desa kami karena sekolah terdekat jaraknya 7 km"),
    ("complaint", "illegal-levies", "ada pungli di kantor kelurahan, urus surat pengantar dimintai uang 50 ribu tanpa kuitansi"),
    ("complaint", "illegal-levies", "oknum petugas minta uang pelicin supaya berkas cepat diproses"),
    ("complaint", "illegal-levies", "pungutan liar di pasar tiap hari oleh preman yang mengaku petugas"),
    ("complaint", "waste", "sampah menumpuk di TPS sudah seminggu tidak diangkut, baunya sampai ke rumah warga"),
    ("complaint", "waste", "ada TPS liar di pinggir sungai, warga buang sampah sembarangan"),
    ("aspiration", "waste", "usul agar diadakan bank sampah di tiap RW supaya sampah bisa dipilah"),
    ("complaint", "floods", "setiap hujan deras kampung kami banjir karena saluran air tersumbat dan got mampet"),
    ("complaint", "floods", "tanggul sungai jebol, rumah warga kebanjiran sampai sepinggang"),
    ("aspiration", "floods", "sebaiknya dilakukan normalisasi sungai sebelum musim hujan supaya tidak banjir lagi"),
    ("complaint", "public-transport", "angkot sering ngetem sembarangan dan tarif dinaikkan seenaknya"),
    ("complaint", "public-transport", "parkir liar di depan pasar bikin macet, jukir minta bayar 5 ribu"),
    ("complaint", "public-transport", "halte bus rusak dan atapnya bocor, penumpang kehujanan"),
    ("information_request", "public-transport", "apakah ada bus damri dari terminal ke bandara? jadwalnya jam berapa?"),
    ("complaint", "police", "sudah lapor polisi soal pencurian motor 3 bulan lalu tapi tidak ada perkembangan"),
    ("complaint", "police", "bikin SIM di satlantas dipersulit, disuruh lewat calo biar lulus"),
    ("information_request", "police", "bagaimana prosedur membuat SKCK online? apa bisa diwakilkan?"),
    ("complaint", "land", "sertifikat tanah program PTSL belum jadi padahal sudah bayar dan diukur tahun lalu"),
    ("complaint", "land", "ada mafia tanah menyerobot tanah warisan keluarga kami, BPN diam saja"),
    ("information_request", "land", "mohon penjelasan biaya balik nama sertifikat tanah di kantor pertanahan berapa?"),
    ("complaint", "tax", "tagihan PBB rumah saya naik 3 kali lipat tanpa penjelasan dari bapenda"),
    ("information_request", "tax", "mau tanya cara lapor SPT tahunan pribadi lewat coretax bagaimana?"),
    ("aspiration", "tax", "semoga ada pemutihan pajak kendaraan lagi tahun ini, sangat membantu warga kecil"),
    ("aspiration", None, "terima kasih atas respon cepatnya, semoga pelayanan seperti ini terus dipertahankan"),
    ("complaint", None, "pelayanan di kantor kecamatan sangat lambat dan petugasnya tidak ramah"),
]

# pool B: held out (different wording; not used while writing rules)
POOL_B: list[tuple[str, str | None, str]] = [
    ("complaint", "roads", "jln ke kampung kami ancur bgt kalau hujan kayak kubangan kerbau"),
    ("complaint", "roads", "proyek betonisasi jalan desa mangkrak, material dibiarkan di pinggir jalan"),
    ("information_request", "roads", "siapa yg bertanggung jawab memperbaiki jalan nasional yg amblas ini? mohon penjelasan"),
    ("complaint", "water", "sudah 2 minggu air tidak mengalir, kami harus beli air galon untuk mandi"),
    ("complaint", "water", "meteran air rusak tapi tagihan tetap dihitung tinggi oleh perumda air minum"),
    ("complaint", "electricity", "kabel listrik menjuntai rendah di atas jalan, sudah lapor PLN tapi belum ditangani"),
    ("information_request", "electricity", "apakah ada program pasang baru listrik gratis untuk warga tidak mampu?"),
    ("complaint", "health-insurance", "iuran BPJS sudah dibayar tapi status kepesertaan masih tidak aktif"),
    ("complaint", "health-services", "antrian obat di rumah sakit daerah sampai 5 jam, pasien lansia terlantar"),
    ("aspiration", "health-services", "mohon ditambah dokter spesialis di rsud karena pasien harus dirujuk jauh"),
    ("complaint", "population-documents", "e-ktp saya hilang, mau cetak ulang katanya harus bayar di luar kantor capil"),
    ("information_request", "population-documents", "syarat bikin akta kematian apa aja ya min? mohon infonya"),
    ("complaint", "social-aid", "nama kami dicoret dari penerima PKH tanpa alasan padahal kondisi ekonomi makin susah"),
    ("complaint", "social-aid", "beras bantuan pangan yang dibagikan berkutu dan tidak layak konsumsi"),
    ("information_request", "social-aid", "kapan bansos BLT tahap berikutnya cair? apakah ada pengumuman resmi?"),
    ("complaint", "education", "guru honorer di sekolah kami belum digaji 4 bulan dari dana BOS"),
    ("complaint", "education", "anak saya disuruh beli seragam dan buku di koperasi sekolah dengan harga mahal"),
    ("aspiration", "education", "harap diadakan beasiswa untuk siswa berprestasi dari keluarga tidak mampu di kecamatan ini"),
    ("complaint", "illegal-levies", "petugas samsat minta uang rokok waktu cek fisik kendaraan"),
    ("complaint", "illegal-levies", "kades memungut biaya pembuatan surat tanah tanpa dasar aturan, warga takut melapor"),
    ("complaint", "waste", "truk sampah cuma datang sebulan sekali, sampah berserakan dimakan anjing liar"),
    ("complaint", "waste", "pabrik buang limbah ke sungai, airnya hitam dan ikan mati"),
    ("complaint", "floods", "drainase buruk, jalan depan perumahan tergenang tiap habis hujan"),
    ("information_request", "floods", "apakah BPBD punya posko pengungsian banjir di wilayah kami? dimana lokasinya?"),
    ("complaint", "public-transport", "kereta KRL telat terus tiap pagi, penumpang berdesakan"),
    ("aspiration", "public-transport", "alangkah baiknya trayek angkutan umum diperpanjang sampai ke perumahan baru"),
    ("complaint", "police", "laporan penipuan online saya di polres tidak ditindaklanjuti sama sekali"),
    ("complaint", "police", "balap liar tiap malam minggu sangat meresahkan warga, polisi tidak pernah patroli"),
    ("complaint", "land", "pengukuran tanah oleh petugas BPN tidak sesuai batas tanah yang sebenarnya"),
    ("information_request", "land", "berapa lama proses pecah sertifikat di ATR BPN? mohon pencerahan"),
    ("complaint", "tax", "sudah bayar pajak kendaraan tapi di sistem masih tercatat menunggak dan kena denda"),
    ("complaint", None, "petugas di kantor desa sering tidak ada di tempat pada jam kerja"),
    ("aspiration", None, "kami mendukung program pemerintah, semoga ke depan lebih banyak lapangan kerja untuk pemuda"),
]

OPENERS = ["", "", "", "Selamat pagi min, ", "Yth. Admin LAPOR!, ", "Assalamualaikum, ", "min tlg, ", "Lapor! ",
           "Permisi pak, ", "Saya mau melaporkan, ", "Halo @LAPOR1708 ", "Selamat siang, ", "pak bu, "]
CLOSERS = ["", "", "", " Terima kasih.", " mohon ditindaklanjuti", " makasih min", " #LAPOR1708",
           " mohon segera ditangani.", " Trims", " 🙏", " tolong dibantu 🙏🙏"]
STYLES = ["plain", "plain", "lower", "slang", "slang", "nopunct", "upper", "flood"]
SLANG = {"yang": "yg", "tidak": "gk", "sudah": "udh", "tolong": "tlg", "mohon": "mhn", "bagaimana": "gmn",
         "dengan": "dgn", "untuk": "utk", "karena": "krn", "sekarang": "skrg", "belum": "blm", "bulan": "bln",
         "tahun": "thn", "saya": "sy", "sama": "sm", "juga": "jg", "kalau": "klo", "bisa": "bs"}

# colloquial place forms with hand-set gold (province, regency or None when it cannot be told)
COLLOQUIAL = [
    ("di jaksel", "31", "31.74"), ("di Jakarta Timur", "31", "31.75"), ("daerah jakut", "31", "31.72"),
    ("di jogja", "34", None), ("di Kota Jogja", "34", "34.71"), ("warga Sleman", "34", "34.04"),
    ("di Bdg", "32", None), ("di Kota Bandung", "32", "32.73"), ("di kab bandung", "32", "32.04"),
    ("di Solo", "33", "33.72"), ("di sby", "35", "35.78"), ("warga Surabaya", "35", "35.78"),
    ("di Tangsel", "36", "36.74"), ("di Depok", "32", "32.76"), ("di Bekasi", "32", None),
    ("kota bekasi", "32", "32.75"), ("di Malang", "35", None), ("Kabupaten Malang", "35", "35.07"),
    ("di Makassar", "73", "73.71"), ("di medan", "12", "12.71"), ("di Palembang", "16", "16.71"),
    ("di Bogor", "32", None), ("kab. bogor", "32", "32.01"), ("di Semarang", "33", None),
    ("di Jakarta", "31", None), ("di Jawa Barat", "32", None), ("Jatim", "35", None),
    ("di Gunungkidul", "34", "34.03"), ("kulon progo", "34", "34.01"), ("di Banyuwangi", "35", "35.10"),
    ("di Denpasar", "51", "51.71"), ("di Pontianak", "61", "61.71"), ("di Samarinda", "64", "64.72"),
    ("di Kupang", "53", None), ("di Kota Kupang", "53", "53.71"), ("Lombok Timur", "52", "52.03"),
    ("di Garut", "32", "32.05"), ("di Cianjur", "32", "32.03"), ("di Tasikmalaya", "32", None),
    ("di Purwakarta", "32", "32.14"), ("di Karawang", "32", "32.15"), ("di Sidoarjo", "35", "35.15"),
    ("di Jember", "35", "35.09"), ("di Banjarmasin", "63", "63.71"), ("Kalsel", "63", None),
    ("di Manado", "71", "71.71"), ("di Padang", "13", "13.71"), ("di pekanbaru", "14", "14.71"),
    ("di Batam", "21", "21.71"), ("di Bandar Lampung", "18", "18.71"), ("di Ambon", "81", "81.71"),
    ("di Jayapura", "91", None), ("di Kota Jayapura", "91", "91.71"), ("di Cirebon", "32", None),
]


def _load() -> tuple[dict[str, str], dict[str, tuple[str, str]], list[tuple[str, str, str]]]:
    def rows(name: str) -> list[dict[str, str]]:
        with open(DATA / name, encoding="utf-8") as f:
            return list(csv.DictReader(f))
    provs = {r["code"]: r["name"] for r in rows("provinces.csv")}
    regs = {r["code"]: (r["name"], r["province_code"]) for r in rows("regencies.csv")}
    dists = [(r["code"], r["regency_code"], r["name"]) for r in rows("districts.csv")]
    return provs, regs, dists


PROVS, REGS, DISTS = _load()
_DIST_NAMES: dict[str, int] = {}
for _c, _rc, _n in DISTS:
    _DIST_NAMES[_n.lower()] = _DIST_NAMES.get(_n.lower(), 0) + 1


def formal_place(rng: random.Random) -> tuple[str, str, str | None]:
    """A real regency (and sometimes its district) written in one of the usual ways."""
    code, (name, prov) = rng.choice(sorted(REGS.items()))
    kind, base = ("kota", name.split(" ", 1)[1]) if name.startswith("Kota ") else ("kab", name.split(" ", 1)[1])
    if base.startswith("Administrasi "):
        base = base.split(" ", 1)[1]
    if kind == "kota":
        reg_txt = rng.choice([f"Kota {base}", f"kota {base.lower()}", f"KOTA {base.upper()}"])
    else:
        reg_txt = rng.choice([f"Kab. {base}", f"Kabupaten {base}", f"kab {base.lower()}", f"Kab {base}"])
    text = reg_txt
    if rng.random() < 0.5:
        ds = [d for d in DISTS if d[1] == code]
        if ds:
            d = rng.choice(ds)
            text = rng.choice([f"Kec. {d[2]}, {reg_txt}", f"kecamatan {d[2].lower()} {reg_txt}",
                               f"kec {d[2]} {reg_txt}"])
    if rng.random() < 0.3:
        text += f", {PROVS[prov]}"
    prefix = rng.choice(["di ", "di ", "warga ", "lokasi: ", "daerah "])
    return prefix + text, prov, code


# ---------------------------------------------------------------- personal data and distractors
def nik(rng: random.Random) -> str:
    d = rng.choice(DISTS)[0].replace(".", "")
    day = rng.randint(1, 28) + (40 if rng.random() < 0.5 else 0)
    return f"{d}{day:02d}{rng.randint(1, 12):02d}{rng.randint(60, 99):02d}{rng.randint(1, 999):04d}"


def phone(rng: random.Random) -> str:
    pre = rng.choice(["812", "813", "821", "852", "857", "878", "896", "881", "838", "895"])
    rest = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice([7, 8])))
    num = pre + rest
    form = rng.randrange(6)
    if form == 0:
        return "0" + num
    if form == 1:
        return f"0{num[:3]}-{num[3:7]}-{num[7:]}"
    if form == 2:
        return f"+62 {num[:3]} {num[3:7]} {num[7:]}"
    if form == 3:
        return "62" + num
    if form == 4:
        return f"0{num[:3]} {num[3:7]} {num[7:]}"
    return f"+62{num}"


PII_SENTENCES = [
    ("nik", "NIK saya {v}.", nik),
    ("nik", "nik {v}", nik),
    ("phone", "Bisa hubungi saya di {v}", phone),
    ("phone", "no hp {v}", phone),
    ("phone", "WA {v} kalau perlu konfirmasi", phone),
    ("email", "email saya {v}", lambda r: f"{r.choice(['budi', 'siti.aminah', 'agus_w', 'rina88', 'dedi.k'])}"
                                          f"{r.randint(1, 99)}@{r.choice(['gmail.com', 'yahoo.co.id', 'ymail.com'])}"),
    ("account", "uangnya ditransfer ke rek BRI {v}", lambda r: f"{r.randint(1000, 9999)}-01-{r.randint(100000, 999999)}"
                                                               f"-50-{r.randint(1, 9)}"),
    ("account", "no rekening BCA {v} a.n. saya", lambda r: str(r.randint(1000000000, 9999999999))),
    ("plate", "pelakunya naik motor plat {v}", lambda r: f"{r.choice(['B', 'D', 'AB', 'L', 'AD', 'F'])} "
                                                         f"{r.randint(1000, 9999)} {r.choice(['XYZ', 'KLM', 'AB', 'TR'])}"),
    ("kk", "no KK {v}", nik),
]
DISTRACTORS = [
    "sejak tanggal {d}-{m}-2024", "sudah bayar Rp {a}.000", "biayanya Rp {a}.500.000", "di RT 0{s}/RW 0{t}",
    "RT {s} RW {t}", "tgl {d}/{m}/2025", "jam 0{s}.30 pagi", "kurang lebih {a} meter", "antri dari jam {s} pagi",
    "dimintai {a} ribu", "sudah {s} kali datang",
]


def styled(text: str, style: str, rng: random.Random) -> str:
    if style == "lower":
        return text.lower()
    if style == "upper":
        return text.upper()
    if style == "nopunct":
        return "".join(c for c in text if c not in ",.?!;:").lower()
    if style == "slang":
        out = []
        for w in text.split(" "):
            out.append(SLANG.get(w.lower(), w) if rng.random() < 0.8 else w)
        return " ".join(out)
    if style == "flood":
        for w in ("parah", "tolong", "banget", "lama", "rusak"):
            text = text.replace(w, w + w[-1] * rng.randint(2, 4), 1)
        return text
    return text


def build(pool: list[tuple[str, str | None, str]], split: str, n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        cls, topic, core = pool[i % len(pool)]
        style = rng.choice(STYLES)
        prov = reg = None
        place = ""
        r = rng.random()
        if r < 0.35:
            place, prov, reg = formal_place(rng)
        elif r < 0.75:
            place, prov, reg = rng.choice(COLLOQUIAL)
        body = styled(core, style, rng)
        if place:
            body = rng.choice([f"{body} {place}", f"{place.capitalize()}, {body}", f"{body}. Lokasi {place}"])
        pii_spans: list[dict] = []
        non_pii: list[str] = []
        if rng.random() < 0.45:
            dist = rng.choice(DISTRACTORS).format(d=rng.randint(10, 28), m=rng.randint(10, 12), a=rng.randint(15, 95),
                                                  s=rng.randint(1, 9), t=rng.randint(1, 9))
            body = f"{body}, {dist}"
            non_pii.append(dist)
        text = rng.choice(OPENERS) + body
        if rng.random() < 0.4:
            kind, tmpl, gen = rng.choice(PII_SENTENCES)
            value = gen(rng)
            sentence = tmpl.format(v=value)
            text = f"{text}. {sentence}"
            start = text.index(value)
            pii_spans.append({"start": start, "end": start + len(value), "kind": kind})
        text += rng.choice(CLOSERS)
        channel = rng.choice(["sms", "sms", "twitter", "telegram", "email"])
        if channel == "twitter" and not text.startswith("Halo @"):
            text = "@LAPOR1708 " + text
            for s in pii_spans:
                s["start"] += 11
                s["end"] += 11
        if channel == "sms" and len(text) > 459:
            text = text[:459]
        for s in pii_spans:
            assert s["end"] <= len(text), (text, s)
        out.append({"id": f"{split}-{i:03d}", "split": split, "channel": channel, "text": text,
                    "classification": cls, "topic": topic, "province": prov, "regency": reg,
                    "pii": pii_spans, "non_pii": non_pii, "style": style})
    return out


EXTRA = [  # written whole by hand: other languages, spam, edge cases (dev split)
    {"text": "dalane rusak parah ora didandani wis setahun, tulung pak bupati Klaten", "classification": "complaint",
     "topic": "roads", "province": "33", "regency": "33.10"},
    {"text": "punten abdi bade lapor, jalanna ruksak pisan teu acan dibenerkeun di Kab. Sumedang",
     "classification": "complaint", "topic": "roads", "province": "32", "regency": "32.11"},
    {"text": "The street lights on my road have been off for two months, please fix them. Kota Denpasar",
     "classification": "complaint", "topic": "roads", "province": "51", "regency": "51.71"},
    {"text": "SLOT GACOR hari ini! bonus new member 100% daftar sekarang di gacor88.vip wa 081234567890",
     "classification": "complaint", "topic": None, "province": None, "regency": None, "spam": True},
    {"text": "pinjaman dana tunai cepat cair tanpa jaminan bunga rendah hubungi admin", "classification": "complaint",
     "topic": None, "province": None, "regency": None, "spam": True},
    {"text": "tolong berantas judi online di kampung kami di Kec. Cibinong Kab. Bogor, banyak pemuda kecanduan",
     "classification": "complaint", "topic": "police", "province": "32", "regency": "32.01"},
    {"text": "#anonim ada pungli di kantor desa, tiap urus surat dimintai 100 ribu. Kab. Lebak",
     "classification": "complaint", "topic": "illegal-levies", "province": "36", "regency": "36.02"},
    {"text": "RAHASIA: kepala sekolah menahan dana BOS, guru tidak digaji. kec. dau kab. malang",
     "classification": "complaint", "topic": "education", "province": "35", "regency": "35.07"},
]


# Written whole by hand, one by one, to be harder than the templated rows: typos, several places,
# rhetorical questions, mixed languages, PII written loosely. Labels set by hand (judgement calls noted).
# (text, classification, topic, province, regency, [(pii substring, kind)], [non-pii substrings])
HAND: list[tuple[str, str, str | None, str | None, str | None, list[tuple[str, str]], list[str]]] = [
    ("@LAPOR1708 @kemenpupr jalan nasional lintas sumatera di km 45 arah padang sidempuan ancur lebur, truk2 terguling, kapan mau diperbaiki??", "complaint", "roads", None, None, [], ["km 45"]),
    ("min itu jln di desa sukamaju kec. cikalong kab tasikmalaya rusak bgt, anak sekolah pd jatuh dr motor", "complaint", "roads", "32", "32.06", [], []),
    ("Jalan poros desa kami belum pernah diaspal sejak Indonesia merdeka. Kab. Seram Bagian Timur, Maluku", "complaint", "roads", "81", "81.05", [], []),
    ("lapor pak, PJU di jl. ahmad yani mati sebulan, gelap gulita rawan kecelakaan. kota pontianak", "complaint", "roads", "61", "61.71", [], []),
    ("PDAM Tirta Pakuan air mati lg dr subuh, mau mandi aja susah. Bogor", "complaint", "water", "32", None, [], []),
    ("air ledeng bau kaporit dan warnanya kuning, apa aman diminum? warga perumnas kota kendari", "complaint", "water", "74", "74.71", [], []),
    ("tagihan pdam bulan ini 1,2 jt padahal biasanya 80rb, meteran sdh dicek tdk bocor. no pelanggan 0102030405", "complaint", "water", None, None, [], ["1,2 jt", "80rb"]),
    ("sy mau tanya min, kalo mau pasang sambungan baru pdam di kab sidoarjo syaratnya apa aja ya", "information_request", "water", "35", "35.15", [], []),
    ("LISTRIK PADAM 3X DLM SEHARI DI KEC. BONTANG UTARA, KULKAS WARGA RUSAK. PLN TOLONG TANGGUNG JAWAB", "complaint", "electricity", "64", "64.74", [], []),
    ("token listrik udh dibeli lewat m-banking tp kodenya gk keluar2, saldo kepotong 203.500", "complaint", "electricity", None, None, [], ["203.500"]),
    ("kabel PLN putus kena pohon tumbang di depan SDN 3, bahaya buat anak2. hub sy 0813 1122 3344", "complaint", "electricity", None, None, [("0813 1122 3344", "phone")], []),
    ("ibu sy pasien cuci darah, kartu KIS nya tiba2 tdk aktif. RS minta bayar umum. tolong pak", "complaint", "health-insurance", None, None, [], []),
    ("apakah peserta bpjs kelas 3 boleh naik kelas kalau kamar penuh? kmrn disuruh bayar selisih", "information_request", "health-insurance", None, None, [], []),
    ("Faskes tingkat 1 saya dipindah sepihak ke klinik yg jauh dari rumah, no kartu BPJS 0001234567891", "complaint", "health-insurance", None, None, [], []),
    ("anak sy demam tinggi dibawa ke puskesmas jam 2 siang katanya pelayanan sdh tutup, puskesmas apa ini", "complaint", "health-services", None, None, [], ["jam 2 siang"]),
    ("Ambulans desa dipakai kades buat acara keluarga, warga yg sakit malah naik pickup ke RSUD. Kab Garut", "complaint", "health-services", "32", "32.05", [], []),
    ("bikin ktp el di disdukcapil kota makassar udh 5 bln, tiap ditanya jawabnya blangko kosong trs", "complaint", "population-documents", "73", "73.71", [], []),
    ("Mohon info, jika akta kelahiran anak salah penulisan nama ayah, bagaimana prosedur pembetulannya?", "information_request", "population-documents", None, None, [], []),
    ("NIK sy 3578014509870002 gk terdaftar pas mau daftar BPJS, katanya NIK ganda. tolong dicek dukcapil surabaya", "complaint", "population-documents", "35", "35.78", [("3578014509870002", "nik")], []),
    ("KK saya 3374121203150007 belum diupdate padahal sudah lapor pindah datang 3 bulan lalu", "complaint", "population-documents", None, None, [("3374121203150007", "kk")], []),
    ("Pendamping PKH minta jatah 200rb tiap pencairan, kalo gk dikasih diancam dicoret. Kec. Ciawi Kab. Bogor", "complaint", "social-aid", "32", "32.01", [], ["200rb"]),
    ("kami keluarga miskin tp gk pernah dapet bansos apapun, yg dapet malah yg punya mobil. desa ngrandu, ponorogo", "complaint", "social-aid", "35", "35.02", [], []),
    ("bantuan beras 10kg dari pemerintah cuma dibagi 5kg sama RT. RT 04 RW 02 kel. tanjung priok jakut", "complaint", "social-aid", "31", "31.72", [], ["RT 04 RW 02", "10kg", "5kg"]),
    ("min bansos BPNT bulan ini cair kapan ya? di aplikasi cek bansos statusnya masih proses", "information_request", "social-aid", None, None, [], []),
    ("SMA negeri di kota medan masih narik uang komite 150rb per bulan, katanya sukarela tp wajib", "complaint", "education", "12", "12.71", [], ["150rb"]),
    ("anak sy ditolak PPDB zonasi padahal rumah 300m dari sekolah, yg rumahnya jauh malah diterima. ada titipan?", "complaint", "education", None, None, [], ["300m"]),
    ("Usul pak menteri, guru honorer yang sudah mengabdi lebih dari 10 tahun sebaiknya langsung diangkat PPPK", "aspiration", "education", None, None, [], []),
    ("Kapan pengumuman KIP Kuliah gelombang 2? di web belum ada info apa2", "information_request", "education", None, None, [], []),
    ("urus IMB/PBG di mpp diminta 5 juta sama oknum biar cepet, resmi nya gratis. transfer ke rek BCA 8720123456 a.n. oknum", "complaint", "illegal-levies", None, None, [("8720123456", "account")], ["5 juta"]),
    ("tiap lewat pos itu supir truk dipalak 20 ribu sama preman berseragam ormas. jalur pantura Kab. Batang", "complaint", "illegal-levies", "33", "33.25", [], ["20 ribu"]),
    ("buat surat keterangan tidak mampu di kantor desa harus bayar seikhlasnya tp ditentukan 50rb", "complaint", "illegal-levies", None, None, [], ["50rb"]),
    ("Sampah di pasar induk numpuk 2 minggu gk diangkut, baunya sampe ke sekolah. kota bekasi", "complaint", "waste", "32", "32.75", [], []),
    ("ada yg buang sampah ke kali tiap malam pake mobil pick up plat B 9876 KQ, tolong ditindak", "complaint", "waste", None, None, [("B 9876 KQ", "plate")], []),
    ("pabrik tahu buang limbah ke selokan, airnya item dan baunya gk ketulungan. kec. tegalrejo, magelang", "complaint", "waste", "33", "33.08", [], []),
    ("tiap hujan 1 jam aja perumahan kami banjir setinggi lutut krn drainase ditutup pengembang. Tangerang", "complaint", "floods", "36", None, [], ["1 jam"]),
    ("tanggul kali bekasi retak2, kalau jebol satu kampung tenggelam. mohon bpbd segera turun", "complaint", "floods", None, None, [], []),
    ("Usul agar normalisasi kali dilakukan sebelum musim hujan, jangan nunggu banjir dulu baru bergerak", "aspiration", "floods", None, None, [], []),
    ("Bus transjakarta koridor 13 sering telat 40 menit, penumpang numpuk di halte", "complaint", "public-transport", None, None, [], ["40 menit"]),
    ("jukir liar di minimarket minta 5rb padahal tulisannya parkir gratis. kota yogyakarta", "complaint", "public-transport", "34", "34.71", [], ["5rb"]),
    ("apakah ada rencana penambahan armada angkutan umum ke kawasan industri? pekerja susah transport", "information_request", "public-transport", None, None, [], []),
    ("motor sy dicuri di parkiran masjid, udh lapor polsek tp gk ada kabar. nopol AD 4567 RT", "complaint", "police", None, None, [("AD 4567 RT", "plate")], []),
    ("razia di jalan tapi petugasnya minta damai 100rb, gk dikasih surat tilang", "complaint", "police", None, None, [], ["100rb"]),
    ("cara perpanjang SIM C yang sudah mati 2 bulan gimana? harus bikin baru?", "information_request", "police", None, None, [], []),
    ("Sertipikat tanah hasil PTSL tahun 2019 sampai sekarang belum dibagikan, padahal warga sudah bayar 400rb", "complaint", "land", None, None, [], ["2019", "400rb"]),
    ("Tanah sy diserobot tetangga, batasnya digeser, sdh mengadu ke BPN kab. lombok tengah tp disuruh damai", "complaint", "land", "52", "52.02", [], []),
    ("PBB rumah sy tahun ini jadi 4jt dari 900rb, njop naik gila2an. bapenda kota semarang", "complaint", "tax", "33", "33.74", [], ["4jt", "900rb"]),
    ("NPWP saya tidak bisa login coretax, sudah reset efin tetap gagal. mohon dibantu DJP", "complaint", "tax", None, None, [], []),
    ("izin bertanya, apakah ada denda kalau telat lapor SPT tahunan pribadi? berapa besarnya?", "information_request", "tax", None, None, [], []),
    ("dalan ning desa kulo rusak parah, wis ping pindho lapor ning kelurahan ora ditanggapi. Klaten", "complaint", "roads", "33", "33.10", [], []),
    ("Punten, abdi bade naroskeun, kumaha carana ngadaptar KIS? di desa teu aya nu tiasa ngajelaskeun", "information_request", "health-insurance", None, None, [], []),
    ("Dear LAPOR, the garbage in our neighbourhood has not been collected for two weeks. Denpasar, Bali", "complaint", "waste", "51", "51.71", [], []),
    ("min makasih laporan sy kmrn soal jalan sdh diperbaiki, respon cepat 👍👍", "aspiration", "roads", None, None, [], []),
    ("semoga program makan bergizi gratis diperluas sampai ke sekolah2 di pelosok", "aspiration", None, None, None, [], []),
    ("pelayanan di kantor kecamatan lelet, pegawainya main hp terus. kec. pademangan", "complaint", None, "31", "31.72", [], []),
    ("Yth. Bapak/Ibu, dengan ini saya melaporkan bahwa kepala desa kami diduga menyelewengkan dana desa tahun 2024 sebesar Rp 350.000.000 untuk kepentingan pribadi. Mohon diaudit. Kab. Kepulauan Selayar", "complaint", None, "73", "73.01", [], ["Rp 350.000.000", "2024"]),
    ("lampu merah di perempatan pasar mati sdh 3 hari, sering nyaris tabrakan, dishub kemana?", "complaint", "public-transport", None, None, [], []),
    ("Ada judi sabung ayam tiap minggu di belakang balai desa, polisi tau tp diem aja", "complaint", "police", None, None, [], []),
    ("Tolong pak presiden, harga pupuk subsidi di kios 150rb per sak padahal HET 112.500", "complaint", None, None, None, [], ["150rb", "112.500"]),
    ("sy guru honorer gaji 300rb/bulan dibayar 3 bulan sekali, mohon perhatian pemerintah kab. sumba barat daya", "complaint", "education", "53", "53.18", [], ["300rb"]),
    ("tolong dibantu, sudah 2 kali ke kantor pos ambil BLT tapi namanya tdk ada di daftar. email sy agus.w88@yahoo.co.id", "complaint", "social-aid", None, None, [("agus.w88@yahoo.co.id", "email")], []),
]


# Written last, after the rules were frozen, and evaluated once without any change to the rules
# afterwards: the "blind" split is the least optimistic figure in bench/RESULTS-normalizer.md.
BLIND: list[tuple[str, str, str | None, str | None, str | None, list[tuple[str, str]], list[str]]] = [
    ("jalan menuju pasar kecamatan penuh lubang segede kolam ikan, tiap hari ada yg jatuh. kec. leuwiliang kab bogor", "complaint", "roads", "32", "32.01", [], []),
    ("@LAPOR1708 trotoar di jl. dago dipake pedagang semua, pejalan kaki terpaksa jalan di aspal. Kota Bandung", "complaint", "roads", "32", "32.73", [], []),
    ("kenapa perbaikan jalan cuma tambal sulam? baru seminggu udah bolong lagi", "complaint", "roads", None, None, [], []),
    ("Air PAM di rumah kami cuma ngalir jam 2 pagi, siang sampai malam kering. Kota Tangerang", "complaint", "water", "36", "36.71", [], ["jam 2 pagi"]),
    ("sumur warga tercemar setelah ada galian pipa, airnya jadi keruh coklat", "complaint", "water", None, None, [], []),
    ("listrik di dusun kami belum masuk sampai sekarang, padahal tiang sudah dipasang 2 tahun lalu. Kab. Manggarai Timur", "complaint", "electricity", "53", "53.19", [], []),
    ("mohon info prosedur pengaduan kalau meteran listrik prabayar rusak, apakah diganti gratis?", "information_request", "electricity", None, None, [], []),
    ("Tagihan listrik pascabayar bulan ini melonjak jadi 2,4 juta padahal pemakaian normal", "complaint", "electricity", None, None, [], ["2,4 juta"]),
    ("bpjs ketenagakerjaan? bukan, bpjs kesehatan. kartu anak sy blm aktif padahal udh didaftarkan 3 bln", "complaint", "health-insurance", None, None, [], []),
    ("RSUD menolak pasien BPJS dengan alasan kuota habis, disuruh datang minggu depan", "complaint", "health-insurance", None, None, [], []),
    ("puskesmas pembantu di desa kami tutup terus, bidannya tinggal di kota", "complaint", "health-services", None, None, [], []),
    ("Pelayanan IGD rumah sakit daerah Kab. Lebak sangat lambat, pasien kecelakaan dibiarkan 2 jam", "complaint", "health-services", "36", "36.02", [], ["2 jam"]),
    ("akta kematian ayah sy sdh 3 bln diajukan blm terbit jg, mau urus warisan jadi terhambat", "complaint", "population-documents", None, None, [], []),
    ("mau tanya min, KTP yang rusak/patah bisa dicetak ulang di kecamatan atau harus ke disdukcapil?", "information_request", "population-documents", None, None, [], []),
    ("Petugas dukcapil minta 150rb buat percepatan cetak KK, katanya kalau gratis antri sebulan", "complaint", "population-documents", None, None, [], ["150rb"]),
    ("janda lansia di RT kami tidak pernah dapat bantuan apapun, rumahnya hampir roboh. Kab. Brebes", "complaint", "social-aid", "33", "33.29", [], []),
    ("bantuan PKH di rekening KKS kami sudah 2 tahap tidak masuk, saldo 0", "complaint", "social-aid", None, None, [], []),
    ("usul pemerintah desa sebaiknya memasang daftar penerima BLT di papan pengumuman supaya transparan", "aspiration", "social-aid", None, None, [], []),
    ("sekolah negeri menjual LKS wajib 350rb per semester, katanya buat kas sekolah", "complaint", "education", None, None, [], ["350rb"]),
    ("apakah siswa pindahan dari luar provinsi bisa ikut PPDB jalur zonasi?", "information_request", "education", None, None, [], []),
    ("guru di SD kami cuma 3 orang untuk 6 kelas, mohon ditambah guru PNS. kec. Kei Besar, Maluku Tenggara", "complaint", "education", "81", "81.02", [], []),
    ("tiap urus surat di kelurahan harus kasih 'uang kopi' ke petugas, kalau tidak surat ditahan", "complaint", "illegal-levies", None, None, [], []),
    ("oknum satpol pp narik setoran harian dari PKL di alun2, 10rb per lapak", "complaint", "illegal-levies", None, None, [], ["10rb"]),
    ("TPS di dekat SDN 1 meluber sampai ke jalan, lalat di mana2, anak2 jadi sakit perut", "complaint", "waste", None, None, [], []),
    ("bau busuk dari TPA Sarimukti sampai ke perumahan, warga mual tiap malam", "complaint", "waste", None, None, [], []),
    ("Usul agar tiap kelurahan diberi truk sampah sendiri supaya pengangkutan lebih rutin", "aspiration", "waste", None, None, [], []),
    ("banjir rob tiap sore masuk ke rumah, sudah setahun tidak ada tindakan. kota semarang", "complaint", "floods", "33", "33.74", [], []),
    ("gorong2 di depan perumahan tersumbat sampah, hujan sebentar langsung tergenang", "complaint", "floods", None, None, [], []),
    ("KRL jurusan bogor sering gangguan, penumpang turun jalan kaki di rel", "complaint", "public-transport", None, None, [], []),
    ("tarif ojol dan angkot naik terus, kapan ada bus murah ke kawasan industri cikarang?", "complaint", "public-transport", None, None, [], []),
    ("polisi tidur liar di jalan kampung tinggi2 banget, motor sering nyangkut", "complaint", "roads", None, None, [], []),
    ("laporan KDRT yang saya buat di polsek tidak diproses, pelaku masih berkeliaran", "complaint", "police", None, None, [], []),
    ("ada peredaran narkoba di kos2an dekat kampus, warga takut melapor langsung. #anonim", "complaint", "police", None, None, [], []),
    ("berapa biaya resmi pembuatan SKCK di polres? kemarin saya diminta 75rb", "information_request", "police", None, None, [], ["75rb"]),
    ("petugas BPN minta uang ukur 2 juta di luar biaya resmi, sertifikat tidak akan diproses kalau tidak bayar", "complaint", "land", None, None, [], ["2 juta"]),
    ("sengketa batas tanah dengan perusahaan sawit, lahan warga diklaim HGU. Kab. Kotawaringin Timur", "complaint", "land", "62", "62.02", [], []),
    ("bagaimana cara mengecek keaslian sertifikat tanah secara online?", "information_request", "land", None, None, [], []),
    ("pajak kendaraan saya sudah dibayar lewat aplikasi tapi STNK belum disahkan, saldo terpotong", "complaint", "tax", None, None, [], []),
    ("mohon penjelasan kenapa PBB tanah kosong saya lebih mahal dari rumah tetangga", "information_request", "tax", None, None, [], []),
    ("mohon dibantu, nomor saya 0821-7788-9900 sering ditelpon debt collector pinjol padahal saya tidak pernah pinjam", "complaint", None, None, None, [("0821-7788-9900", "phone")], []),
    ("NIK saya 1271015512880003 dipakai orang lain untuk daftar pinjol, tolong ditindak", "complaint", None, None, None, [("1271015512880003", "nik")], []),
    ("Kontak saya: dewi.lestari77@gmail.com atau 0857 1234 0099. Lampu PJU mati sebulan di depan rumah", "complaint", "roads", None, None, [("dewi.lestari77@gmail.com", "email"), ("0857 1234 0099", "phone")], []),
    ("pelaku tabrak lari pakai mobil avanza hitam nopol BK 1456 ZX, korban meninggal, polisi lambat", "complaint", "police", None, None, [("BK 1456 ZX", "plate")], []),
    ("sumbangan pembangunan masjid dari desa diminta ditransfer ke rekening Mandiri 1310098765432 milik pribadi kades", "complaint", "illegal-levies", None, None, [("1310098765432", "account")], []),
    ("terima kasih LAPOR, keluhan kami soal sampah sudah ditangani DLH dengan cepat", "aspiration", "waste", None, None, [], []),
]


def hand_rows() -> list[dict]:
    rows = []
    tagged = [(j, "heldout" if j % 3 == 2 else "dev", "hand", row) for j, row in enumerate(HAND)]
    tagged += [(j, "blind", "blind", row) for j, row in enumerate(BLIND)]
    for j, split, prefix, (text, cls, topic, prov, reg, pii, non_pii) in tagged:
        spans = []
        for value, kind in pii:
            start = text.index(value)
            spans.append({"start": start, "end": start + len(value), "kind": kind})
        for d in non_pii:
            assert d in text, d
        rows.append({"id": f"{prefix}-{j:02d}", "split": split, "channel": "twitter" if "@LAPOR" in text else "sms",
                     "text": text, "classification": cls, "topic": topic, "province": prov, "regency": reg,
                     "pii": spans, "non_pii": non_pii, "style": "hand"})
    return rows


def main() -> None:
    rows = build(POOL_A, "dev", 232, 1708) + build(POOL_B, "heldout", 130, 2026) + hand_rows()
    for j, e in enumerate(EXTRA):
        rows.append({"id": f"dev-x{j:02d}", "split": "dev", "channel": "sms", "pii": [], "non_pii": [],
                     "style": "hand", "spam": False, **e})
    with open(HERE / "devset.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} messages written")


if __name__ == "__main__":
    main()
