"""The whole slice on generated data: `kkb synth` output -> the nightly job (in process) -> the warehouse, compared
with the generator's ground truth. The generator shares no code with the pipeline, so a wrong model shows here.

Reduced scale (5 % of the province's families, three months) keeps it near a minute; `make run` does the full size.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest

from pipelines.config import Settings
from pipelines.lib import manifest as mf
from pipelines.lib.entities import ENTITIES
from tests.e2e_run import MONTHS, query, table_counts


@pytest.fixture(scope="module")
def pipeline_run(e2e):
    return e2e.settings, e2e.truth, e2e.first, e2e.second, e2e.snapshot


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
    # rows that are not data (totals, examples, signature blocks) are listed in the manifest, not read
    skipped = sum(f["rows_skipped"] or 0 for f in by_status["loaded"])
    assert skipped == t["rows_skipped_expected"]
    assert landed + quarantined + in_copies + t["rows_in_rejected_files"] + skipped == t["rows_written"]


def _landing(settings: Settings, root: Path, entity: str, columns: str) -> list[tuple]:
    files = sorted(str(p) for p in (root / entity).rglob("*.parquet") if "_schema" not in p.parts)
    return duckdb.sql(f"select {columns} from read_parquet({files!r}, union_by_name = true)").fetchall()


def test_every_monthly_report_row_ends_where_the_generator_says(pipeline_run):
    """Row by row, not counts: each row of every report file written (workbooks in three formats, with or without a
    submission date, signature blocks, examples, nil dashes; portal exports in two encodings, ISO or day-first dates,
    thousands dots, totals rows) is landed with the submission date the generator expects and its source, or
    quarantined for the rules its defect breaks, or skipped as not data, or in a duplicate or rejected file."""
    settings, truth, *_ = pipeline_run
    expected = truth["entities"]["kkbpk_bulanan"]["expected_rows"]

    def at(r: dict) -> tuple:
        return (r["file"], r["sheet"], r["row"])

    want_landed = {at(r): (r["tanggal_lapor"], r["tanggal_lapor_sumber"]) for r in expected if r["outcome"] == "landed"}
    got_landed = {
        (f, sh, r): (d.isoformat(), src)
        for f, sh, r, d, src in _landing(
            settings, settings.landing_dir, "kkbpk_bulanan", "_file, _sheet, _row, tanggal_lapor, tanggal_lapor_sumber"
        )
    }
    assert got_landed == want_landed
    want_q = {at(r): sorted(r["rules"]) for r in expected if r["outcome"] == "quarantined"}
    got_q = {
        (f, sh, r): sorted(rules)
        for f, sh, r, rules in _landing(
            settings, settings.quarantine_dir, "kkbpk_bulanan", "_file, _sheet, _row, failed_rules"
        )
    }
    assert got_q == want_q
    files = mf.read_manifest(settings, "kkbpk_bulanan")
    got_skipped = {(f["path"], x["sheet"], x["row"]): x["reason"] for f in files for x in (f["skipped"] or [])}
    want_skipped = {at(r): r["reason"] for r in expected if r["outcome"] == "skipped"}
    assert set(got_skipped) == set(want_skipped)
    assert all(got_skipped[k].startswith(why) for k, why in want_skipped.items())
    status = {f["path"]: f["status"] for f in files}
    for r in expected:
        if r["outcome"] in ("duplicate", "rejected"):
            assert status[r["file"]] == r["outcome"], r["file"]


def test_skdn_totals_rows_are_skipped_where_the_generator_wrote_them(pipeline_run):
    settings, truth, *_ = pipeline_run
    got = {(f["path"], x["row"]) for f in mf.read_manifest(settings, "skdn") for x in (f["skipped"] or [])}
    assert got == {(x["file"], x["row"]) for x in truth["entities"]["skdn"]["expected_skipped"]}


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_each_rule_quarantines_the_rows_the_generator_damaged(pipeline_run, entity):
    settings, truth, *_ = pipeline_run
    files = sorted(str(p) for p in (settings.quarantine_dir / entity).rglob("*.parquet") if "_schema" not in p.parts)
    rows = duckdb.sql(
        f"select rule, count(*) from (select unnest(failed_rules) as rule from read_parquet({files!r})) group by 1"
    ).fetchall()
    assert dict(rows) == truth["entities"][entity]["rules_expected"]


def rpt_rows(settings: Settings, table: str = "rpt_kabupaten_bulanan") -> dict[tuple, dict]:
    """The mart as dicts keyed by (kode_kab, tahun, bulan)."""
    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    try:
        rel = con.sql(f"select * from {table}")
        rows = [dict(zip(rel.columns, values, strict=True)) for values in rel.fetchall()]
    finally:
        con.close()
    return {(r["kode_kab"], r["tahun"], r["bulan"]): r for r in rows}


def assert_equal(got, want, where) -> None:
    if want is None or got is None:
        assert got is None and want is None, (where, got, want)
    else:
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-9), (where, got, want)


# ground truth name -> rpt_kabupaten_bulanan column
RENAMED = {
    "n_laporan": "jumlah_laporan",
    "n_tepat_waktu": "jumlah_tepat_waktu",
    "n_kampung_kb_aktif": "jumlah_kampung_kb_aktif",
}
SAME = ["jml_pus", "pa_total", "pa_mkjp", "non_kb_unmet", "cpr", "mkjp", "unmet_need", "kelengkapan_laporan",
        "ketepatan_waktu", "jumlah_instansi"]  # fmt: skip
SAME += [f"partisipasi_{p}" for p in ("bkb", "bkr", "bkl", "uppka", "pikr")]
TRUTH_COLUMNS = {**RENAMED, **{c: c for c in SAME}}


def test_rpt_kabupaten_bulanan_equals_the_ground_truth(pipeline_run):
    """Every indicator of every kabupaten and month, computed by the generator from what it generated."""
    settings, truth, *_ = pipeline_run
    got = rpt_rows(settings)
    want = {(t["kode_kab"], t["tahun"], t["bulan"]): t for t in truth["indikator_kabupaten_bulanan"]}
    assert len(want) == 7 * len(MONTHS)  # every kabupaten/kota of Bangka Belitung reported every month
    assert set(want) <= set(got)
    assert all(got[k]["jumlah_laporan"] == 0 for k in set(got) - set(want))
    for key, t in want.items():
        for name, column in TRUTH_COLUMNS.items():
            assert_equal(got[key][column], t[name], (key, column))
    skdn = {(t["kode_kab"], t["tahun"], t["bulan"]): t for t in truth["skdn_kabupaten_bulanan"]}
    for key, t in skdn.items():
        for column in ("s", "k", "d", "n", "bgm", "balita_diukur_tb", "pendek", "sangat_pendek"):
            assert got[key][column] == t[column], (key, column)
        assert_equal(got[key]["d_s"], t["d"] / t["s"] * 100 if t["s"] else None, (key, "d_s"))
        stunted = t["pendek"] + t["sangat_pendek"]
        tb = t["balita_diukur_tb"]
        assert_equal(got[key]["stunting_skdn"], stunted / tb * 100 if tb else None, (key, "stunting_skdn"))
    for t in truth["stunting_eppgbm_kabupaten_bulanan"]:
        row = got[(t["kode_kab"], t["tahun"], t["bulan"])]
        assert (row["anak_diukur"], row["anak_pendek"], row["anak_sangat_pendek"]) == (
            t["anak_diukur"],
            t["pendek"],
            t["sangat_pendek"],
        )
    for t in truth["pk_kabupaten"]:
        for (kode_kab, tahun, _), row in got.items():
            if kode_kab == t["kode_kab"] and tahun == t["tahun_pendataan"]:
                assert (row["keluarga_sasaran"], row["keluarga_krs"]) == (t["keluarga_sasaran"], t["krs"])
                assert_equal(row["krs_rate"], t["krs"] / t["keluarga_sasaran"] * 100, (kode_kab, "krs_rate"))
    for t in truth["cakupan_kabupaten"]:
        for (kode_kab, _, _), row in got.items():
            if kode_kab == t["kode_kab"]:
                assert (row["jumlah_kecamatan"], row["kecamatan_dengan_kampung_kb"]) == (
                    t["kecamatan"],
                    t["kecamatan_dengan_kampung_kb"],
                )
                assert (row["jumlah_desa"], row["desa_dengan_kampung_kb"]) == (
                    t["desa_kelurahan"],
                    t["desa_dengan_kampung_kb"],
                )


def test_every_region_level_adds_up_to_the_province(pipeline_run):
    settings, *_ = pipeline_run
    for table, code in (("rpt_desa_bulanan", "kode_desa"), ("rpt_kecamatan_bulanan", "kode_kec")):
        rows = query(
            settings,
            f"select periode_key, sum(jumlah_laporan), sum(jml_pus), sum(pa_total), sum(anak_diukur), "
            f"sum(keluarga_sasaran) from {table} group by 1 order by 1",
        )
        prov = query(
            settings,
            "select periode_key, jumlah_laporan, jml_pus, pa_total, anak_diukur, keluarga_sasaran "
            "from rpt_provinsi_bulanan order by 1",
        )
        assert rows == prov, (table, code)
    classes = "kampung_kb_dasar + kampung_kb_berkembang + kampung_kb_mandiri + kampung_kb_berkelanjutan"
    assert query(settings, f"select count(*) from rpt_kabupaten_bulanan where {classes} <> jumlah_laporan") == [(0,)]
    n_desa = query(settings, "select count(distinct kode_desa) from rpt_desa_bulanan")[0][0]
    assert n_desa == 393  # every desa/kelurahan of Bangka Belitung, reported or not


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


def test_cadence_checks_list_every_kabupaten_overdue_against_today(pipeline_run):
    """The generated data ends in March 2024: today every kabupaten of Bangka Belitung is overdue."""
    _, _, _, second, _ = pipeline_run
    evaluations = {
        e.asset_key.path[-1]: e for e in second.get_asset_check_evaluations() if e.check_name == "cadence_per_kabupaten"
    }
    assert set(evaluations) == {"kkbpk_bulanan", "skdn", "pk_keluarga"}
    for entity, e in evaluations.items():
        assert not e.passed and e.severity.value == "WARN", entity
        assert e.metadata["kabupaten_watched"].value == 7 == e.metadata["kabupaten_overdue"].value, entity


def test_every_table_dbt_built_shows_its_row_count_in_the_ui(pipeline_run):
    """dbt models and seeds stored as tables carry `dagster/row_count` = the rows in the warehouse; views carry none."""
    settings, _, _, second, _ = pipeline_run
    counts = table_counts(settings)
    shown = {}
    for event in second.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if event.step_key != "kampung_kb_dbt":
            continue
        row_count = materialization.metadata.get("dagster/row_count")
        shown[materialization.asset_key.path[-1]] = row_count.value if row_count else None
    stored = {r[0] for r in query(settings, "select table_name from duckdb_tables()")}
    tables = {name for name in shown if name in stored}
    assert {"dim_wilayah", "fct_kkbpk_bulanan", "rpt_kabupaten_bulanan"} <= tables
    assert {name: shown[name] for name in tables} == {name: counts[name] for name in tables}
    views = {r[0] for r in query(settings, "select view_name from duckdb_views() where not internal")}
    views &= set(shown)
    assert views and all(shown[name] is None for name in views)


def test_reporting_marts_preview_their_newest_month_in_the_ui(pipeline_run):
    settings, _, _, second, _ = pipeline_run
    previews = {}
    for event in second.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if "preview" in materialization.metadata:
            previews[materialization.asset_key.path[-1]] = materialization.metadata["preview"].value
    reporting = {"rpt_provinsi_bulanan", "rpt_kabupaten_bulanan", "rpt_kecamatan_bulanan", "rpt_desa_bulanan"}
    assert reporting | {"rpt_kampung_kb_bulanan"} <= set(previews)
    newest, kabupaten = query(
        settings,
        "select max(periode_key), list(nama_kab || ' | ' || round(cpr, 1)::varchar order by nama_kab) "
        "from rpt_kabupaten_bulanan where periode_key = (select max(periode_key) from rpt_kabupaten_bulanan)",
    )[0]
    assert f"{newest // 100}-{newest % 100:02d}" in previews["rpt_kabupaten_bulanan"]
    assert all(f"| {row}" in previews["rpt_kabupaten_bulanan"] for row in kabupaten)
    names = {r[0] for r in query(settings, "select distinct nama_desa from rpt_desa_bulanan")}
    assert not any(name in previews["rpt_desa_bulanan"] for name in names)
