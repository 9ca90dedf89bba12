"""DOMAIN.md is the contract (issue 21): a file carrying exactly DOMAIN.md's fields for its entity lands, no field it
does not name is required, one bad file never stops the others, and only a broken delivery blocks the night."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os

import duckdb
import pytest

from pipelines.defs.ingest import check_result
from pipelines.lib import coerce as coerce_module
from pipelines.lib import ingest as ingest_module
from pipelines.lib.deliveries import Delivery, broken, deliveries
from pipelines.lib.entities import ENTITIES, KKBPK_BULANAN
from pipelines.lib.ingest import ingest_entity
from pipelines.lib.manifest import FileRecord
from tests.conftest import TEST_KEY, TODAY
from tests.domain_fields import domain_fields
from tests.kkbpk_files import HEADER, csv_row, write_csv

WIB = dt.timezone(dt.timedelta(hours=7))
ARRIVED = dt.datetime(2024, 2, 2, 9, 0, tzinfo=WIB)


def landed_date(folders) -> tuple:
    """(tanggal_lapor, tanggal_lapor_sumber) of the one landed monthly report."""
    parts = f"{folders.landing_dir}/kkbpk_bulanan/*/*/*.parquet"
    return duckdb.sql(f"select tanggal_lapor, tanggal_lapor_sumber from read_parquet('{parts}')").fetchone()


# One valid record per entity, by DOMAIN.md's field names, written by hand (values a data officer would type).
VALID = {
    "profil_kampung_kb": dict(
        kampung_kb_id="1901001", nama_kampung="Kampung KB Melati", kode_desa="19.01.01.2007", rw="003",
        cakupan_wilayah="RW", tanggal_pencanangan="29/06/2019", latitude="-1,8765", longitude="106,1234", tahun="2024",
        bulan="1", pokja_ada="1", pokja_sk_ada="1", pokja_jumlah="12", pokja_terlatih_ada="1",
        pokja_jumlah_terlatih="5", plkb_pendamping_ada="1", regulasi_ada="1", regulasi_jenis="4", rkm_ada="1",
        sekretariat_ada="1", rumah_dataku_ada="1", rumah_dataku_klasifikasi="Lengkap", poktan_bkb="1",
        poktan_bkr="1", poktan_bkl="1", poktan_uppka="0", poktan_pikr="1", sumber_dana="APBD, Dana Desa",
        penggunaan_data="PK, Data Rutin", mekanisme_operasional="Rapat Perencanaan, Monev", is_active="1",
    ),
    "kkbpk_bulanan": dict(
        zip(HEADER[:4] + HEADER[5:], [v for i, v in enumerate(csv_row(1901001)) if i != 4], strict=True)
    ),
    "intervensi": dict(
        intervensi_id="5001", kampung_kb_id="1901001", tanggal="15/01/2024", judul="Penyuluhan KB",
        tempat="Balai Desa", jenis_post="Kegiatan", fungsi_keluarga="Reproduksi", sasaran="PUS",
        instansi="Puskesmas, OPD KB", inpres_sasaran="perubahan perilaku",
    ),
    "posyandu": dict(
        kode_posyandu="1901012007001", nama_posyandu="Posyandu Mawar", kode_desa="19.01.01.2007",
        kode_puskesmas="P1901010101", rw="003", strata="Madya", jumlah_kader="5", tahun="2024",
    ),
    "skdn": dict(
        kode_posyandu="1901012007001", tahun="2024", bulan="1", hari_buka="1", s="40", k="38", d="30", n="25",
        bgm="1", balita_diukur_tb="28", pendek="4", sangat_pendek="1", bumil_datang="6", bumil_kek="1",
    ),
    "eppgbm": dict(
        nik_anak="1901015203220001", no_kk="1901010101220001", nama_anak="Budi", tanggal_lahir="12/03/2022",
        jenis_kelamin="L", kode_posyandu="1901012007001", tanggal_ukur="15/01/2024", berat_kg="11,4",
        tinggi_cm="86,5", cara_ukur="terlentang",
    ),
    "pk_keluarga": dict(
        id_keluarga="1901012007000101", no_kk="1901010101220001", kode_desa="19.01.01.2007", rw="003", rt="002",
        no_rumah="17", no_urut_keluarga="1", tahun_pendataan="2024", jumlah_anggota="4", pus="1", usia_istri="29",
        jumlah_anak_hidup="2", status_kb="ber-KB", metode_kb="Suntik", sumber_air_layak="1", jamban_layak="1",
        rumah_layak="1", desil="4", punya_baduta="1", punya_balita="1", pus_hamil="0", krs="0",
    ),
    "pk_anggota": dict(
        id_keluarga="1901012007000101", nomor_anggota="1", nik="1901015006950001", nama="Siti", jenis_kelamin="2",
        tanggal_lahir="25/06/1995", status_kawin="2", hubungan_kk="2", agama="1", pendidikan="5", pekerjaan="3",
        jkn="1",
    ),
    "poktan": dict(
        kode_desa="19.01.01.2007", jenis_poktan="BKB", kelompok_id="7001", tahun="2024", bulan="1",
        jumlah_anggota="25", jumlah_hadir="20", ada_pertemuan="1",
    ),
}  # fmt: skip


def test_no_column_outside_domain_md_is_required():
    fields = domain_fields()
    for name, entity in ENTITIES.items():
        extra = [c.name for c in entity.columns if c.required and c.name not in fields[name]]
        assert not extra, f"{name} requires {extra}, which DOMAIN.md does not name"
        known = {c.name for c in entity.columns} | {a for c in entity.columns for a in c.aliases}
        assert not [f for f in fields[name] if f not in known], f"{name}: DOMAIN.md fields the readers do not know"


@pytest.mark.parametrize("name", list(ENTITIES))
def test_a_file_with_exactly_domain_md_fields_lands(name, folders):
    fields = domain_fields()[name]
    assert sorted(VALID[name]) == sorted(fields), "the hand-written record names exactly DOMAIN.md's fields"
    if name == "intervensi":  # an activity post names a Kampung KB whose profile arrived: load that first
        profil = VALID["profil_kampung_kb"]
        path = folders.raw_dir / ENTITIES["profil_kampung_kb"].folder / "profil.csv"
        write_csv(path, [list(profil.values())], header=list(profil))
        assert ingest_entity(ENTITIES["profil_kampung_kb"], folders, TEST_KEY, today=TODAY).rows_landed == 1
    entity = ENTITIES[name]
    path = folders.raw_dir / entity.folder / f"{name}.csv"
    write_csv(path, [[VALID[name][f] for f in fields]], header=fields)
    os.utime(path, (ARRIVED.timestamp(), ARRIVED.timestamp()))
    report = ingest_entity(entity, folders, TEST_KEY, today=TODAY)
    [rec] = [f for f in report.files if f.path.endswith(f"{name}.csv")]
    assert (rec.status, rec.rows_landed, rec.rows_quarantined) == ("loaded", 1, 0), rec.reason
    if name == "kkbpk_bulanan":  # no submission date: dated by the file's arrival, and says so
        assert landed_date(folders) == (ARRIVED.date(), "waktu_file")


def test_received_from_first_seen(folders, monkeypatch):
    """KKB_RECEIVED_FROM=first_seen dates a report without a date by the night the pipeline first saw its file."""
    monkeypatch.setenv("KKB_RECEIVED_FROM", "first_seen")
    header = [h for h in HEADER if h != "tanggal_lapor"]
    row = [v for h, v in zip(HEADER, csv_row(1), strict=True) if h != "tanggal_lapor"]
    path = write_csv(folders.raw_dir / KKBPK_BULANAN.folder / "a.csv", [row], header=header)
    os.utime(path, (0, 0))  # a file copied without its time: 1970
    today = dt.date.today()
    report = ingest_entity(KKBPK_BULANAN, folders, TEST_KEY, today=today)
    seen = report.files[0].first_seen_at.replace(tzinfo=dt.UTC).astimezone(WIB).date()
    assert landed_date(folders) == (min(seen, today), "pertama_terlihat")  # never after the ingestion day


def test_an_unforeseen_error_in_one_file_rejects_that_file_and_the_others_land(folders, monkeypatch):
    """Whatever goes wrong while typing one file (here: the typing itself raises for it), that file is rejected
    with the error and the files buffered with it land; the batch commits."""
    for i in range(1, 4):
        write_csv(folders.raw_dir / KKBPK_BULANAN.folder / f"f{i}.csv", [csv_row(i)])
    real = coerce_module.coerce

    def failing_for_f2(raw, entity, today=None, files="", evidence=None):
        names = set(files) if not isinstance(files, str) else {files}
        if any(str(n).endswith("f2.csv") for n in names):
            raise ValueError("an error no rule foresaw")
        return real(raw, entity, today, files=files, evidence=evidence)

    monkeypatch.setattr(ingest_module, "coerce", failing_for_f2)
    report = ingest_entity(KKBPK_BULANAN, folders, TEST_KEY, today=TODAY)
    status = {f.path.rsplit("/", 1)[-1]: (f.status, f.rows_landed) for f in report.files}
    assert status == {"f1.csv": ("loaded", 1), "f2.csv": ("rejected", 0), "f3.csv": ("loaded", 1)}
    [bad] = [f for f in report.files if f.status == "rejected"]
    assert "an error no rule foresaw" in bad.reason
    second = ingest_entity(KKBPK_BULANAN, folders, TEST_KEY, today=TODAY)
    assert second.files == [] and second.files_already_seen == 3  # not retried every night


def test_a_large_file_whose_later_chunk_tells_the_date_order_is_read_again_with_it(folders):
    """Chunks of 2 rows: the first chunk's dates are all ambiguous; a later one is month-first. The file is read
    again knowing it, so the early dates are read month-first too, not quarantined."""
    header = "nik_anak,no_kk,nama_anak,tanggal_lahir,jenis_kelamin,kode_posyandu,tanggal_ukur,berat_kg,tinggi_cm"
    rows = [
        f"19010152032200{i:02d},1901010101220001,A,0{i}/05/2022,L,1901012007001,01/0{i}/2024,11,80" for i in (1, 2, 3)
    ]
    rows.append("1901015203220009,1901010101220001,B,04/13/2022,L,1901012007001,01/05/2024,11,80")
    path = folders.raw_dir / "posyandu/eppgbm/e.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join([header, *rows]) + "\n")
    small = dataclasses.replace(ENTITIES["eppgbm"], chunk_rows=2)
    report = ingest_entity(small, folders, TEST_KEY, today=TODAY)
    assert (report.rows_landed, report.rows_quarantined) == (4, 0)
    got = duckdb.sql(
        f"select _row, tanggal_ukur from read_parquet('{folders.landing_dir}/eppgbm/*/*/*.parquet') order by _row"
    ).fetchall()
    assert got == [
        (2, dt.date(2024, 1, 1)),
        (3, dt.date(2024, 1, 2)),
        (4, dt.date(2024, 1, 3)),
        (5, dt.date(2024, 1, 5)),
    ]


def _rec(path: str, read: int, bad: int, wilayah: str | None) -> FileRecord:
    return FileRecord(
        batch="b", entity="kkbpk_bulanan", path=path, sha256=path, size_bytes=1, mtime_ns=1,
        first_seen_at=dt.datetime(2024, 1, 1), status="loaded", rows_read=read, rows_quarantined=bad,
        rows_landed=read - bad, wilayah=wilayah,
    )  # fmt: skip


def test_deliveries_are_large_files_or_the_small_files_of_one_kabupaten():
    files = [
        _rec("portal/1901.csv", 400, 10, "19.01"),
        *(_rec(f"x/1906_{i}.xlsx", 1, i < 2, "19.06") for i in range(5)),
    ]
    found = deliveries(files, min_rows=100)
    assert [(d.name, d.rows_read, d.rows_quarantined) for d in found] == [
        ("portal/1901.csv", 400, 10),
        ("kabupaten/kota 19.06 (5 small files)", 5, 2),
    ]
    assert broken(found, 0.5, 100) == []  # 2 of 5 Pokja reports of one kabupaten: too small to judge
    shifted = _rec("portal/1904.csv", 300, 290, "19.04")
    assert broken(deliveries([*files, shifted], 100), 0.5, 100) == [
        Delivery("portal/1904.csv", [shifted.path], 300, 290)
    ]


def test_the_check_blocks_only_on_a_broken_delivery_and_names_it(folders):
    """The issue's case: two bad reports out of five in one kabupaten's drop do not stop the province; an export
    whose columns shifted (every row failing) does, and the check says which delivery."""
    from pipelines.lib.ingest import IngestReport

    few = IngestReport(entity="kkbpk_bulanan", batch="b")
    few.files = [_rec(f"x/1906_{i}.xlsx", 1, int(i < 2), "19.06") for i in range(5)]
    warn = check_result(KKBPK_BULANAN, few)
    assert not warn.passed and warn.severity.value == "WARN"
    shifted = IngestReport(entity="kkbpk_bulanan", batch="b")
    shifted.files = [*few.files, _rec("portal/export_1904_202401.csv", 300, 300, "19.04")]
    error = check_result(KKBPK_BULANAN, shifted)
    assert not error.passed and error.severity.value == "ERROR"
    assert "portal/export_1904_202401.csv: 300 of 300 rows" in error.description
    assert error.metadata["deliveries_over_threshold"].value == 1


def test_a_batch_whose_codes_are_all_unknown_quarantines_them_not_the_file(folders):
    """Every kode_desa of the night's only file off the Kemendagri list (a BPS code, an unknown code): the rows are
    quarantined with their rules, the file is read (the empty set of valid codes seen in the batch broke the rules'
    query once)."""
    rows = [csv_row(1, kode="1901010007"), csv_row(2, kode="19.01.01.2999")]
    write_csv(folders.raw_dir / KKBPK_BULANAN.folder / "bps.csv", rows)
    report = ingest_entity(KKBPK_BULANAN, folders, TEST_KEY, today=TODAY)
    [rec] = report.files
    assert (rec.status, rec.rows_quarantined) == ("loaded", 2), rec.reason


def test_activity_posts_before_any_profile_are_quarantined_not_rejected(folders):
    post = (
        '{"intervensi_id": 1, "kampung_kb_id": 7, "tanggal": "2024-01-15", "judul": "Penyuluhan", '
        '"jenis_post": "Kegiatan", "fungsi_keluarga": "Reproduksi"}\n'
    )
    path = folders.raw_dir / ENTITIES["intervensi"].folder / "p.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(post)
    report = ingest_entity(ENTITIES["intervensi"], folders, TEST_KEY, today=TODAY)
    [rec] = report.files
    assert (rec.status, rec.rows_quarantined) == ("loaded", 1), rec.reason
    assert report.rule_counts["unknown_kampung_kb"] == 1
