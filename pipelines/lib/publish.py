"""Publish the BI snapshot: the one file (and Parquet folder) BI tools read, never the warehouse itself.

DuckDB allows one writer or many readers of a file, never both; so BI tools get their own copy, replaced atomically:

    warehouse/bi/
      kampung_kb_bi.duckdb              the current snapshot (what BI tools open, read-only)
      history/kampung_kb_bi-<id>.duckdb the last few publications, for rollback (`kkb bi rollback`)
      parquet -> parquet_versions/<id>  the same tables as Parquet: bi/parquet/<table>/<table>.parquet
      parquet_versions/<id>/            one folder per publication, the last few kept

A publication is written to a new file, scanned for personal data, checkpointed, re-opened and verified (row counts),
copied beside the current file and renamed over it (rename is atomic on one file system). A reader that already had
the old file open keeps its consistent old snapshot until it reconnects; a new connection sees the new one. The
Parquet folder is swapped by renaming one symlink, so all tables change together.
"""

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lib import disclosure, duck, faults, pii_scan
from pipelines.lib.entities import ENTITIES
from pipelines.lib.sql import scalar

SNAPSHOT_NAME = "kampung_kb_bi.duckdb"
KEEP = 3

# What BI tools may see. Dimensions without personal data, facts at Kampung KB / desa grain or above with no person
# counts, and the reporting marts (suppressed by pipelines/lib/disclosure.py). Value: the select list.
# fct_kampung_kb_klasifikasi leaves out its percentages: with the published PUS they would give back suppressed counts.
PASSTHROUGH_TABLES = {
    "dim_wilayah": "*",
    "dim_periode": "*",
    "dim_kampung_kb": "*",
    "dim_posyandu": "*",
    "dim_metode_kb": "*",
    "dim_poktan": "*",
    "dim_instansi": "*",
    "dim_fungsi_keluarga": "*",
    "dim_sasaran": "*",
    "fct_kampung_kb_klasifikasi": "* exclude (partisipasi_poktan, cpr, mkjp, unmet_need)",
}
SUPPRESSED_TABLES = tuple(level.table for level in disclosure.HIERARCHY)
BI_TABLES = (*PASSTHROUGH_TABLES, *SUPPRESSED_TABLES)
META_TABLE = "_publikasi"


class PublishError(RuntimeError):
    """The snapshot was not published; the previous one stays in place. The message says why."""


@dataclass
class Publication:
    id: str
    path: Path
    parquet_dir: Path
    tables: dict[str, int]
    suppression: disclosure.SuppressionReport
    scan_coverage: dict[str, int]
    storage_version: str
    bytes: int
    removed: list[str] = field(default_factory=list)


def landed_pseudonyms(landing_dir: Path) -> list[tuple[str, str]]:
    """(Parquet glob, column) of every pseudonym made at ingestion, for the scan of the snapshot."""
    out = []
    for entity in ENTITIES.values():
        folder = landing_dir / entity.name
        if not any(folder.rglob("*.parquet")):
            continue
        for column in entity.columns:
            if column.type == "pii" and column.land_as:
                out.append((str(folder / "**" / "*.parquet"), column.land_as))
    return out


def publication_id(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


def publish(
    warehouse: Path,
    bi_dir: Path,
    *,
    run_id: str = "",
    descriptions: Mapping[str, tuple[str, Mapping[str, str]]] | None = None,
    known_pseudonyms: Iterable[tuple[str, str]] = (),
    keep: int = KEEP,
) -> Publication:
    """Build, scan, verify and swap in a new BI snapshot from the warehouse file; returns what was published."""
    if not warehouse.exists():
        raise PublishError(f"no warehouse at {warehouse}: run the pipeline first (make run)")
    history = bi_dir / "history"
    history.mkdir(parents=True, exist_ok=True)
    for stale in history.glob(".*.tmp.duckdb*"):  # left by a publication that was killed half-way
        stale.unlink()
    pub_id = publication_id()
    tmp = history / f".{pub_id}.tmp.duckdb"
    try:
        tables, report, coverage = _build(warehouse, tmp, pub_id, run_id, descriptions or {}, known_pseudonyms)
        storage = _verify(tmp, tables)
        faults.reached("publish:after_build")
        kept = history / f"kampung_kb_bi-{pub_id}.duckdb"
        os.replace(tmp, kept)
        _fsync_dir(history)
        _atomic_copy(kept, bi_dir / SNAPSHOT_NAME)
        parquet_dir = _export_parquet(kept, bi_dir, pub_id, tables)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    removed = prune(bi_dir, keep)
    return Publication(
        id=pub_id,
        path=bi_dir / SNAPSHOT_NAME,
        parquet_dir=parquet_dir,
        tables=tables,
        suppression=report,
        scan_coverage=coverage,
        storage_version=storage,
        bytes=(bi_dir / SNAPSHOT_NAME).stat().st_size,
        removed=removed,
    )


def _build(warehouse, tmp, pub_id, run_id, descriptions, known_pseudonyms):
    con = duck.connect(str(tmp))
    try:
        con.execute(f"attach {_literal(str(warehouse))} as wh (read_only)")
        missing = [t for t in BI_TABLES if not _exists(con, "wh", t)]
        if missing:
            raise PublishError(f"the warehouse lacks {', '.join(missing)}: the dbt build did not finish")
        report = disclosure.suppress(con, "wh.main", "main")
        for table, select in PASSTHROUGH_TABLES.items():
            con.execute(f"create table main.{table} as select {select} from wh.main.{table}")
        con.execute("detach wh")
        tables = {t: scalar(con.execute(f"select count(*) from main.{t}")) for t in BI_TABLES}
        _describe(con, descriptions)
        _write_meta(con, pub_id, run_id, tables, report)
        unsafe = disclosure.audit(con, "main")
        if unsafe:
            raise PublishError("the suppression audit failed, not published: " + "; ".join(unsafe[:20]))
        findings, coverage = pii_scan.scan(con, "main", known_pseudonyms)
        if findings:
            raise PublishError(
                "the snapshot failed the personal-data scan and was not published: "
                + "; ".join(str(f) for f in findings[:20])
            )
        con.execute("checkpoint")
    finally:
        con.close()
    return tables, report, coverage


def _exists(con: duckdb.DuckDBPyConnection, database: str, table: str) -> bool:
    return bool(
        scalar(
            con.execute(
                "select count(*) from duckdb_tables() where database_name = ? and table_name = ?", [database, table]
            )
        )
    )


def _describe(con: duckdb.DuckDBPyConnection, descriptions: Mapping[str, tuple[str, Mapping[str, str]]]) -> None:
    """Table and column comments from the dbt docs, so BI tools (DBeaver, Metabase) show what a column means."""
    for table in BI_TABLES:
        text, columns = descriptions.get(table, ("", {}))
        if text:
            con.execute(f"comment on table main.{table} is {_quote(text)}")
        present = {r[0] for r in con.execute(f"describe main.{table}").fetchall()}
        for column, col_text in columns.items():
            if column in present and col_text:
                con.execute(f'comment on column main.{table}."{column}" is {_quote(col_text)}')
        if table in SUPPRESSED_TABLES:
            con.execute(
                f"comment on column main.{table}.{disclosure.SUPPRESSED_LIST_COLUMN} is "
                + _quote("Columns of this row hidden to protect small counts (below 5 persons, and the cells that "
                         "would give them back); NULL when nothing was hidden.")
            )  # fmt: skip


def _quote(text: str) -> str:
    """A description as a SQL string literal, on one line."""
    return _literal(" ".join(text.split()))


def _literal(text: str) -> str:
    """Any text (a path) as a SQL string literal, unchanged."""
    return "'" + text.replace("'", "''") + "'"


def _write_meta(con, pub_id, run_id, tables, report) -> None:
    con.execute(
        f"""create table main.{META_TABLE} as select
              ? as publikasi_id, cast(? as timestamptz) as diterbitkan_pada, ? as run_id,
              ? as tabel, ? as sel_disembunyikan_primer, ? as sel_disembunyikan_komplementer, ? as ambang_sel_kecil""",
        [
            pub_id,
            datetime.strptime(pub_id, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC),
            run_id,
            json.dumps(tables),
            report.primary,
            report.complementary,
            disclosure.THRESHOLD,
        ],
    )
    con.execute(
        f"comment on table main.{META_TABLE} is "
        + _quote("One row: which publication this file is, when it was made and by which Dagster run.")
    )


def _verify(path: Path, tables: Mapping[str, int]) -> str:
    """Re-open the written file read-only and check every table's row count."""
    con = duck.connect(str(path), read_only=True)
    try:
        for table, rows in tables.items():
            got = scalar(con.execute(f"select count(*) from main.{table}"))
            if got != rows:
                raise PublishError(f"verification failed: {table} has {got} rows in the written file, not {rows}")
        return scalar(
            con.execute(
                "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
            )
        )
    finally:
        con.close()


def _atomic_copy(src: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.copyfile(src, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    _fsync_dir(dest.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _export_parquet(snapshot: Path, bi_dir: Path, pub_id: str, tables: Iterable[str]) -> Path:
    versions = bi_dir / "parquet_versions"
    target = versions / pub_id
    target.mkdir(parents=True)
    con = duck.connect(str(snapshot), read_only=True)
    try:
        for table in [*tables, META_TABLE]:
            (target / table).mkdir()
            con.execute(f"copy main.{table} to {_literal(str(target / table / (table + '.parquet')))} (format parquet)")
    finally:
        con.close()
    _fsync_dir(target)
    swap_symlink(bi_dir / "parquet", Path("parquet_versions") / pub_id)
    return bi_dir / "parquet"


def swap_symlink(link: Path, target: Path) -> None:
    """Point `link` at `target` in one rename (a folder left by an older layout is moved aside first)."""
    if link.exists() and not link.is_symlink():
        link.rename(link.with_name(f"{link.name}.old-{publication_id()}"))
    tmp = link.with_name(f".{link.name}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)
    _fsync_dir(link.parent)


def publications(bi_dir: Path) -> list[str]:
    """Ids of the kept publications, oldest first."""
    return sorted(p.stem.removeprefix("kampung_kb_bi-") for p in (bi_dir / "history").glob("kampung_kb_bi-*.duckdb"))


def current_publication(bi_dir: Path) -> str | None:
    link = bi_dir / "parquet"
    return Path(os.readlink(link)).name if link.is_symlink() else None


def prune(bi_dir: Path, keep: int = KEEP) -> list[str]:
    """Remove all but the newest `keep` publications (never the current one)."""
    current = current_publication(bi_dir)
    removed = []
    for old in publications(bi_dir)[:-keep]:
        if old == current:
            continue
        (bi_dir / "history" / f"kampung_kb_bi-{old}.duckdb").unlink(missing_ok=True)
        shutil.rmtree(bi_dir / "parquet_versions" / old, ignore_errors=True)
        removed.append(old)
    return removed


def rollback(bi_dir: Path, to: str | None = None) -> str:
    """Put an earlier kept publication back in place (the one before the current, unless `to` names one)."""
    kept = publications(bi_dir)
    current = current_publication(bi_dir)
    if to is None:
        older = [p for p in kept if current is None or p < current]
        if not older:
            raise PublishError(f"no publication older than {current} is kept in {bi_dir / 'history'}")
        to = older[-1]
    if to not in kept or not (bi_dir / "parquet_versions" / to).is_dir():
        raise PublishError(f"publication {to} is not kept; kept: {', '.join(kept) or 'none'}")
    _atomic_copy(bi_dir / "history" / f"kampung_kb_bi-{to}.duckdb", bi_dir / SNAPSHOT_NAME)
    swap_symlink(bi_dir / "parquet", Path("parquet_versions") / to)
    return to
