"""Read a delivered file into chunks of text columns with canonical names, whatever shape it came in.

Handles what villages and agencies really send: CSV with `,` `;` or tab, UTF-8 / UTF-8 with BOM / Windows-1252,
gzip; XLSX with title rows above the header, numbers stored as text and Excel dates; JSONL. Values stay text here
(typing is `coerce.py`'s job) except that XLSX cells are turned into the text a person would have typed.

A file that cannot be read raises `RejectedFile` with a reason a data officer can act on.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.lib.entities import Entity, normalise_header, plain_header

HEADER_SEARCH_ROWS = 30  # title rows a secretary may type above the header
ENCODING_SAMPLE = 1 << 20


class RejectedFile(Exception):
    """The whole file cannot be used. `str(exc)` is the reason recorded in the manifest."""


@dataclass
class FileInfo:
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int = 1  # 1-based row (line) number of the header in the file
    unknown_columns: list[str] = field(default_factory=list)
    aliased_headers: list[str] = field(default_factory=list)  # legacy names and aliases mapped


def file_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        return "jsonl"
    if name.endswith((".csv", ".txt", ".csv.gz", ".txt.gz")):
        return "csv"
    raise RejectedFile(f"unknown file type '{path.suffix}': send CSV, XLSX or JSONL (optionally gzip)")


def read_chunks(path: Path, entity: Entity) -> tuple[FileInfo, Iterator[pd.DataFrame]]:
    """Open `path` and return what was learnt of it plus an iterator of DataFrames.

    Each DataFrame has the entity's canonical column names (text values, "" for empty) and `_row`, the row's
    number in the file as a person opening it would count (spreadsheet row, or CSV line with the header on its
    line). Header problems raise `RejectedFile` before the iterator is returned; decoding problems may raise it
    while iterating, so callers must treat a file as loaded only once its iterator is exhausted.
    """
    fmt = file_format(path)
    if fmt == "xlsx":
        return _read_xlsx(path, entity)
    if fmt == "jsonl":
        return _read_jsonl(path, entity)
    return _read_csv(path, entity)


# ---------------------------------------------------------------- header mapping


def _map_header(cells: Sequence[object], entity: Entity, info: FileInfo) -> list[str | None]:
    """Canonical name per header cell (None for columns we do not know). Rejects on missing/duplicate columns."""
    mapping = entity.header_map
    out: list[str | None] = []
    for cell in cells:
        raw = str(cell).strip() if cell is not None else ""
        norm = normalise_header(raw)
        canon = mapping.get(norm)
        if canon is None and raw:
            info.unknown_columns.append(raw)
        if canon is not None and plain_header(raw) != canon:
            info.aliased_headers.append(f"{raw} -> {canon}")
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


def _header_score(cells: Sequence[object], entity: Entity) -> int:
    mapping = entity.header_map
    return sum(1 for c in cells if c not in (None, "") and normalise_header(c) in mapping)


def _find_header(rows: Sequence[Sequence[object]], entity: Entity) -> int:
    """Index of the header row among the first rows: the first row naming most of the required columns."""
    need = max(1, (sum(1 for c in entity.columns if c.required) + 1) // 2)
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if _header_score(row, entity) >= need:
            return i
    raise RejectedFile(
        f"no header row found in the first {HEADER_SEARCH_ROWS} rows (expected columns such as "
        f"{', '.join(c.name for c in entity.columns[:5])})"
    )


def _frame(rows: list[list[str]], names: list[str | None], first_row_number: int) -> pd.DataFrame:
    """The rows under the header as a frame of the known columns, rows blank in all of them left out."""
    known = [(i, n) for i, n in enumerate(names) if n]
    numbered = [
        (number, row)
        for number, row in enumerate(rows, start=first_row_number)
        if any(i < len(row) and row[i] != "" for i, _ in known)
    ]
    data = {n: [r[i] if i < len(r) else "" for _, r in numbered] for i, n in known}
    df = pd.DataFrame(data, dtype="str")
    df["_row"] = np.array([number for number, _ in numbered], dtype=np.int64)  # int64 even when no row is left
    return df


def _drop_blank(chunk: pd.DataFrame) -> pd.DataFrame:
    """Rows with every known column empty are no rows (numpy on the values: pandas' frame comparison costs ~1 ms
    per call, which thousands of small files add up)."""
    values = chunk.drop(columns="_row").to_numpy()
    blank = (values == "").all(axis=1)
    return chunk.loc[~blank].reset_index(drop=True) if blank.any() else chunk


# ---------------------------------------------------------------- CSV


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")  # noqa: SIM115


def _detect_encoding(path: Path) -> str:
    try:
        with _open_bytes(path) as fh:
            sample = fh.read(ENCODING_SAMPLE)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise RejectedFile(f"cannot read the file: {exc}") from exc
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=len(sample) < ENCODING_SAMPLE)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise RejectedFile(
            f"text is neither UTF-8 nor Windows-1252 (byte {sample[exc.start]:#04x} at offset {exc.start}); "
            "save the file again as CSV UTF-8"
        ) from exc
    return "cp1252"


def _read_csv(path: Path, entity: Entity) -> tuple[FileInfo, Iterator[pd.DataFrame]]:
    encoding = _detect_encoding(path)
    info = FileInfo(format="csv", encoding=encoding)
    with _open_bytes(path) as fh:
        text = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")
        head = [text.readline() for _ in range(HEADER_SEARCH_ROWS)]
    head = [h for h in head if h]
    if not head:
        raise RejectedFile("the file is empty")
    delimiter = _sniff_delimiter(head)
    info.delimiter = delimiter
    parsed = list(csv.reader(head, delimiter=delimiter))
    header_idx = _find_header(parsed, entity)
    info.header_row = header_idx + 1
    names = _map_header(parsed[header_idx], entity, info)
    usecols = [i for i, n in enumerate(names) if n]

    def chunks() -> Iterator[pd.DataFrame]:
        next_row = info.header_row + 1
        try:
            reader = pd.read_csv(
                path,
                sep=delimiter,
                encoding=encoding,
                skiprows=header_idx + 1,
                header=None,
                usecols=usecols,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                chunksize=entity.chunk_rows,
                compression="gzip" if path.name.lower().endswith(".gz") else None,
                skip_blank_lines=False,
                engine="c",
                encoding_errors="strict",
            )
            for chunk in reader:
                chunk.columns = [names[i] for i in usecols]
                chunk["_row"] = range(next_row, next_row + len(chunk))
                next_row += len(chunk)
                yield _drop_blank(chunk)
        except UnicodeDecodeError as exc:
            raise RejectedFile(f"text changes encoding part-way through the file ({exc.reason}); re-export it") from exc
        except (pd.errors.ParserError, EOFError, OSError, gzip.BadGzipFile) as exc:
            raise RejectedFile(f"cannot parse as CSV near line {next_row}: {str(exc)[:200]}") from exc

    return info, chunks()


def _sniff_delimiter(lines: list[str]) -> str:
    best, best_score = ",", -1
    for d in (";", ",", "\t", "|"):
        counts = [line.count(d) for line in lines[:10] if line.strip()]
        score = max(counts) if counts else 0
        if score > best_score:
            best, best_score = d, score
    return best


# ---------------------------------------------------------------- XLSX


def _cell_text(v: object) -> str:
    """The text a person typed: 1901012001.0 -> '1901012001'; dates -> ISO; None -> ''."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def _read_xlsx(path: Path, entity: Entity) -> tuple[FileInfo, Iterator[pd.DataFrame]]:
    import python_calamine as pc

    info = FileInfo(format="xlsx")
    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
        sheets = [wb.get_sheet_by_index(i) for i in range(len(wb.sheet_names))]
        grids = [s.to_python(skip_empty_area=False) for s in sheets]
    except (pc.CalamineError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RejectedFile(f"cannot open the workbook (corrupt or not an .xlsx file): {exc}") from exc
    except Exception as exc:  # calamine raises a few exception types of its own (ZipError, XmlError)
        raise RejectedFile(f"cannot open the workbook (corrupt or not an .xlsx file): {exc}") from exc
    for sheet, grid in zip(sheets, grids, strict=True):
        try:
            header_idx = _find_header(grid, entity)
        except RejectedFile:
            continue
        info.header_row = header_idx + 1
        _fill_merged_header(grid, header_idx, sheet.merged_cell_ranges or [])
        names = _map_header(grid[header_idx], entity, info)
        body = [[_cell_text(v) for v in row] for row in grid[header_idx + 1 :]]
        return info, iter([_frame(body, names, info.header_row + 1)])
    raise RejectedFile(
        f"no sheet has a header row with the expected columns (sheets: {', '.join(wb.sheet_names)}; expected "
        f"columns such as {', '.join(c.name for c in entity.columns[:5])})"
    )


def _fill_merged_header(grid: list[list[Any]], header_idx: int, merged) -> None:
    """A header cell merged across columns names each column it spans (e.g. 'Peserta KB' over two cells)."""
    for (r0, c0), (r1, c1) in merged:
        if r0 <= header_idx <= r1 and c1 > c0:
            value = grid[r0][c0]
            for c in range(c0, min(c1 + 1, len(grid[header_idx]))):
                if grid[header_idx][c] in (None, ""):
                    grid[header_idx][c] = value


# ---------------------------------------------------------------- JSONL


def _read_jsonl(path: Path, entity: Entity) -> tuple[FileInfo, Iterator[pd.DataFrame]]:
    info = FileInfo(format="jsonl", encoding="utf-8")
    mapping = entity.header_map

    def text(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, list):  # a list-valued field: the same text a CSV cell would hold
            return ", ".join(str(x) for x in v)
        if isinstance(v, dict):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    records: list[dict[str, str]] = []
    rows: list[int] = []
    try:
        with _open_bytes(path) as fh:
            for lineno, line in enumerate(io.TextIOWrapper(fh, encoding="utf-8-sig"), start=1):
                if not line.strip():
                    continue
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise RejectedFile(f"line {lineno} is not a JSON object")
                records.append({mapping.get(normalise_header(k), f"?{k}"): text(v) for k, v in obj.items()})
                rows.append(lineno)
    except (json.JSONDecodeError, UnicodeDecodeError, EOFError, OSError, gzip.BadGzipFile) as exc:
        raise RejectedFile(f"cannot parse as JSON lines: {exc}") from exc
    keys = sorted({k for r in records for k in r})
    info.unknown_columns = [k[1:] for k in keys if k.startswith("?")]
    missing = [c.name for c in entity.columns if c.required and c.name not in keys]
    if records and missing:
        raise RejectedFile(f"required field(s) missing: {', '.join(missing)}")
    cols = [c.name for c in entity.columns if c.name in keys]
    df = pd.DataFrame({c: [r.get(c, "") for r in records] for c in cols}, dtype="str")
    df["_row"] = rows
    return info, iter([df])
