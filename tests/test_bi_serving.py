"""What BI tools get, after the session's pipeline run (tests/e2e_run.py): the published snapshot, its Parquet copy,
the PostgreSQL schema, and the privacy guarantees (no personal data, small counts suppressed, the key nowhere)."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import psycopg
import pytest

from pipelines.config import DBT_PROJECT_DIR, REPO_ROOT
from pipelines.lib import disclosure, pii_scan, publish
from pipelines.lib.entities import ENTITIES
from pipelines.lib.readers import RejectedFile, read_chunks
from tests.e2e_run import E2E, PII_KEY, published_id
from tests.pg_server import SUPERUSER_PASSWORD

DUCKDB_15 = REPO_ROOT / ".venv" / "duckdb-1.5.0"


def snapshot(e2e: E2E) -> Path:
    return e2e.settings.bi_dir / publish.SNAPSHOT_NAME


def bi(e2e: E2E, sql: str) -> list[tuple]:
    con = duckdb.connect(str(snapshot(e2e)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_each_successful_run_publishes_a_new_snapshot_with_exactly_the_bi_tables(e2e: E2E):
    assert e2e.first.success and e2e.second.success
    tables = {r[0] for r in bi(e2e, "select table_name from duckdb_tables()")}
    assert tables == {*publish.BI_TABLES, publish.META_TABLE}
    now = published_id(snapshot(e2e))
    assert now != e2e.first_publication
    assert publish.publications(e2e.settings.bi_dir) == [e2e.first_publication, now]
    assert publish.current_publication(e2e.settings.bi_dir) == now


def test_a_reader_holding_the_file_through_a_run_keeps_its_snapshot_and_a_new_connection_sees_the_new_one(e2e: E2E):
    seen = e2e.reader
    assert seen["before"] == seen["after"]  # same publication, same figures, through the whole second run
    assert seen["before"][0] == e2e.first_publication
    assert seen["fresh"] == published_id(snapshot(e2e)) != e2e.first_publication


def test_the_published_file_opens_with_duckdb_1_5_0(e2e: E2E):
    if not (DUCKDB_15 / "duckdb").is_dir():
        pytest.fail(f"DuckDB 1.5.0 is not installed in {DUCKDB_15}: run the tests with `make test`")
    code = (
        "import sys, duckdb; assert duckdb.__version__ == '1.5.0', duckdb.__version__; "
        "con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(con.execute('select count(*) from rpt_kabupaten_bulanan').fetchone()[0])"
    )
    env = {**os.environ, "PYTHONPATH": str(DUCKDB_15)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(snapshot(e2e))], env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) == bi(e2e, "select count(*) from rpt_kabupaten_bulanan")[0][0] > 0


def test_parquet_holds_the_same_tables_and_rows(e2e: E2E):
    folder = e2e.settings.bi_dir / "parquet"
    assert folder.is_symlink()
    for table in publish.BI_TABLES:
        files = list((folder / table).glob("*.parquet"))
        assert len(files) == 1, table
        rows = duckdb.sql(f"select count(*) from read_parquet('{files[0]}')").fetchone()[0]
        assert rows == bi(e2e, f"select count(*) from {table}")[0][0], table


def test_visible_figures_equal_the_warehouse_and_hidden_ones_are_listed(e2e: E2E):
    con = duckdb.connect(str(snapshot(e2e)), read_only=True)
    try:
        con.execute(f"attach '{e2e.settings.duckdb_path}' as wh (read_only)")
        for level in disclosure.HIERARCHY:
            columns = [r[0] for r in con.execute(f"describe wh.main.{level.table}").fetchall()]
            counts = [c for c in columns if c in disclosure.PERSON_COUNTS]
            mismatched = con.execute(
                f"select count(*) from main.{level.table} p join wh.main.{level.table} w "
                f"using ({level.key}, periode_key) where "
                + " or ".join(f"(p.{c} is not null and p.{c} <> w.{c})" for c in counts)
            ).fetchone()[0]
            assert mismatched == 0, level.table
            unlisted = con.execute(
                f"select count(*) from main.{level.table} p join wh.main.{level.table} w "
                f"using ({level.key}, periode_key) where "
                + " or ".join(
                    f"(p.{c} is null and w.{c} is not null and not contains(coalesce(p.kolom_disensor, ''), '{c}'))"
                    for c in counts
                )
            ).fetchone()[0]
            assert unlisted == 0, level.table
        # the region totals the analysts start from stay visible at province and kabupaten level
        assert con.execute("select count(*) from main.rpt_provinsi_bulanan where jml_pus is null").fetchone()[0] == 0
    finally:
        con.close()


def test_no_count_below_five_and_no_sum_with_a_single_hidden_cell(e2e: E2E):
    con = duckdb.connect(str(snapshot(e2e)), read_only=True)
    try:
        assert disclosure.audit(con, "main") == []
        hidden = con.execute("select count(*) from rpt_desa_bulanan where kolom_disensor is not null").fetchone()[0]
        assert hidden > 0  # at 5 % scale many desa cells are small: the suppression did work
    finally:
        con.close()


def raw_personal_values(raw_dir: Path) -> dict[str, set[str]]:
    """NIK, No. KK, names, addresses and birth dates as delivered in the raw files (the pipeline's readers)."""
    kinds = {"pii": "identifier", "drop": "dropped personal data", "birth_date": "birth date"}
    out: dict[str, set[str]] = {k: set() for k in kinds.values()}
    for name in ("pk_keluarga", "pk_anggota", "eppgbm"):
        entity = ENTITIES[name]
        wanted = {c.name: kinds[c.type] for c in entity.columns if c.type in kinds}
        for path in sorted((raw_dir / entity.folder).rglob("*")):
            if not path.is_file():
                continue
            try:
                _, chunks = read_chunks(path, entity)
                for frame in chunks:
                    for column, kind in wanted.items():
                        if column in frame:
                            out[kind].update(v.strip() for v in frame[column].dropna().astype(str) if len(v) > 3)
            except RejectedFile:
                continue
    return out


def test_no_personal_data_in_any_published_table_or_column(e2e: E2E):
    con = duckdb.connect(str(snapshot(e2e)), read_only=True)
    try:
        findings, coverage = pii_scan.scan(con, "main", publish.landed_pseudonyms(e2e.settings.landing_dir))
        assert findings == []
        assert coverage["tables"] == len(publish.BI_TABLES) + 1
        personal = raw_personal_values(e2e.settings.raw_dir)
        assert all(len(v) > 100 for v in personal.values()), {k: len(v) for k, v in personal.items()}
        texts = con.execute(
            "select table_name, column_name from duckdb_columns() where data_type = 'VARCHAR' "
            "and database_name = current_database()"
        ).fetchall()
        published = set()
        for table, column in texts:
            published |= {r[0] for r in con.execute(f'select distinct "{column}" from "{table}"').fetchall()}
        # region names are public (Kemendagri) and some equal a person's name ("Sari", "Sri Rahayu"): not a leak
        regions = {
            r[0]
            for c in ("nama_desa", "nama_kec", "nama_kab", "nama_prov")
            for r in con.execute(f"select distinct {c} from dim_wilayah").fetchall()
        }
        for kind, values in personal.items():
            if kind != "birth date":
                assert not (values & published) - regions, kind
        # no birth date: the only date columns are the calendar and programme dates below
        dates = con.execute(
            "select distinct column_name from duckdb_columns() where data_type = 'DATE' "
            "and database_name = current_database()"
        ).fetchall()
        assert {d[0] for d in dates} <= {
            "tanggal_awal", "tanggal_akhir", "batas_lapor", "valid_from", "valid_to", "tanggal_pencanangan"
        }  # fmt: skip
        # no person-level row: every table is unique on a key of regions, units, months or codes
        grains = {
            "dim_wilayah": "kode_desa", "dim_periode": "periode_key", "dim_kampung_kb": "kampung_kb_key",
            "dim_posyandu": "posyandu_key", "dim_metode_kb": "kode", "dim_poktan": "kode",
            "dim_instansi": "instansi_key", "dim_fungsi_keluarga": "fungsi_keluarga_key",
            "dim_sasaran": "sasaran_key", "fct_kampung_kb_klasifikasi": "kampung_kb_id, periode_key",
            "rpt_provinsi_bulanan": "kode_prov, periode_key", "rpt_kabupaten_bulanan": "kode_kab, periode_key",
            "rpt_kecamatan_bulanan": "kode_kec, periode_key", "rpt_desa_bulanan": "kode_desa, periode_key",
            "rpt_kampung_kb_bulanan": "kampung_kb_id, periode_key",
        }  # fmt: skip
        assert set(grains) == set(publish.BI_TABLES)
        for table, key in grains.items():
            dupes = con.execute(f"select count(*) from (select {key} from {table} group by all having count(*) > 1)")
            assert dupes.fetchone()[0] == 0, table
    finally:
        con.close()


def test_the_hmac_key_is_in_no_dbt_artifact_log_or_written_file(e2e: E2E):
    key = PII_KEY.encode()
    places = [e2e.settings.warehouse_dir, DBT_PROJECT_DIR / "target", DBT_PROJECT_DIR / "logs"]
    scanned = 0
    for place in places:
        for path in place.rglob("*"):
            if path.is_file():
                scanned += 1
                assert key not in path.read_bytes(), path
    assert scanned > 50
    for result in (e2e.first, e2e.second):
        for event in result.all_events:
            assert PII_KEY not in str(event), event.event_type_value


def test_postgres_tier_serves_the_snapshot_to_bi_reader_only(e2e: E2E):
    reader = e2e.pg.dsn("bi_reader", "baca-saja", "kampung_kb")
    with psycopg.connect(reader, autocommit=True) as pg:
        tables = {
            r[0] for r in pg.execute("select table_name from information_schema.tables where table_schema = 'bi'")
        }
        assert tables == {*publish.BI_TABLES, publish.META_TABLE}
        assert pg.execute("select publikasi_id from bi._publikasi").fetchone()[0] == published_id(snapshot(e2e))
        for table in ("rpt_kabupaten_bulanan", "rpt_desa_bulanan", "dim_wilayah"):
            got = pg.execute(f"select count(*) from bi.{table}").fetchone()[0]
            assert got == bi(e2e, f"select count(*) from {table}")[0][0], table
        pg_sum = pg.execute(
            "select sum(jml_pus), count(cpr), count(kolom_disensor) from bi.rpt_desa_bulanan"
        ).fetchone()
        duck_sum = bi(e2e, "select sum(jml_pus), count(cpr), count(kolom_disensor) from rpt_desa_bulanan")[0]
        assert tuple(pg_sum) == tuple(duck_sum)
        comment = pg.execute("select obj_description('bi.rpt_kabupaten_bulanan'::regclass)").fetchone()[0]
        assert comment  # the dbt description travels with the table
    refused = {
        "select * from internal.rahasia": psycopg.errors.InsufficientPrivilege,
        "select * from public.rahasia": psycopg.errors.InsufficientPrivilege,
        "insert into bi.dim_sasaran values (99, 'x')": (
            psycopg.errors.ReadOnlySqlTransaction,
            psycopg.errors.InsufficientPrivilege,
        ),
        "set transaction read write; create table bi.x (a int)": psycopg.errors.InsufficientPrivilege,
        "set transaction read write; insert into bi.dim_sasaran values (99, 'x')": (
            psycopg.errors.InsufficientPrivilege
        ),
    }
    for statement, error in refused.items():
        with psycopg.connect(reader) as pg, pytest.raises(error):
            pg.execute(statement)
    # the old schema was replaced in one piece: no leftover staging schema
    with psycopg.connect(e2e.pg.dsn("postgres", SUPERUSER_PASSWORD, "kampung_kb"), autocommit=True) as admin:
        schemas = {r[0] for r in admin.execute("select nspname from pg_namespace where nspname like 'bi%'")}
        assert schemas == {"bi"}


def test_a_snapshot_that_fails_the_scan_is_not_published_and_rollback_restores_the_previous(e2e: E2E, tmp_path):
    import shutil

    warehouse = tmp_path / "kampung_kb.duckdb"
    shutil.copyfile(e2e.settings.duckdb_path, warehouse)
    bi_dir = tmp_path / "bi"
    first = publish.publish(warehouse, bi_dir)
    second = publish.publish(warehouse, bi_dir)
    con = duckdb.connect(str(warehouse))
    con.execute("update dim_posyandu set nama_posyandu = '1901014506870003' where posyandu_key = "
                "(select min(posyandu_key) from dim_posyandu)")  # fmt: skip
    con.close()
    with pytest.raises(publish.PublishError, match="dim_posyandu.nama_posyandu: 16-digit"):
        publish.publish(warehouse, bi_dir)
    assert published_id(bi_dir / publish.SNAPSHOT_NAME) == second.id
    assert publish.publications(bi_dir) == [first.id, second.id]
    assert not list((bi_dir / "history").glob(".*"))  # no half-written file left behind
    assert publish.rollback(bi_dir) == first.id
    assert published_id(bi_dir / publish.SNAPSHOT_NAME) == first.id
    assert publish.current_publication(bi_dir) == first.id
    with pytest.raises(publish.PublishError, match="no publication older"):
        publish.rollback(bi_dir)
