"""The landing Parquet (and the region list) loaded into PostgreSQL, for the dbt `postgres` target.

PostgreSQL cannot read Parquet (no extension is installable offline), so before dbt builds on PostgreSQL every dbt
source with a `meta.location` (dbt_project/models/staging/*/_*sources.yml) is copied into a table of the same name:
`landing.<table>`, `reference.wilayah`. DuckDB reads the files (union_by_name, as dbt-duckdb does) and writes CSV;
psycopg streams it with COPY. Lists become PostgreSQL arrays.

Incremental per table: a table is loaded again only when its files changed (names, sizes, modification times: the
landing's files are written once and renamed into place, so a change means a new batch, a rebuild or a deletion).
A table is replaced inside one transaction (TRUNCATE + COPY): dbt or a BI tool reading it sees the old rows or the
new ones. When its columns or their types change it is dropped and created again (CASCADE: the dbt views on it go
too; the dbt build that follows creates them again).

Connection (the same variables as the `postgres` output of dbt_project/profiles.yml):
  KKB_PG_HOST, KKB_PG_PORT, KKB_PG_USER, DBT_ENV_SECRET_KKB_PG_PASSWORD, KKB_PG_DBNAME, KKB_PG_SSLMODE
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from pipelines.config import DBT_PROJECT_DIR, Settings
from pipelines.lib import duck
from pipelines.lib.pg_serving import copy_csv, pg_type
from pipelines.lib.sql import scalar

BOOKKEEPING = sql.Identifier("landing", "_kkb_loaded")


@dataclass(frozen=True)
class SourceTable:
    schema: str
    table: str
    location: str  # relative to the warehouse folder: a folder of Parquet files at any depth, or one file

    def files(self, settings: Settings) -> list[Path]:
        path = settings.warehouse_dir / self.location
        if self.location.endswith(".parquet"):
            return [path] if path.is_file() else []
        return sorted(path.rglob("*.parquet"))


@dataclass(frozen=True)
class Loaded:
    rows: int
    skipped: bool  # files unchanged since the last load


def conninfo() -> str:
    """libpq connection string from the profile's variables."""
    parts = {
        "host": os.environ.get("KKB_PG_HOST", "127.0.0.1"),
        "port": os.environ.get("KKB_PG_PORT", "5432"),
        "user": os.environ.get("KKB_PG_USER", "kkb"),
        "password": os.environ.get("DBT_ENV_SECRET_KKB_PG_PASSWORD", ""),
        "dbname": os.environ.get("KKB_PG_DBNAME", "kampung_kb"),
        "sslmode": os.environ.get("KKB_PG_SSLMODE", "prefer"),
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v})


def source_tables(manifest_path: Path = DBT_PROJECT_DIR / "target" / "manifest.json") -> list[SourceTable]:
    """Every dbt source of the project with a `meta.location`, from the parsed project (make install parses it)."""
    manifest = json.loads(manifest_path.read_text())
    found = [
        SourceTable(node["schema"], node["identifier"], node["meta"]["location"])
        for node in manifest["sources"].values()
        if node["package_name"] == "kampung_kb" and node.get("meta", {}).get("location")
    ]
    return sorted(found, key=lambda s: (s.schema, s.table))


def fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for f in files:
        st = f.stat()
        digest.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _nested(duckdb_type: str) -> bool:
    """A struct, or a list of structs (the manifest's `skipped`): loaded as JSON."""
    return "STRUCT(" in duckdb_type or "MAP(" in duckdb_type


def pg_column_type(duckdb_type: str) -> str:
    """The PostgreSQL type a landing column is loaded as; lists become arrays of their element type, structs JSON."""
    if _nested(duckdb_type):
        return "jsonb"
    if duckdb_type.endswith("[]"):
        return pg_column_type(duckdb_type[:-2]) + "[]"
    found = pg_type(duckdb_type)
    if found is None:
        raise ValueError(f"landing column type {duckdb_type} has no PostgreSQL type here (pipelines/lib/pg_landing.py)")
    return found


def _select_for_csv(name: str, duckdb_type: str) -> str:
    """A DuckDB expression writing the column as PostgreSQL's COPY (CSV) reads it: arrays as `{"a","b"}`."""
    quoted = '"' + name.replace('"', '""') + '"'
    if _nested(duckdb_type):
        return f"case when {quoted} is null then null else cast(to_json({quoted}) as varchar) end as {quoted}"
    if not duckdb_type.endswith("[]"):
        return quoted
    element = (
        "case when e is null then 'NULL' else "
        "'\"' || replace(replace(cast(e as varchar), '\\', '\\\\'), '\"', '\\\"') || '\"' end"
    )
    array = f"'{{' || array_to_string(list_transform({quoted}, e -> {element}), ',') || '}}'"
    return f"case when {quoted} is null then null else {array} end as {quoted}"


def sync(settings: Settings, dsn: str, tables: list[SourceTable] | None = None) -> dict[str, Loaded]:
    """Load every source table whose files changed since the last load. Returns what happened per table."""
    tables = source_tables() if tables is None else tables
    results: dict[str, Loaded] = {}
    # the CSV of one table at a time, beside the warehouse (the big disk), not in /tmp
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with (
        psycopg.connect(dsn) as pg,
        tempfile.TemporaryDirectory(prefix=".pg-landing-", dir=settings.warehouse_dir) as tmp,
    ):
        with pg.cursor() as cur:
            for schema in sorted({t.schema for t in tables} | {"landing"}):
                cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            cur.execute(
                sql.SQL(
                    "create table if not exists {} (source text primary key, fingerprint text not null, "
                    "rows bigint not null, loaded_at timestamptz not null default now())"
                ).format(BOOKKEEPING)
            )
        pg.commit()
        for t in tables:
            results[f"{t.schema}.{t.table}"] = _sync_table(settings, pg, t, Path(tmp))
    return results


def _sync_table(settings: Settings, pg: psycopg.Connection, t: SourceTable, tmp: Path) -> Loaded:
    files = t.files(settings)
    if not files:
        raise FileNotFoundError(f"{t.schema}.{t.table}: no Parquet files at {settings.warehouse_dir / t.location}")
    name = f"{t.schema}.{t.table}"
    current = fingerprint(files)
    with pg.cursor() as cur:
        cur.execute(sql.SQL("select fingerprint, rows from {} where source = %s").format(BOOKKEEPING), [name])
        done = cur.fetchone()
    existing = _columns(pg, t)
    if done is not None and done[0] == current and existing:
        return Loaded(done[1], skipped=True)

    con = duck.connect()
    try:
        landed = con.read_parquet([str(f) for f in files], union_by_name=True)
        landed.create_view("landed")
        described = [(n, str(ty)) for n, ty in zip(landed.columns, landed.types, strict=True)]
        csv = tmp / f"{t.schema}.{t.table}.csv"
        selects = ", ".join(_select_for_csv(n, ty) for n, ty in described)
        con.execute(f"copy (select {selects} from landed) to '{csv}' (format csv, header false)")
        expected = scalar(con.execute("select count(*) from landed"))
    finally:
        con.close()

    target = sql.Identifier(t.schema, t.table)
    columns = [(n, pg_column_type(ty)) for n, ty in described]
    with pg.cursor() as cur:
        if existing == dict(columns):
            cur.execute(sql.SQL("truncate {}").format(target))
        else:
            cur.execute(sql.SQL("drop table if exists {} cascade").format(target))
            cur.execute(
                sql.SQL("create table {} ({})").format(
                    target,
                    sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(ty)) for n, ty in columns),
                )
            )
        loaded = copy_csv(cur, target, csv, expected, f"{name} (the Parquet files)", [n for n, _ in columns])
        cur.execute(sql.SQL("analyze {}").format(target))
        cur.execute(
            sql.SQL(
                "insert into {} (source, fingerprint, rows) values (%s, %s, %s) on conflict (source) do update "
                "set fingerprint = excluded.fingerprint, rows = excluded.rows, loaded_at = now()"
            ).format(BOOKKEEPING),
            [name, current, loaded],
        )
    pg.commit()
    return Loaded(loaded, skipped=False)


def _columns(pg: psycopg.Connection, t: SourceTable) -> dict[str, str]:
    """Column -> type as CREATE TABLE spells it (format_type), for the types pg_column_type produces."""
    with pg.cursor() as cur:
        cur.execute(
            "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
            "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped",
            [t.schema, t.table],
        )
        return {str(name): _SPELLED.get(str(ty), str(ty)) for name, ty in cur.fetchall()}


# format_type's spelling -> the spelling pg_column_type uses
_SPELLED = {
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "text[]": "text[]",
}
