"""When each source is due, per kabupaten/kota, and which kabupaten are overdue.

A kabupaten is watched for a source once it has delivered that source at least once (the office's own remit; a
kabupaten that never sent anything is not flagged). It is overdue when the newest period it delivered is older than
the period due today:
- Kampung KB monthly reports: month M is due by the 3rd of month M+1 (the programme's reporting deadline);
- SKDN recaps: month M is due by the 10th of month M+1 (posyandu -> puskesmas -> kabupaten takes longer);
- PK family register: the round of year Y is due by 31 December of Y.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Cadence:
    entity: str
    yearly: bool
    due_day: int  # monthly: day of the next month by which a month is due
    kabupaten_sql: str  # the kabupaten code (`19.01`) from the landing columns
    period_sql: str  # yyyymm (monthly) or yyyy (yearly)
    description: str


def _kab_from_desa(col: str) -> str:
    return f"left({col}, 5)"


CADENCES = {
    "kkbpk_bulanan": Cadence(
        "kkbpk_bulanan", False, 3, _kab_from_desa("kode_desa"), "tahun * 100 + bulan",
        "Kampung KB monthly report: month M due by the 3rd of M+1",
    ),
    "skdn": Cadence(
        "skdn", False, 10, "substr(kode_posyandu, 1, 2) || '.' || substr(kode_posyandu, 3, 2)",
        "tahun * 100 + bulan", "SKDN recap: month M due by the 10th of M+1",
    ),
    "pk_keluarga": Cadence(
        "pk_keluarga", True, 0, _kab_from_desa("kode_desa"), "tahun_pendataan",
        "PK family register: the round of year Y due by 31 December of Y",
    ),
}  # fmt: skip


def due_period(cadence: Cadence, today: dt.date) -> int:
    """The newest period that must have arrived by `today` (yyyymm, or yyyy for yearly sources)."""
    if cadence.yearly:
        return today.year - 1
    # month M is due on day `due_day` of M+1: on that day or later, M is due; before it, M-1
    first = today.replace(day=1)
    last_month = first - dt.timedelta(days=1)
    month = last_month if today.day >= cadence.due_day else (last_month.replace(day=1) - dt.timedelta(days=1))
    return month.year * 100 + month.month


@dataclass(frozen=True)
class Overdue:
    kode_kab: str
    last_period: int
    due_period: int


def overdue(landing_dir: Path, cadence: Cadence, today: dt.date) -> tuple[list[Overdue], int]:
    """Overdue kabupaten for one source, and how many kabupaten are watched."""
    files = sorted(str(p) for p in (landing_dir / cadence.entity).rglob("*.parquet") if "_schema" not in p.parts)
    if not files:
        return [], 0
    due = due_period(cadence, today)
    rows = duckdb.sql(
        f"select {cadence.kabupaten_sql} as kab, max({cadence.period_sql}) as last "
        f"from read_parquet({files!r}, union_by_name = true) group by 1 order by 1"
    ).fetchall()
    return [Overdue(kab, int(last), due) for kab, last in rows if int(last) < due], len(rows)
