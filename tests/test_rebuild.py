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
    first = ingest(folders)
    # a corrected January report of Kampung KB 1 arrives later: it must still supersede the first after a rebuild
    write_csv(folders.raw_dir / FOLDER / "jan_koreksi.csv", [csv_row(1, jml_jiwa=41)])
    second = ingest(folders)
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
    assert record["replaces"] == sorted([first.batch, second.batch])  # named, not "every older batch"
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


def test_in_dagster_the_nightly_marks_its_months_and_a_partition_run_rebuilds_them(folders, monkeypatch):
    import dagster as dg

    from pipelines.definitions import defs

    monkeypatch.setenv("KKB_RAW_DIR", str(folders.raw_dir))
    monkeypatch.setenv("KKB_WAREHOUSE_DIR", str(folders.warehouse_dir))
    monkeypatch.setenv("KKB_PII_KEY", TEST_KEY.decode())
    monkeypatch.setenv("KKB_RETRY_DELAY_S", "0")
    monkeypatch.setenv("KKB_MAX_BAD_ROW_SHARE", "0.5")  # one bad row of three warns, not blocks
    write_csv(folders.raw_dir / FOLDER / "jan.csv", [csv_row(1), csv_row(2, jml_pus=10)])
    write_csv(folders.raw_dir / FOLDER / "feb.csv", [csv_row(1, bulan=2)])
    key = dg.AssetKey(["landing", "kkbpk_bulanan"])
    instance = dg.DagsterInstance.ephemeral()

    def materialize(**kwargs):
        return dg.materialize(
            [defs.resolve_assets_def(key)], selection=[key], instance=instance, raise_on_error=False, **kwargs
        )

    nightly = materialize()
    assert nightly.success
    assert {e.partition for e in nightly.get_asset_materialization_events()} == {None, "2024-01", "2024-02"}
    landed = rows(folders, "landing")

    both = {"dagster/asset_partition_range_start": "2024-01", "dagster/asset_partition_range_end": "2024-02"}
    rebuilt = materialize(tags=both)
    assert rebuilt.success
    events = rebuilt.get_asset_materialization_events()
    assert sorted(e.partition for e in events) == ["2024-01", "2024-02"]
    meta = events[0].materialization.metadata
    assert (meta["rebuild_files_read"].value, meta["rebuild_rows_landed"].value) == (2, 2)
    assert meta["rebuild_rows_quarantined"].value == 1
    assert rows(folders, "landing") == landed
    [check] = rebuilt.get_asset_check_evaluations()
    assert check.metadata["rows_checked"].value == 3 and check.metadata["rows_failed"].value == 1
    assert instance.get_materialized_partitions(key) == {"2024-01", "2024-02"}

    (folders.raw_dir / FOLDER / "jan.csv").unlink()
    refused = materialize(partition_key="2024-01")
    assert not refused.success
    [failure] = [e for e in refused.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "jan.csv is gone" in failure.step_failure_data.error.message
    assert not [e for e in refused.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]  # a retry cannot help
    assert rows(folders, "landing") == landed


def test_kkb_rebuild_on_the_command_line(folders, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from pipelines.cli import main

    for name, value in {
        "KKB_RAW_DIR": str(folders.raw_dir),
        "KKB_WAREHOUSE_DIR": str(folders.warehouse_dir),
        "KKB_PII_KEY": TEST_KEY.decode(),
        "DAGSTER_HOME": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    write_csv(folders.raw_dir / FOLDER / "jan.csv", [csv_row(1), csv_row(2)])
    ingest(folders)
    landed = rows(folders, "landing")
    cli = CliRunner()
    done = cli.invoke(main, ["rebuild", "kkbpk_bulanan", "2024-01", "--landing-only"])
    assert done.exit_code == 0, done.output
    assert "kkbpk_bulanan 2024-01..2024-01: 1 file(s) read, 2 rows landed, 0 quarantined" in done.output
    assert rows(folders, "landing") == landed and len(mf.read_rebuilds(folders, "kkbpk_bulanan")) == 1
    wrong = cli.invoke(main, ["rebuild", "pk_anggota", "2024"])
    assert wrong.exit_code != 0 and "not a source with periods" in wrong.output
    assert "not a year key" in cli.invoke(main, ["rebuild", "pk_keluarga", "2024-01"]).output
    (folders.raw_dir / FOLDER / "jan.csv").unlink()
    refused = cli.invoke(main, ["rebuild", "kkbpk_bulanan", "2024-01", "--landing-only"])
    assert refused.exit_code == 1 and "jan.csv is gone" in refused.output, refused.output
    assert "  ingest_kkbpk_bulanan: kkbpk_bulanan 2024-01 cannot be rebuilt" in refused.output  # no class names
