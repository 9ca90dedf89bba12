"""Do two engines hold the same warehouse? Every mart read from each engine and compared value by value.

Used by the tests (DuckDB vs PostgreSQL, DuckDB vs Spark on the same landing) and by anyone moving the warehouse to
another engine. Rows are compared as sets (no engine promises an order); doubles within a relative 1e-9 (the engines
sum in different orders); everything else exactly, including NULLs, dates, lists and the md5 surrogate keys.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg import sql

Rows = tuple[list[str], list[tuple]]  # column names, rows
Reader = Callable[[str], Rows]

REL_TOL = 1e-9


def mart_tables(manifest_path: Path) -> list[str]:
    """Every table of the star schema and the reporting marts (models under models/marts/), from dbt's manifest."""
    nodes = json.loads(manifest_path.read_text())["nodes"].values()
    return sorted(
        n["name"]
        for n in nodes
        if n["resource_type"] == "model" and n["package_name"] == "kampung_kb" and n["path"].startswith("marts/")
    )


def duckdb_reader(path: Path) -> Reader:
    """Tables of the DuckDB warehouse file."""

    def read(table: str) -> Rows:
        con = duckdb.connect(str(path), read_only=True)
        try:
            cur = con.execute(f'select * from main."{table}"')
            return [d[0] for d in cur.description], cur.fetchall()
        finally:
            con.close()

    return read


def postgres_reader(dsn: str, schema: str) -> Reader:
    def read(table: str) -> Rows:
        with psycopg.connect(dsn) as pg, pg.cursor() as cur:
            cur.execute(sql.SQL("select * from {}").format(sql.Identifier(schema, table)))
            return [d.name for d in cur.description or []], cur.fetchall()

    return read


def spark_reader(tables_dir: Path, schema: str) -> Reader:
    """Tables Spark wrote (managed Parquet tables under spark.sql.warehouse.dir/<schema>.db/<table>/), read with
    DuckDB: no second Spark session (its embedded metastore admits one process at a time)."""

    def read(table: str) -> Rows:
        files = str(tables_dir / f"{schema}.db" / table / "*.parquet")
        con = duckdb.connect()
        try:
            cur = con.execute("select * from read_parquet(?)", [files])
            return [d[0] for d in cur.description], cur.fetchall()
        finally:
            con.close()

    return read


def normalise(value: Any) -> Any:
    """One spelling per value across drivers: Decimal and float as float, lists as tuples, timestamps naive."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return tuple(normalise(v) for v in value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, type(v).__name__, round(v, 6) if isinstance(v, float) else v) for v in row)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float | int) or isinstance(b, float) and isinstance(a, int):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def compare_table(table: str, left: Reader, right: Reader, limit: int = 5) -> list[str]:
    """Differences between the two engines' copies of one table; empty when they hold the same rows."""
    left_columns, left_rows = left(table)
    right_columns, right_rows = right(table)
    if [c.lower() for c in left_columns] != [c.lower() for c in right_columns]:
        return [f"{table}: columns differ: {left_columns} vs {right_columns}"]
    if len(left_rows) != len(right_rows):
        return [f"{table}: {len(left_rows)} rows vs {len(right_rows)}"]
    a = sorted((tuple(normalise(v) for v in r) for r in left_rows), key=_sort_key)
    b = sorted((tuple(normalise(v) for v in r) for r in right_rows), key=_sort_key)
    found = []
    for ra, rb in zip(a, b, strict=True):
        for column, x, y in zip(left_columns, ra, rb, strict=True):
            if not _same(x, y):
                found.append(f"{table}.{column}: {x!r} vs {y!r} (row {ra[:3]}...)")
                break
        if len(found) >= limit:
            break
    return found


def compare(tables: Sequence[str], left: Reader, right: Reader) -> dict[str, list[str]]:
    """Differences per table, only tables that differ."""
    return {t: d for t in tables if (d := compare_table(t, left, right))}
