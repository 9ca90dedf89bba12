"""Turn text columns into typed columns, in DuckDB, remembering every value that could not be typed.

One SQL query per chunk types every column (issue 8: typing in pandas, `to_numeric` on text and the per-column
regexes, was the largest cost of ingestion). The rules are the ones a person expects of a spreadsheet:

  int    '12', '+12', '12.0', '12.' (surrounding whitespace ignored)
  float  also '12,5' (decimal comma, Indonesian Excel), '.5', '1e3'
  date   YYYY-MM-DD[ time], DD/MM/YYYY, DD-MM-YYYY (day and month may be one digit), or an Excel serial day number
  kode_wilayah  '1901012001' / '1901012001.0' / ' 19.01.01.2001 ' -> '19.01.01.2001'; other shapes are kept as
         sent (the suite then rejects them by look-up, with the value in the quarantine record)
  list   'APBN,Dana Desa ; CSR' -> 'APBN, Dana Desa, CSR' (items trimmed, empties dropped)
  text   trimmed; empty is null

"Whitespace" is Python's (`str.strip`: also the no-break space Excel leaves), "digit" any Unicode decimal digit
(Python's `\\d`), so a value the provider sees as a number is judged as one. The validation frame uses float64 for
integer columns (Great Expectations' pair expectations fail on pandas' nullable Int64 with NA); landing casts them
back to integers. A non-empty value that cannot be typed becomes null and the row gets a `type_error:<column>`
reason, so it is quarantined rather than silently blanked.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.lib import duck
from pipelines.lib.entities import Column, Entity

EXCEL_EPOCH = dt.date(1899, 12, 30)
# Python's str.isspace() characters (what str.strip() removes), as an RE2 class
_WS = r"[\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_D = r"\p{Nd}"
_INT = rf"[+-]?{_D}+(?:\.0*)?"
_SERIAL = rf"{_D}{{5}}(?:\.0*)?"
_FLOAT = rf"[+-]?(?:{_D}+(?:\.{_D}*)?|\.{_D}+)(?:[eE][+-]?{_D}+)?"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _strip(expr: str) -> str:
    """Python's `str.strip()`; the replace only runs on values that need it (most do not: 1.5x faster)."""
    edge, edges = _lit(f"^{_WS}|{_WS}$"), _lit(f"^{_WS}+|{_WS}+$")
    return f"case when regexp_matches({expr}, {edge}) then regexp_replace({expr}, {edges}, '', 'g') else {expr} end"


def _typed(col: Column, t: str) -> str:
    """SQL typing the stripped text `t` of one column; null when it cannot be typed."""
    match col.type:
        case "int":
            return f"case when regexp_full_match({t}, {_lit(_INT)}) then try_cast({t} as double) end"
        case "float":
            f = f"replace({t}, ',', '.')"
            return f"case when regexp_full_match({f}, {_lit(_FLOAT)}) then try_cast({f} as double) end"
        case "date" | "birth_date":
            return (
                f"case when regexp_matches({t}, {_lit(f'^{_D}{{4}}-{_D}{{2}}-{_D}{{2}}')}) "
                f"then try_strptime(substr({t}, 1, 10), '%Y-%m-%d') "
                f"when regexp_full_match({t}, {_lit(f'{_D}{{1,2}}[/-]{_D}{{1,2}}[/-]{_D}{{4}}')}) "
                f"then try_strptime(replace({t}, '-', '/'), '%d/%m/%Y') "
                f"when regexp_full_match({t}, {_lit(_SERIAL)}) "
                f"then (date '{EXCEL_EPOCH.isoformat()}' + cast(try_cast({t} as double) as integer))::timestamp end"
            )
        case "kode_wilayah":
            k = f"regexp_replace({t}, '\\.0+$', '')"
            return (
                f"case when regexp_full_match({k}, {_lit(f'{_D}{{10}}')}) then substr({k}, 1, 2) || '.' || "
                f"substr({k}, 3, 2) || '.' || substr({k}, 5, 2) || '.' || substr({k}, 7, 4) else nullif({k}, '') end"
            )
        case "list":
            items = f"list_transform(regexp_split_to_array({t}, '[,;]'), x -> {_strip('x')})"
            return f"nullif(array_to_string(list_filter({items}, x -> x <> ''), ', '), '')"
        case _:
            return f"nullif({t}, '')"


_NULL_OF = {"int": "double", "float": "double", "date": "timestamp", "birth_date": "timestamp"}


def _age(birth: str, at: str, unit: str) -> str:
    """Completed months or years between two timestamps (negative when born after `at`); null when either is."""
    if unit == "months":
        out = f"(year({at}) - year({birth})) * 12 + (month({at}) - month({birth})) - (day({at}) < day({birth}))::int"
    else:
        out = (
            f"(year({at}) - year({birth})) - (month({at}) < month({birth}) or "
            f"(month({at}) = month({birth}) and day({at}) < day({birth})))::int"
        )
    return f"cast({out} as double)"


def typing_sql(entity: Entity, present: set[str], today: dt.date, table: str) -> str:
    """The query typing `table` (text columns named as the entity's, `_row`): typed columns, ages, `_row` and
    `_type_errors` (the list of `type_error:<column>` of the row; null when none)."""
    cols = [c for c in entity.columns if c.name in present]
    stripped = [f"{_strip(_q(c.name))} as {_q('_t_' + c.name)}" for c in cols]
    typed = [
        f"{_typed(c, _q('_t_' + c.name))} as {_q(c.name)}"
        if c.name in present
        else f"cast(null as {_NULL_OF.get(c.type, 'varchar')}) as {_q(c.name)}"
        for c in entity.columns
    ]
    errors = [
        f"case when {_q(c.name)} is null and {_q('_t_' + c.name)} <> '' then {_lit('type_error:' + c.name)} end"
        for c in cols
    ]
    ages = [
        f", {_age(_q(c.name), _q(c.age_at) if c.age_at else f'timestamp {_lit(today.isoformat())}', c.age_unit)} "
        f"as {_q(c.land_as or 'umur')}"
        for c in entity.columns
        if c.type == "birth_date"
    ]
    error_list = (
        f"nullif(list_filter([{', '.join(errors)}]::varchar[], x -> x is not null), []::varchar[])"
        if errors
        else "cast(null as varchar[])"
    )
    names = ", ".join(_q(c.name) for c in entity.columns)
    return (
        f"select {names}{''.join(ages)}, _row, {error_list} as _type_errors from ("
        f"select {', '.join(typed)}, {', '.join(_q('_t_' + c.name) for c in cols) or 'null as _none'}, _row "
        f"from (select {', '.join([*stripped, '_row'])} from {table}))"
    )


def coerce(
    raw: pd.DataFrame,
    entity: Entity,
    today: dt.date | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Typed frame (same index; absent optional columns become nulls) and per-row lists of type errors.

    A `birth_date` column also yields its age column (`land_as`), at `age_at` or at `today`.
    """
    present = {c.name for c in entity.columns if c.name in raw}
    cols = [c.name for c in entity.columns if c.name in present]
    text = pa.Table.from_pandas(raw[cols], preserve_index=False) if cols else pa.table({})
    text = text.cast(pa.schema([(c, pa.string()) for c in cols]))
    text = text.append_column("_row", pa.array(raw["_row"].to_numpy(), type=pa.int64()))
    cur = duck.scratch()
    try:
        cur.register("raw_text", text)
        out = cur.execute(typing_sql(entity, present, today or dt.date.today(), "raw_text")).to_arrow_table()
    finally:
        cur.close()
    # a projection keeps the input's row order (DuckDB's preserve_insertion_order, on by default), so positions match
    typed = out.drop_columns(["_type_errors"]).to_pandas()
    typed.index = raw.index
    errors = pd.Series([[] for _ in range(len(raw))], index=raw.index, dtype=object)
    found = out.column("_type_errors")
    if found.null_count < len(found):
        positions = pc.indices_nonzero(pc.is_valid(found))
        for pos, labels in zip(positions.to_pylist(), found.take(positions).to_pylist(), strict=True):
            errors.iat[pos] = labels
    return typed, errors
