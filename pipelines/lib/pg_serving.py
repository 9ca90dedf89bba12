"""The PostgreSQL serving tier: the BI snapshot's tables in one schema of a PostgreSQL server, for BI tools that
speak PostgreSQL (Power BI, Excel, Superset, Metabase, Tableau) or for many concurrent readers.

On when configured (environment):
  KKB_PG_DSN              libpq connection string of the publishing role, e.g.
                          `postgresql://kkb_publisher:...@db.example:5432/kampung_kb` (unset: the tier is off)
  KKB_PG_SCHEMA           the schema BI tools read (default `bi`)
  KKB_PG_READER_ROLE      the role that may read it and nothing else (default `bi_reader`)
  KKB_PG_READER_PASSWORD  when set, that role can log in with this password; otherwise it is created NOLOGIN, as a
                          group role to grant to people (`GRANT bi_reader TO alice`)

The load builds `<schema>__baru` next to the live schema, copies every table in with COPY, then drops the old schema
and renames the new one in the same transaction: a BI query sees the old tables or the new ones, never a mix. The
swap waits for queries running on the old tables (up to `lock_timeout`), then commits.

The publishing role needs CREATE on the database (and CREATEROLE, unless the reader role exists already).
"""

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from pipelines.lib.sql import scalar

LOCK_TIMEOUT = "2min"

DUCKDB_TO_PG = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "HUGEINT": "numeric(38,0)",
    "UBIGINT": "numeric(20,0)",
    "UINTEGER": "bigint",
}


@dataclass(frozen=True)
class PgTarget:
    dsn: str
    schema: str = "bi"
    reader_role: str = "bi_reader"
    reader_password: str | None = None


def target_from_env() -> PgTarget | None:
    dsn = os.environ.get("KKB_PG_DSN", "").strip()
    if not dsn:
        return None
    return PgTarget(
        dsn=dsn,
        schema=os.environ.get("KKB_PG_SCHEMA") or "bi",
        reader_role=os.environ.get("KKB_PG_READER_ROLE") or "bi_reader",
        reader_password=os.environ.get("KKB_PG_READER_PASSWORD") or None,
    )


def pg_type(duckdb_type: str) -> str | None:
    """The PostgreSQL column type for a DuckDB type; None for types sent as text (lists, structs)."""
    if duckdb_type in DUCKDB_TO_PG:
        return DUCKDB_TO_PG[duckdb_type]
    if duckdb_type.startswith("DECIMAL"):
        return "numeric" + duckdb_type.removeprefix("DECIMAL")
    return None


def load(snapshot: Path, target: PgTarget) -> dict[str, int]:
    """Load every table of the BI snapshot into target.schema, swapped in one transaction. Returns rows per table."""
    new_schema = f"{target.schema}__baru"
    duck = duckdb.connect(str(snapshot), read_only=True)
    rows: dict[str, int] = {}
    try:
        tables = [
            r[0]
            for r in duck.execute(
                "select table_name from duckdb_tables() where schema_name = 'main' "
                "and database_name = current_database() order by 1"
            ).fetchall()
        ]
        with psycopg.connect(target.dsn) as pg, pg.cursor() as cur, tempfile.TemporaryDirectory() as tmp:
            ensure_reader_role(cur, target)
            cur.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(new_schema)))
            cur.execute(sql.SQL("create schema {}").format(sql.Identifier(new_schema)))
            for table in tables:
                rows[table] = _copy_table(duck, cur, new_schema, table, Path(tmp))
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(target.schema)))
            cur.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(new_schema), sql.Identifier(target.schema)
                )
            )
            schema, role = sql.Identifier(target.schema), sql.Identifier(target.reader_role)
            cur.execute(sql.SQL("comment on schema {} is {}").format(schema, sql.Literal(_SCHEMA_COMMENT)))
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(schema, role))
            cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(schema, role))
            pg.commit()
    finally:
        duck.close()
    return rows


_SCHEMA_COMMENT = (
    "Kampung KB BI tables: aggregates only, counts below 5 suppressed. Replaced as a whole by each publication."
)


def ensure_reader_role(cur: psycopg.Cursor, target: PgTarget) -> None:
    role = sql.Identifier(target.reader_role)
    cur.execute("select 1 from pg_roles where rolname = %s", [target.reader_role])
    exists = cur.fetchone() is not None
    if target.reader_password:
        verb = "alter" if exists else "create"
        cur.execute(sql.SQL(verb + " role {} login password {}").format(role, sql.Literal(target.reader_password)))
    elif not exists:
        cur.execute(sql.SQL("create role {} nologin").format(role))
    # a guard against mistakes, not the security boundary (that is the grants: USAGE + SELECT on one schema)
    cur.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(role))


def _copy_table(duck: duckdb.DuckDBPyConnection, cur: psycopg.Cursor, schema: str, table: str, tmp: Path) -> int:
    described = duck.execute(
        "select column_name, data_type, comment from duckdb_columns() "
        "where table_name = ? and schema_name = 'main' and database_name = current_database() order by column_index",
        [table],
    ).fetchall()
    target = sql.Identifier(schema, table)
    columns, selects = [], []
    for name, dtype, _ in described:
        pgt = pg_type(dtype)
        columns.append(sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pgt or "text")))
        selects.append(f'"{name}"' if pgt else f'cast("{name}" as varchar) as "{name}"')
    cur.execute(sql.SQL("create table {} ({})").format(target, sql.SQL(", ").join(columns)))
    table_comment = scalar(
        duck.execute(
            "select comment from duckdb_tables() where table_name = ? and database_name = current_database()", [table]
        )
    )
    if table_comment:
        cur.execute(sql.SQL("comment on table {} is {}").format(target, sql.Literal(table_comment)))
    for name, _, comment in described:
        if comment:
            cur.execute(
                sql.SQL("comment on column {} is {}").format(sql.Identifier(schema, table, name), sql.Literal(comment))
            )
    csv = tmp / f"{table}.csv"
    duck.execute(f"copy (select {', '.join(selects)} from main.\"{table}\") to '{csv}' (format csv, header false)")
    expected = scalar(duck.execute(f'select count(*) from main."{table}"'))
    return copy_csv(cur, target, csv, expected, f"{table} (the snapshot)")


def copy_csv(
    cur: psycopg.Cursor, target: sql.Composable, csv: Path, expected: int, what: str, columns: list[str] | None = None
) -> int:
    """Stream a headerless CSV file into a table with COPY, remove the file, and check the row count."""
    column_list = sql.SQL(" ({})").format(sql.SQL(", ").join(map(sql.Identifier, columns))) if columns else sql.SQL("")
    with (
        cur.copy(sql.SQL("copy {}{} from stdin (format csv)").format(target, column_list)) as copy,
        open(csv, "rb") as f,
    ):
        while chunk := f.read(1 << 20):
            copy.write(chunk)
    csv.unlink()
    cur.execute(sql.SQL("select count(*) from {}").format(target))
    loaded = scalar(cur)
    if loaded != expected:
        raise RuntimeError(f"PostgreSQL has {loaded} rows of {what} after COPY, the source {expected}")
    return loaded
