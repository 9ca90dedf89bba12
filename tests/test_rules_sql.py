"""The suites compiled to DuckDB flag exactly the rows and rules Great Expectations flags, suite by suite.

Frames: every file of a small generated province (all defect kinds of the generator), typed as ingestion types
them, plus hand-made edge values (nulls on either side of a pair, Unicode digits, trailing newlines, bounds).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipelines.lib import manifest as mf
from pipelines.lib.coerce import coerce
from pipelines.lib.entities import ENTITIES
from pipelines.lib.readers import RejectedFile, read_chunks
from pipelines.lib.rules_sql import (
    UnsupportedExpectation,
    compile_suite,
    python_regex_to_re2,
    validate_frame_sql,
)
from pipelines.lib.validate import parameters, suite_json, validate_frame
from pipelines.synth import synthesize

TODAY = dt.date(2024, 4, 15)


@pytest.fixture(scope="module")
def typed_frames(tmp_path_factory):
    raw = tmp_path_factory.mktemp("rules") / "raw"
    synthesize(raw, provinsi="19", months=[(2024, 1), (2024, 2)], seed=11, scale=0.02, defect_rate=0.05)
    frames = {}
    for name, entity in ENTITIES.items():
        parts = []
        for path in mf.discover(raw, entity.folder):
            try:
                _, chunks = read_chunks(path, entity)
                parts.extend(chunks)
            except RejectedFile:
                continue
        raw_rows = pd.concat(parts, ignore_index=True).fillna("")
        typed, _, _ = coerce(raw_rows, entity, TODAY)
        frames[name] = typed
    return frames


def lookups_for(name: str, frames: dict) -> dict:
    entity = ENTITIES[name]
    return {
        param: (column, set(frames[other][column].dropna().tolist()))
        for param, (other, column) in entity.lookups.items()
    }


def with_edges(typed: pd.DataFrame) -> pd.DataFrame:
    """The frame plus rows whose values sit on the edges the two engines could read differently."""
    extra = typed.head(8).copy()
    for i, col in enumerate(c for c in typed.columns if c != "_row"):
        row = i % len(extra)
        if pd.api.types.is_float_dtype(typed[col]):
            extra.iloc[row, extra.columns.get_loc(col)] = np.nan
        elif typed[col].dtype == object or pd.api.types.is_string_dtype(typed[col]):
            value = extra.iloc[(row + 1) % len(extra), extra.columns.get_loc(col)]
            if isinstance(value, str) and value:
                extra.iloc[row, extra.columns.get_loc(col)] = value + "\n"  # Python's $ matches before it
                if value.isdigit():  # Arabic-Indic digits: Python's \d accepts them
                    arabic = value.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
                    extra.iloc[(row + 2) % len(extra), extra.columns.get_loc(col)] = arabic
    return pd.concat([typed, extra], ignore_index=True)


@pytest.mark.parametrize("name", list(ENTITIES))
def test_duckdb_flags_exactly_what_great_expectations_flags(typed_frames, name):
    entity = ENTITIES[name]
    typed = with_edges(typed_frames[name])
    params = parameters(typed, TODAY, lookups_for(name, typed_frames))
    expected = validate_frame(typed, entity.suite, params)
    got = validate_frame_sql(typed, suite_json(entity.suite), params)
    assert expected.map(bool).sum() > 0, "the frame must break some rules, or the comparison proves nothing"
    differ = [(i, expected[i], got[i]) for i in typed.index if sorted(expected[i]) != sorted(got[i])]
    assert differ == [], differ[:5]


def test_python_regex_semantics_in_re2():
    assert python_regex_to_re2(r"^\d{16}$") == r"^\p{Nd}{16}(?:\n)?$"
    assert python_regex_to_re2(r"^a\\d$") == r"^a\\d(?:\n)?$"  # an escaped backslash before d is not \d
    assert python_regex_to_re2(r"^cost \$") == r"^cost \$"


def test_a_rule_the_compiler_does_not_know_refuses():
    suite = {"expectations": [{"type": "expect_column_values_to_be_unique", "kwargs": {"column": "a"}}]}
    with pytest.raises(UnsupportedExpectation):
        compile_suite(suite, {})
    partial = {
        "expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a", "mostly": 0.9}}]
    }
    with pytest.raises(UnsupportedExpectation):
        compile_suite(partial, {})
