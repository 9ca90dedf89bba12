"""Turn text columns into typed columns, vectorised, remembering every value that could not be typed.

The validation frame uses float64 for integer columns (Great Expectations' pair expectations fail on pandas'
nullable Int64 with NA); landing casts them back to integers. A non-empty value that cannot be typed becomes null
and the row gets a `type_error:<column>` reason, so it is quarantined rather than silently blanked.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.lib.entities import Entity

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_INT = r"^[+-]?\d+(?:\.0*)?$"
_FLOAT = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"


def to_int(s: pd.Series) -> pd.Series:
    t = s.str.strip()
    ok = t.str.match(_INT)
    return pd.to_numeric(t.where(ok), errors="coerce").astype("float64")


def to_float(s: pd.Series) -> pd.Series:
    t = s.str.strip().str.replace(",", ".", regex=False)  # decimal comma (Indonesian Excel)
    ok = t.str.match(_FLOAT)
    return pd.to_numeric(t.where(ok), errors="coerce").astype("float64")


def to_date(s: pd.Series) -> pd.Series:
    """YYYY-MM-DD[ time], DD/MM/YYYY, DD-MM-YYYY, or an Excel serial day number."""
    t = s.str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    iso = t.str.match(r"^\d{4}-\d{2}-\d{2}")
    out[iso] = pd.to_datetime(t[iso].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    dmy = t.str.match(r"^\d{1,2}[/-]\d{1,2}[/-]\d{4}$")
    out[dmy] = pd.to_datetime(t[dmy].str.replace("-", "/", regex=False), format="%d/%m/%Y", errors="coerce")
    serial = t.str.match(r"^\d{5}(?:\.0*)?$")
    days = pd.to_numeric(t[serial], errors="coerce")
    out[serial] = EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
    return out


def to_kode_wilayah(s: pd.Series) -> pd.Series:
    """'1901012001' / '1901012001.0' / ' 19.01.01.2001 ' -> '19.01.01.2001'; other shapes are kept as sent
    (the suite then rejects them by look-up, with the value in the quarantine record)."""
    t = s.str.strip().str.replace(r"\.0+$", "", regex=True)
    digits = t.str.match(r"^\d{10}$")
    dotted = t[digits].str.replace(r"^(\d{2})(\d{2})(\d{2})(\d{4})$", r"\1.\2.\3.\4", regex=True)
    return t.where(~digits, dotted).replace("", pd.NA)


def to_text(s: pd.Series) -> pd.Series:
    return s.str.strip().replace("", pd.NA)


def to_list(s: pd.Series) -> pd.Series:
    """'APBN,Dana Desa ; CSR' -> 'APBN, Dana Desa, CSR' (items trimmed, empties dropped); empty -> null."""
    items = s.str.split(r"\s*[,;]\s*", regex=True)
    joined = items.map(lambda xs: ", ".join(x.strip() for x in xs if x.strip()), na_action="ignore")
    return joined.replace("", pd.NA)


def age(birth: pd.Series, at: pd.Series | pd.Timestamp, unit: str) -> pd.Series:
    """Completed months or years between two dates (negative when born after `at`); null when either is null."""
    at_s = at if isinstance(at, pd.Series) else pd.Series(at, index=birth.index)
    b, a = birth.dt, at_s.dt
    if unit == "months":
        out = (a.year - b.year) * 12 + (a.month - b.month) - (a.day < b.day).astype("float64")
    else:
        out = (a.year - b.year) - ((a.month < b.month) | ((a.month == b.month) & (a.day < b.day))).astype("float64")
    return out.astype("float64")


_CONVERTERS = {
    "int": to_int,
    "float": to_float,
    "date": to_date,
    "birth_date": to_date,
    "kode_wilayah": to_kode_wilayah,
    "list": to_list,
}


def coerce(raw: pd.DataFrame, entity: Entity, today: dt.date | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Typed frame (same index; absent optional columns become nulls) and per-row lists of type errors.

    A `birth_date` column also yields its age column (`land_as`), at `age_at` or at `today`.
    """
    typed = pd.DataFrame(index=raw.index)
    errors = pd.Series([[] for _ in range(len(raw))], index=raw.index, dtype=object)
    for col in entity.columns:
        values = raw[col.name] if col.name in raw else pd.Series("", index=raw.index, dtype="str")
        conv = _CONVERTERS.get(col.type, to_text)
        out = conv(values)
        typed[col.name] = out
        bad = out.isna() & values.str.strip().ne("")
        if bad.any():
            for i in bad[bad].index:
                errors.at[i] = [*errors.at[i], f"type_error:{col.name}"]
    for col in entity.columns:
        if col.type == "birth_date":
            at = typed[col.age_at] if col.age_at else pd.Timestamp(today or dt.date.today())
            typed[col.land_as or "umur"] = age(typed[col.name], at, col.age_unit)
    typed["_row"] = raw["_row"].to_numpy()
    return typed, errors
