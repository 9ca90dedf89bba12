"""Typing in DuckDB (pipelines/lib/coerce.py): the spreadsheet rules, Python's whitespace and digits, type errors."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.lib.coerce import coerce
from pipelines.lib.entities import KKBPK_BULANAN, Column, Entity
from tests.kkbpk_files import HEADER, csv_row

ALL_TYPES = Entity(
    name="x",
    folder="x",
    description="every column type",
    suite="x",
    group="x",
    columns=(
        Column("i", "int"),
        Column("f", "float"),
        Column("d", "date"),
        Column("k", "kode_wilayah"),
        Column("l", "list"),
        Column("s", "str"),
        Column("lahir", "birth_date", age_at="d", age_unit="months", land_as="umur_bulan"),
        Column("lahir2", "birth_date", land_as="umur", required=False),
        Column("absent", "int", required=False),
    ),
)
NBSP = "\xa0"
ERR = "type_error"

# (column, as sent, typed value or None, a type error?)
CASES = [
    ("i", "12", 12.0, False), ("i", " 13.0", 13.0, False), ("i", "abc", None, ERR), ("i", "", None, False),
    ("i", "-4", -4.0, False), ("i", f"{NBSP}5{NBSP}", 5.0, False), ("i", "٥", None, ERR), ("i", "+7", 7.0, False),
    ("i", "7.", 7.0, False), ("i", "1e3", None, ERR), ("i", "\n8\n", 8.0, False), ("i", "1.5", None, ERR),
    ("f", "12,4", 12.4, False), ("f", "3.5", 3.5, False), ("f", ".5", 0.5, False), ("f", "+.5", 0.5, False),
    ("f", "1e3", 1000.0, False), ("f", "1,234.5", 1234.5, False), ("f", "x", None, ERR), ("f", "", None, False),
    ("f", "nan", None, ERR), ("f", "١٢", None, ERR),
    ("d", "2024-02-03", "2024-02-03", False), ("d", "03/02/2024", "2024-02-03", False),
    ("d", "45325", "2024-02-03", False), ("d", "45325.0", "2024-02-03", False), ("d", "31/02/2024", None, ERR),
    ("d", "5/3/2024", "2024-03-05", False), ("d", "5-3-2024", "2024-03-05", False),
    ("d", "2024-02-03 10:00", "2024-02-03", False), ("d", "2024-1-5", "2024-01-05", False), ("d", "", None, False),
    ("d", "13/13/2024", None, ERR),
    ("k", "1901012007", "19.01.01.2007", False), ("k", "1901012007.0", "19.01.01.2007", False),
    ("k", " 19.01.01.2007 ", "19.01.01.2007", False), ("k", "abc", "abc", False), ("k", ".0", None, ERR),
    ("k", "", None, False), ("k", "19010120071", "19010120071", False), ("k", "19.01", "19.01", False),
    ("l", "APBN,Dana Desa ; CSR", "APBN, Dana Desa, CSR", False), ("l", " , ;", None, ERR), ("l", "", None, False),
    ("l", " a ", "a", False), ("l", "a;;b", "a, b", False), ("l", f"{NBSP}x{NBSP},y", "x, y", False),
    ("s", " a ", "a", False), ("s", "", None, False), ("s", NBSP, None, False), ("s", "Ma’ruf", "Ma’ruf", False),
]  # fmt: skip


def one_column(col: str, values: list[str], other: dict[str, str] | None = None) -> pd.DataFrame:
    raw = pd.DataFrame({col: values}, dtype="str")
    for name, value in (other or {}).items():
        raw[name] = value
    raw["_row"] = range(2, 2 + len(values))
    return raw


@pytest.mark.parametrize("col", sorted({c for c, *_ in CASES}))
def test_typing_rules(col):
    cases = [(sent, want, err) for c, sent, want, err in CASES if c == col]
    typed, errors, _ = coerce(one_column(col, [s for s, _, _ in cases]), ALL_TYPES, dt.date(2025, 1, 15))
    got = [None if pd.isna(v) else (v.date().isoformat() if isinstance(v, pd.Timestamp) else v) for v in typed[col]]
    assert got == [want for _, want, _ in cases]
    assert [e == [f"type_error:{col}"] for e in errors] == [bool(err) for _, _, err in cases]


def test_dtypes_absent_columns_and_row_numbers():
    raw = one_column("i", ["1", "2"], {"s": "x"})
    raw.index = [10, 11]
    typed, errors, _ = coerce(raw, ALL_TYPES, dt.date(2025, 1, 15))
    assert list(typed.index) == [10, 11] and list(errors.index) == [10, 11]
    assert typed["_row"].tolist() == [2, 3]
    assert str(typed["i"].dtype) == "float64" and str(typed["absent"].dtype) == "float64"
    assert str(typed["d"].dtype) == "datetime64[us]"
    assert typed["absent"].isna().all() and typed["d"].isna().all()
    assert errors.tolist() == [[], []]  # an absent optional column is no error


def test_ages_in_completed_months_and_years():
    raw = one_column(
        "lahir",
        ["2024-01-31", "2024-02-29", "2024-03-05", "2025-02-01", ""],
        {"d": "2024-03-05", "lahir2": "1990-03-06"},
    )
    typed, _, _ = coerce(raw, ALL_TYPES, dt.date(2025, 3, 5))
    assert typed["umur_bulan"].tolist()[:4] == [1.0, 0.0, 0.0, -11.0]  # at the measurement date `d`
    assert pd.isna(typed["umur_bulan"].iloc[4])
    assert typed["umur"].tolist() == [34.0] * 5  # at the ingestion date: the birthday is tomorrow


def test_several_type_errors_in_one_row_are_all_named():
    raw = one_column("i", ["x", "1"], {"f": "y", "d": "32/01/2024"})
    _, errors, _ = coerce(raw, ALL_TYPES, dt.date(2025, 1, 15))
    assert sorted(errors.iloc[0]) == ["type_error:d", "type_error:f", "type_error:i"]
    assert sorted(errors.iloc[1]) == ["type_error:d", "type_error:f"]


def test_untypeable_value_is_a_type_error_not_a_blank():
    raw = pd.DataFrame([csv_row(1, tanggal="2024-02-03", pa_pil="abc")], columns=HEADER, dtype="str")
    raw["_row"] = [2]
    typed, errors, _ = coerce(raw, KKBPK_BULANAN)
    assert pd.isna(typed.loc[0, "pa_pil"])
    assert errors[0] == ["type_error:pa_pil"]


def test_rows_keep_their_order_and_their_own_errors_on_a_large_chunk():
    n = 300_000  # several DuckDB vectors and row groups, both threads busy
    values = [str(i) if i % 7 else f"x{i}" for i in range(n)]
    raw = one_column("i", values)
    raw["_row"] = range(n, 0, -1)  # descending: a reordering would show
    typed, errors, _ = coerce(raw, ALL_TYPES, dt.date(2025, 1, 15))
    assert typed["_row"].tolist() == list(range(n, 0, -1))
    assert typed["i"].iloc[1:6].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [i for i, e in enumerate(errors) if e] == list(range(0, n, 7))


def test_a_date_in_the_future_whichever_its_order_is_judged_as_a_future_date_not_as_ambiguous():
    """02/03/2034 in a file with no day above 12: 2 March or 3 February, 2034 is in the future either way."""
    raw = one_column("d", ["02/03/2034", "02/03/2024"])
    typed, errors, _ = coerce(raw, ALL_TYPES, dt.date(2025, 1, 15))
    assert typed["d"].iloc[0] == pd.Timestamp("2034-02-03") and errors.iloc[0] == []  # the earlier reading
    assert pd.isna(typed["d"].iloc[1]) and errors.iloc[1] == ["ambiguous_date:d"]
