"""Turn text columns into typed columns, in DuckDB, remembering every value that could not be read.

Two queries per chunk: the *evidence* query learns, per file, its decimal mark and its date order from its own
unambiguous values (`Evidence`); the *typing* query then types every column with the conventions of
`pipelines/lib/conventions.py` (the one place where they are written down), knowing each row's file conventions.
A file read in several chunks carries its evidence from chunk to chunk (`pipelines/lib/ingest.py` re-reads it in the
rare case a later chunk changes what the first ones decided).

  int           '12', '+12', '12.0', '1.234' (thousands), '1 234', '-' (nil, in count columns), month names in `bulan`
  float         '12,5', '12.5', '1.234,5', '.5', '1e3'; '1.234' read by the file's decimal mark
  date          ISO, DD/MM/YYYY or MM/DD/YYYY by the file's order, month names, two-digit years, Excel serials
  kode_wilayah  '1901012001' / '1901012001.0' / ' 19.01.01.2001 ' -> '19.01.01.2001'; other shapes are kept as
                sent (the suite then rejects them by look-up, with the value in the quarantine record)
  list          'APBN,Dana Desa ; CSR' -> 'APBN, Dana Desa, CSR' (items trimmed, empties dropped)
  text          trimmed; empty is null

"Whitespace" is Python's (`str.strip`: also the no-break space Excel leaves). The validation frame uses float64 for
integer columns (Great Expectations' pair expectations fail on pandas' nullable Int64 with NA); landing casts them
back to integers. A non-empty value that cannot be read becomes null and the row gets a `<problem>:<column>` label
(`type_error`, `ambiguous_number`, `ambiguous_date`, `two_digit_year`), so it is quarantined rather than blanked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.lib import conventions as cv
from pipelines.lib import duck
from pipelines.lib.entities import Column, Entity

EXCEL_EPOCH = dt.date(1899, 12, 30)
# Python's str.isspace() characters (what str.strip() removes), as an RE2 class
_WS = (
    r"[\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
    r"\x{200b}\x{feff}]"
)  # and the zero-width space and BOM that copy-pasted codes carry
_S = "[+-]?"
_GROUP_SPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in cv.GROUP_SPACES) + "]"
# number shapes (ASCII digits: any other digit is a type error)
_DIGITS = "[0-9]+"
_DOT_GROUPS = "[0-9]{1,3}(?:\\.[0-9]{3})+"  # 1.234 / 1.234.567
_COMMA_GROUPS = "[0-9]{1,3}(?:,[0-9]{3})+"
_ID = f"{_S}(?:(?:{_DOT_GROUPS}|[0-9]+)(?:,[0-9]*)?|,[0-9]+)"  # Indonesian: '.' thousands, ',' decimal
_EN = f"{_S}(?:(?:{_COMMA_GROUPS}|[0-9]+)(?:\\.[0-9]*)?|\\.[0-9]+)"  # English: ',' thousands, '.' decimal
_EXP = f"{_S}(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)[eE][+-]?[0-9]+"
# a value whose form alone says which mark is the decimal one (evidence); a single group of exactly three digits
# after one to three digits does not (1.234 / 1,234)
_COMMA_DECIMAL = f"{_S}(?:[0-9]{{4,}},[0-9]+|[0-9]{{1,3}},(?:[0-9]{{1,2}}|[0-9]{{4,}})|{_DOT_GROUPS},[0-9]+|[0-9]{{1,3}}(?:\\.[0-9]{{3}}){{2,}})"  # noqa: E501
_DOT_DECIMAL = f"{_S}(?:[0-9]{{4,}}\\.[0-9]+|[0-9]{{1,3}}\\.(?:[0-9]{{1,2}}|[0-9]{{4,}})|{_COMMA_GROUPS}\\.[0-9]+|[0-9]{{1,3}}(?:,[0-9]{{3}}){{2,}})"  # noqa: E501
# dates
_TIME = "(?:[ T].*)?"
_ISO = f"([0-9]{{4}})[-/]([0-9]{{1,2}})[-/]([0-9]{{1,2}}){_TIME}"
_NUMERIC_DATE = f"([0-9]{{1,2}})[-/.]([0-9]{{1,2}})[-/.]([0-9]{{4}}|[0-9]{{2}}){_TIME}"
_DAY_NAME_YEAR = f"([0-9]{{1,2}})[ .,/-]+([a-z]+)\\.?[ .,/-]+([0-9]{{4}}|[0-9]{{2}}){_TIME}"
_NAME_DAY_YEAR = f"([a-z]+)\\.?[ ]+([0-9]{{1,2}}),?[ ]+([0-9]{{4}}){_TIME}"
_SERIAL = f"[0-9]{{{cv.EXCEL_SERIAL_DIGITS}}}(?:\\.[0-9]*)?"
_WEEKDAY = "^(?:" + "|".join(w.replace("'", "''?") for w in cv.WEEKDAYS) + ")[ ]*,?[ ]*"


@dataclass(frozen=True)
class Evidence:
    """What a file's own unambiguous values say about its conventions."""

    comma_decimal: bool = False
    dot_decimal: bool = False
    day_first: bool = False
    month_first: bool = False

    def __or__(self, other: Evidence) -> Evidence:
        return Evidence(*(a or b for a, b in zip(self.flags, other.flags, strict=True)))

    @property
    def flags(self) -> tuple[bool, bool, bool, bool]:
        return (self.comma_decimal, self.dot_decimal, self.day_first, self.month_first)

    @property
    def decimal(self) -> str:
        return _decide(self.comma_decimal, self.dot_decimal, "comma", "dot")

    @property
    def date_order(self) -> str:
        return _decide(self.day_first, self.month_first, "dmy", "mdy")

    def describe(self) -> str:
        return f"decimal mark: {self.decimal}; date order: {self.date_order}"


def _decide(a: bool, b: bool, name_a: str, name_b: str) -> str:
    return name_a if a and not b else name_b if b and not a else "conflict" if a else "unknown"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _full(expr: str, pattern: str) -> str:
    return f"regexp_full_match({expr}, {_lit(pattern)})"


def _strip(expr: str) -> str:
    """Python's `str.strip()`; the replace only runs on values that need it (most do not: 1.5x faster)."""
    edge, edges = _lit(f"^{_WS}|{_WS}$"), _lit(f"^{_WS}+|{_WS}+$")
    return f"case when regexp_matches({expr}, {edge}) then regexp_replace({expr}, {edges}, '', 'g') else {expr} end"


def _unquoted(s: str) -> str:
    """A leading apostrophe before a digit or sign dropped (Excel's "number stored as text"); `s` is stripped."""
    return f"case when starts_with({s}, '''') then regexp_replace({s}, '^''([0-9+-])', '\\1') else {s} end"


# ---------------------------------------------------------------- numbers


def _ungrouped(t: str) -> str:
    """Thousands grouped by spaces ('1 234', '1 234,5') without the spaces; anything else unchanged."""
    grouped = f"[+-]?[0-9]{{1,3}}(?:{_GROUP_SPACE}[0-9]{{3}})+(?:[.,][0-9]*)?"
    has_space = " or ".join(f"strpos({t}, chr({ord(c)})) > 0" for c in cv.GROUP_SPACES)
    return (
        f"case when ({has_space}) and {_full(t, grouped)} then regexp_replace({t}, {_lit(_GROUP_SPACE)}, '', 'g') "
        f"else {t} end"
    )


def _as_id(t: str) -> str:
    return f"try_cast(replace(replace({t}, '.', ''), ',', '.') as double)"


def _as_en(t: str) -> str:
    return f"try_cast(replace({t}, ',', '') as double)"


def _int_sql(col: Column, t: str, dec: str) -> tuple[str, str]:
    """(value, problem) SQL for a count/code column; `t` is the cleaned text, `dec` the file's decimal mark."""
    nil = " or ".join(f"{t} = {_lit(m)}" for m in cv.NIL_MARKS)
    whole_zeros = f"{_S}[0-9]+[.,]0*"  # 12.0 / 12,00 / 7.
    three_zeros = f"{_S}[0-9]{{1,3}}[.,][0-9]{{3}}"  # 1.000: a thousands group, not decimal zeros
    month = ""
    if col.month_names:
        names = " ".join(f"when {_lit(k)} then {v}" for k, v in cv.MONTHS.items())
        month = (
            f"when regexp_full_match(lower({t}), '[a-z]+\\.?') then (case rtrim(lower({t}), '.') {names} end)::double "
        )
    value = (
        f"case when {t} = '' then null "
        + (f"when {nil} then 0::double " if col.nil_is_zero else "")
        + f"when {_full(t, _S + _DIGITS)} then try_cast({t} as double) "
        + month
        + f"when {_full(t, whole_zeros)} and not {_full(t, three_zeros)} "
        f"then try_cast(regexp_extract({t}, '^[+-]?[0-9]+') as double) "
        f"when {_full(t, _S + _DOT_GROUPS)} then case when {dec} in ('comma', 'unknown') then {_as_id(t)} end "
        f"when {_full(t, _S + _COMMA_GROUPS)} then case when {dec} in ('dot', 'unknown') then {_as_en(t)} end "
        f"when {_full(t, _S + _DOT_GROUPS + ',0*')} then {_as_id(t)} "
        f"when {_full(t, _S + _COMMA_GROUPS + '[.]0*')} then {_as_en(t)} end"
    )
    ambiguous = f"({_full(t, _S + _DOT_GROUPS)} or {_full(t, _S + _COMMA_GROUPS)})"
    return value, ambiguous


def _float_sql(t: str, dec: str, grouping: bool = True) -> tuple[str, str]:
    """(value, ambiguous) SQL for a measure column. Without `grouping` (a measure never written with thousands
    separators: a weight in kg, a height in cm, a coordinate) a single `.` or `,` is the decimal mark whatever the
    file's: `12.500` kg is 12.5."""
    if not grouping:
        plain = f"{_S}(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)"
        value = (
            f"case when {t} = '' then null when {_full(t, plain)} then try_cast(replace({t}, ',', '.') as double) "
            f"when {_full(t, _EXP)} then try_cast(replace({t}, ',', '.') as double) end"
        )
        return value, "false"
    single_group = f"{_S}[0-9]{{1,3}}[.,][0-9]{{3}}"
    by_file = f"case {dec} when 'comma' then {_as_id(t)} when 'dot' then {_as_en(t)} end"  # unknown/conflict: ambiguous
    value = (
        f"case when {t} = '' then null "
        f"when {_full(t, _S + _DIGITS)} then try_cast({t} as double) "
        f"when {_full(t, single_group)} then {by_file} "
        f"when {_full(t, _ID)} and {_full(t, _EN)} then "  # both readings possible: they agree unless grouped
        f"case when {_as_id(t)} = {_as_en(t)} then {_as_id(t)} else {by_file} end "
        f"when {_full(t, _ID)} then {_as_id(t)} "
        f"when {_full(t, _EN)} then {_as_en(t)} "
        f"when {_full(t, _EXP)} then try_cast(replace({t}, ',', '.') as double) end"
    )
    ambiguous = f"({_full(t, single_group)} or ({_full(t, _ID)} and {_full(t, _EN)}))"
    return value, ambiguous


# ---------------------------------------------------------------- dates


def _parts(t: str) -> str:
    """Its numeric parts (a/b/y of `a/b/y`, whatever follows: `08.15 WIB`, `8:15 AM`), or else its named-month parts
    (d/m/y of `2 April 2024`, m/d/y of `April 2, 2024`); empty strings where the shape does not match."""
    lower = f"regexp_replace(lower({t}), {_lit(_WEEKDAY)}, '')"
    numeric = f"regexp_extract({t}, {_lit('^' + _NUMERIC_DATE + '$')}, ['a', 'b', 'y'])"
    no_names = "dn := {'d': '', 'm': '', 'y': ''}, nd := {'m': '', 'd': '', 'y': ''}"
    return (
        f"case when regexp_matches({t}, '^[0-9]{{1,2}}[-/.][0-9]{{1,2}}[-/.][0-9]') "
        f"then struct_pack(n := {numeric}, {no_names}) "
        f"when regexp_matches({t}, '[A-Za-z]') then struct_pack(n := {{'a': '', 'b': '', 'y': ''}}, "
        f"dn := regexp_extract({lower}, {_lit('^' + _DAY_NAME_YEAR + '$')}, ['d', 'm', 'y']), "
        f"nd := regexp_extract({lower}, {_lit('^' + _NAME_DAY_YEAR + '$')}, ['m', 'd', 'y'])) "
        f"else struct_pack(n := {numeric}, {no_names}) end"
    )


def _date_sql(t: str, p: str, order: str, today: dt.date) -> tuple[str, str, str]:
    """(value, ambiguous, two-digit-year) SQL: the date (timestamp) a cell holds; TRUE when its order cannot be told;
    TRUE when its year had two digits (for birth dates, resolved by plausible age in `typing_sql`). `t` is the cleaned
    text, `p` its `_parts`."""

    def f(field: str) -> str:  # 'n.a' -> p['n']['a']
        return p + "".join(f"['{k}']" for k in field.split("."))

    def num(field: str) -> str:
        return f"try_cast(nullif({f(field)}, '') as integer)"

    def make(y: str, m: str, d: str) -> str:
        century = f"(case when 2000 + {y} > {today.year + 1} then 1900 else 2000 end)"
        year = f"case when {y} < 100 then {century} + {y} else {y} end"
        return f"try(make_date({year}, {m}, {d}))::timestamp"

    names = " ".join(f"when {_lit(k)} then {v}" for k, v in cv.MONTHS.items())
    month_dn, month_nd = f"(case {f('dn.m')} {names} end)", f"(case {f('nd.m')} {names} end)"
    a, b, y = num("n.a"), num("n.b"), num("n.y")
    day_first, month_first = make(y, b, a), make(y, a, b)
    # in a file whose order is unknown, a date after `today` read either way is surely in the future: the earlier
    # reading stands (the rules then refuse it as a future date, which it is whatever the order)
    after_today = f"timestamp '{today.isoformat()}'"
    both_future = f"({day_first} > {after_today} and {month_first} > {after_today})"
    numeric = (
        f"case when {a} > 12 or {a} = {b} then {day_first} when {b} > 12 then {month_first} "
        f"when {order} = 'dmy' then {day_first} when {order} = 'mdy' then {month_first} "
        f"when {both_future} then least({day_first}, {month_first}) end"
    )
    iso_fast = "[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T].*)?"
    value = (
        f"case when {t} = '' then null "
        f"when {_full(t, iso_fast)} then try_strptime(substr({t}, 1, 10), '%Y-%m-%d') "
        f"when {f('n.a')} <> '' then {numeric} "
        f"when {f('dn.d')} <> '' then {make(num('dn.y'), month_dn, num('dn.d'))} "
        f"when {f('nd.d')} <> '' then {make(num('nd.y'), month_nd, num('nd.d'))} "
        f"when {_full(t, _ISO)} then {make(_iso(t, 1), _iso(t, 2), _iso(t, 3))} "
        f"when {_full(t, _SERIAL)} "
        f"then (date '{EXCEL_EPOCH.isoformat()}' + cast(floor(try_cast({t} as double)) as integer))::timestamp end"
    )
    ambiguous = (
        f"({f('n.a')} <> '' and {a} <= 12 and {b} <= 12 and {a} <> {b} and {order} not in ('dmy', 'mdy') "
        f"and not coalesce({both_future}, false))"
    )
    two_digit = f"(({f('n.a')} <> '' and {y} < 100) or ({f('dn.d')} <> '' and {num('dn.y')} < 100))"
    return value, ambiguous, two_digit


def _iso(t: str, group: int) -> str:
    return f"try_cast(regexp_extract({t}, {_lit('^' + _ISO + '$')}, {group}) as integer)"


# ---------------------------------------------------------------- the queries


def _is_number(c: Column) -> bool:
    return c.type in ("int", "float")


def _is_date(c: Column) -> bool:
    return c.type in ("date", "birth_date")


_DAY_FIRST = f"(?:1[3-9]|2[0-9]|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:[0-9]{{4}}|[0-9]{{2}}){_TIME}"
_MONTH_FIRST = f"(?:0?[1-9]|1[0-2])[-/.](?:1[3-9]|2[0-9]|3[01])[-/.](?:[0-9]{{4}}|[0-9]{{2}}){_TIME}"


def evidence_sql(entity: Entity, present: set[str], table: str, fast: frozenset[str] = frozenset()) -> str:
    """Per `_file` of `table` (`cleaning_sql` columns): does any of its numbers say the decimal mark is the comma /
    the point; any of its dates say day-first / month-first (a part above 12)."""
    cols = [c for c in entity.columns if c.name in present and c.name not in fast]
    nums = [_q("_t_" + c.name) for c in cols if _is_number(c)]
    dates = [_q("_t_" + c.name) for c in cols if _is_date(c)]

    def any_of(exprs: list[str], test) -> str:
        return "bool_or(" + " or ".join(test(e) for e in exprs) + ")" if exprs else "false"

    def marked(e: str, pattern: str) -> str:  # most cells are plain digits: strpos first
        return f"((strpos({e}, ',') > 0 or strpos({e}, '.') > 0) and {_full(e, pattern)})"

    def dated(e: str, pattern: str) -> str:
        return f"((strpos({e}, '/') > 0 or strpos({e}, '-') > 0 or strpos({e}, '.') > 0) and {_full(e, pattern)})"

    return (
        f"select _file, {any_of(nums, lambda e: marked(e, _COMMA_DECIMAL))} as comma_decimal, "
        f"{any_of(nums, lambda e: marked(e, _DOT_DECIMAL))} as dot_decimal, "
        f"{any_of(dates, lambda e: dated(e, _DAY_FIRST))} as day_first, "
        f"{any_of(dates, lambda e: dated(e, _MONTH_FIRST))} as month_first "
        f"from {table} group by _file"
    )


_FAST = {"int": "[0-9]{1,15}", "date": "[0-9]{4}-[0-9]{2}-[0-9]{2}", "birth_date": "[0-9]{4}-[0-9]{2}-[0-9]{2}"}


def profile_sql(entity: Entity, present: set[str], table: str) -> str:
    """One row: per int / date column, TRUE when every cell is blank or plain (digits; YYYY-MM-DD): such columns need
    no cleaning, carry no evidence and cannot be ambiguous (most columns of most files: the fast path)."""
    tests = [
        f"bool_and({_q(c.name)} = '' or {_full(_q(c.name), _FAST[c.type])}) as {_q(c.name)}"
        for c in entity.columns
        if c.name in present and c.type in _FAST
    ]
    return f"select {', '.join(tests)} from {table}" if tests else "select 1 as _none"


def cleaning_sql(entity: Entity, present: set[str], table: str, fast: frozenset[str] = frozenset()) -> str:
    """Each present column as `_t_<column>`: stripped (Python's whitespace), a leading apostrophe before a digit
    dropped, and in number columns thousands grouped by spaces ungrouped (`fast` columns as they are); `_row` and
    `_file` kept."""
    out = []
    for c in entity.columns:
        if c.name not in present:
            continue
        if c.name in fast:
            out.append(f"{_q(c.name)} as {_q('_t_' + c.name)}")
            continue
        t = _strip(_q(c.name))
        out.append(f"{_ungrouped(_unquoted(t)) if _is_number(c) else _unquoted(t)} as {_q('_t_' + c.name)}")
    return f"select {', '.join([*out, '_row', '_file'])} from {table}"


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


def typing_sql(
    entity: Entity, present: set[str], today: dt.date, table: str, fast: frozenset[str] = frozenset()
) -> str:
    """The query typing `table` (the `cleaning_sql` columns `_t_<column>`, `_row`, and the conventions of each row's
    file: `_dec`, the decimal mark, and `_order`, the date order, as `Evidence` names them): typed columns, ages,
    `_row` and `_type_errors` (the row's `<problem>:<column>` labels; null when none). Columns in `fast` hold only
    plain digits or ISO dates (`profile_sql`): typed directly."""
    cols = [c for c in entity.columns if c.name in present]
    texts = [_q("_t_" + c.name) for c in cols]
    slow_dates = [c for c in cols if _is_date(c) and c.name not in fast]
    parts = [f"{_parts(_q('_t_' + c.name))} as {_q('_p_' + c.name)}" for c in slow_dates]
    # stage 1: every present column typed; dates also say whether their year had two digits
    typed, flags, ambiguous = [], [], {}
    for c in entity.columns:
        if c.name not in present:
            typed.append(f"cast(null as {_NULL_OF.get(c.type, 'varchar')}) as {_q(c.name)}")
            continue
        t = _q("_t_" + c.name)
        if c.name in fast and _is_date(c):
            value = f"try_strptime({t}, '%Y-%m-%d')"
            flags.append(f"false as {_q('_y2_' + c.name)}")
        elif c.name in fast:
            value = f"try_cast({t} as double)"
        elif c.type == "int":
            value, ambiguous[c.name] = _int_sql(c, t, "_dec")
        elif c.type == "float":
            value, ambiguous[c.name] = _float_sql(t, "_dec", c.grouping)
        elif _is_date(c):
            value, ambiguous[c.name], two_digit = _date_sql(t, _q("_p_" + c.name), "_order", today)
            flags.append(f"coalesce({two_digit}, false) as {_q('_y2_' + c.name)}")
        else:
            value = _typed_text(c, t)
        typed.append(f"{value} as {_q(c.name)}")
    carried = ", ".join([*texts, *(_q("_p_" + c.name) for c in slow_dates), "_row", "_dec", "_order"])
    stage1 = (
        f"select {', '.join(typed + flags)}, {carried} from (select *{''.join(', ' + p for p in parts)} from {table})"
    )
    # stage 2: a birth date with a two-digit year takes the century that gives a plausible age (Column.max_age)
    final, ages = [], []
    for c in entity.columns:
        name = _q(c.name)
        if c.type != "birth_date":
            final.append(name)
            continue
        land = _q(c.land_as or "umur")
        if c.name not in present:
            final.append(name)
            ages.append(f"cast(null as double) as {land}")
            continue
        at = _q(c.age_at) if c.age_at else f"timestamp {_lit(today.isoformat())}"
        earlier = f"({name} - interval 100 year)"
        fits_now = f"coalesce({_age(name, at, c.age_unit)} between 0 and {c.max_age}, false)"
        fits_earlier = f"coalesce({_age(earlier, at, c.age_unit)} between 0 and {c.max_age}, false)"
        y2 = f"({_q('_y2_' + c.name)} and {name} is not null and year({name}) >= 2000)"
        final.append(
            f"case when {y2} and {fits_now} and {fits_earlier} then null "
            f"when {y2} and not {fits_now} and {fits_earlier} then {earlier} else {name} end as {name}"
        )
        final.append(f"({y2} and {fits_now} and {fits_earlier}) as {_q('_y2amb_' + c.name)}")
        ages.append(f"{_age(name, at, c.age_unit)} as {land}")
    stage2 = f"select {', '.join(final)}, {carried} from ({stage1})"
    # stage 3: ages at the final dates, and each row's problem labels
    labels = []
    for c in cols:
        name, t = _q(c.name), _q("_t_" + c.name)
        failed = f"{name} is null and {t} <> ''"
        if c.type == "birth_date":
            amb2 = _q("_y2amb_" + c.name)
            labels.append(f"case when {amb2} then {_lit('two_digit_year:' + c.name)} end")
            failed += f" and not {amb2}"
        if c.name in ambiguous:
            kind = "ambiguous_date" if _is_date(c) else "ambiguous_number"
            labels.append(
                f"case when {failed} then case when {ambiguous[c.name]} then {_lit(kind + ':' + c.name)} "
                f"else {_lit('type_error:' + c.name)} end end"
            )
        else:
            labels.append(f"case when {failed} then {_lit('type_error:' + c.name)} end")
    error_list = (
        f"nullif(list_filter([{', '.join(labels)}]::varchar[], x -> x is not null), []::varchar[])"
        if labels
        else "cast(null as varchar[])"
    )
    names = ", ".join(_q(c.name) for c in entity.columns)
    return f"select {names}{''.join(', ' + a for a in ages)}, _row, {error_list} as _type_errors from ({stage2})"


def _typed_text(col: Column, t: str) -> str:
    match col.type:
        case "kode_wilayah":
            k = f"regexp_replace({t}, '\\.0+$', '')"
            return (
                f"case when regexp_full_match({k}, '[0-9]{{10}}') then substr({k}, 1, 2) || '.' || "
                f"substr({k}, 3, 2) || '.' || substr({k}, 5, 2) || '.' || substr({k}, 7, 4) else nullif({k}, '') end"
            )
        case "list":
            items = f"list_transform(regexp_split_to_array({t}, '[,;]'), x -> {_strip('x')})"
            return f"nullif(array_to_string(list_filter({items}, x -> x <> ''), ', '), '')"
        case _:
            return f"nullif({t}, '')"


def _text_table(raw: pd.DataFrame, entity: Entity, present: set[str], files: pd.Series | str) -> pa.Table:
    cols = [c.name for c in entity.columns if c.name in present]
    text = pa.Table.from_pandas(raw[cols], preserve_index=False) if cols else pa.table({})
    text = text.cast(pa.schema([(c, pa.string()) for c in cols]))
    text = text.append_column("_row", pa.array(raw["_row"].to_numpy(), type=pa.int64()))
    names = files.to_numpy() if isinstance(files, pd.Series) else [files] * len(raw)
    return text.append_column("_file", pa.array(names, type=pa.string()))


def coerce(
    raw: pd.DataFrame,
    entity: Entity,
    today: dt.date | None = None,
    files: pd.Series | str = "",
    evidence: dict[str, Evidence] | None = None,
) -> tuple[pd.DataFrame, pd.Series, dict[str, Evidence]]:
    """Typed frame (same index; absent optional columns become nulls), per-row lists of problem labels, and the
    evidence each file was typed with.

    `files` names each row's file (a Series aligned with `raw`, or one name for all rows); `evidence` gives what the
    earlier chunks of a file read in several chunks said (combined with what these rows say). A `birth_date` column
    also yields its age column (`land_as`), at `age_at` or at `today`.
    """
    present = {c.name for c in entity.columns if c.name in raw}
    cur = duck.scratch()
    try:
        cleaned, fast, found = _cleaned_with_evidence(cur, raw, entity, present, files)
        used = {f: (evidence or {}).get(f, Evidence()) | e for f, e in found.items()}
        if len(used) == 1:  # one file (a chunk of a large one): its conventions as constants
            [only] = used.values()
            source = f"(select *, {_lit(only.decimal)} as _dec, {_lit(only.date_order)} as _order from cleaned)"
        else:
            row_files = pd.Series(cleaned.column("_file").to_numpy(zero_copy_only=False))
            cleaned = cleaned.append_column("_dec", pa.array(row_files.map({f: e.decimal for f, e in used.items()})))
            cleaned = cleaned.append_column(
                "_order", pa.array(row_files.map({f: e.date_order for f, e in used.items()}))
            )
            cur.unregister("cleaned")
            cur.register("cleaned", cleaned)
            source = "cleaned"
        out = cur.execute(typing_sql(entity, present, today or dt.date.today(), source, fast)).to_arrow_table()
    finally:
        cur.close()
    # a projection keeps the input's row order (DuckDB's preserve_insertion_order, on by default), so positions match
    typed = out.drop_columns(["_type_errors"]).to_pandas()
    typed.index = raw.index
    errors = pd.Series([[] for _ in range(len(raw))], index=raw.index, dtype=object)
    found_errors = out.column("_type_errors")
    if found_errors.null_count < len(found_errors):
        positions = pc.indices_nonzero(pc.is_valid(found_errors))
        for pos, labels in zip(positions.to_pylist(), found_errors.take(positions).to_pylist(), strict=True):
            errors.iat[pos] = labels
    return typed, errors, used


def _cleaned_with_evidence(cur, raw: pd.DataFrame, entity: Entity, present: set[str], files: pd.Series | str):
    """On cursor `cur`: the cleaned text (registered as `cleaned`), the columns of the fast path, and the evidence
    per file. Cleaned once: the evidence and the typing both read it (stripping is the costliest step)."""
    cur.register("raw_text", _text_table(raw, entity, present, files))
    profile = cur.execute(profile_sql(entity, present, "raw_text")).to_arrow_table().to_pylist()
    fast = frozenset(k for k, v in (profile[0] if profile else {}).items() if v is not False and k != "_none")
    cleaned = cur.execute(cleaning_sql(entity, present, "raw_text", fast)).to_arrow_table()
    cur.unregister("raw_text")
    cur.register("cleaned", cleaned)
    found = cur.execute(evidence_sql(entity, present, "cleaned", fast)).fetchall()
    return cleaned, fast, {f: Evidence(*map(bool, flags)) for f, *flags in found}


def file_evidence(raw: pd.DataFrame, entity: Entity) -> Evidence:
    """What the rows of one file (a chunk of it) say about its conventions, without typing them."""
    cur = duck.scratch()
    try:
        _, _, found = _cleaned_with_evidence(cur, raw, entity, {c.name for c in entity.columns if c.name in raw}, "")
    finally:
        cur.close()
    return found.get("", Evidence())
