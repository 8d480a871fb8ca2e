# ruff: noqa: E501  (hand-written message cores are kept one per line)
"""Builds tests/data/trainset.jsonl: the labelled set the classifier (normalizer/data/classifier.json) learns from.

How it was made: hand-written sentence cores (none taken from devset.jsonl or blindset.jsonl),
in the registers seen on 1708/X/WhatsApp/email — polite letters, chat spelling, complaints
that ask "kapan diperbaiki?", aspirations phrased as complaints or questions ("kenapa tidak
dibangun … saja?"), information requests as plain questions without "mohon info", thanks and
praise — each combined with several of: openers, closers, places, spelling styles
(abbreviations, typos, letter floods, emoji, upper/lower case). Labels are the core's labels.
Deterministic (seed). Run: python tests/data/make_trainset.py  (rewrites trainset.jsonl)
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "trainset.jsonl"
SEED = 1708
COPIES = 5  # styled variants per core

C, A, I = "complaint", "aspiration", "information_request"  # noqa: E741  (short labels keep the core table readable)
# (class, topic or None, core)
CORES: list[tuple[str, str | None, str]] = [
    # ---- roads
    (C, "roads", "jalan menuju desa kami rusak berat, lubangnya dalam dan sudah memakan korban"),
    (C, "roads", "aspal jalan kabupaten retak dan bergelombang, mobil sering terperosok"),
    (C, "roads", "jalan berlubang depan pasar itu kapan diperbaiki? sudah setahun dibiarkan"),
    (C, "roads", "kenapa jalan ke puskesmas tidak pernah diaspal, ambulans susah lewat"),
    (C, "roads", "jembatan kayu di kampung kami lapuk dan miring, anak sekolah takut menyeberang"),
    (C, "roads", "lampu penerangan jalan mati total di ruas jalan raya, gelap dan rawan kecelakaan"),
    (C, "roads", "proyek pelebaran jalan berhenti di tengah jalan, galian dibiarkan terbuka tanpa rambu"),
    (C, "roads", "trotoar rusak dan dipakai berjualan pkl, pejalan kaki terpaksa jalan di aspal"),
    (C, "roads", "dengan hormat, kami sampaikan bahwa kondisi jalan lingkungan kami sangat memprihatinkan dan mohon perhatian dinas terkait"),
    (A, "roads", "kenapa tidak dipasang lampu jalan saja di tikungan itu, supaya pengendara lebih aman"),
    (A, "roads", "bagaimana kalau jalan desa dicor beton saja, aspal selalu cepat rusak"),
    (A, "roads", "kami mengusulkan pembangunan jembatan permanen pengganti jembatan bambu"),
    (A, "roads", "mohon dipertimbangkan pembuatan jalur sepeda di jalan protokol"),
    (A, "roads", "harapan kami ada rambu dan polisi tidur di depan sekolah"),
    (I, "roads", "jalan ini milik kabupaten atau provinsi? biar tahu harus lapor ke mana"),
    (I, "roads", "kapan jadwal pengaspalan jalan di kecamatan kami"),
    (I, "roads", "apakah perbaikan jalan lingkungan bisa diajukan lewat musrenbang"),
    (I, "roads", "siapa yang berwenang memperbaiki lampu jalan di jalan nasional"),
    # ---- water
    (C, "water", "air pdam tidak mengalir sudah tiga hari, warga terpaksa beli air galon"),
    (C, "water", "air dari pdam berbau kaporit menyengat dan berwarna coklat"),
    (C, "water", "tagihan air bulan ini melonjak padahal pemakaian biasa saja"),
    (C, "water", "meteran air dicabut petugas padahal kami sudah bayar tagihan"),
    (C, "water", "sambungan pipa air bocor di gang kami, air terbuang percuma"),
    (C, "water", "kenapa air pdam selalu mati tiap pagi saat orang mau berangkat kerja"),
    (A, "water", "usul agar perumda air minum memasang jaringan pipa ke dusun yang belum terjangkau"),
    (A, "water", "sebaiknya ada pemberitahuan lewat sms kalau air pdam akan mati"),
    (A, "water", "kenapa tidak dibangun sumur bor bersama saja untuk kampung kami yang kekeringan"),
    (I, "water", "berapa biaya pasang baru sambungan pdam untuk rumah tangga"),
    (I, "water", "bagaimana cara mengajukan keringanan tagihan air pdam"),
    (I, "water", "air pdam di wilayah kami mati sampai kapan ya"),
    (I, "water", "apakah air pdam bisa langsung diminum tanpa dimasak"),
    # ---- electricity
    (C, "electricity", "listrik padam berjam jam hampir tiap malam tanpa pemberitahuan"),
    (C, "electricity", "tegangan listrik naik turun, televisi dan kulkas warga rusak"),
    (C, "electricity", "token listrik yang saya beli tidak bisa dimasukkan, pln tidak membantu"),
    (C, "electricity", "tiang listrik roboh menimpa pagar rumah warga dan belum diangkat"),
    (C, "electricity", "petugas pln minta biaya tambahan untuk pasang baru di luar tarif resmi"),
    (A, "electricity", "harapan kami jaringan listrik pln bisa masuk ke dusun kami yang masih gelap"),
    (A, "electricity", "sebaiknya pln memberi kompensasi kepada pelanggan jika listrik padam lama"),
    (I, "electricity", "bagaimana cara mengajukan tambah daya listrik"),
    (I, "electricity", "kapan listrik di kampung kami menyala lagi setelah gangguan"),
    (I, "electricity", "apakah subsidi listrik masih berlaku untuk daya 900 va"),
    # ---- health insurance
    (C, "health-insurance", "kartu bpjs saya tidak aktif saat berobat padahal iuran selalu dibayar"),
    (C, "health-insurance", "rumah sakit minta pasien bpjs bayar obat sendiri"),
    (C, "health-insurance", "peserta kis dipulangkan padahal belum sembuh dengan alasan plafon habis"),
    (C, "health-insurance", "kepesertaan bpjs pbi kami dinonaktifkan tanpa pemberitahuan"),
    (A, "health-insurance", "semoga bpjs kesehatan menambah faskes rujukan di kabupaten kami"),
    (A, "health-insurance", "usul agar denda keterlambatan iuran bpjs mandiri dihapus untuk warga miskin"),
    (I, "health-insurance", "bagaimana cara pindah faskes tingkat pertama bpjs"),
    (I, "health-insurance", "kalau kartu bpjs hilang, cetak ulangnya di mana"),
    (I, "health-insurance", "apakah pengobatan gigi ditanggung bpjs kesehatan"),
    (I, "health-insurance", "iuran bpjs kelas 3 sekarang berapa per bulan"),
    # ---- health services
    (C, "health-services", "dokter di puskesmas jarang datang, pasien hanya dilayani perawat"),
    (C, "health-services", "pasien igd rsud dibiarkan menunggu lama tanpa penanganan"),
    (C, "health-services", "petugas rumah sakit kasar dan membentak keluarga pasien"),
    (C, "health-services", "stok obat di puskesmas sering kosong"),
    (C, "health-services", "ambulans desa dipakai untuk keperluan pribadi perangkat desa"),
    (A, "health-services", "mohon ditambah tenaga bidan di desa kami yang jauh dari puskesmas"),
    (A, "health-services", "alangkah baiknya puskesmas buka sampai sore untuk warga yang bekerja"),
    (A, "health-services", "terima kasih pelayanan rumah sakit sudah lebih cepat, semoga dipertahankan"),
    (I, "health-services", "jam berapa poli anak di rsud buka"),
    (I, "health-services", "apakah puskesmas melayani vaksin untuk dewasa"),
    (I, "health-services", "di mana tempat cek kesehatan gratis untuk lansia"),
    # ---- population documents
    (C, "population-documents", "ktp elektronik saya sudah setahun belum jadi"),
    (C, "population-documents", "petugas dukcapil minta uang agar kartu keluarga cepat selesai"),
    (C, "population-documents", "data di kartu keluarga salah terus meski sudah diperbaiki dua kali"),
    (C, "population-documents", "antrean di disdukcapil sangat panjang, nomor antrean habis jam 8 pagi"),
    (C, "population-documents", "akta kelahiran anak kami belum terbit padahal berkas lengkap"),
    (A, "population-documents", "usul agar pencetakan ktp bisa dilakukan di kantor kecamatan"),
    (A, "population-documents", "sebaiknya layanan adminduk bisa online semua supaya tidak antre"),
    (I, "population-documents", "syarat membuat kartu identitas anak apa saja"),
    (I, "population-documents", "bagaimana cara pindah domisili ke luar kota"),
    (I, "population-documents", "apakah mengurus akta kelahiran dipungut biaya"),
    (I, "population-documents", "ktp yang hilang bisa dicetak ulang di kecamatan atau harus ke dinas"),
    # ---- social aid
    (C, "social-aid", "bantuan sosial tidak tepat sasaran, orang mampu dapat dan warga miskin tidak"),
    (C, "social-aid", "uang pkh kami dipotong oleh ketua kelompok"),
    (C, "social-aid", "bantuan beras dari pemerintah tidak dibagikan oleh kepala desa"),
    (C, "social-aid", "nama kami hilang dari dtks padahal kondisi kami tidak berubah"),
    (C, "social-aid", "blt dana desa hanya dibagikan ke kerabat perangkat desa"),
    (A, "social-aid", "usul agar daftar penerima bansos ditempel di kantor desa supaya transparan"),
    (A, "social-aid", "semoga lansia yang hidup sendiri diprioritaskan mendapat bantuan"),
    (A, "social-aid", "kenapa tidak dibuat saja pendataan ulang penerima bantuan setiap tahun"),
    (I, "social-aid", "cara daftar bansos untuk keluarga yang baru jatuh miskin bagaimana"),
    (I, "social-aid", "kapan pencairan pkh tahap ketiga"),
    (I, "social-aid", "bagaimana mengecek status penerima bantuan sosial secara online"),
    (I, "social-aid", "apakah janda dengan anak yatim bisa mendapat bantuan pkh"),
    # ---- education
    (C, "education", "sekolah negeri mewajibkan siswa membeli seragam di koperasi dengan harga mahal"),
    (C, "education", "ijazah ditahan karena belum melunasi uang pembangunan"),
    (C, "education", "guru sering tidak masuk kelas dan murid dibiarkan belajar sendiri"),
    (C, "education", "anak kami ditolak masuk smp negeri padahal rumah dekat sekolah"),
    (C, "education", "dana bos tidak jelas penggunaannya, orang tua tetap ditarik iuran"),
    (A, "education", "usul agar sekolah menyediakan bus antar jemput untuk siswa dari desa jauh"),
    (A, "education", "sebaiknya pembelian buku lks tidak diwajibkan"),
    (A, "education", "kami berharap gaji guru honorer dinaikkan"),
    (A, "education", "bagaimana kalau perpustakaan sekolah dibuka juga untuk warga sekitar"),
    (I, "education", "kapan pendaftaran sekolah negeri dibuka"),
    (I, "education", "syarat beasiswa kip kuliah apa saja"),
    (I, "education", "apakah anak pindahan dari luar provinsi bisa ikut jalur domisili"),
    (I, "education", "berapa kuota jalur afirmasi di sma negeri"),
    # ---- illegal levies
    (C, "illegal-levies", "petugas kelurahan minta uang tanpa kuitansi untuk surat pengantar"),
    (C, "illegal-levies", "oknum pegawai meminta uang pelicin agar izin cepat keluar"),
    (C, "illegal-levies", "ada pungutan liar di jembatan timbang oleh petugas"),
    (C, "illegal-levies", "sopir truk dipalak preman di setiap pos, mereka mengaku dari ormas"),
    (C, "illegal-levies", "kepala desa memungut biaya untuk program sertifikat gratis"),
    (I, "illegal-levies", "apakah biaya surat keterangan di kelurahan itu resmi atau pungli"),
    (A, "illegal-levies", "semoga tim saber pungli lebih sering sidak ke kantor pelayanan"),
    # ---- waste
    (C, "waste", "sampah di tempat pembuangan sementara tidak diangkut berhari hari"),
    (C, "waste", "warga membuang sampah ke sungai karena tidak ada tps"),
    (C, "waste", "bau busuk dari tpa tercium sampai ke permukiman"),
    (C, "waste", "petugas kebersihan minta iuran sampah dobel"),
    (A, "waste", "usul dibuat bank sampah dan tempat daur ulang di setiap kelurahan"),
    (A, "waste", "kenapa tidak disediakan tempat sampah terpilah di taman kota"),
    (I, "waste", "jadwal pengangkutan sampah di wilayah kami hari apa saja"),
    (I, "waste", "ke mana harus membuang sampah elektronik"),
    # ---- floods
    (C, "floods", "rumah kami kebanjiran setiap hujan karena drainase tersumbat"),
    (C, "floods", "got di depan rumah mampet dan air meluap ke jalan"),
    (C, "floods", "sungai meluap dan tanggul jebol, warga mengungsi"),
    (C, "floods", "longsor menimbun jalan dan belum ada bantuan alat berat"),
    (A, "floods", "sebaiknya saluran air diperlebar sebelum musim hujan"),
    (A, "floods", "kami usul dibangun kolam retensi untuk mengurangi banjir"),
    (I, "floods", "apakah ada bantuan untuk korban banjir dari bpbd"),
    (I, "floods", "nomor darurat bpbd untuk melapor banjir berapa"),
    # ---- public transport
    (C, "public-transport", "angkot menaikkan tarif seenaknya tanpa dasar"),
    (C, "public-transport", "bus kota sering tidak berhenti di halte"),
    (C, "public-transport", "parkir liar di bahu jalan membuat macet setiap sore"),
    (C, "public-transport", "kapal penyeberangan terlambat berjam jam tanpa informasi"),
    (C, "public-transport", "ojek online dilarang masuk stasiun oleh pangkalan ojek"),
    (A, "public-transport", "usul ditambah armada bus sekolah gratis"),
    (A, "public-transport", "sebaiknya ada angkutan umum ke kawasan industri"),
    (I, "public-transport", "rute bus dari terminal ke bandara lewat mana saja"),
    (I, "public-transport", "jadwal kereta paling pagi jam berapa"),
    (I, "public-transport", "berapa tarif parkir resmi di pasar"),
    # ---- police
    (C, "police", "laporan pencurian kami ke polsek tidak ditindaklanjuti"),
    (C, "police", "oknum polisi meminta uang damai saat razia"),
    (C, "police", "pembuatan sim dipersulit kalau tidak lewat calo"),
    (C, "police", "balap liar dan tawuran tiap malam minggu tidak ditindak"),
    (A, "police", "mohon patroli polisi ditambah di jalan yang rawan begal"),
    (I, "police", "syarat membuat skck apa saja"),
    (I, "police", "bagaimana cara mengurus stnk yang hilang"),
    (I, "police", "perpanjang sim bisa online atau harus datang"),
    # ---- land
    (C, "land", "sertifikat tanah kami belum selesai bertahun tahun di kantor pertanahan"),
    (C, "land", "tanah warga diklaim perusahaan tanpa ganti rugi"),
    (C, "land", "petugas ukur bpn minta uang transport di luar biaya resmi"),
    (A, "land", "semoga program ptsl diperluas ke desa kami"),
    (I, "land", "biaya balik nama sertifikat tanah berapa"),
    (I, "land", "cara mengurus sertifikat tanah warisan bagaimana"),
    # ---- tax
    (C, "tax", "tagihan pbb naik berlipat tanpa penjelasan"),
    (C, "tax", "bayar pajak kendaraan di samsat dikenai biaya tambahan"),
    (C, "tax", "sistem pajak online error terus saat lapor spt"),
    (A, "tax", "semoga ada pemutihan pajak kendaraan tahun ini"),
    (I, "tax", "cara bayar pbb online bagaimana"),
    (I, "tax", "apakah pajak kendaraan bisa dibayar di samsat mana saja"),
    (I, "tax", "kapan batas akhir lapor spt tahunan"),
    # ---- other / no topic
    (C, None, "pegawai kantor kecamatan sering datang terlambat dan pulang cepat"),
    (C, None, "petugas pelayanan tidak ramah dan melempar berkas warga"),
    (C, None, "gaji karyawan dibayar di bawah umr dan thr tidak dibayar"),
    (C, None, "aplikasi pelayanan pemerintah error terus dan tidak bisa login"),
    (C, None, "anjing liar berkeliaran dan menggigit warga"),
    (C, None, "asn ikut kampanye calon bupati di jam kerja"),
    (A, None, "terima kasih kepada petugas yang sudah cepat menanggapi laporan kami"),
    (A, None, "semoga pelayanan di kantor desa semakin baik ke depannya"),
    (A, None, "kami mengusulkan dibangun taman bermain anak di lahan kosong milik pemda"),
    (A, None, "usul agar ada pelatihan kerja gratis untuk pemuda pengangguran"),
    (A, None, "apresiasi untuk pemerintah kota atas program car free day"),
    (A, None, "alangkah baiknya jika setiap kantor menyediakan ruang laktasi"),
    (A, None, "kenapa tidak dibuka lowongan kerja untuk warga lokal di pabrik baru itu saja"),
    (I, None, "laporan saya sebelumnya sudah sampai mana prosesnya"),
    (I, None, "bagaimana cara melapor lewat sms 1708"),
    (I, None, "ke mana harus mengadu soal penipuan online"),
    (I, None, "apakah pendaftaran cpns tahun ini sudah dibuka"),
    (I, None, "jam pelayanan kantor kelurahan hari sabtu buka atau tidak"),
    (I, None, "cara klaim jht bpjs ketenagakerjaan bagaimana"),
    # ---- harder framings: polite complaints, aspirations as questions/complaints, bare questions
    (C, None, "mohon maaf sebelumnya, saya hanya ingin menyampaikan keluhan bahwa pelayanan di kantor ini sangat mengecewakan"),
    (C, "roads", "terima kasih atas programnya, tapi jalan yang baru diperbaiki bulan lalu sudah rusak lagi"),
    (C, "water", "maaf mengganggu, air di rumah kami sudah seminggu tidak keluar sama sekali"),
    (C, "education", "dengan segala hormat, kami keberatan dengan pungutan uang perpisahan yang diwajibkan sekolah"),
    (C, "social-aid", "saya ingin bertanya kenapa bantuan kami dihentikan padahal kami masih sangat membutuhkan, ini tidak adil"),
    (C, "health-services", "kenapa pasien miskin selalu dinomorduakan di rumah sakit ini"),
    (C, "police", "sudah dua bulan laporan kami di polres tidak ada kabar, sebenarnya kerja polisi itu bagaimana"),
    (C, "illegal-levies", "apa benar harus bayar 300 ribu untuk surat tanah di desa? kami sudah terlanjur bayar dan tidak diberi kuitansi"),
    (C, "public-transport", "bus trans tidak datang satu jam lebih, penumpang menumpuk di halte dan tidak ada petugas"),
    (C, "waste", "sudah berkali kali kami lapor ke kelurahan soal sampah ini tapi tidak ada tindakan"),
    (A, "roads", "apakah tidak sebaiknya jalan di depan sekolah dibuat satu arah saja supaya tidak macet"),
    (A, "public-transport", "kenapa tidak dibuat halte di depan rumah sakit, pasien lansia kesulitan naik bus"),
    (A, "waste", "sayang sekali lahan kosong itu jadi tempat buang sampah, lebih baik dijadikan taman"),
    (A, "education", "anak anak di desa kami harus jalan 5 km ke sekolah, kami berharap dibangun sekolah di desa sendiri"),
    (A, "health-services", "puskesmas kami kecil dan sempit, semoga tahun depan bisa direnovasi dan diperluas"),
    (A, None, "pemerintah perlu lebih memperhatikan nasib petani, misalnya dengan menjamin harga gabah"),
    (A, None, "menurut saya sebaiknya setiap desa punya wifi gratis di balai desa untuk anak belajar"),
    (A, None, "bagaimana jika pengumuman lowongan kerja pemerintah juga disebar lewat radio desa"),
    (A, "social-aid", "program bantuan modal usaha untuk ibu rumah tangga sangat bagus, mohon dilanjutkan dan diperbanyak"),
    (A, "floods", "daripada tiap tahun banjir, lebih baik sungainya dikeruk dan dibuat tanggul permanen"),
    (I, None, "nomor pengaduan dinas sosial berapa"),
    (I, "population-documents", "bikin kk baru setelah menikah bawa apa saja"),
    (I, "education", "pengumuman hasil seleksi sekolah negeri keluar tanggal berapa"),
    (I, "health-insurance", "anak saya umur 22 tahun masih bisa ikut bpjs orang tua tidak"),
    (I, "land", "tanah girik bisa dijadikan sertifikat lewat ptsl tidak"),
    (I, "tax", "denda telat bayar pajak motor dihitung per bulan atau per tahun"),
    (I, "public-transport", "angkutan dari pelabuhan ke kota ada sampai jam berapa"),
    (I, None, "laporan saya kok belum ada tanggapan, biasanya berapa hari diproses"),
    (I, None, "kantor imigrasi terdekat untuk bikin paspor di mana"),
    (I, "social-aid", "saya baru pindah domisili, bansos saya ikut pindah atau harus daftar ulang"),
]

OPENERS = {
    "formal": ["Kepada Yth. Bapak/Ibu pimpinan instansi terkait, ", "Dengan hormat, ", "Yth. Admin LAPOR!, ",
               "Selamat pagi, izin menyampaikan, ", "Assalamualaikum wr wb. ", "Mohon maaf sebelumnya, "],
    "chat": ["min ", "halo min, ", "pak, ", "@LAPOR1708 ", "tolong min ", "gan, ", "kak, ", "permisi, "],
    "none": [""],
}
CLOSERS = {
    "formal": [" Atas perhatiannya kami ucapkan terima kasih.", " Terima kasih.", " Mohon tindak lanjutnya.",
               " Demikian, terima kasih.", " Wassalam."],
    "chat": [" makasih min", " thx", " 🙏", " 🙏🙏", " mksh", " 😡", " tq", ""],
    "none": [""],
}
PLACES = ["di Kec. Cibinong", "di Kota Medan", "di Kab. Garut", "desa Sukamaju", "di Kelurahan Tegalrejo",
          "di kampung kami", "di Kabupaten Bogor", "di Jakarta Timur", "di wilayah kami", "di Kota Makassar",
          "di RT 03/RW 05", "di dekat pasar", ""]
ABBR = {"yang": "yg", "tidak": "tdk", "sudah": "sdh", "dengan": "dgn", "untuk": "utk", "karena": "krn",
        "belum": "blm", "bagaimana": "gmn", "tolong": "tlg", "mohon": "mhn", "sekarang": "skrg", "saja": "aja",
        "apa": "ap", "kapan": "kpn", "terima kasih": "trims", "juga": "jg", "bisa": "bs", "harus": "hrs",
        "sampai": "sampe", "kenapa": "knp", "berapa": "brp", "kami": "kmi", "warga": "wrg"}
# a second sentence of the same kind, as people add one (chronology, plea, thanks)
FILLERS = {
    C: ["sudah dilaporkan ke pihak terkait tapi belum ada tindakan", "kami sangat dirugikan", "kejadian ini sudah berulang kali",
        "mohon segera ditindak", "kami sudah lelah menunggu", "tolong jangan hanya janji", "ini sudah keterlaluan",
        "sudah viral di media sosial tapi tetap dibiarkan", "mohon tindak lanjutnya"],
    A: ["semoga bisa menjadi bahan pertimbangan", "demi kemajuan daerah kita bersama", "ini hanya masukan dari kami warga",
        "kami siap mendukung", "semoga terwujud", "terima kasih atas perhatiannya", "semoga ke depan lebih baik"],
    I: ["mohon jawabannya", "terima kasih sebelumnya", "saya bingung harus ke mana", "soalnya belum ada pengumuman",
        "biar tidak salah langkah", "mohon dibantu infonya", "karena saya mau mengurusnya minggu depan"],
}
EMOJI = ["🙏", "😭", "😡", "👍", "🙄", "‼️", "😢"]


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 5 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 2)
    op = rng.randrange(3)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]  # swap
    if op == 1:
        return word[:i] + word[i + 1:]  # drop
    return word[:i] + word[i] + word[i:]  # double


def styled(text: str, style: str, rng: random.Random) -> str:
    if style == "abbr":
        for full, short in ABBR.items():
            if rng.random() < 0.8:
                text = text.replace(full, short)
    elif style == "typo":
        text = " ".join(typo(w, rng) if rng.random() < 0.15 else w for w in text.split())
    elif style == "upper":
        text = text.upper()
    elif style == "flood":
        text = " ".join(w + w[-1] * 3 if rng.random() < 0.1 and w.isalpha() else w for w in text.split())
    elif style == "emoji":
        text = f"{text} {rng.choice(EMOJI)}{rng.choice(EMOJI)}"
    elif style == "sentence":
        text = text[0].upper() + text[1:] + ("" if text.endswith("?") else ".")
    return text


def build() -> list[dict]:
    rng = random.Random(SEED)
    rows: list[dict] = []
    styles = ["plain", "abbr", "typo", "upper", "flood", "emoji", "sentence", "abbr", "typo"]
    for ci, (cls, topic, core) in enumerate(CORES):
        for k in range(COPIES):
            register = rng.choice(["formal", "chat", "none", "chat"])
            body = core
            place = rng.choice(PLACES)
            if place and rng.random() < 0.6:
                body = f"{body} {place}" if rng.random() < 0.5 else f"{place} {body}"
            if cls == "information_request" and rng.random() < 0.5 and not body.endswith("?"):
                body += "?"
            if rng.random() < 0.35:
                body = f"{body}, {rng.choice(FILLERS[cls])}" if rng.random() < 0.7 else f"{rng.choice(FILLERS[cls])}. {body}"
            text = rng.choice(OPENERS[register]) + styled(body, rng.choice(styles), rng) + rng.choice(CLOSERS[register])
            rows.append({"id": f"train-{ci:03d}-{k}", "core": ci, "text": text.strip(), "classification": cls,
                         "topic": topic})
    return rows


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows from {len(CORES)} cores -> {OUT}")


if __name__ == "__main__":
    main()
