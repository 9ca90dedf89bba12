"""The whole pipeline run once per test session on generated data, shared by the end-to-end test modules.

Reduced scale (5 % of the province's families, three months). The nightly job runs twice in process, with the
PostgreSQL serving tier on (a throwaway server) and, during the second run, a separate process holding the
published BI file open.
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from pipelines.config import Settings
from pipelines.lib import publish
from pipelines.synth import synthesize
from tests.pg_server import SUPERUSER_PASSWORD, Server, throwaway_server

MONTHS = [(2024, 1), (2024, 2), (2024, 3)]


def run_nightly():
    from pipelines.definitions import defs
    from pipelines.defs.schedules import NIGHTLY_TAGS, nightly_job_def

    return nightly_job_def(defs).execute_in_process(raise_on_error=False, tags=NIGHTLY_TAGS)


def query(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def table_counts(settings: Settings) -> dict[str, int]:
    tables = [r[0] for r in query(settings, "select table_name from information_schema.tables order by 1")]
    return {t: query(settings, f'select count(*) from "{t}"')[0][0] for t in tables}


def published_id(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select publikasi_id from _publikasi").fetchone()[0]
    finally:
        con.close()


PII_KEY = "e2e-test-key-0123456789"

# A separate process that opens the published BI file, keeps the connection through a whole run, then looks again.
READER = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
def look():
    pub = con.execute("select publikasi_id from _publikasi").fetchone()[0]
    rows = con.execute("select count(*), sum(coalesce(jml_pus, 0)), count(kolom_disensor) from rpt_desa_bulanan")
    return [pub, list(rows.fetchone())]
before = look()
print(json.dumps({"ready": True}), flush=True)
sys.stdin.readline()
after = look()
con.close()  # DuckDB shares one database instance per file within a process: close it, then reconnect
fresh = duckdb.connect(sys.argv[1], read_only=True).execute("select publikasi_id from _publikasi").fetchone()[0]
print(json.dumps({"before": before, "after": after, "fresh": fresh}), flush=True)
"""


@dataclass
class E2E:
    settings: Settings
    truth: dict
    first: Any
    second: Any
    snapshot: dict[str, int]
    reader: dict
    first_publication: str
    pg: Server


def run_e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2E]:
    root = tmp_path_factory.mktemp("e2e")
    settings = Settings(raw_dir=root / "raw", warehouse_dir=root / "warehouse")
    synthesize(settings.raw_dir, provinsi="19", months=MONTHS, seed=11, scale=0.05)
    truth = json.loads((settings.raw_dir / "ground_truth.json").read_text())
    with throwaway_server() as pg, pytest.MonkeyPatch.context() as mp:
        with psycopg.connect(pg.superuser_dsn, autocommit=True) as admin:
            admin.execute("create role kkb_publisher login password 'terbit' createrole")
            admin.execute("create database kampung_kb owner kkb_publisher")
        with psycopg.connect(pg.dsn("postgres", SUPERUSER_PASSWORD, "kampung_kb"), autocommit=True) as admin:
            admin.execute("create schema internal; create table internal.rahasia as select 1 as x")
            admin.execute("create table public.rahasia as select 1 as x")
        mp.setenv("KKB_RAW_DIR", str(settings.raw_dir))
        mp.setenv("KKB_WAREHOUSE_DIR", str(settings.warehouse_dir))
        mp.setenv("KKB_PII_KEY", PII_KEY)
        mp.setenv("KKB_PG_DSN", pg.dsn("kkb_publisher", "terbit", "kampung_kb"))
        mp.setenv("KKB_PG_READER_PASSWORD", "baca-saja")
        first = run_nightly()
        snapshot = table_counts(settings)
        first_publication = published_id(settings.bi_dir / publish.SNAPSHOT_NAME)
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(settings.bi_dir / publish.SNAPSHOT_NAME)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert reader.stdout is not None and reader.stdin is not None
        assert json.loads(reader.stdout.readline()) == {"ready": True}
        second = run_nightly()
        reader.stdin.write("go\n")
        reader.stdin.flush()
        seen = json.loads(reader.stdout.readline())
        reader.wait(timeout=60)
        yield E2E(settings, truth, first, second, snapshot, seen, first_publication, pg)
