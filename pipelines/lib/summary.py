"""The short report printed at the end of `make run`: rows per table, what was quarantined or rejected."""

from __future__ import annotations

import duckdb

from pipelines.config import Settings
from pipelines.lib.manifest import read_manifest


def ingestion_rows(settings: Settings) -> list[tuple]:
    """Per entity: files loaded / duplicate / rejected, rows landed / quarantined, over all batches."""
    acc: dict[str, list[int]] = {}
    for r in read_manifest(settings):
        a = acc.setdefault(r["entity"], [0, 0, 0, 0, 0])
        a[{"loaded": 0, "duplicate": 1, "rejected": 2}[r["status"]]] += 1
        a[3] += r["rows_landed"] or 0
        a[4] += r["rows_quarantined"] or 0
    return [(e, *v) for e, v in sorted(acc.items())]


def warehouse_rows(settings: Settings) -> list[tuple[str, int]]:
    if not settings.duckdb_path.exists():
        return []
    try:
        con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    except duckdb.IOException as exc:  # e.g. a dbt process of a failed run still holds the write lock
        return [(f"(warehouse not readable now: {str(exc).splitlines()[0][:120]})", 0)]
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' order by table_name"
        ).fetchall()
        return [(f"{s}.{t}", _count(con, s, t)) for s, t in tables]
    finally:
        con.close()


def _count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    row = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
    return int(row[0]) if row else 0


def render_summary(settings: Settings, seconds: float | None) -> str:
    lines = ["", "== Kampung KB pipeline summary"]
    ing = ingestion_rows(settings)
    if ing:
        lines.append(
            f"{'ingested entity':<22}{'files':>8}{'dupl.':>7}{'rej.':>6}{'rows landed':>14}{'quarantined':>13}"
        )
        for e, lo, du, rj, rl, rq in ing:
            lines.append(f"{e:<22}{lo:>8,}{du:>7,}{rj:>6,}{rl:>14,}{rq:>13,}")
    wh = warehouse_rows(settings)
    if wh:
        lines.append(f"{'warehouse table':<40}{'rows':>14}")
        lines += [f"{t:<40}{n:>14,}" for t, n in wh]
    lines.append(f"warehouse: {settings.duckdb_path}")
    lines.append(f"quarantine: {settings.quarantine_dir}/<entity>/ (Parquet, with the failed rules per row)")
    snapshot = settings.bi_dir / "kampung_kb_bi.duckdb"
    if snapshot.exists():
        lines.append(f"for BI tools: {snapshot} and {settings.bi_dir / 'parquet'}/<table>/ (see README)")
    if seconds is not None:
        lines.append(f"time taken: {seconds:.1f} s")
    return "\n".join(lines)
