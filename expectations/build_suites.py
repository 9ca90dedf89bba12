"""Author the Great Expectations suites of the entities added with the ingestion issue.

The JSON files in gx/expectations/ are the source of truth the pipeline reads; this script is how the newer ones
were written (readable rules, stable ids). Edit a rule here, run `python expectations/build_suites.py`, commit both.
Each expectation carries `meta.name` (the short rule id used in quarantine and metrics) and `meta.reason`.
Suites for kkbpk_bulanan and pk_keluarga were written earlier and are edited as JSON directly.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent / "gx" / "expectations"
GX_VERSION = "1.24.1"
BPS_CODE = r"^\d{2}\.\d{2}\.\d{2}\.0\d{3}$"
FLAG = [0, 1]


class Suite:
    def __init__(self, name: str, description: str, derived: dict[str, str] | None = None) -> None:
        self.name, self.description, self.derived = name, description, derived or {}
        self.items: list[dict] = []

    def add(self, type_: str, kwargs: dict, name: str, reason: str) -> None:
        ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"kkb/{self.name}/{len(self.items)}/{type_}/{kwargs}"))
        self.items.append(
            {
                "id": ident,
                "kwargs": kwargs,
                "meta": {"name": name, "reason": reason},
                "severity": "critical",
                "type": type_,
            }
        )

    # building blocks ---------------------------------------------------------------------------------------
    def required(self, *cols: str) -> None:
        for c in cols:
            self.add("expect_column_values_to_not_be_null", {"column": c}, "missing_value", f"{c} is required")

    def in_set(self, col: str, values: list, name: str = "invalid_code") -> None:
        shown = ", ".join(str(v) for v in values)
        self.add(
            "expect_column_values_to_be_in_set",
            {"column": col, "value_set": values},
            name,
            f"{col} must be one of {shown}",
        )

    def flags(self, *cols: str) -> None:
        for c in cols:
            self.in_set(c, FLAG)

    def between(self, col: str, lo=None, hi=None, name: str = "invalid_code", reason: str | None = None) -> None:
        kwargs: dict = {"column": col}
        if lo is not None:
            kwargs["min_value"] = lo
        if hi is not None:
            kwargs["max_value"] = hi
        if reason is None:
            lo_s = "" if lo is None else f"{lo if not isinstance(lo, dict) else lo['$PARAMETER']} <= "
            hi_s = "" if hi is None else f" <= {hi if not isinstance(hi, dict) else hi['$PARAMETER']}"
            reason = f"{lo_s}{col}{hi_s}"
        self.add("expect_column_values_to_be_between", kwargs, name, reason)

    def not_negative(self, *cols: str) -> None:
        for c in cols:
            self.between(c, 0, None, "negative_count", f"{c} cannot be negative")

    def regex(self, col: str, pattern: str, name: str, reason: str) -> None:
        self.add("expect_column_values_to_match_regex", {"column": col, "regex": pattern}, name, reason)

    def list_of(self, col: str, values: list[str], name: str = "invalid_code") -> None:
        """A list-valued field (normalised to 'a, b, c' at reading): every item from the code list."""
        item = "(?:" + "|".join(_re_escape(v) for v in values) + ")"
        self.regex(col, rf"^{item}(?:, {item})*$", name, f"every item of {col} must be one of {', '.join(values)}")

    def at_most(self, small: str, big: str, name: str, reason: str) -> None:
        """small <= big (rows with either value missing are left to the missing_value rules)."""
        self.add(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": big, "column_B": small, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
            name,
            reason,
        )

    def wilayah(self, col: str = "kode_desa") -> None:
        self.add(
            "expect_column_values_to_not_match_regex",
            {"column": col, "regex": BPS_CODE},
            "bps_code",
            f"{col} looks like a BPS code (desa part starting with 0): send the Kemendagri code",
        )
        self.add(
            "expect_column_values_to_be_in_set",
            {"column": col, "value_set": {"$PARAMETER": "kode_desa_kemendagri"}},
            "unknown_wilayah",
            f"{col} is not a desa/kelurahan of the Kemendagri reference list ({'Kepmendagri 300.2.2-2138/2025'})",
        )

    def period(self) -> None:
        self.between("tahun", 2016, 2100, "invalid_period", "tahun must be 2016 or later")
        self.between("bulan", 1, 12, "invalid_period", "bulan must be 1-12")
        self.between(
            "_periode", None, {"$PARAMETER": "periode_sekarang"}, "future_date", "the month reported is in the future"
        )

    def write(self) -> Path:
        data = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"kkb/{self.name}")),
            "meta": {
                "derived_columns": self.derived,
                "description": self.description,
                "great_expectations_version": GX_VERSION,
            },
            "name": self.name,
            "notes": None,
            "expectations": self.items,
        }
        path = HERE / f"{self.name}.json"
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


def _re_escape(v: str) -> str:
    return "".join("\\" + ch if ch in r".^$*+?{}[]\|()/" else ch for ch in v)


PERIODE = {"_periode": "tahun * 100 + bulan"}
AWAL = {"$PARAMETER": "awal_program"}  # 2016-01-01, when Kampung KB began
SUMBER_DANA = ["APBN", "APBD", "Dana Desa", "Hibah", "CSR", "Swadaya"]
PENGGUNAAN_DATA = ["PK", "Data Rutin", "Potensi Desa", "Data Sektoral", "Lainnya"]
MEKANISME = ["Rapat Perencanaan", "Rakor Instansi", "Sosialisasi", "Monev", "Penyusunan Laporan"]
FUNGSI = ["Keagamaan", "Sosialisasi/Pendidikan", "Reproduksi", "Ekonomi", "Perlindungan", "Kasih Sayang",
          "Sosial Budaya", "Pembinaan Lingkungan", "Lainnya"]  # fmt: skip
SASARAN = ["Seluruh Penduduk", "PUS", "Remaja", "Lansia", "Balita", "Keluarga punya Balita/Remaja/Lansia"]
INSTANSI = [
    "Kesehatan", "Pendidikan", "Sosial", "PUPR", "Pertanian", "Kemenag", "Dukcapil", "PMD", "PP dan PA",
    "Ketenagakerjaan", "Koperasi", "Puskesmas", "Perwakilan BKKBN", "OPD KB", "Pemerintah Desa", "Swasta/CSR",
    "TNI-POLRI", "BPS", "Perikanan", "Perindustrian", "Perdagangan", "Pariwisata", "Kominfo", "Lingkungan Hidup",
    "Perumahan dan Kawasan Permukiman", "Pemuda dan Olahraga", "Perpustakaan", "Ketahanan Pangan", "Peternakan",
    "Kehutanan", "BUMN", "BUMDes", "PKK", "Perguruan Tinggi", "Ormas", "Kecamatan", "Bappeda",
]  # fmt: skip
INPRES = ["data dan adminduk", "perubahan perilaku", "cakupan layanan dan rujukan", "penataan lingkungan"]


def profil() -> Suite:
    s = Suite("profil_kampung_kb", "Kampung KB register and profile (DOMAIN.md 3.1), one row per version.", PERIODE)
    s.required("kampung_kb_id", "nama_kampung", "kode_desa", "cakupan_wilayah", "tanggal_pencanangan", "tahun",
               "bulan", "is_active")  # fmt: skip
    s.wilayah()
    s.between("kampung_kb_id", 1, None, "invalid_id", "kampung_kb_id must be a positive number")
    s.period()
    s.between("tanggal_pencanangan", AWAL, None, "invalid_date",
              "tanggal_pencanangan is before the programme began (2016-01-01)")  # fmt: skip
    s.between("tanggal_pencanangan", None, {"$PARAMETER": "hari_ini"}, "future_date",
              "tanggal_pencanangan is in the future")  # fmt: skip
    s.in_set("cakupan_wilayah", ["RW", "Dusun", "Desa"])
    s.flags("pokja_ada", "pokja_sk_ada", "pokja_terlatih_ada", "plkb_pendamping_ada", "regulasi_ada", "rkm_ada",
            "sekretariat_ada", "rumah_dataku_ada", "poktan_bkb", "poktan_bkr", "poktan_bkl", "poktan_uppka",
            "poktan_pikr", "is_active")  # fmt: skip
    s.in_set("regulasi_jenis", [1, 2, 3, 4])
    s.in_set("rumah_dataku_klasifikasi", ["Sederhana", "Lengkap", "Paripurna"])
    s.not_negative("pokja_jumlah", "pokja_jumlah_terlatih")
    s.at_most("pokja_jumlah_terlatih", "pokja_jumlah", "invalid_code",
              "pokja_jumlah_terlatih cannot exceed pokja_jumlah")  # fmt: skip
    s.list_of("sumber_dana", SUMBER_DANA)
    s.list_of("penggunaan_data", PENGGUNAAN_DATA)
    s.list_of("mekanisme_operasional", MEKANISME)
    s.between("latitude", -11.5, 6.5, "invalid_coordinate", "latitude is outside Indonesia (-11.5 to 6.5)")
    s.between("longitude", 94.5, 141.5, "invalid_coordinate", "longitude is outside Indonesia (94.5 to 141.5)")
    return s


def intervensi() -> Suite:
    s = Suite("intervensi", "Activity posts of a Kampung KB (DOMAIN.md 3.1), one row per event.")
    s.required("intervensi_id", "kampung_kb_id", "tanggal", "judul", "jenis_post", "fungsi_keluarga")
    s.between("intervensi_id", 1, None, "invalid_id", "intervensi_id must be a positive number")
    s.between("kampung_kb_id", 1, None, "invalid_id", "kampung_kb_id must be a positive number")
    s.add(
        "expect_column_values_to_be_in_set",
        {"column": "kampung_kb_id", "value_set": {"$PARAMETER": "kampung_kb_terdaftar"}},
        "unknown_kampung_kb",
        "kampung_kb_id is not in any Kampung KB profile received (kampung_kb/profil)",
    )
    s.between("tanggal", AWAL, None, "invalid_date", "tanggal is before the programme began (2016-01-01)")
    s.between("tanggal", None, {"$PARAMETER": "hari_ini"}, "future_date", "tanggal is in the future")
    s.in_set("jenis_post", ["Kegiatan", "Sebelum-Sesudah"])
    s.in_set("fungsi_keluarga", FUNGSI)
    s.in_set("inpres_sasaran", INPRES)
    s.list_of("sasaran", SASARAN)
    s.list_of("instansi", INSTANSI)
    return s


def posyandu() -> Suite:
    s = Suite("posyandu", "Posyandu master list (DOMAIN.md 3.2), one row per posyandu and year.")
    s.required("kode_posyandu", "nama_posyandu", "kode_desa", "strata", "tahun")
    s.regex("kode_posyandu", r"^\d{13}$", "invalid_id", "kode_posyandu must be 13 digits (kode desa + 3-digit serial)")
    s.wilayah()
    s.in_set("strata", ["Pratama", "Madya", "Purnama", "Mandiri"])
    s.not_negative("jumlah_kader")
    s.between("tahun", 2016, {"$PARAMETER": "tahun_sekarang"}, "invalid_period", "tahun must be 2016 to this year")
    return s


def skdn() -> Suite:
    s = Suite(
        "skdn",
        "Monthly SKDN recap of a posyandu (DOMAIN.md 3.2): S >= K >= D >= N, BGM <= D, stunted <= measured.",
        {**PERIODE, "_pendek_total": "pendek + sangat_pendek"},
    )
    counts = ["s", "k", "d", "n", "bgm", "balita_diukur_tb", "pendek", "sangat_pendek", "bumil_datang", "bumil_kek"]
    s.required("kode_posyandu", "tahun", "bulan", *counts)
    s.regex("kode_posyandu", r"^\d{13}$", "invalid_id", "kode_posyandu must be 13 digits (kode desa + 3-digit serial)")
    s.period()
    s.not_negative("hari_buka", *counts)
    chain = "the SKDN chain must hold: N <= D <= K <= S and BGM <= D"
    for small, big in (("k", "s"), ("d", "k"), ("n", "d"), ("bgm", "d")):
        s.at_most(small, big, "skdn_chain", chain)
    s.at_most("balita_diukur_tb", "d", "skdn_chain", "balita_diukur_tb cannot exceed D (children weighed)")
    s.at_most("_pendek_total", "balita_diukur_tb", "stunting_over_measured",
              "pendek + sangat_pendek cannot exceed balita_diukur_tb")  # fmt: skip
    s.at_most("bumil_kek", "bumil_datang", "invalid_code", "bumil_kek cannot exceed bumil_datang")
    return s


def eppgbm() -> Suite:
    s = Suite(
        "eppgbm",
        "e-PPGBM child measurement (DOMAIN.md 3.2): plausible anthropometry, age 0-59 months, NIK of 16 digits.",
    )
    s.required("nik_anak", "tanggal_lahir", "jenis_kelamin", "kode_posyandu", "tanggal_ukur", "berat_kg", "tinggi_cm")
    s.regex("nik_anak", r"^\d{16}$", "nik_format", "nik_anak must be 16 digits as text (Excel shows 3.27E+15: re-export as text)")
    s.regex("no_kk", r"^\d{16}$", "nik_format", "no_kk must be 16 digits as text")
    s.regex("kode_posyandu", r"^\d{13}$", "invalid_id", "kode_posyandu must be 13 digits (kode desa + 3-digit serial)")
    s.in_set("jenis_kelamin", ["L", "P"])
    s.in_set("cara_ukur", ["terlentang", "berdiri"])
    s.between("tanggal_ukur", AWAL, {"$PARAMETER": "hari_ini"}, "future_date",
              "tanggal_ukur must be a past date (2016 or later)")  # fmt: skip
    s.between("berat_kg", 1, 40, "implausible_measurement", "berat_kg must be 1-40 kg")
    s.between("tinggi_cm", 40, 130, "implausible_measurement", "tinggi_cm must be 40-130 cm")
    s.between("umur_bulan", 0, 59, "implausible_measurement",
              "age at measurement must be 0-59 completed months (tanggal_lahir before tanggal_ukur)")  # fmt: skip
    return s


def pk_anggota() -> Suite:
    s = Suite("pk_anggota", "PK family members, Blok I (DOMAIN.md 3.3), checked before pseudonymisation.")
    s.required("id_keluarga", "nomor_anggota", "nik", "jenis_kelamin", "tanggal_lahir", "hubungan_kk")
    s.regex("id_keluarga", r"^\d{16}$", "invalid_id", "id_keluarga must be 16 digits")
    s.regex("nik", r"^\d{16}$", "nik_format", "nik must be 16 digits as text (Excel shows 3.27E+15: re-export as text)")
    s.between("nomor_anggota", 1, 30, "invalid_id", "nomor_anggota must be 1-30")
    s.in_set("jenis_kelamin", [1, 2])
    s.in_set("status_kawin", [1, 2, 3, 4])
    s.in_set("hubungan_kk", [1, 2, 3, 4])
    s.between("agama", 1, 7)
    s.between("pendidikan", 1, 10)
    s.between("pekerjaan", 1, 10)
    s.in_set("jkn", [1, 2, 3, 4])
    s.between("tanggal_lahir", None, {"$PARAMETER": "hari_ini"}, "future_date", "tanggal_lahir is in the future")  # fmt: skip
    return s


def poktan() -> Suite:
    s = Suite("poktan", "SIGA poktan register (DOMAIN.md 3.3), one row per group and month.", PERIODE)
    s.required("kode_desa", "jenis_poktan", "kelompok_id", "tahun", "bulan", "jumlah_anggota", "jumlah_hadir")
    s.wilayah()
    s.in_set("jenis_poktan", ["BKB", "BKR", "BKL", "UPPKA", "PIK-R"])
    s.between("kelompok_id", 1, None, "invalid_id", "kelompok_id must be a positive number")
    s.period()
    s.not_negative("jumlah_anggota", "jumlah_hadir")
    s.flags("ada_pertemuan")
    s.at_most("jumlah_hadir", "jumlah_anggota", "attendance_over_members",
              "jumlah_hadir cannot exceed jumlah_anggota")  # fmt: skip
    return s


SUITES = (profil, intervensi, posyandu, skdn, eppgbm, pk_anggota, poktan)

if __name__ == "__main__":
    for build in SUITES:
        print(build().write())
