"""The same dbt project on PostgreSQL and on Spark (local mode), built from the session's landing
(tests/e2e_run.py) and compared table by table with the DuckDB warehouse the pipeline built from it.

Real engines: the throwaway PostgreSQL server of the session (Debian's postgresql) and pyspark on Debian's Java 17.
"""

import json
import re

import dagster as dg
import duckdb
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.config import DBT_PROJECT_DIR, ConfigError, Settings
from pipelines.lib import engine_parity, engines, pg_landing
from tests.e2e_run import E2E, query
from tests.pg_server import SUPERUSER_PASSWORD

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def test_every_source_names_the_same_files_for_every_engine():
    sources = json.loads(MANIFEST.read_text())["sources"].values()
    ours = [s for s in sources if s["package_name"] == "kampung_kb"]
    assert {(s["schema"], s["identifier"]) for s in ours} == {
        (t.schema, t.table) for t in pg_landing.source_tables(MANIFEST)
    }
    for s in ours:
        location = s["meta"]["location"]
        duckdb_files = re.search(r"read_parquet\('([^']+)'", s["meta"]["external_location"]).group(1)
        expected = f"/{location}" if location.endswith(".parquet") else f"/{location}/**/*.parquet"
        assert duckdb_files.endswith(expected), (s["name"], duckdb_files, location)


def test_the_engine_comes_from_kkb_dbt_target_and_an_unknown_one_is_refused(monkeypatch):
    monkeypatch.delenv("KKB_DBT_TARGET", raising=False)
    assert engines.target_from_env() == "duckdb"
    monkeypatch.setenv("KKB_DBT_TARGET", "trino")
    with pytest.raises(ConfigError, match="duckdb, postgres, spark"):
        engines.target_from_env()
    command = engines.dbt_command("spark", ["build"])
    assert command[-4:] == ["--target", "spark", "--target-path", str(DBT_PROJECT_DIR / "target" / "spark")]


def test_mart_list_is_the_star_schema_and_reports():
    marts = engine_parity.mart_tables(MANIFEST)
    assert {"dim_wilayah", "fct_kkbpk_bulanan", "rpt_kabupaten_bulanan", "rpt_kampung_kb_bulanan"} <= set(marts)
    assert not [m for m in marts if m.startswith(("stg_", "int_"))]


def test_comparison_sees_a_changed_value_and_tolerates_summation_order():
    base = (["k", "x", "daftar"], [("a", 0.1 + 0.2, ["p", None]), ("b", None, [])])
    same = (["k", "x", "daftar"], [("b", None, ()), ("a", 0.3, ("p", None))])
    changed = (["k", "x", "daftar"], [("b", 0.0, ()), ("a", 0.3, ("p", None))])
    assert engine_parity.compare_table("t", lambda _: base, lambda _: same) == []
    assert engine_parity.compare_table("t", lambda _: base, lambda _: changed) == [
        "t.x: None vs 0.0 (row ('b', None, ())...)"
    ]
    fewer = (["k", "x", "daftar"], base[1][:1])
    assert engine_parity.compare_table("t", lambda _: base, lambda _: fewer) == ["t: 2 rows vs 1"]


@pytest.fixture(scope="module")
def pg_warehouse(e2e: E2E) -> str:
    """A database and role for dbt on the session's PostgreSQL server; the profile's variables point at it."""
    admin_dsn = e2e.pg.dsn("postgres", SUPERUSER_PASSWORD)
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute("create role kkb_dbt login password 'bangun'")
        admin.execute("create database kkb_gudang owner kkb_dbt")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {"KKB_PG_HOST": "127.0.0.1", "KKB_PG_PORT": str(e2e.pg.port), "KKB_PG_USER": "kkb_dbt",
                            "DBT_ENV_SECRET_KKB_PG_PASSWORD": "bangun", "KKB_PG_DBNAME": "kkb_gudang",
                            "KKB_PG_SCHEMA": "kkb", "KKB_PG_SSLMODE": "disable"}.items():  # fmt: skip
            mp.setenv(name, value)
        yield pg_landing.conninfo()


def test_landing_copy_keeps_lists_text_and_nulls_and_reloads_only_what_changed(tmp_path, pg_warehouse):
    settings = Settings(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "warehouse")
    folder = settings.warehouse_dir / "landing" / "uji"
    (folder / "b1").mkdir(parents=True)
    tricky = ['koma, "kutip"', "garis\\miring", "{kurawal}", None, "NULL", ""]
    pq.write_table(
        pa.table({"id": pa.array([1, 2, 3], pa.int64()), "teks": ["a'b", None, "baris\nbaru"],
                  "daftar": pa.array([tricky, None, []], pa.list_(pa.string())),
                  "tanggal": pa.array([None, 19000, 20000], pa.date32())}),
        folder / "b1" / "part-00000.parquet",
    )  # fmt: skip
    table = pg_landing.SourceTable("landing", "uji", "landing/uji")
    first = pg_landing.sync(settings, pg_warehouse, [table])
    assert first["landing.uji"].rows == 3 and not first["landing.uji"].skipped
    with psycopg.connect(pg_warehouse) as pg:
        rows = pg.execute("select id, teks, daftar, tanggal::text from landing.uji order by id").fetchall()
        types = dict(pg.execute("select column_name, udt_name from information_schema.columns "
                                "where table_schema = 'landing' and table_name = 'uji'").fetchall())  # fmt: skip
    assert rows == [(1, "a'b", tricky, None), (2, None, None, "2022-01-08"), (3, "baris\nbaru", [], "2024-10-04")]
    assert types == {"id": "int8", "teks": "text", "daftar": "_text", "tanggal": "date"}
    assert pg_landing.sync(settings, pg_warehouse, [table])["landing.uji"].skipped

    # a new batch with a new column: the table is created again with it; older rows read NULL there
    (folder / "b2").mkdir()
    pq.write_table(pa.table({"id": pa.array([4], pa.int64()), "tambahan": [7.5]}), folder / "b2" / "part-00000.parquet")
    again = pg_landing.sync(settings, pg_warehouse, [table])["landing.uji"]
    assert (again.rows, again.skipped) == (4, False)
    with psycopg.connect(pg_warehouse) as pg:
        assert pg.execute("select id, tambahan from landing.uji order by id").fetchall() == [
            (1, None),
            (2, None),
            (3, None),
            (4, 7.5),
        ]


def marts_differ(e2e: E2E, reader) -> dict[str, list[str]]:
    tables = engine_parity.mart_tables(MANIFEST)
    return engine_parity.compare(tables, engine_parity.duckdb_reader(e2e.settings.duckdb_path), reader)


@pytest.mark.slow
def test_postgres_builds_the_project_with_its_tests_and_holds_the_same_numbers(e2e: E2E, pg_warehouse):
    # unit tests stay on DuckDB: their fixtures are written in DuckDB's SQL (format: sql)
    assert engines.run_dbt(e2e.settings, "postgres", ["build", "--exclude", "resource_type:unit_test"]) == 0
    assert marts_differ(e2e, engine_parity.postgres_reader(pg_warehouse, "kkb")) == {}
    with psycopg.connect(pg_warehouse) as pg:
        loaded = pg.execute("select count(*) from landing.kkbpk_bulanan").fetchone()[0]
    landed = duckdb.sql(
        f"select count(*) from read_parquet('{e2e.settings.landing_dir}/kkbpk_bulanan/**/*.parquet')"
    ).fetchone()[0]
    assert loaded == landed > 0
    # nothing changed in the landing: the second preparation loads nothing
    unchanged = len(pg_landing.source_tables())
    assert (
        engines.prepare(e2e.settings, "postgres")
        == f"PostgreSQL landing: 0 table(s) loaded (0 rows), {unchanged} unchanged"
    )


@pytest.mark.slow
def test_spark_builds_the_project_and_holds_the_same_numbers(e2e: E2E):
    # models and seeds; the data tests pass on Spark too when run by hand (README: Scaling out), not here
    args = ["build", "--exclude", "resource_type:unit_test", "resource_type:test"]
    assert engines.run_dbt(e2e.settings, "spark", args) == 0
    tables = e2e.settings.warehouse_dir / "spark" / "tables"
    assert marts_differ(e2e, engine_parity.spark_reader(tables, "kkb")) == {}


@pytest.mark.slow
def test_dagster_builds_on_the_engine_kkb_dbt_target_names_and_skips_the_duckdb_publication(
    e2e: E2E, pg_warehouse, monkeypatch
):
    from pipelines.definitions import defs
    from pipelines.defs.dbt import kampung_kb_dbt
    from pipelines.defs.publish import REPORT_KEY, SNAPSHOT_KEY

    monkeypatch.setenv("KKB_PG_SCHEMA", "kkb_dagster")  # a schema of its own: proves this run built it
    monkeypatch.setenv("KKB_DBT_TARGET", "postgres")
    snapshot_before = sorted(p.name for p in e2e.settings.bi_dir.iterdir())
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        asset_selection=[*kampung_kb_dbt.keys, SNAPSHOT_KEY, REPORT_KEY], raise_on_error=False
    )
    assert result.success
    built = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["rpt_kabupaten_bulanan"]) in built and SNAPSHOT_KEY not in built and REPORT_KEY not in built
    assert sorted(p.name for p in e2e.settings.bi_dir.iterdir()) == snapshot_before
    with psycopg.connect(pg_warehouse) as pg:
        rows = pg.execute("select count(*) from kkb_dagster.rpt_kabupaten_bulanan").fetchone()[0]
    assert rows == query(e2e.settings, "select count(*) from rpt_kabupaten_bulanan")[0][0] > 0
