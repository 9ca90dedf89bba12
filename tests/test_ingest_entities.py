"""The seven entities beyond the monthly report and the PK family register: list fields, JSONL arrays, look-ups
against other landed entities, ages instead of birth dates, the SKDN chain, and chunked reading of large files.
Files are written by the tests in the shapes providers send."""

from __future__ import annotations

import dataclasses
import gzip
import json

import duckdb

from pipelines.lib.entities import ENTITIES
from pipelines.lib.ingest import ingest_entity
from pipelines.lib.pii import hmac_hex
from tests.conftest import TEST_KEY, TODAY

DESA = "19.01.01.2007"


def ingest(folders, name: str, entity=None):
    return ingest_entity(entity or ENTITIES[name], folders, TEST_KEY, today=TODAY)


def landed(folders, name: str) -> list[dict]:
    rel = duckdb.sql(f"select * from read_parquet('{folders.landing_dir}/{name}/**/*.parquet') order by _file, _row")
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def quarantined(folders, name: str) -> list[dict]:
    path = f"{folders.quarantine_dir}/{name}/**/*.parquet"
    rel = duckdb.sql(f"select _row, failed_rules, record from read_parquet('{path}') order by _file, _row")
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def write(folders, relpath: str, text: str, encoding: str = "utf-8") -> None:
    path = folders.raw_dir / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data, mtime=0) if relpath.endswith(".gz") else data)


PROFIL_HEADER = (
    "kampung_kb_id,nama_kampung,kode_desa,rw,cakupan_wilayah,tanggal_pencanangan,latitude,longitude,tahun,bulan,"
    "pokja_ada,pokja_sk_ada,pokja_jumlah,pokja_terlatih_ada,pokja_jumlah_terlatih,plkb_pendamping_ada,regulasi_ada,"
    "regulasi_jenis,rkm_ada,sekretariat_ada,rumah_dataku_ada,rumah_dataku_klasifikasi,poktan_bkb,poktan_bkr,"
    "poktan_bkl,poktan_uppks,poktan_pik,sumber_dana,penggunaan_data,mekanisme_operasional,is_active"
)


def profil_row(kkb_id: int, sumber: str = '"APBN,Dana Desa ; CSR"', tanggal: str = "17/08/2019") -> str:
    return (
        f'{kkb_id},Kampung KB Ma’rifah,{DESA},,Desa,{tanggal},"-1,9","106,1",2024,1,1,1,12,1,3,1,1,4,1,1,1,'
        f'Lengkap,1,1,0,1,0,{sumber},"PK, Data Rutin","Monev, Rapat Perencanaan",1'
    )


def test_profile_list_fields_legacy_headers_and_windows_1252(folders):
    rows = [profil_row(4101), profil_row(4102, sumber='"APBN, Arisan"'), profil_row(4103, tanggal="2015-06-01")]
    write(folders, "kampung_kb/profil/profil_19_2024.csv", "\n".join([PROFIL_HEADER, *rows]) + "\n", "cp1252")
    report = ingest(folders, "profil_kampung_kb")
    assert (report.rows_landed, report.rows_quarantined) == (1, 2)
    [row] = landed(folders, "profil_kampung_kb")
    assert row["sumber_dana"] == ["APBN", "Dana Desa", "CSR"]  # items trimmed, ';' accepted as separator
    assert row["mekanisme_operasional"] == ["Monev", "Rapat Perencanaan"]
    assert row["poktan_uppka"] == 1 and row["poktan_pikr"] == 0  # legacy header names mapped
    assert row["nama_kampung"] == "Kampung KB Ma’rifah"  # decoded from Windows-1252
    assert row["latitude"] == -1.9 and row["tanggal_pencanangan"].isoformat() == "2019-08-17"
    rules = {q["_row"]: q["failed_rules"] for q in quarantined(folders, "profil_kampung_kb")}
    assert rules == {3: ["invalid_code"], 4: ["invalid_date"]}


def intervensi_line(i: int, kkb_id: int, **over) -> str:
    rec = {
        "intervensi_id": i,
        "kampung_kb_id": kkb_id,
        "tanggal": "2024-03-05",
        "judul": "Penyuluhan KB bagi PUS",
        "tempat": "Balai Desa",
        "jenis_post": "Kegiatan",
        "fungsi_keluarga": "Reproduksi",
        "sasaran": ["PUS", "Remaja"],
        "instansi": ["Puskesmas", "PP dan PA"],
        "inpres_sasaran": "perubahan perilaku",
    }
    rec.update(over)
    return json.dumps(rec, ensure_ascii=False)


def test_intervensi_arrays_and_kampung_kb_looked_up_in_the_profiles(folders):
    write(folders, "kampung_kb/profil/p.csv", "\n".join([PROFIL_HEADER, profil_row(4101)]) + "\n")
    ingest(folders, "profil_kampung_kb")
    lines = [
        intervensi_line(1, 4101),
        intervensi_line(2, 999_999),  # no profile has this Kampung KB
        intervensi_line(3, 4101, fungsi_keluarga="Hiburan", instansi=["Puskesmas", "Dinas Entah"]),
        intervensi_line(4, 4101, tanggal="2031-01-01"),
    ]
    write(folders, "kampung_kb/intervensi/2024/03.jsonl", "\n".join(lines) + "\n")
    report = ingest(folders, "intervensi")
    assert (report.rows_landed, report.rows_quarantined) == (1, 3)
    [row] = landed(folders, "intervensi")
    assert row["instansi"] == ["Puskesmas", "PP dan PA"] and row["sasaran"] == ["PUS", "Remaja"]
    rules = {q["_row"]: sorted(q["failed_rules"]) for q in quarantined(folders, "intervensi")}
    assert rules == {2: ["unknown_kampung_kb"], 3: ["invalid_code"], 4: ["future_date"]}


def test_skdn_chain_and_stunting_counts(folders):
    header = (
        "kode_posyandu;tahun;bulan;hari_buka;s;k;d;n;bgm;balita_diukur_tb;pendek;sangat_pendek;bumil_datang;bumil_kek"
    )
    rows = [
        "1901012007001;2024;2;1;40;36;30;25;1;30;5;2;4;1",
        "1901012007002;2024;2;1;40;36;30;31;1;30;5;2;4;1",  # N > D
        "1901012007003;2024;2;1;40;36;30;25;1;10;9;2;4;1",  # stunted > measured
        "190101200700;2024;2;1;40;36;30;25;1;30;5;2;4;1",  # 12-digit posyandu code
    ]
    write(folders, "posyandu/skdn/19.01/skdn_1901_202402.csv", "\n".join([header, *rows]) + "\n")
    report = ingest(folders, "skdn")
    assert (report.rows_landed, report.rows_quarantined) == (1, 3)
    rules = {q["_row"]: q["failed_rules"] for q in quarantined(folders, "skdn")}
    assert rules == {3: ["skdn_chain"], 4: ["stunting_over_measured"], 5: ["invalid_id"]}


EPPGBM_HEADER = (
    "nik_anak;no_kk;nama_anak;tanggal_lahir;jenis_kelamin;kode_posyandu;tanggal_ukur;berat_kg;tinggi_cm;cara_ukur"
)


def test_eppgbm_age_in_months_no_names_no_birth_dates_excel_nik_rejected(folders):
    rows = [
        "1901015203220001;1901011404120001;Siti Aisyah;12/03/2022;P;1901012007001;15/02/2024;11,4;86,5;berdiri",
        "3.27E+15;1901011404120001;Budi;01/01/2023;L;1901012007001;15/02/2024;9,8;76,0;terlentang",
        "1901010101190002;1901011404120001;Dewi;14/02/2019;P;1901012007001;15/02/2024;16,0;105,0;berdiri",  # 60 mo
        "1901010101230003;1901011404120001;Eka;01/01/2023;L;1901012007001;15/02/2024;9,8;400,0;terlentang",
    ]
    write(folders, "posyandu/eppgbm/19.01/eppgbm_1901_202402.csv", "\n".join([EPPGBM_HEADER, *rows]) + "\n")
    report = ingest(folders, "eppgbm")
    assert (report.rows_landed, report.rows_quarantined) == (1, 3)
    [row] = landed(folders, "eppgbm")
    assert row["umur_bulan"] == 23 and row["berat_kg"] == 11.4 and row["tinggi_cm"] == 86.5  # decimal comma
    assert row["nik_anak_hash"] == hmac_hex("1901015203220001", TEST_KEY)
    assert not {"nama_anak", "tanggal_lahir", "nik_anak", "no_kk"} & set(row)
    q = quarantined(folders, "eppgbm")
    assert {r["_row"]: r["failed_rules"] for r in q} == {
        3: ["nik_format"],
        4: ["implausible_measurement"],
        5: ["implausible_measurement"],
    }
    text = json.dumps([r["record"] for r in q])
    assert "Budi" not in text and "2019" not in text and "3.27E+15" not in text  # no names, birth dates or NIK


ANGGOTA_HEADER = (
    "id_keluarga,nomor_anggota,nik,nama,jenis_kelamin,tanggal_lahir,status_kawin,hubungan_kk,agama,pendidikan,"
    "pekerjaan,jkn"
)


def test_pk_members_in_chunks_age_in_years_same_family_pseudonym(folders):
    rows = [
        f"1901012007000101,{i},19010115039{i:05d},Anggota {i},{1 + i % 2},1990-06-30,2,3,1,5,4,1" for i in range(1, 10)
    ]
    rows.append("1901012007000101,10,3.27E+15,X,1,1990-06-30,2,3,1,5,4,1")
    write(folders, "bkkbn/pk_anggota/2024/pk_anggota_1901.csv.gz", "\n".join([ANGGOTA_HEADER, *rows]) + "\n")
    small_chunks = dataclasses.replace(ENTITIES["pk_anggota"], chunk_rows=3)
    report = ingest(folders, "pk_anggota", small_chunks)
    assert (report.rows_read, report.rows_landed, report.rows_quarantined) == (10, 9, 1)
    parts = list((folders.landing_dir / "pk_anggota").glob("*/part-*.parquet"))
    assert len(parts) >= 3  # read, validated and written chunk by chunk
    members = landed(folders, "pk_anggota")
    assert {m["umur_tahun"] for m in members} == {36}  # born 1990-06-30, at TODAY 2026-11-22
    assert {m["keluarga_id"] for m in members} == {hmac_hex("1901012007000101", TEST_KEY)}  # joins pk_keluarga
    assert not {"nik", "nama", "tanggal_lahir"} & set(members[0])


def test_posyandu_master_and_poktan_register(folders):
    write(
        folders,
        "posyandu/master/posyandu_19_2024.csv",
        "kode_posyandu,nama_posyandu,kode_desa,kode_puskesmas,rw,strata,jumlah_kader,tahun\n"
        f"1901012007001,Posyandu Melati 1,{DESA},190101001,001,Purnama,5,2024\n"
        "1903010005001,Posyandu Mawar 1,19.03.01.0005,190301001,001,Madya,4,2024\n"
        f"1901012007002,Posyandu Mawar 2,{DESA},190101001,002,Utama,4,2024\n",
    )
    report = ingest(folders, "posyandu")
    assert (report.rows_landed, report.rows_quarantined) == (1, 2)
    rules = {q["_row"]: sorted(q["failed_rules"]) for q in quarantined(folders, "posyandu")}
    assert rules == {3: ["bps_code", "unknown_wilayah"], 4: ["invalid_code"]}
    write(
        folders,
        "bkkbn/poktan/2024/poktan_19_202401.csv",
        "kode_desa,jenis_poktan,kelompok_id,tahun,bulan,jumlah_anggota,jumlah_hadir,ada_pertemuan\n"
        f"{DESA},BKB,41011,2024,1,20,14,1\n{DESA},BKR,41012,2024,1,20,23,1\n",
    )
    report = ingest(folders, "poktan")
    assert (report.rows_landed, report.rows_quarantined) == (1, 1)
    assert quarantined(folders, "poktan")[0]["failed_rules"] == ["attendance_over_members"]
