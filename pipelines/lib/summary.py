"""The short report printed at the end of `make run`: rows per table, what was quarantined or rejected."""

from __future__ import annotations

import duckdb

from pipelines.config import Settings
from pipelines.lib import duck
from pipelines.lib.landing import parquet_rows
from pipelines.lib.manifest import read_manifest


def ingestion_rows(settings: Settings) -> list[tuple]:
    """Per entity: files loaded / duplicate / rejected (manifest), rows landed / quarantined now (on disk, so a
    rebuilt month counts as it is now), over all batches."""
    acc: dict[str, list[int]] = {}
    for r in read_manifest(settings):
        a = acc.setdefault(r["entity"], [0, 0, 0])
        a[{"loaded": 0, "duplicate": 1, "rejected": 2}[r["status"]]] += 1
    return [
        (e, *v, parquet_rows(settings.landing_dir / e), parquet_rows(settings.quarantine_dir / e))
        for e, v in sorted(acc.items())
    ]


def rejected_files(settings: Settings) -> list[tuple[str, str]]:
    return [(r["path"], r["reason"] or "") for r in read_manifest(settings) if r["status"] == "rejected"]


def top_quarantine_rules(settings: Settings, limit: int = 5) -> list[tuple[str, int]]:
    parts = (
        [str(p) for p in settings.quarantine_dir.glob("*/*/**/*.parquet")] if settings.quarantine_dir.exists() else []
    )
    if not parts:
        return []
    con = duck.connect()
    try:
        rel = con.read_parquet(parts, union_by_name=True)
        rows = rel.query(
            "q", "select r, count(*) from (select unnest(failed_rules) as r from q) group by r order by 2 desc, 1"
        )
        return [(str(r), int(n)) for r, n in rows.fetchall()[:limit]]
    finally:
        con.close()


def warehouse_rows(settings: Settings) -> list[tuple[str, int]]:
    if not settings.duckdb_path.exists():
        return []
    try:
        con = duck.connect(str(settings.duckdb_path), read_only=True)
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
    rules = top_quarantine_rules(settings)
    if rules:
        lines.append("  most frequent rules broken: " + ", ".join(f"{r} ({n:,})" for r, n in rules))
    rejected = rejected_files(settings)
    if rejected:
        lines.append(f"rejected files ({len(rejected)}; fix them at the source and drop a corrected copy in raw/):")
        lines += [f"  {path}: {reason}" for path, reason in rejected[:5]]
        if len(rejected) > 5:
            lines.append(f"  … and {len(rejected) - 5} more (`kkb summary`, or the manifest in landing/_manifest/)")
    skipped = sum(r.get("rows_skipped") or 0 for r in read_manifest(settings) if r["status"] == "loaded")
    if skipped:
        lines.append(
            f"rows skipped as not data (totals rows, examples, signature blocks): {skipped:,}, listed per file in "
            "the manifest (skipped_rows)"
        )
    snapshot = settings.bi_dir / "kampung_kb_bi.duckdb"
    if snapshot.exists():
        lines.append(f"for BI tools: {snapshot} and {settings.bi_dir / 'parquet'}/<table>/ (see README)")
    report = settings.report_dir / "index.html"
    if report.exists():
        lines.append(f"Kampung KB report: {report} (open in a browser; `make docs` for the dbt docs and Data Docs)")
    if seconds is not None:
        lines.append(f"time taken: {seconds:.1f} s")
    return "\n".join(lines)
