"""Shared fixtures. Tests never touch the repo's raw/ or warehouse/: each gets folders under tmp_path."""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
# files written by a test are read at once (the settle time, for files still being copied, has its own test)
os.environ.setdefault("KKB_SETTLE_SECONDS", "0")

import datetime as dt  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from pipelines.config import Settings  # noqa: E402

TEST_KEY = b"test-key-0123456789abcdef"
TODAY = dt.date(2026, 11, 22)


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory):
    """The whole pipeline on generated data, run once for the session (tests/e2e_run.py)."""
    from tests.e2e_run import run_e2e

    yield from run_e2e(tmp_path_factory)


@pytest.fixture
def folders(tmp_path: Path) -> Settings:
    s = Settings(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "warehouse")
    s.raw_dir.mkdir()
    s.warehouse_dir.mkdir()
    return s
