"""Run an entity's Great Expectations suite on a typed DataFrame and say, per row, which rules it broke.

The suites are JSON files in the file data context `expectations/gx/expectations/`, the single source of truth for
the rules. A suite's `meta.derived_columns` declares helper columns (pandas expressions over the row, e.g. the sum
of contraceptive users for the PUS balance) that its expectations refer to; they are computed here, before
validation, and dropped afterwards. Expectations carry `meta.name` (a short rule id, used in quarantine and
metrics) and `meta.reason` (the sentence a data officer reads).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.config import EXPECTATIONS_DIR
from pipelines.lib import wilayah

SUITES_DIR = EXPECTATIONS_DIR / "gx" / "expectations"
AWAL_PROGRAM = dt.date(2016, 1, 1)  # Kampung KB began in 2016: earlier programme dates are errors

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # never phone home


class ValidationError(RuntimeError):
    """The suite itself could not be evaluated (a bug or a bad suite), as opposed to rows failing it."""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    reason: str
    column: str | None


@functools.cache
def _context():
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    except (ImportError, AttributeError):  # pragma: no cover - older/newer GE
        pass
    batch_def = (
        ctx.data_sources.add_pandas("ingest").add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")
    )
    return ctx, batch_def


def suite_path(name: str) -> Path:
    return SUITES_DIR / f"{name}.json"


@functools.cache
def suite_json(name: str) -> dict:
    """The suite's JSON as written (what `rules_sql` compiles)."""
    with open(suite_path(name), encoding="utf-8") as fh:
        return json.load(fh)


@functools.cache
def load_suite(name: str):
    """The suite as a GE object, read from its JSON file."""
    import great_expectations as gx

    with open(suite_path(name), encoding="utf-8") as fh:
        data = json.load(fh)
    suite = gx.ExpectationSuite(
        name=data["name"],
        expectations=[_expectation(e) for e in data["expectations"]],
        meta=data.get("meta") or {},
    )
    return suite


def _expectation(e: dict):
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    return ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta") or {}, id=e.get("id"))


def rules(name: str) -> list[Rule]:
    out = []
    for e in load_suite(name).expectations:
        meta = e.meta or {}
        out.append(
            Rule(
                id=str(e.id),
                name=meta.get("name", e.expectation_type),
                reason=meta.get("reason", ""),
                column=getattr(e, "column", None),
            )
        )
    return out


def parameters(
    typed: pd.DataFrame, today: dt.date | None = None, lookups: dict[str, tuple[str, set]] | None = None
) -> dict:
    """Values the suites refer to with {"$PARAMETER": ...}: the reference code list and 'now'.

    `lookups` maps a parameter to (column, known values), e.g. the Kampung KB ids of the profiles received; like the
    code list it is restricted to the values present in the frame.
    `kode_desa_kemendagri` is the Kemendagri list restricted to the codes present in this frame: the same test
    (a code passes if and only if it is in the list) at a fraction of the cost, because Great Expectations copies
    a value set many times per validation (83,762 codes cost ~15 s per chunk; a province's few hundred, nothing).
    """
    today = today or dt.date.today()
    present: set[str] = set()
    for col in typed.columns:
        if col.startswith("kode_desa"):
            present.update(typed[col].dropna().unique().tolist())
    found = {
        param: sorted(set(typed[column].dropna().unique().tolist()) & known)
        for param, (column, known) in (lookups or {}).items()
    }
    return {
        **found,
        "awal_program": pd.Timestamp(AWAL_PROGRAM),
        "kode_desa_kemendagri": sorted(present & wilayah.desa_codes()),
        "hari_ini": pd.Timestamp(today),
        "periode_sekarang": today.year * 100 + today.month,
        "tahun_sekarang": today.year,
    }


def validate_frame(typed: pd.DataFrame, suite_name: str, params: dict, keep_result: list | None = None) -> pd.Series:
    """Per row (same index as `typed`): the list of 'rule_name: reason' strings it failed (empty = valid).

    When `keep_result` is a list, the Great Expectations result object is appended to it (for Data Docs).
    """
    suite = load_suite(suite_name)
    frame = typed.copy(deep=False)
    for col, expr in (suite.meta.get("derived_columns") or {}).items():
        frame[col] = frame.eval(expr)
    frame = frame.reset_index(drop=True)
    _, batch_def = _context()
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"}, expectation_parameters=params)
    failures: list[list[str]] = [[] for _ in range(len(frame))]
    for r in result.results:
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise ValidationError(
                f"suite {suite_name}: {r.expectation_config.type} could not run: "
                f"{r.exception_info.get('exception_message')}"
            )
        for key, info in (r.exception_info or {}).items():
            if isinstance(info, dict) and info.get("raised_exception"):
                raise ValidationError(
                    f"suite {suite_name}: {r.expectation_config.type} could not run: "
                    f"{info.get('exception_message')} ({key})"
                )
        if r.success:
            continue
        idx = r.result.get("unexpected_index_list")
        if idx is None:
            raise ValidationError(f"suite {suite_name}: {r.expectation_config.type} failed without row indices")
        meta = r.expectation_config.meta or {}
        label = f"{meta.get('name', r.expectation_config.type)}: {meta.get('reason', '')}".rstrip(": ")
        for i in idx:
            pos = i if isinstance(i, int) else int(i.get("index", i)) if isinstance(i, dict) else int(i)
            if label not in failures[pos]:
                failures[pos].append(label)
    if keep_result is not None:
        keep_result.append(result)
    return pd.Series(failures, index=typed.index, dtype=object)
