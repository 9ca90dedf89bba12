"""DuckDB connections with the pipeline's memory limit (KKB_DUCKDB_MEMORY) and spill folder, so that no query,
however large the data, takes the machine's memory (issue 8: at most 4 GiB for the whole run)."""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb

from pipelines.config import duckdb_memory_limit, settings


def connect(path: Path | str | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory (path None) or file connection; memory limit and temp directory set."""
    con = duckdb.connect(str(path) if path is not None else ":memory:", read_only=read_only)
    temp = settings().duckdb_temp_dir
    con.execute(f"set memory_limit = '{duckdb_memory_limit()}'")
    con.execute("set temp_directory = ?", [str(temp)])
    return con


@functools.cache
def _scratch_database(memory_limit: str, temp_dir: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(f"set memory_limit = '{memory_limit}'")
    con.execute("set temp_directory = ?", [temp_dir])
    return con


def scratch() -> duckdb.DuckDBPyConnection:
    """A cursor on the process's in-memory scratch database, for vectorised work on frames in hand (typing, rules,
    pseudonyms): opening a connection costs ~10 ms, a cursor ~5 µs, and ingestion asks for one per chunk and
    column. Views registered on a cursor are its own; close it when done."""
    return _scratch_database(duckdb_memory_limit(), str(settings().duckdb_temp_dir)).cursor()
