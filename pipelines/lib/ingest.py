"""Ingest one source entity: discover new files, read, type, validate, pseudonymise, land or quarantine, commit.

Every raw row ends in exactly one place: landed, quarantined (with the rules it broke, file and row number), or in a
file that was a duplicate (counted, not loaded) or rejected (unreadable, with the reason). Small files are validated
together in row batches; a large file is validated chunk by chunk in bounded memory, and its parts are discarded if
it turns out unreadable part-way, so no file is ever half loaded.

Every row is checked against the entity's Great Expectations suite compiled to DuckDB (`rules_sql`, one vectorised
query per chunk). Great Expectations itself validates a sample of each batch (every failing row up to
`SAMPLE_FAILING`, then passing rows up to `SAMPLE_PASSING`): its result must flag exactly the rows and rules the
compiled suite flagged, or the batch fails (a translation bug must never pass silently), and it makes the batch's
Data Docs.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import itertools
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from pipelines.config import ConfigError, Settings
from pipelines.lib import datadocs, duck, faults, storage
from pipelines.lib import manifest as mf
from pipelines.lib.arrivals import settle_seconds
from pipelines.lib.coerce import Evidence, coerce, file_evidence
from pipelines.lib.conventions import explain
from pipelines.lib.entities import Entity
from pipelines.lib.landing import (
    QUARANTINE_SCHEMA,
    PartWriter,
    ensure_schema_file,
    landing_schema,
    quarantine_records,
    to_landing,
)
from pipelines.lib.periods import period_keys
from pipelines.lib.readers import FileInfo, RejectedFile, read_chunks
from pipelines.lib.rules_sql import validate_frame_sql
from pipelines.lib.validate import ValidationError, parameters, suite_json, validate_frame

log = logging.getLogger(__name__)

# small files typed together at most; a buffered frame costs over 100 KB whatever its rows (measured: ~33,000 monthly
# reports buffered at tenth scale held ~4 GiB)
MAX_BUFFERED_FILES = 2_000
SAMPLE_FAILING = 20_000  # rows Great Expectations re-validates per batch: failing ones first (Data Docs show them)
SAMPLE_PASSING = 5_000


@dataclass
class IngestReport:
    entity: str
    batch: str | None
    files: list[mf.FileRecord] = field(default_factory=list)
    rule_counts: Counter = field(default_factory=Counter)
    files_already_seen: int = 0
    seconds: float = 0.0
    data_docs: Path | None = None  # index.html of this batch's Great Expectations Data Docs
    # landed rows (all batches) replaced by a later version of their key; None: entity without key, or not recounted
    # because this batch landed nothing
    rows_superseded_total: int | None = None
    periods: set[str] = field(default_factory=set)  # the periods (months, PK years) this batch brought rows for
    files_settling: list[str] = field(default_factory=list)  # changed within KKB_SETTLE_SECONDS: left for next run

    def _sum(self, attr: str, status: str | None = None) -> int:
        return sum(getattr(f, attr) for f in self.files if status is None or f.status == status)

    @property
    def rows_read(self) -> int:
        return self._sum("rows_read", "loaded")

    @property
    def rows_landed(self) -> int:
        return self._sum("rows_landed")

    @property
    def rows_quarantined(self) -> int:
        return self._sum("rows_quarantined")

    @property
    def rows_duplicate(self) -> int:
        return self._sum("rows_read", "duplicate")

    def files_with(self, status: str) -> list[mf.FileRecord]:
        return [f for f in self.files if f.status == status]

    @property
    def bad_row_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


def personal_columns(entity: Entity) -> frozenset[str]:
    """Columns validated as delivered that hold personal data: NIK / No. KK / family ids and birth dates."""
    return frozenset(c.name for c in entity.columns if c.type in ("pii", "birth_date", "drop"))


def write_docs(settings: Settings, entity: Entity, batch_id: str, docs: list) -> Path | None:
    folder = datadocs.docs_dir(settings.warehouse_dir, entity.name, batch_id)
    pages = []
    for n, (result, label) in enumerate(docs, start=1):
        page = datadocs.write_page(result, folder, n, f"{entity.name} {batch_id} #{n}", personal_columns(entity))
        if page is not None:
            pages.append((page, label))
    return datadocs.write_index(folder, entity.name, batch_id, pages)


def superseded_rows(settings: Settings, entity: Entity) -> int | None:
    """Landed rows (over all batches) whose key has more than one row: all but the latest are superseded."""
    if not entity.key:
        return None
    folder = settings.landing_dir / entity.name
    files = sorted(str(p) for p in folder.rglob("*.parquet")) if folder.exists() else []
    if not files:
        return 0
    con = duck.connect()
    try:
        rel = con.read_parquet(files, union_by_name=True)
        keys = ", ".join(entity.key)
        row = rel.aggregate(f"count(*) - count(distinct ({keys}))").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def landed_values(settings: Settings, entity: str, column: str) -> set:
    """Distinct values of a column over every committed batch of an entity's landing (empty if none)."""
    folder = settings.landing_dir / entity
    files = sorted(str(p) for p in folder.rglob("*.parquet")) if folder.exists() else []
    if not files:
        return set()
    con = duck.connect()
    try:
        rel = con.read_parquet(files, union_by_name=True)
        return {r[0] for r in rel.select(column).distinct().fetchall() if r[0] is not None}
    finally:
        con.close()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a chunk is processed: a chunk allocates millions of small containers
    (per-row rule lists), and each full collection would walk the whole heap (Dagster, GE, pandas: measured 5.7 of
    29 s on 1.5 M PK members). Cycles made meanwhile are collected after the chunk."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def release_memory() -> None:
    """Hand freed memory back to the system after a batch: the run process goes on to dbt and publishing, and
    glibc keeps freed heap pages by default (a no-op where the C library has no malloc_trim)."""
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    pa.default_memory_pool().release_unused()


class Batch:
    """Buffers typed rows of small files and validates/writes them in row batches."""

    def __init__(
        self,
        entity: Entity,
        settings: Settings,
        batch: str,
        now: dt.datetime,
        key: bytes,
        today: dt.date,
        origin: dict[str, tuple[str, dt.datetime]] | None = None,
        only_periods: set[str] | None = None,
    ):
        """`origin` (rebuilds): file path -> (batch, time) it was first ingested in, kept as the rows' lineage so a
        rebuilt row is the row a first load would have made. `only_periods`: keep only rows of these periods."""
        self.entity, self.batch, self.now, self.key, self.today = entity, batch, now, key, today
        self.settings = settings
        self.origin, self.only_periods = origin, only_periods
        self.flushes = 0
        self.file_rules: dict[str, list[Counter]] = {}  # per file, the rule counts it added (undone on discard)
        self.file_periods: dict[str, set[str]] = {}
        staging = settings.warehouse_dir / ".staging" / entity.name / batch
        self.landed = PartWriter(staging / "landing", landing_schema(entity))
        self.quarantined = PartWriter(staging / "quarantine", QUARANTINE_SCHEMA)
        self.buffer: list[tuple[pd.DataFrame, mf.FileRecord]] = []
        self.buffered_rows = 0
        self.rule_counts: Counter = Counter()
        self.suite = suite_json(entity.suite)
        self.sample: list[pd.DataFrame] = []  # typed rows (+ the compiled suite's labels) for Great Expectations
        self.sampled = {"failing": 0, "passing": 0}
        self.rows_validated = 0
        self.lookups = {
            param: (column, landed_values(settings, other, column)) for param, (other, column) in entity.lookups.items()
        }

    def add_small(self, raw: pd.DataFrame, rec: mf.FileRecord) -> None:
        """Buffer a small file's rows; they are typed and validated together (per-call costs paid once)."""
        self.buffer.append((raw, rec))
        self.buffered_rows += len(raw)
        # rows bound the chunk; files bound the frames' own overhead (44,700 monthly reports of ~6 rows buffered at
        # tenth scale took 4.8 GiB)
        if self.buffered_rows >= self.entity.chunk_rows or len(self.buffer) >= MAX_BUFFERED_FILES:
            self.flush()

    def flush(self) -> None:
        """Type, validate and write the buffered files together. Should that fail, each file is tried alone, and a
        file that fails alone is rejected with the reason: one bad file never stops the batch."""
        if not self.buffer:
            return
        buffered, self.buffer, self.buffered_rows = self.buffer, [], 0
        self.flushes += 1
        tag = f"buffer-{self.flushes}"
        try:
            self._process(buffered, tag)
        except Exception as exc:
            if environment_failure(exc, self.settings):
                raise
            log.warning("typing %d buffered files together failed (%s); trying each alone", len(buffered), exc)
            for _, rec in buffered:
                self.discard(rec)
            for raw, rec in buffered:
                try:
                    self._process([(raw, rec)], f"{tag}-{rec.path}")
                except Exception as alone:
                    if environment_failure(alone, self.settings):
                        raise
                    reject_unexpected(self, rec, alone)

    def _process(self, files: list[tuple[pd.DataFrame, mf.FileRecord]], tag: str) -> None:
        raws, recs = zip(*files, strict=True)
        raw = pd.concat([r.assign(_file=rec.path) for r, rec in zip(raws, recs, strict=True)], ignore_index=True)
        text_cols = [c for c in raw.columns if c not in ("_row", "_file", "_sheet", "_error")]
        raw[text_cols] = raw[text_cols].fillna("")  # a column one file lacks is empty in its rows
        raw["_error"] = raw["_error"].fillna("")
        with gc_paused():
            typed, errors, _ = coerce(raw, self.entity, self.today, files=raw["_file"])
            self._validate_and_write(raw, typed, errors, {r.path: r for r in recs}, tag=tag)

    def add_chunk_of_large(
        self, raw: pd.DataFrame, rec: mf.FileRecord, evidence: Evidence | None = None
    ) -> Evidence | None:
        """Type, validate and write one chunk of a large file; returns the conventions it was typed with (the
        file's earlier chunks' `evidence` and its own)."""
        with gc_paused():
            raw = raw.assign(_file=rec.path)
            typed, errors, used = coerce(
                raw, self.entity, self.today, files=rec.path, evidence={rec.path: evidence or Evidence()}
            )
            self._validate_and_write(raw, typed, errors, {rec.path: rec}, tag=rec.path)
        return used.get(rec.path, evidence)

    def periods_of(self, path: str) -> str | None:
        found = self.file_periods.get(path)
        return ", ".join(sorted(found)) if found else None

    def discard(self, rec: mf.FileRecord) -> None:
        """Forget everything of this file in the batch: its parts, counts, periods, sample rows and rule counts."""
        self.file_periods.pop(rec.path, None)
        self.landed.discard(rec.path)
        self.quarantined.discard(rec.path)
        for counts in self.file_rules.pop(rec.path, []):
            self.rule_counts.subtract(counts)
        self.rule_counts = +self.rule_counts
        rec.rows_read = rec.rows_landed = rec.rows_quarantined = 0
        rec.wilayah = None
        kept = []
        for frame in self.sample:
            mine = frame["_sample_file"] == rec.path
            if mine.any():
                failing = frame.loc[mine, "_labels"].map(bool)
                self.sampled["failing"] -= int(failing.sum())
                self.sampled["passing"] -= int((~failing).sum())
                frame = frame.loc[~mine]
            kept.append(frame)
        self.sample = [f for f in kept if not f.empty]

    def _fill_received(self, raw: pd.DataFrame, typed: pd.DataFrame, errors: pd.Series, recs) -> None:
        """Columns with a fallback (tanggal_lapor, needed only for timeliness): where the file has no value, one of
        an order the file cannot tell, or one that cannot be read as a date, the day the file was received;
        `<column>_sumber` says where each value came from. The row's figures are never lost for it."""
        for col in (c for c in self.entity.columns if c.fallback == "received"):
            source = pd.Series("laporan", index=typed.index, dtype=object)
            labels = {f"ambiguous_date:{col.name}": "tanggal_ambigu", f"type_error:{col.name}": "tanggal_tak_terbaca"}
            why = errors.map(lambda es, labels=labels: next((labels[e] for e in es if e in labels), ""))
            missing = typed[col.name].isna() & (raw["_error"] == "")
            if missing.any():
                mode = received_from()
                # never after the ingestion day (Western Indonesia is ahead of a server keeping UTC)
                days = {p: min(received_date(r, mode), self.today) for p, r in recs.items()}
                files = raw["_file"]
                typed.loc[missing, col.name] = pd.to_datetime(files[missing].map(days))
                label = RECEIVED_SOURCE[mode]
                source[missing] = [f"{label}:{w}" if w else label for w in why[missing]]
                fixed = missing & (why != "")
                if fixed.any():
                    errors[fixed] = errors[fixed].map(lambda es, labels=labels: [e for e in es if e not in labels])
            typed[f"{col.name}_sumber"] = source

    def _validate_and_write(self, raw, typed, type_errors, recs: dict[str, mf.FileRecord], tag: str) -> None:
        self._fill_received(raw, typed, type_errors, recs)
        periods = period_keys(typed, self.entity.period) if self.entity.period else None
        if periods is not None and self.only_periods is not None:
            keep = periods.isin(self.only_periods)
            raw, typed, type_errors, periods = raw[keep], typed[keep], type_errors[keep], periods[keep]
        if typed.empty:
            return
        failures = validate_frame_sql(typed, self.suite, parameters(typed, self.today, self.lookups))
        suite_failures = failures  # what Great Expectations must agree with, on the sample
        # a row the reader could not read as a row (fields shifted, not JSON, hidden) fails for that alone: its
        # values are not judged
        unread = raw["_error"] != ""
        if unread.any():
            failures = failures.where(~unread, raw["_error"].map(lambda e: [e]))
            type_errors = type_errors.where(~unread, pd.Series([[]] * len(type_errors), index=type_errors.index))
        typing_failed = type_errors.map(bool)
        if typing_failed.any():
            # a value that could not be read is null: its `missing_value` rule says nothing more
            failures = pd.Series(
                [
                    t + [f for f in fs if not _restates(f, t)] if t else fs
                    for t, fs in zip(type_errors, failures, strict=True)
                ],
                index=failures.index,
            )
        failing = suite_failures.map(bool)
        bad = failing | typing_failed | unread
        files = raw["_file"]
        shas = files.map({p: r.sha256 for p, r in recs.items()})
        # one grouping pass (comparing `files == path` per file was quadratic: 44,000 small files, 14 minutes)
        per_file = pd.DataFrame({"f": files.to_numpy(), "bad": bad.to_numpy()}).groupby("f", sort=False)["bad"]
        counted = list(zip(*per_file.agg(["size", "sum"]).reset_index().T.to_numpy(), strict=True))
        regions = self._regions(typed, files)
        lineage = {
            "_file": files,
            "_file_sha256": shas,
            "_row": raw["_row"],
            "_sheet": raw["_sheet"],
            "_batch": files.map({p: o[0] for p, o in self.origin.items()}) if self.origin else self.batch,
            "_ingested_at": files.map({p: o[1] for p, o in self.origin.items()}) if self.origin else self.now,
        }
        good = ~bad
        if good.any():
            land = to_landing(typed.loc[good], self.entity, self.key)
            for k, v in lineage.items():
                land[k] = v[good] if isinstance(v, pd.Series) else v
            self.landed.write(land, tag, None if periods is None else periods[good])
        rule_counts: dict[str, Counter] = {}
        if bad.any():
            reasons = failures[bad]
            q = pd.DataFrame({k: (v[bad] if isinstance(v, pd.Series) else v) for k, v in lineage.items()})
            q["entity"] = self.entity.name
            q["failed_rules"] = [sorted({r.split(":")[0] for r in rs}) for rs in reasons]
            q["reasons"] = ["; ".join(explain(r) for r in rs) for rs in reasons]
            q["record"] = quarantine_records(raw.loc[bad], self.entity, self.key)
            self.quarantined.write(q, tag, None if periods is None else periods[bad])
            for path, rs in zip(files[bad], reasons, strict=True):
                rule_counts.setdefault(path, Counter()).update(
                    r.split(":")[0] if not r.startswith("type_error") else r for r in rs
                )
        # bookkeeping last: a failure above leaves nothing of these rows behind once their file is discarded
        for path, n_read, n_bad in counted:
            rec = recs[path]
            rec.rows_read += int(n_read)
            rec.rows_quarantined += int(n_bad)
            rec.rows_landed += int(n_read) - int(n_bad)
            rec.wilayah = rec.wilayah or regions.get(path)
        for path, counts in rule_counts.items():
            self.rule_counts.update(counts)
            self.file_rules.setdefault(path, []).append(counts)
        if periods is not None:
            for path, found in pd.DataFrame({"f": files, "p": periods}).dropna().groupby("f")["p"]:
                self.file_periods.setdefault(str(path), set()).update(found)
        read = ~unread
        self._keep_sample(typed[read], suite_failures[read], failing[read], files[read])
        self.rows_validated += int(read.sum())

    def _regions(self, typed: pd.DataFrame, files: pd.Series) -> dict[str, str]:
        """The kabupaten/kota (dotted, '19.01') each file's rows name first: a delivery's region (check_result)."""
        col = self.entity.region_column
        if not col or col not in typed:
            return {}
        digits = typed[col].astype("string").str.replace(".", "", regex=False).str.extract(r"^(\d{4})", expand=False)
        found = pd.DataFrame({"f": files, "k": digits}).dropna().drop_duplicates("f")
        return {f: f"{k[:2]}.{k[2:]}" for f, k in zip(found["f"], found["k"], strict=True)}

    def _keep_sample(self, typed: pd.DataFrame, failures: pd.Series, failing: pd.Series, files: pd.Series) -> None:
        for kind, mask, limit in (("failing", failing, SAMPLE_FAILING), ("passing", ~failing, SAMPLE_PASSING)):
            room = limit - self.sampled[kind]
            if room > 0 and mask.any():
                rows = typed.loc[mask].head(room).assign(_labels=failures.loc[mask].head(room))
                self.sample.append(rows.assign(_sample_file=files.loc[rows.index]))
                self.sampled[kind] += len(rows)

    def sample_docs(self) -> list[tuple[object, str]]:
        """Great Expectations on the batch's sample: (result, what it covered) for the Data Docs. Raises
        ValidationError when it disagrees with the compiled suite on any sampled row."""
        if not self.sample:
            return []
        sample = pd.concat(self.sample, ignore_index=True).drop(columns="_sample_file")
        labels = sample.pop("_labels")
        results: list = []
        expected = validate_frame(sample, self.entity.suite, parameters(sample, self.today, self.lookups), results)
        differ = [i for i in sample.index if sorted(expected[i]) != sorted(labels[i])]
        if differ:
            i = differ[0]
            raise ValidationError(
                f"suite {self.entity.suite}: the rules compiled to DuckDB disagree with Great Expectations on "
                f"{len(differ)} of {len(sample):,} sampled rows (e.g. {sample.at[i, '_row']}: GE {expected[i]}, "
                f"DuckDB {labels[i]}). This is a bug in pipelines/lib/rules_sql.py; nothing was committed."
            )
        covered = (
            f"a sample of {len(sample):,} of the batch's {self.rows_validated:,} rows "
            f"({self.sampled['failing']:,} failing first, then {self.sampled['passing']:,} passing); "
            "every row was checked with the same suite compiled to DuckDB, with the same result on this sample"
        )
        return [(results[0], covered)]


class _ConventionsChanged(Exception):
    """A later chunk of a large file changed what its first chunks decided (decimal mark, date order)."""


def read_file(batch: Batch, path: Path, rec: mf.FileRecord) -> None:
    """Read one raw file into the batch: small files are buffered, a large one validated chunk by chunk. A file
    that turns out unreadable (even part-way), or whose reading fails in any way, is marked rejected with the reason
    and none of its rows are kept; the batch goes on with the other files."""
    entity = batch.entity
    try:
        info, chunks = read_chunks(path, entity)
        first = next(chunks, None)
        second = next(chunks, None) if first is not None else None
        if second is None:
            if first is not None and not first.empty:
                batch.add_small(first, rec)
        else:
            try:
                _read_large(batch, rec, itertools.chain([first, second], chunks))
            except _ConventionsChanged:
                # rare: read it again knowing what all of it says (one pass for the evidence, one to load)
                batch.discard(rec)
                info, chunks = read_chunks(path, entity)
                whole = Evidence()
                for chunk in chunks:
                    whole = whole | file_evidence(chunk, entity)
                info, chunks = read_chunks(path, entity)
                _read_large(batch, rec, chunks, whole)
        _record_info(rec, info)
        if info.unknown_columns:
            log.warning("%s: columns not in the %s spec were ignored: %s", rec.path, entity.name, rec.unknown_columns)
    except RejectedFile as exc:
        batch.discard(rec)
        rec.status, rec.reason = "rejected", str(exc)
        log.error("rejected %s: %s", rec.path, exc)
    except Exception as exc:
        if environment_failure(exc, batch.settings):
            raise
        reject_unexpected(batch, rec, exc)


def _restates(label: str, typing: list[str]) -> bool:
    """A suite's `missing_value` label on a column whose value had a typing problem (it is null because of it)."""
    if not label.startswith("missing_value"):
        return False
    return any(re.search(rf"\b{re.escape(t.partition(':')[2])}\b", label) for t in typing)


def _read_large(batch: Batch, rec: mf.FileRecord, chunks, known: Evidence | None = None) -> None:
    """Chunk by chunk; raises _ConventionsChanged when a chunk changes the decimal mark or the date order the
    earlier chunks were typed with (unless `known` already holds what the whole file says)."""
    decided = known
    for n, chunk in enumerate(chunks):
        used = batch.add_chunk_of_large(chunk, rec, decided) or decided or Evidence()
        if (
            known is None
            and n > 0
            and decided is not None
            and ((used.decimal, used.date_order) != (decided.decimal, decided.date_order))
        ):
            raise _ConventionsChanged
        decided = used if known is None else known


def _record_info(rec: mf.FileRecord, info: FileInfo) -> None:
    rec.format, rec.encoding, rec.delimiter, rec.header_row = (
        info.format,
        info.encoding,
        info.delimiter,
        info.header_row,
    )
    rec.line_ends = info.line_ends
    rec.unknown_columns = ", ".join(info.unknown_columns) or None
    rec.aliased_headers = ", ".join(info.aliased_headers) or None
    rec.sheets = "; ".join(info.sheets) or None
    rec.rows_skipped = len(info.skipped)
    rec.skipped_rows = info.skipped_summary()
    rec.skipped = [{"sheet": sh, "row": r, "reason": why} for sh, r, why in info.skipped] or None
    rec.note = info.note


def environment_failure(exc: BaseException, settings: Settings) -> bool:
    """Failures that are not the file's fault (memory, the warehouse disk full or read-only, DuckDB's spill folder):
    they fail the step (and are retried), they never reject a file."""
    if isinstance(exc, MemoryError | ValidationError):
        return True
    if isinstance(exc, OSError) and exc.errno in (storage.FULL | storage.NOT_WRITABLE):
        name = str(getattr(exc, "filename", "") or "")
        return exc.errno in storage.FULL or not name or name.startswith(str(settings.warehouse_dir))
    import duckdb

    return isinstance(exc, duckdb.IOException | duckdb.OutOfMemoryException)


def reject_unexpected(batch: Batch, rec: mf.FileRecord, exc: BaseException) -> None:
    """A file whose reading or typing failed in a way no rule foresaw: rejected with the error, never retried
    every night; the log keeps the traceback for the team."""
    batch.discard(rec)
    rec.status = "rejected"
    rec.reason = (
        f"could not be read ({type(exc).__name__}: {str(exc)[:300]}); the file is kept in raw/ and refused. "
        "Check it, and send a corrected copy; report the error to the pipeline team if the file looks right"
    )
    log.exception("rejected %s after an unexpected error", rec.path)


RECEIVED_SOURCE = {"mtime": "waktu_file", "first_seen": "pertama_terlihat"}
WIB = dt.timezone(dt.timedelta(hours=7))


def received_from() -> str:
    """KKB_RECEIVED_FROM: how a report without its own submission date is dated: `mtime` (the file's modification
    time, default: right for a first load of a backlog, where every file is first seen on the same night) or
    `first_seen` (the night the pipeline first saw the file: right where files are copied in without keeping their
    times)."""
    value = os.environ.get("KKB_RECEIVED_FROM", "mtime").strip() or "mtime"
    if value not in RECEIVED_SOURCE:
        raise ConfigError(f"KKB_RECEIVED_FROM={value!r}: use 'mtime' or 'first_seen'.")
    return value


def received_date(rec: mf.FileRecord, mode: str) -> dt.date:
    """The day (Western Indonesia time) a file was received, by `mode`."""
    if mode == "first_seen":
        return rec.first_seen_at.replace(tzinfo=dt.UTC).astimezone(WIB).date()
    return dt.datetime.fromtimestamp(rec.mtime_ns / 1e9, tz=WIB).date()


def _classify(entity: Entity, settings: Settings, batch: str, now: dt.datetime, report: IngestReport):
    """Hash new files; yield the records of files to read, recording duplicates and skipping files already seen.
    A file changed less than KKB_SETTLE_SECONDS ago may still be being copied: it waits for the next run."""
    history = mf.read_manifest(settings, entity.name)
    seen_path_sha = {(h["path"], h["sha256"]) for h in history}
    first_by_sha: dict[str, dict] = {}
    for h in history:
        first_by_sha.setdefault(h["sha256"], h)
    cache = {(h["path"], h["size_bytes"], h["mtime_ns"]): h["sha256"] for h in history}
    to_read: list[tuple[Path, mf.FileRecord]] = []
    new_by_sha: dict[str, mf.FileRecord] = {}
    settle_ns = int(settle_seconds() * 1e9)
    clock_ns = time.time_ns()
    # Oldest delivery first, so that of two identical files the one that arrived first is loaded.
    found = sorted(
        ((p, p.stat()) for p in mf.discover(settings.raw_dir, entity.folder)),
        key=lambda ps: (ps[1].st_mtime_ns, ps[0].as_posix()),
    )
    for path, st in found:
        rel = path.relative_to(settings.raw_dir).as_posix()
        if clock_ns - st.st_mtime_ns < settle_ns and (rel, st.st_size, st.st_mtime_ns) not in cache:
            report.files_settling.append(rel)
            continue
        sha = cache.get((rel, st.st_size, st.st_mtime_ns)) or mf.sha256_of(path)
        if (rel, sha) in seen_path_sha:
            report.files_already_seen += 1
            continue
        rec = mf.FileRecord(
            batch=batch,
            entity=entity.name,
            path=rel,
            sha256=sha,
            size_bytes=st.st_size,
            mtime_ns=st.st_mtime_ns,
            first_seen_at=now,
            status="loaded",
        )
        original = first_by_sha.get(sha) or new_by_sha.get(sha)
        if st.st_size == 0:  # every empty file has the same hash: it is no copy of another
            rec.status, rec.reason = "rejected", "the file is empty (0 bytes): an upload or copy that failed?"
        elif original is not None:
            rec.status = "duplicate"
            rec.duplicate_of = original["path"] if isinstance(original, dict) else original.path
            rec.reason = f"same content (sha256 {sha[:12]}…) as {rec.duplicate_of}; not loaded again"
        else:
            new_by_sha[sha] = rec
            to_read.append((path, rec))
        report.files.append(rec)
    return to_read, new_by_sha, first_by_sha


def ingest_entity(
    entity: Entity,
    settings: Settings,
    key: bytes,
    today: dt.date | None = None,
    progress: bool = False,
) -> IngestReport:
    """Ingest every new file of `entity` as one batch and commit it. Returns what happened to each file."""
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    today = today or dt.date.today()
    batch_id = mf.new_batch_id(now)
    report = IngestReport(entity=entity.name, batch=batch_id)
    for leftover in mf.sweep_uncommitted(settings, entity.name):
        log.warning("removed leftovers of an interrupted run: %s", leftover)
    ensure_schema_file(settings.landing_dir / entity.name, landing_schema(entity))
    ensure_schema_file(settings.quarantine_dir / entity.name, QUARANTINE_SCHEMA)
    ensure_schema_file(settings.manifest_dir, mf.MANIFEST_SCHEMA)

    to_read, new_by_sha, first_by_sha = _classify(entity, settings, batch_id, now, report)
    batch = Batch(entity, settings, batch_id, now, key, today)
    for path, rec in tqdm(to_read, desc=f"ingest {entity.name}", unit="file", disable=not progress):
        read_file(batch, path, rec)
    batch.flush()
    docs = batch.sample_docs()  # before anything moves: a disagreement must leave nothing behind
    for rec in report.files:
        rec.periods = batch.periods_of(rec.path)
    report.periods = set().union(*batch.file_periods.values())
    for rec in report.files:  # a duplicate has the rows of the file it copies
        if rec.status == "duplicate":
            original = new_by_sha.get(rec.sha256)
            rec.rows_read = original.rows_read if original else int(first_by_sha[rec.sha256]["rows_read"] or 0)
    report.rule_counts = batch.rule_counts
    if report.files:
        batch.landed.move_to(settings.landing_dir / entity.name / batch_id)
        batch.quarantined.move_to(settings.quarantine_dir / entity.name / batch_id)
        faults.reached(f"ingest:after_move:{entity.name}")
        mf.write_manifest(settings, entity.name, batch_id, report.files)
        report.data_docs = write_docs(settings, entity, batch_id, docs)
    else:
        report.batch = None
    mf.sweep_uncommitted(settings, entity.name)  # the empty staging folder
    if report.rows_landed:  # else unchanged: not recounted (a scan of every landed row: ~40 s for 230 M members)
        report.rows_superseded_total = superseded_rows(settings, entity)
    del batch
    release_memory()
    report.seconds = time.perf_counter() - started
    return report
