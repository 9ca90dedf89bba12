"""Read a delivered file into chunks of text columns with canonical names, whatever shape it came in.

Handles what villages and agencies really send (DOMAIN.md 3.4; the conventions are written down in
`pipelines/lib/conventions.py`): CSV with `,` `;` tab or `|`, in UTF-8 (with or without BOM), Windows-1252 or
UTF-16, plain or gzip, title lines above the header, totals rows (`text.py`); workbooks .xlsx .xlsm .xls .xlsb .ods
with title rows, several sheets, hidden rows and sheets, merged cells, formulas (`workbook.py`); JSON lines. Values
stay text here (typing is `coerce.py`'s job) except that workbook cells become the text a person sees.

A file that cannot be read raises `RejectedFile` with a reason a data officer can act on; a row that cannot be read
comes with its problem in `_error` (see `common.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pipelines.lib.entities import Entity
from pipelines.lib.readers.common import FileInfo, RejectedFile
from pipelines.lib.readers.text import read_csv, read_jsonl
from pipelines.lib.readers.workbook import read_workbook

__all__ = ["FileInfo", "RejectedFile", "file_format", "read_chunks"]

WORKBOOKS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


def file_format(path: Path) -> str:
    """'workbook', 'jsonl' or 'csv' by the file's name; RejectedFile for anything else."""
    name = path.name.lower()
    if name.endswith(WORKBOOKS):
        return "workbook"
    if name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        return "jsonl"
    if name.endswith((".csv", ".txt", ".tsv", ".csv.gz", ".txt.gz", ".tsv.gz")):
        return "csv"
    raise RejectedFile(
        f"unknown file type '{''.join(path.suffixes[-2:]) or path.name}': send CSV (optionally gzip), a workbook "
        "(.xlsx, .xls, .ods, .xlsb) or JSON lines"
    )


def read_chunks(path: Path, entity: Entity) -> tuple[FileInfo, Iterator[pd.DataFrame]]:
    """Open `path` and return what was learnt of it plus an iterator of DataFrames.

    Each DataFrame has the entity's canonical column names (text values, "" for empty), `_row` (the row's number in
    the file as a person opening it would count: spreadsheet row, or line), `_sheet` and `_error` (see common.py).
    Header problems raise `RejectedFile` before the iterator is returned; decoding problems may raise it while
    iterating, so callers must treat a file as loaded only once its iterator is exhausted. Rows that are not data
    (totals, examples, below a workbook's table) are left out and listed in `FileInfo.skipped`.
    """
    fmt = file_format(path)
    if fmt == "workbook":
        return read_workbook(path, entity)
    if fmt == "jsonl":
        return read_jsonl(path, entity)
    return read_csv(path, entity)
