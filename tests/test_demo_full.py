"""The whole demo dataset of `make run` (province 19, twelve months, seed 7, full size: 1.5 million people),
ingested entity by entity: every raw row is accounted for and every count equals the generator's ground truth.

About a minute and a half; the reduced end-to-end test (test_e2e.py) covers Dagster and dbt on the same kinds of data.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from pipelines.config import Settings
from pipelines.lib.entities import ENTITIES
from pipelines.lib.ingest import ingest_entity
from pipelines.synth import synthesize
from tests.conftest import TEST_KEY, TODAY

DEMO = {"provinsi": "19", "months": [(2024, m) for m in range(1, 13)], "seed": 7}  # as in the Makefile


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    settings = Settings(raw_dir=root / "raw", warehouse_dir=root / "warehouse")
    synthesize(settings.raw_dir, **DEMO)
    truth = json.loads((settings.raw_dir / "ground_truth.json").read_text())
    reports = {name: ingest_entity(entity, settings, TEST_KEY, today=TODAY) for name, entity in ENTITIES.items()}
    return settings, truth, reports


def _count(files: list[str], sql: str = "count(*)") -> int:
    return duckdb.sql(f"select {sql} from read_parquet({files!r}, union_by_name=true)").fetchone()[0] if files else 0


@pytest.mark.parametrize("name", list(ENTITIES))
def test_every_row_of_the_demo_is_accounted_for(demo, name):
    settings, truth, reports = demo
    t, report = truth["entities"][name], reports[name]
    dupes = report.files_with("duplicate")
    assert len(report.files) == t["files_written"]
    assert (len(dupes), len(report.files_with("rejected"))) == (
        t["files_duplicate_expected"],
        t["files_rejected_expected"],
    )
    assert report.rows_landed == t["rows_valid_expected"]
    assert report.rows_quarantined == t["rows_quarantined_expected"]
    assert sum(f.rows_read for f in dupes) == t["rows_in_duplicate_files"]
    skipped = sum(f.rows_skipped for f in report.files)  # totals rows, examples, signature blocks: not data
    assert skipped == t["rows_skipped_expected"]
    assert report.rows_read + report.rows_duplicate + t["rows_in_rejected_files"] + skipped == t["rows_written"]
    assert report.rows_superseded_total == t["rows_superseded_expected"]
    landed = [str(p) for p in (settings.landing_dir / name).rglob("*.parquet")]
    assert _count(landed) == t["rows_valid_expected"]
    quarantine = [str(p) for p in (settings.quarantine_dir / name).rglob("*.parquet") if "_schema" not in p.parts]
    rules = duckdb.sql(
        f"select rule, count(*) from (select unnest(failed_rules) as rule from read_parquet({quarantine!r})) group by 1"
    ).fetchall()
    assert dict(rules) == t["rules_expected"]
    if name == "kkbpk_bulanan":  # row by row: landed (with its submission date and source), quarantined, skipped
        expected = t["expected_rows"]
        got = {
            (f, sh, r): (d.isoformat(), src)
            for f, sh, r, d, src in duckdb.sql(
                f"select _file, _sheet, _row, tanggal_lapor, tanggal_lapor_sumber from read_parquet({landed!r}, "
                "union_by_name = true) where _file is not null"
            ).fetchall()
        }
        want = {
            (r["file"], r["sheet"], r["row"]): (r["tanggal_lapor"], r["tanggal_lapor_sumber"])
            for r in expected
            if r["outcome"] == "landed"
        }
        assert got == want
        skipped_at = {(f.path, x["sheet"], x["row"]) for f in report.files for x in (f.skipped or [])}
        assert skipped_at == {(r["file"], r["sheet"], r["row"]) for r in expected if r["outcome"] == "skipped"}
