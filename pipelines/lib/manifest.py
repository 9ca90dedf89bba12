"""Exactly-once bookkeeping: which raw files exist, their content hash, and what became of each.

The manifest is a set of Parquet files `landing/_manifest/<entity>__<batch>.parquet`, one per committed ingest
batch. Writing it is the batch's commit: landing and quarantine folders of a batch without a manifest file are
leftovers of an interrupted run and are swept before the next one. A file is identified by its SHA-256, not its
name: the same content under another name is a duplicate, and content already seen is never loaded twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import Settings

SKIP_PREFIXES = (".", "~$", "_")  # hidden files, Excel lock files, our own markers
SKIP_SUFFIXES = (".tmp", ".part", ".crdownload")


@dataclass
class FileRecord:
    batch: str
    entity: str
    path: str  # relative to the raw dir, '/'-separated
    sha256: str
    size_bytes: int
    mtime_ns: int
    first_seen_at: dt.datetime
    status: str  # loaded | duplicate | rejected
    reason: str | None = None
    duplicate_of: str | None = None
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None
    unknown_columns: str | None = None
    aliased_headers: str | None = None


MANIFEST_SCHEMA = pa.schema(
    [
        ("batch", pa.string()), ("entity", pa.string()), ("path", pa.string()), ("sha256", pa.string()),
        ("size_bytes", pa.int64()), ("mtime_ns", pa.int64()), ("first_seen_at", pa.timestamp("us")),
        ("status", pa.string()), ("reason", pa.string()), ("duplicate_of", pa.string()),
        ("rows_read", pa.int64()), ("rows_landed", pa.int64()), ("rows_quarantined", pa.int64()),
        ("format", pa.string()), ("encoding", pa.string()), ("delimiter", pa.string()), ("header_row", pa.int64()),
        ("unknown_columns", pa.string()), ("aliased_headers", pa.string()),
    ]
)  # fmt: skip


def new_batch_id(now: dt.datetime) -> str:
    """Sortable and unique: 20261122T010000123456-3fa2."""
    return f"{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(2)}"


def discover(raw_dir: Path, folder: str) -> Iterator[Path]:
    """Every candidate file below raw/<folder>, at any depth, in a stable order."""
    root = raw_dir / folder
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(SKIP_PREFIXES) or name.endswith(SKIP_SUFFIXES):
                continue
            yield Path(dirpath) / name


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def manifest_path(settings: Settings, entity: str, batch: str) -> Path:
    return settings.manifest_dir / f"{entity}__{batch}.parquet"


def read_manifest(settings: Settings, entity: str | None = None) -> list[dict]:
    """All committed manifest rows (of one entity, or all), oldest batch first."""
    pattern = f"{entity}__*.parquet" if entity else "*__*.parquet"
    files = sorted(settings.manifest_dir.glob(pattern))
    if not files:
        return []
    con = duckdb.connect()
    try:
        rel = con.read_parquet([str(f) for f in files], union_by_name=True)
        cols = rel.columns
        return [dict(zip(cols, row, strict=True)) for row in rel.order("batch, path").fetchall()]
    finally:
        con.close()


def write_manifest(settings: Settings, entity: str, batch: str, records: list[FileRecord]) -> Path:
    """Commit a batch: write its manifest file atomically (temp file, fsync, rename)."""
    path = manifest_path(settings, entity, batch)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([asdict(r) for r in records], schema=MANIFEST_SCHEMA)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    tmp.replace(path)
    return path


def committed_batches(settings: Settings, entity: str) -> set[str]:
    return {p.name[len(entity) + 2 : -len(".parquet")] for p in settings.manifest_dir.glob(f"{entity}__*.parquet")}


def sweep_uncommitted(settings: Settings, entity: str) -> list[Path]:
    """Remove landing/quarantine batch folders that no manifest commits (an interrupted run), and staging."""
    keep = committed_batches(settings, entity)
    removed = []
    for root in (settings.landing_dir / entity, settings.quarantine_dir / entity):
        if not root.is_dir():
            continue
        for d in root.iterdir():
            if d.is_dir() and not d.name.startswith("_") and d.name not in keep:
                shutil.rmtree(d)
                removed.append(d)
    staging = settings.warehouse_dir / ".staging" / entity
    if staging.exists():
        shutil.rmtree(staging)
        removed.append(staging)
    return removed
