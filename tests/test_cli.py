"""Command-line care: a failed `kkb run` says which step failed and why, in words that say what to do."""

from __future__ import annotations

import re

from click.testing import CliRunner

from pipelines.cli import main
from tests.kkbpk_files import csv_row, write_csv


def test_a_failed_run_names_the_step_and_the_reason(folders, monkeypatch, tmp_path):
    for name, value in {
        "KKB_RAW_DIR": str(folders.raw_dir),
        "KKB_WAREHOUSE_DIR": str(folders.warehouse_dir),
        "DAGSTER_HOME": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("KKB_PII_KEY", raising=False)
    monkeypatch.delenv("KKB_DEMO", raising=False)
    write_csv(folders.raw_dir / "kampung_kb" / "laporan_bulanan" / "a.csv", [csv_row(1)])
    done = CliRunner().invoke(main, ["run"])
    assert done.exit_code == 1
    failed = done.output.split("the run failed:", 1)[1]
    assert re.search(r"^  ingest_\w+: KKB_PII_KEY is not set\.", failed, re.M)  # the step, then the reason
    assert "set KKB_PII_KEY" in failed or "KKB_DEMO" in failed  # and what to do
    assert "Traceback" not in failed
