"""The Great Expectations suites compiled to one DuckDB expression per rule, for validating millions of rows.

The suites (`expectations/gx/expectations/<entity>.json`) stay the single source of truth: this module reads the
same JSON and translates each expectation, with GE's pandas semantics, into a SQL condition that is TRUE when a row
breaks the rule. `tests/test_rules_sql.py` checks, for every suite, that the rows and rules it flags are exactly
those Great Expectations flags on the same frames (demo data with every kind of defect, plus edge values).

Semantics kept from GE (pandas engine, 1.x):
- single-column rules ignore nulls (a null breaks only `not_be_null`);
- pair rules with `ignore_row_if: either_value_is_missing` skip rows where either side is null;
- `match_regex` is a search (`str.contains`), Python `re` semantics: `\\d` is any Unicode digit and `$` also matches
  before a final newline; RE2 is told the same (`\\p{Nd}`, `\\n?$`);
- derived columns (`meta.derived_columns`) are arithmetic over columns, null when any part is null.
Only the expectation types the suites use are compiled; any other refuses (UnsupportedExpectation), so a new kind of
rule cannot be silently skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.lib import duck

DERIVED_EXPRESSION = re.compile(r"^[\w\s+\-*/().]+$")


class UnsupportedExpectation(ValueError):
    """A suite uses an expectation type or option this compiler does not translate."""


@dataclass(frozen=True)
class CompiledRule:
    name: str  # meta.name, the short rule id
    label: str  # "name: reason", as the quarantine shows it
    failing: str  # SQL, TRUE when the row breaks the rule


@dataclass(frozen=True)
class CompiledSuite:
    derived: dict[str, str]  # helper column -> SQL expression
    rules: list[CompiledRule]
    params: dict[str, Any]  # named parameters ($name) the conditions refer to

    def failures_expression(self) -> str:
        """SQL for the list of labels of the rules a row breaks, in suite order, each once (empty list: valid)."""
        if not self.rules:
            return "[]::varchar[]"
        cases = ", ".join(f"case when {r.failing} then {_quote(r.label)} end" for r in self.rules)
        return f"list_filter([{cases}], x -> x is not null)"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def python_regex_to_re2(pattern: str) -> str:
    """Python `re` (str patterns) semantics in RE2: `\\d` matches any Unicode decimal digit; a final `$` also
    matches before one trailing newline."""
    out = re.sub(r"(?<!\\)((?:\\\\)*)\\d", lambda m: m.group(1) + r"\p{Nd}", pattern)
    if out.endswith("$") and not out.endswith("\\$"):
        out = out[:-1] + r"(?:\n)?$"
    return out


def _literal(value: Any, params: dict[str, Any], resolved: dict[str, Any]) -> str:
    """A bound value: a $PARAMETER resolved from `params`, or a literal from the suite; dates as DATE."""
    if isinstance(value, dict) and "$PARAMETER" in value:
        name = value["$PARAMETER"]
        if name not in params:
            raise UnsupportedExpectation(f"the suite needs the parameter {name!r}, which was not given")
        value = params[name]
    key = f"p{len(resolved)}"
    if isinstance(value, pd.Timestamp | dt.datetime):
        value = value.date() if isinstance(value, dt.datetime) else value.to_pydatetime().date()
    if isinstance(value, list | tuple | set | frozenset):
        value = sorted(value)
    resolved[key] = value
    return f"${key}"


def _in_set(column: str, value_set: Any, params: dict[str, Any], resolved: dict[str, Any]) -> str:
    ref = _literal(value_set, params, resolved)
    values = resolved[ref[1:]]
    if not values:  # nothing is in an empty set; the parameter just bound is not used (DuckDB refuses an unused one)
        del resolved[ref[1:]]
        return f"{column} is not null"
    # typed numeric columns are DOUBLE: compare as numbers when the set is numeric, as text otherwise. A subquery,
    # not list_contains: DuckDB hashes the set once (a look-up against thousands of registered Kampung KB ids or
    # desa codes per row was a linear scan: 452,000 intervensi rows took 67 s at tenth scale)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        resolved[ref[1:]] = [float(v) for v in values]
        return f"{column}::double not in (select unnest({ref}::double[]))"
    resolved[ref[1:]] = [str(v) for v in values]
    return f"{column}::varchar not in (select unnest({ref}::varchar[]))"


def compile_expectation(e: dict, params: dict[str, Any], resolved: dict[str, Any]) -> str:
    kind, kw = e["type"], dict(e["kwargs"])
    if kw.pop("mostly", 1.0) != 1.0:
        raise UnsupportedExpectation(f"{kind}: `mostly` below 1 is not row-level")
    if kind.startswith("expect_column_pair_"):
        a, b = ident(kw.pop("column_A")), ident(kw.pop("column_B"))
        ignore = kw.pop("ignore_row_if", "both_values_are_missing")
        if ignore == "either_value_is_missing":
            skip = f"({a} is null or {b} is null)"
        elif ignore == "both_values_are_missing":
            skip = f"({a} is null and {b} is null)"
        elif ignore == "neither":
            skip = "false"
        else:
            raise UnsupportedExpectation(f"{kind}: ignore_row_if={ignore!r}")
        if kind == "expect_column_pair_values_a_to_be_greater_than_b":
            op = ">=" if kw.pop("or_equal", False) else ">"
            ok = f"coalesce({a} {op} {b}, false)"
        elif kind == "expect_column_pair_values_to_be_equal":
            ok = f"coalesce({a} = {b}, false)"
        else:
            raise UnsupportedExpectation(kind)
        condition = f"not {skip} and not {ok}"
    else:
        column = ident(kw.pop("column"))
        if kind == "expect_column_values_to_not_be_null":
            return f"{column} is null"
        if kind == "expect_column_values_to_be_between":
            parts = []
            if kw.get("min_value") is not None:
                op = "<=" if kw.pop("strict_min", False) else "<"
                parts.append(f"{column} {op} {_literal(kw.pop('min_value'), params, resolved)}")
            if kw.get("max_value") is not None:
                op = ">=" if kw.pop("strict_max", False) else ">"
                parts.append(f"{column} {op} {_literal(kw.pop('max_value'), params, resolved)}")
            kw.pop("min_value", None), kw.pop("max_value", None)
            condition = " or ".join(parts) or "false"
        elif kind == "expect_column_values_to_be_in_set":
            condition = _in_set(column, kw.pop("value_set"), params, resolved)
        elif kind in ("expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex"):
            regex = _literal(python_regex_to_re2(kw.pop("regex")), {}, resolved)
            found = f"regexp_matches({column}::varchar, {regex})"
            condition = found if kind == "expect_column_values_to_not_match_regex" else f"not {found}"
        else:
            raise UnsupportedExpectation(kind)
        condition = f"{column} is not null and ({condition})"
    kw.pop("result_format", None), kw.pop("catch_exceptions", None), kw.pop("meta", None)
    if kw:
        raise UnsupportedExpectation(f"{kind}: options not translated: {sorted(kw)}")
    return f"coalesce({condition}, false)"


def compile_suite(suite: dict, params: dict[str, Any]) -> CompiledSuite:
    resolved: dict[str, Any] = {}
    derived: dict[str, str] = {}
    declared: dict[str, str] = (suite.get("meta") or {}).get("derived_columns") or {}
    for col, expr in declared.items():
        if not DERIVED_EXPRESSION.match(expr):
            raise UnsupportedExpectation(f"derived column {col}: only arithmetic over columns is translated: {expr}")
        derived[col] = re.sub(r"[A-Za-z_]\w*", lambda m: ident(str(m.group(0))), str(expr))
    by_label: dict[str, CompiledRule] = {}  # rules sharing a label are one reason: a row lists it once
    for e in suite["expectations"]:
        meta = e.get("meta") or {}
        name = meta.get("name", e["type"])
        label = f"{name}: {meta.get('reason', '')}".rstrip(": ")
        failing = compile_expectation(e, params, resolved)
        if label in by_label:
            failing = f"({by_label[label].failing} or {failing})"
        by_label[label] = CompiledRule(name=name, label=label, failing=failing)
    return CompiledSuite(derived=derived, rules=list(by_label.values()), params=resolved)


def validate_frame_sql(typed: pd.DataFrame, suite: dict, params: dict[str, Any]) -> pd.Series:
    """Per row of `typed` (same index): the labels of the rules it breaks, like `validate.validate_frame`, computed
    by DuckDB in one vectorised query."""

    compiled = compile_suite(suite, params)
    frame = typed.reset_index(drop=True).assign(_pos=np.arange(len(typed)))
    con = duck.scratch()
    try:
        con.register("typed_rows", frame)
        derived = "".join(f", {expr} as {ident(col)}" for col, expr in compiled.derived.items())
        sql = (
            f"select _pos, failures from (select _pos, {compiled.failures_expression()} as failures "
            f"from (select *{derived} from typed_rows)) where len(failures) > 0"
        )
        found = con.execute(sql, compiled.params).fetchall()  # only the failing rows cross into Python
    finally:
        con.close()
    out: list[list[str]] = [[] for _ in range(len(typed))]
    for pos, labels in found:
        out[pos] = list(labels)
    return pd.Series(out, index=typed.index, dtype=object)
