"""Rebuild periods (months, PK years) of an entity from the raw files, with the rules as they are now.

What it is for: a rule was corrected, a code list or a lookup grew (an activity post quarantined because its Kampung
KB profile had not arrived yet lands once the profile is in), a backfill month needs redoing. The files read are those
the manifest says were loaded and hold rows of the period. Each rebuilt row keeps the lineage of its first load
(batch, time), so a rebuild under unchanged rules gives back exactly the rows it replaces, and a corrected
resubmission still supersedes the report it corrected.

The new rows are written as a batch of their own; a rebuild record (manifest.write_rebuild) commits it and says which
period folders of older batches it replaces; those are deleted right after, or by the next run if this one is killed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
from tqdm import tqdm

from pipelines.config import Settings
from pipelines.lib import faults
from pipelines.lib import manifest as mf
from pipelines.lib.entities import Entity
from pipelines.lib.ingest import Batch, read_file, write_docs
from pipelines.lib.landing import QUARANTINE_SCHEMA, ensure_schema_file, landing_schema
from pipelines.lib.periods import check_key, folder_name

log = logging.getLogger(__name__)


class RebuildRefused(RuntimeError):
    """The period cannot be rebuilt exactly from raw (a file gone or changed, an old layout); nothing was changed."""


@dataclass
class RebuildReport:
    entity: str
    batch: str
    periods: list[str]
    files: list[mf.FileRecord] = field(default_factory=list)  # counts are those of the rebuilt periods only
    before: dict[str, tuple[int, int]] = field(default_factory=dict)  # period -> (landed, quarantined) rows
    after: dict[str, tuple[int, int]] = field(default_factory=dict)
    rule_counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    data_docs: Path | None = None

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_landed(self) -> int:
        return sum(f.rows_landed for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def rows_in_period(settings: Settings, entity: str, period: str) -> tuple[int, int]:
    """(landed, quarantined) rows of one period over all batches, from the Parquet footers."""
    out = []
    for root in (settings.landing_dir / entity, settings.quarantine_dir / entity):
        parts = root.glob(f"*/{folder_name(period)}/*.parquet") if root.is_dir() else []
        out.append(sum(pq.ParquetFile(p).metadata.num_rows for p in parts))
    return out[0], out[1]


def legacy_batches(settings: Settings, entity: str) -> list[Path]:
    """Batch folders with part files at their top: written before rows were filed by period."""
    found = []
    for root in (settings.landing_dir / entity, settings.quarantine_dir / entity):
        if root.is_dir():
            found += [d for d in root.iterdir() if not d.name.startswith("_") and any(d.glob("*.parquet"))]
    return sorted(found)


def _files_to_read(settings: Settings, entity: Entity, wanted: set[str]) -> list[dict]:
    """Manifest rows of the loaded files holding rows of the wanted periods; refuses if one is not as loaded."""
    history = [h for h in mf.read_manifest(settings, entity.name) if h["status"] == "loaded"]
    files = [h for h in history if h.get("periods") is None or wanted & set(h["periods"].split(", "))]
    problems = []
    for h in files:
        path = settings.raw_dir / h["path"]
        if not path.is_file():
            problems.append(f"raw/{h['path']} is gone")
            continue
        st = path.stat()
        if (st.st_size, st.st_mtime_ns) != (h["size_bytes"], h["mtime_ns"]) and mf.sha256_of(path) != h["sha256"]:
            problems.append(f"raw/{h['path']} was changed after it was loaded in batch {h['batch']}")
    if problems:
        raise RebuildRefused(
            f"{entity.name} {', '.join(sorted(wanted))} cannot be rebuilt exactly from raw: "
            + "; ".join(problems[:10])
            + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else "")
            + ". Put the files back as they were delivered (raw/ is append-only); nothing was changed."
        )
    return files


def rebuild_periods(
    entity: Entity,
    settings: Settings,
    key: bytes,
    periods: list[str],
    today: dt.date | None = None,
    progress: bool = False,
) -> RebuildReport:
    """Replace every landed and quarantined row of `periods` by a fresh read of the raw files."""
    started = time.perf_counter()
    if entity.period is None:
        raise RebuildRefused(f"{entity.name} is a register without a period: it has nothing to rebuild by period")
    wanted = sorted({check_key(p, entity.period) for p in periods})
    mf.sweep_uncommitted(settings, entity.name)
    legacy = legacy_batches(settings, entity.name)
    if legacy:
        raise RebuildRefused(
            f"{len(legacy)} batch folder(s) of {entity.name} (e.g. {legacy[0]}) were written before rows were filed "
            "by period, so one period cannot be replaced in them. Rebuild the warehouse from raw once (move the "
            "warehouse folder aside and run `make run`); nothing was changed."
        )
    files = _files_to_read(settings, entity, set(wanted))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    batch_id = mf.new_batch_id(now)
    report = RebuildReport(entity=entity.name, batch=batch_id, periods=wanted)
    report.before = {p: rows_in_period(settings, entity.name, p) for p in wanted}
    ensure_schema_file(settings.landing_dir / entity.name, landing_schema(entity))
    ensure_schema_file(settings.quarantine_dir / entity.name, QUARANTINE_SCHEMA)
    origin = {h["path"]: (h["batch"], h["first_seen_at"]) for h in files}
    batch = Batch(entity, settings, batch_id, now, key, today or dt.date.today(), origin, set(wanted))
    for h in tqdm(files, desc=f"rebuild {entity.name}", unit="file", disable=not progress):
        rec = mf.FileRecord(
            batch=batch_id,
            entity=entity.name,
            path=h["path"],
            sha256=h["sha256"],
            size_bytes=h["size_bytes"],
            mtime_ns=h["mtime_ns"],
            first_seen_at=h["first_seen_at"],
            status="loaded",
        )
        read_file(batch, settings.raw_dir / h["path"], rec)
        report.files.append(rec)
    batch.flush()
    try:
        docs = batch.sample_docs()
    except Exception:
        mf.sweep_uncommitted(settings, entity.name)
        raise
    rejected = [f for f in report.files if f.status == "rejected"]
    if rejected:
        mf.sweep_uncommitted(settings, entity.name)
        raise RebuildRefused(
            f"{entity.name}: {rejected[0].path} was loaded before but cannot be read now ({rejected[0].reason}); "
            "nothing was changed."
        )
    report.rule_counts = batch.rule_counts
    replaces = mf.batches_holding(settings, entity.name, wanted)  # before the new batch is moved in beside them
    batch.landed.move_to(settings.landing_dir / entity.name / batch_id)
    batch.quarantined.move_to(settings.quarantine_dir / entity.name / batch_id)
    faults.reached(f"rebuild:after_move:{entity.name}")
    mf.write_rebuild(
        settings,
        entity.name,
        {
            "batch": batch_id,
            "entity": entity.name,
            "periods": wanted,
            "replaces": replaces,
            "at": now.isoformat(),
            "files_read": [f.path for f in report.files],
            "rows_landed": report.rows_landed,
            "rows_quarantined": report.rows_quarantined,
            "rows_before": {p: list(v) for p, v in report.before.items()},
        },
    )
    faults.reached(f"rebuild:after_record:{entity.name}")
    mf.sweep_uncommitted(settings, entity.name)  # deletes the replaced period folders and the staging
    report.after = {p: rows_in_period(settings, entity.name, p) for p in wanted}
    report.data_docs = write_docs(settings, entity, batch_id, docs)
    report.seconds = time.perf_counter() - started
    log.info(
        "%s %s rebuilt from %d file(s): %d landed, %d quarantined (before: %s)",
        entity.name,
        ", ".join(wanted),
        len(report.files),
        report.rows_landed,
        report.rows_quarantined,
        report.before,
    )
    return report
