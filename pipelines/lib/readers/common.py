"""What every reader shares: the rejection of a file, what was learnt of it, the header, and the rows that are not
data (totals, examples, blank rows).

A reader yields DataFrames of text: the entity's canonical columns ("" for empty), `_row` (the row as a person
opening the file counts it: spreadsheet row, or CSV/JSONL line), `_sheet` (the workbook sheet, None for text files)
and `_error` ("" or the label of a row-level reading problem: `field_count`, `hidden_row`, `hidden_sheet`,
`formula_without_value:<column>`, `invalid_json`, see conventions.ROW_PROBLEMS). A row with a reading problem is
quarantined for it; the typing and the suite do not judge its values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.lib import conventions as cv
from pipelines.lib.entities import Entity, normalise_header, plain_header

META_COLUMNS = ("_row", "_sheet", "_error")


class RejectedFile(Exception):
    """The whole file cannot be used. `str(exc)` is the reason recorded in the manifest."""


@dataclass
class FileInfo:
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int = 1  # 1-based row (line) number of the header in the file (of the first sheet read)
    line_ends: str | None = None  # text files: "LF", "CRLF", "CR" (old Mac exports) or "mixed"
    unknown_columns: list[str] = field(default_factory=list)
    aliased_headers: list[str] = field(default_factory=list)  # legacy names and aliases mapped
    sheets: list[str] = field(default_factory=list)  # workbooks: each sheet, read or not and why
    skipped: list[tuple[str | None, int, str]] = field(default_factory=list)  # (sheet, row, why): rows not data
    note: str | None = None  # e.g. "header only: no rows"

    def skipped_summary(self, limit: int = 40) -> str | None:
        """'row 15: totals row; rows 20-23: below the table (signature, notes)': for the manifest."""
        if not self.skipped:
            return None
        runs: list[list] = []
        for sheet, row, why in self.skipped:
            last = runs[-1] if runs else None
            if last and last[0] == sheet and last[2] == row - 1 and last[3] == why:
                last[2] = row
            else:
                runs.append([sheet, row, row, why])
        parts = []
        for sheet, first, last, why in runs[:limit]:
            where = f"{sheet}!" if sheet else ""
            rows = f"row {where}{first}" if first == last else f"rows {where}{first}-{last}"
            parts.append(f"{rows}: {why}")
        more = f"; and {len(runs) - limit} more" if len(runs) > limit else ""
        return "; ".join(parts) + more


# ---------------------------------------------------------------- header


def map_header(cells: Sequence[object], entity: Entity, info: FileInfo) -> list[str | None]:
    """Canonical name per header cell (None for columns we do not know). Rejects on missing/duplicate columns."""
    mapping = entity.header_map
    out: list[str | None] = []
    for cell in cells:
        raw = str(cell).strip() if cell is not None else ""
        norm = normalise_header(raw)
        canon = mapping.get(norm)
        if canon is None and raw and raw not in info.unknown_columns:
            info.unknown_columns.append(raw)
        if canon is not None and plain_header(raw) != canon:
            alias = f"{raw} -> {canon}"
            if alias not in info.aliased_headers:
                info.aliased_headers.append(alias)
        out.append(canon)
    seen = [c for c in out if c]
    dupes = sorted({c for c in seen if seen.count(c) > 1})
    if dupes:
        raise RejectedFile(f"column(s) appear twice in the header: {', '.join(dupes)}")
    missing = [c.name for c in entity.columns if c.required and c.name not in seen]
    if missing:
        raise RejectedFile(
            f"required column(s) missing: {', '.join(missing)} (header found on row {info.header_row}: "
            f"{', '.join(str(c) for c in cells if c not in (None, ''))[:300]})"
        )
    return out


def header_score(cells: Sequence[object], entity: Entity) -> int:
    mapping = entity.header_map
    return sum(1 for c in cells if c not in (None, "") and normalise_header(c) in mapping)


def find_header(rows: Sequence[Sequence[object]], entity: Entity) -> int:
    """Index of the header row among the first rows: the first row naming most of the required columns."""
    need = max(1, (sum(1 for c in entity.columns if c.required) + 1) // 2)
    for i, row in enumerate(rows[: cv.HEADER_SEARCH_ROWS]):
        if header_score(row, entity) >= need:
            return i
    raise RejectedFile(
        f"no header row found in the first {cv.HEADER_SEARCH_ROWS} rows (expected columns such as "
        f"{', '.join(c.name for c in entity.columns if c.required)[:200]})"
    )


# ---------------------------------------------------------------- frames


def _lead_cells(table: pa.Table, lead_columns: Sequence[str]) -> pa.Array | None:
    """The first non-empty cell among `lead_columns` of each row (a 'No' column, the first known ones)."""
    out = None
    for name in lead_columns:
        col = pc.utf8_trim_whitespace(table.column(name).combine_chunks())
        col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        out = col if out is None else pc.coalesce(out, col)
    return out


def not_data(table: pa.Table, entity: Entity, lead_columns: Sequence[str]) -> pa.Array:
    """Per row: '' for data, or why the row is not data ('totals row', 'example row'). A totals or example word
    starting the row's first cells (`lead_columns`: the leading columns of the file, known or not) marks it; in the
    entity's own free-text columns only a cell that is nothing but the word does ("Jumlah peserta naik" is a title)."""
    n = table.num_rows
    why = pa.array([""] * n, pa.string())
    lead = _lead_cells(table, lead_columns)
    free_text = [c.name for c in entity.columns if c.type in ("str", "list", "drop") and c.name in table.column_names]
    for reason, prefix, exact in (
        ("example row", cv.EXAMPLE.pattern, cv.EXAMPLE_EXACT.pattern),
        ("totals row", cv.TOTALS.pattern, cv.TOTALS_EXACT.pattern),
    ):
        hit = (
            pc.fill_null(pc.match_substring_regex(lead, prefix, ignore_case=True), False)
            if lead is not None
            else pa.array([False] * n)
        )
        for name in free_text:
            cell = pc.utf8_trim_whitespace(table.column(name).combine_chunks())
            hit = pc.or_(hit, pc.fill_null(pc.match_substring_regex(cell, exact, ignore_case=True), False))
        why = pc.if_else(pc.and_(hit, pc.equal(why, "")), pa.scalar(reason), why)
    return why


def all_empty(columns: list[list[str]] | list[pa.Array], n: int) -> np.ndarray:
    """Per row: is every one of these columns (Python lists or Arrow arrays of text) empty?"""
    empty = np.ones(n, dtype=bool)
    for col in columns:
        if isinstance(col, pa.Array | pa.ChunkedArray):
            empty &= pc.equal(col, "").to_numpy(zero_copy_only=False).astype(bool)
        else:
            empty &= np.fromiter((v == "" for v in col), dtype=bool, count=n)
    return empty


def finish(
    df: pd.DataFrame,
    entity: Entity,
    info: FileInfo,
    lead: pa.Array | None = None,
    sheet: str | None = None,
    empty: np.ndarray | None = None,
) -> pd.DataFrame:
    """Drop blank rows (every known column empty, no reading problem) and rows that are not data (recorded in
    `info.skipped`); `lead` is `not_data` of the rows, or None to compute it from the known columns; `empty`, per row
    whether its known columns are all empty, when the reader already knows (else computed here)."""
    known = [c for c in df.columns if c not in META_COLUMNS]
    if df.empty:
        return df
    if empty is None:
        empty = all_empty([df[c].tolist() for c in known], len(df))
    # a row whose values were not read (another number of fields, not JSON) is never blank; a hidden one may be
    unread = df["_error"].str.startswith(("field_count", "invalid_json")).to_numpy(dtype=bool)
    blank = empty & ~unread
    if lead is None:
        table = pa.Table.from_pandas(df[known], preserve_index=False)
        lead = not_data(table, entity, known[:2])
    why = np.asarray(lead.to_numpy(zero_copy_only=False), dtype=object)
    skip = (why != "") & ~blank
    if skip.any():
        rows = df["_row"].to_numpy()
        info.skipped.extend((sheet, int(rows[i]), str(why[i])) for i in np.flatnonzero(skip))
    drop = blank | skip
    return df.loc[~drop].reset_index(drop=True) if drop.any() else df
