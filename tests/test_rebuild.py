"""Periods (months, PK years): rows filed by period, and one period rebuilt from raw with the current rules, leaving
every other period as it was and every raw row accounted for once."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from pipelines.lib import faults
from pipelines.lib import manifest as mf
from pipelines.lib.entities import ENTITIES, KKBPK_BULANAN
from pipelines.lib.ingest import ingest_entity
from pipelines.lib.rebuild import RebuildRefused, rebuild_periods, rows_in_period
from tests.conftest import TEST_KEY, TODAY
from tests.kkbpk_files import csv_row, write_csv
from tests.test_ingest_entities import PROFIL_HEADER, intervensi_line, profil_row, write

FOLDER = "kampung_kb/laporan_bulanan"


def ingest(folders, entity=KKBPK_BULANAN):
    return ingest_entity(entity, folders, TEST_KEY, today=TODAY)


def rebuild(folders, periods, entity=KKBPK_BULANAN):
    return rebuild_periods(entity, folders, TEST_KEY, periods, today=TODAY)


def rows(folders, where: str, entity: str = "kkbpk_bulanan") -> list[tuple]:
    """Every row (all columns, lineage included) of an entity's landing or quarantine, in a stable order."""
    path = f"{getattr(folders, where + '_dir')}/{entity}/*/*/*.parquet"
    return duckdb.sql(f"select * from read_parquet('{path}', union_by_name=true) order by all").fetchall()


def period_parts(folders, entity: str, period_folder: str) -> set:
    """The part files of one period folder over all batches, with their modification time."""
    return {(p.relative_to(folders.warehouse_dir), p.stat().st_mtime_ns) for p in
            (folders.landing_dir / entity).glob(f"*/{period_folder}/*.parquet")}  # fmt: skip


def test_rows_are_filed_by_period_and_the_manifest_knows_each_files_periods(folders):
    write_csv(
        folders.raw_dir / FOLDER / "a.csv",
        [csv_row(1, bulan=1), csv_row(2, bulan=2), csv_row(3, bulan=13), csv_row(4, bulan=2, jml_pus=10)],
    )
    report = ingest(folders)
    batch = folders.landing_dir / "kkbpk_bulanan" / report.batch
    assert sorted(p.name for p in batch.iterdir()) == ["bulan-2024-01", "bulan-2024-02"]
    q = folders.quarantine_dir / "kkbpk_bulanan" / report.batch
    assert sorted(p.name for p in q.iterdir()) == ["bulan-2024-02", "tanpa-periode"]  # month 13 has no period
    assert report.periods == {"2024-01", "2024-02"}
    [rec] = mf.read_manifest(folders, "kkbpk_bulanan")
    assert rec["periods"] == "2024-01, 2024-02"
    assert rows_in_period(folders, "kkbpk_bulanan", "2024-02") == (1, 1)


def test_rebuild_under_unchanged_rules_gives_back_exactly_the_same_rows(folders):
    write_csv(folders.raw_dir / FOLDER / "jan.csv", [csv_row(1), csv_row(2), csv_row(3, jml_pus=10)])
    write_csv(folders.raw_dir / FOLDER / "feb.csv", [csv_row(1, bulan=2), csv_row(2, bulan=2)])
    ingest(folders)
    # a corrected January report of Kampung KB 1 arrives later: it must still supersede the first after a rebuild
    write_csv(folders.raw_dir / FOLDER / "jan_koreksi.csv", [csv_row(1, jml_jiwa=41)])
    ingest(folders)
    landed, quarantined = rows(folders, "landing"), rows(folders, "quarantine")
    february = period_parts(folders, "kkbpk_bulanan", "bulan-2024-02")

    report = rebuild(folders, ["2024-01"])

    assert report.before == report.after == {"2024-01": (3, 1)}
    assert (report.rows_read, report.rows_landed, report.rows_quarantined) == (4, 3, 1)
    assert sorted(f.path for f in report.files) == [f"{FOLDER}/jan.csv", f"{FOLDER}/jan_koreksi.csv"]  # not feb
    assert rows(folders, "landing") == landed and rows(folders, "quarantine") == quarantined  # lineage included
    assert period_parts(folders, "kkbpk_bulanan", "bulan-2024-02") == february  # other months not even rewritten
    january = list((folders.landing_dir / "kkbpk_bulanan").glob("*/bulan-2024-01"))
    assert [p.parent.name for p in january] == [report.batch]  # one folder for the month, the rebuild's
    [record] = mf.read_rebuilds(folders, "kkbpk_bulanan")
    assert record["periods"] == ["2024-01"] and record["batch"] == report.batch
    assert ingest(folders).files == []  # the rebuild registered no file: the next run has nothing new


def test_rebuild_lands_activities_whose_kampung_kb_profile_arrived_later(folders):
    write(folders, "kampung_kb/profil/p1.csv", "\n".join([PROFIL_HEADER, profil_row(4101)]) + "\n")
    ingest(folders, ENTITIES["profil_kampung_kb"])
    march = [intervensi_line(1, 4101), intervensi_line(2, 4102), intervensi_line(3, 4102, tanggal="2031-01-01")]
    april = [intervensi_line(4, 4102, tanggal="2024-04-02")]
    write(folders, "kampung_kb/intervensi/2024/03.jsonl", "\n".join(march) + "\n")
    write(folders, "kampung_kb/intervensi/2024/04.jsonl", "\n".join(april) + "\n")
    first = ingest(folders, ENTITIES["intervensi"])
    assert (first.rows_landed, first.rows_quarantined) == (1, 3)  # Kampung KB 4102 has no profile yet
    write(folders, "kampung_kb/profil/p2.csv", "\n".join([PROFIL_HEADER, profil_row(4102)]) + "\n")
    ingest(folders, ENTITIES["profil_kampung_kb"])
    april_before = rows_in_period(folders, "intervensi", "2024-04")

    report = rebuild(folders, ["2024-03"], ENTITIES["intervensi"])

    assert report.before == {"2024-03": (1, 1)} and report.after == {"2024-03": (2, 0)}
    assert rows_in_period(folders, "intervensi", "2024-04") == april_before == (0, 1)  # only March changed
    assert rows_in_period(folders, "intervensi", "2031-01") == (0, 1)  # the future date stays quarantined
    # every raw row once: landed + quarantined per file = rows read at first load
    per_file = duckdb.sql(
        f"select _file, count(*) from read_parquet(['{folders.landing_dir}/intervensi/*/*/*.parquet', "
        f"'{folders.quarantine_dir}/intervensi/*/*/*.parquet'], union_by_name=true) group by all order by all"
    ).fetchall()
    assert per_file == [("kampung_kb/intervensi/2024/03.jsonl", 3), ("kampung_kb/intervensi/2024/04.jsonl", 1)]


@pytest.mark.parametrize("point", ["rebuild:after_move:kkbpk_bulanan", "rebuild:after_record:kkbpk_bulanan"])
def test_a_rebuild_killed_part_way_is_finished_or_undone_by_the_next_run(folders, monkeypatch, point):
    write_csv(folders.raw_dir / FOLDER / "jan.csv", [csv_row(1), csv_row(2), csv_row(3, jml_pus=10)])
    ingest(folders)
    landed, quarantined = rows(folders, "landing"), rows(folders, "quarantine")

    def crash(at: str) -> None:
        if at == point:
            raise SystemExit(f"killed at {at}")

    monkeypatch.setattr(faults, "reached", crash)
    with pytest.raises(SystemExit):
        rebuild(folders, ["2024-01"])
    monkeypatch.undo()
    ingest(folders)  # the next run sweeps: an uncommitted rebuild is dropped, a committed one is completed
    assert rows(folders, "landing") == landed and rows(folders, "quarantine") == quarantined
    assert rows_in_period(folders, "kkbpk_bulanan", "2024-01") == (2, 1)
    assert len(mf.read_rebuilds(folders, "kkbpk_bulanan")) == (1 if point.startswith("rebuild:after_record") else 0)


def test_rebuild_refuses_when_a_raw_file_is_gone_or_changed_and_changes_nothing(folders):
    write_csv(folders.raw_dir / FOLDER / "jan.csv", [csv_row(1), csv_row(2)])
    write_csv(folders.raw_dir / FOLDER / "jan2.csv", [csv_row(3)])
    ingest(folders)
    landed = rows(folders, "landing")
    (folders.raw_dir / FOLDER / "jan.csv").unlink()
    write_csv(folders.raw_dir / FOLDER / "jan2.csv", [csv_row(3, jml_jiwa=99)])
    with pytest.raises(RebuildRefused) as err:
        rebuild(folders, ["2024-01"])
    assert "raw/kampung_kb/laporan_bulanan/jan.csv is gone" in str(err.value)
    assert "jan2.csv was changed after it was loaded" in str(err.value)
    assert rows(folders, "landing") == landed and mf.read_rebuilds(folders, "kkbpk_bulanan") == []


def test_rebuild_refuses_batches_from_before_period_folders_and_bad_keys(folders):
    write_csv(folders.raw_dir / FOLDER / "jan.csv", [csv_row(1)])
    report = ingest(folders)
    batch = folders.landing_dir / "kkbpk_bulanan" / report.batch
    for part in batch.glob("*/*.parquet"):  # the layout of earlier versions: parts directly in the batch
        part.rename(batch / part.name)
    for folder in [p for p in batch.iterdir() if p.is_dir()]:
        shutil.rmtree(folder)
    with pytest.raises(RebuildRefused, match="written before rows were filed by period"):
        rebuild(folders, ["2024-01"])
    with pytest.raises(ValueError, match="not a month key"):
        rebuild(folders, ["2024"])
    with pytest.raises(RebuildRefused, match="register without a period"):
        rebuild(folders, ["2024"], ENTITIES["pk_anggota"])
