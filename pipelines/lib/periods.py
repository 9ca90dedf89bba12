"""The reporting period of each row, and the folder it is landed in.

A period key is what the Dagster partitions are called: "2024-03" for a month, "2024" for a PK round (year). Rows
whose period cannot be read (a month 13, a date that is not one) belong to no period; they can only be in
quarantine, in the folder `tanpa-periode`.
"""

from __future__ import annotations

import re

import pandas as pd

from pipelines.lib.entities import Period

NO_PERIOD = "tanpa-periode"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^\d{4}$")


def period_keys(typed: pd.DataFrame, period: Period) -> pd.Series:
    """Per row: the period key, or None when the period columns do not make one (vectorised)."""
    if period.unit == "month" and len(period.columns) == 1:
        dates = pd.to_datetime(typed[period.columns[0]], errors="coerce")
        return _or_none(dates.dt.strftime("%Y-%m"), dates.notna() & dates.dt.year.between(1000, 9999))
    year = _whole_numbers(typed[period.columns[0]])
    ok = year.between(1000, 9999)
    text = year.astype("string").str.zfill(4)
    if period.unit == "month":
        month = _whole_numbers(typed[period.columns[1]])
        ok &= month.between(1, 12)
        text = text + "-" + month.astype("string").str.zfill(2)
    return _or_none(text, ok.fillna(False))


def _or_none(text: pd.Series, ok: pd.Series) -> pd.Series:
    out = text.astype(object)
    out[~ok.astype(bool)] = None
    return out


def _whole_numbers(values: pd.Series) -> pd.Series:
    n = pd.to_numeric(values, errors="coerce")
    return n.where(n.notna() & (n == n.round())).astype("Int64")


def folder_name(key: str | None) -> str:
    """The folder of a period inside a batch: bulan-2024-03, tahun-2024, tanpa-periode."""
    if key is None or pd.isna(key):
        return NO_PERIOD
    return f"bulan-{key}" if _MONTH.match(key) else f"tahun-{key}"


def check_key(key: str, period: Period) -> str:
    """A period key as the user typed it, checked against the entity's unit ("2024-03" or "2024")."""
    pattern = _MONTH if period.unit == "month" else _YEAR
    if not pattern.match(key):
        example = "2024-03" if period.unit == "month" else "2024"
        raise ValueError(f"{key!r} is not a {period.unit} key like {example!r}")
    return key
