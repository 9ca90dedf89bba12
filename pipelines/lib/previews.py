"""Markdown previews of the reporting marts for the Dagster UI: the newest month, aggregates only.

Province and kabupaten/kota marts list their regions; the marts below (kecamatan, desa, Kampung KB) show how each
indicator is spread over their units (quartiles), never a unit's own row. Taken after dbt has exited (the DuckDB
file is locked while it runs), from the warehouse, the same numbers analysts see before suppression of small cells.
"""

from collections.abc import Iterable
from pathlib import Path

import duckdb

from pipelines.lib import duck

# (column, label) of the indicators shown, in percent; a mart shows those it has
INDIKATOR = [
    ("cpr", "CPR"),
    ("mkjp", "MKJP"),
    ("unmet_need", "Unmet need"),
    ("d_s", "D/S"),
    ("stunting", "Stunting"),
    ("kelengkapan_laporan", "Reporting completeness"),
    ("cakupan_desa", "Desa with a Kampung KB"),
]
# mart -> (unit name column, unit label, list the units?)
LEVELS = {
    "rpt_provinsi_bulanan": ("nama_prov", "provinsi", True),
    "rpt_kabupaten_bulanan": ("nama_kab", "kabupaten/kota", True),
    "rpt_kecamatan_bulanan": ("nama_kec", "kecamatan", False),
    "rpt_desa_bulanan": ("nama_desa", "desa/kelurahan", False),
    "rpt_kampung_kb_bulanan": ("nama_kampung", "Kampung KB", False),
}
MAX_LISTED = 40


def _pct(value) -> str:
    return "–" if value is None else f"{float(value):.1f}"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute("select column_name from information_schema.columns where table_name = ?", [table])
    return [r[0] for r in rows.fetchall()]


def mart_preview(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """The newest month of one reporting mart as Markdown, or None when the mart is empty."""
    name_col, unit, listed = LEVELS[table]
    columns = _columns(con, table)
    shown = [(col, label) for col, label in INDIKATOR if col in columns]
    newest = con.execute(f'select max(periode_key) from "{table}"').fetchone()
    if not newest or newest[0] is None:
        return None
    periode = int(newest[0])
    units = con.execute(f'select count(*) from "{table}" where periode_key = ?', [periode]).fetchone()
    head = f"Newest month **{periode // 100}-{periode % 100:02d}**; {unit} rows in it: {units[0] if units else 0}.\n\n"
    if listed:
        rows = con.execute(
            f'select "{name_col}", {", ".join(col for col, _ in shown)} from "{table}" '
            f'where periode_key = ? order by "{name_col}" limit {MAX_LISTED + 1}',
            [periode],
        ).fetchall()
        lines = [
            f"| {unit} | " + " | ".join(f"{label} %" for _, label in shown) + " |",
            "|---" * (len(shown) + 1) + "|",
            *(f"| {r[0]} | " + " | ".join(_pct(v) for v in r[1:]) + " |" for r in rows[:MAX_LISTED]),
        ]
        more = f"\n\n… and more (first {MAX_LISTED} by name)." if len(rows) > MAX_LISTED else ""
        return head + "\n".join(lines) + more
    # below the kabupaten: the spread over units, never one unit's row
    selects = ", ".join(
        f"count({col}), min({col}), quantile_cont({col}, 0.25), median({col}), quantile_cont({col}, 0.75), max({col})"
        for col, _ in shown
    )
    values = con.execute(f'select {selects} from "{table}" where periode_key = ?', [periode]).fetchone() or ()
    lines = [
        f"| indicator (%) | {unit} with a value | min | 25 % | median | 75 % | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, (_, label) in enumerate(shown):
        n, *quantiles = values[i * 6 : i * 6 + 6]
        lines.append(f"| {label} | {n} | " + " | ".join(_pct(q) for q in quantiles) + " |")
    return head + "\n".join(lines)


def mart_previews(duckdb_path: Path, tables: Iterable[str]) -> dict[str, str]:
    """table -> Markdown, for the reporting marts among `tables` that exist and hold rows."""
    wanted = [t for t in tables if t in LEVELS]
    if not wanted or not duckdb_path.exists():
        return {}
    with duck.connect(str(duckdb_path), read_only=True) as con:
        existing = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        out = {}
        for table in wanted:
            if table in existing and (text := mart_preview(con, table)):
                out[table] = text
        return out
