"""The whole slice on generated data: `kkb synth` output -> the nightly job (in process) -> the warehouse, compared
with the generator's ground truth. The generator shares no code with the pipeline, so a wrong model shows here.

Reduced scale (5 % of the province's families, three months) keeps it near a minute; `make run` does the full size.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import pytest

from pipelines.config import Settings
from pipelines.lib import manifest as mf
from pipelines.lib.entities import ENTITIES
from pipelines.synth import synthesize

MONTHS = [(2024, 1), (2024, 2), (2024, 3)]
INDICATORS = ["n_laporan", "jml_pus", "pa_total", "pa_mkjp", "non_kb_unmet", "cpr", "mkjp", "unmet_need"]


def run_nightly():
    from pipelines.definitions import defs

    return defs.resolve_job_def("nightly").execute_in_process(raise_on_error=False)


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("e2e")
    settings = Settings(raw_dir=root / "raw", warehouse_dir=root / "warehouse")
    synthesize(settings.raw_dir, provinsi="19", months=MONTHS, seed=11, scale=0.05)
    truth = json.loads((settings.raw_dir / "ground_truth.json").read_text())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KKB_RAW_DIR", str(settings.raw_dir))
        mp.setenv("KKB_WAREHOUSE_DIR", str(settings.warehouse_dir))
        mp.setenv("KKB_PII_KEY", "e2e-test-key-0123456789")
        first = run_nightly()
        snapshot = table_counts(settings)
        second = run_nightly()
    return settings, truth, first, second, snapshot


def query(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def table_counts(settings: Settings) -> dict[str, int]:
    tables = [r[0] for r in query(settings, "select table_name from information_schema.tables order by 1")]
    return {t: query(settings, f'select count(*) from "{t}"')[0][0] for t in tables}


def parquet_rows(folder: Path) -> int:
    files = sorted(str(p) for p in folder.rglob("*.parquet") if "_schema" not in p.parts)
    if not files:
        return 0
    return duckdb.sql(f"select count(*) from read_parquet({files!r})").fetchone()[0]


def test_the_nightly_job_succeeds(pipeline_run):
    _, _, first, second, _ = pipeline_run
    assert first.success and second.success


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_ingestion_counts_equal_the_ground_truth(pipeline_run, entity):
    settings, truth, *_ = pipeline_run
    t = truth["entities"][entity]
    files = mf.read_manifest(settings, entity)
    by_status = {s: [f for f in files if f["status"] == s] for s in ("loaded", "duplicate", "rejected")}
    assert len(files) == t["files_written"]
    assert len(by_status["duplicate"]) == t["files_duplicate_expected"]
    assert len(by_status["rejected"]) == t["files_rejected_expected"]
    assert parquet_rows(settings.landing_dir / entity) == t["rows_valid_expected"]
    assert parquet_rows(settings.quarantine_dir / entity) == t["rows_quarantined_expected"]
    # every row written is landed, quarantined, in a duplicate copy, or in a rejected file
    landed = sum(f["rows_landed"] for f in by_status["loaded"])
    quarantined = sum(f["rows_quarantined"] for f in by_status["loaded"])
    in_copies = sum(f["rows_read"] for f in by_status["duplicate"])
    assert (landed, quarantined, in_copies) == (
        t["rows_valid_expected"],
        t["rows_quarantined_expected"],
        t["rows_in_duplicate_files"],
    )
    assert landed + quarantined + in_copies + t["rows_in_rejected_files"] == t["rows_written"]


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_each_rule_quarantines_the_rows_the_generator_damaged(pipeline_run, entity):
    settings, truth, *_ = pipeline_run
    files = sorted(str(p) for p in (settings.quarantine_dir / entity).rglob("*.parquet") if "_schema" not in p.parts)
    rows = duckdb.sql(
        f"select rule, count(*) from (select unnest(failed_rules) as rule from read_parquet({files!r})) group by 1"
    ).fetchall()
    assert dict(rows) == truth["entities"][entity]["rules_expected"]


def test_rpt_kabupaten_bulanan_equals_the_ground_truth(pipeline_run):
    settings, truth, *_ = pipeline_run
    got = {
        (r[0], r[1], r[2]): r[3:]
        for r in query(
            settings,
            "select kode_kab, tahun, bulan, jumlah_laporan, jml_pus, pa_total, pa_mkjp, non_kb_unmet, cpr, mkjp,"
            " unmet_need from rpt_kabupaten_bulanan",
        )
    }
    want = {
        (t["kode_kab"], t["tahun"], t["bulan"]): [t[k] for k in INDICATORS]
        for t in truth["indikator_kabupaten_bulanan"]
    }
    assert got.keys() == want.keys()
    assert len(want) == 7 * len(MONTHS)  # every kabupaten/kota of Bangka Belitung, every month
    for key, values in want.items():
        for name, w, g in zip(INDICATORS, values, got[key], strict=True):
            if w is None:
                assert g is None, (key, name)
            else:
                assert math.isclose(g, w, rel_tol=1e-12, abs_tol=1e-9), (key, name, g, w)


def test_fact_holds_the_latest_valid_report_per_kampung_kb_and_month(pipeline_run):
    settings, truth, *_ = pipeline_run
    t = truth["entities"]["kkbpk_bulanan"]
    n_fact = query(settings, "select count(*) from fct_kkbpk_bulanan")[0][0]
    assert n_fact == t["rows_valid_expected"] - t["rows_superseded_expected"]
    assert n_fact == sum(r["n_laporan"] for r in truth["indikator_kabupaten_bulanan"])
    assert query(settings, "select count(*) from dim_wilayah")[0][0] == 83_762


def test_a_second_run_duplicates_nothing(pipeline_run):
    settings, truth, _, _, snapshot = pipeline_run
    assert table_counts(settings) == snapshot
    t = truth["entities"]["kkbpk_bulanan"]
    assert parquet_rows(settings.landing_dir / "kkbpk_bulanan") == t["rows_valid_expected"]
    assert len(mf.read_manifest(settings, "kkbpk_bulanan")) == t["files_written"]
