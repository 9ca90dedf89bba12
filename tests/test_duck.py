"""The DuckDB memory limit (KKB_DUCKDB_MEMORY) reaches every connection the pipeline opens and dbt's profile."""

from __future__ import annotations

import pytest

from pipelines.config import ConfigError, duckdb_memory_limit, settings
from pipelines.lib import duck


def limit_of(con) -> str:
    return con.execute("select current_setting('memory_limit')").fetchone()[0]


def test_default_and_configured_limits(monkeypatch, tmp_path):
    monkeypatch.setenv("KKB_WAREHOUSE_DIR", str(tmp_path))
    monkeypatch.delenv("KKB_DUCKDB_MEMORY", raising=False)
    assert duckdb_memory_limit() == "2GB"
    monkeypatch.setenv("KKB_DUCKDB_MEMORY", "700MB")
    with duck.connect(tmp_path / "x.duckdb") as con:
        assert limit_of(con) in ("667.5 MiB", "700.0 MB")  # DuckDB reports it in its own unit
        assert con.execute("select current_setting('temp_directory')").fetchone()[0] == str(settings().duckdb_temp_dir)
    cur, con = duck.scratch(), duck.connect()
    try:
        assert limit_of(cur) == limit_of(con)
    finally:
        cur.close()
        con.close()
    assert settings().dbt_env()["KKB_DUCKDB_MEMORY"] == "700MB"


@pytest.mark.parametrize("bad", ["lots", "2", "-1GB", "2 GB; drop table x"])
def test_a_bad_limit_is_refused_with_what_to_write(monkeypatch, bad):
    monkeypatch.setenv("KKB_DUCKDB_MEMORY", bad)
    with pytest.raises(ConfigError, match="such as 2GB"):
        duckdb_memory_limit()
