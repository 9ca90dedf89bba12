"""`dbt build` of the first warehouse slice on a hand-checked landing fixture.

Runs the real dbt CLI in a subprocess against a temporary warehouse (KKB_WAREHOUSE_DIR=tmp dir; target and log
paths inside it too, so parallel runs never share files), then reads the DuckDB file and compares the marts with
the values the fixture worked out by hand. The build itself runs every data test and dbt unit test of the project.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

try:  # tests/ as a package (tests/__init__.py present) or as a plain folder on sys.path (pytest's rootdir insert)
    from tests.fixtures.landing import write_landing_fixture
except ImportError:  # pragma: no cover - depends on how the test tree is laid out
    from fixtures.landing import write_landing_fixture

REPO_ROOT = Path(__file__).resolve().parents[1]
RPT_COLUMNS = [
    "kode_kab", "nama_kab", "tahun", "bulan", "periode_key", "jumlah_laporan",
    "jml_pus", "pa_total", "pa_mkjp", "non_kb_unmet", "cpr", "mkjp", "unmet_need",
]  # fmt: skip


def _dbt_executable() -> str:
    """The dbt of the running interpreter's environment (the project venv), else the one on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if found is None:
        pytest.skip("dbt is not installed")
    return found


def run_dbt(args: list[str], warehouse_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KKB_WAREHOUSE_DIR": str(warehouse_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [
        _dbt_executable(),
        *args,
        "--project-dir", "dbt_project",
        "--profiles-dir", "dbt_project",
        "--target-path", str(warehouse_dir / "dbt_target"),
        "--log-path", str(warehouse_dir / "dbt_logs"),
        "--no-use-colors",
    ]  # fmt: skip
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    warehouse_dir = tmp_path_factory.mktemp("warehouse")
    expected = write_landing_fixture(warehouse_dir)

    started = time.perf_counter()
    result = run_dbt(["build"], warehouse_dir)
    elapsed = time.perf_counter() - started
    print(f"dbt build on the fixture took {elapsed:.1f} s")
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-8000:]}\n{result.stderr[-4000:]}"
    assert "Completed successfully" in result.stdout
    return warehouse_dir, expected


def _query(warehouse_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse_dir / "kampung_kb.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def _same(actual: Any, expected: Any) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, float):
        return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-12)
    return actual == expected


def test_rpt_kabupaten_bulanan_matches_hand_computed_values(built_warehouse: tuple[Path, dict[str, Any]]) -> None:
    warehouse_dir, expected = built_warehouse
    rows = _query(
        warehouse_dir,
        f"select {', '.join(RPT_COLUMNS)} from rpt_kabupaten_bulanan where jumlah_laporan > 0"
        " order by kode_kab, periode_key",
    )
    actual = [dict(zip(RPT_COLUMNS, row, strict=True)) for row in rows]
    want = sorted(expected["rpt_kabupaten_bulanan"], key=lambda r: (r["kode_kab"], r["periode_key"]))
    assert len(actual) == len(want)
    for got, exp in zip(actual, want, strict=True):
        mismatched = {col: (got[col], exp[col]) for col in RPT_COLUMNS if not _same(got[col], exp[col])}
        assert not mismatched, f"{exp['kode_kab']} {exp['periode_key']}: (actual, expected) {mismatched}"


def test_zero_pus_gives_null_indicators_not_zero(built_warehouse: tuple[Path, dict[str, Any]]) -> None:
    warehouse_dir, _ = built_warehouse
    rows = _query(
        warehouse_dir,
        "select cpr, mkjp, unmet_need from rpt_kabupaten_bulanan where jml_pus = 0 and jumlah_laporan > 0",
    )
    assert rows == [(None, None, None)]
    # the other kabupaten/kota of the province are there too, with nothing reported (zeros, NULL indicators)
    silent = _query(warehouse_dir, "select count(*), max(jumlah_laporan), max(cpr) from rpt_kabupaten_bulanan"
                    " where jumlah_laporan = 0")  # fmt: skip
    assert silent[0][0] > 0 and silent[0][1:] == (0, None)


def test_dim_wilayah_holds_every_desa_kelurahan(built_warehouse: tuple[Path, dict[str, Any]]) -> None:
    warehouse_dir, expected = built_warehouse
    [(n_rows, n_keys)] = _query(warehouse_dir, "select count(*), count(distinct wilayah_key) from dim_wilayah")
    assert n_rows == expected["dim_wilayah_rows"] == 83_762
    assert n_keys == n_rows


def test_latest_submission_wins_and_superseded_stays_traceable(
    built_warehouse: tuple[Path, dict[str, Any]],
) -> None:
    warehouse_dir, expected = built_warehouse
    [(n_submissions,)] = _query(warehouse_dir, "select count(*) from stg_landing__kkbpk_bulanan_submissions")
    [(n_fct,)] = _query(warehouse_dir, "select count(*) from fct_kkbpk_bulanan")
    assert n_submissions == expected["submission_rows"]
    assert n_fct == expected["fct_kkbpk_bulanan_rows"]

    superseded = _query(
        warehouse_dir,
        """
        select kampung_kb_id, tahun, bulan, _file, superseded_by_file
        from stg_landing__kkbpk_bulanan_submissions
        where not is_latest
        order by kampung_kb_id, tahun, bulan
        """,
    )
    assert superseded == expected["superseded"]
    # the fact carries the winning submission's lineage, not the superseded one
    for kampung_kb_id, tahun, bulan, old_file, new_file in superseded:
        [(fct_file,)] = _query(
            warehouse_dir,
            f"select _file from fct_kkbpk_bulanan where kampung_kb_id = {kampung_kb_id} "
            f"and tahun = {tahun} and bulan = {bulan}",
        )
        assert fct_file == new_file != old_file


def test_is_tepat_waktu(built_warehouse: tuple[Path, dict[str, Any]]) -> None:
    warehouse_dir, expected = built_warehouse
    rows = _query(warehouse_dir, "select kampung_kb_id, periode_key, is_tepat_waktu from fct_kkbpk_bulanan")
    assert {(k, p): flag for k, p, flag in rows} == expected["is_tepat_waktu"]


def test_other_staging_and_dimensions(built_warehouse: tuple[Path, dict[str, Any]]) -> None:
    warehouse_dir, expected = built_warehouse
    [(n_keluarga,)] = _query(warehouse_dir, "select count(*) from stg_landing__pk_keluarga")
    [(n_manifest,)] = _query(warehouse_dir, "select count(*) from stg_landing__manifest")
    [(n_kampung_kb, n_current)] = _query(
        warehouse_dir, "select count(*), count(*) filter (where is_current) from dim_kampung_kb"
    )
    [(n_periode, first, last)] = _query(
        warehouse_dir, "select count(*), min(periode_key), max(periode_key) from dim_periode"
    )
    assert n_keluarga == expected["pk_keluarga_rows"]
    assert n_manifest == expected["manifest_rows"]
    # one current version per Kampung KB; 4101 also has older versions (profile history)
    assert n_kampung_kb == expected["dim_kampung_kb_rows"]
    assert n_current == expected["dim_kampung_kb_current"]
    assert (n_periode, first, last) == (180, 201601, 203012)


KLASIFIKASI_COLUMNS = [
    "kampung_kb_id", "periode_key", "skor_pokja", "skor_sumber_dana", "skor_poktan", "skor_sarana",
    "skor_pendamping_regulasi", "skor_input", "skor_sumber_data", "skor_mekanisme", "skor_instansi", "skor_proses",
    "cpr", "mkjp", "unmet_need", "skor_partisipasi", "skor_cpr", "skor_mkjp", "skor_unmet_need", "skor_output",
    "klasifikasi",
]  # fmt: skip


def test_dim_kampung_kb_scd2_from_profile_history(built_warehouse: tuple[Path, dict[str, Any]]) -> None:
    warehouse_dir, expected = built_warehouse
    rows = _query(
        warehouse_dir,
        """
        select version_number, sumber, valid_from, valid_to, is_current, pokja_jumlah, rumah_dataku_ada
        from dim_kampung_kb where kampung_kb_id = 4101 order by valid_from
        """,
    )
    assert rows == expected["dim_kampung_kb_4101"]
    # the Kampung KB without a profile keep one version derived from their reports
    [(n_laporan,)] = _query(
        warehouse_dir, "select count(*) from dim_kampung_kb where sumber = 'laporan' and kampung_kb_id <> 4101"
    )
    assert n_laporan == 4
    # each report points to the version valid in its month
    versions = _query(
        warehouse_dir,
        """
        select f.periode_key, d.version_number
        from fct_kkbpk_bulanan as f inner join dim_kampung_kb as d using (kampung_kb_key)
        where f.kampung_kb_id = 4101
        """,
    )
    assert dict(versions) == expected["fct_kkbpk_bulanan_4101_version"]


def test_fct_intervensi_and_bridges(built_warehouse: tuple[Path, dict[str, Any]]) -> None:
    warehouse_dir, expected = built_warehouse
    rows = _query(
        warehouse_dir,
        """
        select
            i.intervensi_id, d.version_number, i.periode_key,
            (select count(*) from bridge_intervensi_instansi as b where b.intervensi_key = i.intervensi_key),
            (select count(*) from bridge_intervensi_sasaran as b where b.intervensi_key = i.intervensi_key)
        from fct_intervensi as i inner join dim_kampung_kb as d using (kampung_kb_key)
        """,
    )
    assert {r[0]: r[1:] for r in rows} == expected["fct_intervensi"]


def test_fct_kampung_kb_klasifikasi_matches_hand_computed_scores(
    built_warehouse: tuple[Path, dict[str, Any]],
) -> None:
    warehouse_dir, expected = built_warehouse
    [(n_rows,)] = _query(warehouse_dir, "select count(*) from fct_kampung_kb_klasifikasi")
    assert n_rows == expected["klasifikasi_rows"]
    for want in expected["klasifikasi"]:
        [row] = _query(
            warehouse_dir,
            f"select {', '.join(KLASIFIKASI_COLUMNS)} from fct_kampung_kb_klasifikasi "
            f"where kampung_kb_id = {want['kampung_kb_id']} and periode_key = {want['periode_key']}",
        )
        got = dict(zip(KLASIFIKASI_COLUMNS, row, strict=True))
        mismatched = {c: (got[c], want[c]) for c in KLASIFIKASI_COLUMNS if not _same(got[c], want[c])}
        assert not mismatched, f"{want['kampung_kb_id']} {want['periode_key']}: (actual, expected) {mismatched}"
