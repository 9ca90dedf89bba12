"""Fault injection: the pipeline process is killed (SIGKILL, the whole process group, as a power cut would) in the
middle of ingestion, of the dbt build and of the publication; after a clean re-run the warehouse equals that of a
run that was never interrupted, and BI tools could read the previous snapshot throughout.

Each run is a real `kkb run` subprocess on generated data (2 % of Bangka Belitung, two months delivered in two
drops), with KKB_FAULT naming the point where it dies (pipelines/lib/faults.py).
"""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.config import REPO_ROOT
from pipelines.lib import publish
from pipelines.synth import synthesize
from tests.e2e_run import published_id
from tests.kkbpk_files import csv_row, write_csv

KKB = str(Path(sys.executable).with_name("kkb"))
# columns that record when or in which batch something was processed, not what it is
VOLATILE = {"_batch", "_ingested_at", "first_seen_at", "batch"}


def split_drops(source: Path, first: Path, second: Path) -> None:
    """February's files arrive in a second drop; everything else in the first."""
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = path.relative_to(source)
        target = second if ("202402" in str(rel) or "2024-02" in str(rel)) else first
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / rel)


def add_drop(drop: Path, raw: Path) -> None:
    shutil.copytree(drop, raw, dirs_exist_ok=True)


def kkb_run(root: Path, fault: str | None = None, args: tuple[str, ...] = ("run",)) -> subprocess.CompletedProcess:
    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "KKB_RAW_DIR": str(root / "raw"),
        "KKB_WAREHOUSE_DIR": str(root / "warehouse"),
        "KKB_PII_KEY": "fault-test-key-0123456789",
        "DAGSTER_HOME": str(home),
        "KKB_RETRY_DELAY_S": "1",
    }
    env.pop("KKB_PG_DSN", None)
    if fault:
        env["KKB_FAULT"] = fault
    return subprocess.run(
        [KKB, *args], env=env, capture_output=True, text=True, start_new_session=True, timeout=300
    )  # a new process group, so the fault kills the run and its dbt child, never pytest


def fingerprint(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Rows and an order-independent hash of every table's content (volatile columns left out)."""
    con = duckdb.connect(str(warehouse / "kampung_kb.duckdb"), read_only=True)
    try:
        tables = [r[0] for r in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        out = {}
        for t in tables:
            cols = [r[0] for r in con.execute(f'describe "{t}"').fetchall() if r[0] not in VOLATILE]
            expr = ", ".join(f'"{c}"' for c in cols)
            out[t] = con.execute(f'select count(*), coalesce(sum(hash({expr})), 0) from "{t}"').fetchone()
        return out
    finally:
        con.close()


def snapshot_id(warehouse: Path) -> str:
    return published_id(warehouse / "bi" / publish.SNAPSHOT_NAME)


def bi_fingerprint(warehouse: Path) -> dict:
    con = duckdb.connect(str(warehouse / "bi" / publish.SNAPSHOT_NAME), read_only=True)
    try:
        return {
            t: con.execute(f"select count(*), coalesce(sum(hash(columns(*))), 0) from {t}").fetchone()
            for t in publish.BI_TABLES
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def drops(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("faults")
    synthesize(root / "generated", provinsi="19", months=[(2024, 1), (2024, 2)], seed=23, scale=0.02)
    split_drops(root / "generated", root / "drop1", root / "drop2")
    return root / "drop1", root / "drop2"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, drops) -> Path:
    root = tmp_path_factory.mktemp("clean")
    add_drop(drops[0], root / "raw")
    assert kkb_run(root).returncode == 0
    add_drop(drops[1], root / "raw")
    done = kkb_run(root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root / "warehouse"


@pytest.mark.slow
def test_killed_mid_ingest_mid_dbt_and_mid_publish_then_rerun_equals_an_uninterrupted_run(
    tmp_path, drops, uninterrupted
):
    root = tmp_path
    add_drop(drops[0], root / "raw")
    first = kkb_run(root)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    warehouse = root / "warehouse"
    before = snapshot_id(warehouse)
    add_drop(drops[1], root / "raw")

    observed = {}
    for i, fault in enumerate(("ingest:after_move:kkbpk_bulanan", "dbt:after_events:40", "publish:after_build")):
        killed = kkb_run(root, fault)
        assert killed.returncode == -signal.SIGKILL, (fault, killed.returncode, killed.stderr[-3000:])
        # the run killed before was found dead, marked failed and its warehouse pool slot freed
        assert i == 0 or "had died mid-way" in killed.stdout, (fault, killed.stdout[-2000:])
        # BI tools could read the previous snapshot all along, and still can
        assert snapshot_id(warehouse) == before, fault
        observed[fault] = sorted(p.name for p in (warehouse / "bi" / "history").iterdir())
    # the killed publication left its half-made file; BI tools never saw it
    assert any(name.endswith(".tmp.duckdb") for name in observed["publish:after_build"])

    final = kkb_run(root)
    assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
    assert "had died mid-way" in final.stdout
    assert snapshot_id(warehouse) != before
    assert not list((warehouse / "bi" / "history").glob(".*.tmp.duckdb*"))
    assert fingerprint(warehouse) == fingerprint(uninterrupted)
    assert bi_fingerprint(warehouse) == bi_fingerprint(uninterrupted)
    # every raw row is still accounted for: nothing from the killed batch was committed twice or lost
    for where in ("landing", "quarantine"):
        got = duckdb.sql(
            f"select count(*) from read_parquet('{warehouse / where}/**/*.parquet', union_by_name=true)"
        ).fetchone()
        want = duckdb.sql(
            f"select count(*) from read_parquet('{uninterrupted / where}/**/*.parquet', union_by_name=true)"
        ).fetchone()
        assert got == want, where


def rpt_rows(warehouse: Path, table: str) -> dict[tuple, tuple]:
    con = duckdb.connect(str(warehouse / "kampung_kb.duckdb"), read_only=True)
    try:
        rel = con.sql(f"select * from {table}")
        key = (
            0
            if table == "rpt_kampung_kb_bulanan"
            else rel.columns.index("kode_desa" if "desa" in table else rel.columns[0])
        )
        periode = rel.columns.index("periode_key")
        return {(r[key], r[periode]): r for r in rel.fetchall()}
    finally:
        con.close()


@pytest.mark.slow
def test_a_late_corrected_report_for_an_old_month_changes_only_that_month(tmp_path, uninterrupted):
    root = tmp_path
    for part in ("raw", "warehouse", "dagster_home"):
        shutil.copytree(uninterrupted.parent / part, root / part, symlinks=True)
    con = duckdb.connect(str(root / "warehouse" / "kampung_kb.duckdb"), read_only=True)
    kkb_id, kode_desa = con.execute(
        "select kampung_kb_id, kode_desa from fct_kkbpk_bulanan where periode_key = 202401 and jml_pus <> 29 "
        "order by 1 limit 1"
    ).fetchone()
    con.close()
    before = {t: rpt_rows(root / "warehouse", t) for t in ("rpt_desa_bulanan", "rpt_kabupaten_bulanan")}
    # in March, the Kampung KB sends a corrected January report (29 PUS = 7 users + 2 + 20 non-users: every rule
    # passes)
    write_csv(
        root / "raw" / "kampung_kb" / "laporan_bulanan" / "portal" / "koreksi_202401_terlambat.csv",
        [csv_row(kkb_id, kode=kode_desa, tanggal="15/03/2024", bulan=1, jml_pus=29, non_kb_iat=20)],
    )
    done = kkb_run(root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    after = {t: rpt_rows(root / "warehouse", t) for t in before}
    for table, rows in after.items():
        changed = {k for k in rows if rows[k] != before[table].get(k)}
        assert changed, table
        assert {periode for _, periode in changed} == {202401}, (table, changed)  # no other month moved
    desa = after["rpt_desa_bulanan"]
    assert {k for k in desa if desa[k] != before["rpt_desa_bulanan"][k]} == {(kode_desa, 202401)}


@pytest.mark.slow
def test_a_month_rebuilt_from_raw_killed_once_on_the_way_leaves_the_warehouse_as_it_was(tmp_path, uninterrupted):
    """`kkb rebuild` (= materialising partitions in the UI): under unchanged rules, rebuilding January and February
    from raw, through the models and the publication, changes no figure, even when the first attempt is killed."""
    root = tmp_path
    for part in ("raw", "warehouse", "dagster_home"):
        shutil.copytree(uninterrupted.parent / part, root / part, symlinks=True)
    warehouse = root / "warehouse"
    rebuild = ("rebuild", "kkbpk_bulanan", "2024-01", "2024-02")
    killed = kkb_run(root, "rebuild:after_record:kkbpk_bulanan", rebuild)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    done = kkb_run(root, None, rebuild)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "had died mid-way" in done.stdout
    assert "kkbpk_bulanan 2024-01..2024-02:" in done.stdout
    assert fingerprint(warehouse) == fingerprint(uninterrupted)
    assert bi_fingerprint(warehouse) == bi_fingerprint(uninterrupted)
    months = sorted(p.name for p in (warehouse / "landing" / "kkbpk_bulanan").glob("*/bulan-*"))
    assert months == ["bulan-2024-01", "bulan-2024-02"]  # one folder per month: the replaced ones are gone
