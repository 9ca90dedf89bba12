"""The door of the warehouse: landed or quarantined with reasons, duplicates and re-runs loaded once, bad files
rejected without stopping the rest, personal data pseudonymised."""

from __future__ import annotations

import dataclasses
import gzip
import os
import shutil

import duckdb
import pytest

from pipelines.lib import manifest as mf
from pipelines.lib.entities import KKBPK_BULANAN, PK_KELUARGA
from pipelines.lib.ingest import ingest_entity
from pipelines.lib.pii import hmac_hex
from tests.conftest import TEST_KEY, TODAY
from tests.kkbpk_files import HEADER, csv_row, write_csv, write_xlsx

FOLDER = "kampung_kb/laporan_bulanan"
HEADER_WITH_NOTE = [*HEADER, "Catatan Tambahan"]


def ingest(folders, entity=KKBPK_BULANAN):
    return ingest_entity(entity, folders, TEST_KEY, today=TODAY)


def landed(folders, entity="kkbpk_bulanan"):
    return duckdb.sql(f"select * from read_parquet('{folders.landing_dir}/{entity}/**/*.parquet') order by _file, _row")


def quarantined(folders, entity="kkbpk_bulanan"):
    q = f"select * from read_parquet('{folders.quarantine_dir}/{entity}/**/*.parquet') order by _file, _row"
    return duckdb.sql(q).fetchall()


def test_rows_are_landed_or_quarantined_with_reason_file_and_row(folders):
    rows = [
        csv_row(1),
        csv_row(2, jml_pus=10),
        csv_row(3, kode="1903010005"),
        csv_row(4, ikut_bkb=5),
        csv_row(5, pa_pil=-1, pa_suntik=3),
        csv_row(6, tanggal="01/01/2031"),
        csv_row(7, kode="19.01.01.2999"),
    ]
    write_csv(folders.raw_dir / FOLDER / "kab" / "export.csv", rows)
    report = ingest(folders)
    assert (report.rows_read, report.rows_landed, report.rows_quarantined) == (7, 1, 6)
    q = {r[2]: r[6] for r in quarantined(folders)}  # _row -> failed_rules
    assert q == {
        3: ["pus_balance"],
        4: ["bps_code", "unknown_wilayah"],
        5: ["poktan_over_target"],
        6: ["negative_count"],
        7: ["future_date"],
        8: ["unknown_wilayah"],
    }
    rec = quarantined(folders)[0]
    assert rec[0] == f"{FOLDER}/kab/export.csv" and '"kampung_kb_id": "2"' in rec[8]
    assert report.rule_counts["pus_balance"] == 1


def test_rerun_is_a_no_op(folders):
    write_csv(folders.raw_dir / FOLDER / "a.csv", [csv_row(1)])
    first = ingest(folders)
    second = ingest(folders)
    assert first.rows_landed == 1
    assert second.batch is None and second.files == [] and second.files_already_seen == 1
    assert landed(folders).shape[0] == 1


def test_renamed_copy_is_a_duplicate_not_loaded(folders):
    src = write_csv(folders.raw_dir / FOLDER / "a.csv", [csv_row(1), csv_row(2)])
    ingest(folders)
    (folders.raw_dir / FOLDER / "kiriman_ulang").mkdir()
    shutil.copy(src, folders.raw_dir / FOLDER / "kiriman_ulang" / "Copy of a.csv")
    report = ingest(folders)
    [dup] = report.files
    assert dup.status == "duplicate" and dup.duplicate_of == f"{FOLDER}/a.csv" and dup.rows_read == 2
    assert landed(folders).shape[0] == 2


def test_copy_in_the_same_batch_loads_the_first_delivered(folders):
    src = write_csv(folders.raw_dir / FOLDER / "z_original.csv", [csv_row(1)])
    copy = shutil.copy(src, folders.raw_dir / FOLDER / "a_copy.csv")  # sorts first by name, but arrived later
    os.utime(src, ns=(1_700_000_000_000_000_000,) * 2)
    os.utime(copy, ns=(1_700_000_100_000_000_000,) * 2)
    report = ingest(folders)
    status = {f.path.rsplit("/", 1)[1]: f.status for f in report.files}
    assert status == {"z_original.csv": "loaded", "a_copy.csv": "duplicate"}


def test_corrected_resubmission_is_loaded_beside_the_original(folders):
    write_xlsx(folders.raw_dir / FOLDER / "Laporan_1001.xlsx", 1001)
    ingest(folders)
    write_xlsx(folders.raw_dir / FOLDER / "Laporan_1001_revisi.xlsx", 1001, pa_pil=2, non_kb_hamil=0)
    report = ingest(folders)
    assert report.rows_landed == 1
    rows = landed(folders).fetchall()
    assert len(rows) == 2  # both submissions traceable; dbt staging keeps the latest
    assert {r["_file"] for r in landed(folders).df().to_dict("records")} == {
        f"{FOLDER}/Laporan_1001.xlsx",
        f"{FOLDER}/Laporan_1001_revisi.xlsx",
    }


def test_corrupt_file_is_rejected_and_the_run_goes_on(folders):
    (folders.raw_dir / FOLDER).mkdir(parents=True)
    (folders.raw_dir / FOLDER / "rusak.xlsx").write_bytes(b"PK\x03\x04 truncated")
    write_xlsx(folders.raw_dir / FOLDER / "ok.xlsx", 1001)
    report = ingest(folders)
    status = {f.path.rsplit("/", 1)[1]: (f.status, f.reason) for f in report.files}
    assert status["ok.xlsx"] == ("loaded", None)
    assert status["rusak.xlsx"][0] == "rejected" and "cannot open the workbook" in status["rusak.xlsx"][1]
    assert report.rows_landed == 1


def test_large_file_failing_part_way_leaves_nothing_landed(folders, monkeypatch):
    small = dataclasses.replace(KKBPK_BULANAN, chunk_rows=2)
    path = folders.raw_dir / FOLDER / "big.csv"
    write_csv(path, [csv_row(i) for i in range(1, 8)], sep=",")
    path.write_bytes(path.read_bytes() + b"9,\xff\xfe\x81,2024\n")  # bytes no encoding accepts, at the end
    report = ingest_entity(small, folders, TEST_KEY, today=TODAY)
    [rec] = report.files
    assert rec.status == "rejected" and rec.rows_landed == 0
    assert landed(folders).shape[0] == 0


def test_interrupted_batch_is_swept(folders):
    write_csv(folders.raw_dir / FOLDER / "a.csv", [csv_row(1)])
    report = ingest(folders)
    # simulate a crash after landing but before the manifest commit
    mf.manifest_path(folders, "kkbpk_bulanan", report.batch).unlink()
    again = ingest(folders)
    assert again.rows_landed == 1
    assert landed(folders).shape[0] == 1  # the uncommitted first batch was removed, not double counted


PK_HEADER = ["id_keluarga", "no_kk", "kode_desa", "rw", "rt", "no_rumah", "no_urut_keluarga", "tahun_pendataan",
             "jumlah_anggota", "pus", "usia_istri", "jumlah_anak_hidup", "status_kb", "metode_kb", "sumber_air_layak",
             "jamban_layak", "rumah_layak", "desil", "punya_baduta", "punya_balita", "pus_hamil", "krs"]  # fmt: skip


def pk_row(id_keluarga="1901012007000101", no_kk="1901010101240001", **over):
    values = [id_keluarga, no_kk, "1901012007", "001", "002", "0001", "01", "2024", "4", "1", "31", "2", "ber-KB",
              "Suntik", "1", "1", "1", "4", "0", "1", "0", "0"]  # fmt: skip
    r = dict(zip(PK_HEADER, values, strict=True))
    r.update(over)
    return [r[h] for h in PK_HEADER]


def test_pk_family_register_is_pseudonymised_and_excel_nik_rejected(folders):
    path = folders.raw_dir / "bkkbn/pk_keluarga/pk_19.01_2024.csv.gz"
    path.parent.mkdir(parents=True)
    rows = [pk_row(), pk_row(id_keluarga="1901012007000201", no_kk="1.90101E+15"), pk_row(desil="11")]
    text = "\n".join(",".join(r) for r in [PK_HEADER, *rows]) + "\n"
    path.write_bytes(gzip.compress(text.encode()))
    report = ingest(folders, PK_KELUARGA)
    assert (report.rows_landed, report.rows_quarantined) == (1, 2)
    rel = landed(folders, "pk_keluarga")
    assert "no_kk" not in rel.columns and "no_rumah" not in rel.columns and "rt" not in rel.columns
    row = dict(zip(rel.columns, rel.fetchone(), strict=True))
    assert row["no_kk_hash"] == hmac_hex("1901010101240001", TEST_KEY)
    assert row["keluarga_id"] == hmac_hex("1901012007000101", TEST_KEY)
    rules = {r[2]: r[6] for r in quarantined(folders, "pk_keluarga")}
    assert rules == {3: ["nik_format"], 4: ["invalid_code"]}
    everything = str(quarantined(folders, "pk_keluarga")) + str(rel.fetchall())
    assert "1901010101240001" not in everything and "1.90101E+15" not in everything


@pytest.mark.parametrize("missing_key", [True])
def test_run_refuses_without_a_key(monkeypatch, missing_key):
    from pipelines.config import ConfigError, pii_key

    monkeypatch.delenv("KKB_PII_KEY", raising=False)
    monkeypatch.delenv("KKB_DEMO", raising=False)
    with pytest.raises(ConfigError, match="KKB_PII_KEY is not set"):
        pii_key()
    monkeypatch.setenv("KKB_DEMO", "1")
    assert pii_key() == b"kampung-kb-demo-key-not-for-real-data"


def test_a_new_unknown_column_keeps_the_file_and_warns(folders):
    from pipelines.defs.ingest import check_result

    header = [*HEADER_WITH_NOTE]
    write_csv(folders.raw_dir / FOLDER / "baru.csv", [[*csv_row(1), "catatan kader"]], header=header)
    report = ingest(folders)
    assert report.rows_landed == 1 and report.files[0].status == "loaded"
    assert report.files[0].unknown_columns == "Catatan Tambahan"
    result = check_result(KKBPK_BULANAN, report)
    assert not result.passed and result.severity.value == "WARN"
    assert "Catatan Tambahan" in result.description
    # the values of an unknown column are not landed (it may hold personal data); the raw file keeps them
    assert "Catatan Tambahan" not in landed(folders).columns


def test_a_missing_required_column_rejects_the_file_and_the_check_says_so(folders):
    from pipelines.defs.ingest import check_result

    header = [h for h in HEADER if h != "jml_pus"]
    row = [v for h, v in zip(HEADER, csv_row(1), strict=True) if h != "jml_pus"]
    write_csv(folders.raw_dir / FOLDER / "kurang.csv", [row], header=header)
    write_csv(folders.raw_dir / FOLDER / "baik.csv", [csv_row(2)])
    report = ingest(folders)
    by_path = {f.path.rsplit("/", 1)[-1]: f for f in report.files}
    assert by_path["kurang.csv"].status == "rejected" and "jml_pus" in by_path["kurang.csv"].reason
    assert by_path["baik.csv"].status == "loaded" and report.rows_landed == 1  # the run goes on with the rest
    result = check_result(KKBPK_BULANAN, report)
    assert not result.passed and result.metadata["files_rejected"].value == 1
