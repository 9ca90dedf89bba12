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


# --- where the newest month's figures come from (kkb explain, summed up for the Dagster UI) ---

MAX_PROVINCES = 3
MAX_LEFT_OUT = 40
# the sources an explanation reads, each shown once, by the indicator that stands for it
SOURCE_INDICATORS = {
    "kampung_kb": "kelengkapan_laporan",
    "skdn": "d_s",
    "pengukuran": "stunting",
    "keluarga": "krs_rate",
}


def _why_counts(left_out: list[dict]) -> str:
    counts: dict[str, int] = {}
    for r in left_out:
        counts[r["why"]] = counts.get(r["why"], 0) + 1
    return ", ".join(f"{n} {why}" for why, n in sorted(counts.items())) or "none"


def explanation_markdown(con: duckdb.DuckDBPyConnection, quarantine_dir: Path, table: str) -> str | None:
    """For the newest month of the mart: every indicator of each province (at most MAX_PROVINCES) with its numerator,
    denominator and how many submissions entered it, what was left out and why, what was superseded. Aggregates and
    Kampung KB/posyandu-level lines only: person-level sources are summed per reason. None when the mart is empty."""
    from pipelines.lib import explain as ex

    newest = con.execute('select max(periode_key) from "rpt_provinsi_bulanan"').fetchone()
    if not newest or newest[0] is None:
        return None
    key = int(newest[0])
    periode = f"{key // 100}-{key % 100:02d}"
    provinces = con.execute(
        'select kode_prov, nama_prov from "rpt_provinsi_bulanan" where periode_key = ? order by kode_prov', [key]
    ).fetchall()
    out = [
        f"Where the **{periode}** figures come from. Every value of this mart is the sum of the submissions listed by "
        f"`kkb explain {table} --kode <kode> --periode {periode} --indikator <column>` (each report, file and row); "
        "here the province totals, which the units of this mart add up to."
    ]
    for kode, nama in provinces[:MAX_PROVINCES]:
        memo: dict = {}
        explained = {
            i: ex.explain_with(con, quarantine_dir, "rpt_provinsi_bulanan", kode, key, i, memo) for i in ex.INDICATORS
        }
        out += [
            "",
            f"#### {nama} ({kode})",
            "",
            "| indicator | % | numerator | denominator | contributions | adds up |",
            "|---|---|---|---|---|---|",
        ]
        for e in explained.values():
            out.append(
                f"| {e.label} | {_pct(e.value)} | {' + '.join(e.numerator_columns)} {e.numerator:,} | "
                f"{e.denominator_column} {e.denominator:,} | {len(e.contributions):,} {e.contribution_unit} | "
                f"{'yes' if e.sums_match and e.value_matches else '**NO**'} |"
            )
        out.append("")
        for source, i in SOURCE_INDICATORS.items():
            e = explained[i]
            unit = ex.SOURCES[source].unit
            line = f"- **{unit}**: "
            if e.expected is not None:
                line += f"{ex.SOURCES[source].expected}: {e.expected:,}; left out: {_why_counts(e.left_out)}; "
            quarantined = sum(r.get("rows", 1) for r in e.quarantined_other)
            line += f"other quarantined rows: {quarantined:,}; rejected files: {len(e.rejected_files)}; "
            line += f"superseded submissions: {len(e.superseded)}"
            out.append(line)
        left_out = explained["kelengkapan_laporan"].left_out
        if left_out:
            out += ["", "| Kampung KB left out | desa | why | reason |", "|---|---|---|---|"]
            out += [
                f"| {r['unit_id']} {r.get('unit_nama') or ''} | {r.get('nama_desa') or ''} ({r['kode_desa']}) | "
                f"{r['why']} | {r['reason']} |"
                for r in left_out[:MAX_LEFT_OUT]
            ]
            if len(left_out) > MAX_LEFT_OUT:
                out.append(f"\n… and {len(left_out) - MAX_LEFT_OUT} more: `kkb explain`.")
    if len(provinces) > MAX_PROVINCES:
        out.append(f"\n… and {len(provinces) - MAX_PROVINCES} more provinces: `kkb explain rpt_provinsi_bulanan`.")
    return "\n".join(out)


def explanation_previews(duckdb_path: Path, quarantine_dir: Path, tables: Iterable[str]) -> dict[str, str]:
    """table -> Markdown explanation of the newest month, for the reporting marts among `tables` (the province totals
    are the same for all of them: computed once)."""
    wanted = [t for t in tables if t in LEVELS]
    if not wanted or not duckdb_path.exists():
        return {}
    with duck.connect(str(duckdb_path), read_only=True) as con:
        existing = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        if "rpt_provinsi_bulanan" not in existing:
            return {}
        try:
            text = explanation_markdown(con, quarantine_dir, "{mart}")
        except Exception as exc:  # a preview never fails the step that built the marts; it says why it is missing
            text = f"The explanation could not be made: {str(exc).splitlines()[0]}"
        return {t: text.replace("{mart}", t) for t in wanted if t in existing} if text else {}
