"""The Dagster code location loads, and its asset keys are pinned so that a rename is deliberate."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from pipelines.definitions import defs
from pipelines.defs.partitions import MONTHLY, YEARLY
from pipelines.defs.schedules import NIGHTLY_JOB, nightly_job_def
from pipelines.lib.entities import ENTITIES

EXPECTED_KEYS = {
    "bi/postgres",
    "report/kampung_kb",
    "bi/snapshot",
    "bridge_intervensi_instansi",
    "bridge_intervensi_sasaran",
    "dim_fungsi_keluarga",
    "dim_instansi",
    "dim_kampung_kb",
    "dim_keluarga",
    "dim_metode_kb",
    "dim_periode",
    "dim_poktan",
    "dim_posyandu",
    "dim_sasaran",
    "dim_wilayah",
    "fct_anggota_keluarga",
    "fct_intervensi",
    "fct_kampung_kb_klasifikasi",
    "fct_keluarga_pendataan",
    "fct_kkbpk_bulanan",
    "fct_pengukuran_balita",
    "fct_poktan_bulanan",
    "fct_posyandu_bulanan",
    "int_indikator__desa_bulanan",
    "int_kampung_kb__aktif_bulanan",
    "int_kampung_kb__klasifikasi_input",
    "int_kampung_kb__versions",
    "landing/eppgbm",
    "landing/intervensi",
    "landing/kkbpk_bulanan",
    "landing/manifest",
    "landing/pk_anggota",
    "landing/pk_keluarga",
    "landing/poktan",
    "landing/posyandu",
    "landing/profil_kampung_kb",
    "landing/skdn",
    "reference/wilayah",
    "rpt_desa_bulanan",
    "rpt_kabupaten_bulanan",
    "rpt_kampung_kb_bulanan",
    "rpt_kecamatan_bulanan",
    "rpt_provinsi_bulanan",
    "stg_landing__eppgbm",
    "stg_landing__intervensi",
    "stg_landing__kkbpk_bulanan",
    "stg_landing__kkbpk_bulanan_submissions",
    "stg_landing__manifest",
    "stg_landing__pk_anggota",
    "stg_landing__pk_keluarga",
    "stg_landing__poktan",
    "stg_landing__posyandu",
    "stg_landing__profil_kampung_kb",
    "stg_landing__skdn",
    "stg_reference__wilayah",
    "who_lhfa_lms",
}


def test_definitions_load_with_pinned_asset_keys():
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == EXPECTED_KEYS


def test_every_ingestion_asset_has_a_blocking_suite_check():
    graph = defs.resolve_asset_graph()
    for name in ENTITIES:
        key = dg.AssetCheckKey(dg.AssetKey(["landing", name]), f"suite_{name}")
        assert key in graph.asset_check_keys
        spec = graph.get_check_spec(key)
        assert spec.blocking


def test_intervensi_is_ingested_after_the_profiles_it_looks_up():
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["landing", "intervensi"])).parent_keys
    assert dg.AssetKey(["landing", "profil_kampung_kb"]) in parents


def test_dbt_tests_are_asset_checks_of_their_models():
    checks = {k for k in defs.resolve_asset_graph().asset_check_keys}
    assert any(k.asset_key == dg.AssetKey(["rpt_kabupaten_bulanan"]) for k in checks)
    assert any(k.asset_key == dg.AssetKey(["dim_wilayah"]) for k in checks)


def test_nightly_schedule_runs_at_one_in_jakarta():
    schedule = defs.resolve_schedule_def("nightly_0100_wib")
    assert schedule.cron_schedule == "0 1 * * *"
    assert schedule.execution_timezone == "Asia/Jakarta"
    assert schedule.job_name == NIGHTLY_JOB


def test_every_landing_asset_has_a_freshness_check_and_its_sensor():
    graph = defs.resolve_asset_graph()
    for name in ENTITIES:
        checks = {k.name for k in graph.asset_check_keys if k.asset_key == dg.AssetKey(["landing", name])}
        assert any("freshness" in c for c in checks), (name, checks)
    assert any("freshness" in s.name for s in defs.sensors or [])


def test_the_bi_snapshot_is_published_after_every_source_and_model_it_reads():
    graph = defs.resolve_asset_graph()
    upstream = graph.get(dg.AssetKey(["bi", "snapshot"])).parent_keys
    assert {dg.AssetKey(t) for t in ("rpt_desa_bulanan", "rpt_kampung_kb_bulanan", "dim_wilayah")} <= upstream
    # every ingestion asset (each with a blocking check) is upstream, through the dbt models
    ancestors = graph.upstream_key_iterator(dg.AssetKey(["bi", "snapshot"]))
    assert {dg.AssetKey(["landing", name]) for name in ENTITIES} <= set(ancestors)
    assert dg.AssetKey(["bi", "snapshot"]) in graph.get(dg.AssetKey(["bi", "postgres"])).parent_keys


def test_the_code_location_loads_as_make_dev_starts_it():
    """Under `dagster dev`, dagster-dbt re-parses the project with the `dbt` on PATH; `make dev` puts the
    virtualenv's bin first. Without it the code location failed to load (found 2026-11-29)."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    from pipelines.config import REPO_ROOT

    recipe = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r'PATH="\$\(CURDIR\)/\$\(BIN\):\$\$PATH" \$\(BIN\)/dagster dev', recipe)
    env = {**os.environ, "DAGSTER_IS_DEV_CLI": "1", "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [sys.executable, "-c", "import pipelines.definitions"], env=env, cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_monthly_sources_are_partitioned_by_month_and_the_pk_round_by_year():
    graph = defs.resolve_asset_graph()

    def partitions(name: str):
        return graph.get(dg.AssetKey(["landing", name])).partitions_def

    for name in ("kkbpk_bulanan", "profil_kampung_kb", "intervensi", "skdn", "eppgbm", "poktan"):
        assert partitions(name) == MONTHLY, name
    assert partitions("pk_keluarga") == YEARLY and partitions("posyandu") == YEARLY
    assert partitions("pk_anggota") is None  # a member row carries no year (see README limits)
    now = dt.datetime(2026, 11, 29, 10, tzinfo=dt.UTC)
    assert MONTHLY.get_first_partition_key() == "2016-01"
    assert MONTHLY.get_partition_keys(current_time=now)[-1] == "2026-10"  # November's reports are not due yet
    assert YEARLY.get_partition_keys(current_time=now)[-3:] == ["2024", "2025", "2026"]  # this year's round too


def test_the_nightly_schedule_and_the_raw_folder_sensor_run_every_asset_unpartitioned():
    job = nightly_job_def(defs)
    assert defs.resolve_sensor_def("raw_files_arrived").job_name == job.name == NIGHTLY_JOB
    assert job.partitions_def is None
    assert set(job.asset_layer.asset_graph.get_all_asset_keys()) == set(defs.resolve_asset_graph().get_all_asset_keys())


def test_every_asset_tells_the_ui_who_owns_it_what_it_is_and_its_columns():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_executable:
            continue
        name = key.to_user_string()
        assert node.owners == ["team:kampung-kb-data"], name
        assert node.description and node.kinds and node.group_name not in (None, "default"), name
        assert node.tags.get("layer") in ("reference", "landing", "staging", "intermediate", "marts", "reporting",
                                          "publish"), name  # fmt: skip
    landing = graph.get(dg.AssetKey(["landing", "eppgbm"])).metadata["dagster/column_schema"]
    columns = {c.name: c for c in landing.columns}
    assert "nik_anak" not in columns and columns["nik_anak_hash"].description == "HMAC-SHA256 pseudonym"
    assert {"_file", "_row", "_batch"} <= set(columns)
    rpt = graph.get(dg.AssetKey(["rpt_kabupaten_bulanan"])).metadata
    assert "cpr" in {c.name for c in rpt["dagster/column_schema"].columns}
    assert rpt["dbt_docs"].path.endswith("#!/model/model.kampung_kb.rpt_kabupaten_bulanan")
