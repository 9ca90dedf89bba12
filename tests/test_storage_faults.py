"""The warehouse folder read-only or its disk full: the step fails at once with a sentence an operator understands,
nothing is committed, and the raw files are untouched. Real conditions, not mocks: an immutable folder (chattr +i,
which stops root too) and a 4 MiB tmpfs mounted on the warehouse folder (needs root, as the tests run here)."""

import hashlib
import os
import subprocess

import dagster as dg
import pytest

from pipelines.config import Settings
from pipelines.definitions import defs
from pipelines.lib import manifest as mf
from pipelines.synth import synthesize

POSYANDU = dg.AssetKey(["landing", "posyandu"])
REFERENCE = dg.AssetKey(["reference", "wilayah"])


def raw_hashes(settings: Settings) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(settings.raw_dir.rglob("*")) if p.is_file()
    }


@pytest.fixture
def folders_with_raw(tmp_path, monkeypatch) -> Settings:
    s = Settings(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "warehouse")
    synthesize(s.raw_dir, provinsi="19", months=[(2024, 1)], seed=3, scale=0.01)
    s.warehouse_dir.mkdir()
    monkeypatch.setenv("KKB_RAW_DIR", str(s.raw_dir))
    monkeypatch.setenv("KKB_WAREHOUSE_DIR", str(s.warehouse_dir))
    monkeypatch.setenv("KKB_PII_KEY", "storage-test-key-0123456789")
    monkeypatch.setenv("KKB_RETRY_DELAY_S", "0")
    return s


def materialize(*keys):
    assets = [defs.resolve_assets_def(k) for k in keys]
    return dg.materialize(assets, selection=list(keys), raise_on_error=False)


def failure_message(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "expected a failed step"
    return str(failures[0].step_failure_data.error.message)


def test_a_read_only_warehouse_folder_fails_at_once_in_plain_words(folders_with_raw):
    s = folders_with_raw
    before = raw_hashes(s)
    if subprocess.run(["chattr", "+i", str(s.warehouse_dir)], capture_output=True).returncode:
        pytest.skip("chattr +i is not supported on this file system")  # written down in the README limits
    try:
        result = materialize(REFERENCE, POSYANDU)
    finally:
        subprocess.run(["chattr", "-i", str(s.warehouse_dir)], check=True)
    assert not result.success
    message = failure_message(result)
    assert "warehouse folder is not writable" in message and "raw files are untouched" in message
    assert "STEP_UP_FOR_RETRY" not in [e.event_type_value for e in result.all_events]  # a retry cannot fix it
    assert raw_hashes(s) == before
    assert list(s.warehouse_dir.iterdir()) == []


@pytest.fixture
def small_disk(folders_with_raw):
    s = folders_with_raw
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(s.warehouse_dir)], capture_output=True, text=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()})")  # written down in the README
    yield s
    subprocess.run(["umount", "-l", str(s.warehouse_dir)], check=True)


def test_a_full_disk_is_refused_before_writing(small_disk, monkeypatch):
    s = small_disk
    before = raw_hashes(s)
    result = materialize(REFERENCE, POSYANDU)  # 4 MiB free < KKB_MIN_FREE_MB (200 by default)
    message = failure_message(result)
    assert "warehouse disk is full" in message and "MiB free" in message and "KKB_MIN_FREE_MB" in message
    assert raw_hashes(s) == before


def fill_leaving(path, leave: int) -> None:
    """Fill the file system until it is full, then give back `leave` bytes."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
        size = os.fstat(f.fileno()).st_size
        f.truncate(max(0, size - leave))


def test_a_disk_that_fills_up_mid_ingest_commits_nothing(small_disk, monkeypatch):
    s = small_disk
    monkeypatch.setenv("KKB_MIN_FREE_MB", "0")
    assert materialize(REFERENCE).success  # the region list fits (about 1.5 MB)
    fill_leaving(s.warehouse_dir / "filler", leave=16 * 1024)  # the posyandu batch needs more than this
    before = raw_hashes(s)
    result = materialize(POSYANDU)
    message = failure_message(result)
    assert "warehouse disk is full" in message and "Nothing of this batch was committed" in message
    assert "MiB free" not in message  # a real ENOSPC while writing, not the check before
    assert raw_hashes(s) == before
    assert mf.read_manifest(s, "posyandu") == []  # no manifest: the batch does not exist for dbt or a re-run


def test_only_problems_of_the_warehouse_folder_are_called_storage_problems(tmp_path):
    import errno

    from pipelines.lib.storage import storage_problem

    warehouse = tmp_path / "warehouse"
    inside = PermissionError(errno.EACCES, "Permission denied", str(warehouse / "landing" / "x.parquet"))
    raw = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "raw" / "laporan.csv"))
    assert "not writable" in storage_problem(inside, warehouse)
    assert storage_problem(raw, warehouse) is None  # an unreadable raw file is not the warehouse's fault
    assert "disk is full" in storage_problem(OSError(errno.ENOSPC, "No space left on device"), warehouse)
