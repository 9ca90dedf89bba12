"""Exactly-once bookkeeping: which raw files exist, their content hash, and what became of each.

The manifest is a set of Parquet files `landing/_manifest/<entity>__<batch>.parquet`, one per committed ingest
batch. Writing it is the batch's commit: landing and quarantine folders of a batch without a manifest file are
leftovers of an interrupted run and are swept before the next one. A file is identified by its SHA-256, not its
name: the same content under another name is a duplicate, and content already seen is never loaded twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import Settings
from pipelines.lib import duck
from pipelines.lib.periods import folder_name

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
    status: str  # loaded | duplicate | rejected (a loaded file may have no rows: `note` says so)
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
    periods: str | None = None  # the periods of its rows ("2024-02, 2024-03"); rebuilding a period reads these files
    line_ends: str | None = None  # text files: LF, CRLF, CR or mixed
    sheets: str | None = None  # workbooks: each sheet, read or not and why
    rows_skipped: int = 0  # rows that are not data (totals, examples, below a workbook's table): not rows read
    skipped_rows: str | None = None  # which, and why ("row 15: totals row; rows 20-23: below the table ...")
    skipped: list[dict] | None = None  # the same, one {"sheet", "row", "reason"} per row (for programs)
    note: str | None = None  # e.g. "header only: no rows"
    wilayah: str | None = None  # the kabupaten/kota its rows name first ('19.01'): the delivery it belongs to


MANIFEST_SCHEMA = pa.schema(
    [
        ("batch", pa.string()), ("entity", pa.string()), ("path", pa.string()), ("sha256", pa.string()),
        ("size_bytes", pa.int64()), ("mtime_ns", pa.int64()), ("first_seen_at", pa.timestamp("us")),
        ("status", pa.string()), ("reason", pa.string()), ("duplicate_of", pa.string()),
        ("rows_read", pa.int64()), ("rows_landed", pa.int64()), ("rows_quarantined", pa.int64()),
        ("format", pa.string()), ("encoding", pa.string()), ("delimiter", pa.string()), ("header_row", pa.int64()),
        ("unknown_columns", pa.string()), ("aliased_headers", pa.string()), ("periods", pa.string()),
        ("line_ends", pa.string()), ("sheets", pa.string()), ("rows_skipped", pa.int64()),
        ("skipped_rows", pa.string()), ("note", pa.string()), ("wilayah", pa.string()),
        ("skipped", pa.list_(pa.struct([("sheet", pa.string()), ("row", pa.int64()), ("reason", pa.string())]))),
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
    con = duck.connect()
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
    """Ingest batches (a manifest file) and period rebuilds (a rebuild record) that committed."""
    files = {p.name[len(entity) + 2 : -len(".parquet")] for p in settings.manifest_dir.glob(f"{entity}__*.parquet")}
    return files | {r["batch"] for r in read_rebuilds(settings, entity)}


# A period rebuild (pipelines/lib/rebuild.py) writes the period's rows afresh in a batch folder of its own and commits
# with a record landing/_rebuilds/<entity>__<batch>.json. The record is also the instruction to delete that period's
# folders from the batches it names (those holding the period when it ran): done right after the commit, and again
# (idempotently) before every later batch, so a run killed in between finishes the job next time.


def rebuilds_dir(settings: Settings) -> Path:
    return settings.landing_dir / "_rebuilds"


def write_rebuild(settings: Settings, entity: str, record: dict) -> Path:
    path = rebuilds_dir(settings) / f"{entity}__{record['batch']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    tmp.replace(path)
    return path


def read_rebuilds(settings: Settings, entity: str) -> list[dict]:
    """The committed rebuild records of an entity, oldest first."""
    files = sorted(rebuilds_dir(settings).glob(f"{entity}__*.json"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in files]


def apply_rebuilds(settings: Settings, entity: str) -> list[Path]:
    """Delete the period folders that a committed rebuild replaced (in the batches it names). Idempotent."""
    removed = []
    for record in read_rebuilds(settings, entity):
        names = [folder_name(p) for p in record["periods"]]
        for root in (settings.landing_dir / entity, settings.quarantine_dir / entity):
            for batch in (root / b for b in record["replaces"]):
                if not batch.is_dir():
                    continue
                for name in names:
                    if (batch / name).is_dir():
                        shutil.rmtree(batch / name)
                        removed.append(batch / name)
                if not any(batch.iterdir()):
                    batch.rmdir()  # every period of it was rebuilt elsewhere; its manifest file stays
    return removed


def sweep_uncommitted(settings: Settings, entity: str) -> list[Path]:
    """Remove landing/quarantine batch folders that no manifest commits (an interrupted run), and staging."""
    keep = committed_batches(settings, entity)
    removed = apply_rebuilds(settings, entity)
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


def batches_holding(settings: Settings, entity: str, periods: list[str]) -> list[str]:
    """The committed batches with a folder of any of these periods, in landing or quarantine."""
    names = [folder_name(p) for p in periods]
    found = set()
    for root in (settings.landing_dir / entity, settings.quarantine_dir / entity):
        if root.is_dir():
            found |= {
                d.name for d in root.iterdir() if not d.name.startswith("_") and any((d / n).is_dir() for n in names)
            }
    return sorted(found)
