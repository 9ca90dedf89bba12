"""Source cadence per kabupaten, and the raw-folder sensor (evaluated with build_sensor_context)."""

import datetime as dt
import os
import time

import dagster as dg
import pandas as pd
import pytest

from pipelines.config import Settings
from pipelines.definitions import defs
from pipelines.defs.schedules import raw_files_sensor
from pipelines.lib import cadence
from pipelines.lib import manifest as mf

MONTHLY = cadence.CADENCES["kkbpk_bulanan"]
SKDN = cadence.CADENCES["skdn"]
PK = cadence.CADENCES["pk_keluarga"]


@pytest.mark.parametrize(
    ("c", "today", "due"),
    [
        (MONTHLY, dt.date(2024, 4, 2), 202402),  # March is due on 3 April, not yet
        (MONTHLY, dt.date(2024, 4, 3), 202403),
        (MONTHLY, dt.date(2024, 1, 3), 202312),  # across the year
        (MONTHLY, dt.date(2024, 1, 1), 202311),
        (SKDN, dt.date(2024, 4, 9), 202402),
        (SKDN, dt.date(2024, 4, 10), 202403),
        (PK, dt.date(2025, 1, 1), 2024),
        (PK, dt.date(2024, 12, 31), 2023),
    ],
)
def test_due_period(c, today, due):
    assert cadence.due_period(c, today) == due


def write_landing(folder, frame: pd.DataFrame) -> None:
    folder.mkdir(parents=True)
    frame.to_parquet(folder / "part-0.parquet")


def test_overdue_kabupaten_are_listed_with_their_newest_period(tmp_path):
    landing = tmp_path / "landing"
    write_landing(
        landing / "kkbpk_bulanan" / "b1",
        pd.DataFrame(
            {
                "kode_desa": ["19.01.01.1001", "19.02.01.1001", "19.02.01.1002"],
                "tahun": [2024, 2024, 2024],
                "bulan": [3, 1, 2],
            }
        ),
    )
    late, watched = cadence.overdue(landing, MONTHLY, dt.date(2024, 4, 5))
    assert watched == 2
    assert late == [cadence.Overdue("19.02", 202402, 202403)]
    write_landing(
        landing / "skdn" / "b1",
        pd.DataFrame({"kode_posyandu": ["1906011001002", "1901011001002"], "tahun": [2024, 2024], "bulan": [2, 3]}),
    )
    late, watched = cadence.overdue(landing, SKDN, dt.date(2024, 4, 12))
    assert (watched, [o.kode_kab for o in late]) == (2, ["19.06"])
    assert cadence.overdue(landing, PK, dt.date(2024, 4, 12)) == ([], 0)  # nothing delivered: nothing watched


def test_every_cadence_source_has_its_check():
    checks = {k for k in defs.resolve_asset_graph().asset_check_keys if k.name == "cadence_per_kabupaten"}
    assert {k.asset_key.path[-1] for k in checks} == set(cadence.CADENCES)


@pytest.fixture
def raw(tmp_path, monkeypatch) -> Settings:
    s = Settings(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "warehouse")
    monkeypatch.setenv("KKB_RAW_DIR", str(s.raw_dir))
    monkeypatch.setenv("KKB_WAREHOUSE_DIR", str(s.warehouse_dir))
    monkeypatch.setenv("KKB_SETTLE_SECONDS", "30")
    return s


def drop(s: Settings, rel: str, age_s: float) -> None:
    path = s.raw_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("kode_posyandu;tahun;bulan\n1901011001002;2024;1\n")
    then = time.time() - age_s
    os.utime(path, (then, then))


def evaluate(instance):
    return raw_files_sensor(dg.build_sensor_context(instance=instance))


def test_the_sensor_starts_a_run_for_settled_new_files_only_once(raw):
    with dg.instance_for_test() as instance:
        assert isinstance(evaluate(instance), dg.SkipReason)
        drop(raw, "posyandu/skdn/19.01/skdn_1901_202401.csv", age_s=5)  # still being copied
        skip = evaluate(instance)
        assert isinstance(skip, dg.SkipReason) and "1 still being written" in skip.skip_message
        drop(raw, "posyandu/skdn/19.01/skdn_1901_202401.csv", age_s=120)
        request = evaluate(instance)
        assert isinstance(request, dg.RunRequest)
        assert request.tags["kkb/entities"] == "skdn" and request.tags["kkb/files"] == "1"
        assert request.run_key == evaluate(instance).run_key  # same arrivals, same key: Dagster starts one run
        # once the run has recorded the file in the manifest, nothing is new
        mf.write_manifest(
            raw,
            "skdn",
            "20240101T000000000000-abcd",
            [
                mf.FileRecord(
                    batch="20240101T000000000000-abcd",
                    entity="skdn",
                    path="posyandu/skdn/19.01/skdn_1901_202401.csv",
                    sha256="x" * 64,
                    size_bytes=50,
                    mtime_ns=0,
                    first_seen_at=dt.datetime(2024, 1, 1),
                    status="loaded",
                )
            ],
        )
        assert isinstance(evaluate(instance), dg.SkipReason)
